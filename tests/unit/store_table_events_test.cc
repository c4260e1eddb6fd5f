// The table notifications of store changes (Store, "Tables" in
// server/store/store.h): rows added, modified (sorted and restricted
// columns), deleted, moved in and out, copied; many changes as one
// TABLE_CHANGED; a deleted folder's views; hierarchy views following
// counters and moved subtrees; where table events stand in a batch; and
// changes no view shows publishing nothing.
#include <cstdint>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "mapinotify/mapi.h"
#include "mapinotify/status.h"
#include "mapinotify/table_types.h"
#include "server/store/store.h"
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

// --- Table notifications.

TEST_F(StoreTablesTest, CreateAddsARowAfterTheObjectNotifications) {
  const EntryId first = Msg(h_.store, folder_, "first");
  const Store::ViewId view = Contents(folder_);
  h_.AdviseView(kTableConnection, view);
  h_.Take();
  const EntryId second = Msg(h_.store, folder_, "second", 0);
  const std::vector<v1::Delivered> got = h_.Take();
  // Created, the folder's counters, then the row.
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].notification().event_type(), v1::fnevObjectCreated);
  EXPECT_EQ(got[1].notification().event_type(), v1::fnevObjectModified);
  EXPECT_EQ(got[2].notification().event_type(), v1::fnevTableModified);
  EXPECT_TRUE(got[2].ends_batch());
  EXPECT_EQ(got[2].sequence(), got[1].sequence() + 1);
  EXPECT_EQ(std::vector<uint64_t>(got[2].connections().begin(),
                                  got[2].connections().end()),
            (std::vector<uint64_t>{kStoreWide, kTableConnection}));
  EXPECT_EQ(For(got, kTableConnection).size(), 1u);
  const TableNotification e = TableOf(got[2]);
  EXPECT_EQ(e.table_event, TABLE_ROW_ADDED);
  EXPECT_EQ(e.hresult, S_OK);
  EXPECT_EQ(e.index_key, InstanceKeyOf(second));
  EXPECT_EQ(e.prior_key, InstanceKeyOf(first));
  const Store::TableSnapshot all =
      h_.store.QueryAllRows(kCaller, view, 10, 100000).value();
  EXPECT_EQ(e.row, all.rows.at(1));
  // A row first in the order has a PR_NULL prior.
  ASSERT_TRUE(
      h_.store.SortTable(kCaller, view, {{PR_SUBJECT, TABLE_SORT_ASCEND}}, 0)
          .ok());
  h_.Take();
  const EntryId third = Msg(h_.store, folder_, "a third");
  const std::vector<TableNotification> events = TableEvents(kTableConnection);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].index_key, InstanceKeyOf(third));
  EXPECT_EQ(events[0].prior_key, PropValue{});
}

TEST_F(StoreTablesTest, ModifyingASortedColumnMovesTheRow) {
  const EntryId a = Msg(h_.store, folder_, "a");
  const EntryId b = Msg(h_.store, folder_, "b");
  const EntryId c = Msg(h_.store, folder_, "c");
  const Store::ViewId view = Contents(folder_);
  ASSERT_TRUE(
      h_.store.SetColumns(kCaller, view, {PR_INSTANCE_KEY, PR_SUBJECT}, 0)
          .ok());
  ASSERT_TRUE(
      h_.store.SortTable(kCaller, view, {{PR_SUBJECT, TABLE_SORT_ASCEND}}, 0)
          .ok());
  h_.AdviseView(kTableConnection, view);
  h_.Take();
  testing::SetProps(h_.store, kCaller, a, {{PR_SUBJECT, std::string("z")}});
  std::vector<TableNotification> events = TableEvents(kTableConnection);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].table_event, TABLE_ROW_MODIFIED);
  EXPECT_EQ(events[0].index_key, InstanceKeyOf(a));
  EXPECT_EQ(events[0].prior_key, InstanceKeyOf(c));
  EXPECT_EQ(events[0].row,
            (Row{InstanceKeyOf(a), {PR_SUBJECT, std::string("z")}}));
  // Changed in place: MODIFIED with the same prior.
  testing::SetProps(h_.store, kCaller, c, {{PR_SUBJECT, std::string("cc")}});
  events = TableEvents(kTableConnection);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].table_event, TABLE_ROW_MODIFIED);
  EXPECT_EQ(events[0].prior_key, InstanceKeyOf(b));
  // A property the view does not show, sort or restrict on: nothing.
  testing::SetProps(h_.store, kCaller, c, {{PR_BODY, std::string("body")}});
  EXPECT_TRUE(TableEvents(kTableConnection).empty());
  EXPECT_EQ(AllTexts(h_.store, view, 1),
            (std::vector<std::string>{"b", "cc", "z"}));
}

TEST_F(StoreTablesTest, RestrictedColumnChangesAddAndDeleteRows) {
  const EntryId a = Msg(h_.store, folder_, "a", 0);
  const EntryId b = Msg(h_.store, folder_, "b", 0);
  const Store::ViewId unread = Contents(folder_);
  ASSERT_TRUE(
      h_.store
          .Restrict(
              kCaller, unread,
              Restriction::Bitmask(BMR_EQZ, PR_MESSAGE_FLAGS, MSGFLAG_READ), 0)
          .ok());
  h_.AdviseView(kTableConnection, unread);
  h_.Take();
  ASSERT_TRUE(h_.store.SetReadFlags(folder_, {a}, 0).ok());
  std::vector<TableNotification> events = TableEvents(kTableConnection);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].table_event, TABLE_ROW_DELETED);
  EXPECT_EQ(events[0].index_key, InstanceKeyOf(a));
  EXPECT_EQ(events[0].prior_key, PropValue{});
  EXPECT_TRUE(events[0].row.empty());
  ASSERT_TRUE(h_.store.SetReadFlags(folder_, {a}, CLEAR_READ_FLAG).ok());
  events = TableEvents(kTableConnection);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].table_event, TABLE_ROW_ADDED);
  EXPECT_EQ(events[0].index_key, InstanceKeyOf(a));
  EXPECT_EQ(events[0].prior_key, PropValue{});  // a sorts before b.
  ASSERT_TRUE(h_.store.DeleteMessages(folder_, {b}, 0).ok());
  events = TableEvents(kTableConnection);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].table_event, TABLE_ROW_DELETED);
  EXPECT_EQ(events[0].index_key, InstanceKeyOf(b));
}

TEST_F(StoreTablesTest, MoveAndCopyBetweenFoldersInViewOrder) {
  const EntryId g =
      h_.store.CreateFolder(h_.store.ipm_subtree_id(), "G", "", 0).value();
  const EntryId m = Msg(h_.store, folder_, "m");
  const EntryId other = Msg(h_.store, g, "other");
  const Store::ViewId in_f = Contents(folder_);
  const Store::ViewId in_g = Contents(g);
  ASSERT_LT(in_f, in_g);
  h_.AdviseView(kTableConnection, in_f);
  h_.AdviseView(kTableConnection + 1, in_g);
  h_.Take();
  ASSERT_TRUE(h_.store.CopyMessages(folder_, {m}, g, MESSAGE_MOVE).ok());
  const std::vector<v1::Delivered> got = h_.Take();
  const std::vector<EntryId> now_in_g = h_.store.ListMessages(g).value();
  ASSERT_EQ(now_in_g.size(), 2u);
  const EntryId moved = now_in_g[1];
  // Moved, counters of F and G, then F's view, then G's.
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(got[0].notification().event_type(), v1::fnevObjectMoved);
  const TableNotification deleted = TableOf(got[3]);
  EXPECT_EQ(deleted.table_event, TABLE_ROW_DELETED);
  EXPECT_EQ(deleted.index_key, InstanceKeyOf(m));
  EXPECT_EQ(For({got[3]}, kTableConnection).size(), 1u);
  const TableNotification added = TableOf(got[4]);
  EXPECT_EQ(added.table_event, TABLE_ROW_ADDED);
  EXPECT_EQ(added.index_key, InstanceKeyOf(moved));
  EXPECT_EQ(added.prior_key, InstanceKeyOf(other));
  EXPECT_EQ(For({got[4]}, kTableConnection + 1).size(), 1u);
  // A copy: a new row in G only.
  ASSERT_TRUE(h_.store.CopyMessages(g, {other}, g, 0).ok());
  const std::vector<v1::Delivered> copied = h_.Take();
  EXPECT_TRUE(For(copied, kTableConnection).empty());
  const std::vector<v1::Delivered> g_events = For(copied, kTableConnection + 1);
  ASSERT_EQ(g_events.size(), 1u);
  EXPECT_EQ(TableOf(g_events[0]).table_event, TABLE_ROW_ADDED);
  EXPECT_EQ(TableOf(g_events[0]).prior_key, InstanceKeyOf(moved));
}

TEST_F(StoreTablesTest, ManyChangesInOneOperationBecomeOneTableChanged) {
  std::vector<EntryId> ids;
  for (size_t i = 0; i <= Store::kTableChangedThreshold; ++i) {
    ids.push_back(Msg(h_.store, folder_, std::to_string(i)));
  }
  const Store::ViewId view = Contents(folder_);
  h_.AdviseView(kTableConnection, view);
  h_.Take();
  // Exactly the threshold: every event.
  const std::vector<EntryId> some(ids.begin(),
                                  ids.begin() + Store::kTableChangedThreshold);
  ASSERT_TRUE(h_.store.SetReadFlags(folder_, some, CLEAR_READ_FLAG).ok());
  std::vector<TableNotification> events = TableEvents(kTableConnection);
  ASSERT_EQ(events.size(), Store::kTableChangedThreshold);
  for (const TableNotification& e : events) {
    EXPECT_EQ(e.table_event, TABLE_ROW_MODIFIED);
  }
  ASSERT_TRUE(h_.store.SetReadFlags(folder_, {}, CLEAR_READ_FLAG).ok());
  ASSERT_EQ(TableEvents(kTableConnection).size(), 1u);
  // One more than the threshold: one TABLE_CHANGED, and the view is fully
  // up to date.
  ASSERT_TRUE(h_.store.SetReadFlags(folder_, {}, 0).ok());
  events = TableEvents(kTableConnection);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].table_event, TABLE_CHANGED);
  EXPECT_EQ(events[0].index_key.tag, PR_NULL);
  const Store::TableSnapshot all =
      h_.store.QueryAllRows(kCaller, view, 100, 100000).value();
  for (const Row& row : all.rows) {
    EXPECT_EQ(row[4], (PropValue{PR_MESSAGE_FLAGS, int32_t{MSGFLAG_READ}}));
  }
}

TEST_F(StoreTablesTest, DeletingTheFolderDeletesTheRowsThenTheView) {
  const EntryId small =
      h_.store.CreateFolder(h_.store.ipm_subtree_id(), "Small", "", 0).value();
  const EntryId a = Msg(h_.store, small, "a");
  const EntryId b = Msg(h_.store, small, "b");
  for (size_t i = 0; i <= Store::kTableChangedThreshold; ++i) {
    Msg(h_.store, folder_, std::to_string(i));
  }
  const Store::ViewId small_view = Contents(small);
  const Store::ViewId small_tree = Hierarchy(small);
  const Store::ViewId big_view = Contents(folder_);
  h_.AdviseView(kTableConnection, small_view);
  h_.AdviseView(kTableConnection + 1, big_view);
  h_.Take();
  ASSERT_TRUE(
      h_.store.DeleteFolder(h_.store.ipm_subtree_id(), small, DEL_MESSAGES)
          .ok());
  std::vector<TableNotification> events = TableEvents(kTableConnection);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].table_event, TABLE_ROW_DELETED);
  EXPECT_EQ(events[0].index_key, InstanceKeyOf(a));
  EXPECT_EQ(events[1].index_key, InstanceKeyOf(b));
  for (Store::ViewId view : {small_view, small_tree}) {
    EXPECT_EQ(Scode(h_.store.GetRowCount(kCaller, view, 0)),
              MAPI_E_OBJECT_DELETED);
    EXPECT_EQ(Scode(h_.store.QueryRows(kCaller, view, 1, 0)),
              MAPI_E_OBJECT_DELETED);
    EXPECT_EQ(
        Scode(h_.store.SetColumns(kCaller, view, {PR_SUBJECT}, TBL_ASYNC)),
        MAPI_E_OBJECT_DELETED);
    EXPECT_EQ(Scode(h_.store.QueryAllRows(kCaller, view, 10, 1000)),
              MAPI_E_OBJECT_DELETED);
    EXPECT_TRUE(h_.store.TableExists(view).ok());
    EXPECT_EQ(Scode(h_.store.CloseTable(kOther, view)), MAPI_E_NOT_FOUND);
    EXPECT_TRUE(h_.store.CloseTable(kCaller, view).ok());
    EXPECT_EQ(Scode(h_.store.TableExists(view)), MAPI_E_NOT_FOUND);
  }
  // Past the threshold: one TABLE_CHANGED.
  ASSERT_TRUE(
      h_.store.DeleteFolder(h_.store.ipm_subtree_id(), folder_, DEL_MESSAGES)
          .ok());
  events = TableEvents(kTableConnection + 1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].table_event, TABLE_CHANGED);
  EXPECT_EQ(Scode(h_.store.QueryPosition(kCaller, big_view)),
            MAPI_E_OBJECT_DELETED);
}

TEST_F(StoreTablesTest, HierarchyViewsFollowCountersMovesAndSubtrees) {
  Store& s = h_.store;
  const EntryId sub = s.CreateFolder(folder_, "Sub", "", 0).value();
  const EntryId elsewhere =
      s.CreateFolder(s.ipm_subtree_id(), "Elsewhere", "", 0).value();
  const EntryId x = s.CreateFolder(elsewhere, "X", "", 0).value();
  const EntryId y = s.CreateFolder(x, "Y", "", 0).value();
  const Store::ViewId deep = Hierarchy(folder_, CONVENIENT_DEPTH);
  ASSERT_TRUE(
      s.SetColumns(
           kCaller, deep,
           {PR_INSTANCE_KEY, PR_DISPLAY_NAME, PR_DEPTH, PR_CONTENT_COUNT}, 0)
          .ok());
  h_.AdviseView(kTableConnection, deep);
  h_.Take();
  // A message in Sub changes its row's content count.
  Msg(s, sub, "m");
  std::vector<TableNotification> events = TableEvents(kTableConnection);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].table_event, TABLE_ROW_MODIFIED);
  EXPECT_EQ(events[0].index_key, InstanceKeyOf(sub));
  EXPECT_EQ(events[0].row.at(3), (PropValue{PR_CONTENT_COUNT, int32_t{1}}));
  // Moving X (with Y) under Sub brings both in, at depths 2 and 3.
  ASSERT_TRUE(s.CopyFolder(elsewhere, x, sub, "", FOLDER_MOVE).ok());
  events = TableEvents(kTableConnection);
  ASSERT_EQ(events.size(), 2u);  // Sub's PR_SUBFOLDERS is not shown.
  EXPECT_EQ(events[0].table_event, TABLE_ROW_ADDED);
  EXPECT_EQ(events[0].index_key, InstanceKeyOf(x));
  EXPECT_EQ(events[0].prior_key, InstanceKeyOf(sub));
  EXPECT_EQ(events[0].row.at(2), (PropValue{PR_DEPTH, int32_t{2}}));
  EXPECT_EQ(events[1].table_event, TABLE_ROW_ADDED);
  EXPECT_EQ(events[1].index_key, InstanceKeyOf(y));
  EXPECT_EQ(events[1].prior_key, InstanceKeyOf(x));
  EXPECT_EQ(events[1].row.at(2), (PropValue{PR_DEPTH, int32_t{3}}));
  EXPECT_EQ(AllTexts(s, deep, 1), (std::vector<std::string>{"Sub", "X", "Y"}));
  // Moving X up to F re-depths both.
  ASSERT_TRUE(s.CopyFolder(sub, x, folder_, "", FOLDER_MOVE).ok());
  events = TableEvents(kTableConnection);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].table_event, TABLE_ROW_MODIFIED);
  EXPECT_EQ(events[0].row.at(2), (PropValue{PR_DEPTH, int32_t{1}}));
  EXPECT_EQ(events[1].row.at(2), (PropValue{PR_DEPTH, int32_t{2}}));
  // Moving it out removes both.
  ASSERT_TRUE(s.CopyFolder(folder_, x, elsewhere, "", FOLDER_MOVE).ok());
  events = TableEvents(kTableConnection);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].table_event, TABLE_ROW_DELETED);
  EXPECT_EQ(events[0].index_key, InstanceKeyOf(x));
  EXPECT_EQ(events[1].table_event, TABLE_ROW_DELETED);
  EXPECT_EQ(events[1].index_key, InstanceKeyOf(y));
  EXPECT_EQ(AllTexts(s, deep, 1), std::vector<std::string>{"Sub"});
}

TEST_F(StoreTablesTest, NewMailRowComesAfterTheNewMailNotification) {
  const Store::ViewId view = Contents(h_.store.inbox_id());
  h_.AdviseView(kTableConnection, view);
  h_.Take();
  const EntryId mail =
      h_.store.DeliverNewMail({{PR_SUBJECT, std::string("news")}}).value();
  const std::vector<v1::Delivered> got = h_.Take();
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[2].notification().event_type(), v1::fnevNewMail);
  const TableNotification e = TableOf(got[3]);
  EXPECT_EQ(e.table_event, TABLE_ROW_ADDED);
  EXPECT_EQ(e.index_key, InstanceKeyOf(mail));
  EXPECT_EQ(Text(e.row.at(2)), "news");
}

TEST_F(StoreTablesTest, OperationsThatChangeNoRowPublishNoTableEvent) {
  const EntryId m = Msg(h_.store, folder_, "m");
  const Store::ViewId view = Contents(folder_);
  ASSERT_TRUE(h_.store.SetColumns(kCaller, view, {PR_INSTANCE_KEY}, 0).ok());
  const Store::ViewId closed = Contents(folder_);
  h_.AdviseView(kTableConnection, view);
  h_.AdviseView(kTableConnection + 1, closed);
  ASSERT_TRUE(h_.store.CloseTable(kCaller, closed).ok());
  h_.Take();
  // A changed subject the view does not show; a folder change elsewhere.
  testing::SetProps(h_.store, kCaller, m, {{PR_SUBJECT, std::string("n")}});
  ASSERT_TRUE(h_.store.CreateFolder(folder_, "sub", "", 0).ok());
  // Nothing at all: a read flag already set.
  ASSERT_TRUE(h_.store.SetReadFlags(folder_, {m}, 0).ok());
  const std::vector<v1::Delivered> got = h_.Take();
  EXPECT_FALSE(got.empty());
  EXPECT_TRUE(For(got, kTableConnection).empty());
  EXPECT_TRUE(For(got, kTableConnection + 1).empty());
}

}  // namespace
}  // namespace mapinotify::server::store
