// TableMirror against a real server: the property test of issue 4. For
// several seeds, random store operations (create, modify a sorted or
// restricted column, delete, move in and out, copy, bulk operations past the
// TABLE_CHANGED threshold, folder create / rename / move / copy / delete /
// empty, new mail, and now and then a Restrict / SortTable of a view, with
// and without TBL_ASYNC) run through one session while another session
// keeps a TableMirror of each of eight views (contents and hierarchy,
// different restrictions and sort orders). After every operation, once its
// notifications are delivered, every mirror equals what QueryRows returns
// for its view, row for row and column for column.
//
// "Once delivered": after each operation the actor changes a marker folder
// outside every view, and the watcher waits for that change on its own
// advise connection. All the watcher's connections share one stream and one
// notification thread, whose drains run in arrival order, so when the
// marker arrives every notification of the operation before it has been
// delivered (and applied: a mirror applies inside OnNotify).
#include "mapinotify/table_mirror.h"

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "mapinotify/session.h"
#include "mapinotify/status.h"
#include "mapinotify/store.h"
#include "mapinotify/table.h"
#include "tests/integration/test_util.h"

namespace mapinotify::testing {
namespace {

constexpr ULONG kScore = PROP_TAG(PT_LONG, 0x6700);

struct ViewSpec {
  std::string name;
  bool hierarchy = false;
  int folder = 0;  // 0: F1, 1: F2, 2: the IPM subtree.
  ULONG hierarchy_flags = 0;
  std::vector<ULONG> columns;
  std::optional<Restriction> restriction;
  SortOrderSet sort;
};

std::vector<ViewSpec> Views() {
  const std::vector<ULONG> message_columns = {
      PR_INSTANCE_KEY, PR_ENTRYID, PR_SUBJECT, kScore, PR_MESSAGE_FLAGS};
  const std::vector<ULONG> folder_columns = {
      PR_INSTANCE_KEY,   PR_DISPLAY_NAME, PR_DEPTH, PR_CONTENT_COUNT,
      PR_CONTENT_UNREAD, PR_SUBFOLDERS,   PR_NULL};
  std::vector<ViewSpec> views;
  views.push_back({"F1 plain", false, 0, 0, message_columns, std::nullopt, {}});
  views.push_back(
      {"F1 by score desc, subject",
       false,
       0,
       0,
       message_columns,
       std::nullopt,
       {{kScore, TABLE_SORT_DESCEND}, {PR_SUBJECT, TABLE_SORT_ASCEND}}});
  views.push_back(
      {"F1 score>=40 and subject ~ 'a'",
       false,
       0,
       0,
       message_columns,
       Restriction::And(
           {Restriction::Property(RELOP_GE, kScore, {kScore, int32_t{40}}),
            Restriction::Content(FL_SUBSTRING | FL_IGNORECASE, PR_SUBJECT,
                                 {PR_SUBJECT, std::string("a")})}),
       {{PR_SUBJECT, TABLE_SORT_ASCEND}}});
  views.push_back(
      {"F2 unread by score",
       false,
       1,
       0,
       message_columns,
       Restriction::Bitmask(BMR_EQZ, PR_MESSAGE_FLAGS, MSGFLAG_READ),
       {{kScore, TABLE_SORT_ASCEND}}});
  views.push_back(
      {"F2 no score or score<20",
       false,
       1,
       0,
       {PR_INSTANCE_KEY, PR_SUBJECT, kScore, PR_LAST_MODIFICATION_TIME},
       Restriction::Or(
           {Restriction::Not(Restriction::Exist(kScore)),
            Restriction::Property(RELOP_LT, kScore, {kScore, int32_t{20}})}),
       {}});
  views.push_back({"F2 by modification time desc",
                   false,
                   1,
                   0,
                   {PR_INSTANCE_KEY, PR_SUBJECT, PR_LAST_MODIFICATION_TIME},
                   std::nullopt,
                   {{PR_LAST_MODIFICATION_TIME, TABLE_SORT_DESCEND}}});
  views.push_back({"IPM subtree, convenient depth, by name",
                   true,
                   2,
                   CONVENIENT_DEPTH,
                   folder_columns,
                   std::nullopt,
                   {{PR_DISPLAY_NAME, TABLE_SORT_ASCEND}}});
  views.push_back({"F1 children by content count desc",
                   true,
                   0,
                   0,
                   folder_columns,
                   std::nullopt,
                   {{PR_CONTENT_COUNT, TABLE_SORT_DESCEND}}});
  return views;
}

// Every row of `table` through SeekRow + QueryRows (what the issue compares
// against), leaving the cursor at the end.
std::vector<Row> ReadAll(Table& table) {
  std::vector<Row> rows;
  EXPECT_TRUE(table.SeekRow(BOOKMARK_BEGINNING, 0).ok());
  while (true) {
    auto batch = table.QueryRows(1000);
    EXPECT_TRUE(batch.ok()) << batch.status();
    if (!batch.ok() || batch->empty()) break;
    rows.insert(rows.end(), batch->begin(), batch->end());
  }
  return rows;
}

std::string Describe(const std::vector<Row>& rows) {
  std::string out;
  for (const Row& row : rows) {
    absl::StrAppend(&out, "  [");
    for (const PropValue& v : row) {
      absl::StrAppend(&out, " ", absl::Hex(v.tag));
      if (const auto* s = std::get_if<std::string>(&v.value)) {
        absl::StrAppend(&out, "='", *s, "'");
      } else if (const auto* i = std::get_if<int32_t>(&v.value)) {
        absl::StrAppend(&out, "=", *i);
      }
    }
    absl::StrAppend(&out, " ]\n");
  }
  return out;
}

class TableMirrorPropertyTest : public ::testing::TestWithParam<uint32_t> {};

// The model the actor keeps of the folders it made (entry ids and parents);
// message ids are read from the server (a moved or copied message gets a
// new id the call does not return).
struct FolderModel {
  EntryId id;
  EntryId parent;
};

TEST_P(TableMirrorPropertyTest, MirrorsEqualQueryRowsAfterEveryOperation) {
  const uint32_t seed = GetParam();
  int operations = 2000;
  if (const char* env = std::getenv("MAPINOTIFY_TABLE_OPS")) {
    operations = std::atoi(env);
  }
  std::mt19937 rng(seed);
  auto pick = [&](size_t n) {
    return static_cast<size_t>(
        std::uniform_int_distribution<size_t>(0, n - 1)(rng));
  };
  auto chance = [&](int percent) {
    return static_cast<int>(pick(100)) < percent;
  };

  auto server = StartServer();
  auto watcher_or = Session::Open(server->target());
  ASSERT_TRUE(watcher_or.ok()) << watcher_or.status();
  std::unique_ptr<Session> watcher = *std::move(watcher_or);
  auto actor_or = Session::Open(server->target());
  ASSERT_TRUE(actor_or.ok()) << actor_or.status();
  std::unique_ptr<Session> actor = *std::move(actor_or);
  auto wstore_or = watcher->OpenMsgStore();
  ASSERT_TRUE(wstore_or.ok());
  std::unique_ptr<MsgStore> wstore = *std::move(wstore_or);
  auto store_or = actor->OpenMsgStore();
  ASSERT_TRUE(store_or.ok());
  std::unique_ptr<MsgStore> store = *std::move(store_or);

  auto f1 = store->CreateFolder(store->ipm_subtree_id(), "F1", "", 0);
  auto f2 = store->CreateFolder(store->ipm_subtree_id(), "F2", "", 0);
  auto marker = store->CreateFolder(store->root_folder_id(), "marker", "", 0);
  ASSERT_TRUE(f1.ok() && f2.ok() && marker.ok());
  const std::vector<EntryId> view_folders = {*f1, *f2, store->ipm_subtree_id()};

  // The marker connection.
  auto marker_sink = std::make_shared<CountingSink>();
  ASSERT_TRUE(watcher
                  ->Advise(AdviseTarget::Entry(*marker), fnevObjectModified,
                           marker_sink)
                  .ok());
  uint64_t markers = 0;
  auto sync = [&]() {
    ++markers;
    auto problems = store->SetProps(
        *marker, {{PR_COMMENT, absl::StrCat("marker ", markers)}});
    ASSERT_TRUE(problems.ok() && problems->empty()) << problems.status();
    ASSERT_TRUE(marker_sink->WaitForCount(markers, absl::Seconds(60)))
        << "marker " << markers << " not delivered";
  };

  // The views and their mirrors.
  const std::vector<ViewSpec> specs = Views();
  std::vector<std::unique_ptr<Table>> tables;
  std::vector<std::unique_ptr<TableMirror>> mirrors;
  for (const ViewSpec& spec : specs) {
    const EntryId& folder = view_folders[spec.folder];
    auto table = spec.hierarchy
                     ? wstore->OpenHierarchyTable(folder, spec.hierarchy_flags)
                     : wstore->OpenContentsTable(folder);
    ASSERT_TRUE(table.ok()) << spec.name << ": " << table.status();
    ASSERT_TRUE((*table)->SetColumns(spec.columns).ok()) << spec.name;
    if (spec.restriction) {
      ASSERT_TRUE((*table)->Restrict(spec.restriction).ok()) << spec.name;
    }
    if (!spec.sort.empty()) {
      ASSERT_TRUE((*table)->SortTable(spec.sort).ok()) << spec.name;
    }
    tables.push_back(*std::move(table));
  }
  for (size_t v = 0; v < specs.size(); ++v) {
    auto mirror = TableMirror::Create(watcher.get(), tables[v].get());
    ASSERT_TRUE(mirror.ok()) << specs[v].name << ": " << mirror.status();
    mirrors.push_back(*std::move(mirror));
  }
  // One batch per operation: a plain recording sink on view 1 counts the
  // OnNotify calls each operation causes.
  auto batches = std::make_shared<RecordingSink>();
  ASSERT_TRUE(watcher
                  ->Advise(AdviseTarget::TableView(tables[1]->view_id()),
                           fnevTableModified, batches)
                  .ok());

  // The actor's own listing views (no advise): message ids per folder.
  std::vector<FolderModel> subfolders;  // Below F1 / F2, made by the test.
  auto messages_of = [&](const EntryId& folder) {
    std::vector<EntryId> ids;
    auto table = store->OpenContentsTable(folder);
    EXPECT_TRUE(table.ok()) << table.status();
    if (!table.ok()) return ids;
    EXPECT_TRUE((*table)->SetColumns({PR_ENTRYID}).ok());
    auto all = (*table)->QueryAllRows();
    EXPECT_TRUE(all.ok()) << all.status();
    if (!all.ok()) return ids;
    for (const Row& row : all->rows) {
      ids.push_back(std::get<Binary>(row[0].value).bytes);
    }
    return ids;
  };
  auto message_folder = [&]() -> EntryId {
    const size_t n = pick(4 + subfolders.size());
    if (n < 2) return *f1;
    if (n < 4) return *f2;
    return subfolders[n - 4].id;
  };
  auto container = [&]() -> EntryId {  // A folder that may hold subfolders.
    const size_t n = pick(2 + subfolders.size());
    if (n == 0) return *f1;
    if (n == 1) return *f2;
    return subfolders[n - 2].id;
  };
  // Whether `folder` is `root` or below it, by the model.
  auto below = [&](const EntryId& folder, const EntryId& root) {
    EntryId at = folder;
    for (int guard = 0; guard < 100; ++guard) {
      if (at == root) return true;
      bool found = false;
      for (const FolderModel& f : subfolders) {
        if (f.id == at) {
          at = f.parent;
          found = true;
          break;
        }
      }
      if (!found) return false;
    }
    return false;
  };
  auto forget_subtree = [&](const EntryId& root) {
    std::vector<FolderModel> kept;
    for (const FolderModel& f : subfolders) {
      if (!below(f.id, root)) kept.push_back(f);
    }
    subfolders = std::move(kept);
  };
  const std::vector<std::string> words = {"alpha", "Beta",  "gamma", "DELTA",
                                          "kappa", "Zeta",  "omega", "aardvark",
                                          "Ärger", "ÉCOLE", "sigma", "Ab"};
  auto random_props = [&]() {
    std::vector<PropValue> props = {
        {PR_SUBJECT, words[pick(words.size())] +
                         (chance(30) ? absl::StrCat(" ", pick(10)) : "")}};
    if (!chance(10)) props.push_back({kScore, static_cast<int32_t>(pick(100))});
    return props;
  };
  auto pick_some = [&](std::vector<EntryId> ids, size_t most) {
    std::shuffle(ids.begin(), ids.end(), rng);
    ids.resize(std::min(ids.size(), 1 + pick(most)));
    return ids;
  };
  int folder_counter = 0;
  int view_changes = 0;

  for (int op = 0; op < operations; ++op) {
    const size_t kind = pick(100);
    std::string what;
    if (kind < 25) {  // Create a message.
      what = "create";
      auto message = store->CreateMessage(message_folder(), 0);
      ASSERT_TRUE(message.ok()) << message.status();
      ASSERT_TRUE((*message)->SetProps(random_props()).ok());
      if (chance(50)) {
        ASSERT_TRUE(
            (*message)->SetProps({{PR_MESSAGE_FLAGS, int32_t{0}}}).ok());
      }
      ASSERT_TRUE((*message)->SaveChanges(0).ok());
    } else if (kind < 45) {  // Modify a sorted / restricted column.
      what = "modify";
      const EntryId folder = message_folder();
      auto ids = messages_of(folder);
      if (ids.empty()) continue;
      auto message = store->OpenMessage(ids[pick(ids.size())], MAPI_MODIFY);
      ASSERT_TRUE(message.ok()) << message.status();
      switch (pick(4)) {
        case 0:
          ASSERT_TRUE((*message)->DeleteProps({kScore}).ok());
          break;
        case 1:
          ASSERT_TRUE((*message)
                          ->SetProps({{PR_MESSAGE_FLAGS,
                                       static_cast<int32_t>(pick(2))}})
                          .ok());
          break;
        default:
          ASSERT_TRUE((*message)->SetProps(random_props()).ok());
      }
      ASSERT_TRUE((*message)->SaveChanges(0).ok());
    } else if (kind < 53) {  // Delete some.
      what = "delete";
      const EntryId folder = message_folder();
      auto ids = messages_of(folder);
      if (ids.empty()) continue;
      ASSERT_TRUE(store->DeleteMessages(folder, pick_some(ids, 3), 0).ok());
    } else if (kind < 65) {  // Move or copy some, in or out of views.
      what = "move/copy";
      const EntryId source = message_folder();
      const EntryId dest = message_folder();
      auto ids = messages_of(source);
      if (ids.empty()) continue;
      ASSERT_TRUE(store
                      ->CopyMessages(source, pick_some(ids, 3), dest,
                                     chance(50) ? MESSAGE_MOVE : 0)
                      .ok());
    } else if (kind < 72) {  // Bulk, past the TABLE_CHANGED threshold.
      what = "bulk";
      const EntryId folder = chance(50) ? *f1 : *f2;
      auto ids = messages_of(folder);
      switch (pick(3)) {
        case 0:
          ASSERT_TRUE(
              store->SetReadFlags(folder, {}, chance(50) ? CLEAR_READ_FLAG : 0)
                  .ok());
          break;
        case 1:
          if (ids.empty()) continue;
          ASSERT_TRUE(store
                          ->CopyMessages(folder, pick_some(ids, 14),
                                         folder == *f1 ? *f2 : *f1,
                                         chance(50) ? MESSAGE_MOVE : 0)
                          .ok());
          break;
        default:
          if (ids.size() < 30) continue;
          ASSERT_TRUE(
              store->DeleteMessages(folder, pick_some(ids, 14), 0).ok());
      }
    } else if (kind < 90) {  // Folders.
      what = "folder";
      const size_t sub = pick(6);
      if (sub == 0 || subfolders.empty()) {
        const EntryId parent = container();
        auto id = store->CreateFolder(
            parent,
            absl::StrCat(words[pick(words.size())], " ", ++folder_counter), "",
            0);
        ASSERT_TRUE(id.ok()) << id.status();
        subfolders.push_back({*id, parent});
      } else {
        FolderModel& f = subfolders[pick(subfolders.size())];
        if (sub == 1) {  // Rename (a sorted column of the hierarchy views).
          auto problems = store->SetProps(
              f.id, {{PR_DISPLAY_NAME, absl::StrCat(words[pick(words.size())],
                                                    " ", ++folder_counter)}});
          ASSERT_TRUE(problems.ok() && problems->empty());
        } else if (sub == 2) {  // Move somewhere not inside itself.
          const EntryId dest = container();
          if (below(dest, f.id) || dest == f.parent) continue;
          ASSERT_TRUE(store
                          ->CopyFolder(f.parent, f.id, dest,
                                       absl::StrCat("moved ", ++folder_counter),
                                       FOLDER_MOVE)
                          .ok());
          f.parent = dest;
        } else if (sub == 3) {  // Copy with its subtree.
          const EntryId dest = container();
          if (below(dest, f.id)) continue;
          auto copy = store->CopyFolder(f.parent, f.id, dest,
                                        absl::StrCat("copy ", ++folder_counter),
                                        COPY_SUBFOLDERS);
          ASSERT_TRUE(copy.ok()) << copy.status();
          // The copy's subfolders are not in the model: it only holds what
          // the test made directly, which is enough to pick targets.
          subfolders.push_back({*copy, dest});
        } else if (sub == 4) {
          const EntryId id = f.id;
          ASSERT_TRUE(
              store->DeleteFolder(f.parent, id, DEL_FOLDERS | DEL_MESSAGES)
                  .ok());
          forget_subtree(id);
        } else {
          const FolderModel emptied = f;  // forget_subtree moves the vector.
          ASSERT_TRUE(store->EmptyFolder(emptied.id, 0).ok());
          forget_subtree(emptied.id);
          subfolders.push_back(emptied);
        }
      }
    } else if (kind < 97) {  // New mail (the hierarchy views see the Inbox).
      what = "new mail";
      ASSERT_TRUE(store->DeliverNewMail(random_props()).ok());
    } else {  // Change a view: its mirror must reload.
      what = "view change";
      ++view_changes;
      const size_t v = pick(6);  // The contents views.
      const ULONG flags = chance(50) ? TBL_ASYNC : 0;
      if (chance(50)) {
        ASSERT_TRUE(
            tables[v]
                ->SortTable(chance(50)
                                ? SortOrderSet{{PR_SUBJECT, TABLE_SORT_DESCEND}}
                                : specs[v].sort,
                            flags)
                .ok());
      } else {
        ASSERT_TRUE(tables[v]
                        ->Restrict(chance(50) ? std::optional<Restriction>(
                                                    Restriction::Exist(kScore))
                                              : specs[v].restriction,
                                   flags)
                        .ok());
      }
    }

    const size_t calls_before = batches->calls();
    sync();
    ASSERT_FALSE(::testing::Test::HasFatalFailure());
    EXPECT_LE(batches->calls() - calls_before, 1u)
        << "operation " << op << " (" << what
        << ") reached one view in more than one batch";
    for (size_t v = 0; v < specs.size(); ++v) {
      const std::vector<Row> expected = ReadAll(*tables[v]);
      const std::vector<Row> mirrored = mirrors[v]->rows();
      ASSERT_EQ(mirrored, expected)
          << "seed " << seed << ", operation " << op << " (" << what
          << "), view '" << specs[v].name << "'; the mirror's status "
          << mirrors[v]->status() << ", sequence " << mirrors[v]->sequence()
          << " (the server's " << server->hub()->last_sequence() << "), "
          << mirrors[v]->loads() << " loads, " << mirrors[v]->inconsistencies()
          << " inconsistencies\nmirror:\n"
          << Describe(mirrored) << "QueryRows:\n"
          << Describe(expected);
      ASSERT_TRUE(mirrors[v]->status().ok()) << mirrors[v]->status();
    }
  }

  uint64_t loads = 0;
  for (size_t v = 0; v < specs.size(); ++v) {
    EXPECT_EQ(mirrors[v]->inconsistencies(), 0u) << specs[v].name;
    loads += mirrors[v]->loads();
    std::cout << "seed " << seed << " view '" << specs[v].name
              << "': " << mirrors[v]->rows().size() << " rows, "
              << mirrors[v]->loads() << " loads\n";
  }
  std::cout << "seed " << seed << ": " << operations << " operations, "
            << view_changes << " view changes, " << loads << " loads over "
            << specs.size() << " mirrors\n";
  // The mirrors mostly follow the notifications: reloads come from bulk
  // operations (TABLE_CHANGED), view changes and the first load only.
  EXPECT_LT(loads, static_cast<uint64_t>(operations) * specs.size() / 4);
}

std::vector<uint32_t> Seeds() {
  std::vector<uint32_t> seeds = {1, 2, 3};
  if (const char* env = std::getenv("MAPINOTIFY_TABLE_SEEDS")) {
    seeds.clear();
    for (absl::string_view s : absl::StrSplit(env, ',')) {
      seeds.push_back(static_cast<uint32_t>(std::atoi(std::string(s).c_str())));
    }
  }
  return seeds;
}

INSTANTIATE_TEST_SUITE_P(Seeds, TableMirrorPropertyTest,
                         ::testing::ValuesIn(Seeds()));

}  // namespace
}  // namespace mapinotify::testing
