// Waker: a few wakes run on the caller's thread; many run, in order, on the
// waker's own thread; the hub hands a fan-out Publish's wakes to it.
#include "server/hub/waker.h"

#include <memory>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "server/hub/hub.h"
#include "server/hub/hub_testing.h"

namespace mapinotify::server {
namespace {

// Records which thread ran each outbox's wake, in the order they ran.
class WakeLog {
 public:
  std::function<void()> Callback(int id) {
    return [this, id] {
      absl::MutexLock lock(&mu_);
      runs_.push_back({id, std::this_thread::get_id()});
    };
  }
  // Waits until `n` wakes ran; returns them.
  std::vector<std::pair<int, std::thread::id>> WaitFor(size_t n) {
    absl::MutexLock lock(&mu_);
    auto enough = [this, n]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
      return runs_.size() >= n;
    };
    mu_.Await(absl::Condition(&enough));
    return runs_;
  }

 private:
  absl::Mutex mu_;
  std::vector<std::pair<int, std::thread::id>> runs_ ABSL_GUARDED_BY(mu_);
};

// Outboxes with something queued, so that each owes its wake.
std::vector<std::shared_ptr<Outbox>> Due(WakeLog& log, int n) {
  std::vector<std::shared_ptr<Outbox>> out;
  for (int i = 0; i < n; ++i) {
    auto box = std::make_shared<Outbox>(Outbox::Options(), log.Callback(i));
    v1::SubscribeResponse r;
    r.mutable_progress()->set_sequence(1);
    EXPECT_TRUE(box->PushControl(r));
    out.push_back(std::move(box));
  }
  return out;
}

TEST(WakerTest, AFewWakesRunOnTheCallersThread) {
  WakeLog log;
  Waker waker(/*inline_max=*/4);
  std::vector<std::shared_ptr<Outbox>> due = Due(log, 4);
  waker.Run(&due);
  EXPECT_TRUE(due.empty());
  const auto runs = log.WaitFor(4);
  for (const auto& [id, thread] : runs) {
    EXPECT_EQ(thread, std::this_thread::get_id()) << id;
  }
  EXPECT_EQ(waker.handed_over(), 0u);
}

TEST(WakerTest, ManyWakesRunInOrderOnTheWakersThread) {
  WakeLog log;
  Waker waker(/*inline_max=*/4);
  std::vector<std::shared_ptr<Outbox>> first = Due(log, 5);
  std::vector<std::shared_ptr<Outbox>> second = Due(log, 5);
  waker.Run(&first);
  waker.Run(&second);
  const auto runs = log.WaitFor(10);
  ASSERT_EQ(runs.size(), 10u);
  for (size_t i = 0; i < runs.size(); ++i) {
    EXPECT_NE(runs[i].second, std::this_thread::get_id()) << i;
    EXPECT_EQ(runs[i].second, runs[0].second) << i;  // One thread.
    EXPECT_EQ(runs[i].first, static_cast<int>(i % 5)) << i;
  }
  EXPECT_EQ(waker.handed_over(), 10u);
}

TEST(WakerTest, HubHandsAFanOutPublishToTheWaker) {
  Hub::Options options;
  options.inline_wakes = 2;
  Hub hub(options);
  WakeLog log;
  std::vector<std::shared_ptr<Outbox>> streams;
  for (int i = 0; i < 3; ++i) {
    streams.push_back(hub.OpenStream(log.Callback(i)));
    // Drain `hello` so that the stream is idle and owes no wake.
    v1::SubscribeResponse out;
    ASSERT_TRUE(streams.back()->TakeWrite(&out));
    (void)streams.back()->FinishWrite(&out);
  }
  // Two advised answers on one stream: one wake, on this thread.
  ASSERT_TRUE(
      hub.Advise(streams[0].get(), 1, StoreTargetKey(), kKnownEventMask).ok());
  ASSERT_TRUE(log.WaitFor(1)[0].second == std::this_thread::get_id());
  for (int i = 0; i < 3; ++i) {
    v1::SubscribeResponse out;
    if (i != 0) {
      ASSERT_TRUE(
          hub.Advise(streams[i].get(), 1, StoreTargetKey(), kKnownEventMask)
              .ok());
    }
    ASSERT_TRUE(streams[i]->TakeWrite(&out));  // advised
    EXPECT_TRUE(out.has_advised());
    (void)streams[i]->FinishWrite(&out);
  }
  const size_t before = log.WaitFor(3).size();
  std::vector<PublishItem> items;
  items.push_back(PublishItem{
      testing::ObjectNotification(v1::fnevObjectModified, "m"), {}});
  hub.Publish(std::move(items));
  const auto runs = log.WaitFor(before + 3);
  for (size_t i = before; i < runs.size(); ++i) {
    EXPECT_NE(runs[i].second, std::this_thread::get_id());
  }
  EXPECT_EQ(hub.wakes_handed_over(), 3u);
  for (const auto& s : streams) hub.CloseStream(s.get());
}

}  // namespace
}  // namespace mapinotify::server
