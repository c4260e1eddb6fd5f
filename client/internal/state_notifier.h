// StateNotifier: hands a session's state transitions to the application's
// SessionStateSink on the session's default loop. Internal; gRPC-free.
#ifndef MAPINOTIFY_CLIENT_INTERNAL_STATE_NOTIFIER_H_
#define MAPINOTIFY_CLIENT_INTERNAL_STATE_NOTIFIER_H_

#include <cstddef>
#include <deque>
#include <memory>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "client/loop_core.h"
#include "mapinotify/session.h"

namespace mapinotify::internal {

// Queues transitions (Post, from any thread; never calls the sink) and calls
// the sink for each, in order, when its loop runs this source. At most
// kMaxPending transitions wait: past that the newest replaces the last one
// waiting, so the sink still ends on the latest state. Close() is the fence:
// when it returns no call runs on another thread and none will start.
// Thread-safe. Create with std::make_shared (the loop holds it while listed).
class StateNotifier final : public ReadySource,
                            public std::enable_shared_from_this<StateNotifier> {
 public:
  static constexpr size_t kMaxPending = 64;

  StateNotifier(std::shared_ptr<LoopCore> loop,
                std::shared_ptr<SessionStateSink> sink)
      : loop_(std::move(loop)), sink_(std::move(sink)) {}

  // Queues `state` and schedules a drain on the loop. No-op after Close().
  void Post(SessionState state, absl::Status why) ABSL_LOCKS_EXCLUDED(mu_) {
    bool schedule = false;
    {
      absl::MutexLock lock(&mu_);
      if (closed_) return;
      if (queue_.size() >= kMaxPending) queue_.pop_back();
      queue_.push_back(Item{state, std::move(why)});
      if (!scheduled_ && !running_) schedule = scheduled_ = true;
    }
    // Fails only once the loop is destroyed: nothing can be reported then.
    if (schedule) loop_->Schedule(shared_from_this()).IgnoreError();
  }

  // Discards what waits and refuses new transitions. Off the loop's thread,
  // waits for a running call to return; on it (the only thread that calls
  // the sink) nothing can be running except a call this one is nested in,
  // which the caller's contract excludes. Idempotent.
  void Close() ABSL_LOCKS_EXCLUDED(mu_) {
    std::deque<Item> discarded;
    std::shared_ptr<SessionStateSink> released;
    absl::MutexLock lock(&mu_);
    closed_ = true;
    discarded.swap(queue_);
    if (!loop_->IsOwnerThread()) {
      mu_.Await(absl::Condition(
          +[](StateNotifier* n) ABSL_EXCLUSIVE_LOCKS_REQUIRED(n->mu_) {
            return n->in_call_ == 0;
          },
          this));
    }
    if (in_call_ == 0) released = std::move(sink_);
    // Unlocked before `released` (maybe the last reference) is destroyed.
  }

  // The drain (on the loop's thread).
  void RunReady() override ABSL_LOCKS_EXCLUDED(mu_) {
    std::shared_ptr<SessionStateSink> released;
    mu_.Lock();
    scheduled_ = false;
    // A drain nested in one of our own calls (the sink ran a nested loop)
    // leaves the queue to the outer one: order first.
    if (running_) {
      mu_.Unlock();
      return;
    }
    running_ = true;
    while (!closed_ && !queue_.empty()) {
      Item item = std::move(queue_.front());
      queue_.pop_front();
      SessionStateSink* sink = sink_.get();  // Kept alive: in_call_ > 0.
      ++in_call_;
      mu_.Unlock();
      sink->OnSessionState(item.state, item.why);
      mu_.Lock();
      --in_call_;
    }
    running_ = false;
    if (closed_ && in_call_ == 0) released = std::move(sink_);
    mu_.Unlock();
  }

 private:
  struct Item {
    SessionState state;
    absl::Status why;
  };

  // Constant after construction.
  const std::shared_ptr<LoopCore> loop_;

  absl::Mutex mu_;
  std::shared_ptr<SessionStateSink> sink_ ABSL_GUARDED_BY(mu_);
  std::deque<Item> queue_ ABSL_GUARDED_BY(mu_);
  bool scheduled_ ABSL_GUARDED_BY(mu_) = false;  // A drain is listed.
  bool running_ ABSL_GUARDED_BY(mu_) = false;    // A drain is running.
  int in_call_ ABSL_GUARDED_BY(mu_) = 0;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace mapinotify::internal

#endif  // MAPINOTIFY_CLIENT_INTERNAL_STATE_NOTIFIER_H_
