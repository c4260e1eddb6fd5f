// Unadvise is a fence: once it returns, the sink is never entered again for
// that connection, even with a publisher at full speed on another thread.
#include <atomic>
#include <memory>
#include <thread>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "mapinotify/session.h"
#include "mapinotify/status.h"
#include "tests/integration/test_util.h"

namespace mapinotify::testing {
namespace {

// Counts entries, and entries that began after the test said the fence had
// passed.
class FenceSink : public AdviseSink {
 public:
  void OnNotify(const NotificationBatch& batch) override {
    if (fence_passed.load(std::memory_order_acquire)) {
      late_entries.fetch_add(1, std::memory_order_relaxed);
    }
    if (entered.fetch_add(batch.size(), std::memory_order_release) == 0) {
      first.Notify();
    }
  }
  absl::Notification first;
  std::atomic<bool> fence_passed{false};
  std::atomic<int> late_entries{0};
  std::atomic<size_t> entered{0};
};

// Publishes on `folder` until stopped.
class Publisher {
 public:
  Publisher(server::Hub* hub, std::string folder)
      : thread_([this, hub, folder] {
          uint64_t i = 0;
          while (!stop_.load(std::memory_order_relaxed)) {
            std::vector<server::PublishItem> items;
            items.push_back(ObjectModified(folder, i++));
            hub->Publish(std::move(items));
          }
        }) {}
  ~Publisher() {
    stop_.store(true);
    thread_.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

void RunFenceRounds(Session& session, server::Hub* hub,
                    const std::function<std::shared_ptr<AdviseSink>(
                        std::shared_ptr<AdviseSink>)>& wrap) {
  constexpr int kRounds = 200;
  // A witness on the same loop as the sinks under test: once it has seen
  // more notifications published after the fence, any late delivery to the
  // unadvised connection would have run before them.
  auto witness = std::make_shared<CountingSink>();
  auto w = session.Advise(AdviseTarget::Entry("hot"), fnevObjectModified,
                          wrap(witness));
  ASSERT_TRUE(w.ok()) << w.status();
  Publisher publisher(hub, "hot");
  int total_late = 0;
  for (int round = 0; round < kRounds; ++round) {
    auto sink = std::make_shared<FenceSink>();
    auto c = session.Advise(AdviseTarget::Entry("hot"), fnevObjectModified,
                            wrap(sink));
    ASSERT_TRUE(c.ok()) << c.status();
    // Cut while the sink is being called, mid-stream.
    ASSERT_TRUE(sink->first.WaitForNotificationWithTimeout(absl::Seconds(30)))
        << "no notification in round " << round;
    ASSERT_TRUE(session.Unadvise(*c).ok());
    sink->fence_passed.store(true, std::memory_order_release);
    const size_t entered_at_fence = sink->entered.load();
    ASSERT_TRUE(witness->WaitForCount(witness->count() + 64));
    total_late += sink->late_entries.load();
    EXPECT_EQ(sink->entered.load(), entered_at_fence) << "round " << round;
  }
  EXPECT_EQ(total_late, 0);
  EXPECT_EQ(session.Unadvise(12345).code(), absl::StatusCode::kNotFound);
}

TEST(UnadviseFence, NotificationThreadSinkNeverEnteredAfterUnadvise) {
  auto server = StartServer();
  auto session = Session::Open(server->target());
  ASSERT_TRUE(session.ok()) << session.status();
  RunFenceRounds(**session, server->hub(),
                 [](std::shared_ptr<AdviseSink> s) { return s; });
}

TEST(UnadviseFence, WrappedSinkNeverEnteredAfterUnadvise) {
  auto server = StartServer();
  auto session = Session::Open(server->target());
  ASSERT_TRUE(session.ok()) << session.status();
  LoopThread third;
  RunFenceRounds(**session, server->hub(), [&](std::shared_ptr<AdviseSink> s) {
    std::shared_ptr<AdviseSink> wrapped;
    third.RunSync([&] { wrapped = *ThisThreadAdviseSink(s); });
    return wrapped;
  });
}

TEST(UnadviseFence, UnknownAndRepeatedUnadviseAreNotFound) {
  auto server = StartServer();
  auto session = Session::Open(server->target());
  ASSERT_TRUE(session.ok()) << session.status();
  auto sink = std::make_shared<RecordingSink>();
  auto c = (*session)->Advise(AdviseTarget::Store(), fnevNewMail, sink);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE((*session)->Unadvise(*c).ok());
  absl::Status again = (*session)->Unadvise(*c);
  EXPECT_EQ(again.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ScodeOf(again), MAPI_E_NOT_FOUND);
}

}  // namespace
}  // namespace mapinotify::testing
