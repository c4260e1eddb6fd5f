// Outbox: the writer protocol, batching, zero-copy borrowing, the overflow
// policy and Close.
#include "server/hub/outbox.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "server/hub/event.h"
#include "server/hub/hub_testing.h"

namespace mapinotify::server {
namespace {

using testing::ObjectNotification;

EventPtr MakeEvent(uint64_t sequence, std::string entry = "m") {
  return std::make_shared<const Event>(
      sequence, ObjectNotification(v1::fnevObjectCreated, std::move(entry)));
}

v1::SubscribeResponse Control(uint64_t epoch) {
  v1::SubscribeResponse r;
  r.mutable_hello()->set_epoch(epoch);
  return r;
}

Outbox::Options SmallOptions() {
  Outbox::Options options;
  options.max_items = 4;
  options.max_batch_notifications = 3;
  return options;
}

TEST(OutboxTest, OneWriteInFlightAndWakeOnlyWhenIdle) {
  int wakes = 0;
  Outbox box(Outbox::Options(), [&wakes] { ++wakes; });
  v1::SubscribeResponse out;
  EXPECT_FALSE(box.TakeWrite(&out));

  ASSERT_TRUE(box.PushControl(Control(1)));   // Idle: wake due.
  EXPECT_FALSE(box.PushControl(Control(2)));  // Wake already owed.
  box.Wake();
  EXPECT_EQ(wakes, 1);

  ASSERT_TRUE(box.TakeWrite(&out));
  EXPECT_EQ(out.hello().epoch(), 1u);
  EXPECT_FALSE(box.TakeWrite(&out));          // One write in flight.
  EXPECT_FALSE(box.PushControl(Control(3)));  // Writing: no wake.
  EXPECT_TRUE(box.FinishWrite(&out));  // More queued: caller owes TakeWrite.
  EXPECT_FALSE(box.PushControl(Control(4)));
  ASSERT_TRUE(box.TakeWrite(&out));
  EXPECT_EQ(out.hello().epoch(), 2u);
  EXPECT_TRUE(box.FinishWrite(&out));
  ASSERT_TRUE(box.TakeWrite(&out));
  EXPECT_EQ(out.hello().epoch(), 3u);
  EXPECT_TRUE(box.FinishWrite(&out));
  ASSERT_TRUE(box.TakeWrite(&out));
  EXPECT_EQ(out.hello().epoch(), 4u);
  EXPECT_FALSE(box.FinishWrite(&out));       // Drained.
  EXPECT_TRUE(box.PushControl(Control(5)));  // Idle again: wake due.
  EXPECT_EQ(box.pending_control(), 1u);
}

TEST(OutboxTest, BatchesConsecutiveDeliveriesInPushOrder) {
  Outbox::Options options;
  options.max_batch_notifications = 3;
  Outbox box(options, [] {});
  for (uint64_t s = 1; s <= 4; ++s) {
    (void)box.PushDelivery(MakeEvent(s), {s, 100 + s}, s == 4);
  }
  (void)box.PushControl(Control(9));
  (void)box.PushDelivery(MakeEvent(5), {7}, true);

  testing::RecordingWriter writer(/*threaded=*/false);
  std::shared_ptr<Outbox> shared(&box, [](Outbox*) {});
  writer.Attach(shared);
  EXPECT_EQ(writer.DrainNow(), 4u);
  const auto responses = writer.responses();
  ASSERT_EQ(responses.size(), 4u);
  ASSERT_EQ(responses[0].batch().notifications_size(), 3);
  ASSERT_EQ(responses[1].batch().notifications_size(), 1);  // Control splits.
  EXPECT_EQ(responses[2].hello().epoch(), 9u);
  ASSERT_EQ(responses[3].batch().notifications_size(), 1);
  const auto delivered = testing::Deliveries(responses);
  for (uint64_t s = 1; s <= 4; ++s) {
    const v1::Delivered& d = delivered[s - 1];
    EXPECT_EQ(d.sequence(), s);
    ASSERT_EQ(d.connections_size(), 2);
    EXPECT_EQ(d.connections(0), s);
    EXPECT_EQ(d.connections(1), 100 + s);
    EXPECT_EQ(d.ends_batch(), s == 4);
    EXPECT_EQ(d.notification().object().entry_id(), "m");
  }
  EXPECT_EQ(delivered[4].sequence(), 5u);
  EXPECT_EQ(box.GetStats().queued_deliveries, 0u);
}

TEST(OutboxTest, BatchStaysUnderMessageBytesAndAnOversizedEventIsAResync) {
  Outbox::Options options;
  options.max_message_bytes = 1000;
  Outbox box(options, [] {});
  const std::string medium(400, 'x');
  const std::string huge(5000, 'y');
  (void)box.PushDelivery(MakeEvent(1, medium), {1}, false);
  (void)box.PushDelivery(MakeEvent(2, medium), {1}, false);
  (void)box.PushDelivery(MakeEvent(3, medium), {1}, false);
  (void)box.PushDelivery(MakeEvent(4, huge), {1}, true);
  std::vector<int> sizes;
  v1::SubscribeResponse out;
  v1::Resync resync;
  while (box.TakeWrite(&out)) {
    sizes.push_back(out.batch().notifications_size());
    EXPECT_LE(out.ByteSizeLong(), 1000u);
    if (out.has_resync()) resync = out.resync();
    box.FinishWrite(&out);
  }
  EXPECT_EQ(sizes, (std::vector<int>{2, 1, 0}));
  ASSERT_EQ(resync.connections_size(), 1);
  EXPECT_EQ(resync.connections(0), 1u);
  EXPECT_EQ(resync.resume_sequence(), 4u);
  EXPECT_NE(resync.reason().find("exceeds the message limit"),
            std::string::npos);
  EXPECT_EQ(box.GetStats().queued_bytes, 0u);
}

TEST(OutboxTest, BorrowsTheSharedNotificationWithoutCopying) {
  Outbox box(Outbox::Options(), [] {});
  EventPtr event = MakeEvent(42, "entry-1");
  (void)box.PushDelivery(event, {3, 5}, true);

  v1::SubscribeResponse out;
  ASSERT_TRUE(box.TakeWrite(&out));
  // The very same object, not a copy.
  EXPECT_EQ(&out.batch().notifications(0).notification(),
            &event->notification());
  EXPECT_EQ(event.use_count(), 2);  // Kept alive by the write in flight.

  v1::SubscribeResponse expected;
  v1::Delivered* d = expected.mutable_batch()->add_notifications();
  d->set_sequence(42);
  d->add_connections(3);
  d->add_connections(5);
  d->set_ends_batch(true);
  *d->mutable_notification() = event->notification();
  EXPECT_EQ(out.SerializeAsString(), expected.SerializeAsString());

  EXPECT_FALSE(box.FinishWrite(&out));
  EXPECT_FALSE(out.has_batch());
  EXPECT_EQ(event.use_count(), 1);
  EXPECT_EQ(event->notification().object().entry_id(), "entry-1");
}

// The same events lent to two outboxes written by two threads at once: both
// serialize them correctly (run under TSan).
TEST(OutboxTest, SameEventsSerializedConcurrentlyByTwoOutboxes) {
  constexpr uint64_t kEvents = 2000;
  std::vector<EventPtr> events;
  for (uint64_t s = 1; s <= kEvents; ++s) {
    events.push_back(MakeEvent(s, "entry-" + std::to_string(s)));
  }
  testing::RecordingWriter writer_a(/*threaded=*/true);
  testing::RecordingWriter writer_b(/*threaded=*/true);
  auto a = std::make_shared<Outbox>(Outbox::Options(), writer_a.WakeCallback());
  auto b = std::make_shared<Outbox>(Outbox::Options(), writer_b.WakeCallback());
  writer_a.Attach(a);
  writer_b.Attach(b);
  for (const EventPtr& e : events) {
    if (a->PushDelivery(e, {1}, true)) a->Wake();
    if (b->PushDelivery(e, {2}, true)) b->Wake();
  }
  const auto all = [](const std::vector<v1::SubscribeResponse>& r) {
    return testing::Deliveries(r).size() == kEvents;
  };
  ASSERT_TRUE(writer_a.WaitFor(all));
  ASSERT_TRUE(writer_b.WaitFor(all));
  for (auto* writer : {&writer_a, &writer_b}) {
    const auto delivered = testing::Deliveries(writer->responses());
    for (uint64_t s = 1; s <= kEvents; ++s) {
      EXPECT_EQ(delivered[s - 1].sequence(), s);
      EXPECT_EQ(delivered[s - 1].notification().SerializeAsString(),
                events[s - 1]->notification().SerializeAsString());
    }
  }
  for (const EventPtr& e : events) EXPECT_EQ(e.use_count(), 1);
  a->Close();
  b->Close();
}

TEST(OutboxTest, OverflowDropsThenExactlyOneResyncThenLiveAgain) {
  Outbox box(SmallOptions(), [] {});
  // Four fit (max_items 4); then 5..8 are dropped.
  for (uint64_t s = 1; s <= 4; ++s)
    (void)box.PushDelivery(MakeEvent(s), {1}, true);
  (void)box.PushDelivery(MakeEvent(5), {2}, true);
  (void)box.PushDelivery(MakeEvent(6), {3, 2}, true);
  EXPECT_TRUE(box.GetStats().overflowed);

  v1::SubscribeResponse out;
  ASSERT_TRUE(box.TakeWrite(&out));  // 1..3
  ASSERT_EQ(out.batch().notifications_size(), 3);
  // Still overflowed until the writer has taken everything queued before:
  // this one is dropped although there is room now.
  (void)box.PushDelivery(MakeEvent(7), {1}, true);
  EXPECT_TRUE(box.FinishWrite(&out));
  ASSERT_TRUE(box.TakeWrite(&out));  // 4; the queue is drained.
  EXPECT_EQ(out.batch().notifications(0).sequence(), 4u);
  EXPECT_FALSE(box.GetStats().overflowed);
  (void)box.PushDelivery(MakeEvent(8), {1}, true);  // Live again.
  EXPECT_TRUE(box.FinishWrite(&out));

  ASSERT_TRUE(box.TakeWrite(&out));
  ASSERT_TRUE(out.has_resync());
  EXPECT_EQ(std::vector<uint64_t>(out.resync().connections().begin(),
                                  out.resync().connections().end()),
            (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(out.resync().resume_sequence(), 7u);
  EXPECT_FALSE(out.resync().reason().empty());
  EXPECT_TRUE(box.FinishWrite(&out));
  ASSERT_TRUE(box.TakeWrite(&out));
  EXPECT_EQ(out.batch().notifications(0).sequence(), 8u);
  EXPECT_FALSE(box.FinishWrite(&out));

  const Outbox::Stats stats = box.GetStats();
  EXPECT_EQ(stats.dropped_deliveries, 3u);
  EXPECT_EQ(stats.resyncs, 1u);
}

TEST(OutboxTest, QueuedBytesNeverExceedTheBound) {
  Outbox::Options options;
  options.max_bytes = 2000;
  Outbox box(options, [] {});
  size_t accepted_bytes = 0;
  for (uint64_t s = 1; s <= 200; ++s) {
    EventPtr e = MakeEvent(s, std::string(s % 97, 'z'));
    (void)box.PushDelivery(e, {1}, true);
    const Outbox::Stats stats = box.GetStats();
    ASSERT_LE(stats.queued_bytes, options.max_bytes);
    accepted_bytes = stats.queued_bytes;
  }
  EXPECT_GT(accepted_bytes, 1000u);
  EXPECT_LE(box.GetStats().peak_queued_bytes, options.max_bytes);
  EXPECT_GT(box.GetStats().dropped_deliveries, 0u);
}

TEST(OutboxTest, EventLargerThanTheBoundIsReportedAtOnce) {
  Outbox::Options options;
  options.max_bytes = 100;
  Outbox box(options, [] {});
  // Nothing queued, so the resync is due right away.
  EXPECT_TRUE(box.PushDelivery(MakeEvent(9, std::string(500, 'q')), {4}, true));
  v1::SubscribeResponse out;
  ASSERT_TRUE(box.TakeWrite(&out));
  ASSERT_TRUE(out.has_resync());
  EXPECT_EQ(out.resync().connections_size(), 1);
  EXPECT_EQ(out.resync().connections(0), 4u);
  EXPECT_EQ(out.resync().resume_sequence(), 9u);
  EXPECT_FALSE(box.FinishWrite(&out));
}

TEST(OutboxTest, UnadvisedConnectionLeavesThePendingResync) {
  Outbox box(SmallOptions(), [] {});
  for (uint64_t s = 1; s <= 4; ++s)
    (void)box.PushDelivery(MakeEvent(s), {1}, true);
  (void)box.PushDelivery(MakeEvent(5), {1, 2}, true);
  v1::SubscribeResponse unadvised;
  unadvised.mutable_unadvised()->set_connection(2);
  (void)box.PushControl(unadvised);
  std::vector<v1::SubscribeResponse> written;
  v1::SubscribeResponse out;
  while (box.TakeWrite(&out)) {
    written.push_back(out);  // A deep copy.
    box.FinishWrite(&out);
  }
  ASSERT_EQ(written.size(), 4u);  // batch(3), batch(1), unadvised, resync
  EXPECT_TRUE(written[2].has_unadvised());
  ASSERT_TRUE(written[3].has_resync());
  EXPECT_EQ(std::vector<uint64_t>(written[3].resync().connections().begin(),
                                  written[3].resync().connections().end()),
            (std::vector<uint64_t>{1}));
}

TEST(OutboxTest, CloseDropsQueueKeepsWriteInFlightAlive) {
  Outbox box(Outbox::Options(), [] {});
  EventPtr e1 = MakeEvent(1);
  EventPtr e2 = MakeEvent(2);
  (void)box.PushDelivery(e1, {1}, true);
  (void)box.PushControl(Control(1));
  (void)box.PushDelivery(e2, {1}, true);
  v1::SubscribeResponse out;
  ASSERT_TRUE(box.TakeWrite(&out));
  box.Close();
  box.Close();                   // Idempotent.
  EXPECT_EQ(e2.use_count(), 1);  // Dropped.
  EXPECT_EQ(e1.use_count(), 2);  // Still lent to the write in flight.
  EXPECT_EQ(out.batch().notifications(0).notification().object().entry_id(),
            "m");
  EXPECT_FALSE(box.FinishWrite(&out));
  EXPECT_EQ(e1.use_count(), 1);
  EXPECT_FALSE(box.PushDelivery(e2, {1}, true));
  EXPECT_FALSE(box.PushControl(Control(2)));
  EXPECT_FALSE(box.TakeWrite(&out));
  EXPECT_TRUE(box.GetStats().closed);
  EXPECT_EQ(box.pending_control(), 0u);
}

TEST(OutboxTest, CloseWaitsForARunningWake) {
  absl::Notification entered, release;
  std::atomic<bool> wake_finished{false};
  Outbox box(Outbox::Options(), [&] {
    entered.Notify();
    release.WaitForNotification();
    wake_finished = true;
  });
  ASSERT_TRUE(box.PushControl(Control(1)));
  std::thread waker([&box] { box.Wake(); });
  entered.WaitForNotification();
  std::atomic<bool> finished_before_close_returned{false};
  std::thread closer([&] {
    box.Close();
    finished_before_close_returned = wake_finished.load();
  });
  release.Notify();
  waker.join();
  closer.join();
  EXPECT_TRUE(finished_before_close_returned);
}

TEST(OutboxTest, WakeMayCloseItsOwnOutbox) {
  std::unique_ptr<Outbox> box;
  int wakes = 0;
  box = std::make_unique<Outbox>(Outbox::Options(), [&] {
    ++wakes;
    box->Close();  // Must not wait for itself.
  });
  ASSERT_TRUE(box->PushControl(Control(1)));
  box->Wake();
  EXPECT_EQ(wakes, 1);
  EXPECT_TRUE(box->GetStats().closed);
  box->Wake();  // Closed: `wake` is not called again.
  EXPECT_EQ(wakes, 1);
}

}  // namespace
}  // namespace mapinotify::server
