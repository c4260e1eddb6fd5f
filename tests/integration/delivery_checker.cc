#include "tests/integration/delivery_checker.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "mapinotify/notification.h"

namespace mapinotify::testing {
namespace {

// The signal the library synthesises: fnevCriticalError (or TABLE_RELOAD)
// with sequence 0.
bool IsResync(const Delivery& d) { return d.sequence == 0; }

constexpr size_t kMaxProblems = 8;

}  // namespace

void DeliveryChecker::OnNotify(const NotificationBatch& batch) {
  absl::MutexLock lock(&mu_);
  ++batches_;
  const std::thread::id me = std::this_thread::get_id();
  if (std::find(threads_.begin(), threads_.end(), me) == threads_.end()) {
    threads_.push_back(me);
  }
  for (const Delivery& d : batch.items()) {
    if (IsResync(d)) {
      ++resyncs_;
      log_.push_back(0);
      last_ = 0;  // A new epoch may number from 1 again.
    } else {
      log_.push_back(d.sequence);
      last_ = std::max(last_, d.sequence);
    }
  }
}

bool DeliveryChecker::WaitForSequence(uint64_t sequence,
                                      absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  const auto reached = [this, sequence]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return last_ >= sequence;
  };
  return mu_.AwaitWithTimeout(absl::Condition(&reached), timeout);
}

bool DeliveryChecker::WaitForResyncs(uint64_t n, absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  const auto reached = [this, n]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return resyncs_ >= n;
  };
  return mu_.AwaitWithTimeout(absl::Condition(&reached), timeout);
}

DeliveryChecker::Report DeliveryChecker::Check(
    absl::Span<const uint64_t> expected) const {
  absl::MutexLock lock(&mu_);
  Report r = CheckLog(log_, expected);
  r.batches = batches_;
  return r;
}

DeliveryChecker::Report DeliveryChecker::CheckSegments(
    absl::Span<const std::vector<uint64_t>> segments) const {
  absl::MutexLock lock(&mu_);
  Report total;
  total.batches = batches_;
  size_t begin = 0;
  for (size_t i = 0; begin <= log_.size(); ++i) {
    size_t end = begin;
    while (end < log_.size() && log_[end] != 0) ++end;
    const absl::Span<const uint64_t> part =
        absl::MakeConstSpan(log_).subspan(begin, end - begin);
    const std::vector<uint64_t> none;
    const Report r = CheckLog(part, i < segments.size() ? segments[i] : none);
    total.delivered += r.delivered;
    total.duplicates += r.duplicates;
    total.unexpected += r.unexpected;
    total.silent_gaps += r.silent_gaps;
    total.missing_tail += r.missing_tail;
    for (const std::string& p : r.problems) {
      total.problems.push_back(absl::StrCat("segment ", i, ": ", p));
    }
    if (end == log_.size()) break;
    ++total.resyncs;
    begin = end + 1;
  }
  return total;
}

DeliveryChecker::Report DeliveryChecker::CheckLog(
    absl::Span<const uint64_t> log, absl::Span<const uint64_t> expected) {
  Report r;
  const auto problem = [&r](std::string what) {
    if (r.problems.size() < kMaxProblems) r.problems.push_back(std::move(what));
  };
  size_t next = 0;        // Index in `expected` of the next one due.
  uint64_t previous = 0;  // The last delivered sequence.
  bool after_resync = false;
  for (size_t i = 0; i < log.size(); ++i) {
    const uint64_t s = log[i];
    if (s == 0) {
      ++r.resyncs;
      after_resync = true;
      continue;
    }
    ++r.delivered;
    if (s <= previous) {
      ++r.duplicates;
      problem(absl::StrCat("sequence ", s, " after ", previous));
      continue;
    }
    previous = s;
    const auto at =
        std::lower_bound(expected.begin() + next, expected.end(), s);
    if (at == expected.end() || *at != s) {
      ++r.unexpected;
      problem(absl::StrCat("sequence ", s, " is not one this connection ",
                           "should see"));
      continue;
    }
    const size_t skipped = static_cast<size_t>(at - expected.begin()) - next;
    if (skipped > 0) {
      if (after_resync) {
        r.covered += skipped;
      } else {
        r.silent_gaps += skipped;
        problem(absl::StrCat(skipped, " notification(s) missing before ", s,
                             " (first ", expected[next], ") with no resync"));
      }
    }
    after_resync = false;
    next = static_cast<size_t>(at - expected.begin()) + 1;
  }
  if (next < expected.size() && !after_resync) {
    r.missing_tail = expected.size() - next;
    problem(absl::StrCat(r.missing_tail, " notification(s) never delivered, ",
                         "from ", expected[next]));
  } else if (next < expected.size()) {
    r.covered += expected.size() - next;
  }
  return r;
}

std::vector<uint64_t> DeliveryChecker::sequences() const {
  absl::MutexLock lock(&mu_);
  std::vector<uint64_t> out;
  for (uint64_t s : log_) {
    if (s != 0) out.push_back(s);
  }
  return out;
}

uint64_t DeliveryChecker::last_sequence() const {
  absl::MutexLock lock(&mu_);
  return last_;
}

std::vector<std::thread::id> DeliveryChecker::threads() const {
  absl::MutexLock lock(&mu_);
  return threads_;
}

}  // namespace mapinotify::testing
