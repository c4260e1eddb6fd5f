#include "client/notification_thread.h"

#include "absl/base/const_init.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "mapinotify/message_loop.h"

namespace mapinotify {
namespace internal {

std::shared_ptr<NotificationThread> NotificationThread::Shared() {
  ABSL_CONST_INIT static absl::Mutex mu(absl::kConstInit);
  // Never destroyed: a session may outlive static destruction at exit.
  static auto* const current = new std::weak_ptr<NotificationThread>();
  absl::MutexLock lock(&mu);
  std::shared_ptr<NotificationThread> thread = current->lock();
  if (thread == nullptr) {
    thread = std::make_shared<NotificationThread>();
    *current = thread;
  }
  return thread;
}

NotificationThread::NotificationThread() {
  absl::Notification started;
  std::shared_ptr<LoopCore> core;  // Written before `started` is notified.
  thread_ = std::thread([&started, &core] {
    MessageLoop loop;
    core = loop.core();
    started.Notify();  // `started` and `core` are not touched after this.
    loop.Run();
  });
  started.WaitForNotification();
  core_ = std::move(core);
}

NotificationThread::~NotificationThread() {
  core_->Quit();
  if (std::this_thread::get_id() == thread_.get_id()) {
    thread_.detach();
  } else {
    thread_.join();
  }
}

}  // namespace internal
}  // namespace mapinotify
