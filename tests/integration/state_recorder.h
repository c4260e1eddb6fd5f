// StateRecorder: a SessionStateSink that records every transition it is
// told about, with the thread it ran on, and lets a test wait for them.
// Thread-safe.
#ifndef MAPINOTIFY_TESTS_INTEGRATION_STATE_RECORDER_H_
#define MAPINOTIFY_TESTS_INTEGRATION_STATE_RECORDER_H_

#include <cstddef>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "mapinotify/session.h"

namespace mapinotify::testing {

class StateRecorder : public SessionStateSink {
 public:
  void OnSessionState(SessionState state, const absl::Status& why) override
      ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    states_.push_back(state);
    reasons_.push_back(why);
    threads_.push_back(std::this_thread::get_id());
    if (state == SessionState::kConnected) ++connected_;
  }

  // Waits until at least `n` kConnected transitions were reported; false
  // after `timeout`.
  bool WaitForConnected(size_t n, absl::Duration timeout)
      ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    const auto done = [this, n]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
      return connected_ >= n;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
  }

  // Waits until a transition to `state` was reported; false after `timeout`.
  bool WaitFor(SessionState state, absl::Duration timeout)
      ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    const auto done = [this, state]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
      for (SessionState s : states_) {
        if (s == state) return true;
      }
      return false;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
  }

  std::vector<SessionState> states() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return states_;
  }
  std::vector<absl::Status> reasons() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return reasons_;
  }
  std::vector<std::thread::id> threads() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return threads_;
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<SessionState> states_ ABSL_GUARDED_BY(mu_);
  std::vector<absl::Status> reasons_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread::id> threads_ ABSL_GUARDED_BY(mu_);
  size_t connected_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace mapinotify::testing

#endif  // MAPINOTIFY_TESTS_INTEGRATION_STATE_RECORDER_H_
