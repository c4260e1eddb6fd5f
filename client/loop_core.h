// LoopCore: the thread-safe part of a MessageLoop, shared (shared_ptr) between
// the loop and the library queues that post to it.
#ifndef MAPINOTIFY_CLIENT_LOOP_CORE_H_
#define MAPINOTIFY_CLIENT_LOOP_CORE_H_

#include <atomic>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace mapinotify {
namespace internal {

// Work the library schedules on a loop without using the bounded user-task
// capacity: e.g. "drain connection 7's queue". A source is in a loop's ready
// list at most once; scheduling it again while it is listed is a no-op, and
// it may be scheduled again (by any thread) as soon as its RunReady starts.
// Thread-safe; subclasses define what RunReady touches.
class ReadySource {
 public:
  virtual ~ReadySource() = default;

  // Runs on the loop's owning thread, with no loop lock held.
  virtual void RunReady() = 0;

 private:
  friend class LoopCore;
  // True while the source is in a ready list. Atomic (not guarded by a
  // LoopCore mutex) so that Schedule can skip the loop lock when the source
  // is already listed. A source must only ever be scheduled on one LoopCore.
  std::atomic<bool> listed_{false};
};

// The shared, thread-safe core of a MessageLoop: one FIFO of user tasks and
// ready sources (in the order they became ready), the eventfd that is
// readable while that FIFO is non-empty, and the owning thread's id.
// Everything is thread-safe except the Run* methods, which only the owning
// thread calls. After Shutdown() (the MessageLoop's destructor) posting and
// scheduling fail with FailedPrecondition and nothing runs any more.
class LoopCore {
 public:
  // Bound to the calling thread. Creates the eventfd (aborts if it cannot:
  // out of file descriptors at loop construction is not recoverable here).
  explicit LoopCore(size_t max_pending_tasks);
  ~LoopCore();
  LoopCore(const LoopCore&) = delete;
  LoopCore& operator=(const LoopCore&) = delete;

  // Queues a user task. ResourceExhausted past max_pending_tasks;
  // FailedPrecondition after Shutdown(); InvalidArgument for an empty task.
  absl::Status PostTask(std::function<void()> task) ABSL_LOCKS_EXCLUDED(mu_);

  // Appends `source` to the ready list unless it is listed already (then OK,
  // no-op). Not counted against max_pending_tasks (each source is listed at
  // most once, so the list is bounded by the number of sources).
  // FailedPrecondition after Shutdown() (the source is not listed).
  absl::Status Schedule(std::shared_ptr<ReadySource> source)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Makes the innermost RunUntil return after the item running now; sticky
  // until a RunUntil consumes it.
  void Quit() ABSL_LOCKS_EXCLUDED(mu_);

  // Owning thread only. Runs items until Quit() or `deadline`
  // (absl::InfiniteFuture() for Run), blocking on the mutex condition while
  // there is nothing to do.
  void RunUntil(absl::Time deadline) ABSL_LOCKS_EXCLUDED(mu_);
  // Owning thread only. Runs the items that are pending now (not those
  // queued while they run); returns how many ran.
  size_t RunUntilIdle() ABSL_LOCKS_EXCLUDED(mu_);

  // Discards pending items (destroyed without running, outside the lock) and
  // refuses new ones. Called by ~MessageLoop on the owning thread.
  void Shutdown() ABSL_LOCKS_EXCLUDED(mu_);
  bool is_shut_down() const ABSL_LOCKS_EXCLUDED(mu_);

  // Number of pending items (tasks and sources).
  size_t pending() const ABSL_LOCKS_EXCLUDED(mu_);

  int fd() const { return fd_; }
  std::thread::id owner() const { return owner_; }
  bool IsOwnerThread() const { return std::this_thread::get_id() == owner_; }

 private:
  struct Item {
    std::function<void()> task;           // a user task, or
    std::shared_ptr<ReadySource> source;  // a ready source.
  };

  // Appends `item`; signals the eventfd on empty -> non-empty.
  void PushLocked(Item item) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Removes the front item; clears the eventfd on non-empty -> empty.
  // REQUIRES: !items_.empty().
  Item PopLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Runs `item` with no lock held.
  static void RunItem(Item& item);
  bool HasWorkOrQuitLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return quit_ || !items_.empty();
  }

  // Constant after construction.
  const size_t max_pending_tasks_;
  const std::thread::id owner_;
  const int fd_;

  mutable absl::Mutex mu_;
  std::deque<Item> items_ ABSL_GUARDED_BY(mu_);
  size_t pending_tasks_ ABSL_GUARDED_BY(mu_) = 0;  // user tasks in items_
  bool quit_ ABSL_GUARDED_BY(mu_) = false;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace internal
}  // namespace mapinotify

#endif  // MAPINOTIFY_CLIENT_LOOP_CORE_H_
