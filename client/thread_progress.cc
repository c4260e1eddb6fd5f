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

// --- ProgressOp / ProgressOpQueue --------------------------------------------

ProgressOp ProgressOp::Limits(const ULONG* min, const ULONG* max,
                              const ULONG* flags) {
  ProgressOp op;
  op.kind = Kind::kSetLimits;
  if (min != nullptr) {
    op.has_min = true;
    op.min = *min;
  }
  if (max != nullptr) {
    op.has_max = true;
    op.max = *max;
  }
  if (flags != nullptr) {
    op.has_flags = true;
    op.flags = *flags;
  }
  return op;
}

ProgressOp ProgressOp::Progress(ULONG value, ULONG count, ULONG total) {
  ProgressOp op;
  op.kind = Kind::kProgress;
  op.value = value;
  op.count = count;
  op.total = total;
  return op;
}

void ProgressOp::MergeLimits(const ProgressOp& newer) {
  if (newer.has_min) {
    has_min = true;
    min = newer.min;
  }
  if (newer.has_max) {
    has_max = true;
    max = newer.max;
  }
  if (newer.has_flags) {
    has_flags = true;
    flags = newer.flags;
  }
}

void ProgressOpQueue::Add(const ProgressOp& op) {
  if (!ops_.empty() && ops_.back().kind == op.kind) {
    if (op.kind == ProgressOp::Kind::kProgress) {
      ops_.back() = op;
    } else {
      ops_.back().MergeLimits(op);
    }
    return;
  }
  ops_.push_back(op);
  // The kinds alternate, so past 3 ops there are always two Progress ops and
  // a fold is possible: the loop ends with size() <= the bound.
  while (ops_.size() > kMaxPendingProgressOps && FoldOldest()) {
  }
}

bool ProgressOpQueue::FoldOldest() {
  auto is_progress = [](const ProgressOp& op) {
    return op.kind == ProgressOp::Kind::kProgress;
  };
  auto first = std::find_if(ops_.begin(), ops_.end(), is_progress);
  if (first == ops_.end() ||
      std::find_if(first + 1, ops_.end(), is_progress) == ops_.end()) {
    return false;
  }
  size_t i = static_cast<size_t>(first - ops_.begin());
  ops_.erase(first);
  if (i > 0 && i < ops_.size() &&
      ops_[i - 1].kind == ProgressOp::Kind::kSetLimits &&
      ops_[i].kind == ProgressOp::Kind::kSetLimits) {
    ops_[i - 1].MergeLimits(ops_[i]);
    ops_.erase(ops_.begin() + static_cast<std::ptrdiff_t>(i));
  }
  return true;
}

ProgressOpQueue::Ops ProgressOpQueue::Take() {
  Ops taken;
  taken.swap(ops_);
  return taken;
}

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
      if (op.kind == ProgressOp::Kind::kSetLimits) {
        original_->SetLimits(op.has_min ? &op.min : nullptr,
                             op.has_max ? &op.max : nullptr,
                             op.has_flags ? &op.flags : nullptr);
      } else if (original_->Progress(op.value, op.count, op.total) ==
                 MAPI_E_USER_CANCEL) {
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
