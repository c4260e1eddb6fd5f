// OperationRunner: where RunOperation's long operations run — a few worker
// threads of their own, off gRPC's callback threads (a reaction must not
// block for the length of a 50,000-message copy) — and the writer thread
// that starts their streams' writes when the store, which reports progress
// under its lock, has queued something to send. No gRPC.
#ifndef MAPINOTIFY_SERVER_SERVICE_OPERATION_RUNNER_H_
#define MAPINOTIFY_SERVER_SERVICE_OPERATION_RUNNER_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace mapinotify::server {

// Something the writer thread runs once per Kick (a stream that has a
// write to start).
class Flushable {
 public:
  virtual ~Flushable() = default;
  // On the writer thread, with no lock of the runner held.
  virtual void Flush() = 0;
};

// Thread-safe. Lock order: anything (the store's lock included) -> mu_;
// nothing is called while mu_ is held.
class OperationRunner {
 public:
  struct Options {
    // Threads that run operations. The store serializes its changes, so
    // more threads mostly let short operations start while a long one runs.
    size_t threads = 2;
    // Operations running or waiting for a thread, at most; Submit refuses
    // more. Bounds the memory queued requests hold.
    size_t max_operations = 64;
    // The least time between two progress messages of one operation (the
    // newest calls wait, coalesced, for the next one; the last ones and the
    // result go as soon as the operation stopped). A progress display needs
    // no more, and each message costs a gRPC write on both sides.
    absl::Duration progress_interval = absl::Milliseconds(10);
    // Testing only; null in production. Called by an operation's progress
    // object after each Progress(value, ...) call was queued for the client
    // and before the client's cancel is read for its answer: on the
    // operation's thread, under the store's lock, so it must not call the
    // store. `cancelled` is notified once the client's cancel arrived (or
    // the call was cancelled). A test holds an operation at one item with
    // it until the client has answered that item (operation_progress_test).
    std::function<void(uint32_t value, const absl::Notification& cancelled)>
        progress_hook;
  };

  explicit OperationRunner(Options options);
  // Runs the jobs already submitted, then joins every thread. The gRPC
  // server must be shut down first (its calls may still submit).
  ~OperationRunner();
  OperationRunner(const OperationRunner&) = delete;
  OperationRunner& operator=(const OperationRunner&) = delete;

  // Queues `job` to run on a worker thread. MAPI_E_NOT_ENOUGH_RESOURCES
  // (ResourceExhausted) when max_operations jobs are running or queued.
  absl::Status Submit(std::function<void()> job) ABSL_LOCKS_EXCLUDED(mu_);

  // Has the writer thread call target->Flush() soon. Never blocks and calls
  // nothing, so it may be called under another lock (the store's). Callers
  // keep a target listed at most once at a time, so the list is bounded by
  // the number of live operations.
  void Kick(std::shared_ptr<Flushable> target) ABSL_LOCKS_EXCLUDED(mu_);
  // The same at `when` (at once when it has passed). The same listing rule.
  void KickAt(std::shared_ptr<Flushable> target, absl::Time when)
      ABSL_LOCKS_EXCLUDED(mu_);

  const Options& options() const { return options_; }

 private:
  // Await conditions.
  bool HasJobOrStop() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool HasKickOrDone() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Moves the timed kicks due at `now` to kicks_; returns the earliest time
  // still waiting (InfiniteFuture when none).
  absl::Time PromoteDueLocked(absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void WorkerLoop() ABSL_LOCKS_EXCLUDED(mu_);
  void WriterLoop() ABSL_LOCKS_EXCLUDED(mu_);

  // Constant after construction.
  const Options options_;

  mutable absl::Mutex mu_;
  std::deque<std::function<void()>> jobs_ ABSL_GUARDED_BY(mu_);
  size_t running_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<std::shared_ptr<Flushable>> kicks_ ABSL_GUARDED_BY(mu_);
  // Kicks waiting for their time, unordered (one per live operation at
  // most, so a scan is cheap).
  std::vector<std::pair<absl::Time, std::shared_ptr<Flushable>>> timed_
      ABSL_GUARDED_BY(mu_);
  // Counts KickAt calls, so that a waiting writer re-reads its deadline.
  uint64_t timed_added_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;

  // Started in the constructor, joined in the destructor.
  std::vector<std::thread> workers_;
  std::thread writer_;
};

}  // namespace mapinotify::server

#endif  // MAPINOTIFY_SERVER_SERVICE_OPERATION_RUNNER_H_
