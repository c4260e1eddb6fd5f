// Table views and client threads over the wire: two views never share
// anything, even opened by one session on one thread; one view used from
// several client threads of its session shares its one cursor, so rows that
// QueryRows hands out go to exactly one caller each.
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "client/internal/caller.h"
#include "gtest/gtest.h"
#include "mapinotify/session.h"
#include "mapinotify/status.h"
#include "mapinotify/store.h"
#include "mapinotify/table.h"
#include "tests/integration/store_test_util.h"
#include "tests/integration/table_test_util.h"

namespace mapinotify::testing {
namespace {

Strings Subjects(const std::vector<Row>& rows) {
  Strings out;
  for (const Row& row : rows) out.push_back(StringOf(row, PR_SUBJECT));
  return out;
}

Strings Read(Table& table, LONG count) {
  auto rows = table.QueryRows(count);
  EXPECT_TRUE(rows.ok()) << rows.status();
  return rows.ok() ? Subjects(*rows) : Strings{"<error>"};
}

ULONG Position(Table& table) {
  auto position = table.QueryPosition();
  EXPECT_TRUE(position.ok()) << position.status();
  return position.ok() ? position->row : ~0u;
}

class TableThreads : public TableFixture {
 protected:
  void SetUp() override { OpenWithFolder("Threads"); }
};

TEST_F(TableThreads, TwoViewsOfOneFolderOnOneThreadMoveIndependently) {
  for (int i = 0; i < 5; ++i) {
    SaveMessage(*store_, folder_, absl::StrCat("m", i));
  }
  auto first = store_->OpenContentsTable(folder_);
  auto second = store_->OpenContentsTable(folder_);
  ASSERT_TRUE(first.ok() && second.ok());
  Table& v1 = **first;
  Table& v2 = **second;
  EXPECT_NE(v1.view_id(), v2.view_id());

  // Cursors.
  EXPECT_EQ(Read(v1, 2), (Strings{"m0", "m1"}));
  EXPECT_EQ(Read(v2, 1), (Strings{"m0"}));
  EXPECT_EQ(Read(v1, 1), (Strings{"m2"}));
  ASSERT_TRUE(v2.SeekRow(BOOKMARK_END, -1).ok());
  EXPECT_EQ(Read(v2, 1), (Strings{"m4"}));
  EXPECT_EQ(Position(v1), 3u);
  EXPECT_EQ(Position(v2), 5u);

  // Columns, restriction and sort order.
  ASSERT_TRUE(v1.SetColumns({PR_SUBJECT, PR_INSTANCE_KEY}).ok());
  ASSERT_TRUE(
      v1.Restrict(Restriction::Property(RELOP_GE, PR_SUBJECT,
                                        {PR_SUBJECT, std::string("m2")}))
          .ok());
  ASSERT_TRUE(v1.SortTable({{PR_SUBJECT, TABLE_SORT_DESCEND}}).ok());
  auto v2_columns = v2.QueryColumns();
  ASSERT_TRUE(v2_columns.ok()) << v2_columns.status();
  EXPECT_EQ(v2_columns->size(), 7u);  // Still the defaults.
  auto v2_count = v2.GetRowCount();
  ASSERT_TRUE(v2_count.ok()) << v2_count.status();
  EXPECT_EQ(*v2_count, 5u);
  auto v2_sort = v2.QuerySortOrder();
  ASSERT_TRUE(v2_sort.ok()) << v2_sort.status();
  EXPECT_TRUE(v2_sort->empty());
  EXPECT_EQ(Position(v2), 5u);  // v1's Restrict / SortTable reset only v1.
  EXPECT_EQ(Read(v1, 10), (Strings{"m4", "m3", "m2"}));
  ASSERT_TRUE(v2.SeekRow(BOOKMARK_BEGINNING, 0).ok());
  EXPECT_EQ(Read(v2, 10), (Strings{"m0", "m1", "m2", "m3", "m4"}));

  // Bookmarks: v1's do not survive in v2, and freeing one leaves the other
  // view's alone.
  ASSERT_TRUE(v1.SeekRow(BOOKMARK_BEGINNING, 1).ok());
  ASSERT_TRUE(v2.SeekRow(BOOKMARK_BEGINNING, 3).ok());
  auto b1 = v1.CreateBookmark();
  auto b2 = v2.CreateBookmark();
  ASSERT_TRUE(b1.ok() && b2.ok());
  if (*b1 == *b2) {
    ASSERT_TRUE(v1.FreeBookmark(*b1).ok());
    ASSERT_TRUE(v2.SeekRow(*b2, 0).ok());
    EXPECT_EQ(Read(v2, 1), (Strings{"m3"}));
  } else {
    EXPECT_EQ(ScodeOf(v2.SeekRow(*b1, 0).status()), MAPI_E_INVALID_BOOKMARK);
  }

  // Closing one leaves the other open.
  ASSERT_TRUE(v1.Close().ok());
  EXPECT_EQ(ScodeOf(v1.GetRowCount().status()), MAPI_E_NOT_FOUND);
  EXPECT_TRUE(v2.GetRowCount().ok());
}

TEST_F(TableThreads, OneViewUsedFromTwoClientThreadsSharesItsCursor) {
  constexpr int kRows = 300;
  for (int i = 0; i < kRows; ++i) {
    SaveMessage(*store_, folder_, absl::StrCat("m", i));
  }
  // A message opened thread-aware keeps a pending context per client
  // thread: it shows that the server sees the two threads below as two.
  const EntryId probe_id = SaveMessage(*store_, store_->inbox_id(), "probe");
  auto probe =
      store_->OpenMessage(probe_id, MAPI_MODIFY | MAPINOTIFY_THREAD_AWARE);
  ASSERT_TRUE(probe.ok()) << probe.status();
  auto opened = store_->OpenContentsTable(folder_);
  ASSERT_TRUE(opened.ok()) << opened.status();
  Table& table = **opened;
  ASSERT_TRUE(table.SetColumns({PR_INSTANCE_KEY, PR_SUBJECT}).ok());

  // One cursor, not one per thread: a move on one thread is where another
  // thread stands.
  {
    LoopThread t1, t2;
    t1.RunSync([&] { ASSERT_TRUE(table.SeekRow(BOOKMARK_BEGINNING, 7).ok()); });
    ULONG seen_by_t2 = 0;
    t2.RunSync([&] { seen_by_t2 = Position(table); });
    EXPECT_EQ(seen_by_t2, 7u);
    ASSERT_TRUE(table.SeekRow(BOOKMARK_BEGINNING, 0).ok());
  }

  // Each thread reads one row at a time until the table is empty. They
  // take their first row in turn (so that both surely take part), then
  // race.
  std::vector<std::string> keys[2];
  Strings subjects[2];
  uint64_t tags[2] = {0, 0};
  std::string pending[2];
  absl::Notification took_first[2];
  auto drain = [&](int me) {
    tags[me] = internal::CurrentThreadTag();
    EXPECT_TRUE(
        (*probe)->SetProps({{PR_SUBJECT, absl::StrCat("thread ", me)}}).ok());
    if (me == 1) {
      took_first[0].WaitForNotificationWithTimeout(absl::Seconds(60));
    }
    while (true) {
      auto rows = table.QueryRows(1);
      if (!rows.ok()) {
        ADD_FAILURE() << rows.status();
        break;
      }
      if (rows->empty()) break;
      EXPECT_EQ(rows->size(), 1u);
      keys[me].push_back(KeyOf((*rows)[0]));
      subjects[me].push_back(Subjects(*rows)[0]);
      if (keys[me].size() == 1) {
        took_first[me].Notify();
        if (me == 0) {
          took_first[1].WaitForNotificationWithTimeout(absl::Seconds(60));
        }
      }
    }
    if (!took_first[me].HasBeenNotified()) took_first[me].Notify();
    auto props = (*probe)->GetProps({PR_SUBJECT});
    EXPECT_TRUE(props.ok()) << props.status();
    if (props.ok()) pending[me] = std::get<std::string>((*props)[0].value);
  };
  std::thread a(drain, 0), b(drain, 1);
  a.join();
  b.join();

  // Two client threads: as the library tags them, and as the server sees
  // them (each kept its own pending subject).
  EXPECT_NE(tags[0], tags[1]);
  EXPECT_EQ(pending[0], "thread 0");
  EXPECT_EQ(pending[1], "thread 1");

  EXPECT_FALSE(keys[0].empty());
  EXPECT_FALSE(keys[1].empty());
  std::set<std::string> all;
  for (int me : {0, 1}) {
    for (const std::string& key : keys[me]) {
      EXPECT_TRUE(all.insert(key).second) << "a row handed out twice";
    }
    // Each thread saw its rows in table order.
    for (size_t i = 1; i < subjects[me].size(); ++i) {
      EXPECT_LT(std::stoi(subjects[me][i - 1].substr(1)),
                std::stoi(subjects[me][i].substr(1)));
    }
  }
  EXPECT_EQ(all.size(), static_cast<size_t>(kRows)) << "rows skipped";
  // The union is exactly the view's rows.
  auto snapshot = table.QueryAllRows();
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  std::set<std::string> expected;
  for (const Row& row : snapshot->rows) expected.insert(KeyOf(row));
  EXPECT_EQ(all, expected);
}

}  // namespace
}  // namespace mapinotify::testing
