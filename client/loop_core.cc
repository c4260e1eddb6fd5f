#include "client/loop_core.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <utility>

namespace mapinotify {
namespace internal {
namespace {

int MakeEventFd() {
  int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) {
    std::perror("mapinotify: eventfd");
    std::abort();
  }
  return fd;
}

// The eventfd is written on empty -> non-empty and drained on
// non-empty -> empty, both under mu_, so it is readable iff items are pending.
void SignalEventFd(int fd) {
  uint64_t one = 1;
  ssize_t r;
  do {
    r = ::write(fd, &one, sizeof(one));
  } while (r < 0 && errno == EINTR);
}

void ClearEventFd(int fd) {
  uint64_t value;
  ssize_t r;
  do {
    r = ::read(fd, &value, sizeof(value));
  } while (r < 0 && errno == EINTR);
}

}  // namespace

LoopCore::LoopCore(size_t max_pending_tasks)
    : max_pending_tasks_(max_pending_tasks),
      owner_(std::this_thread::get_id()),
      fd_(MakeEventFd()) {}

LoopCore::~LoopCore() { ::close(fd_); }

absl::Status LoopCore::PostTask(std::function<void()> task) {
  if (!task) return absl::InvalidArgumentError("PostTask: empty task");
  absl::MutexLock lock(&mu_);
  if (shut_down_) {
    return absl::FailedPreconditionError("PostTask: the loop is destroyed");
  }
  if (pending_tasks_ >= max_pending_tasks_) {
    return absl::ResourceExhaustedError("PostTask: the loop's queue is full");
  }
  ++pending_tasks_;
  PushLocked(Item{std::move(task), nullptr});
  return absl::OkStatus();
}

absl::Status LoopCore::Schedule(std::shared_ptr<ReadySource> source) {
  if (source == nullptr) return absl::InvalidArgumentError("null source");
  if (source->listed_.exchange(true, std::memory_order_acq_rel)) {
    return absl::OkStatus();  // Already listed; it will run.
  }
  absl::MutexLock lock(&mu_);
  if (shut_down_) {
    source->listed_.store(false, std::memory_order_release);
    return absl::FailedPreconditionError("Schedule: the loop is destroyed");
  }
  PushLocked(Item{nullptr, std::move(source)});
  return absl::OkStatus();
}

void LoopCore::Quit() {
  absl::MutexLock lock(&mu_);
  quit_ = true;
}

void LoopCore::PushLocked(Item item) {
  if (items_.empty()) SignalEventFd(fd_);
  items_.push_back(std::move(item));
}

LoopCore::Item LoopCore::PopLocked() {
  Item item = std::move(items_.front());
  items_.pop_front();
  if (item.source == nullptr) --pending_tasks_;
  if (items_.empty()) ClearEventFd(fd_);
  return item;
}

void LoopCore::RunItem(Item& item) {
  if (item.source != nullptr) {
    // Unlisted before it runs, so that work arriving while it runs
    // schedules it again.
    item.source->listed_.store(false, std::memory_order_release);
    item.source->RunReady();
  } else {
    item.task();
  }
}

void LoopCore::RunUntil(absl::Time deadline) {
  const bool bounded = deadline != absl::InfiniteFuture();
  mu_.Lock();
  for (;;) {
    if (bounded && absl::Now() >= deadline) break;
    if (!mu_.AwaitWithDeadline(
            absl::Condition(this, &LoopCore::HasWorkOrQuitLocked), deadline)) {
      break;  // Deadline reached with nothing to do.
    }
    if (quit_) {
      quit_ = false;
      break;
    }
    Item item = PopLocked();
    mu_.Unlock();
    RunItem(item);
    item = Item{};  // Destroyed outside the lock.
    mu_.Lock();
  }
  mu_.Unlock();
}

size_t LoopCore::RunUntilIdle() {
  size_t ran = 0;
  mu_.Lock();
  size_t budget = items_.size();
  while (ran < budget && !items_.empty()) {
    Item item = PopLocked();
    mu_.Unlock();
    RunItem(item);
    item = Item{};
    ++ran;
    mu_.Lock();
  }
  mu_.Unlock();
  return ran;
}

void LoopCore::Shutdown() {
  std::deque<Item> discarded;
  {
    absl::MutexLock lock(&mu_);
    shut_down_ = true;
    if (!items_.empty()) ClearEventFd(fd_);
    discarded.swap(items_);
    pending_tasks_ = 0;
  }
  for (Item& item : discarded) {
    if (item.source != nullptr) {
      item.source->listed_.store(false, std::memory_order_release);
    }
  }
  // `discarded` is destroyed here, with no lock held.
}

bool LoopCore::is_shut_down() const {
  absl::MutexLock lock(&mu_);
  return shut_down_;
}

size_t LoopCore::pending() const {
  absl::MutexLock lock(&mu_);
  return items_.size();
}

}  // namespace internal
}  // namespace mapinotify
