// Coalesce: which notifications of a slow stream's refill window are merged
// and which never are (server/hub/coalesce.h).
#include "server/hub/coalesce.h"

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "server/hub/hub.h"
#include "server/hub/hub_testing.h"

namespace mapinotify::server {
namespace {

using testing::ObjectNotification;

WindowItem Object(uint64_t sequence, v1::EventType type, std::string entry,
                  std::vector<uint32_t> tags = {}, ConnectionList c = {1}) {
  v1::Notification n = ObjectNotification(type, std::move(entry));
  if (!tags.empty()) {
    n.mutable_object()->clear_prop_tags();
    for (uint32_t t : tags) n.mutable_object()->add_prop_tags(t);
  }
  return WindowItem{std::make_shared<const Event>(sequence, std::move(n)),
                    std::move(c)};
}

WindowItem Row(uint64_t sequence, v1::TableEvent type, uint64_t view,
               const std::string& row) {
  v1::Notification n;
  n.set_event_type(v1::fnevTableModified);
  n.mutable_table()->set_table_event(type);
  n.mutable_table()->mutable_index_key()->set_tag(0x0FF60102);
  n.mutable_table()->mutable_index_key()->set_bin(row);
  return WindowItem{
      std::make_shared<const Event>(
          sequence, std::move(n), std::vector<TargetKey>{TableTargetKey(view)}),
      {1}};
}

std::vector<uint64_t> Sequences(const std::vector<WindowItem>& w) {
  std::vector<uint64_t> out;
  for (const WindowItem& i : w) out.push_back(i.event->sequence());
  return out;
}

TEST(CoalesceTest, ObjectModifiedOfOneEntryBecomesTheLaterWithAllTags) {
  std::vector<WindowItem> w;
  w.push_back(Object(1, v1::fnevObjectModified, "X", {10, 20}));
  w.push_back(Object(2, v1::fnevObjectModified, "Y", {10}));
  w.push_back(Object(3, v1::fnevObjectModified, "X", {20, 30}));
  w.push_back(Object(4, v1::fnevObjectModified, "X", {40}));
  EXPECT_EQ(Coalesce(&w), 2u);
  EXPECT_EQ(Sequences(w), (std::vector<uint64_t>{2, 4}));
  const auto& tags = w[1].event->notification().object().prop_tags();
  EXPECT_EQ(std::vector<uint32_t>(tags.begin(), tags.end()),
            (std::vector<uint32_t>{40, 20, 30, 10}));
}

TEST(CoalesceTest, NeverAcrossAnotherEventAboutTheEntry) {
  std::vector<WindowItem> w;
  w.push_back(Object(1, v1::fnevObjectModified, "X"));
  w.push_back(Object(2, v1::fnevObjectMoved, "X"));
  w.push_back(Object(3, v1::fnevObjectModified, "X"));
  EXPECT_EQ(Coalesce(&w), 0u);
  EXPECT_EQ(Sequences(w), (std::vector<uint64_t>{1, 2, 3}));
}

TEST(CoalesceTest, NeverAcrossDifferentConnections) {
  std::vector<WindowItem> w;
  w.push_back(Object(1, v1::fnevObjectModified, "X", {}, {1}));
  w.push_back(Object(2, v1::fnevObjectModified, "X", {}, {1, 2}));
  EXPECT_EQ(Coalesce(&w), 0u);
}

TEST(CoalesceTest, NewMailCreatedDeletedAreNeverMerged) {
  std::vector<WindowItem> w;
  for (uint64_t s = 1; s <= 2; ++s) {
    w.push_back(Object(3 * s - 2, v1::fnevNewMail, "X"));
    w.push_back(Object(3 * s - 1, v1::fnevObjectCreated, "X"));
    w.push_back(Object(3 * s, v1::fnevObjectDeleted, "X"));
  }
  EXPECT_EQ(Coalesce(&w), 0u);
  EXPECT_EQ(w.size(), 6u);
}

TEST(CoalesceTest, RowModifiedOnlyWhenConsecutiveInItsView) {
  std::vector<WindowItem> w;
  w.push_back(Row(1, v1::TABLE_ROW_MODIFIED, 7, "a"));
  w.push_back(Row(2, v1::TABLE_ROW_MODIFIED, 8, "z"));  // Another view.
  w.push_back(Row(3, v1::TABLE_ROW_MODIFIED, 7, "a"));  // Merges 1.
  w.push_back(Row(4, v1::TABLE_ROW_MODIFIED, 7, "b"));
  w.push_back(Row(5, v1::TABLE_ROW_MODIFIED, 7, "a"));  // b in between.
  w.push_back(Row(6, v1::TABLE_ROW_ADDED, 7, "c"));
  w.push_back(Row(7, v1::TABLE_ROW_ADDED, 7, "c"));  // Never merged.
  EXPECT_EQ(Coalesce(&w), 1u);
  EXPECT_EQ(Sequences(w), (std::vector<uint64_t>{2, 3, 4, 5, 6, 7}));
}

TEST(CoalesceTest, ManyRowEventsOfOneViewBecomeOneTableChanged) {
  std::vector<WindowItem> w;
  uint64_t s = 0;
  for (size_t i = 0; i < kRowEventsPerView + 1; ++i) {
    w.push_back(Row(++s, v1::TABLE_ROW_ADDED, 7, "r" + std::to_string(i)));
    if (i == 3) w.push_back(Object(++s, v1::fnevNewMail, "M"));
  }
  w.push_back(Row(++s, v1::TABLE_ROW_ADDED, 8, "other view"));
  EXPECT_EQ(Coalesce(&w), kRowEventsPerView);
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[0].event->notification().event_type(), v1::fnevNewMail);
  EXPECT_EQ(w[1].event->sequence(), s - 1);  // In the last one's place.
  EXPECT_EQ(w[1].event->notification().table().table_event(),
            v1::TABLE_CHANGED);
  EXPECT_EQ(w[1].event->targets(), std::vector<TargetKey>{TableTargetKey(7)});
  EXPECT_EQ(w[2].event->notification().table().table_event(),
            v1::TABLE_ROW_ADDED);
  // At the threshold, nothing changes.
  std::vector<WindowItem> few;
  for (size_t i = 0; i < kRowEventsPerView; ++i) {
    few.push_back(Row(i + 1, v1::TABLE_ROW_ADDED, 7, "r" + std::to_string(i)));
  }
  EXPECT_EQ(Coalesce(&few), 0u);
}

// Through the hub: a stalled stream catching up gets one ObjectModified
// per entry run instead of each, the last sequence, and ends_batch intact.
TEST(CoalesceTest, StreamCatchingUpGetsFewerDeliveries) {
  Hub::Options options;
  options.epoch = 1;
  options.outbox.max_items = 4;
  Hub hub(options);
  testing::RecordingWriter writer(/*threaded=*/false);
  std::shared_ptr<Outbox> box = hub.OpenStream(writer.WakeCallback());
  writer.SetRefill([&hub, raw = box.get()] { hub.Refill(raw); });
  writer.Attach(box);
  ASSERT_TRUE(hub.Advise(box.get(), 1, StoreTargetKey(), kKnownEventMask).ok());
  uint64_t last = 0;
  for (int i = 0; i < 100; ++i) {
    std::vector<PublishItem> items;
    items.push_back(
        PublishItem{ObjectNotification(v1::fnevObjectModified, "X"), {}});
    last = hub.Publish(std::move(items));
  }
  writer.DrainNow();
  const auto ds = testing::Deliveries(writer.responses());
  ASSERT_FALSE(ds.empty());
  EXPECT_LT(ds.size(), 20u);
  EXPECT_EQ(ds.back().sequence(), last);
  for (size_t i = 1; i < ds.size(); ++i) {
    EXPECT_LT(ds[i - 1].sequence(), ds[i].sequence());
  }
  for (const auto& d : ds) EXPECT_TRUE(d.ends_batch());  // One per op.
  EXPECT_EQ(hub.GetStats().coalesced, 100 - ds.size());
  hub.CloseStream(box.get());
}

}  // namespace
}  // namespace mapinotify::server
