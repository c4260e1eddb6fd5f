// Hub: the retention log, replay to a re-registered connection, the resync
// when a resume point cannot be honoured, progress marks (never ahead of a
// dropped delivery) and the seal of a graceful shutdown.
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "server/hub/hub.h"
#include "server/hub/hub_testing.h"

namespace mapinotify::server {
namespace {

using testing::Controls;
using testing::Deliveries;
using testing::ObjectNotification;

constexpr uint32_t kAll = kKnownEventMask;
constexpr uint64_t kEpoch = 77;

PublishItem Item(v1::EventType type, std::vector<TargetKey> targets) {
  return PublishItem{ObjectNotification(type, "m"), std::move(targets)};
}

// Publishes one operation of `items`; returns its last sequence.
uint64_t Pub(Hub& hub, std::vector<PublishItem> items) {
  return hub.Publish(std::move(items));
}
uint64_t Pub(Hub& hub, v1::EventType type, std::vector<TargetKey> targets) {
  std::vector<PublishItem> items;
  items.push_back(Item(type, std::move(targets)));
  return Pub(hub, std::move(items));
}

struct Stream {
  explicit Stream(Hub& hub) : writer(/*threaded=*/false) {
    box = hub.OpenStream(writer.WakeCallback());
    writer.SetRefill([&hub, raw = box.get()] { hub.Refill(raw); });
    writer.Attach(box);
  }
  std::vector<v1::SubscribeResponse> Drain() {
    writer.DrainNow();
    return writer.responses();
  }
  testing::RecordingWriter writer;
  std::shared_ptr<Outbox> box;
};

Hub::Options Options(size_t max_events = 1000,
                     size_t max_bytes = size_t{64} << 20) {
  Hub::Options options;
  options.epoch = kEpoch;
  options.retention.max_events = max_events;
  options.retention.max_bytes = max_bytes;
  return options;
}

// Options() with every stream's outbox holding at most `items` deliveries.
Hub::Options SmallQueue(size_t items) {
  Hub::Options options = Options();
  options.outbox.max_items = items;
  return options;
}

std::vector<uint64_t> Sequences(const std::vector<v1::Delivered>& ds) {
  std::vector<uint64_t> out;
  for (const v1::Delivered& d : ds) out.push_back(d.sequence());
  return out;
}

TEST(HubRetentionTest, BoundedByCount) {
  Hub hub(Options(/*max_events=*/5));
  for (int i = 0; i < 12; ++i) Pub(hub, v1::fnevObjectCreated, {});
  const Hub::Stats stats = hub.GetStats();
  EXPECT_EQ(stats.retained_events, 5u);
  EXPECT_EQ(stats.retained_after, 7u);  // Keeps 8..12.
  EXPECT_EQ(stats.last_sequence, 12u);
}

TEST(HubRetentionTest, BoundedByBytes) {
  const size_t one =
      Event(0, ObjectNotification(v1::fnevObjectCreated, "m")).retained_bytes();
  Hub hub(Options(/*max_events=*/1000, /*max_bytes=*/3 * one));
  for (int i = 0; i < 10; ++i) Pub(hub, v1::fnevObjectCreated, {});
  const Hub::Stats stats = hub.GetStats();
  EXPECT_EQ(stats.retained_events, 3u);
  EXPECT_EQ(stats.retained_bytes, 3 * one);
  EXPECT_EQ(stats.retained_after, 7u);
}

TEST(HubResumeTest, ReplaysExactlyWhatTheConnectionMissedThenLive) {
  Hub hub(Options());
  const TargetKey f = EntryTargetKey("F"), g = EntryTargetKey("G");
  Pub(hub, v1::fnevObjectCreated, {f});  // 1: the connection saw it.
  Pub(hub, v1::fnevObjectCreated, {g});  // 2: another target.
  {
    std::vector<PublishItem> op;  // 3, 4: one operation about F.
    op.push_back(Item(v1::fnevObjectModified, {f}));
    op.push_back(Item(v1::fnevObjectMoved, {f, g}));
    Pub(hub, std::move(op));
  }
  Pub(hub, v1::fnevObjectDeleted, {f});   // 5
  Pub(hub, v1::fnevObjectModified, {g});  // 6: another target.
  Pub(hub, v1::fnevNewMail, {f});         // 7: not in the mask.

  Stream s(hub);
  Hub::ResumeFrom resume{kEpoch, 1};
  const uint32_t mask = kAll & ~static_cast<uint32_t>(v1::fnevNewMail);
  ASSERT_TRUE(hub.Advise(s.box.get(), 4, f, mask, &resume).ok());
  Pub(hub, v1::fnevObjectModified, {f});  // 8: live.
  const auto responses = s.Drain();
  const auto controls = Controls(responses);
  ASSERT_EQ(controls.size(), 2u);  // hello, advised.
  EXPECT_EQ(controls[1].advised().connection(), 4u);
  EXPECT_EQ(controls[1].advised().status().code(), 0);
  EXPECT_EQ(controls[1].advised().sequence(), 7u);
  const auto ds = Deliveries(responses);
  EXPECT_EQ(Sequences(ds), (std::vector<uint64_t>{3, 4, 5, 8}));
  for (const v1::Delivered& d : ds) {
    ASSERT_EQ(d.connections_size(), 1);
    EXPECT_EQ(d.connections(0), 4u);
  }
  // ends_batch closes each operation: {3, 4}, {5}, {8}.
  EXPECT_FALSE(ds[0].ends_batch());
  EXPECT_TRUE(ds[1].ends_batch());
  EXPECT_TRUE(ds[2].ends_batch());
  EXPECT_TRUE(ds[3].ends_batch());
  const Hub::Stats stats = hub.GetStats();
  EXPECT_EQ(stats.resumes_replayed, 1u);
  EXPECT_EQ(stats.replayed_deliveries, 3u);
  EXPECT_EQ(stats.resumes_resynced, 0u);
}

TEST(HubResumeTest, StoreWideReplayHonoursTheMask) {
  Hub hub(Options());
  for (int i = 0; i < 6; ++i) {
    Pub(hub, i % 2 == 0 ? v1::fnevObjectModified : v1::fnevObjectCreated,
        {EntryTargetKey(std::to_string(i))});
  }
  Stream s(hub);
  Hub::ResumeFrom resume{kEpoch, 2};
  ASSERT_TRUE(hub.Advise(s.box.get(), 1, StoreTargetKey(),
                         v1::fnevObjectCreated, &resume)
                  .ok());
  EXPECT_EQ(Sequences(Deliveries(s.Drain())), (std::vector<uint64_t>{4, 6}));
}

TEST(HubResumeTest, ResumeAtTheLastSequenceReplaysNothing) {
  Hub hub(Options());
  const uint64_t last = Pub(hub, v1::fnevObjectCreated, {});
  Stream s(hub);
  Hub::ResumeFrom resume{kEpoch, last};
  ASSERT_TRUE(hub.Advise(s.box.get(), 1, StoreTargetKey(), kAll, &resume).ok());
  const auto responses = s.Drain();
  EXPECT_TRUE(Deliveries(responses).empty());
  EXPECT_EQ(Controls(responses).size(), 2u);  // hello, advised: no resync.
}

// A resume point that cannot be honoured: advised OK, then one resync for
// the connection whose resume_sequence is the registration point.
void ExpectResync(Hub& hub, Hub::ResumeFrom resume, const std::string& why) {
  Stream s(hub);
  ASSERT_TRUE(hub.Advise(s.box.get(), 9, StoreTargetKey(), kAll, &resume).ok());
  const auto responses = s.Drain();
  EXPECT_TRUE(Deliveries(responses).empty());
  const auto controls = Controls(responses);
  ASSERT_EQ(controls.size(), 3u);
  EXPECT_EQ(controls[1].advised().status().code(), 0);
  ASSERT_TRUE(controls[2].has_resync());
  const v1::Resync& resync = controls[2].resync();
  ASSERT_EQ(resync.connections_size(), 1);
  EXPECT_EQ(resync.connections(0), 9u);
  EXPECT_EQ(resync.resume_sequence(), hub.last_sequence());
  EXPECT_NE(resync.reason().find(why), std::string::npos) << resync.reason();
}

TEST(HubResumeTest, ResyncWhenTheResumePointCannotBeHonoured) {
  Hub hub(Options(/*max_events=*/4));
  for (int i = 0; i < 10; ++i) Pub(hub, v1::fnevObjectCreated, {});
  ExpectResync(hub, {kEpoch + 1, 9}, "restarted");
  ExpectResync(hub, {kEpoch, 11}, "ahead");
  ExpectResync(hub, {kEpoch, 5}, "retention");
  EXPECT_EQ(hub.GetStats().resumes_resynced, 3u);
  // The oldest replayable point: retained_after itself.
  Stream s(hub);
  Hub::ResumeFrom resume{kEpoch, 6};
  ASSERT_TRUE(hub.Advise(s.box.get(), 1, StoreTargetKey(), kAll, &resume).ok());
  EXPECT_EQ(Sequences(Deliveries(s.Drain())),
            (std::vector<uint64_t>{7, 8, 9, 10}));
}

// The sequences each connection got, in delivery order.
std::map<uint64_t, std::vector<uint64_t>> PerConnection(
    const std::vector<v1::SubscribeResponse>& responses) {
  std::map<uint64_t, std::vector<uint64_t>> out;
  for (const v1::Delivered& d : Deliveries(responses)) {
    for (uint64_t c : d.connections()) out[c].push_back(d.sequence());
  }
  return out;
}

std::vector<uint64_t> Range(uint64_t first, uint64_t last) {
  std::vector<uint64_t> out;
  for (uint64_t s = first; s <= last; ++s) out.push_back(s);
  return out;
}

// A replay larger than the stream's queue goes through the catch-up cursor:
// every missed event, in order, none coalesced (they are all modifications
// of one entry, which a slow stream's refill would merge), no resync.
TEST(HubResumeTest, ReplayLargerThanTheQueueGoesThroughTheCursor) {
  Hub::Options options = SmallQueue(4);
  options.outbox.max_batch_notifications = 3;
  Hub hub(options);
  const TargetKey f = EntryTargetKey("F");
  for (int i = 0; i < 40; ++i) Pub(hub, v1::fnevObjectModified, {f});
  Stream s(hub);
  Hub::ResumeFrom resume{kEpoch, 5};
  ASSERT_TRUE(hub.Advise(s.box.get(), 1, f, kAll, &resume).ok());
  EXPECT_TRUE(s.box->GetStats().replaying);
  auto responses = s.Drain();
  EXPECT_EQ(Sequences(Deliveries(responses)), Range(6, 40));
  for (const auto& c : Controls(responses)) EXPECT_FALSE(c.has_resync());
  EXPECT_FALSE(s.box->GetStats().behind);
  EXPECT_FALSE(s.box->GetStats().replaying);
  // Live again.
  const uint64_t live = Pub(hub, v1::fnevObjectModified, {f});
  EXPECT_EQ(Sequences(Deliveries(s.Drain())).back(), live);
  const Hub::Stats stats = hub.GetStats();
  EXPECT_EQ(stats.resumes_resynced, 0u);
  EXPECT_EQ(stats.resumes_replayed, 1u);
  EXPECT_EQ(stats.replays_through_cursor, 1u);
  EXPECT_EQ(stats.coalesced, 0u);
  EXPECT_LE(s.box->GetStats().peak_queued_bytes, options.outbox.max_bytes);
}

// The stream's other connections, live when one connection's replay
// rewinds the cursor, get nothing twice and nothing less: what was queued
// for them before, then what is published during the replay, once.
TEST(HubResumeTest, ReplayThroughTheCursorLeavesTheOtherConnectionsExact) {
  Hub::Options options = SmallQueue(4);
  Hub hub(options);
  Stream s(hub);
  ASSERT_TRUE(hub.Advise(s.box.get(), 1, StoreTargetKey(), kAll).ok());
  for (int i = 0; i < 3; ++i) Pub(hub, v1::fnevObjectCreated, {});  // 1..3
  Hub::ResumeFrom resume{kEpoch, 0};  // Connection 2 missed 1..3 ...
  for (int i = 0; i < 10; ++i) Pub(hub, v1::fnevObjectCreated, {});  // ..13
  // ... and 1..13 do not fit: connection 1 has 4 queued and is behind.
  ASSERT_TRUE(hub.Advise(s.box.get(), 2, StoreTargetKey(), kAll, &resume).ok());
  for (int i = 0; i < 5; ++i) Pub(hub, v1::fnevObjectCreated, {});  // ..18
  const auto got = PerConnection(s.Drain());
  EXPECT_EQ(got.at(1), Range(1, 18));
  EXPECT_EQ(got.at(2), Range(1, 18));
  EXPECT_EQ(hub.GetStats().replays_through_cursor, 1u);
  EXPECT_EQ(hub.GetStats().resumes_resynced, 0u);
}

// A live (not behind) stream: the replay rewinds the cursor below what the
// other connection already got; it gets only what follows.
TEST(HubResumeTest, ReplayThroughTheCursorOnALiveStream) {
  Hub::Options options = SmallQueue(4);
  Hub hub(options);
  Stream s(hub);
  ASSERT_TRUE(hub.Advise(s.box.get(), 1, StoreTargetKey(), kAll).ok());
  for (int i = 0; i < 3; ++i) Pub(hub, v1::fnevObjectCreated, {});  // 1..3
  auto first = PerConnection(s.Drain());
  EXPECT_EQ(first.at(1), Range(1, 3));
  Hub::ResumeFrom resume{kEpoch, 0};    // Five missed: more than the queue.
  Pub(hub, v1::fnevObjectCreated, {});  // 4, queued for connection 1.
  Pub(hub, v1::fnevObjectCreated, {});  // 5
  ASSERT_TRUE(hub.Advise(s.box.get(), 2, StoreTargetKey(), kAll, &resume).ok());
  EXPECT_TRUE(s.box->GetStats().behind);
  Pub(hub, v1::fnevObjectCreated, {});        // 6, live for both.
  const auto got = PerConnection(s.Drain());  // Everything written so far.
  EXPECT_EQ(got.at(1), Range(1, 6));          // 1..3 once: not queued again.
  EXPECT_EQ(got.at(2), Range(1, 6));
}

// A replay through the cursor that falls out of the log before it gets
// there is the resync for the connection: never a part followed by a gap.
TEST(HubResumeTest, ReplayThroughTheCursorOutOfRetentionIsTheResync) {
  Hub::Options options = Options(/*max_events=*/8);
  options.outbox.max_items = 2;
  Hub hub(options);
  const TargetKey f = EntryTargetKey("F"), g = EntryTargetKey("G");
  for (int i = 0; i < 6; ++i) Pub(hub, v1::fnevObjectCreated, {f});  // 1..6
  Stream s(hub);
  ASSERT_TRUE(hub.Advise(s.box.get(), 2, g, kAll).ok());
  Hub::ResumeFrom resume{kEpoch, 1};
  ASSERT_TRUE(hub.Advise(s.box.get(), 1, f, kAll, &resume).ok());
  // Before the writer reads, the log moves past the cursor (2).
  for (int i = 0; i < 6; ++i) Pub(hub, v1::fnevObjectCreated, {f});  // ..12
  const uint64_t last = hub.last_sequence();
  const auto responses = s.Drain();
  const auto got = PerConnection(responses);
  // Whatever it got is a prefix of 2.., then the resync.
  const auto it = got.find(1);
  if (it != got.end()) {
    EXPECT_EQ(it->second, Range(2, 1 + it->second.size()));
  }
  const auto controls = Controls(responses);
  ASSERT_TRUE(controls.back().has_resync());
  const v1::Resync& resync = controls.back().resync();
  EXPECT_EQ(std::vector<uint64_t>(resync.connections().begin(),
                                  resync.connections().end()),
            (std::vector<uint64_t>{1}));
  EXPECT_EQ(resync.resume_sequence(), last);
  EXPECT_EQ(got.count(2), 0u);  // Nothing about G: nothing for 2.
  const uint64_t live = Pub(hub, v1::fnevObjectCreated, {f});
  EXPECT_EQ(Sequences(Deliveries(s.Drain())).back(), live);
}

TEST(HubResumeTest, RefusedRegistrationReplaysNothing) {
  Hub hub(Options());
  Pub(hub, v1::fnevObjectCreated, {});
  Stream s(hub);
  Hub::ResumeFrom resume{kEpoch, 0};
  EXPECT_TRUE(hub.Advise(s.box.get(), 1, StoreTargetKey(), kAll).ok());
  EXPECT_EQ(hub.Advise(s.box.get(), 1, StoreTargetKey(), kAll, &resume).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_TRUE(Deliveries(s.Drain()).empty());
}

// A connection resumed while a publisher runs: replay and live together are
// every sequence after the resume point exactly once, in order.
TEST(HubResumeTest, ReplayAndLivePublishingMeetWithoutGapOrDuplicate) {
  Hub hub(Options(/*max_events=*/1 << 20));
  constexpr uint64_t kTotal = 20000;
  std::atomic<uint64_t> published{0};
  std::thread publisher([&] {
    for (uint64_t i = 0; i < kTotal; ++i) {
      published = Pub(hub, v1::fnevObjectModified, {});
    }
  });
  // Resume once a few thousand were published, from a point well behind.
  while (published.load() < 3000) std::this_thread::yield();
  testing::RecordingWriter writer(/*threaded=*/true);
  std::shared_ptr<Outbox> box = hub.OpenStream(writer.WakeCallback());
  writer.Attach(box);
  Hub::ResumeFrom resume{kEpoch, 1000};
  ASSERT_TRUE(hub.Advise(box.get(), 1, StoreTargetKey(), kAll, &resume).ok());
  publisher.join();
  ASSERT_TRUE(writer.WaitFor([](const std::vector<v1::SubscribeResponse>& r) {
    const auto ds = Deliveries(r);
    return !ds.empty() && ds.back().sequence() == kTotal;
  }));
  const auto ds = Deliveries(writer.responses());
  ASSERT_EQ(ds.size(), kTotal - 1000);
  for (size_t i = 0; i < ds.size(); ++i) {
    ASSERT_EQ(ds[i].sequence(), 1001 + i);
  }
  hub.CloseStream(box.get());
}

TEST(HubProgressMarkTest, MarksStreamsWithRegistrationsWhenTheSequenceMoved) {
  Hub hub(Options());
  Stream watched(hub), idle(hub);
  ASSERT_TRUE(hub.Advise(watched.box.get(), 1, EntryTargetKey("F"), kAll).ok());
  Pub(hub, v1::fnevObjectCreated, {EntryTargetKey("G")});  // 1: not F.
  EXPECT_EQ(hub.SendProgressMarks(), 1u);
  EXPECT_EQ(hub.SendProgressMarks(), 0u);                  // Nothing moved.
  Pub(hub, v1::fnevObjectCreated, {EntryTargetKey("G")});  // 2
  EXPECT_EQ(hub.SendProgressMarks(), 1u);  // Raises the queued mark.
  auto controls = Controls(watched.Drain());
  ASSERT_EQ(controls.size(), 3u);  // hello, advised, ONE mark.
  EXPECT_EQ(controls[2].progress().sequence(), 2u);
  EXPECT_EQ(Controls(idle.Drain()).size(), 1u);                // hello only.
  EXPECT_EQ(hub.SendProgressMarks(/*all_streams=*/true), 1u);  // idle's.
  controls = Controls(idle.Drain());
  ASSERT_EQ(controls.size(), 2u);
  EXPECT_EQ(controls[1].progress().sequence(), 2u);
  EXPECT_EQ(hub.GetStats().progress_marks, 3u);
}

TEST(HubProgressMarkTest, NeverAheadOfDroppedDeliveries) {
  Hub::Options options = Options(/*max_events=*/0);  // Drop, then resync.
  options.outbox.max_items = 2;
  Hub hub(options);
  Stream s(hub);
  ASSERT_TRUE(hub.Advise(s.box.get(), 1, StoreTargetKey(), kAll).ok());
  for (int i = 0; i < 5; ++i) Pub(hub, v1::fnevObjectCreated, {});
  // 3..5 were dropped: a mark now would cover them before their resync.
  EXPECT_EQ(hub.SendProgressMarks(), 0u);
  s.Drain();  // Writes 1, 2 and the resync.
  EXPECT_EQ(hub.SendProgressMarks(), 1u);
  const auto responses = s.Drain();
  std::vector<std::string> kinds;
  for (const auto& r : responses) {
    if (r.has_batch()) kinds.push_back("batch");
    if (r.has_resync()) kinds.push_back("resync");
    if (r.has_progress()) kinds.push_back("mark");
  }
  EXPECT_EQ(kinds, (std::vector<std::string>{"batch", "resync", "mark"}));
  const auto controls = Controls(responses);
  EXPECT_EQ(controls[2].resync().resume_sequence(), 5u);
  EXPECT_EQ(controls[3].progress().sequence(), 5u);
}

TEST(HubProgressMarkTest, NeverAheadOfAStreamCatchingUp) {
  Hub::Options options = SmallQueue(2);
  Hub hub(options);
  Stream s(hub);
  ASSERT_TRUE(hub.Advise(s.box.get(), 1, StoreTargetKey(), kAll).ok());
  for (int i = 0; i < 5; ++i) Pub(hub, v1::fnevObjectCreated, {});
  EXPECT_TRUE(s.box->GetStats().behind);
  EXPECT_EQ(hub.SendProgressMarks(), 0u);  // 3..5 are not queued.
  s.Drain();  // 1, 2, then refills 3..5 and catches up.
  EXPECT_FALSE(s.box->GetStats().behind);
  EXPECT_EQ(hub.SendProgressMarks(), 1u);
  const auto responses = s.Drain();
  EXPECT_EQ(Sequences(Deliveries(responses)),
            (std::vector<uint64_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(Controls(responses).back().progress().sequence(), 5u);
}

TEST(HubCatchUpTest, FallsBehindThenCatchesUpFromRetentionInOrder) {
  Hub::Options options = SmallQueue(4);
  options.outbox.max_batch_notifications = 3;
  Hub hub(options);
  Stream s(hub);
  const TargetKey f = EntryTargetKey("F");
  ASSERT_TRUE(hub.Advise(s.box.get(), 1, StoreTargetKey(), kAll).ok());
  ASSERT_TRUE(hub.Advise(s.box.get(), 2, f, kAll).ok());
  // 30 operations of 3 events each; the middle one of each concerns F.
  for (int op = 0; op < 30; ++op) {
    std::vector<PublishItem> items;
    items.push_back(Item(v1::fnevObjectCreated, {}));
    items.push_back(Item(v1::fnevObjectModified, {f}));
    items.push_back(Item(v1::fnevObjectCreated, {}));
    Pub(hub, std::move(items));
  }
  EXPECT_TRUE(s.box->GetStats().behind);
  const auto responses = s.Drain();
  const auto ds = Deliveries(responses);
  ASSERT_EQ(ds.size(), 90u);
  for (size_t i = 0; i < ds.size(); ++i) {
    EXPECT_EQ(ds[i].sequence(), i + 1);
    const std::vector<uint64_t> expected =
        i % 3 == 1 ? std::vector<uint64_t>{1, 2} : std::vector<uint64_t>{1};
    EXPECT_EQ(std::vector<uint64_t>(ds[i].connections().begin(),
                                    ds[i].connections().end()),
              expected)
        << i;
    EXPECT_EQ(ds[i].ends_batch(), i % 3 == 2) << i;  // Last of each op.
  }
  for (const auto& c : Controls(responses)) EXPECT_FALSE(c.has_resync());
  const Outbox::Stats stats = s.box->GetStats();
  EXPECT_FALSE(stats.behind);
  EXPECT_EQ(stats.resyncs, 0u);
  EXPECT_GT(stats.refilled_deliveries, 0u);
  EXPECT_LE(stats.peak_queued_bytes, options.outbox.max_bytes);
  // Live again.
  const uint64_t live = Pub(hub, v1::fnevObjectDeleted, {});
  EXPECT_EQ(Sequences(Deliveries(s.Drain())).back(), live);
  EXPECT_GT(hub.GetStats().refills, 0u);
}

TEST(HubCatchUpTest, AConnectionAdvisedWhileBehindGetsNothingOlder) {
  Hub::Options options = SmallQueue(2);
  Hub hub(options);
  Stream s(hub);
  ASSERT_TRUE(hub.Advise(s.box.get(), 1, StoreTargetKey(), kAll).ok());
  for (int i = 0; i < 6; ++i) Pub(hub, v1::fnevObjectCreated, {});  // 1..6
  ASSERT_TRUE(s.box->GetStats().behind);
  ASSERT_TRUE(hub.Advise(s.box.get(), 2, StoreTargetKey(), kAll).ok());
  Pub(hub, v1::fnevObjectCreated, {});  // 7
  std::vector<uint64_t> two;
  for (const auto& d : Deliveries(s.Drain())) {
    for (uint64_t c : d.connections()) {
      if (c == 2) two.push_back(d.sequence());
    }
  }
  EXPECT_EQ(two, (std::vector<uint64_t>{7}));
}

TEST(HubCatchUpTest, FallingOutOfRetentionResyncsOnlyTheLosers) {
  Hub::Options options = Options(/*max_events=*/5);
  options.outbox.max_items = 2;
  Hub hub(options);
  Stream s(hub);
  const TargetKey f = EntryTargetKey("F"), g = EntryTargetKey("G");
  ASSERT_TRUE(hub.Advise(s.box.get(), 1, f, kAll).ok());
  ASSERT_TRUE(hub.Advise(s.box.get(), 2, g, kAll).ok());
  for (int i = 0; i < 12; ++i) Pub(hub, v1::fnevObjectCreated, {f});  // 1..12
  // 1, 2 queued; 3.. dropped for connection 1 only; 3..7 evicted.
  const auto responses = s.Drain();
  EXPECT_EQ(Sequences(Deliveries(responses)), (std::vector<uint64_t>{1, 2}));
  const auto controls = Controls(responses);
  ASSERT_TRUE(controls.back().has_resync());
  const v1::Resync& resync = controls.back().resync();
  EXPECT_EQ(std::vector<uint64_t>(resync.connections().begin(),
                                  resync.connections().end()),
            (std::vector<uint64_t>{1}));
  EXPECT_EQ(resync.resume_sequence(), 12u);
  EXPECT_NE(resync.reason().find("retention"), std::string::npos);
  EXPECT_EQ(hub.GetStats().catch_up_resyncs, 1u);
  EXPECT_EQ(Sequences(Deliveries(s.Drain())).size(), 2u);
  const uint64_t live = Pub(hub, v1::fnevObjectCreated, {f});
  EXPECT_EQ(Sequences(Deliveries(s.Drain())).back(), live);
}

TEST(HubSealTest, FinalMarksThenNothingMore) {
  Hub::Options options = Options(/*max_events=*/0);  // Drop, then resync.
  options.outbox.max_items = 2;
  Hub hub(options);
  Stream a(hub), overflowed(hub), bare(hub);
  ASSERT_TRUE(hub.Advise(a.box.get(), 1, EntryTargetKey("F"), kAll).ok());
  ASSERT_TRUE(hub.Advise(overflowed.box.get(), 1, StoreTargetKey(), kAll).ok());
  for (int i = 0; i < 4; ++i) Pub(hub, v1::fnevObjectCreated, {});
  hub.Seal();
  hub.Seal();                                              // Idempotent.
  Pub(hub, v1::fnevObjectCreated, {EntryTargetKey("F")});  // 5: to no one.
  EXPECT_EQ(hub.Advise(a.box.get(), 2, StoreTargetKey(), kAll).code(),
            absl::StatusCode::kUnavailable);

  auto controls = Controls(a.Drain());
  ASSERT_EQ(controls.size(), 4u);  // hello, advised, mark, advised (refused).
  EXPECT_EQ(controls[2].progress().sequence(), 4u);
  EXPECT_TRUE(Deliveries(a.writer.responses()).empty());

  const auto responses = overflowed.Drain();
  EXPECT_EQ(Sequences(Deliveries(responses)), (std::vector<uint64_t>{1, 2}));
  controls = Controls(responses);
  ASSERT_EQ(controls.size(), 4u);  // hello, advised, resync, final mark.
  EXPECT_EQ(controls[2].resync().resume_sequence(), 4u);
  EXPECT_EQ(controls[3].progress().sequence(), 4u);

  controls = Controls(bare.Drain());
  ASSERT_EQ(controls.size(), 2u);  // hello, final mark.
  EXPECT_EQ(controls[1].progress().sequence(), 4u);
  EXPECT_TRUE(a.box->empty());
}

}  // namespace
}  // namespace mapinotify::server
