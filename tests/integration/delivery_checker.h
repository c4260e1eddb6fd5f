// DeliveryChecker: the robustness checker of the fault tests (issue 6). An
// AdviseSink that records what one connection's sink receives, and checks
// it against the sequences the connection should see:
//   - delivered sequences strictly increase (no duplicate, no reordering);
//   - they are gap-free, except right after a resync signal (the only place
//     notifications may be missing);
//   - nothing is delivered that the connection should not see;
//   - every resync is justified: the test states how many the server's own
//     log (its counters, an epoch change) accounts for.
// Thread-safe.
#ifndef MAPINOTIFY_TESTS_INTEGRATION_DELIVERY_CHECKER_H_
#define MAPINOTIFY_TESTS_INTEGRATION_DELIVERY_CHECKER_H_

#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "mapinotify/advise_sink.h"

namespace mapinotify::testing {

class DeliveryChecker : public AdviseSink {
 public:
  struct Report {
    uint64_t delivered = 0;     // Notifications (resync signals excluded).
    uint64_t batches = 0;       // OnNotify calls.
    uint64_t resyncs = 0;       // Resync signals received.
    uint64_t duplicates = 0;    // Sequences not above the previous one.
    uint64_t unexpected = 0;    // Sequences the connection should not see.
    uint64_t silent_gaps = 0;   // Expected sequences skipped with no resync.
    uint64_t covered = 0;       // Expected sequences skipped after a resync.
    uint64_t missing_tail = 0;  // Expected sequences after the last seen.
    std::vector<std::string> problems;  // The first few, for the log.
    // Whether the delivery obeyed the rules with exactly `resyncs_justified`
    // resync signals.
    bool Ok(uint64_t resyncs_justified) const {
      return duplicates == 0 && unexpected == 0 && silent_gaps == 0 &&
             missing_tail == 0 && resyncs == resyncs_justified;
    }
  };

  void OnNotify(const NotificationBatch& batch) override
      ABSL_LOCKS_EXCLUDED(mu_);

  // Waits until a notification with sequence >= `sequence` was delivered
  // after the last resync signal (sequences of a new epoch start again);
  // false after `timeout`.
  bool WaitForSequence(uint64_t sequence,
                       absl::Duration timeout = absl::Seconds(60)) const
      ABSL_LOCKS_EXCLUDED(mu_);
  // Waits until `n` resync signals were delivered; false after `timeout`.
  bool WaitForResyncs(uint64_t n,
                      absl::Duration timeout = absl::Seconds(60)) const
      ABSL_LOCKS_EXCLUDED(mu_);

  // Checks what was delivered against `expected` (ascending: every sequence
  // this connection should see, e.g. the sequences published on its target).
  Report Check(absl::Span<const uint64_t> expected) const
      ABSL_LOCKS_EXCLUDED(mu_);

  // For a server restart, where sequences start again in a new epoch: the
  // log split at each resync signal into segments, segment i checked against
  // `segments[i]` with no gap at all (every expected sequence delivered).
  // The report sums them; `resyncs` counts the signals, and a log with more
  // segments than given reports the extra deliveries as unexpected.
  Report CheckSegments(absl::Span<const std::vector<uint64_t>> segments) const
      ABSL_LOCKS_EXCLUDED(mu_);

  // Every sequence delivered, in delivery order (resync signals left out).
  std::vector<uint64_t> sequences() const ABSL_LOCKS_EXCLUDED(mu_);

  // The highest sequence delivered since the last resync signal.
  uint64_t last_sequence() const ABSL_LOCKS_EXCLUDED(mu_);
  // The threads OnNotify ran on (for thread-affinity assertions).
  std::vector<std::thread::id> threads() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // Checks `log` (0: a resync signal) against `expected`.
  static Report CheckLog(absl::Span<const uint64_t> log,
                         absl::Span<const uint64_t> expected);

  // 0 stands for a resync signal.
  mutable absl::Mutex mu_;
  std::vector<uint64_t> log_ ABSL_GUARDED_BY(mu_);
  uint64_t batches_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t resyncs_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t last_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::thread::id> threads_ ABSL_GUARDED_BY(mu_);
};

}  // namespace mapinotify::testing

#endif  // MAPINOTIFY_TESTS_INTEGRATION_DELIVERY_CHECKER_H_
