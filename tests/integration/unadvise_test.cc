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

// Publishes on `folder` as fast as it can, except while paused.
class Publisher {
 public:
  Publisher(server::Hub* hub, std::string folder)
      : thread_([this, hub, folder] {
          uint64_t i = 0;
          while (WaitUnpaused()) {
            std::vector<server::PublishItem> items;
            items.push_back(ObjectModified(folder, i++));
            hub->Publish(std::move(items));
          }
        }) {}
  ~Publisher() {
    {
      absl::MutexLock lock(&mu_);
      stop_ = true;
    }
    thread_.join();
  }

  // Returns once the publisher thread has stopped publishing.
  void Pause() {
    absl::MutexLock lock(&mu_);
    paused_ = true;
    pause_requested_.store(true, std::memory_order_relaxed);
    mu_.Await(absl::Condition(&idle_));
  }
  void Resume() {
    absl::MutexLock lock(&mu_);
    paused_ = false;
    pause_requested_.store(false, std::memory_order_relaxed);
  }

 private:
  // False once stopped. Blocks while paused.
  bool WaitUnpaused() {
    if (!pause_requested_.load(std::memory_order_relaxed)) return true;
    absl::MutexLock lock(&mu_);
    idle_ = true;
    mu_.Await(absl::Condition(
        +[](Publisher* p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(p->mu_) {
          return !p->paused_ || p->stop_;
        },
        this));
    idle_ = false;
    return !stop_;
  }

  absl::Mutex mu_;
  bool paused_ ABSL_GUARDED_BY(mu_) = true;
  bool idle_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  // Lets the publisher skip the lock while it is not asked to pause.
  std::atomic<bool> pause_requested_{true};
  std::thread thread_;
};

void RunFenceRounds(Session& session, server::Server* server,
                    const std::function<std::shared_ptr<AdviseSink>(
                        std::shared_ptr<AdviseSink>)>& wrap) {
  constexpr int kRounds = 200;
  // A marker on the same loop as the sinks under test: once it has run, every
  // notification published before it has been delivered or dropped, so a late
  // call to an unadvised sink would already have happened.
  server::Hub* hub = server->hub();
  const EntryId marker_folder = MakeFolder(server, "marker");
  const EntryId hot = MakeFolder(server, "hot");
  auto marker = std::make_shared<CountingSink>();
  auto m = session.Advise(AdviseTarget::Entry(marker_folder),
                          fnevObjectModified, wrap(marker));
  ASSERT_TRUE(m.ok()) << m.status();
  Publisher publisher(hub, hot);  // Starts paused.
  int total_late = 0;
  for (int round = 0; round < kRounds; ++round) {
    // Advised while the stream is quiet: the answer is not queued behind a
    // flood, so rounds stay fast in sanitizer builds too.
    auto sink = std::make_shared<FenceSink>();
    auto c = session.Advise(AdviseTarget::Entry(hot), fnevObjectModified,
                            wrap(sink));
    ASSERT_TRUE(c.ok()) << c.status();
    publisher.Resume();
    // Cut while the sink is being called, mid-stream, publisher at full speed.
    ASSERT_TRUE(sink->first.WaitForNotificationWithTimeout(absl::Seconds(30)))
        << "no notification in round " << round;
    ASSERT_TRUE(session.Unadvise(*c).ok());
    sink->fence_passed.store(true, std::memory_order_release);
    const size_t entered_at_fence = sink->entered.load();
    publisher.Pause();
    // The marker (or, if the stream overflowed, its resync signal, which is
    // queued after everything before it) closes the round.
    const uint64_t markers = marker->count();
    PublishMany(hub, marker_folder, 1);
    ASSERT_TRUE(marker->WaitForCount(markers + 1));
    total_late += sink->late_entries.load();
    EXPECT_EQ(sink->entered.load(), entered_at_fence) << "round " << round;
  }
  EXPECT_EQ(total_late, 0);
  EXPECT_EQ(session.Unadvise(12345).code(), absl::StatusCode::kNotFound);
}

// A small server queue: with a publisher at full speed the stream lives in
// overflow (drops, then the resync signal), and Advise answers, which queue
// behind the deliveries, stay quick even in a sanitizer build.
server::ServerOptions SmallQueues() {
  server::ServerOptions options;
  options.hub.outbox.max_items = 1024;
  return options;
}

TEST(UnadviseFence, NotificationThreadSinkNeverEnteredAfterUnadvise) {
  auto server = StartServer(SmallQueues());
  auto session = Session::Open(server->target());
  ASSERT_TRUE(session.ok()) << session.status();
  RunFenceRounds(**session, server.get(),
                 [](std::shared_ptr<AdviseSink> s) { return s; });
}

TEST(UnadviseFence, WrappedSinkNeverEnteredAfterUnadvise) {
  auto server = StartServer(SmallQueues());
  auto session = Session::Open(server->target());
  ASSERT_TRUE(session.ok()) << session.status();
  LoopThread third;
  RunFenceRounds(**session, server.get(), [&](std::shared_ptr<AdviseSink> s) {
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
