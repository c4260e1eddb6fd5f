#include "common/internal/progress_ops.h"

#include <algorithm>
#include <cstddef>

namespace mapinotify {
namespace internal {

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

SCODE ApplyProgressOp(const ProgressOp& op, MapiProgress& progress) {
  if (op.kind == ProgressOp::Kind::kSetLimits) {
    progress.SetLimits(op.has_min ? &op.min : nullptr,
                       op.has_max ? &op.max : nullptr,
                       op.has_flags ? &op.flags : nullptr);
    return S_OK;
  }
  return progress.Progress(op.value, op.count, op.total);
}

}  // namespace internal
}  // namespace mapinotify
