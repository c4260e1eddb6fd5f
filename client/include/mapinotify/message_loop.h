// MessageLoop: the per-thread loop on which thread-affine work (sinks of a
// kInitThread session, ThisThreadAdviseSink sinks, progress) runs.
#ifndef MAPINOTIFY_MESSAGE_LOOP_H_
#define MAPINOTIFY_MESSAGE_LOOP_H_

#include <cstddef>
#include <functional>
#include <memory>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace mapinotify {

namespace internal {
class LoopCore;
}  // namespace internal

// A message loop bound to the thread that constructs it, which becomes that
// thread's MessageLoop::Current() until the loop is destroyed (on the same
// thread; loops constructed on one thread nest: destroying the innermost one
// makes the previous one current again). Run / RunUntilIdle / RunFor /
// DispatchNotifications must be called on the owning thread; PostTask, Quit and
// fd() from any thread.
//
// Every queue is bounded: PostTask fails with ResourceExhausted past
// `max_pending_tasks`; notifications wait in per-connection queues with their
// own bounds (SessionOptions), not here.
class MessageLoop {
 public:
  struct Options {
    // PostTask answers ResourceExhausted beyond this many pending tasks.
    size_t max_pending_tasks = 65536;
  };

  MessageLoop();
  explicit MessageLoop(Options options);
  // REQUIRES: called on the owning thread. Pending tasks are destroyed
  // without running.
  ~MessageLoop();
  MessageLoop(const MessageLoop&) = delete;
  MessageLoop& operator=(const MessageLoop&) = delete;

  // The loop of the calling thread, or nullptr when it has none.
  static MessageLoop* Current();

  // Queues `task` to run on the owning thread, after the work already
  // pending (FIFO). Thread-safe. ResourceExhausted when `max_pending_tasks`
  // tasks are pending; InvalidArgument for an empty task. (Through core(),
  // the library's queues get FailedPrecondition once the loop is destroyed;
  // through this object that cannot be observed: keep the loop alive.)
  absl::Status PostTask(std::function<void()> task);

  // Runs work, blocking while there is none, until Quit() is called.
  // Owning thread only.
  void Run();
  // Runs the work items that are pending now (not those queued while they
  // run), then returns how many ran. Never blocks. Owning thread only.
  size_t RunUntilIdle();
  // Like Run(), but returns once `duration` has passed (or earlier on
  // Quit()). A work item that is running when the time is up finishes first.
  // Owning thread only.
  void RunFor(absl::Duration duration);
  // Makes the innermost Run / RunFor return after the work item running now.
  // Sticky: a Quit() while no Run / RunFor is active makes the next one
  // return at once. Thread-safe.
  void Quit();

  // A file descriptor that is readable while work is pending, for
  // integration into another event loop (epoll, glib, Qt, asio): when it is
  // readable, call RunUntilIdle() on the owning thread. Owned by the loop.
  int fd() const;

  // Internal: the core shared with the library's queues. Not for use by
  // applications.
  const std::shared_ptr<internal::LoopCore>& core() const { return core_; }

 private:
  // Constant after construction.
  std::shared_ptr<internal::LoopCore> core_;
  MessageLoop* previous_;  // Current() before this loop; owning thread only.
};

// HrDispatchNotifications: runs the calling thread's pending notification
// work (MessageLoop::Current()->RunUntilIdle()). FailedPrecondition when the
// thread has no loop.
absl::Status DispatchNotifications();

}  // namespace mapinotify

#endif  // MAPINOTIFY_MESSAGE_LOOP_H_
