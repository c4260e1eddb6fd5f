// StateNotifier: session state transitions reach the state sink on its
// loop's thread, in order, never after Close().
#include "client/internal/state_notifier.h"

#include <memory>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "client/notification_thread.h"
#include "gtest/gtest.h"
#include "mapinotify/message_loop.h"
#include "mapinotify/session.h"

namespace mapinotify::internal {
namespace {

constexpr absl::Duration kTimeout = absl::Seconds(30);

// Records each call and its thread; optionally blocks in a call until
// released. Thread-safe.
class Recorder : public SessionStateSink {
 public:
  void OnSessionState(SessionState state, const absl::Status& why) override {
    absl::MutexLock lock(&mu_);
    states_.push_back(state);
    codes_.push_back(why.code());
    threads_.push_back(std::this_thread::get_id());
    in_call_ = true;
    mu_.Await(absl::Condition(
        +[](Recorder* r)
             ABSL_EXCLUSIVE_LOCKS_REQUIRED(r->mu_) { return !r->block_; },
        this));
    in_call_ = false;
  }
  bool WaitForCalls(size_t n) {
    absl::MutexLock lock(&mu_);
    struct Args {
      Recorder* r;
      size_t n;
    } args{this, n};
    return mu_.AwaitWithTimeout(
        absl::Condition(
            +[](Args* a) ABSL_EXCLUSIVE_LOCKS_REQUIRED(a->r->mu_) {
              return a->r->states_.size() >= a->n;
            },
            &args),
        kTimeout);
  }
  void SetBlock(bool block) {
    absl::MutexLock lock(&mu_);
    block_ = block;
  }
  bool in_call() const {
    absl::MutexLock lock(&mu_);
    return in_call_;
  }
  std::vector<SessionState> states() const {
    absl::MutexLock lock(&mu_);
    return states_;
  }
  std::vector<absl::StatusCode> codes() const {
    absl::MutexLock lock(&mu_);
    return codes_;
  }
  std::vector<std::thread::id> threads() const {
    absl::MutexLock lock(&mu_);
    return threads_;
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<SessionState> states_ ABSL_GUARDED_BY(mu_);
  std::vector<absl::StatusCode> codes_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread::id> threads_ ABSL_GUARDED_BY(mu_);
  bool block_ ABSL_GUARDED_BY(mu_) = false;
  bool in_call_ ABSL_GUARDED_BY(mu_) = false;
};

TEST(StateNotifier, DeliversInOrderOnTheLoopThread) {
  NotificationThread thread;
  auto sink = std::make_shared<Recorder>();
  auto notifier = std::make_shared<StateNotifier>(thread.core(), sink);
  // Posted from another thread than the loop's.
  notifier->Post(SessionState::kReconnecting, absl::UnavailableError("cut"));
  notifier->Post(SessionState::kConnected, absl::OkStatus());
  notifier->Post(SessionState::kReconnecting, absl::UnavailableError("cut"));
  notifier->Post(SessionState::kLost, absl::DeadlineExceededError("gone"));
  ASSERT_TRUE(sink->WaitForCalls(4));
  EXPECT_EQ(sink->states(),
            (std::vector<SessionState>{
                SessionState::kReconnecting, SessionState::kConnected,
                SessionState::kReconnecting, SessionState::kLost}));
  EXPECT_EQ(sink->codes(),
            (std::vector<absl::StatusCode>{
                absl::StatusCode::kUnavailable, absl::StatusCode::kOk,
                absl::StatusCode::kUnavailable,
                absl::StatusCode::kDeadlineExceeded}));
  for (std::thread::id id : sink->threads()) {
    EXPECT_EQ(id, thread.thread_id());
  }
  notifier->Close();
}

TEST(StateNotifier, RunsOnlyWhileTheOwningThreadPumpsItsLoop) {
  MessageLoop loop;
  auto sink = std::make_shared<Recorder>();
  auto notifier = std::make_shared<StateNotifier>(loop.core(), sink);
  std::thread poster([&] {
    notifier->Post(SessionState::kReconnecting, absl::UnavailableError("x"));
  });
  poster.join();
  EXPECT_TRUE(sink->states().empty());  // Not pumped yet.
  EXPECT_EQ(loop.RunUntilIdle(), 1u);
  ASSERT_EQ(sink->threads().size(), 1u);
  EXPECT_EQ(sink->threads()[0], std::this_thread::get_id());
  notifier->Close();
}

TEST(StateNotifier, AnUnpumpedLoopKeepsABoundedQueueEndingOnTheLatest) {
  MessageLoop loop;
  auto sink = std::make_shared<Recorder>();
  auto notifier = std::make_shared<StateNotifier>(loop.core(), sink);
  for (size_t i = 0; i < 10 * StateNotifier::kMaxPending; ++i) {
    notifier->Post(
        i % 2 == 0 ? SessionState::kReconnecting : SessionState::kConnected,
        absl::OkStatus());
  }
  notifier->Post(SessionState::kLost, absl::UnavailableError("gone"));
  loop.RunUntilIdle();
  const std::vector<SessionState> states = sink->states();
  ASSERT_EQ(states.size(), StateNotifier::kMaxPending);
  EXPECT_EQ(states.front(), SessionState::kReconnecting);
  EXPECT_EQ(states.back(), SessionState::kLost);
  notifier->Close();
}

TEST(StateNotifier, CloseIsAFence) {
  NotificationThread thread;
  auto sink = std::make_shared<Recorder>();
  auto notifier = std::make_shared<StateNotifier>(thread.core(), sink);
  sink->SetBlock(true);
  notifier->Post(SessionState::kReconnecting, absl::UnavailableError("x"));
  notifier->Post(SessionState::kConnected, absl::OkStatus());
  ASSERT_TRUE(sink->WaitForCalls(1));  // Blocked inside the first call.
  absl::Notification closed;
  std::thread closer([&] {
    notifier->Close();
    closed.Notify();
  });
  // Close waits for the running call (a negative check would need time; the
  // positive one: it returns once the call is released, and then no call is
  // running and the second transition never comes).
  sink->SetBlock(false);
  ASSERT_TRUE(closed.WaitForNotificationWithTimeout(kTimeout));
  closer.join();
  EXPECT_FALSE(sink->in_call());
  notifier->Post(SessionState::kLost, absl::OkStatus());  // Ignored.
  // Drain whatever the loop still holds, then check.
  absl::Notification drained;
  ASSERT_TRUE(thread.core()->PostTask([&] { drained.Notify(); }).ok());
  ASSERT_TRUE(drained.WaitForNotificationWithTimeout(kTimeout));
  const std::vector<SessionState> states = sink->states();
  EXPECT_LE(states.size(), 2u);
  EXPECT_NE(states.back(), SessionState::kLost);
}

}  // namespace
}  // namespace mapinotify::internal
