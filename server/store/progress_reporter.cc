// ProgressReporter: the algorithm is described in progress_reporter.h.
#include "server/store/progress_reporter.h"

#include <algorithm>
#include <limits>

namespace mapinotify::server::store {
namespace {

ULONG Clamp(uint64_t value) {
  return static_cast<ULONG>(
      std::min<uint64_t>(value, std::numeric_limits<ULONG>::max()));
}

}  // namespace

bool ProgressReporter::incomplete() const {
  if (!stopped_) return false;
  return levels_.size() != 1 || levels_[0].done < levels_[0].total;
}

uint64_t ProgressReporter::Boundary(const Level& level, size_t i) {
  if (i >= level.total) return level.hi;
  if (i == 0) return level.lo;
  const uint64_t range = level.hi - level.lo;
  uint64_t step = range * i / level.total;
  if (step == 0 && range >= 2) step = 1;
  return level.lo + step;
}

bool ProgressReporter::Report(uint64_t value, size_t count, size_t total) {
  if (progress_->Progress(Clamp(value), Clamp(count), Clamp(total)) ==
      MAPI_E_USER_CANCEL) {
    stopped_ = true;
  }
  return !stopped_;
}

void ProgressReporter::BeginSlow(size_t items) {
  flags_ = progress_->GetFlags();
  top_ = (flags_ & MAPI_TOP_LEVEL) != 0;
  ULONG min = progress_->GetMin();
  ULONG max = progress_->GetMax();
  if (max < min) max = min;
  if (top_) progress_->SetLimits(&min, &max, &flags_);
  levels_.push_back(Level{min, max, items, 0});
  if (items == 0) Report(max, 0, 0);
}

bool ProgressReporter::ItemDoneSlow() {
  if (stopped_) return false;
  Level& level = levels_.back();
  ++level.done;
  const bool outermost = levels_.size() == 1;
  if (!outermost && level.done >= level.total) return true;  // Step 5.
  const bool counted = outermost && top_;
  return Report(Boundary(level, level.done), counted ? level.done : 0,
                counted ? level.total : 0);
}

void ProgressReporter::EnterSlow(size_t items) {
  if (stopped_) return;
  const Level& parent = levels_.back();
  Level sub{Boundary(parent, parent.done), Boundary(parent, parent.done + 1),
            items, 0};
  ULONG min = Clamp(sub.lo);
  ULONG max = Clamp(sub.hi);
  ULONG flags = flags_ & ~MAPI_TOP_LEVEL;
  progress_->SetLimits(&min, &max, &flags);
  levels_.push_back(sub);
}

bool ProgressReporter::LeaveSlow() {
  if (stopped_) return false;
  levels_.pop_back();
  const Level& parent = levels_.back();
  ULONG min = Clamp(parent.lo);
  ULONG max = Clamp(parent.hi);
  ULONG flags = levels_.size() == 1 ? flags_ : flags_ & ~MAPI_TOP_LEVEL;
  progress_->SetLimits(&min, &max, &flags);
  return ItemDoneSlow();
}

}  // namespace mapinotify::server::store
