// Backoff: the delays between reconnect attempts, with an injected random
// source so that every delay is known exactly.
#include "client/internal/backoff.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "mapinotify/session.h"

namespace mapinotify::internal {
namespace {

ReconnectOptions Options(double jitter) {
  ReconnectOptions o;
  o.initial_backoff = absl::Milliseconds(100);
  o.max_backoff = absl::Seconds(1);
  o.multiplier = 2.0;
  o.jitter = jitter;
  o.reset_after = absl::Seconds(10);
  return o;
}

// A random source that returns `value` every time.
std::function<double()> Fixed(double value) {
  return [value] { return value; };
}

// Delays equal within a microsecond (the double arithmetic rounds).
void ExpectNear(absl::Duration actual, absl::Duration expected) {
  EXPECT_LE(absl::AbsDuration(actual - expected), absl::Microseconds(1))
      << "actual " << actual << ", expected " << expected;
}

TEST(Backoff, GrowsByTheMultiplierUpToTheCap) {
  // u = 0.5: the jitter factor is exactly 1.
  Backoff backoff(Options(0.2), Fixed(0.5));
  const std::vector<absl::Duration> expected = {
      absl::Milliseconds(100), absl::Milliseconds(200), absl::Milliseconds(400),
      absl::Milliseconds(800), absl::Seconds(1),        absl::Seconds(1),
      absl::Seconds(1)};
  for (absl::Duration want : expected) ExpectNear(backoff.NextDelay(), want);
}

TEST(Backoff, NonIntegralMultiplier) {
  ReconnectOptions o = Options(0.0);
  o.multiplier = 1.6;
  o.max_backoff = absl::Seconds(5);
  Backoff backoff(o, Fixed(0.9));  // jitter 0: u does not matter.
  double want_ms = 100;
  for (int i = 0; i < 12; ++i) {
    ExpectNear(backoff.NextDelay(),
               absl::Milliseconds(std::min(want_ms, 5000.0)));
    want_ms *= 1.6;
  }
}

TEST(Backoff, JitterStaysWithinItsBounds) {
  // The extremes of the random source give the extremes of the factor.
  Backoff low(Options(0.2), Fixed(0.0));
  Backoff high(Options(0.2), Fixed(1.0));
  absl::Duration base = absl::Milliseconds(100);
  for (int i = 0; i < 8; ++i) {
    ExpectNear(low.NextDelay(), base * 0.8);
    ExpectNear(high.NextDelay(), base * 1.2);
    base = std::min(base * 2, absl::Seconds(1));
  }
  // Any value in between lands in [0.8, 1.2] x base, spread as drawn.
  double u = 0.0;
  Backoff spread(Options(0.2), [&u] {
    u += 0.125;
    return u - 0.125;  // 0, 0.125, ..., 0.875
  });
  base = absl::Milliseconds(100);
  for (int i = 0; i < 8; ++i) {
    const double factor = 0.8 + 0.4 * (0.125 * i);
    ExpectNear(spread.NextDelay(), base * factor);
    base = std::min(base * 2, absl::Seconds(1));
  }
}

TEST(Backoff, ARandomSourceOutOfRangeIsClamped) {
  Backoff backoff(Options(0.5), Fixed(7.0));
  ExpectNear(backoff.NextDelay(), absl::Milliseconds(150));
  Backoff negative(Options(0.5), Fixed(-3.0));
  ExpectNear(negative.NextDelay(), absl::Milliseconds(50));
}

TEST(Backoff, ResetsAfterAHealthyPeriodOnly) {
  Backoff backoff(Options(0.0), Fixed(0.5));
  ExpectNear(backoff.NextDelay(), absl::Milliseconds(100));
  ExpectNear(backoff.NextDelay(), absl::Milliseconds(200));
  // A stream that came up and broke at once keeps the delays growing.
  backoff.StreamEnded(absl::Seconds(9));
  ExpectNear(backoff.NextDelay(), absl::Milliseconds(400));
  // One that stayed up for reset_after starts over.
  backoff.StreamEnded(absl::Seconds(10));
  ExpectNear(backoff.NextDelay(), absl::Milliseconds(100));
  ExpectNear(backoff.NextDelay(), absl::Milliseconds(200));
  backoff.Reset();
  ExpectNear(backoff.NextDelay(), absl::Milliseconds(100));
}

TEST(Backoff, ZeroInitialDelayStaysZero) {
  ReconnectOptions o = Options(0.2);
  o.initial_backoff = absl::ZeroDuration();
  Backoff backoff(o, Fixed(1.0));
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(backoff.NextDelay(), absl::ZeroDuration());
}

TEST(ValidateReconnectOptions, AcceptsTheDefaultsAndRefusesNonsense) {
  EXPECT_TRUE(ValidateReconnectOptions(ReconnectOptions()).ok());
  auto refused = [](void (*edit)(ReconnectOptions&)) {
    ReconnectOptions o;
    edit(o);
    return ValidateReconnectOptions(o).code() ==
           absl::StatusCode::kInvalidArgument;
  };
  EXPECT_TRUE(refused(
      [](ReconnectOptions& o) { o.initial_backoff = absl::Milliseconds(-1); }));
  EXPECT_TRUE(refused(
      [](ReconnectOptions& o) { o.max_backoff = absl::Milliseconds(50); }));
  EXPECT_TRUE(refused([](ReconnectOptions& o) { o.multiplier = 0.5; }));
  EXPECT_TRUE(
      refused([](ReconnectOptions& o) { o.multiplier = std::nan(""); }));
  EXPECT_TRUE(refused([](ReconnectOptions& o) { o.jitter = -0.1; }));
  EXPECT_TRUE(refused([](ReconnectOptions& o) { o.jitter = 1.5; }));
  EXPECT_TRUE(refused([](ReconnectOptions& o) { o.max_attempts = -1; }));
  EXPECT_TRUE(
      refused([](ReconnectOptions& o) { o.reset_after = absl::Seconds(-1); }));
}

}  // namespace
}  // namespace mapinotify::internal
