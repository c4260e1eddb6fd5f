#include "server/hub/waker.h"

#include <utility>

namespace mapinotify::server {

Waker::Waker(size_t inline_max) : inline_max_(inline_max) {}

Waker::~Waker() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
  // Anything handed over after the thread ended (or with none started).
  std::vector<std::shared_ptr<Outbox>> rest;
  {
    absl::MutexLock lock(&mu_);
    rest.swap(queue_);
  }
  for (const std::shared_ptr<Outbox>& outbox : rest) outbox->Wake();
}

void Waker::Run(std::vector<std::shared_ptr<Outbox>>* outboxes) {
  if (outboxes->size() <= inline_max_) {
    std::vector<std::shared_ptr<Outbox>> mine;
    mine.swap(*outboxes);
    for (const std::shared_ptr<Outbox>& outbox : mine) outbox->Wake();
    return;
  }
  absl::MutexLock lock(&mu_);
  handed_over_ += outboxes->size();
  if (queue_.empty()) {
    queue_.swap(*outboxes);
  } else {
    queue_.insert(queue_.end(), std::make_move_iterator(outboxes->begin()),
                  std::make_move_iterator(outboxes->end()));
    outboxes->clear();
  }
  if (!started_ && !stop_) {
    started_ = true;
    thread_ = std::thread([this] { Loop(); });
  }
}

size_t Waker::handed_over() const {
  absl::MutexLock lock(&mu_);
  return handed_over_;
}

void Waker::Loop() {
  std::vector<std::shared_ptr<Outbox>> round;
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](Waker* w) ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return w->stop_ || !w->queue_.empty();
          },
          this));
      if (queue_.empty()) return;  // Stopped.
      round.swap(queue_);
    }
    for (const std::shared_ptr<Outbox>& outbox : round) outbox->Wake();
    round.clear();
  }
}

}  // namespace mapinotify::server
