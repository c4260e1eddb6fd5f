// Hub under concurrency (run under TSan): concurrent publishers, writers
// draining at the same time, stalled consumers overflowing without silent
// loss.
#include <algorithm>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "server/hub/hub.h"
#include "server/hub/hub_testing.h"

namespace mapinotify::server {
namespace {

using testing::Deliveries;
using testing::ObjectNotification;
using testing::RecordingWriter;

constexpr uint32_t kAll = kKnownEventMask;
constexpr int kPublishers = 4;

// A stream of `hub` drained by a writer thread.
struct Stream {
  explicit Stream(Hub& hub, absl::Notification* gate = nullptr)
      : writer(/*threaded=*/true) {
    box = hub.OpenStream(writer.WakeCallback());
    writer.Attach(box, gate);
  }
  RecordingWriter writer;
  std::shared_ptr<Outbox> box;
};

// Entry id "p<publisher>-<op>".
std::string EntryId(int publisher, int op) {
  return absl::StrCat("p", publisher, "-", op);
}

// The highest sequence a stream has seen delivered or resynced past.
uint64_t Reached(const std::vector<v1::SubscribeResponse>& responses) {
  uint64_t reached = 0;
  for (const auto& r : responses) {
    for (const auto& d : r.batch().notifications()) {
      reached = std::max(reached, d.sequence());
    }
    if (r.has_resync()) {
      reached = std::max(reached, r.resync().resume_sequence());
    }
  }
  return reached;
}

// A store-wide stream with the one connection 1 saw every sequence of
// 1..last exactly once, in order, either delivered or covered by a resync
// written after the deliveries before the gap. Returns the resync count.
int ExpectNoSilentLoss(const std::vector<v1::SubscribeResponse>& responses,
                       uint64_t last) {
  uint64_t next = 1;
  int resyncs = 0;
  for (const auto& r : responses) {
    for (const auto& d : r.batch().notifications()) {
      EXPECT_EQ(d.sequence(), next);
      next = d.sequence() + 1;
    }
    if (r.has_resync()) {
      ++resyncs;
      EXPECT_GE(r.resync().resume_sequence(), next);
      EXPECT_EQ(r.resync().connections_size(), 1);
      next = r.resync().resume_sequence() + 1;
    }
  }
  EXPECT_EQ(next, last + 1);
  return resyncs;
}

TEST(HubConcurrencyTest, FourPublishersEveryStreamSeesAscendingSequences) {
  constexpr int kOps = 1000;
  Hub hub;
  Stream all(hub), part(hub);
  ASSERT_TRUE(hub.Advise(all.box.get(), 1, StoreTargetKey(), kAll).ok());
  ASSERT_TRUE(hub.Advise(part.box.get(), 1, EntryTargetKey("P0"), kAll).ok());
  ASSERT_TRUE(hub.Advise(part.box.get(), 2, EntryTargetKey("P1"), kAll).ok());

  std::vector<std::thread> publishers;
  for (int p = 0; p < kPublishers; ++p) {
    publishers.emplace_back([&hub, p] {
      const TargetKey target = EntryTargetKey(absl::StrCat("P", p));
      for (int op = 0; op < kOps; ++op) {
        std::vector<PublishItem> items;
        // Odd operations publish two notifications, as one batch.
        for (int i = 0; i < 1 + op % 2; ++i) {
          items.push_back(PublishItem{
              ObjectNotification(v1::fnevObjectModified, EntryId(p, op)),
              {target}});
        }
        hub.Publish(std::move(items));
      }
    });
  }
  for (auto& t : publishers) t.join();
  const uint64_t last = hub.last_sequence();
  ASSERT_EQ(last, static_cast<uint64_t>(kPublishers * kOps * 3 / 2));
  const auto reached = [last](const std::vector<v1::SubscribeResponse>& r) {
    return Reached(r) == last;
  };
  ASSERT_TRUE(all.writer.WaitFor(reached));
  ASSERT_TRUE(part.writer.WaitFor(
      [](const auto& r) { return Deliveries(r).size() == 2 * kOps * 3 / 2; }));

  const auto da = Deliveries(all.writer.responses());
  ASSERT_EQ(da.size(), last);
  int ends = 0;
  std::vector<int> next_op(kPublishers, 0), in_op(kPublishers, 0);
  for (size_t i = 0; i < da.size(); ++i) {
    EXPECT_EQ(da[i].sequence(), i + 1);
    ends += da[i].ends_batch();
    // Per publisher, its operations arrive in order, each whole.
    const std::string& id = da[i].notification().object().entry_id();
    int p = id[1] - '0', op = 0;
    ASSERT_TRUE(absl::SimpleAtoi(id.substr(id.find('-') + 1), &op));
    EXPECT_EQ(op, next_op[p]);
    ++in_op[p];
    const bool op_done = in_op[p] == 1 + op % 2;
    EXPECT_EQ(da[i].ends_batch(), op_done);
    if (op_done) {
      ++next_op[p];
      in_op[p] = 0;
    }
  }
  EXPECT_EQ(ends, kPublishers * kOps);

  const auto dp = Deliveries(part.writer.responses());
  for (size_t i = 1; i < dp.size(); ++i) {
    EXPECT_LT(dp[i - 1].sequence(), dp[i].sequence());
  }
  for (const auto& d : dp) {
    const char p = d.notification().object().entry_id()[1];
    EXPECT_EQ(d.connections(0), p == '0' ? 1u : 2u);
  }
  EXPECT_EQ(all.box->GetStats().dropped_deliveries, 0u);
  hub.CloseStream(all.box.get());
  hub.CloseStream(part.box.get());
}

// The drop policy of a hub without retention: one resync, never a silent
// loss.
TEST(HubConcurrencyTest, SmallQueuesDropButNeverLoseSilently) {
  constexpr int kOps = 500;
  Hub::Options options;
  options.retention.max_events = 0;
  options.outbox.max_items = 16;
  options.outbox.max_bytes = 16 * 64;
  options.outbox.max_batch_notifications = 4;
  Hub hub(options);
  absl::Notification gate;
  Stream live(hub), stalled(hub, &gate);
  ASSERT_TRUE(hub.Advise(live.box.get(), 1, StoreTargetKey(), kAll).ok());
  ASSERT_TRUE(hub.Advise(stalled.box.get(), 1, StoreTargetKey(), kAll).ok());

  std::vector<std::thread> publishers;
  for (int p = 0; p < kPublishers; ++p) {
    publishers.emplace_back([&hub, p] {
      for (int op = 0; op < kOps; ++op) {
        std::vector<PublishItem> items;
        items.push_back(PublishItem{
            ObjectNotification(v1::fnevObjectCreated, EntryId(p, op)), {}});
        hub.Publish(std::move(items));
      }
    });
  }
  for (auto& t : publishers) t.join();
  gate.Notify();  // The stalled consumer starts reading now.
  const uint64_t last = hub.last_sequence();
  const auto reached = [&last](const std::vector<v1::SubscribeResponse>& r) {
    return Reached(r) == last;
  };
  ASSERT_TRUE(live.writer.WaitFor(reached));
  ASSERT_TRUE(stalled.writer.WaitFor(reached));

  // Live delivery goes on after the resync.
  std::vector<PublishItem> items;
  items.push_back(
      PublishItem{ObjectNotification(v1::fnevObjectDeleted, "after"), {}});
  const uint64_t after = hub.Publish(std::move(items));
  const auto got_after = [after](const std::vector<v1::SubscribeResponse>& r) {
    return Reached(r) == after;
  };
  ASSERT_TRUE(live.writer.WaitFor(got_after));
  ASSERT_TRUE(stalled.writer.WaitFor(got_after));

  ExpectNoSilentLoss(live.writer.responses(), after);
  EXPECT_EQ(ExpectNoSilentLoss(stalled.writer.responses(), after), 1);
  const auto ds = Deliveries(stalled.writer.responses());
  ASSERT_FALSE(ds.empty());
  EXPECT_EQ(ds.back().sequence(), after);
  EXPECT_EQ(ds.back().notification().object().entry_id(), "after");
  for (Stream* s : {&live, &stalled}) {
    const Outbox::Stats stats = s->box->GetStats();
    EXPECT_LE(stats.peak_queued_bytes, options.outbox.max_bytes);
    EXPECT_FALSE(stats.overflowed);
  }
  EXPECT_EQ(stalled.box->GetStats().resyncs, 1u);
  EXPECT_GT(stalled.box->GetStats().dropped_deliveries, 0u);
  hub.CloseStream(live.box.get());
  hub.CloseStream(stalled.box.get());
}

// With a retention log, a stalled stream with tiny queues falls behind and
// catches up from the log on its own cursor: every notification, in order,
// no resync, while publishers run.
TEST(HubConcurrencyTest, SmallQueuesCatchUpFromRetentionWithoutLoss) {
  constexpr int kOps = 500;
  Hub::Options options;
  options.outbox.max_items = 16;
  options.outbox.max_bytes = 16 * 64;
  options.outbox.max_batch_notifications = 4;
  options.retention.max_events = kPublishers * kOps + 10;
  Hub hub(options);
  absl::Notification gate;
  RecordingWriter writer(/*threaded=*/true);
  std::shared_ptr<Outbox> box = hub.OpenStream(writer.WakeCallback());
  writer.SetRefill([&hub, raw = box.get()] { hub.Refill(raw); });
  writer.Attach(box, &gate);
  ASSERT_TRUE(hub.Advise(box.get(), 1, StoreTargetKey(), kAll).ok());

  std::vector<std::thread> publishers;
  for (int p = 0; p < kPublishers; ++p) {
    publishers.emplace_back([&hub, &gate, p] {
      for (int op = 0; op < kOps; ++op) {
        // The consumer starts reading once the stream is surely behind
        // (100 > 16 queued), while the publishers still run.
        if (p == 0 && op == 100) gate.Notify();
        std::vector<PublishItem> items;
        items.push_back(PublishItem{
            ObjectNotification(v1::fnevObjectCreated, EntryId(p, op)), {}});
        hub.Publish(std::move(items));
      }
    });
  }
  for (auto& t : publishers) t.join();
  const uint64_t last = hub.last_sequence();
  ASSERT_TRUE(
      writer.WaitFor([last](const std::vector<v1::SubscribeResponse>& r) {
        return Reached(r) == last;
      }));
  EXPECT_EQ(ExpectNoSilentLoss(writer.responses(), last), 0);
  EXPECT_EQ(Deliveries(writer.responses()).size(), last);
  const Outbox::Stats stats = box->GetStats();
  EXPECT_GT(stats.catch_ups, 0u);
  EXPECT_GT(stats.refilled_deliveries, 0u);
  EXPECT_EQ(stats.resyncs, 0u);
  EXPECT_LE(stats.peak_queued_bytes, options.outbox.max_bytes);
  EXPECT_FALSE(stats.behind);
  hub.CloseStream(box.get());
}

}  // namespace
}  // namespace mapinotify::server
