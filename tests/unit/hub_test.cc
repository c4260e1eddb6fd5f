// Hub: hello, matching (entry / store / table / mask), one delivery per
// stream, ends_batch, Advise / Unadvise answers, overflow through the hub.
#include "server/hub/hub.h"

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "mapinotify/mapi.h"
#include "server/hub/hub_testing.h"

namespace mapinotify::server {
namespace {

using testing::Controls;
using testing::Deliveries;
using testing::ObjectNotification;

constexpr uint32_t kAll = kKnownEventMask;

std::vector<uint64_t> Conns(const v1::Delivered& d) {
  return {d.connections().begin(), d.connections().end()};
}

PublishItem Item(v1::EventType type, std::vector<TargetKey> targets,
                 std::string entry = "m") {
  return PublishItem{ObjectNotification(type, std::move(entry)),
                     std::move(targets)};
}

uint64_t Pub(Hub& hub, v1::EventType type, std::vector<TargetKey> targets) {
  std::vector<PublishItem> items;
  items.push_back(Item(type, std::move(targets)));
  return hub.Publish(std::move(items));
}

// One stream of `hub`, written by hand on the test thread.
struct Stream {
  explicit Stream(Hub& hub) : writer(/*threaded=*/false) {
    box = hub.OpenStream(writer.WakeCallback());
    writer.Attach(box);
  }
  std::vector<v1::SubscribeResponse> Drain() {
    writer.DrainNow();
    return writer.responses();
  }
  std::vector<v1::Delivered> DrainDeliveries() { return Deliveries(Drain()); }
  testing::RecordingWriter writer;
  std::shared_ptr<Outbox> box;
};

Hub::Options FixedEpoch() {
  Hub::Options options;
  options.epoch = 77;
  return options;
}

TEST(HubTest, HelloComesFirstWithEpochAndLastSequence) {
  Hub hub(FixedEpoch());
  EXPECT_EQ(hub.epoch(), 77u);
  Pub(hub, v1::fnevObjectCreated, {});
  EXPECT_EQ(Pub(hub, v1::fnevObjectCreated, {}), 2u);
  Stream s(hub);
  const auto responses = s.Drain();
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].hello().epoch(), 77u);
  EXPECT_EQ(responses[0].hello().sequence(), 2u);
  EXPECT_NE(Hub().epoch(), 0u);  // Random, nonzero.
}

TEST(HubTest, MatchesByEntryStoreTableAndMask) {
  Hub::Options options = FixedEpoch();
  options.validator = [](const TargetKey& key) {
    if (GetTargetKind(key) == TargetKind::kTable) return absl::OkStatus();
    return DefaultTargetValidator(key);
  };
  Hub hub(options);
  Stream s(hub);
  const TargetKey f = EntryTargetKey("F"), g = EntryTargetKey("G");
  ASSERT_TRUE(hub.Advise(s.box.get(), 1, StoreTargetKey(), kAll).ok());
  ASSERT_TRUE(hub.Advise(s.box.get(), 2, f, fnevObjectCreated).ok());
  ASSERT_TRUE(hub.Advise(s.box.get(), 3, f, fnevNewMail).ok());
  ASSERT_TRUE(hub.Advise(s.box.get(), 4, g, kAll).ok());
  ASSERT_TRUE(
      hub.Advise(s.box.get(), 5, TableTargetKey(7), fnevTableModified).ok());
  ASSERT_TRUE(hub.Advise(s.box.get(), 6, StoreTargetKey(), fnevNewMail).ok());
  EXPECT_EQ(hub.GetStats().registrations, 6u);

  Pub(hub, v1::fnevObjectCreated, {f});                     // 1
  Pub(hub, v1::fnevNewMail, {f, StoreTargetKey()});         // 2
  Pub(hub, v1::fnevObjectModified, {EntryTargetKey("H")});  // 3
  Pub(hub, v1::fnevObjectCreated, {g, f, g});               // 4
  Pub(hub, v1::fnevTableModified, {TableTargetKey(7)});     // 5
  Pub(hub, v1::fnevExtended, {g});                          // 6
  Pub(hub, v1::fnevTableModified, {TableTargetKey(8)});     // 7
  Pub(hub, v1::EVENT_TYPE_UNSPECIFIED, {f});                // 8: nobody

  const auto d = s.DrainDeliveries();
  ASSERT_EQ(d.size(), 7u);
  const std::vector<std::vector<uint64_t>> want = {
      {1, 2}, {1, 3, 6}, {1}, {1, 2, 4}, {1, 5}, {1, 4}, {1}};
  for (size_t i = 0; i < d.size(); ++i) {
    EXPECT_EQ(d[i].sequence(), i + 1);
    EXPECT_EQ(Conns(d[i]), want[i]) << "sequence " << i + 1;
    EXPECT_TRUE(d[i].ends_batch());
  }
  EXPECT_EQ(d[5].notification().event_type(), v1::fnevExtended);
}

TEST(HubTest, EachNotificationOncePerStreamWithAllItsConnections) {
  Hub hub(FixedEpoch());
  Stream a(hub), b(hub);
  const TargetKey f = EntryTargetKey("F");
  ASSERT_TRUE(hub.Advise(a.box.get(), 10, StoreTargetKey(), kAll).ok());
  ASSERT_TRUE(hub.Advise(a.box.get(), 12, f, kAll).ok());
  ASSERT_TRUE(hub.Advise(a.box.get(), 11, f, kAll).ok());
  ASSERT_TRUE(hub.Advise(b.box.get(), 10, f, kAll).ok());  // Same number.
  Pub(hub, v1::fnevObjectDeleted, {f});
  const auto da = a.DrainDeliveries();
  const auto db = b.DrainDeliveries();
  ASSERT_EQ(da.size(), 1u);
  ASSERT_EQ(db.size(), 1u);
  EXPECT_EQ(Conns(da[0]), (std::vector<uint64_t>{10, 11, 12}));
  EXPECT_EQ(Conns(db[0]), (std::vector<uint64_t>{10}));
  EXPECT_EQ(da[0].notification().event_type(), v1::fnevObjectDeleted);
  EXPECT_EQ(da[0].notification().object().entry_id(), "m");
}

TEST(HubTest, EndsBatchMarksTheLastDeliveryOfEachStream) {
  Hub hub(FixedEpoch());
  Stream a(hub), b(hub), c(hub), idle(hub);
  const TargetKey x = EntryTargetKey("X"), y = EntryTargetKey("Y");
  ASSERT_TRUE(hub.Advise(a.box.get(), 1, x, kAll).ok());
  ASSERT_TRUE(hub.Advise(b.box.get(), 1, y, kAll).ok());
  ASSERT_TRUE(hub.Advise(c.box.get(), 1, StoreTargetKey(), kAll).ok());
  std::vector<PublishItem> items;
  items.push_back(Item(v1::fnevObjectCreated, {x}, "1"));
  items.push_back(Item(v1::fnevObjectCreated, {y}, "2"));
  items.push_back(Item(v1::fnevObjectModified, {x}, "3"));
  items.push_back(Item(v1::fnevObjectModified, {y}, "4"));
  items.push_back(Item(v1::fnevObjectModified, {EntryTargetKey("Z")}, "5"));
  EXPECT_EQ(hub.Publish(std::move(items)), 5u);
  EXPECT_EQ(hub.Publish({}), 5u);

  const auto da = a.DrainDeliveries(), db = b.DrainDeliveries(),
             dc = c.DrainDeliveries();
  ASSERT_EQ(da.size(), 2u);
  EXPECT_EQ(da[0].sequence(), 1u);
  EXPECT_FALSE(da[0].ends_batch());
  EXPECT_EQ(da[1].sequence(), 3u);
  EXPECT_TRUE(da[1].ends_batch());
  EXPECT_EQ(da[1].notification().object().entry_id(), "3");
  ASSERT_EQ(db.size(), 2u);
  EXPECT_EQ(db[0].sequence(), 2u);
  EXPECT_FALSE(db[0].ends_batch());
  EXPECT_EQ(db[1].sequence(), 4u);
  EXPECT_TRUE(db[1].ends_batch());
  ASSERT_EQ(dc.size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(dc[i].sequence(), i + 1);
    EXPECT_EQ(dc[i].ends_batch(), i == 4);
  }
  EXPECT_TRUE(idle.DrainDeliveries().empty());
}

void ExpectAdvised(const v1::SubscribeResponse& r, uint64_t connection,
                   absl::StatusCode code, int32_t scode) {
  ASSERT_TRUE(r.has_advised()) << r.DebugString();
  EXPECT_EQ(r.advised().connection(), connection);
  EXPECT_EQ(r.advised().status().code(), static_cast<int32_t>(code));
  EXPECT_EQ(r.advised().status().scode(), scode);
  EXPECT_EQ(r.advised().status().message().empty(),
            code == absl::StatusCode::kOk);
}

TEST(HubTest, AdviseValidationErrorsAreAnsweredAndOthersKeepWorking) {
  Hub hub(FixedEpoch());
  Stream s(hub);
  Outbox* box = s.box.get();
  const TargetKey f = EntryTargetKey("F");
  EXPECT_TRUE(hub.Advise(box, 5, f, kAll).ok());
  EXPECT_EQ(hub.Advise(box, 0, f, kAll).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(hub.Advise(box, 5, f, kAll).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(hub.Advise(box, 6, f, 0).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(hub.Advise(box, 7, f, fnevNewMail | 0x400).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(hub.Advise(box, 8, TableTargetKey(99), kAll).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(hub.Advise(box, 9, EntryTargetKey(""), kAll).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(hub.Advise(box, 10, TargetKey("bogus"), kAll).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(hub.GetStats().registrations, 1u);
  Pub(hub, v1::fnevObjectCreated, {f});

  const auto responses = s.Drain();
  const auto controls = Controls(responses);
  ASSERT_EQ(controls.size(), 9u);  // hello + 8 answers
  using C = absl::StatusCode;
  ExpectAdvised(controls[1], 5, C::kOk, S_OK);
  ExpectAdvised(controls[2], 0, C::kInvalidArgument, MAPI_E_INVALID_PARAMETER);
  ExpectAdvised(controls[3], 5, C::kAlreadyExists, MAPI_E_COLLISION);
  ExpectAdvised(controls[4], 6, C::kInvalidArgument, MAPI_E_INVALID_PARAMETER);
  ExpectAdvised(controls[5], 7, C::kInvalidArgument, MAPI_E_INVALID_PARAMETER);
  ExpectAdvised(controls[6], 8, C::kNotFound, MAPI_E_NOT_FOUND);
  ExpectAdvised(controls[7], 9, C::kInvalidArgument, MAPI_E_INVALID_PARAMETER);
  ExpectAdvised(controls[8], 10, C::kInvalidArgument, MAPI_E_INVALID_PARAMETER);
  const auto d = Deliveries(responses);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(Conns(d[0]), (std::vector<uint64_t>{5}));
  EXPECT_TRUE(responses.back().has_batch());
}

TEST(HubTest, UnadviseAnswersAfterQueuedDeliveriesAndUnknownIsNotFound) {
  Hub hub(FixedEpoch());
  Stream s(hub);
  Outbox* box = s.box.get();
  EXPECT_EQ(hub.Unadvise(box, 9).code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(hub.Advise(box, 1, StoreTargetKey(), kAll).ok());
  Pub(hub, v1::fnevObjectCreated, {});
  EXPECT_TRUE(hub.Unadvise(box, 1).ok());
  Pub(hub, v1::fnevObjectCreated, {});  // Nobody.
  ASSERT_TRUE(hub.Advise(box, 1, StoreTargetKey(), fnevNewMail).ok());
  Pub(hub, v1::fnevNewMail, {});
  EXPECT_EQ(hub.GetStats().registrations, 1u);

  const auto r = s.Drain();
  ASSERT_EQ(r.size(), 7u);
  EXPECT_TRUE(r[0].has_hello());
  ASSERT_TRUE(r[1].has_unadvised());
  EXPECT_EQ(r[1].unadvised().connection(), 9u);
  EXPECT_EQ(r[1].unadvised().status().code(),
            static_cast<int32_t>(absl::StatusCode::kNotFound));
  EXPECT_EQ(r[1].unadvised().status().scode(), MAPI_E_NOT_FOUND);
  ExpectAdvised(r[2], 1, absl::StatusCode::kOk, S_OK);
  ASSERT_EQ(r[3].batch().notifications_size(), 1);
  EXPECT_EQ(r[3].batch().notifications(0).sequence(), 1u);
  ASSERT_TRUE(r[4].has_unadvised());
  EXPECT_EQ(r[4].unadvised().status().code(), 0);
  EXPECT_EQ(r[4].unadvised().status().scode(), S_OK);
  ExpectAdvised(r[5], 1, absl::StatusCode::kOk, S_OK);
  ASSERT_EQ(r[6].batch().notifications_size(), 1);
  EXPECT_EQ(r[6].batch().notifications(0).sequence(), 3u);
}

TEST(HubTest, CallbacksRunWithoutTheHubLock) {
  Hub::Options options = FixedEpoch();
  Hub* hub_ptr = nullptr;
  std::vector<std::string> validated;
  options.validator = [&](const TargetKey& key) {
    hub_ptr->GetStats();  // Would self-deadlock under the hub lock.
    validated.push_back(DescribeTargetKey(key));
    return GetTargetKind(key) == TargetKind::kTable
               ? absl::OkStatus()
               : DefaultTargetValidator(key);
  };
  Hub hub(options);
  hub_ptr = &hub;
  int wakes = 0;
  std::shared_ptr<Outbox> box = hub.OpenStream([&] {
    ++wakes;
    hub.last_sequence();  // Would self-deadlock under the hub lock.
  });
  v1::SubscribeResponse out;
  ASSERT_TRUE(box->TakeWrite(&out));  // hello; no wake was sent for it.
  EXPECT_EQ(wakes, 0);
  EXPECT_FALSE(box->FinishWrite(&out));
  ASSERT_TRUE(hub.Advise(box.get(), 1, TableTargetKey(7), kAll).ok());
  EXPECT_EQ(wakes, 1);
  EXPECT_EQ(validated, (std::vector<std::string>{"table view 7"}));
  ASSERT_TRUE(box->TakeWrite(&out));
  EXPECT_FALSE(box->FinishWrite(&out));
  Pub(hub, v1::fnevTableModified, {TableTargetKey(7)});
  EXPECT_EQ(wakes, 2);
  hub.CloseStream(box.get());
}

// The drop policy of a hub without retention (catch-up from retention is in
// hub_resume_test).
TEST(HubTest, OverflowResyncNamesExactlyTheLosersThenLiveDeliveryGoesOn) {
  Hub::Options options = FixedEpoch();
  options.outbox.max_items = 3;
  options.retention.max_events = 0;
  Hub hub(options);
  Stream slow(hub), fast(hub);
  const TargetKey x = EntryTargetKey("X"), y = EntryTargetKey("Y");
  ASSERT_TRUE(hub.Advise(slow.box.get(), 1, x, kAll).ok());
  ASSERT_TRUE(hub.Advise(slow.box.get(), 2, y, kAll).ok());
  ASSERT_TRUE(
      hub.Advise(slow.box.get(), 3, StoreTargetKey(), fnevNewMail).ok());
  ASSERT_TRUE(hub.Advise(fast.box.get(), 1, StoreTargetKey(), kAll).ok());
  slow.Drain();  // hello and answers
  // The fast stream (same bounds) keeps up: it drains after every publish.
  const auto publish = [&](v1::EventType type, TargetKey target) {
    Pub(hub, type, {std::move(target)});
    fast.Drain();
  };
  for (int i = 0; i < 3; ++i) publish(v1::fnevObjectCreated, x);  // 1-3
  publish(v1::fnevObjectCreated, y);  // 4: dropped, loses 2
  publish(v1::fnevObjectCreated, x);  // 5: dropped, loses 1
  EXPECT_EQ(slow.box->GetStats().dropped_deliveries, 2u);
  EXPECT_LE(slow.box->GetStats().queued_deliveries, 3u);

  const auto r = slow.Drain();
  Pub(hub, v1::fnevNewMail, {});         // 6: live again, conn 3
  Pub(hub, v1::fnevObjectDeleted, {x});  // 7: conn 1
  const auto after = slow.Drain();
  ASSERT_EQ(after.size(), r.size() + 1);  // 6 and 7 in one batch
  int resyncs = 0;
  for (const auto& m : after) {
    if (!m.has_resync()) continue;
    ++resyncs;
    EXPECT_EQ(std::vector<uint64_t>(m.resync().connections().begin(),
                                    m.resync().connections().end()),
              (std::vector<uint64_t>{1, 2}));
    EXPECT_EQ(m.resync().resume_sequence(), 5u);
  }
  EXPECT_EQ(resyncs, 1);
  EXPECT_TRUE(after[after.size() - 2].has_resync());
  const auto d = Deliveries(after);
  ASSERT_EQ(d.size(), 5u);
  const std::vector<uint64_t> seqs = {1, 2, 3, 6, 7};
  for (size_t i = 0; i < d.size(); ++i) EXPECT_EQ(d[i].sequence(), seqs[i]);
  EXPECT_EQ(Conns(d[3]), (std::vector<uint64_t>{3}));
  EXPECT_EQ(Conns(d[4]), (std::vector<uint64_t>{1}));

  const auto df = fast.DrainDeliveries();
  ASSERT_EQ(df.size(), 7u);  // The fast stream lost nothing.
  EXPECT_EQ(fast.box->GetStats().dropped_deliveries, 0u);
}

TEST(HubTest, CloseStreamRemovesItsRegistrations) {
  Hub hub(FixedEpoch());
  Stream a(hub), b(hub);
  ASSERT_TRUE(hub.Advise(a.box.get(), 1, StoreTargetKey(), kAll).ok());
  ASSERT_TRUE(hub.Advise(a.box.get(), 2, EntryTargetKey("F"), kAll).ok());
  ASSERT_TRUE(hub.Advise(b.box.get(), 1, EntryTargetKey("F"), kAll).ok());
  EXPECT_EQ(hub.GetStats().streams, 2u);
  EXPECT_EQ(hub.GetStats().registrations, 3u);
  hub.CloseStream(a.box.get());
  EXPECT_EQ(hub.GetStats().streams, 1u);
  EXPECT_EQ(hub.GetStats().registrations, 1u);
  EXPECT_TRUE(a.box->GetStats().closed);
  EXPECT_EQ(hub.Advise(a.box.get(), 3, StoreTargetKey(), kAll).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(hub.Unadvise(a.box.get(), 1).code(),
            absl::StatusCode::kFailedPrecondition);
  Pub(hub, v1::fnevObjectCreated, {EntryTargetKey("F")});
  EXPECT_EQ(b.DrainDeliveries().size(), 1u);
  hub.CloseStream(a.box.get());  // Again: no-op.
}

}  // namespace
}  // namespace mapinotify::server
