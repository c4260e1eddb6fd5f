// NotificationThread: a library-owned thread running its own MessageLoop,
// on which a kNotificationThread session's sinks run.
#ifndef MAPINOTIFY_CLIENT_NOTIFICATION_THREAD_H_
#define MAPINOTIFY_CLIENT_NOTIFICATION_THREAD_H_

#include <memory>
#include <string>
#include <thread>

#include "client/loop_core.h"

namespace mapinotify {
namespace internal {

// Starts a thread that owns a MessageLoop and runs it until destruction.
// Thread-compatible (construct and destroy on one thread); core() and
// thread_id() are constant and may be used from any thread.
class NotificationThread {
 public:
  // Returns once the thread's loop exists (core() is usable).
  NotificationThread();
  // Quits the loop and joins the thread; the work still pending is discarded
  // (remove the dispatcher's connections first). When called on the
  // notification thread itself (a sink ended the session), the thread is
  // detached instead and ends after the running work item.
  ~NotificationThread();
  NotificationThread(const NotificationThread&) = delete;
  NotificationThread& operator=(const NotificationThread&) = delete;

  const std::shared_ptr<LoopCore>& core() const { return core_; }
  std::thread::id thread_id() const { return core_->owner(); }

 private:
  std::shared_ptr<LoopCore> core_;  // Constant after construction.
  std::thread thread_;
};

}  // namespace internal
}  // namespace mapinotify

#endif  // MAPINOTIFY_CLIENT_NOTIFICATION_THREAD_H_
