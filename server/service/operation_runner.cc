#include "server/service/operation_runner.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "mapinotify/status.h"

namespace mapinotify::server {

OperationRunner::OperationRunner(Options options) : options_(options) {
  size_t threads = std::max<size_t>(options_.threads, 1);
  workers_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) {
    workers_.emplace_back([this] { WorkerLoop(); });
  }
  writer_ = std::thread([this] { WriterLoop(); });
}

OperationRunner::~OperationRunner() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& worker : workers_) worker.join();
  writer_.join();
}

absl::Status OperationRunner::Submit(std::function<void()> job) {
  absl::MutexLock lock(&mu_);
  if (stopping_) {
    return MapiError(MAPI_E_NOT_ENOUGH_RESOURCES,
                     "RunOperation: the server is shutting down");
  }
  if (running_ + jobs_.size() >= options_.max_operations) {
    return MapiError(
        MAPI_E_NOT_ENOUGH_RESOURCES,
        absl::StrCat("RunOperation: ", options_.max_operations,
                     " long operations are already running or queued"));
  }
  jobs_.push_back(std::move(job));
  return absl::OkStatus();
}

void OperationRunner::Kick(std::shared_ptr<Flushable> target) {
  absl::MutexLock lock(&mu_);
  kicks_.push_back(std::move(target));
}

bool OperationRunner::HasJobOrStop() const {
  return stopping_ || !jobs_.empty();
}

bool OperationRunner::HasKickOrDone() const {
  return !kicks_.empty() || (stopping_ && jobs_.empty() && running_ == 0);
}

void OperationRunner::KickAt(std::shared_ptr<Flushable> target,
                             absl::Time when) {
  absl::MutexLock lock(&mu_);
  timed_.emplace_back(when, std::move(target));
  // Wakes a writer waiting with a later deadline (or none).
  ++timed_added_;
}

absl::Time OperationRunner::PromoteDueLocked(absl::Time now) {
  absl::Time earliest = absl::InfiniteFuture();
  for (size_t i = 0; i < timed_.size();) {
    if (timed_[i].first <= now) {
      kicks_.push_back(std::move(timed_[i].second));
      timed_[i] = std::move(timed_.back());
      timed_.pop_back();
    } else {
      earliest = std::min(earliest, timed_[i].first);
      ++i;
    }
  }
  return earliest;
}

void OperationRunner::WorkerLoop() {
  for (;;) {
    std::function<void()> job;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &OperationRunner::HasJobOrStop));
      // Jobs submitted before the stop still run: each one's stream waits
      // for its answer.
      if (jobs_.empty()) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
      ++running_;
    }
    job();
    job = nullptr;  // Drops what the job held before the count goes down.
    absl::MutexLock lock(&mu_);
    --running_;
  }
}

void OperationRunner::WriterLoop() {
  for (;;) {
    std::shared_ptr<Flushable> target;
    {
      absl::MutexLock lock(&mu_);
      for (;;) {
        const absl::Time earliest = PromoteDueLocked(absl::Now());
        if (!kicks_.empty()) break;
        // Stopping ends the timed waits too: an operation's job flushes
        // everything at its end without waiting for its interval.
        if (HasKickOrDone()) return;
        // Also wake for a timed kick added meanwhile: it may be due before
        // `earliest`.
        const uint64_t seen = timed_added_;
        const auto wake = [this, seen]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
          return HasKickOrDone() || timed_added_ != seen;  // Under mu_.
        };
        mu_.AwaitWithDeadline(absl::Condition(&wake), earliest);
      }
      target = std::move(kicks_.front());
      kicks_.pop_front();
    }
    target->Flush();
  }
}

}  // namespace mapinotify::server
