// Table views over gRPC (IMAPITable through MsgStore::OpenContentsTable /
// OpenHierarchyTable): columns, row reads in both directions, the cursor,
// bookmarks, FindRow, Restrict and SortTable, QueryAllRows; and bad input
// through the C++ client and on the raw generated stubs (as a non-C++ or
// hostile client would call), each refused with its MAPI code while the
// server goes on serving.
#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "client/internal/grpc_status.h"
#include "gtest/gtest.h"
#include "mapinotify/session.h"
#include "mapinotify/status.h"
#include "mapinotify/store.h"
#include "mapinotify/table.h"
#include "mapinotify/v1/store.grpc.pb.h"
#include "mapinotify/v1/table.grpc.pb.h"
#include "tests/integration/store_test_util.h"
#include "tests/integration/table_test_util.h"

namespace mapinotify::testing {
namespace {

constexpr ULONG PR_PRIORITY_X = PROP_TAG(PT_LONG, 0x6701);  // A test property.

void ExpectError(const absl::Status& status, absl::StatusCode code,
                 SCODE scode) {
  EXPECT_EQ(status.code(), code) << status;
  EXPECT_EQ(ScodeOf(status), scode) << status;
  EXPECT_FALSE(status.message().empty());
}

// The subjects of `rows`, checking that each carries its own
// PR_INSTANCE_KEY.
std::vector<std::string> Subjects(const std::vector<Row>& rows) {
  std::vector<std::string> out;
  std::set<std::string> keys;
  for (const Row& row : rows) {
    EXPECT_TRUE(keys.insert(KeyOf(row)).second) << "duplicate instance key";
    out.push_back(StringOf(row, PR_SUBJECT));
  }
  return out;
}

std::vector<std::string> Names(const std::vector<Row>& rows) {
  std::vector<std::string> out;
  for (const Row& row : rows) {
    KeyOf(row);
    out.push_back(StringOf(row, PR_DISPLAY_NAME));
  }
  return out;
}

// Every row of `table` from the beginning (the cursor ends at the end).
Strings AllSubjects(Table& table) {
  EXPECT_TRUE(table.SeekRow(BOOKMARK_BEGINNING, 0).ok());
  auto rows = table.QueryRows(1000);
  EXPECT_TRUE(rows.ok()) << rows.status();
  return rows.ok() ? Subjects(*rows) : Strings{"<error>"};
}

void ExpectPosition(Table& table, ULONG row, ULONG count) {
  auto position = table.QueryPosition();
  ASSERT_TRUE(position.ok()) << position.status();
  EXPECT_EQ(position->row, row);
  EXPECT_EQ(position->numerator, row);
  EXPECT_EQ(position->denominator, count);
}

class TableViews : public TableFixture {
 protected:
  void SetUp() override { OpenWithFolder("Views"); }

  std::unique_ptr<Table> OpenContents(const EntryId& folder) {
    auto table = store_->OpenContentsTable(folder);
    EXPECT_TRUE(table.ok()) << table.status();
    return table.ok() ? *std::move(table) : nullptr;
  }

  // Messages "m0" .. "m<n-1>" in folder_, oldest first.
  std::vector<EntryId> Fill(int n) {
    std::vector<EntryId> ids;
    for (int i = 0; i < n; ++i) {
      ids.push_back(
          SaveMessage(*store_, folder_, {{PR_SUBJECT, absl::StrCat("m", i)}}));
    }
    return ids;
  }
};

TEST_F(TableViews, ContentsTableHasTheDefaultColumnsAndEveryMessage) {
  const std::vector<EntryId> ids = Fill(3);
  SaveMessage(
      *store_, folder_,
      {{PR_SUBJECT, std::string("with body")}, {PR_BODY, std::string("text")}});
  auto table = OpenContents(folder_);
  ASSERT_NE(table, nullptr);
  EXPECT_NE(table->view_id(), 0u);

  const std::vector<ULONG> defaults = {
      PR_INSTANCE_KEY,          PR_ENTRYID,       PR_SUBJECT,
      PR_MESSAGE_CLASS,         PR_MESSAGE_FLAGS, PR_MESSAGE_SIZE,
      PR_LAST_MODIFICATION_TIME};
  auto columns = table->QueryColumns();
  ASSERT_TRUE(columns.ok()) << columns.status();
  EXPECT_EQ(*columns, defaults);
  auto all = table->QueryColumns(TBL_ALL_COLUMNS);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_TRUE(std::is_sorted(all->begin(), all->end()));
  for (ULONG tag : defaults) {
    EXPECT_NE(std::find(all->begin(), all->end(), tag), all->end())
        << std::hex << tag;
  }
  EXPECT_NE(std::find(all->begin(), all->end(), PR_BODY), all->end());

  auto count = table->GetRowCount();
  ASSERT_TRUE(count.ok()) << count.status();
  EXPECT_EQ(*count, 4u);
  auto rows = table->QueryRows(10);
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 4u);
  EXPECT_EQ(Subjects(*rows), (Strings{"m0", "m1", "m2", "with body"}));
  for (size_t i = 0; i < ids.size(); ++i) {
    const Row& row = (*rows)[i];
    ASSERT_EQ(row.size(), defaults.size());
    for (size_t c = 0; c < defaults.size(); ++c) {
      EXPECT_EQ(row[c].tag, defaults[c]) << "row " << i << " column " << c;
    }
    EXPECT_EQ(row[1].value, PropVariant(Binary{ids[i]}));
    EXPECT_EQ(row[3].value, PropVariant(std::string("IPM.Note")));
    EXPECT_EQ(row[4].value,
              PropVariant(static_cast<int32_t>(MSGFLAG_READ | MSGFLAG_UNSENT)));
  }
  // At the end: nothing more, and the position says so.
  auto more = table->QueryRows(10);
  ASSERT_TRUE(more.ok()) << more.status();
  EXPECT_TRUE(more->empty());
  ExpectPosition(*table, 4, 4);
}

TEST_F(TableViews, HierarchyTableWithAndWithoutConvenientDepth) {
  // Created in pre-order, so that creation order is the tree's order too.
  auto a = store_->CreateFolder(folder_, "A", "", 0);
  ASSERT_TRUE(a.ok()) << a.status();
  auto a1 = store_->CreateFolder(*a, "A1", "", 0);
  ASSERT_TRUE(a1.ok()) << a1.status();
  auto a1x = store_->CreateFolder(*a1, "A1x", "", 0);
  ASSERT_TRUE(a1x.ok()) << a1x.status();
  auto b = store_->CreateFolder(folder_, "B", "", 0);
  ASSERT_TRUE(b.ok()) << b.status();
  SaveMessage(*store_, *b, {{PR_SUBJECT, std::string("in B")}});

  auto direct = store_->OpenHierarchyTable(folder_);
  ASSERT_TRUE(direct.ok()) << direct.status();
  auto columns = (*direct)->QueryColumns();
  ASSERT_TRUE(columns.ok()) << columns.status();
  EXPECT_EQ(*columns,
            (std::vector<ULONG>{PR_INSTANCE_KEY, PR_ENTRYID, PR_DISPLAY_NAME,
                                PR_DEPTH, PR_CONTENT_COUNT, PR_CONTENT_UNREAD,
                                PR_SUBFOLDERS}));
  auto rows = (*direct)->QueryRows(100);
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(Names(*rows), (Strings{"A", "B"}));

  auto deep = store_->OpenHierarchyTable(folder_, CONVENIENT_DEPTH);
  ASSERT_TRUE(deep.ok()) << deep.status();
  auto count = (*deep)->GetRowCount();
  ASSERT_TRUE(count.ok()) << count.status();
  EXPECT_EQ(*count, 4u);
  rows = (*deep)->QueryRows(100);
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(Names(*rows), (Strings{"A", "A1", "A1x", "B"}));
  const std::vector<EntryId> ids = {*a, *a1, *a1x, *b};
  const std::vector<int32_t> depths = {1, 2, 3, 1};
  const std::vector<bool> subfolders = {true, true, false, false};
  const std::vector<int32_t> contents = {0, 0, 0, 1};
  for (size_t i = 0; i < ids.size(); ++i) {
    const Row& row = (*rows)[i];
    EXPECT_EQ(Find(row, PR_ENTRYID)->value, PropVariant(Binary{ids[i]}));
    EXPECT_EQ(Find(row, PR_DEPTH)->value, PropVariant(depths[i]));
    EXPECT_EQ(Find(row, PR_SUBFOLDERS)->value, PropVariant(subfolders[i]));
    EXPECT_EQ(Find(row, PR_CONTENT_COUNT)->value, PropVariant(contents[i]));
  }
}

TEST_F(TableViews, SetColumnsWithNullSlotsKeepsTheCursor) {
  Fill(2);
  SaveMessage(*store_, folder_,
              {{PR_SUBJECT, std::string("m2")}, {PR_BODY, std::string("b")}});
  auto table = OpenContents(folder_);
  ASSERT_NE(table, nullptr);
  auto first = table->QueryRows(1);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(Subjects(*first), (Strings{"m0"}));

  const std::vector<ULONG> columns = {PR_SUBJECT, PR_NULL, PR_BODY,
                                      PR_INSTANCE_KEY, PR_NULL};
  ASSERT_TRUE(table->SetColumns(columns).ok());
  auto set = table->QueryColumns();
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(*set, columns);
  ExpectPosition(*table, 1, 3);  // SetColumns keeps the cursor.
  auto rows = table->QueryRows(5);
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 2u);
  const PropValue missing_body{CHANGE_PROP_TYPE(PR_BODY, PT_ERROR),
                               ErrorValue{MAPI_E_NOT_FOUND}};
  const Row& m1 = (*rows)[0];
  ASSERT_EQ(m1.size(), 5u);
  EXPECT_EQ(m1[0], (PropValue{PR_SUBJECT, std::string("m1")}));
  EXPECT_EQ(m1[1], (PropValue{PR_NULL, std::monostate{}}));
  EXPECT_EQ(m1[2], missing_body);
  EXPECT_EQ(m1[3].tag, PR_INSTANCE_KEY);
  EXPECT_EQ(m1[4], (PropValue{PR_NULL, std::monostate{}}));
  const Row& m2 = (*rows)[1];
  ASSERT_EQ(m2.size(), 5u);
  EXPECT_EQ(m2[2], (PropValue{PR_BODY, std::string("b")}));
  EXPECT_NE(KeyOf(m1), KeyOf(m2));
}

TEST_F(TableViews, QueryRowsForwardBackwardAndWithoutAdvancing) {
  Fill(5);
  auto table = OpenContents(folder_);
  ASSERT_NE(table, nullptr);
  auto rows = table->QueryRows(2);
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(Subjects(*rows), (Strings{"m0", "m1"}));
  ExpectPosition(*table, 2, 5);

  rows = table->QueryRows(2, TBL_NOADVANCE);
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(Subjects(*rows), (Strings{"m2", "m3"}));
  ExpectPosition(*table, 2, 5);

  // Backward: the rows before the cursor, in table order; the cursor moves
  // to the first of them.
  rows = table->QueryRows(-2);
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(Subjects(*rows), (Strings{"m0", "m1"}));
  ExpectPosition(*table, 0, 5);
  rows = table->QueryRows(-1);
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_TRUE(rows->empty());

  ASSERT_TRUE(table->SeekRow(BOOKMARK_END, 0).ok());
  rows = table->QueryRows(1);
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_TRUE(rows->empty());
  rows = table->QueryRows(-10);  // More than there are: all of them.
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(Subjects(*rows), (Strings{"m0", "m1", "m2", "m3", "m4"}));
  ExpectPosition(*table, 0, 5);

  ExpectError(table->QueryRows(0).status(), absl::StatusCode::kInvalidArgument,
              MAPI_E_INVALID_PARAMETER);
  // The extremes of the count: an answer, never a crash.
  rows = table->QueryRows(std::numeric_limits<LONG>::max());
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(rows->size(), 5u);
  rows = table->QueryRows(std::numeric_limits<LONG>::min());
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(rows->size(), 5u);
  ExpectPosition(*table, 0, 5);
}

TEST_F(TableViews, SeekRowFromEveryOriginIsClamped) {
  Fill(5);
  auto table = OpenContents(folder_);
  ASSERT_NE(table, nullptr);
  struct Step {
    BOOKMARK origin;
    LONG count;
    LONG sought;
    ULONG position;
  };
  const Step steps[] = {
      {BOOKMARK_BEGINNING, 2, 2, 2},  {BOOKMARK_CURRENT, 1, 1, 3},
      {BOOKMARK_CURRENT, -10, -3, 0}, {BOOKMARK_END, -1, -1, 4},
      {BOOKMARK_END, 5, 0, 5},        {BOOKMARK_BEGINNING, 100, 5, 5},
      {BOOKMARK_BEGINNING, -3, 0, 0}, {BOOKMARK_END, -100, -5, 0},
      {BOOKMARK_CURRENT, 0, 0, 0},    {BOOKMARK_CURRENT, 4, 4, 4},
  };
  for (const Step& step : steps) {
    SCOPED_TRACE(absl::StrCat("origin ", step.origin, " count ", step.count));
    SCODE warning = -1;
    auto sought = table->SeekRow(step.origin, step.count, &warning);
    ASSERT_TRUE(sought.ok()) << sought.status();
    EXPECT_EQ(*sought, step.sought);
    EXPECT_EQ(warning, S_OK);
    ExpectPosition(*table, step.position, 5);
  }
  auto rows = table->QueryRows(1);
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(Subjects(*rows), (Strings{"m4"}));

  // From a bookmark.
  ASSERT_TRUE(table->SeekRow(BOOKMARK_BEGINNING, 1).ok());
  auto bookmark = table->CreateBookmark();
  ASSERT_TRUE(bookmark.ok()) << bookmark.status();
  EXPECT_GT(*bookmark, BOOKMARK_END);
  auto sought = table->SeekRow(*bookmark, 2);
  ASSERT_TRUE(sought.ok()) << sought.status();
  EXPECT_EQ(*sought, 2);
  ExpectPosition(*table, 3, 5);
  sought = table->SeekRow(*bookmark, -5);
  ASSERT_TRUE(sought.ok()) << sought.status();
  EXPECT_EQ(*sought, -1);
  ExpectPosition(*table, 0, 5);
  // The extremes of the count.
  sought = table->SeekRow(BOOKMARK_BEGINNING, std::numeric_limits<LONG>::max());
  ASSERT_TRUE(sought.ok()) << sought.status();
  EXPECT_EQ(*sought, 5);
  sought = table->SeekRow(BOOKMARK_END, std::numeric_limits<LONG>::min());
  ASSERT_TRUE(sought.ok()) << sought.status();
  EXPECT_EQ(*sought, -5);
  ExpectPosition(*table, 0, 5);
}

TEST_F(TableViews, BookmarksFollowTheirRowAndDieWhenFreed) {
  const std::vector<EntryId> ids = Fill(5);
  auto table = OpenContents(folder_);
  ASSERT_NE(table, nullptr);
  ASSERT_TRUE(table->SeekRow(BOOKMARK_BEGINNING, 2).ok());
  auto bookmark = table->CreateBookmark();
  ASSERT_TRUE(bookmark.ok()) << bookmark.status();
  ASSERT_TRUE(table->SeekRow(BOOKMARK_END, 0).ok());

  SCODE warning = -1;
  auto sought = table->SeekRow(*bookmark, 0, &warning);
  ASSERT_TRUE(sought.ok()) << sought.status();
  EXPECT_EQ(warning, S_OK);
  auto rows = table->QueryRows(1, TBL_NOADVANCE);
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(Subjects(*rows), (Strings{"m2"}));

  // A row added before it: the bookmark stays on its row.
  ASSERT_TRUE(table->SortTable({{PR_SUBJECT, TABLE_SORT_ASCEND}}).ok());
  ASSERT_TRUE(table->SeekRow(BOOKMARK_BEGINNING, 2).ok());
  bookmark = table->CreateBookmark();  // SortTable discarded the first one.
  ASSERT_TRUE(bookmark.ok()) << bookmark.status();
  SaveMessage(*store_, folder_, {{PR_SUBJECT, std::string("a first")}});
  ASSERT_TRUE(table->SeekRow(*bookmark, 0, &warning).ok());
  EXPECT_EQ(warning, S_OK);
  ExpectPosition(*table, 3, 6);
  rows = table->QueryRows(1, TBL_NOADVANCE);
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(Subjects(*rows), (Strings{"m2"}));

  // The bookmarked row deleted: the bookmark moves to the row that
  // followed, and says so once.
  ASSERT_TRUE(table->SeekRow(BOOKMARK_END, 0).ok());
  ASSERT_TRUE(store_->DeleteMessages(folder_, {ids[2]}, 0).ok());
  sought = table->SeekRow(*bookmark, 0, &warning);
  ASSERT_TRUE(sought.ok()) << sought.status();
  EXPECT_EQ(warning, MAPI_W_POSITION_CHANGED);
  rows = table->QueryRows(1, TBL_NOADVANCE);
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(Subjects(*rows), (Strings{"m3"}));

  ASSERT_TRUE(table->FreeBookmark(*bookmark).ok());
  ExpectError(table->SeekRow(*bookmark, 0).status(),
              absl::StatusCode::kInvalidArgument, MAPI_E_INVALID_BOOKMARK);
  ExpectError(table->FreeBookmark(*bookmark),
              absl::StatusCode::kInvalidArgument, MAPI_E_INVALID_BOOKMARK);
  ExpectError(table->SeekRow(0x7777, 0).status(),
              absl::StatusCode::kInvalidArgument, MAPI_E_INVALID_BOOKMARK);
  // Freeing a predefined bookmark does nothing.
  EXPECT_TRUE(table->FreeBookmark(BOOKMARK_CURRENT).ok());
}

TEST_F(TableViews, FindRowSearchesForwardAndBackward) {
  Fill(5);
  auto table = OpenContents(folder_);
  ASSERT_NE(table, nullptr);
  auto subject = [](const char* s) {
    return Restriction::Property(RELOP_EQ, PR_SUBJECT,
                                 {PR_SUBJECT, std::string(s)});
  };
  ASSERT_TRUE(table->FindRow(subject("m3"), BOOKMARK_BEGINNING).ok());
  ExpectPosition(*table, 3, 5);
  ASSERT_TRUE(
      table->FindRow(subject("m1"), BOOKMARK_CURRENT, DIR_BACKWARD).ok());
  ExpectPosition(*table, 1, 5);
  // Backward starts at the row before the origin: m1 itself is not found,
  // and a failed search leaves the cursor alone.
  ExpectError(table->FindRow(subject("m1"), BOOKMARK_CURRENT, DIR_BACKWARD),
              absl::StatusCode::kNotFound, MAPI_E_NOT_FOUND);
  ExpectPosition(*table, 1, 5);
  // Forward includes the origin's row.
  ASSERT_TRUE(table->FindRow(subject("m1"), BOOKMARK_CURRENT).ok());
  ExpectPosition(*table, 1, 5);
  ExpectError(table->FindRow(subject("m0"), BOOKMARK_CURRENT),
              absl::StatusCode::kNotFound, MAPI_E_NOT_FOUND);
  // From the end backward: the last row matching.
  const Restriction any_m = Restriction::Content(
      FL_PREFIX, PR_SUBJECT, {PR_SUBJECT, std::string("m")});
  SCODE warning = -1;
  ASSERT_TRUE(table->FindRow(any_m, BOOKMARK_END, DIR_BACKWARD, &warning).ok());
  EXPECT_EQ(warning, S_OK);
  ExpectPosition(*table, 4, 5);
  auto rows = table->QueryRows(1);
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(Subjects(*rows), (Strings{"m4"}));
  // From a bookmark.
  ASSERT_TRUE(table->SeekRow(BOOKMARK_BEGINNING, 2).ok());
  auto bookmark = table->CreateBookmark();
  ASSERT_TRUE(bookmark.ok()) << bookmark.status();
  ASSERT_TRUE(table->FindRow(any_m, *bookmark).ok());
  ExpectPosition(*table, 2, 5);
  ExpectError(table->FindRow(Restriction::Exist(PR_BODY), BOOKMARK_BEGINNING),
              absl::StatusCode::kNotFound, MAPI_E_NOT_FOUND);
}

TEST_F(TableViews, RestrictKeepsMatchingRowsAndResetsTheView) {
  auto save = [&](const std::string& subject, ULONG flags, const char* body) {
    std::vector<PropValue> props = {
        {PR_SUBJECT, subject}, {PR_MESSAGE_FLAGS, static_cast<int32_t>(flags)}};
    if (body != nullptr) props.push_back({PR_BODY, std::string(body)});
    SaveMessage(*store_, folder_, props);
  };
  save("Alpha report", MSGFLAG_READ, "x");
  save("beta", 0, nullptr);
  save("ALPHA summary", MSGFLAG_READ, nullptr);
  save("gamma", 0, "y");
  save("\xCE\xA9mega", 0, nullptr);  // "Ωmega".
  auto table = OpenContents(folder_);
  ASSERT_NE(table, nullptr);

  const Restriction alpha_any_case =
      Restriction::Content(FL_SUBSTRING | FL_IGNORECASE, PR_SUBJECT,
                           {PR_SUBJECT, std::string("alpha")});
  const Restriction alpha_exact = Restriction::Content(
      FL_SUBSTRING, PR_SUBJECT, {PR_SUBJECT, std::string("alpha")});
  const Restriction omega_loose =
      Restriction::Content(FL_PREFIX | FL_LOOSE, PR_SUBJECT,
                           {PR_SUBJECT, std::string("\xCF\x89MEGA")});  // ωMEGA
  const Restriction unread =
      Restriction::Bitmask(BMR_EQZ, PR_MESSAGE_FLAGS, MSGFLAG_READ);
  const Restriction has_body = Restriction::Exist(PR_BODY);
  const Restriction subject_is_beta_or_gamma = Restriction::Or(
      {Restriction::Property(RELOP_EQ, PR_SUBJECT,
                             {PR_SUBJECT, std::string("beta")}),
       Restriction::Property(RELOP_EQ, PR_SUBJECT,
                             {PR_SUBJECT, std::string("gamma")})});
  struct Case {
    const char* what;
    std::optional<Restriction> restriction;
    Strings rows;
  };
  const Case cases[] = {
      {"content, case folded",
       alpha_any_case,
       {"Alpha report", "ALPHA summary"}},
      {"content, exact case", alpha_exact, {}},
      {"content, Greek folded", omega_loose, {"\xCE\xA9mega"}},
      {"bitmask", unread, {"beta", "gamma", "\xCE\xA9mega"}},
      {"exist", has_body, {"Alpha report", "gamma"}},
      {"and",
       Restriction::And(
           {has_body,
            Restriction::Bitmask(BMR_NEZ, PR_MESSAGE_FLAGS, MSGFLAG_READ)}),
       {"Alpha report"}},
      {"or of properties", subject_is_beta_or_gamma, {"beta", "gamma"}},
      {"not",
       Restriction::Not(has_body),
       {"beta", "ALPHA summary", "\xCE\xA9mega"}},
      {"none",
       std::nullopt,
       {"Alpha report", "beta", "ALPHA summary", "gamma", "\xCE\xA9mega"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    // A bookmark and a cursor position that Restrict must discard.
    ASSERT_TRUE(table->SeekRow(BOOKMARK_END, 0).ok());
    auto bookmark = table->CreateBookmark();
    ASSERT_TRUE(bookmark.ok()) << bookmark.status();
    ASSERT_TRUE(table->Restrict(c.restriction).ok());
    ExpectPosition(*table, 0, static_cast<ULONG>(c.rows.size()));
    ExpectError(table->SeekRow(*bookmark, 0).status(),
                absl::StatusCode::kInvalidArgument, MAPI_E_INVALID_BOOKMARK);
    auto count = table->GetRowCount();
    ASSERT_TRUE(count.ok()) << count.status();
    EXPECT_EQ(*count, c.rows.size());
    auto rows = table->QueryRows(100);
    ASSERT_TRUE(rows.ok()) << rows.status();
    EXPECT_EQ(Subjects(*rows), c.rows);
  }
}

TEST_F(TableViews, SortTableOrdersByEveryKeyAndResetsTheView) {
  struct M {
    const char* subject;
    int32_t priority;
    ULONG flags;
  };
  const M messages[] = {{"e", 2, 0}, {"d", 1, MSGFLAG_READ}, {"c", 2, 0},
                        {"b", 1, 0}, {"a", 2, MSGFLAG_READ}, {"f", 1, 0}};
  for (const M& m : messages) {
    SaveMessage(*store_, folder_,
                {{PR_SUBJECT, std::string(m.subject)},
                 {PR_PRIORITY_X, m.priority},
                 {PR_MESSAGE_FLAGS, static_cast<int32_t>(m.flags)}});
  }
  auto table = OpenContents(folder_);
  ASSERT_NE(table, nullptr);
  EXPECT_EQ(AllSubjects(*table), (Strings{"e", "d", "c", "b", "a", "f"}));
  auto none = table->QuerySortOrder();
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->empty());

  ASSERT_TRUE(table->SeekRow(BOOKMARK_BEGINNING, 3).ok());
  auto bookmark = table->CreateBookmark();
  ASSERT_TRUE(bookmark.ok()) << bookmark.status();
  // Priority ascending, then read before unread (flags descending), then
  // subject descending.
  const SortOrderSet keys = {{PR_PRIORITY_X, TABLE_SORT_ASCEND},
                             {PR_MESSAGE_FLAGS, TABLE_SORT_DESCEND},
                             {PR_SUBJECT, TABLE_SORT_DESCEND}};
  ASSERT_TRUE(table->SortTable(keys).ok());
  ExpectPosition(*table, 0, 6);
  ExpectError(table->SeekRow(*bookmark, 0).status(),
              absl::StatusCode::kInvalidArgument, MAPI_E_INVALID_BOOKMARK);
  auto sort = table->QuerySortOrder();
  ASSERT_TRUE(sort.ok()) << sort.status();
  EXPECT_EQ(*sort, keys);
  auto rows = table->QueryRows(10);
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(Subjects(*rows), (Strings{"d", "f", "b", "a", "e", "c"}));

  ASSERT_TRUE(table->SortTable({{PR_SUBJECT, TABLE_SORT_ASCEND}}).ok());
  EXPECT_EQ(AllSubjects(*table), (Strings{"a", "b", "c", "d", "e", "f"}));
  // A restriction and a sort together.
  ASSERT_TRUE(table
                  ->Restrict(Restriction::Property(RELOP_EQ, PR_PRIORITY_X,
                                                   {PR_PRIORITY_X, 1}))
                  .ok());
  EXPECT_EQ(AllSubjects(*table), (Strings{"b", "d", "f"}));
  ASSERT_TRUE(table->SortTable({}).ok());  // Back to creation order.
  EXPECT_EQ(AllSubjects(*table), (Strings{"d", "b", "f"}));
  sort = table->QuerySortOrder();
  ASSERT_TRUE(sort.ok()) << sort.status();
  EXPECT_TRUE(sort->empty());
}

TEST_F(TableViews, QueryAllRowsIsOneSnapshotAndLeavesTheCursor) {
  Fill(4);
  auto table = OpenContents(folder_);
  ASSERT_NE(table, nullptr);
  ASSERT_TRUE(table->SetColumns({PR_INSTANCE_KEY, PR_SUBJECT}).ok());
  ASSERT_TRUE(table->SeekRow(BOOKMARK_BEGINNING, 1).ok());
  auto snapshot = table->QueryAllRows();
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  EXPECT_EQ(snapshot->columns,
            (std::vector<ULONG>{PR_INSTANCE_KEY, PR_SUBJECT}));
  EXPECT_EQ(Subjects(snapshot->rows), (Strings{"m0", "m1", "m2", "m3"}));
  EXPECT_GT(snapshot->sequence, 0u);
  ExpectPosition(*table, 1, 4);

  SaveMessage(*store_, folder_, {{PR_SUBJECT, std::string("m4")}});
  auto later = table->QueryAllRows(5);
  ASSERT_TRUE(later.ok()) << later.status();
  EXPECT_EQ(later->rows.size(), 5u);
  EXPECT_GT(later->sequence, snapshot->sequence);
  ExpectError(table->QueryAllRows(4).status(),
              absl::StatusCode::kResourceExhausted, MAPI_E_TABLE_TOO_BIG);
}

TEST_F(TableViews, BigRowsComeInSeveralAnswersAndNeverOverflowAMessage) {
  // Three 400 KiB bodies: QueryRows hands them out over several answers;
  // together they do not fit in one 1 MiB message.
  for (int i = 0; i < 3; ++i) {
    SaveMessage(
        *store_, folder_,
        {{PR_SUBJECT, absl::StrCat("big", i)},
         {PR_BODY, std::string(400 * 1024, static_cast<char>('a' + i))}});
  }
  auto table = OpenContents(folder_);
  ASSERT_NE(table, nullptr);
  ASSERT_TRUE(table->SetColumns({PR_INSTANCE_KEY, PR_SUBJECT, PR_BODY}).ok());
  Strings seen;
  int answers = 0;
  while (true) {
    auto rows = table->QueryRows(10);
    ASSERT_TRUE(rows.ok()) << rows.status();
    if (rows->empty()) break;
    ++answers;
    for (const std::string& s : Subjects(*rows)) seen.push_back(s);
  }
  EXPECT_EQ(seen, (Strings{"big0", "big1", "big2"}));
  EXPECT_GE(answers, 2);
  ExpectError(table->QueryAllRows().status(),
              absl::StatusCode::kResourceExhausted, MAPI_E_TABLE_TOO_BIG);

  // Thousands of columns the rows lack: each PT_ERROR value is all framing
  // on the wire (about twenty bytes). QueryRows still answers with what
  // fits in a message, and QueryAllRows refuses cleanly what does not.
  for (int i = 0; i < 20; ++i) {
    SaveMessage(*store_, folder_, {{PR_SUBJECT, absl::StrCat("n", i)}});
  }
  std::vector<ULONG> missing = {PR_INSTANCE_KEY};
  for (ULONG id = 0x6800; missing.size() < 4096; ++id) {
    missing.push_back(PROP_TAG(PT_LONG, id));
  }
  ASSERT_TRUE(table->SetColumns(missing).ok());
  ExpectError(table->QueryAllRows().status(),
              absl::StatusCode::kResourceExhausted, MAPI_E_TABLE_TOO_BIG);
  ASSERT_TRUE(table->SeekRow(BOOKMARK_BEGINNING, 0).ok());
  std::set<std::string> keys;
  while (true) {
    auto rows = table->QueryRows(4096);
    ASSERT_TRUE(rows.ok()) << rows.status();
    if (rows->empty()) break;
    for (const Row& row : *rows) {
      ASSERT_EQ(row.size(), 4096u);
      EXPECT_EQ(row[1], (PropValue{PROP_TAG(PT_ERROR, 0x6800),
                                   ErrorValue{MAPI_E_NOT_FOUND}}));
      EXPECT_TRUE(keys.insert(KeyOf(row)).second);
    }
  }
  EXPECT_EQ(keys.size(), 23u);
}

// --- Lifetime ---------------------------------------------------------------

TEST(TableLifetime, AViewClosesWithItsTableAndWithItsSession) {
  server::ServerOptions options;
  options.store.max_views_per_session = 2;
  absl::Notification session_ended;
  options.notifications.on_session_end = [&](const std::string&) {
    session_ended.Notify();
  };
  auto server = StartServer(options);
  auto session = Session::Open(server->target());
  ASSERT_TRUE(session.ok()) << session.status();
  auto store = (*session)->OpenMsgStore();
  ASSERT_TRUE(store.ok()) << store.status();
  const EntryId inbox = (*store)->inbox_id();

  // Destroying a Table closes its view: far more opens than the session
  // may hold at once all succeed, and the closed views are gone.
  for (int i = 0; i < 10; ++i) {
    auto table = (*store)->OpenContentsTable(inbox);
    ASSERT_TRUE(table.ok()) << i << ": " << table.status();
    const uint64_t view = (*table)->view_id();
    EXPECT_TRUE(server->store()->TableExists(view).ok());
    table->reset();
    EXPECT_EQ(ScodeOf(server->store()->TableExists(view)), MAPI_E_NOT_FOUND);
  }
  auto kept1 = (*store)->OpenContentsTable(inbox);
  auto kept2 = (*store)->OpenHierarchyTable(inbox);
  ASSERT_TRUE(kept1.ok() && kept2.ok());
  ExpectError((*store)->OpenContentsTable(inbox).status(),
              absl::StatusCode::kResourceExhausted,
              MAPI_E_NOT_ENOUGH_RESOURCES);
  const uint64_t view1 = (*kept1)->view_id();
  const uint64_t view2 = (*kept2)->view_id();

  // The session ends with two views open: the server closes them. Tables
  // that outlive their session fail cleanly, and their destructors make no
  // call.
  session->reset();
  ASSERT_TRUE(session_ended.WaitForNotificationWithTimeout(absl::Seconds(30)));
  EXPECT_EQ(ScodeOf(server->store()->TableExists(view1)), MAPI_E_NOT_FOUND);
  EXPECT_EQ(ScodeOf(server->store()->TableExists(view2)), MAPI_E_NOT_FOUND);
  ExpectError((*kept1)->GetRowCount().status(), absl::StatusCode::kUnavailable,
              MAPI_E_END_OF_SESSION);
  kept1->reset();
  kept2->reset();
}

// --- Bad input -------------------------------------------------------------

TEST_F(TableViews, BadInputThroughTheClientCarriesItsMapiCode) {
  Fill(2);
  auto table = OpenContents(folder_);
  ASSERT_NE(table, nullptr);

  // Unknown flags: the Open calls and each table call define their own.
  ExpectError(store_->OpenContentsTable(folder_, CONVENIENT_DEPTH).status(),
              absl::StatusCode::kInvalidArgument, MAPI_E_UNKNOWN_FLAGS);
  ExpectError(store_->OpenHierarchyTable(folder_, 0x100).status(),
              absl::StatusCode::kInvalidArgument, MAPI_E_UNKNOWN_FLAGS);
  ExpectError(table->GetRowCount(0x1).status(),
              absl::StatusCode::kInvalidArgument, MAPI_E_UNKNOWN_FLAGS);
  ExpectError(table->QueryRows(1, 0x100).status(),
              absl::StatusCode::kInvalidArgument, MAPI_E_UNKNOWN_FLAGS);
  ExpectError(table->SetColumns({PR_SUBJECT}, 0x80),
              absl::StatusCode::kInvalidArgument, MAPI_E_UNKNOWN_FLAGS);
  ExpectError(table->QueryColumns(0x2).status(),
              absl::StatusCode::kInvalidArgument, MAPI_E_UNKNOWN_FLAGS);
  ExpectError(
      table->FindRow(Restriction::Exist(PR_SUBJECT), BOOKMARK_BEGINNING, 0x2),
      absl::StatusCode::kInvalidArgument, MAPI_E_UNKNOWN_FLAGS);
  ExpectError(table->Restrict(std::nullopt, 0x100),
              absl::StatusCode::kInvalidArgument, MAPI_E_UNKNOWN_FLAGS);
  ExpectError(table->SortTable({}, 0x100), absl::StatusCode::kInvalidArgument,
              MAPI_E_UNKNOWN_FLAGS);

  // Entry ids: garbage, a message where a folder is expected.
  ExpectError(store_->OpenContentsTable("garbage").status(),
              absl::StatusCode::kInvalidArgument, MAPI_E_INVALID_ENTRYID);
  ExpectError(store_->OpenHierarchyTable(EntryId()).status(),
              absl::StatusCode::kInvalidArgument, MAPI_E_INVALID_ENTRYID);
  auto rows = table->QueryRows(1, TBL_NOADVANCE);
  ASSERT_TRUE(rows.ok() && !rows->empty());
  const auto* entry = std::get_if<Binary>(&Find((*rows)[0], PR_ENTRYID)->value);
  ASSERT_NE(entry, nullptr);
  ExpectError(store_->OpenContentsTable(entry->bytes).status(),
              absl::StatusCode::kInvalidArgument, MAPI_E_INVALID_PARAMETER);

  // Columns: none, too many (a wire limit), exactly the limit.
  ExpectError(table->SetColumns({}), absl::StatusCode::kInvalidArgument,
              MAPI_E_INVALID_PARAMETER);
  ExpectError(table->SetColumns(std::vector<ULONG>(4097, PR_SUBJECT)),
              absl::StatusCode::kResourceExhausted, MAPI_E_TOO_BIG);
  EXPECT_TRUE(table->SetColumns(std::vector<ULONG>(4096, PR_SUBJECT)).ok());

  // Restrictions: malformed for the store, too complex.
  ExpectError(table->Restrict(Restriction::Property(
                  99, PR_SUBJECT, {PR_SUBJECT, std::string("x")})),
              absl::StatusCode::kInvalidArgument, MAPI_E_INVALID_PARAMETER);
  ExpectError(table->Restrict(Restriction::Property(
                  RELOP_EQ, PR_SUBJECT, {PR_MESSAGE_FLAGS, int32_t{1}})),
              absl::StatusCode::kInvalidArgument, MAPI_E_INVALID_PARAMETER);
  ExpectError(table->Restrict(Restriction::Property(
                  RELOP_RE, PR_SUBJECT, {PR_SUBJECT, std::string("x.*")})),
              absl::StatusCode::kUnimplemented, MAPI_E_TOO_COMPLEX);
  Restriction deep = Restriction::Exist(PR_SUBJECT);
  for (size_t i = 1; i < kMaxRestrictionDepth; ++i) {
    deep = Restriction::Not(std::move(deep));
  }
  EXPECT_TRUE(table->Restrict(deep).ok());  // Exactly the limit.
  ExpectError(table->Restrict(Restriction::Not(deep)),
              absl::StatusCode::kUnimplemented, MAPI_E_TOO_COMPLEX);
  ExpectError(table->FindRow(Restriction::Not(deep), BOOKMARK_BEGINNING),
              absl::StatusCode::kUnimplemented, MAPI_E_TOO_COMPLEX);
  ExpectError(table->Restrict(Restriction::Or(std::vector<Restriction>(
                  kMaxRestrictionNodes, Restriction::Exist(PR_SUBJECT)))),
              absl::StatusCode::kUnimplemented, MAPI_E_TOO_COMPLEX);

  // Sort keys: the store's limit, the wire's limit, bad orders, MV tags.
  ExpectError(table->SortTable(SortOrderSet(kMaxSortKeys + 1,
                                            {PR_SUBJECT, TABLE_SORT_ASCEND})),
              absl::StatusCode::kUnimplemented, MAPI_E_TOO_COMPLEX);
  ExpectError(
      table->SortTable(SortOrderSet(4097, {PR_SUBJECT, TABLE_SORT_ASCEND})),
      absl::StatusCode::kResourceExhausted, MAPI_E_TOO_BIG);
  ExpectError(table->SortTable({{PR_SUBJECT, 7}}),
              absl::StatusCode::kInvalidArgument, MAPI_E_INVALID_PARAMETER);
  ExpectError(
      table->SortTable({{PROP_TAG(PT_MV_UNICODE, 0x6702), TABLE_SORT_ASCEND}}),
      absl::StatusCode::kUnimplemented, MAPI_E_TOO_COMPLEX);

  // A closed view.
  ASSERT_TRUE(table->Close().ok());
  ExpectError(table->GetRowCount().status(), absl::StatusCode::kNotFound,
              MAPI_E_NOT_FOUND);
  ExpectError(table->QueryRows(1).status(), absl::StatusCode::kNotFound,
              MAPI_E_NOT_FOUND);
  ExpectError(table->Close(), absl::StatusCode::kNotFound, MAPI_E_NOT_FOUND);
}

TEST_F(TableViews, AViewOfADeletedFolderIsObjectDeleted) {
  auto doomed = store_->CreateFolder(folder_, "Doomed", "", 0);
  ASSERT_TRUE(doomed.ok()) << doomed.status();
  SaveMessage(*store_, *doomed, {{PR_SUBJECT, std::string("gone")}});
  auto contents = OpenContents(*doomed);
  ASSERT_NE(contents, nullptr);
  auto hierarchy = store_->OpenHierarchyTable(*doomed);
  ASSERT_TRUE(hierarchy.ok()) << hierarchy.status();
  ASSERT_TRUE(store_->DeleteFolder(folder_, *doomed, DEL_MESSAGES).ok());

  for (Table* table : {contents.get(), hierarchy->get()}) {
    ExpectError(table->GetRowCount().status(),
                absl::StatusCode::kFailedPrecondition, MAPI_E_OBJECT_DELETED);
    ExpectError(table->QueryRows(1).status(),
                absl::StatusCode::kFailedPrecondition, MAPI_E_OBJECT_DELETED);
    ExpectError(table->SetColumns({PR_SUBJECT}),
                absl::StatusCode::kFailedPrecondition, MAPI_E_OBJECT_DELETED);
    EXPECT_TRUE(table->Close().ok());
  }
  ExpectError(store_->OpenContentsTable(*doomed).status(),
              absl::StatusCode::kNotFound, MAPI_E_NOT_FOUND);
}

// Calls the Store and Table services on the raw generated stubs as session
// `session` (any 32 hex digits), thread 1.
class RawClient {
 public:
  RawClient(const std::string& target, std::string session)
      : channel_(
            grpc::CreateChannel(target, grpc::InsecureChannelCredentials())),
        store_(v1::Store::NewStub(channel_)),
        table_(v1::Table::NewStub(channel_)),
        session_(std::move(session)) {}

  v1::Store::Stub* store() { return store_.get(); }
  v1::Table::Stub* table() { return table_.get(); }

  // One call; `with_caller` false sends no caller metadata.
  template <typename Stub, typename Request, typename Response>
  absl::Status Call(Stub* stub,
                    grpc::Status (Stub::*method)(grpc::ClientContext*,
                                                 const Request&, Response*),
                    const Request& request, Response* response,
                    bool with_caller = true) {
    grpc::ClientContext context;
    if (with_caller) {
      context.AddMetadata("mapinotify-session", session_);
      context.AddMetadata("mapinotify-thread", "1");
    }
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    return internal::FromGrpcStatus(
        (stub->*method)(&context, request, response));
  }

  // GetRowCount of `view`.
  absl::StatusOr<uint32_t> RowCount(uint64_t view) {
    v1::GetRowCountRequest request;
    request.set_view_id(view);
    v1::GetRowCountResponse response;
    absl::Status status =
        Call(table(), &v1::Table::Stub::GetRowCount, request, &response);
    if (!status.ok()) return status;
    return response.row_count();
  }

  absl::Status Restrict(uint64_t view, const v1::Restriction* restriction) {
    v1::RestrictRequest request;
    request.set_view_id(view);
    if (restriction != nullptr) *request.mutable_restriction() = *restriction;
    v1::RestrictResponse response;
    return Call(table(), &v1::Table::Stub::Restrict, request, &response);
  }

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Store::Stub> store_;
  std::unique_ptr<v1::Table::Stub> table_;
  std::string session_;
};

// `levels` levels of RES_NOT around a RES_EXIST, built as a wire message.
void NestNots(v1::Restriction* root, size_t levels) {
  v1::Restriction* r = root;
  for (size_t i = 1; i < levels; ++i) {
    r = r->mutable_res_not()->mutable_restriction();
  }
  r->mutable_res_exist()->set_prop_tag(PR_SUBJECT);
}

TEST_F(TableViews, BadInputOnTheRawStubsIsRefusedAndTheServerGoesOn) {
  Fill(3);
  RawClient raw(f_.server->target(), std::string(32, 'a'));
  v1::OpenContentsTableRequest open;
  open.set_folder_id(folder_);
  v1::OpenContentsTableResponse opened;
  ASSERT_TRUE(
      raw.Call(raw.store(), &v1::Store::Stub::OpenContentsTable, open, &opened)
          .ok());
  const uint64_t view = opened.view_id();
  auto count = raw.RowCount(view);
  ASSERT_TRUE(count.ok()) << count.status();
  EXPECT_EQ(*count, 3u);

  // Unknown views, and views of other sessions, are MAPI_E_NOT_FOUND.
  ExpectError(raw.RowCount(view + 1000).status(), absl::StatusCode::kNotFound,
              MAPI_E_NOT_FOUND);
  ExpectError(raw.RowCount(0).status(), absl::StatusCode::kNotFound,
              MAPI_E_NOT_FOUND);
  RawClient other(f_.server->target(), std::string(32, 'b'));
  ExpectError(other.RowCount(view).status(), absl::StatusCode::kNotFound,
              MAPI_E_NOT_FOUND);
  auto mine = OpenContents(folder_);
  ASSERT_NE(mine, nullptr);
  ExpectError(raw.RowCount(mine->view_id()).status(),
              absl::StatusCode::kNotFound, MAPI_E_NOT_FOUND);
  v1::CloseTableRequest close_other;
  close_other.set_view_id(mine->view_id());
  v1::CloseTableResponse closed;
  ExpectError(
      raw.Call(raw.table(), &v1::Table::Stub::CloseTable, close_other, &closed),
      absl::StatusCode::kNotFound, MAPI_E_NOT_FOUND);
  EXPECT_TRUE(mine->GetRowCount().ok());  // Still open for its owner.

  // No caller metadata.
  v1::GetRowCountRequest count_request;
  count_request.set_view_id(view);
  v1::GetRowCountResponse count_response;
  ExpectError(raw.Call(raw.table(), &v1::Table::Stub::GetRowCount,
                       count_request, &count_response, /*with_caller=*/false),
              absl::StatusCode::kInvalidArgument, MAPI_E_INVALID_PARAMETER);

  // Restrictions malformed on the wire.
  v1::Restriction no_kind;
  ExpectError(raw.Restrict(view, &no_kind), absl::StatusCode::kInvalidArgument,
              MAPI_E_INVALID_PARAMETER);
  v1::Restriction lone_not;
  lone_not.mutable_res_not();
  ExpectError(raw.Restrict(view, &lone_not), absl::StatusCode::kInvalidArgument,
              MAPI_E_INVALID_PARAMETER);
  v1::Restriction no_value;
  no_value.mutable_res_property()->set_prop_tag(PR_SUBJECT);
  ExpectError(raw.Restrict(view, &no_value), absl::StatusCode::kInvalidArgument,
              MAPI_E_INVALID_PARAMETER);
  v1::Restriction mismatch;
  v1::PropValue* value = mismatch.mutable_res_content()->mutable_prop();
  mismatch.mutable_res_content()->set_prop_tag(PR_SUBJECT);
  value->set_tag(PR_SUBJECT);
  value->set_l(5);
  ExpectError(raw.Restrict(view, &mismatch), absl::StatusCode::kInvalidArgument,
              MAPI_E_INVALID_PARAMETER);
  v1::FindRowRequest find;  // FindRow without its restriction.
  find.set_view_id(view);
  v1::FindRowResponse found;
  ExpectError(raw.Call(raw.table(), &v1::Table::Stub::FindRow, find, &found),
              absl::StatusCode::kInvalidArgument, MAPI_E_INVALID_PARAMETER);

  // Too deep: past the limit, and far past what protobuf itself parses.
  for (size_t levels : {kMaxRestrictionDepth + 1, size_t{200}, size_t{5000}}) {
    SCOPED_TRACE(absl::StrCat(levels, " levels"));
    v1::Restriction deep;
    NestNots(&deep, levels);
    ExpectError(raw.Restrict(view, &deep), absl::StatusCode::kUnimplemented,
                MAPI_E_TOO_COMPLEX);
    *find.mutable_restriction() = deep;
    ExpectError(raw.Call(raw.table(), &v1::Table::Stub::FindRow, find, &found),
                absl::StatusCode::kUnimplemented, MAPI_E_TOO_COMPLEX);
    // The server goes on serving, this view included.
    count = raw.RowCount(view);
    ASSERT_TRUE(count.ok()) << count.status();
    EXPECT_EQ(*count, 3u);
  }
  v1::Restriction limit;
  NestNots(&limit, kMaxRestrictionDepth);
  EXPECT_TRUE(raw.Restrict(view, &limit).ok());
  EXPECT_TRUE(raw.Restrict(view, nullptr).ok());  // Absent: cleared.
  count = raw.RowCount(view);
  ASSERT_TRUE(count.ok()) << count.status();
  EXPECT_EQ(*count, 3u);

  // A FindRow that finds, on the raw stub: the answer's warning is S_OK.
  find.mutable_restriction()->Clear();
  find.mutable_restriction()->mutable_res_exist()->set_prop_tag(PR_SUBJECT);
  find.set_origin(BOOKMARK_BEGINNING);
  ASSERT_TRUE(
      raw.Call(raw.table(), &v1::Table::Stub::FindRow, find, &found).ok());
  EXPECT_EQ(found.warning(), S_OK);

  // Closed: every call, and a second close, is MAPI_E_NOT_FOUND.
  v1::CloseTableRequest close;
  close.set_view_id(view);
  ASSERT_TRUE(
      raw.Call(raw.table(), &v1::Table::Stub::CloseTable, close, &closed).ok());
  ExpectError(raw.RowCount(view).status(), absl::StatusCode::kNotFound,
              MAPI_E_NOT_FOUND);
  ExpectError(
      raw.Call(raw.table(), &v1::Table::Stub::CloseTable, close, &closed),
      absl::StatusCode::kNotFound, MAPI_E_NOT_FOUND);
}

}  // namespace
}  // namespace mapinotify::testing
