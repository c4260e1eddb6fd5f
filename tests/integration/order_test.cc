// Order: per connection, notifications arrive complete and in the order the
// server committed them.
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "mapinotify/session.h"
#include "tests/integration/test_util.h"

namespace mapinotify::testing {
namespace {

// Queues large enough that nothing overflows: this test is about order.
server::ServerOptions RoomyServer() {
  server::ServerOptions options;
  options.hub.outbox.max_items = 1 << 21;
  options.hub.outbox.max_bytes = size_t{1} << 30;
  return options;
}

SessionOptions RoomySession() {
  SessionOptions options;
  options.threading_model = ThreadingModel::kNotificationThread;
  options.max_queued_notifications_per_connection = 1 << 21;
  options.max_queued_bytes_per_connection = size_t{1} << 30;
  return options;
}

TEST(Order, HundredThousandOnOneConnectionArriveCompleteAndInSequence) {
  constexpr uint64_t kCount = 100000;
  auto server = StartServer(RoomyServer());
  auto session = Session::Open(server->target(), RoomySession());
  ASSERT_TRUE(session.ok()) << session.status();
  auto sink = std::make_shared<RecordingSink>();
  const EntryId inbox = server->store()->inbox_id();
  auto c =
      (*session)->Advise(AdviseTarget::Entry(inbox), fnevObjectModified, sink);
  ASSERT_TRUE(c.ok()) << c.status();

  const uint64_t first = server->hub()->last_sequence() + 1;
  std::thread publisher([&] { PublishMany(server->hub(), inbox, kCount); });
  ASSERT_TRUE(sink->WaitForCount(kCount));
  publisher.join();

  std::vector<Seen> seen = sink->seen();
  ASSERT_EQ(seen.size(), kCount);
  for (uint64_t i = 0; i < kCount; ++i) {
    ASSERT_EQ(seen[i].sequence, first + i) << "at " << i;
    ASSERT_EQ(seen[i].notification->object()->entry_id,
              absl::StrCat("msg-", i));
    ASSERT_EQ(seen[i].connection, *c);
  }
  EXPECT_EQ((*session)->stats().resyncs_delivered, 0u);
}

TEST(Order, EightConnectionsEachSeeTheirOwnInOrder) {
  constexpr int kConnections = 8;
  constexpr uint64_t kPerConnection = 5000;
  auto server = StartServer(RoomyServer());
  auto session = Session::Open(server->target(), RoomySession());
  ASSERT_TRUE(session.ok()) << session.status();

  std::vector<std::shared_ptr<RecordingSink>> sinks;
  std::vector<ConnectionId> ids;
  std::vector<EntryId> folders;
  for (int i = 0; i < kConnections; ++i) {
    folders.push_back(MakeFolder(server.get(), absl::StrCat("f", i)));
    sinks.push_back(std::make_shared<RecordingSink>());
    auto c = (*session)->Advise(AdviseTarget::Entry(folders.back()),
                                fnevObjectModified, sinks.back());
    ASSERT_TRUE(c.ok()) << c.status();
    ids.push_back(*c);
  }
  // Two publishers interleave the folders, so each connection's sequence
  // numbers have gaps (the others' notifications) but must still ascend.
  auto publish = [&](int parity) {
    for (uint64_t n = 0; n < kPerConnection; ++n) {
      for (int f = parity; f < kConnections; f += 2) {
        std::vector<server::PublishItem> items;
        items.push_back(ObjectModified(folders[f], n));
        server->hub()->Publish(std::move(items));
      }
    }
  };
  std::thread even(publish, 0), odd(publish, 1);
  for (int i = 0; i < kConnections; ++i) {
    ASSERT_TRUE(sinks[i]->WaitForCount(kPerConnection)) << "connection " << i;
  }
  even.join();
  odd.join();
  for (int i = 0; i < kConnections; ++i) {
    std::vector<Seen> seen = sinks[i]->seen();
    ASSERT_EQ(seen.size(), kPerConnection);
    for (uint64_t n = 0; n < kPerConnection; ++n) {
      ASSERT_EQ(seen[n].connection, ids[i]);
      ASSERT_EQ(seen[n].notification->object()->parent_id, folders[i]);
      ASSERT_EQ(seen[n].notification->object()->entry_id,
                absl::StrCat("msg-", n));
      if (n > 0) {
        ASSERT_GT(seen[n].sequence, seen[n - 1].sequence);
      }
    }
  }
}

TEST(Order, OneOperationIsOneOnNotifyCall) {
  auto server = StartServer();
  auto session = Session::Open(server->target(), RoomySession());
  ASSERT_TRUE(session.ok()) << session.status();
  auto sink = std::make_shared<RecordingSink>();
  auto c = (*session)->Advise(AdviseTarget::Store(), fnevObjectModified, sink);
  ASSERT_TRUE(c.ok()) << c.status();
  // Three operations of 5, 1 and 150 notifications; the last spans several
  // wire messages (64 per message) and must still be one call.
  for (int size : {5, 1, 150}) {
    std::vector<server::PublishItem> items;
    for (int i = 0; i < size; ++i) items.push_back(ObjectModified("x", i));
    server->hub()->Publish(std::move(items));
  }
  ASSERT_TRUE(sink->WaitForCount(156));
  EXPECT_EQ(sink->calls(), 3u);
  std::vector<Seen> seen = sink->seen();
  EXPECT_EQ(seen[0].batch_size, 5u);
  EXPECT_EQ(seen[5].batch_size, 1u);
  EXPECT_EQ(seen[6].batch_size, 150u);
  for (size_t i = 1; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].sequence, seen[i - 1].sequence + 1);
  }
}

// One operation whose notifications alternate between two folders, watched
// by a connection on each folder and a store-wide one: consecutive
// notifications of a wire message are for different connections (the
// client parses each run of them into its own allocation), and every sink
// still gets exactly its own, with their values, in one call.
TEST(Order, OneOperationAlternatingFoldersGivesEachConnectionItsOwn) {
  constexpr int kPerFolder = 150;  // 300 in all: several wire messages.
  auto server = StartServer();
  auto session = Session::Open(server->target(), RoomySession());
  ASSERT_TRUE(session.ok()) << session.status();
  const EntryId folders[2] = {MakeFolder(server.get(), "a"),
                              MakeFolder(server.get(), "b")};
  std::shared_ptr<RecordingSink> sinks[2] = {std::make_shared<RecordingSink>(),
                                             std::make_shared<RecordingSink>()};
  for (int f = 0; f < 2; ++f) {
    ASSERT_TRUE((*session)
                    ->Advise(AdviseTarget::Entry(folders[f]),
                             fnevObjectModified, sinks[f])
                    .ok());
  }
  auto all = std::make_shared<RecordingSink>();
  ASSERT_TRUE(
      (*session)->Advise(AdviseTarget::Store(), fnevObjectModified, all).ok());

  std::vector<server::PublishItem> items;
  for (int i = 0; i < kPerFolder; ++i) {
    for (int f = 0; f < 2; ++f) items.push_back(ObjectModified(folders[f], i));
  }
  server->hub()->Publish(std::move(items));

  ASSERT_TRUE(all->WaitForCount(2 * kPerFolder));
  const std::vector<Seen> store_wide = all->seen();
  ASSERT_EQ(store_wide.size(), 2u * kPerFolder);
  EXPECT_EQ(all->calls(), 1u);
  for (int i = 0; i < 2 * kPerFolder; ++i) {
    ASSERT_EQ(store_wide[i].notification->object()->parent_id, folders[i % 2]);
    ASSERT_EQ(store_wide[i].notification->object()->entry_id,
              absl::StrCat("msg-", i / 2));
  }
  for (int f = 0; f < 2; ++f) {
    ASSERT_TRUE(sinks[f]->WaitForCount(kPerFolder));
    const std::vector<Seen> seen = sinks[f]->seen();
    ASSERT_EQ(seen.size(), static_cast<size_t>(kPerFolder));
    EXPECT_EQ(sinks[f]->calls(), 1u);
    for (int i = 0; i < kPerFolder; ++i) {
      ASSERT_EQ(seen[i].notification->object()->parent_id, folders[f]);
      ASSERT_EQ(seen[i].notification->object()->entry_id,
                absl::StrCat("msg-", i));
      // The store-wide connection got the very same value (shared).
      ASSERT_EQ(seen[i].notification, store_wide[2 * i + f].notification);
    }
  }
}

}  // namespace
}  // namespace mapinotify::testing
