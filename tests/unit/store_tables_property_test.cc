// The proof that table notifications are right: a randomized run of ~2000
// store operations (messages created, changed, marked, deleted, copied,
// moved, delivered; folders created, renamed, moved, copied, emptied,
// deleted; views re-sorted, re-restricted, re-columned, cursors moved) with
// several views of different kinds, restrictions and sort orders open at
// once. After every operation, for every view:
//   - a mirror kept only by applying the view's published table events
//     (inserting after `prior`; TABLE_CHANGED / TABLE_RELOAD / *_DONE:
//     reload from QueryAllRows) equals QueryAllRows, row for row and column
//     for column;
//   - QueryAllRows equals an oracle computed independently from GetProps,
//     ListMessages and ListSubfolders, with the test's own restriction
//     predicates and sort comparator;
//   - the cursor and a bookmark, tracked through the events by the rules
//     store.h promises, are where the store says they are;
//   - table events come after the operation's other notifications, views in
//     ascending id, and a failed operation published nothing.
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "mapinotify/mapi.h"
#include "mapinotify/status.h"
#include "mapinotify/table_types.h"
#include "server/store/store.h"
#include "tests/unit/store_tables_testing.h"

namespace mapinotify::server::store {
namespace {

using testing::InstanceKeyOf;
using testing::TableHarness;
using testing::TableOf;

const CallContext kCaller{"session-p", 1};
constexpr ULONG PR_RANK = PROP_TAG(PT_LONG, 0x6601);
constexpr int kOperations = 2000;

// Every property of one row as the oracle sees it, by property id.
using Props = std::map<ULONG, PropValue>;

const PropValue* Find(const Props& props, ULONG tag) {
  auto it = props.find(PROP_ID(tag));
  if (it == props.end()) return nullptr;
  if (PROP_TYPE(tag) != PT_UNSPECIFIED &&
      PROP_TYPE(tag) != PROP_TYPE(it->second.tag)) {
    return nullptr;
  }
  return &it->second;
}

std::string Lower(std::string s) {
  for (char& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::optional<std::string> TextOf(const Props& props, ULONG tag) {
  const PropValue* v = Find(props, tag);
  if (v == nullptr) return std::nullopt;
  return std::get<std::string>(v->value);
}
std::optional<int32_t> LongOf(const Props& props, ULONG tag) {
  const PropValue* v = Find(props, tag);
  if (v == nullptr) return std::nullopt;
  return std::get<int32_t>(v->value);
}

// The test's own comparison of two values of one type (ASCII test data:
// folding is tolower).
int Compare(const PropValue& a, const PropValue& b) {
  const auto three = [](auto x, auto y) {
    return x < y ? -1 : (y < x ? 1 : 0);
  };
  switch (PROP_TYPE(a.tag)) {
    case PT_LONG:
      return three(std::get<int32_t>(a.value), std::get<int32_t>(b.value));
    case PT_BOOLEAN:
      return three(std::get<bool>(a.value), std::get<bool>(b.value));
    case PT_SYSTIME:
      return three(std::get<FileTime>(a.value).ticks,
                   std::get<FileTime>(b.value).ticks);
    case PT_UNICODE: {
      const std::string& x = std::get<std::string>(a.value);
      const std::string& y = std::get<std::string>(b.value);
      const int folded = three(Lower(x), Lower(y));
      return folded != 0 ? folded : three(x, y);
    }
    default:
      ADD_FAILURE() << "the oracle cannot sort type " << PROP_TYPE(a.tag);
      return 0;
  }
}

// What a view shows, and the oracle's equivalent of its restriction.
struct Spec {
  std::string name;
  bool hierarchy = false;
  ULONG open_flags = 0;
  std::vector<ULONG> columns;
  std::optional<Restriction> restriction;
  std::function<bool(const Props&)> matches;
  SortOrderSet sort;
};

Restriction Text(ULONG relop, ULONG tag, const std::string& text) {
  return Restriction::Property(relop, tag, {tag, text});
}
Restriction Long(ULONG relop, ULONG tag, int32_t value) {
  return Restriction::Property(relop, tag, {tag, value});
}

std::vector<Spec> Specs() {
  const std::vector<ULONG> contents = {
      PR_INSTANCE_KEY,          PR_ENTRYID,       PR_SUBJECT,
      PR_MESSAGE_CLASS,         PR_MESSAGE_FLAGS, PR_MESSAGE_SIZE,
      PR_LAST_MODIFICATION_TIME};
  const std::vector<ULONG> hierarchy = {
      PR_INSTANCE_KEY,  PR_ENTRYID,        PR_DISPLAY_NAME, PR_DEPTH,
      PR_CONTENT_COUNT, PR_CONTENT_UNREAD, PR_SUBFOLDERS};
  const auto all = [](const Props&) { return true; };
  std::vector<Spec> specs;
  specs.push_back({"A by subject, flags desc",
                   false,
                   0,
                   contents,
                   std::nullopt,
                   all,
                   {{PR_SUBJECT, TABLE_SORT_ASCEND},
                    {PR_MESSAGE_FLAGS, TABLE_SORT_DESCEND}}});
  specs.push_back(
      {"A unread by rank desc",
       false,
       0,
       {PR_SUBJECT, PR_INSTANCE_KEY, PR_MESSAGE_FLAGS, PR_RANK, PR_NULL},
       Restriction::Bitmask(BMR_EQZ, PR_MESSAGE_FLAGS, MSGFLAG_READ),
       [](const Props& p) {
         const std::optional<int32_t> flags = LongOf(p, PR_MESSAGE_FLAGS);
         return flags.has_value() && (*flags & MSGFLAG_READ) == 0;
       },
       {{PR_RANK, TABLE_SORT_DESCEND}}});
  specs.push_back(
      {"Inbox subjects with an a",
       false,
       MAPI_DEFERRED_ERRORS,
       contents,
       Restriction::Content(FL_SUBSTRING | FL_IGNORECASE, PR_SUBJECT,
                            {PR_SUBJECT, std::string("A")}),
       [](const Props& p) {
         const std::optional<std::string> s = TextOf(p, PR_SUBJECT);
         return s.has_value() && Lower(*s).find('a') != std::string::npos;
       },
       {}});
  specs.push_back(
      {"IPM tree by depth, name",
       true,
       CONVENIENT_DEPTH,
       {PR_INSTANCE_KEY, PR_DISPLAY_NAME, PR_DEPTH, PR_CONTENT_COUNT,
        PR_CONTENT_UNREAD, PR_SUBFOLDERS},
       std::nullopt,
       all,
       {{PR_DEPTH, TABLE_SORT_ASCEND}, {PR_DISPLAY_NAME, TABLE_SORT_ASCEND}}});
  specs.push_back({"A children by count desc",
                   true,
                   0,
                   hierarchy,
                   std::nullopt,
                   all,
                   {{PR_CONTENT_COUNT, TABLE_SORT_DESCEND}}});
  specs.push_back({"root tree: unread or depth 3",
                   true,
                   CONVENIENT_DEPTH,
                   hierarchy,
                   Restriction::Or({Long(RELOP_GT, PR_CONTENT_UNREAD, 0),
                                    Long(RELOP_EQ, PR_DEPTH, 3)}),
                   [](const Props& p) {
                     return LongOf(p, PR_CONTENT_UNREAD).value_or(0) > 0 ||
                            LongOf(p, PR_DEPTH) == std::optional<int32_t>(3);
                   },
                   {{PR_CONTENT_UNREAD, TABLE_SORT_DESCEND}}});
  specs.push_back(
      {"B ranked 2+ by rank, subject desc",
       false,
       0,
       {PR_INSTANCE_KEY, PR_SUBJECT, PR_RANK},
       Restriction::And(
           {Restriction::Exist(PR_RANK), Long(RELOP_GE, PR_RANK, 2)}),
       [](const Props& p) { return LongOf(p, PR_RANK).value_or(-1) >= 2; },
       {{PR_RANK, TABLE_SORT_ASCEND}, {PR_SUBJECT, TABLE_SORT_DESCEND}}});
  specs.push_back(
      {"C not b* by time desc",
       false,
       0,
       contents,
       Restriction::Not(Restriction::Content(FL_PREFIX | FL_LOOSE, PR_SUBJECT,
                                             {PR_SUBJECT, std::string("B")})),
       [](const Props& p) {
         const std::optional<std::string> s = TextOf(p, PR_SUBJECT);
         return !(s.has_value() && Lower(*s).rfind("b", 0) == 0);
       },
       {{PR_LAST_MODIFICATION_TIME, TABLE_SORT_DESCEND}}});
  specs.push_back({"D children, folder name above m",
                   true,
                   0,
                   {PR_DISPLAY_NAME, PR_INSTANCE_KEY, PR_SUBFOLDERS},
                   Text(RELOP_GT, PR_DISPLAY_NAME, "m"),
                   [](const Props& p) {
                     const std::optional<std::string> s =
                         TextOf(p, PR_DISPLAY_NAME);
                     return s.has_value() &&
                            Compare({PR_DISPLAY_NAME, *s},
                                    {PR_DISPLAY_NAME, std::string("m")}) > 0;
                   },
                   {{PR_SUBFOLDERS, TABLE_SORT_DESCEND}}});
  return specs;
}

// A row mirror entry: the instance key bytes and the row.
using MirrorRow = std::pair<std::string, Row>;
// A tracked position: the instance key it points at, nullopt for the end.
using Position = std::optional<std::string>;

// Whether a tracked position (nullopt: unknown) is known to be `p`.
bool Is(const std::optional<Position>& tracked, const Position& p) {
  return tracked.has_value() && *tracked == p;
}

// One open view, its mirror and its tracked positions.
struct Slot {
  Spec spec;
  EntryId folder;
  Store::ViewId view = 0;
  uint64_t connection = 0;
  std::vector<MirrorRow> mirror;
  // The view answered MAPI_E_OBJECT_DELETED when the mirror reloaded.
  bool gone = false;
  // Unknown (nullopt) after events that do not say where it went.
  std::optional<Position> cursor;
  BOOKMARK bookmark = 0;
  std::optional<Position> mark;
  bool mark_moved = false;

  size_t KeyColumn() const {
    return static_cast<size_t>(
        std::find(spec.columns.begin(), spec.columns.end(), PR_INSTANCE_KEY) -
        spec.columns.begin());
  }
  Position KeyAt(size_t i) const {
    if (i >= mirror.size()) return std::nullopt;
    return mirror[i].first;
  }
  size_t IndexOf(const std::string& key) const {
    for (size_t i = 0; i < mirror.size(); ++i) {
      if (mirror[i].first == key) return i;
    }
    return mirror.size();
  }
};

std::string KeyBytes(const PropValue& v) {
  const Binary* b = std::get_if<Binary>(&v.value);
  EXPECT_NE(b, nullptr) << "not an instance key, tag " << std::hex << v.tag;
  return b == nullptr ? "" : b->bytes;
}

class TablesPropertyTest : public ::testing::TestWithParam<uint32_t> {
 protected:
  TablesPropertyTest() : rng_(GetParam()) {}

  Store& store() { return h_.store; }
  size_t Pick(size_t n) {
    return std::uniform_int_distribution<size_t>(0, n - 1)(rng_);
  }
  bool Chance(int percent) { return static_cast<int>(Pick(100)) < percent; }

  // Every live folder (pre-order from the root) with its absolute depth.
  std::vector<EntryId> Folders() {
    std::vector<EntryId> out;
    std::vector<EntryId> stack = {store().root_folder_id()};
    while (!stack.empty()) {
      const EntryId f = stack.back();
      stack.pop_back();
      out.push_back(f);
      const std::vector<EntryId> subs = store().ListSubfolders(f).value();
      stack.insert(stack.end(), subs.rbegin(), subs.rend());
    }
    return out;
  }
  bool WellKnown(const EntryId& f) {
    for (const EntryId& w :
         {store().root_folder_id(), store().ipm_subtree_id(),
          store().inbox_id(), store().outbox_id(), store().sent_items_id(),
          store().deleted_items_id()}) {
      if (f == w) return true;
    }
    return false;
  }
  std::vector<EntryId> Messages() {
    std::vector<EntryId> out;
    for (const EntryId& f : Folders()) {
      const std::vector<EntryId> messages = store().ListMessages(f).value();
      out.insert(out.end(), messages.begin(), messages.end());
    }
    return out;
  }

  // --- Views.

  void Open(Slot* slot, const EntryId& folder) {
    slot->folder = folder;
    absl::StatusOr<Store::ViewId> view =
        slot->spec.hierarchy
            ? store().OpenHierarchyTable(kCaller, folder, slot->spec.open_flags)
            : store().OpenContentsTable(kCaller, folder, slot->spec.open_flags);
    ASSERT_TRUE(view.ok()) << view.status();
    slot->view = *view;
    ASSERT_TRUE(store().SetColumns(kCaller, *view, slot->spec.columns, 0).ok());
    ASSERT_TRUE(
        store().Restrict(kCaller, *view, slot->spec.restriction, 0).ok());
    ASSERT_TRUE(store().SortTable(kCaller, *view, slot->spec.sort, 0).ok());
    slot->connection = 1000 + *view;  // Ascending with the view ids.
    h_.AdviseView(slot->connection, *view);
    h_.Take();
    Reload(slot);
    slot->cursor = slot->KeyAt(0);  // Restrict / SortTable: the beginning.
    slot->bookmark = 0;
    slot->mark.reset();
  }

  void Reload(Slot* slot) {
    absl::StatusOr<Store::TableSnapshot> all =
        store().QueryAllRows(kCaller, slot->view, 100000, size_t{1} << 30);
    slot->mirror.clear();
    if (!all.ok()) {
      ASSERT_EQ(ScodeOf(all.status()), MAPI_E_OBJECT_DELETED) << all.status();
      slot->gone = true;
      return;
    }
    EXPECT_EQ(all->columns, slot->spec.columns);
    for (Row& row : all->rows) {
      slot->mirror.emplace_back(KeyBytes(row.at(slot->KeyColumn())),
                                std::move(row));
    }
  }

  // Applies one table event to the slot's mirror and tracked positions.
  void Apply(Slot* slot, const TableNotification& e) {
    ++events_[e.table_event];
    switch (e.table_event) {
      case TABLE_ROW_ADDED:
      case TABLE_ROW_MODIFIED: {
        const std::string key = KeyBytes(e.index_key);
        ASSERT_EQ(e.row.size(), slot->spec.columns.size());
        ASSERT_EQ(e.row.at(slot->KeyColumn()), e.index_key);
        const size_t at = slot->IndexOf(key);
        if (e.table_event == TABLE_ROW_ADDED) {
          ASSERT_EQ(at, slot->mirror.size()) << "added twice";
        } else {
          ASSERT_LT(at, slot->mirror.size()) << "modified an unknown row";
          const Position old_prior = at == 0 ? Position() : slot->KeyAt(at - 1);
          const Position new_prior =
              e.prior_key.tag == PR_NULL ? Position() : KeyBytes(e.prior_key);
          if (old_prior == new_prior) {  // Changed in place.
            slot->mirror[at].second = e.row;
            break;
          }
          slot->mirror.erase(slot->mirror.begin() + at);
        }
        size_t to = 0;
        if (e.prior_key.tag != PR_NULL) {
          const std::string prior = KeyBytes(e.prior_key);
          ASSERT_NE(prior, key);
          to = slot->IndexOf(prior);
          ASSERT_LT(to, slot->mirror.size()) << "prior not in the view";
          ++to;
        }
        const bool at_end = to == slot->mirror.size();
        slot->mirror.insert(slot->mirror.begin() + to, {key, e.row});
        // The end points at no row: a row landing at the end lands under it.
        if (at_end && Is(slot->cursor, std::nullopt)) slot->cursor = key;
        if (at_end && Is(slot->mark, std::nullopt)) slot->mark = key;
        break;
      }
      case TABLE_ROW_DELETED: {
        const std::string key = KeyBytes(e.index_key);
        const size_t at = slot->IndexOf(key);
        ASSERT_LT(at, slot->mirror.size()) << "deleted an unknown row";
        slot->mirror.erase(slot->mirror.begin() + at);
        if (Is(slot->cursor, key)) slot->cursor = slot->KeyAt(at);
        if (Is(slot->mark, key)) {
          slot->mark = slot->KeyAt(at);
          slot->mark_moved = true;
        }
        break;
      }
      case TABLE_CHANGED:
      case TABLE_RELOAD:
      case TABLE_SORT_DONE:
      case TABLE_RESTRICT_DONE:
      case TABLE_SETCOL_DONE:
        Reload(slot);
        slot->cursor.reset();
        if (e.table_event != TABLE_CHANGED) {
          slot->mark.reset();  // Maybe discarded: stop tracking it.
          slot->bookmark = 0;
        } else {
          slot->mark.reset();  // Still valid, but where is unknown.
        }
        break;
      case TABLE_ERROR:
        break;
      default:
        FAIL() << "unknown table event " << e.table_event;
    }
  }

  // Takes the operation's deliveries, checks their order and applies the
  // table events. `failed`: the operation returned an error.
  void TakeAndApply(bool failed) {
    const std::vector<v1::Delivered> got = h_.Take();
    if (failed) {
      ASSERT_TRUE(got.empty())
          << "a failed operation published " << got[0].ShortDebugString();
    }
    bool in_tables = false;
    uint64_t last_connection = 0;
    for (const v1::Delivered& d : got) {
      const bool table = d.notification().event_type() == v1::fnevTableModified;
      ASSERT_TRUE(table || !in_tables)
          << "an object notification after a table notification";
      in_tables = in_tables || table;
      if (!table) continue;
      // kStoreWide, then exactly one view connection.
      ASSERT_EQ(d.connections_size(), 2);
      const uint64_t connection = d.connections(1);
      ASSERT_GE(connection, last_connection) << "views out of order";
      last_connection = connection;
      Slot* slot = nullptr;
      for (Slot& s : slots_) {
        if (s.connection == connection) slot = &s;
      }
      ASSERT_NE(slot, nullptr) << "event for an unknown view";
      Apply(slot, TableOf(d));
      if (::testing::Test::HasFatalFailure()) return;
    }
  }

  // --- The oracle.

  std::vector<Row> Oracle(const Slot& slot) {
    std::vector<std::pair<EntryId, int32_t>> scope;
    if (!slot.spec.hierarchy) {
      const std::vector<EntryId> messages =
          store().ListMessages(slot.folder).value();
      for (const EntryId& m : messages) {
        scope.emplace_back(m, 1);
      }
    } else {
      std::vector<std::pair<EntryId, int32_t>> stack = {{slot.folder, 0}};
      while (!stack.empty()) {
        const auto [f, depth] = stack.back();
        stack.pop_back();
        if (depth > 0) scope.emplace_back(f, depth);
        if (depth > 0 && (slot.spec.open_flags & CONVENIENT_DEPTH) == 0) {
          continue;
        }
        const std::vector<EntryId> subs = store().ListSubfolders(f).value();
        for (const EntryId& sub : subs) {
          stack.emplace_back(sub, depth + 1);
        }
      }
    }
    std::vector<Props> rows;
    for (const auto& [id, depth] : scope) {
      Props props;
      const std::vector<PropValue> values = store().GetProps(id, {}).value();
      for (const PropValue& v : values) {
        props[PROP_ID(v.tag)] = v;
      }
      props[PROP_ID(PR_INSTANCE_KEY)] = InstanceKeyOf(id);
      if (slot.spec.hierarchy) {
        props[PROP_ID(PR_DEPTH)] = PropValue{PR_DEPTH, depth};
      }
      if (slot.spec.matches(props)) rows.push_back(std::move(props));
    }
    const SortOrderSet& sort = slot.spec.sort;
    std::sort(rows.begin(), rows.end(), [&](const Props& a, const Props& b) {
      for (const SortOrder& key : sort) {
        const PropValue* x = Find(a, key.tag);
        const PropValue* y = Find(b, key.tag);
        int c = 0;
        if (x == nullptr || y == nullptr) {
          c = (x != nullptr) - (y != nullptr);
        } else {
          c = Compare(*x, *y);
        }
        if (key.order == TABLE_SORT_DESCEND) c = -c;
        if (c != 0) return c < 0;
      }
      // Instance keys are big-endian object numbers: creation order.
      return KeyBytes(*Find(a, PR_INSTANCE_KEY)) <
             KeyBytes(*Find(b, PR_INSTANCE_KEY));
    });
    std::vector<Row> out;
    for (const Props& props : rows) {
      Row row;
      for (ULONG tag : slot.spec.columns) {
        if (tag == PR_NULL) {
          row.push_back(PropValue{});
          continue;
        }
        const PropValue* v = Find(props, tag);
        row.push_back(v != nullptr ? *v
                                   : PropValue{CHANGE_PROP_TYPE(tag, PT_ERROR),
                                               ErrorValue{MAPI_E_NOT_FOUND}});
      }
      out.push_back(std::move(row));
    }
    return out;
  }

  // --- The checks after each operation.

  void Check(Slot* slot, int step) {
    SCOPED_TRACE(::testing::Message()
                 << "step " << step << ", view \"" << slot->spec.name << "\"");
    absl::StatusOr<Store::TableSnapshot> all =
        store().QueryAllRows(kCaller, slot->view, 100000, size_t{1} << 30);
    if (!all.ok()) {
      // Its folder was deleted: every row was deleted before.
      ASSERT_EQ(ScodeOf(all.status()), MAPI_E_OBJECT_DELETED) << all.status();
      EXPECT_EQ(ScodeOf(store().Exists(slot->folder)), MAPI_E_NOT_FOUND);
      EXPECT_TRUE(slot->mirror.empty());
      ++views_lost_;
      ASSERT_TRUE(store().CloseTable(kCaller, slot->view).ok());
      ASSERT_TRUE(h_.Unadvise(slot->connection).ok());
      h_.Take();
      const std::vector<EntryId> folders = Folders();
      slot->gone = false;
      Open(slot, folders[Pick(folders.size())]);
      return;
    }
    ASSERT_FALSE(slot->gone);
    ASSERT_EQ(slot->mirror.size(), all->rows.size());
    for (size_t i = 0; i < all->rows.size(); ++i) {
      ASSERT_EQ(slot->mirror[i].second, all->rows[i]) << "row " << i;
    }
    const std::vector<Row> expected = Oracle(*slot);
    ASSERT_EQ(expected.size(), all->rows.size());
    for (size_t i = 0; i < expected.size(); ++i) {
      ASSERT_EQ(expected[i], all->rows[i]) << "oracle row " << i;
    }
    max_rows_ = std::max(max_rows_, all->rows.size());
    // The tracked cursor.
    if (slot->cursor.has_value()) {
      const std::vector<Row> at =
          store().QueryRows(kCaller, slot->view, 1, TBL_NOADVANCE).value();
      const Position actual =
          at.empty() ? Position() : KeyBytes(at[0].at(slot->KeyColumn()));
      ASSERT_EQ(actual, *slot->cursor) << "the cursor moved off its row";
      ++cursor_checks_;
    }
    // The tracked bookmark (moves the cursor there).
    if (slot->bookmark != 0 && slot->mark.has_value() && Chance(30)) {
      SCODE warning = -1;
      ASSERT_EQ(store()
                    .SeekRow(kCaller, slot->view, slot->bookmark, 0, &warning)
                    .value(),
                0);
      EXPECT_EQ(warning, slot->mark_moved ? MAPI_W_POSITION_CHANGED : S_OK);
      bookmark_warnings_ += slot->mark_moved;
      slot->mark_moved = false;
      slot->cursor = slot->mark;
      const std::vector<Row> at =
          store().QueryRows(kCaller, slot->view, 1, TBL_NOADVANCE).value();
      const Position actual =
          at.empty() ? Position() : KeyBytes(at[0].at(slot->KeyColumn()));
      ASSERT_EQ(actual, *slot->mark) << "the bookmark moved off its row";
    }
  }

  // --- Operations. Each returns whether it failed.

  bool NewMessage() {
    const std::vector<EntryId> folders = Folders();
    const EntryId& folder = folders[Pick(folders.size())];
    std::vector<PropValue> props = {
        {PR_SUBJECT, std::string(kSubjects[Pick(kSubjects.size())])},
        {PR_MESSAGE_FLAGS,
         static_cast<int32_t>(Chance(50) ? MSGFLAG_READ : 0)}};
    if (Chance(70)) props.push_back({PR_RANK, static_cast<int32_t>(Pick(5))});
    testing::NewMessage(store(), kCaller, folder, props);
    return false;
  }

  bool ChangeMessage() {
    const std::vector<EntryId> messages = Messages();
    if (messages.empty()) return NewMessage();
    const EntryId& id = messages[Pick(messages.size())];
    absl::StatusOr<Handle> h = store().OpenMessage(kCaller, id, MAPI_MODIFY);
    EXPECT_TRUE(h.ok()) << h.status();
    switch (Pick(5)) {
      case 0:
        EXPECT_TRUE(store()
                        .SetMessageProps(
                            kCaller, *h,
                            {{PR_SUBJECT,
                              std::string(kSubjects[Pick(kSubjects.size())])}})
                        .ok());
        break;
      case 1:
        EXPECT_TRUE(
            store()
                .SetMessageProps(kCaller, *h,
                                 {{PR_RANK, static_cast<int32_t>(Pick(5))}})
                .ok());
        break;
      case 2:
        EXPECT_TRUE(store().DeleteMessageProps(kCaller, *h, {PR_RANK}).ok());
        break;
      case 3:
        EXPECT_TRUE(
            store()
                .SetMessageProps(
                    kCaller, *h,
                    {{PR_MESSAGE_FLAGS,
                      static_cast<int32_t>(Chance(50) ? MSGFLAG_READ : 0)}})
                .ok());
        break;
      default:  // Nothing a view shows, except the size and time.
        EXPECT_TRUE(
            store()
                .SetMessageProps(kCaller, *h,
                                 {{PR_BODY, std::string(Pick(20), 'x')}})
                .ok());
    }
    EXPECT_TRUE(store().SaveChanges(kCaller, *h, 0).ok());
    return false;
  }

  // Up to `most` messages of `folder`, or all when `most` is 0.
  std::vector<EntryId> SomeMessages(const EntryId& folder, size_t most) {
    std::vector<EntryId> all = store().ListMessages(folder).value();
    std::shuffle(all.begin(), all.end(), rng_);
    if (most != 0 && all.size() > most) all.resize(most);
    return all;
  }

  bool Bulk() {
    const std::vector<EntryId> folders = Folders();
    const EntryId& folder = folders[Pick(folders.size())];
    std::vector<EntryId> some = SomeMessages(folder, 1 + Pick(12));
    if (some.empty()) return NewMessage();
    switch (Pick(4)) {
      case 0:
        return !store()
                    .SetReadFlags(folder,
                                  Chance(30) ? std::vector<EntryId>{} : some,
                                  Chance(50) ? CLEAR_READ_FLAG : 0)
                    .ok();
      case 1:
        return !store().DeleteMessages(folder, some, 0).ok();
      default: {
        const EntryId& dest = folders[Pick(folders.size())];
        return !store()
                    .CopyMessages(folder, some, dest,
                                  Chance(60) ? MESSAGE_MOVE : 0)
                    .ok();
      }
    }
  }

  // Deletes up to 12 messages of the fullest folder.
  bool Prune() {
    EntryId fullest;
    size_t most = 0;
    for (const EntryId& f : Folders()) {
      const size_t n = store().ListMessages(f).value().size();
      if (n > most) {
        most = n;
        fullest = f;
      }
    }
    return !store().DeleteMessages(fullest, SomeMessages(fullest, 12), 0).ok();
  }

  bool FolderOp() {
    const std::vector<EntryId> folders = Folders();
    const EntryId& folder = folders[Pick(folders.size())];
    const std::string name = kNames[Pick(kNames.size())];
    // Keep the tree small: beyond 30 folders, prune.
    const int what = folders.size() > 30 ? 5 : static_cast<int>(Pick(7));
    switch (what) {
      case 0:
      case 1:
        return !store().CreateFolder(folder, name, "", 0).ok();
      case 2:
        return !store().SetFolderProps(folder, {{PR_DISPLAY_NAME, name}}).ok();
      case 3:
      case 4: {
        if (WellKnown(folder)) return !store().EmptyFolder(folder, 0).ok();
        const EntryId parent =
            std::get<Binary>(
                testing::Prop(store(), folder, PR_PARENT_ENTRYID).value)
                .bytes;
        const EntryId& dest = folders[Pick(folders.size())];
        return !store()
                    .CopyFolder(parent, folder, dest,
                                Chance(50) ? name : std::string(),
                                what == 3 ? FOLDER_MOVE : COPY_SUBFOLDERS)
                    .ok();
      }
      case 5: {
        if (WellKnown(folder)) return !store().EmptyFolder(folder, 0).ok();
        const EntryId parent =
            std::get<Binary>(
                testing::Prop(store(), folder, PR_PARENT_ENTRYID).value)
                .bytes;
        return !store()
                    .DeleteFolder(parent, folder, DEL_FOLDERS | DEL_MESSAGES)
                    .ok();
      }
      default:
        return !store().EmptyFolder(folder, 0).ok();
    }
  }

  // Re-applies (or flips) a view's settings, or moves its cursor.
  bool ViewOp() {
    Slot& slot = slots_[Pick(slots_.size())];
    const ULONG async = Chance(40) ? TBL_ASYNC : 0;
    switch (Pick(6)) {
      case 0:
        if (!slot.spec.sort.empty() && Chance(50)) {
          slot.spec.sort[0].order ^= TABLE_SORT_DESCEND;
        }
        return !store()
                    .SortTable(kCaller, slot.view, slot.spec.sort, async)
                    .ok();
      case 1:
        return !store()
                    .Restrict(kCaller, slot.view, slot.spec.restriction, async)
                    .ok();
      case 2:
        return !store()
                    .SetColumns(kCaller, slot.view, slot.spec.columns, async)
                    .ok();
      case 3: {
        // An asynchronous change that fails: TABLE_ERROR, nothing changes.
        Restriction bad;
        bad.type = 77;
        EXPECT_TRUE(store().Restrict(kCaller, slot.view, bad, TBL_ASYNC).ok());
        return false;
      }
      default: {
        // Place the cursor (and maybe a bookmark) on a known row.
        const LONG to = static_cast<LONG>(Pick(slot.mirror.size() + 1));
        EXPECT_EQ(
            store().SeekRow(kCaller, slot.view, BOOKMARK_BEGINNING, to).value(),
            to);
        slot.cursor = slot.KeyAt(static_cast<size_t>(to));
        if (Chance(50)) {
          if (slot.bookmark != 0) {
            EXPECT_TRUE(
                store().FreeBookmark(kCaller, slot.view, slot.bookmark).ok());
          }
          slot.bookmark = store().CreateBookmark(kCaller, slot.view).value();
          slot.mark = slot.cursor;
          slot.mark_moved = false;
        }
        return false;
      }
    }
  }

  void Run() {
    // A (with C below it and D below C), B, in the IPM subtree.
    const EntryId ipm = store().ipm_subtree_id();
    const EntryId a = store().CreateFolder(ipm, "A", "", 0).value();
    const EntryId b = store().CreateFolder(ipm, "b", "", 0).value();
    const EntryId c = store().CreateFolder(a, "C", "", 0).value();
    const EntryId d = store().CreateFolder(c, "D", "", 0).value();
    for (int i = 0; i < 20; ++i) NewMessage();
    h_.Take();
    const std::vector<EntryId> folders = {
        a, a, store().inbox_id(), ipm, a, store().root_folder_id(), b, c, d};
    std::vector<Spec> specs = Specs();
    ASSERT_EQ(specs.size(), folders.size());
    for (size_t i = 0; i < specs.size(); ++i) {
      slots_.emplace_back();
      slots_.back().spec = specs[i];
      Open(&slots_.back(), folders[i]);
      ASSERT_FALSE(HasFatalFailure());
    }
    for (int step = 0; step < kOperations; ++step) {
      // Keep the message count moderate: prune when it grows.
      const size_t messages = Messages().size();
      bool failed = false;
      const int what = static_cast<int>(Pick(100));
      if (messages >= 120) {
        failed = Prune();
      } else if (what < 22) {
        failed = NewMessage();
      } else if (what < 45) {
        failed = ChangeMessage();
      } else if (what < 65) {
        failed = Bulk();
      } else if (what < 70) {
        failed = !store()
                      .DeliverNewMail({{PR_SUBJECT, std::string("a new one")},
                                       {PR_RANK, int32_t{3}}})
                      .ok();
      } else if (what < 88) {
        failed = FolderOp();
      } else {
        failed = ViewOp();
      }
      ASSERT_FALSE(HasFailure()) << "step " << step;
      TakeAndApply(failed);
      ASSERT_FALSE(HasFailure()) << "step " << step;
      for (Slot& slot : slots_) {
        Check(&slot, step);
        ASSERT_FALSE(HasFailure());
      }
      ASSERT_TRUE(store().CheckConsistency().ok());
    }
    // The run exercised every kind of event and every check.
    for (ULONG e : {TABLE_ROW_ADDED, TABLE_ROW_MODIFIED, TABLE_ROW_DELETED,
                    TABLE_CHANGED, TABLE_RELOAD, TABLE_SORT_DONE,
                    TABLE_RESTRICT_DONE, TABLE_SETCOL_DONE, TABLE_ERROR}) {
      EXPECT_GT(events_[e], 0) << "no table event " << e;
    }
    EXPECT_GT(views_lost_, 0);
    EXPECT_GT(cursor_checks_, 1000);
    EXPECT_GT(bookmark_warnings_, 0);
    EXPECT_GT(max_rows_, 10u);
    std::string tally;
    for (const auto& [event, count] : events_) {
      absl::StrAppend(&tally, " ", event, ":", count);
    }
    std::cout << "seed " << GetParam() << ": events" << tally << "; views lost "
              << views_lost_ << "; cursor checks " << cursor_checks_
              << "; bookmark warnings " << bookmark_warnings_
              << "; largest view " << max_rows_ << " rows\n";
  }

  static inline const std::vector<const char*> kSubjects = {
      "apple",  "Apple", "banana", "Bob", "b",
      "cherry", "Zed",   "",       "a",   "BANANA"};
  static inline const std::vector<const char*> kNames = {
      "alpha", "Beta",  "gamma", "delta", "Mu",
      "nu",    "omega", "Pi",    "x",     "Zeta"};

  TableHarness h_;
  std::mt19937 rng_;
  std::vector<Slot> slots_;
  std::map<ULONG, int> events_;
  int views_lost_ = 0;
  int cursor_checks_ = 0;
  int bookmark_warnings_ = 0;
  size_t max_rows_ = 0;
};

TEST_P(TablesPropertyTest, MirrorsFollowEveryOperationExactly) { Run(); }

INSTANTIATE_TEST_SUITE_P(Seeds, TablesPropertyTest,
                         ::testing::Values(1u, 2u, 3u, 4u));

}  // namespace
}  // namespace mapinotify::server::store
