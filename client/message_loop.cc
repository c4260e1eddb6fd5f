#include "mapinotify/message_loop.h"

#include <utility>

#include "client/loop_core.h"

namespace mapinotify {
namespace {

// The innermost loop of this thread.
thread_local MessageLoop* current_loop = nullptr;

}  // namespace

MessageLoop::MessageLoop() : MessageLoop(Options()) {}

MessageLoop::MessageLoop(Options options)
    : core_(std::make_shared<internal::LoopCore>(options.max_pending_tasks)),
      previous_(current_loop) {
  current_loop = this;
}

MessageLoop::~MessageLoop() {
  core_->Shutdown();
  if (current_loop == this) current_loop = previous_;
}

MessageLoop* MessageLoop::Current() { return current_loop; }

absl::Status MessageLoop::PostTask(std::function<void()> task) {
  return core_->PostTask(std::move(task));
}

void MessageLoop::Run() { core_->RunUntil(absl::InfiniteFuture()); }

size_t MessageLoop::RunUntilIdle() { return core_->RunUntilIdle(); }

void MessageLoop::RunFor(absl::Duration duration) {
  core_->RunUntil(absl::Now() + duration);
}

void MessageLoop::Quit() { core_->Quit(); }

int MessageLoop::fd() const { return core_->fd(); }

absl::Status DispatchNotifications() {
  MessageLoop* loop = MessageLoop::Current();
  if (loop == nullptr) {
    return absl::FailedPreconditionError(
        "DispatchNotifications: this thread has no MessageLoop");
  }
  loop->RunUntilIdle();
  return absl::OkStatus();
}

}  // namespace mapinotify
