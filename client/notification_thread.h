// NotificationThread: a library-owned thread running its own MessageLoop,
// on which kNotificationThread sessions' sinks run. As MAPI's
// MAPI_MULTITHREAD_NOTIFICATIONS gives a process one notification thread,
// every kNotificationThread session of the process shares one (Shared()).
#ifndef MAPINOTIFY_CLIENT_NOTIFICATION_THREAD_H_
#define MAPINOTIFY_CLIENT_NOTIFICATION_THREAD_H_

#include <memory>
#include <thread>

#include "client/loop_core.h"

namespace mapinotify {
namespace internal {

// Starts a thread that owns a MessageLoop and runs it until destruction.
// Thread-compatible: whoever drops the last reference destroys it (any
// thread, the notification thread included); core() and thread_id() are
// constant and may be used from any thread.
class NotificationThread {
 public:
  // The process's notification thread: started by the first caller, shared
  // by every caller while one of them holds it, and ended (~NotificationThread)
  // when the last holder releases it; a later call starts a new one.
  // Thread-safe.
  static std::shared_ptr<NotificationThread> Shared();

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
