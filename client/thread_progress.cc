#include "mapinotify/thread_progress.h"

#include <algorithm>
#include <cassert>
#include <utility>

#include "client/thread_progress_internal.h"
#include "mapinotify/message_loop.h"

namespace mapinotify {

// --- ThreadSafeProgress ------------------------------------------------------

ThreadSafeProgress::ThreadSafeProgress(std::shared_ptr<MapiProgress> progress)
    : progress_(std::move(progress)) {
  assert(progress_ != nullptr);
}

SCODE ThreadSafeProgress::Progress(ULONG value, ULONG count, ULONG total) {
  absl::MutexLock lock(&mu_);
  return progress_->Progress(value, count, total);
}

ULONG ThreadSafeProgress::GetFlags() {
  absl::MutexLock lock(&mu_);
  return progress_->GetFlags();
}

ULONG ThreadSafeProgress::GetMax() {
  absl::MutexLock lock(&mu_);
  return progress_->GetMax();
}

ULONG ThreadSafeProgress::GetMin() {
  absl::MutexLock lock(&mu_);
  return progress_->GetMin();
}

void ThreadSafeProgress::SetLimits(const ULONG* min, const ULONG* max,
                                   const ULONG* flags) {
  absl::MutexLock lock(&mu_);
  progress_->SetLimits(min, max, flags);
}

namespace internal {

// --- ProgressRelay -----------------------------------------------------------

ProgressRelay::ProgressRelay(std::shared_ptr<MapiProgress> original,
                             std::weak_ptr<LoopCore> loop, Limits initial)
    : loop_(std::move(loop)), original_(std::move(original)) {
  absl::MutexLock lock(&mu_);
  limits_ = initial;
}

SCODE ProgressRelay::Progress(ULONG value, ULONG count, ULONG total) {
  return Enqueue(ProgressOp::Progress(value, count, total));
}

void ProgressRelay::SetLimits(const ULONG* min, const ULONG* max,
                              const ULONG* flags) {
  ProgressOp op = ProgressOp::Limits(min, max, flags);
  {
    // The wrapper's own copy follows at once, even once the loop is gone.
    absl::MutexLock lock(&mu_);
    if (op.has_min) limits_.min = op.min;
    if (op.has_max) limits_.max = op.max;
    if (op.has_flags) limits_.flags = op.flags;
  }
  Enqueue(op);
}

ProgressRelay::Limits ProgressRelay::limits() const {
  absl::MutexLock lock(&mu_);
  return limits_;
}

SCODE ProgressRelay::Enqueue(const ProgressOp& op) {
  SCODE answer;
  {
    absl::MutexLock lock(&mu_);
    answer = cancelled_ ? MAPI_E_USER_CANCEL : S_OK;
    if (loop_gone_) {
      ++dropped_;
      return answer;
    }
    pending_.Add(op);
    max_pending_seen_ = std::max(max_pending_seen_, pending_.size());
  }
  // Outside mu_: Schedule takes the loop's lock, and RunReady (holding no
  // loop lock) takes mu_. If the drain runs between the Add and here, it
  // takes the op and this only lists a drain that finds nothing: harmless.
  Kick();
  return answer;
}

void ProgressRelay::Kick() {
  std::shared_ptr<LoopCore> loop = loop_.lock();
  // Schedule never fails for capacity (a ready source is listed at most once,
  // outside the loop's bounded task count), so the last call always gets a
  // drain; it fails only once the loop is destroyed.
  if (loop != nullptr && loop->Schedule(shared_from_this()).ok()) return;
  absl::MutexLock lock(&mu_);
  loop_gone_ = true;
  dropped_ += pending_.size();
  pending_.Clear();
}

void ProgressRelay::Orphan() {
  {
    absl::MutexLock lock(&mu_);
    orphaned_ = true;
  }
  Kick();
}

void ProgressRelay::RunReady() {
  // Nested pump from inside the original: leave the newer ops for after the
  // running batch; the outer RunReady lists the relay again.
  if (draining_) return;
  ProgressOpQueue::Ops batch;
  {
    absl::MutexLock lock(&mu_);
    batch = pending_.Take();
  }
  if (original_ != nullptr) {
    draining_ = true;
    for (ProgressOp& op : batch) {
      if (ApplyProgressOp(op, *original_) == MAPI_E_USER_CANCEL) {
        absl::MutexLock lock(&mu_);
        cancelled_ = true;
      }
    }
    draining_ = false;
  }
  bool more;
  bool release;
  {
    absl::MutexLock lock(&mu_);
    more = !pending_.empty();
    // Once orphaned no call can follow: what waited has been delivered, so
    // the original is released here, on the wrapping thread.
    release = orphaned_ && !more;
  }
  if (more) Kick();  // Usually listed already by the producer: a no-op.
  if (release) original_.reset();
}

size_t ProgressRelay::pending() const {
  absl::MutexLock lock(&mu_);
  return pending_.size();
}

size_t ProgressRelay::max_pending_seen() const {
  absl::MutexLock lock(&mu_);
  return max_pending_seen_;
}

uint64_t ProgressRelay::dropped() const {
  absl::MutexLock lock(&mu_);
  return dropped_;
}

bool ProgressRelay::cancelled() const {
  absl::MutexLock lock(&mu_);
  return cancelled_;
}

}  // namespace internal

// --- ThisThreadProgress ------------------------------------------------------

absl::StatusOr<std::shared_ptr<MapiProgress>> ThisThreadProgress(
    std::shared_ptr<MapiProgress> progress) {
  if (progress == nullptr) {
    return absl::InvalidArgumentError("ThisThreadProgress: null progress");
  }
  MessageLoop* loop = MessageLoop::Current();
  if (loop == nullptr) {
    return absl::FailedPreconditionError(
        "ThisThreadProgress: the calling thread has no MessageLoop");
  }
  // Read here, on the wrapping thread: the only thread that calls `progress`.
  internal::ProgressRelay::Limits initial;
  initial.flags = progress->GetFlags();
  initial.min = progress->GetMin();
  initial.max = progress->GetMax();
  auto relay = std::make_shared<internal::ProgressRelay>(std::move(progress),
                                                         loop->core(), initial);
  return std::shared_ptr<MapiProgress>(
      std::make_shared<internal::ThisThreadProgressWrapper>(std::move(relay)));
}

}  // namespace mapinotify
