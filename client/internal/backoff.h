// Backoff: the delays between a session's reconnect attempts (exponential,
// capped, with jitter; see mapinotify::ReconnectOptions). Internal.
#ifndef MAPINOTIFY_CLIENT_INTERNAL_BACKOFF_H_
#define MAPINOTIFY_CLIENT_INTERNAL_BACKOFF_H_

#include <algorithm>
#include <functional>
#include <utility>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "mapinotify/session.h"

namespace mapinotify::internal {

// InvalidArgument when `options` cannot drive a Backoff: a negative delay,
// max_backoff < initial_backoff, multiplier < 1 (or not a number), jitter
// outside [0, 1], a negative max_attempts.
inline absl::Status ValidateReconnectOptions(const ReconnectOptions& options) {
  if (options.initial_backoff < absl::ZeroDuration() ||
      options.reset_after < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "reconnect: initial_backoff and reset_after must not be negative");
  }
  if (options.max_backoff < options.initial_backoff) {
    return absl::InvalidArgumentError(
        "reconnect: max_backoff must not be below initial_backoff");
  }
  if (!(options.multiplier >= 1.0)) {  // Also refuses NaN.
    return absl::InvalidArgumentError("reconnect: multiplier must be >= 1");
  }
  if (!(options.jitter >= 0.0 && options.jitter <= 1.0)) {
    return absl::InvalidArgumentError("reconnect: jitter must be in [0, 1]");
  }
  if (options.max_attempts < 0) {
    return absl::InvalidArgumentError(
        "reconnect: max_attempts must not be negative");
  }
  return absl::OkStatus();
}

// The delay before each reconnect attempt. The n-th delay after a reset
// (n = 0, 1, ...) is
//   min(initial_backoff * multiplier^n, max_backoff) * f,
// f uniform in [1 - jitter, 1 + jitter] (drawn from the injected source), so
// a delay may exceed max_backoff by the jitter, as gRPC's connection backoff.
// Thread-compatible: one owner (the session's reconnect thread).
class Backoff {
 public:
  // `uniform01` returns values in [0, 1) (tests inject a fixed sequence).
  // REQUIRES: ValidateReconnectOptions(options).ok().
  Backoff(const ReconnectOptions& options, std::function<double()> uniform01)
      : initial_(options.initial_backoff),
        max_(options.max_backoff),
        multiplier_(options.multiplier),
        jitter_(options.jitter),
        reset_after_(options.reset_after),
        uniform01_(std::move(uniform01)),
        base_(options.initial_backoff) {}

  // The delay before the next attempt; the following one grows by the
  // multiplier (up to max_backoff).
  absl::Duration NextDelay() {
    const absl::Duration base = base_;
    base_ = std::min(base_ * multiplier_, max_);
    const double u = std::clamp(uniform01_(), 0.0, 1.0);
    const double factor = 1.0 - jitter_ + 2.0 * jitter_ * u;
    return base * factor;
  }

  // The next delay is initial_backoff again.
  void Reset() { base_ = initial_; }

  // A stream that was up for `up_for` ended: resets the delays when it was
  // healthy for at least reset_after (a server that accepts and drops
  // streams at once keeps its clients backing off).
  void StreamEnded(absl::Duration up_for) {
    if (up_for >= reset_after_) Reset();
  }

 private:
  const absl::Duration initial_;
  const absl::Duration max_;
  const double multiplier_;
  const double jitter_;
  const absl::Duration reset_after_;
  const std::function<double()> uniform01_;
  absl::Duration base_;  // The next delay before jitter.
};

}  // namespace mapinotify::internal

#endif  // MAPINOTIFY_CLIENT_INTERNAL_BACKOFF_H_
