// The store's table calls (Store, "Tables" in server/store/store.h): rows
// and default columns of contents and hierarchy tables, columns,
// restriction and sort order (with their RELOAD / *_DONE / TABLE_ERROR
// events), the cursor and bookmarks, errors, sessions and limits, and
// threads sharing a cursor. The notifications of store changes are in
// store_table_events_test.cc.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "mapinotify/mapi.h"
#include "mapinotify/status.h"
#include "mapinotify/table_types.h"
#include "server/store/store.h"
#include "server/store/table_view.h"
#include "tests/unit/store_tables_testing.h"

namespace mapinotify::server::store {
namespace {

using testing::AllTexts;
using testing::For;
using testing::InstanceKeyOf;
using testing::kCaller;
using testing::kOther;
using testing::kStoreWide;
using testing::kTableConnection;
using testing::Msg;
using testing::PR_RANK;
using testing::Scode;
using testing::StoreTablesTest;
using testing::TableHarness;
using testing::TableOf;
using testing::Text;
using testing::Texts;

// --- Rows and columns.

TEST_F(StoreTablesTest, ContentsTableDefaultColumnsAndRows) {
  const EntryId m1 = Msg(h_.store, folder_, "first", 0);
  const EntryId m2 = Msg(h_.store, folder_, "second");
  const Store::ViewId view = Contents(folder_, MAPI_DEFERRED_ERRORS);
  EXPECT_EQ(h_.store.QueryColumns(kCaller, view, 0).value(),
            (std::vector<ULONG>{PR_INSTANCE_KEY, PR_ENTRYID, PR_SUBJECT,
                                PR_MESSAGE_CLASS, PR_MESSAGE_FLAGS,
                                PR_MESSAGE_SIZE, PR_LAST_MODIFICATION_TIME}));
  EXPECT_EQ(h_.store.GetRowCount(kCaller, view, 0).value(), 2u);
  const std::vector<Row> rows =
      h_.store.QueryRows(kCaller, view, 10, 0).value();
  ASSERT_EQ(rows.size(), 2u);
  const EntryId ids[] = {m1, m2};
  for (size_t i = 0; i < 2; ++i) {
    SCOPED_TRACE(i);
    const std::vector<PropValue> props =
        h_.store
            .GetProps(ids[i], {PR_ENTRYID, PR_SUBJECT, PR_MESSAGE_CLASS,
                               PR_MESSAGE_FLAGS, PR_MESSAGE_SIZE,
                               PR_LAST_MODIFICATION_TIME})
            .value();
    ASSERT_EQ(rows[i].size(), 7u);
    EXPECT_EQ(rows[i][0], InstanceKeyOf(ids[i]));
    EXPECT_EQ(std::get<Binary>(rows[i][0].value).bytes.size(), 8u);
    for (size_t c = 0; c < props.size(); ++c)
      EXPECT_EQ(rows[i][c + 1], props[c]);
  }
  EXPECT_EQ(Text(rows[0][2]), "first");
  const TablePosition position = h_.store.QueryPosition(kCaller, view).value();
  EXPECT_EQ(position.row, 2u);
  EXPECT_EQ(position.denominator, 2u);
}

TEST_F(StoreTablesTest, HierarchyTableRelativeDepthAndConvenientDepth) {
  Store& s = h_.store;
  const EntryId s1 = s.CreateFolder(folder_, "S1", "", 0).value();
  const EntryId s2 = s.CreateFolder(folder_, "S2", "", 0).value();
  const EntryId t = s.CreateFolder(s1, "T", "", 0).value();
  Msg(s, s1, "in S1", 0);
  const Store::ViewId direct = Hierarchy(folder_);
  EXPECT_EQ(s.QueryColumns(kCaller, direct, 0).value(),
            (std::vector<ULONG>{PR_INSTANCE_KEY, PR_ENTRYID, PR_DISPLAY_NAME,
                                PR_DEPTH, PR_CONTENT_COUNT, PR_CONTENT_UNREAD,
                                PR_SUBFOLDERS}));
  const std::vector<Row> rows = s.QueryRows(kCaller, direct, 10, 0).value();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0][0], InstanceKeyOf(s1));
  EXPECT_EQ(rows[0][1], (PropValue{PR_ENTRYID, Binary{s1}}));
  EXPECT_EQ(rows[0][2], (PropValue{PR_DISPLAY_NAME, std::string("S1")}));
  EXPECT_EQ(rows[0][3], (PropValue{PR_DEPTH, int32_t{1}}));
  EXPECT_EQ(rows[0][4], (PropValue{PR_CONTENT_COUNT, int32_t{1}}));
  EXPECT_EQ(rows[0][5], (PropValue{PR_CONTENT_UNREAD, int32_t{1}}));
  EXPECT_EQ(rows[0][6], (PropValue{PR_SUBFOLDERS, true}));
  EXPECT_EQ(rows[1][0], InstanceKeyOf(s2));
  EXPECT_EQ(rows[1][6], (PropValue{PR_SUBFOLDERS, false}));

  const Store::ViewId deep = Hierarchy(folder_, CONVENIENT_DEPTH);
  const std::vector<Row> all = s.QueryRows(kCaller, deep, 10, 0).value();
  ASSERT_EQ(all.size(), 3u);  // Creation order: S1, S2, T.
  EXPECT_EQ(all[2][0], InstanceKeyOf(t));
  EXPECT_EQ(all[2][3], (PropValue{PR_DEPTH, int32_t{2}}));
  // GetProps keeps the absolute depth (root 0, IPM_SUBTREE 1, F 2, S1 3).
  EXPECT_EQ(testing::LongProp(s, t, PR_DEPTH), 4);
  // From the root, the whole tree.
  const Store::ViewId root = Hierarchy(s.root_folder_id(), CONVENIENT_DEPTH);
  EXPECT_EQ(s.GetRowCount(kCaller, root, 0).value(), 9u);
}

TEST_F(StoreTablesTest, SetColumnsNullMissingDuplicateAndUnspecified) {
  Msg(h_.store, folder_, "hello");
  const Store::ViewId view = Contents(folder_);
  ASSERT_TRUE(h_.store
                  .SetColumns(kCaller, view,
                              {PR_SUBJECT, PR_NULL, PR_BODY, PR_SUBJECT,
                               CHANGE_PROP_TYPE(PR_SUBJECT, PT_UNSPECIFIED),
                               CHANGE_PROP_TYPE(PR_SUBJECT, PT_LONG)},
                              TBL_BATCH)
                  .ok());
  const Row row = h_.store.QueryRows(kCaller, view, 1, 0).value().at(0);
  ASSERT_EQ(row.size(), 6u);
  EXPECT_EQ(row[0], (PropValue{PR_SUBJECT, std::string("hello")}));
  EXPECT_EQ(row[1], PropValue{});
  EXPECT_EQ(row[2], (PropValue{CHANGE_PROP_TYPE(PR_BODY, PT_ERROR),
                               ErrorValue{MAPI_E_NOT_FOUND}}));
  EXPECT_EQ(row[3], row[0]);
  EXPECT_EQ(row[4], row[0]);  // PT_UNSPECIFIED: the stored type.
  EXPECT_EQ(row[5], (PropValue{CHANGE_PROP_TYPE(PR_SUBJECT, PT_ERROR),
                               ErrorValue{MAPI_E_NOT_FOUND}}));
}

TEST_F(StoreTablesTest, SetColumnsKeepsCursorAndBookmarksAndPublishesReload) {
  for (int i = 0; i < 4; ++i) Msg(h_.store, folder_, "m" + std::to_string(i));
  const Store::ViewId view = Contents(folder_);
  h_.AdviseView(kTableConnection, view);
  h_.Take();
  ASSERT_EQ(h_.store.SeekRow(kCaller, view, BOOKMARK_BEGINNING, 1).value(), 1);
  const BOOKMARK mark = h_.store.CreateBookmark(kCaller, view).value();
  ASSERT_EQ(h_.store.SeekRow(kCaller, view, BOOKMARK_BEGINNING, 2).value(), 2);
  ASSERT_TRUE(h_.store.SetColumns(kCaller, view, {PR_SUBJECT}, 0).ok());
  const std::vector<v1::Delivered> got = h_.Take();
  ASSERT_EQ(got.size(), 1u);  // A batch of its own.
  EXPECT_TRUE(got[0].ends_batch());
  EXPECT_EQ(TableOf(got[0]).table_event, TABLE_RELOAD);
  EXPECT_EQ(std::vector<uint64_t>(got[0].connections().begin(),
                                  got[0].connections().end()),
            (std::vector<uint64_t>{kStoreWide, kTableConnection}));
  EXPECT_EQ(Texts(h_.store.QueryRows(kCaller, view, 1, 0).value(), 0),
            std::vector<std::string>{"m2"});
  ASSERT_TRUE(h_.store.SeekRow(kCaller, view, mark, 0).ok());
  EXPECT_EQ(Texts(h_.store.QueryRows(kCaller, view, 1, 0).value(), 0),
            std::vector<std::string>{"m1"});
  // Empty: refused, nothing published, columns unchanged.
  EXPECT_EQ(Scode(h_.store.SetColumns(kCaller, view, {}, 0)),
            MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(Scode(h_.store.SetColumns(kCaller, view,
                                      std::vector<ULONG>(4097, PR_SUBJECT), 0)),
            MAPI_E_INVALID_PARAMETER);
  EXPECT_TRUE(h_.Take().empty());
  EXPECT_EQ(h_.store.QueryColumns(kCaller, view, 0).value(),
            std::vector<ULONG>{PR_SUBJECT});
}

TEST_F(StoreTablesTest, QueryColumnsAllColumns) {
  Msg(h_.store, folder_, "a", 0, {{PR_RANK, int32_t{3}}});
  const Store::ViewId view = Contents(folder_);
  const std::vector<ULONG> all =
      h_.store.QueryColumns(kCaller, view, TBL_ALL_COLUMNS).value();
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end()));
  EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end());
  for (ULONG tag : {PR_RANK, PR_SUBJECT, PR_INSTANCE_KEY, PR_ENTRYID,
                    PR_PARENT_ENTRYID, PR_MESSAGE_SIZE, PR_STORE_ENTRYID}) {
    EXPECT_EQ(std::count(all.begin(), all.end(), tag), 1) << std::hex << tag;
  }
  EXPECT_EQ(std::count(all.begin(), all.end(), PR_DISPLAY_NAME), 0);
  // Defaults count even in an empty folder.
  const EntryId empty =
      h_.store.CreateFolder(h_.store.ipm_subtree_id(), "E", "", 0).value();
  const std::vector<ULONG> none =
      h_.store.QueryColumns(kCaller, Hierarchy(empty), TBL_ALL_COLUMNS).value();
  EXPECT_TRUE(std::is_sorted(none.begin(), none.end()));
  for (ULONG tag : {PR_INSTANCE_KEY, PR_ENTRYID, PR_DISPLAY_NAME, PR_DEPTH,
                    PR_CONTENT_COUNT, PR_CONTENT_UNREAD, PR_SUBFOLDERS}) {
    EXPECT_EQ(std::count(none.begin(), none.end(), tag), 1) << std::hex << tag;
  }
  EXPECT_EQ(none.size(), 7u);
  EXPECT_EQ(Scode(h_.store.QueryColumns(kCaller, view, 2)),
            MAPI_E_UNKNOWN_FLAGS);
}

// --- Restriction and sort order.

TEST_F(StoreTablesTest, RestrictFiltersResetsCursorAndDiscardsBookmarks) {
  Msg(h_.store, folder_, "apple", 0);
  Msg(h_.store, folder_, "Banana");
  Msg(h_.store, folder_, "cherry", 0);
  const Store::ViewId view = Contents(folder_);
  ASSERT_TRUE(h_.store.SeekRow(kCaller, view, BOOKMARK_END, 0).ok());
  const BOOKMARK mark = h_.store.CreateBookmark(kCaller, view).value();
  ASSERT_TRUE(
      h_.store
          .Restrict(
              kCaller, view,
              Restriction::Bitmask(BMR_EQZ, PR_MESSAGE_FLAGS, MSGFLAG_READ), 0)
          .ok());
  EXPECT_EQ(h_.store.QueryPosition(kCaller, view).value().row, 0u);
  EXPECT_EQ(Scode(h_.store.SeekRow(kCaller, view, mark, 0)),
            MAPI_E_INVALID_BOOKMARK);
  EXPECT_EQ(AllTexts(h_.store, view, 2),
            (std::vector<std::string>{"apple", "cherry"}));
  EXPECT_EQ(h_.store.GetRowCount(kCaller, view, 0).value(), 2u);
  ASSERT_TRUE(h_.store
                  .Restrict(kCaller, view,
                            Restriction::Content(
                                FL_SUBSTRING | FL_IGNORECASE, PR_SUBJECT,
                                {PR_SUBJECT, std::string("AN")}),
                            0)
                  .ok());
  EXPECT_EQ(AllTexts(h_.store, view, 2), std::vector<std::string>{"Banana"});
  ASSERT_TRUE(h_.store.Restrict(kCaller, view, std::nullopt, 0).ok());
  EXPECT_EQ(h_.store.GetRowCount(kCaller, view, 0).value(), 3u);
  // Errors: the view is unchanged.
  EXPECT_EQ(Scode(h_.store.Restrict(
                kCaller, view,
                Restriction::Property(RELOP_RE, PR_SUBJECT,
                                      {PR_SUBJECT, std::string("a")}),
                0)),
            MAPI_E_TOO_COMPLEX);
  Restriction bad;
  bad.type = 42;
  EXPECT_EQ(Scode(h_.store.Restrict(kCaller, view, bad, 0)),
            MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(h_.store.GetRowCount(kCaller, view, 0).value(), 3u);
}

TEST_F(StoreTablesTest, SortTableByKeysAscendingAndDescendingWithTieBreak) {
  Msg(h_.store, folder_, "b", 0, {{PR_RANK, int32_t{1}}});  // 0
  Msg(h_.store, folder_, "a", 0, {{PR_RANK, int32_t{2}}});  // 1
  Msg(h_.store, folder_, "B", 0, {{PR_RANK, int32_t{1}}});  // 2
  Msg(h_.store, folder_, "a", 0);                           // 3, no rank
  Msg(h_.store, folder_, "b", 0, {{PR_RANK, int32_t{1}}});  // 4
  const Store::ViewId view = Contents(folder_);
  ASSERT_TRUE(
      h_.store.SetColumns(kCaller, view, {PR_SUBJECT, PR_RANK}, 0).ok());
  const SortOrderSet sort = {{PR_RANK, TABLE_SORT_DESCEND},
                             {PR_SUBJECT, TABLE_SORT_ASCEND}};
  ASSERT_TRUE(h_.store.SortTable(kCaller, view, sort, 0).ok());
  EXPECT_EQ(h_.store.QuerySortOrder(kCaller, view).value(), sort);
  // Rank 2; rank 1: "B" < "b" (fold equal, then bytes), the two "b" by
  // creation; no rank last (descending).
  const std::vector<Row> rows =
      h_.store.QueryRows(kCaller, view, 10, 0).value();
  EXPECT_EQ(Texts(rows, 0),
            (std::vector<std::string>{"a", "B", "b", "b", "a"}));
  EXPECT_EQ(rows[2][1], (PropValue{PR_RANK, int32_t{1}}));
  EXPECT_EQ(rows[4][1], (PropValue{CHANGE_PROP_TYPE(PR_RANK, PT_ERROR),
                                   ErrorValue{MAPI_E_NOT_FOUND}}));
  // Tie-break: creation order, also when the key is descending.
  ASSERT_TRUE(
      h_.store.SortTable(kCaller, view, {{PR_RANK, TABLE_SORT_DESCEND}}, 0)
          .ok());
  const std::vector<Row> by_rank =
      h_.store.QueryRows(kCaller, view, 10, 0).value();
  EXPECT_EQ(Texts(by_rank, 0),
            (std::vector<std::string>{"a", "b", "B", "b", "a"}));
  // The default order again.
  ASSERT_TRUE(h_.store.SortTable(kCaller, view, {}, 0).ok());
  EXPECT_EQ(AllTexts(h_.store, view, 0),
            (std::vector<std::string>{"b", "a", "B", "a", "b"}));
  // Errors.
  EXPECT_EQ(Scode(h_.store.SortTable(kCaller, view,
                                     SortOrderSet(17, {PR_SUBJECT, 0}), 0)),
            MAPI_E_TOO_COMPLEX);
  EXPECT_EQ(Scode(h_.store.SortTable(kCaller, view,
                                     {{PROP_TAG(PT_MV_LONG, 0x6601), 0}}, 0)),
            MAPI_E_TOO_COMPLEX);
  EXPECT_EQ(Scode(h_.store.SortTable(kCaller, view, {{PR_SUBJECT, 4}}, 0)),
            MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(Scode(h_.store.SortTable(kCaller, view, {}, 4)),
            MAPI_E_UNKNOWN_FLAGS);
  EXPECT_EQ(h_.store.QuerySortOrder(kCaller, view).value(), SortOrderSet{});
}

TEST_F(StoreTablesTest, AsyncChangesPublishDoneOrErrorEvents) {
  Msg(h_.store, folder_, "x");
  const Store::ViewId view = Contents(folder_);
  h_.AdviseView(kTableConnection, view);
  h_.Take();
  const auto only_event = [&]() {
    const std::vector<v1::Delivered> got = For(h_.Take(), kTableConnection);
    EXPECT_EQ(got.size(), 1u);
    return got.empty() ? TableNotification() : TableOf(got[0]);
  };
  ASSERT_TRUE(h_.store.SetColumns(kCaller, view, {PR_SUBJECT}, TBL_ASYNC).ok());
  EXPECT_EQ(only_event().table_event, TABLE_SETCOL_DONE);
  EXPECT_EQ(h_.store.QueryColumns(kCaller, view, 0).value(),
            std::vector<ULONG>{PR_SUBJECT});
  ASSERT_TRUE(
      h_.store
          .Restrict(kCaller, view, Restriction::Exist(PR_SUBJECT), TBL_ASYNC)
          .ok());
  EXPECT_EQ(only_event().table_event, TABLE_RESTRICT_DONE);
  ASSERT_TRUE(h_.store
                  .SortTable(kCaller, view, {{PR_SUBJECT, TABLE_SORT_DESCEND}},
                             TBL_ASYNC | TBL_BATCH)
                  .ok());
  EXPECT_EQ(only_event().table_event, TABLE_SORT_DONE);
  // Failures: OK, TABLE_ERROR with the SCODE, the view unchanged.
  ASSERT_TRUE(h_.store.SetColumns(kCaller, view, {}, TBL_ASYNC).ok());
  TableNotification e = only_event();
  EXPECT_EQ(e.table_event, TABLE_ERROR);
  EXPECT_EQ(e.hresult, MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(e.row, Row{});
  EXPECT_EQ(e.index_key.tag, PR_NULL);
  Restriction bad;
  bad.type = 42;
  ASSERT_TRUE(h_.store.Restrict(kCaller, view, bad, TBL_ASYNC).ok());
  e = only_event();
  EXPECT_EQ(e.table_event, TABLE_ERROR);
  EXPECT_EQ(e.hresult, MAPI_E_INVALID_PARAMETER);
  ASSERT_TRUE(h_.store
                  .SortTable(kCaller, view, SortOrderSet(20, {PR_SUBJECT, 0}),
                             TBL_ASYNC)
                  .ok());
  e = only_event();
  EXPECT_EQ(e.table_event, TABLE_ERROR);
  EXPECT_EQ(e.hresult, MAPI_E_TOO_COMPLEX);
  EXPECT_EQ(h_.store.QuerySortOrder(kCaller, view).value(),
            (SortOrderSet{{PR_SUBJECT, TABLE_SORT_DESCEND}}));
  EXPECT_EQ(h_.store.GetRowCount(kCaller, view, 0).value(), 1u);
  // Still direct: an unknown view, another session's, unknown flags.
  EXPECT_EQ(Scode(h_.store.SetColumns(kCaller, view + 100, {}, TBL_ASYNC)),
            MAPI_E_NOT_FOUND);
  EXPECT_EQ(Scode(h_.store.Restrict(kOther, view, std::nullopt, TBL_ASYNC)),
            MAPI_E_NOT_FOUND);
  EXPECT_EQ(Scode(h_.store.SortTable(kCaller, view, {}, TBL_ASYNC | 0x100)),
            MAPI_E_UNKNOWN_FLAGS);
  EXPECT_TRUE(h_.Take().empty());
}

// --- The cursor.

TEST_F(StoreTablesTest, QueryRowsSeekRowAndFindRow) {
  for (const char* s : {"a", "b", "c", "d", "e"}) Msg(h_.store, folder_, s);
  const Store::ViewId view = Contents(folder_);
  ASSERT_TRUE(h_.store.SetColumns(kCaller, view, {PR_SUBJECT}, 0).ok());
  Store& st = h_.store;
  EXPECT_EQ(Texts(st.QueryRows(kCaller, view, 2, TBL_NOADVANCE).value(), 0),
            (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(Texts(st.QueryRows(kCaller, view, 2, 0).value(), 0),
            (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(Texts(st.QueryRows(kCaller, view, -1, 0).value(), 0),
            (std::vector<std::string>{"b"}));
  EXPECT_EQ(st.QueryPosition(kCaller, view).value().row, 1u);
  EXPECT_EQ(Scode(st.QueryRows(kCaller, view, 0, 0)), MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(Scode(st.QueryRows(kCaller, view, 1, 2)), MAPI_E_UNKNOWN_FLAGS);
  EXPECT_EQ(st.SeekRow(kCaller, view, BOOKMARK_CURRENT, 10).value(), 4);
  EXPECT_TRUE(st.QueryRows(kCaller, view, 3, 0).value().empty());
  EXPECT_EQ(st.SeekRow(kCaller, view, BOOKMARK_END, -10).value(), -5);
  EXPECT_EQ(st.SeekRow(kCaller, view, BOOKMARK_BEGINNING, 2).value(), 2);
  const Restriction vowel =
      Restriction::Or({Restriction::Property(RELOP_EQ, PR_SUBJECT,
                                             {PR_SUBJECT, std::string("a")}),
                       Restriction::Property(RELOP_EQ, PR_SUBJECT,
                                             {PR_SUBJECT, std::string("e")})});
  ASSERT_TRUE(st.FindRow(kCaller, view, vowel, BOOKMARK_CURRENT, 0).ok());
  EXPECT_EQ(Texts(st.QueryRows(kCaller, view, 1, TBL_NOADVANCE).value(), 0),
            std::vector<std::string>{"e"});
  ASSERT_TRUE(
      st.FindRow(kCaller, view, vowel, BOOKMARK_CURRENT, DIR_BACKWARD).ok());
  EXPECT_EQ(Texts(st.QueryRows(kCaller, view, 1, TBL_NOADVANCE).value(), 0),
            std::vector<std::string>{"a"});
  EXPECT_EQ(
      Scode(st.FindRow(kCaller, view, vowel, BOOKMARK_CURRENT, DIR_BACKWARD)),
      MAPI_E_NOT_FOUND);
  EXPECT_EQ(st.QueryPosition(kCaller, view).value().row, 0u);
  // FindRow sees every property of the row, not only the columns.
  ASSERT_TRUE(
      st.FindRow(kCaller, view,
                 Restriction::Property(
                     RELOP_EQ, PR_INSTANCE_KEY,
                     InstanceKeyOf(st.ListMessages(folder_).value().at(3))),
                 BOOKMARK_BEGINNING, 0)
          .ok());
  EXPECT_EQ(st.QueryPosition(kCaller, view).value().row, 3u);
  Restriction bad;
  bad.type = RES_NOT;
  EXPECT_EQ(Scode(st.FindRow(kCaller, view, bad, BOOKMARK_BEGINNING, 0)),
            MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(Scode(st.FindRow(kCaller, view, vowel, BOOKMARK_BEGINNING, 2)),
            MAPI_E_UNKNOWN_FLAGS);
  EXPECT_EQ(Scode(st.FindRow(kCaller, view, vowel, 99, 0)),
            MAPI_E_INVALID_BOOKMARK);
}

TEST_F(StoreTablesTest, BookmarksAcrossStoreChanges) {
  std::vector<EntryId> ids;
  for (const char* s : {"a", "b", "c"})
    ids.push_back(Msg(h_.store, folder_, s));
  const Store::ViewId view = Contents(folder_);
  ASSERT_TRUE(h_.store.SetColumns(kCaller, view, {PR_SUBJECT}, 0).ok());
  ASSERT_TRUE(h_.store.SeekRow(kCaller, view, BOOKMARK_BEGINNING, 1).ok());
  const BOOKMARK on_b = h_.store.CreateBookmark(kCaller, view).value();
  Msg(h_.store, folder_, "d");
  ASSERT_TRUE(h_.store.DeleteMessages(folder_, {ids[0]}, 0).ok());
  SCODE warning = -1;
  EXPECT_EQ(h_.store.SeekRow(kCaller, view, on_b, 0, &warning).value(), 0);
  EXPECT_EQ(warning, S_OK);
  EXPECT_EQ(
      Texts(h_.store.QueryRows(kCaller, view, 1, TBL_NOADVANCE).value(), 0),
      std::vector<std::string>{"b"});
  ASSERT_TRUE(h_.store.DeleteMessages(folder_, {ids[1]}, 0).ok());
  ASSERT_TRUE(h_.store
                  .FindRow(kCaller, view, Restriction::Exist(PR_SUBJECT), on_b,
                           0, &warning)
                  .ok());
  EXPECT_EQ(warning, MAPI_W_POSITION_CHANGED);
  EXPECT_EQ(
      Texts(h_.store.QueryRows(kCaller, view, 1, TBL_NOADVANCE).value(), 0),
      std::vector<std::string>{"c"});
  ASSERT_TRUE(h_.store.FreeBookmark(kCaller, view, on_b).ok());
  EXPECT_EQ(Scode(h_.store.FreeBookmark(kCaller, view, on_b)),
            MAPI_E_INVALID_BOOKMARK);
  EXPECT_TRUE(h_.store.FreeBookmark(kCaller, view, BOOKMARK_END).ok());
}

TEST_F(StoreTablesTest, BookmarkLimit) {
  Msg(h_.store, folder_, "a");
  const Store::ViewId view = Contents(folder_);
  for (size_t i = 0; i < Store::kMaxBookmarksPerView; ++i) {
    ASSERT_TRUE(h_.store.CreateBookmark(kCaller, view).ok());
  }
  EXPECT_EQ(Scode(h_.store.CreateBookmark(kCaller, view)),
            MAPI_E_UNABLE_TO_COMPLETE);
}

TEST_F(StoreTablesTest, TwoViewsOfOneFolderMoveIndependently) {
  for (const char* s : {"c", "a", "b"}) Msg(h_.store, folder_, s);
  const Store::ViewId one = Contents(folder_);
  const Store::ViewId two = Contents(folder_);
  ASSERT_NE(one, two);
  ASSERT_TRUE(h_.store.SetColumns(kCaller, one, {PR_SUBJECT}, 0).ok());
  ASSERT_TRUE(h_.store.SetColumns(kCaller, two, {PR_SUBJECT}, 0).ok());
  ASSERT_TRUE(
      h_.store.SortTable(kCaller, two, {{PR_SUBJECT, TABLE_SORT_ASCEND}}, 0)
          .ok());
  EXPECT_EQ(Texts(h_.store.QueryRows(kCaller, one, 2, 0).value(), 0),
            (std::vector<std::string>{"c", "a"}));
  EXPECT_EQ(Texts(h_.store.QueryRows(kCaller, two, 1, 0).value(), 0),
            std::vector<std::string>{"a"});
  EXPECT_EQ(Texts(h_.store.QueryRows(kCaller, one, 5, 0).value(), 0),
            std::vector<std::string>{"b"});
  EXPECT_EQ(Texts(h_.store.QueryRows(kCaller, two, 5, 0).value(), 0),
            (std::vector<std::string>{"b", "c"}));
  // Another thread of the session shares each view's cursor.
  const CallContext other_thread{kCaller.session, 2};
  ASSERT_TRUE(h_.store.SeekRow(other_thread, one, BOOKMARK_BEGINNING, 1).ok());
  EXPECT_EQ(h_.store.QueryPosition(kCaller, one).value().row, 1u);
  EXPECT_EQ(h_.store.QueryPosition(kCaller, two).value().row, 3u);
}

TEST_F(StoreTablesTest, ThreadsOfOneViewShareItsCursor) {
  constexpr int kRows = 300;
  for (int i = 0; i < kRows; ++i) Msg(h_.store, folder_, std::to_string(i));
  const Store::ViewId view = Contents(folder_);
  ASSERT_TRUE(h_.store.SetColumns(kCaller, view, {PR_SUBJECT}, 0).ok());
  std::vector<std::string> got[2];
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      const CallContext caller{kCaller.session, static_cast<uint64_t>(t + 1)};
      while (true) {
        absl::StatusOr<std::vector<Row>> rows =
            h_.store.QueryRows(caller, view, 1, 0);
        ASSERT_TRUE(rows.ok()) << rows.status();
        if (rows->empty()) return;
        ASSERT_EQ(rows->size(), 1u);
        got[t].push_back(Text(rows->at(0).at(0)));
      }
    });
  }
  for (std::thread& t : threads) t.join();
  std::multiset<std::string> all(got[0].begin(), got[0].end());
  all.insert(got[1].begin(), got[1].end());
  EXPECT_EQ(all.size(), static_cast<size_t>(kRows));
  for (int i = 0; i < kRows; ++i) {
    EXPECT_EQ(all.count(std::to_string(i)), 1u) << i;
  }
  // Each thread saw its rows in table (creation) order.
  for (const std::vector<std::string>& g : got) {
    for (size_t i = 1; i < g.size(); ++i) {
      EXPECT_LT(std::stoi(g[i - 1]), std::stoi(g[i]));
    }
  }
}

// --- Errors, sessions, limits.

TEST_F(StoreTablesTest, ErrorsForUnknownForeignAndBadViews) {
  const Store::ViewId view = Contents(folder_);
  Store& s = h_.store;
  for (const CallContext& caller : {kOther, CallContext{"", 1}}) {
    SCOPED_TRACE(caller.session);
    EXPECT_EQ(Scode(s.GetRowCount(caller, view, 0)), MAPI_E_NOT_FOUND);
    EXPECT_EQ(Scode(s.QueryRows(caller, view, 1, 0)), MAPI_E_NOT_FOUND);
    EXPECT_EQ(Scode(s.SeekRow(caller, view, BOOKMARK_BEGINNING, 0)),
              MAPI_E_NOT_FOUND);
    EXPECT_EQ(Scode(s.QueryPosition(caller, view)), MAPI_E_NOT_FOUND);
    EXPECT_EQ(Scode(s.CreateBookmark(caller, view)), MAPI_E_NOT_FOUND);
    EXPECT_EQ(Scode(s.FreeBookmark(caller, view, 5)), MAPI_E_NOT_FOUND);
    EXPECT_EQ(Scode(s.FindRow(caller, view, Restriction::And({}),
                              BOOKMARK_BEGINNING, 0)),
              MAPI_E_NOT_FOUND);
    EXPECT_EQ(Scode(s.SetColumns(caller, view, {PR_SUBJECT}, 0)),
              MAPI_E_NOT_FOUND);
    EXPECT_EQ(Scode(s.QueryColumns(caller, view, 0)), MAPI_E_NOT_FOUND);
    EXPECT_EQ(Scode(s.Restrict(caller, view, std::nullopt, 0)),
              MAPI_E_NOT_FOUND);
    EXPECT_EQ(Scode(s.SortTable(caller, view, {}, 0)), MAPI_E_NOT_FOUND);
    EXPECT_EQ(Scode(s.QuerySortOrder(caller, view)), MAPI_E_NOT_FOUND);
    EXPECT_EQ(Scode(s.QueryAllRows(caller, view, 10, 1000)), MAPI_E_NOT_FOUND);
    EXPECT_EQ(Scode(s.CloseTable(caller, view)), MAPI_E_NOT_FOUND);
  }
  EXPECT_TRUE(s.TableExists(view).ok());
  EXPECT_EQ(Scode(s.TableExists(view + 1)), MAPI_E_NOT_FOUND);
  EXPECT_EQ(Scode(s.GetRowCount(kCaller, view + 1, 0)), MAPI_E_NOT_FOUND);
  EXPECT_EQ(Scode(s.GetRowCount(kCaller, view, 1)), MAPI_E_UNKNOWN_FLAGS);
  // Opening.
  EXPECT_EQ(Scode(s.OpenContentsTable(CallContext{"", 1}, folder_, 0)),
            MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(Scode(s.OpenContentsTable(kCaller, folder_, CONVENIENT_DEPTH)),
            MAPI_E_UNKNOWN_FLAGS);
  EXPECT_EQ(Scode(s.OpenHierarchyTable(kCaller, folder_, 0x100)),
            MAPI_E_UNKNOWN_FLAGS);
  const EntryId message = Msg(s, folder_, "m");
  EXPECT_EQ(Scode(s.OpenContentsTable(kCaller, message, 0)),
            MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(Scode(s.OpenHierarchyTable(kCaller, "junk", 0)),
            MAPI_E_INVALID_ENTRYID);
  ASSERT_TRUE(s.DeleteMessages(folder_, {message}, 0).ok());
  // Closing.
  ASSERT_TRUE(s.CloseTable(kCaller, view).ok());
  EXPECT_EQ(Scode(s.CloseTable(kCaller, view)), MAPI_E_NOT_FOUND);
  EXPECT_EQ(Scode(s.TableExists(view)), MAPI_E_NOT_FOUND);
  EXPECT_EQ(Scode(s.GetRowCount(kCaller, view, 0)), MAPI_E_NOT_FOUND);
}

TEST(StoreTablesLimitTest, ViewsPerSessionAreLimited) {
  Store::Options options;
  options.max_views_per_session = 2;
  Store store(options);
  const EntryId inbox = store.inbox_id();
  const Store::ViewId a = store.OpenContentsTable(kCaller, inbox, 0).value();
  ASSERT_TRUE(store.OpenHierarchyTable(kCaller, inbox, 0).ok());
  EXPECT_EQ(Scode(store.OpenContentsTable(kCaller, inbox, 0)),
            MAPI_E_NOT_ENOUGH_RESOURCES);
  EXPECT_TRUE(store.OpenContentsTable(kOther, inbox, 0).ok());
  ASSERT_TRUE(store.CloseTable(kCaller, a).ok());
  EXPECT_TRUE(store.OpenContentsTable(kCaller, inbox, 0).ok());
  store.ReleaseSession(kCaller.session);
  EXPECT_TRUE(store.OpenContentsTable(kCaller, inbox, 0).ok());
  EXPECT_TRUE(store.OpenContentsTable(kCaller, inbox, 0).ok());
}

TEST(StoreTablesLimitTest, WithoutAHubViewsStillFollowTheStore) {
  Store store{Store::Options()};
  const Store::ViewId view =
      store.OpenContentsTable(kCaller, store.inbox_id(), 0).value();
  ASSERT_TRUE(store.DeliverNewMail({{PR_SUBJECT, std::string("hi")}}).ok());
  const Store::TableSnapshot all =
      store.QueryAllRows(kCaller, view, 10, 100000).value();
  EXPECT_EQ(all.sequence, 0u);
  ASSERT_EQ(all.rows.size(), 1u);
  EXPECT_EQ(Text(all.rows[0][2]), "hi");
}

TEST_F(StoreTablesTest, ReleaseSessionClosesItsViewsOnly) {
  const Store::ViewId mine = Contents(folder_);
  const Store::ViewId theirs =
      h_.store.OpenContentsTable(kOther, folder_, 0).value();
  h_.AdviseView(kTableConnection, mine);
  h_.AdviseView(kTableConnection + 1, theirs);
  h_.Take();
  h_.store.ReleaseSession(kCaller.session);
  EXPECT_EQ(Scode(h_.store.TableExists(mine)), MAPI_E_NOT_FOUND);
  EXPECT_EQ(Scode(h_.store.GetRowCount(kCaller, mine, 0)), MAPI_E_NOT_FOUND);
  EXPECT_TRUE(h_.store.TableExists(theirs).ok());
  Msg(h_.store, folder_, "after");
  const std::vector<v1::Delivered> got = h_.Take();
  EXPECT_TRUE(For(got, kTableConnection).empty());
  EXPECT_EQ(For(got, kTableConnection + 1).size(), 1u);
}

TEST_F(StoreTablesTest, QueryAllRowsSnapshotAndLimits) {
  for (int i = 0; i < 3; ++i) Msg(h_.store, folder_, std::to_string(i));
  const Store::ViewId view = Contents(folder_);
  ASSERT_TRUE(
      h_.store.SetColumns(kCaller, view, {PR_SUBJECT, PR_NULL}, 0).ok());
  ASSERT_TRUE(h_.store.SeekRow(kCaller, view, BOOKMARK_BEGINNING, 1).ok());
  const Store::TableSnapshot snapshot =
      h_.store.QueryAllRows(kCaller, view, 3, 1000).value();
  EXPECT_EQ(snapshot.columns, (std::vector<ULONG>{PR_SUBJECT, PR_NULL}));
  EXPECT_EQ(Texts(snapshot.rows, 0), (std::vector<std::string>{"0", "1", "2"}));
  EXPECT_EQ(snapshot.sequence, h_.hub.last_sequence());
  EXPECT_GT(snapshot.sequence, 0u);
  EXPECT_EQ(h_.store.QueryPosition(kCaller, view).value().row, 1u);
  EXPECT_EQ(Scode(h_.store.QueryAllRows(kCaller, view, 2, 1000)),
            MAPI_E_TABLE_TOO_BIG);
  // Each row, as RowByteSize bounds its wire size: two values' framing and
  // the one byte of "n".
  const size_t row = 2 * kWireBytesPerValue + 1;
  EXPECT_TRUE(h_.store.QueryAllRows(kCaller, view, 3, 3 * row).ok());
  EXPECT_EQ(Scode(h_.store.QueryAllRows(kCaller, view, 3, 3 * row - 1)),
            MAPI_E_TABLE_TOO_BIG);
}

}  // namespace
}  // namespace mapinotify::server::store
