// Test helpers for the store's progress tests: a progress object that
// records every call (and can answer MAPI_E_USER_CANCEL from a threshold
// on), and a check of the properties every call sequence must have.
#ifndef MAPINOTIFY_TESTS_UNIT_STORE_PROGRESS_TESTING_H_
#define MAPINOTIFY_TESTS_UNIT_STORE_PROGRESS_TESTING_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "mapinotify/mapi.h"
#include "mapinotify/progress.h"

namespace mapinotify::server::store::testing {

// One call made on a RecordingProgress.
struct ProgressCall {
  enum Kind { kGetFlags, kGetMin, kGetMax, kSetLimits, kProgress };
  Kind kind;
  // SetLimits: min, max, flags (each as passed; all three are always
  // given by the store). Progress: value, count, total.
  ULONG a = 0, b = 0, c = 0;
  SCODE answer = S_OK;  // Progress's answer.

  std::string ToString() const {
    switch (kind) {
      case kGetFlags:
        return "GetFlags";
      case kGetMin:
        return "GetMin";
      case kGetMax:
        return "GetMax";
      case kSetLimits:
        return absl::StrCat("SetLimits(", a, ",", b, ",", c, ")");
      case kProgress:
        return absl::StrCat("Progress(", a, ",", b, ",", c, ")");
    }
    return "?";
  }
};

// BasicProgress that records every call, in order. With a cancel threshold
// it answers MAPI_E_USER_CANCEL to the first Progress whose value reaches
// it (and to any later one). Thread-compatible.
class RecordingProgress : public BasicProgress {
 public:
  RecordingProgress() = default;
  // Starts with these flags and limits instead of MAPI_TOP_LEVEL, 1, 1000.
  RecordingProgress(ULONG flags, ULONG min, ULONG max) {
    BasicProgress::SetLimits(&min, &max, &flags);
  }

  // Cancels from the first Progress with value >= min + p * (max - min)
  // of the limits the object had when this was called.
  void CancelAtFraction(double p) {
    cancel_at_ = static_cast<ULONG>(
        BasicProgress::GetMin() +
        p * (BasicProgress::GetMax() - BasicProgress::GetMin()));
  }

  ULONG GetFlags() override {
    calls_.push_back({ProgressCall::kGetFlags});
    return BasicProgress::GetFlags();
  }
  ULONG GetMin() override {
    calls_.push_back({ProgressCall::kGetMin});
    return BasicProgress::GetMin();
  }
  ULONG GetMax() override {
    calls_.push_back({ProgressCall::kGetMax});
    return BasicProgress::GetMax();
  }
  void SetLimits(const ULONG* min, const ULONG* max,
                 const ULONG* flags) override {
    calls_.push_back({ProgressCall::kSetLimits, min ? *min : ~0u,
                      max ? *max : ~0u, flags ? *flags : ~0u});
    BasicProgress::SetLimits(min, max, flags);
  }

  const std::vector<ProgressCall>& calls() const { return calls_; }
  std::vector<std::string> Strings() const {
    std::vector<std::string> out;
    for (const ProgressCall& call : calls_) out.push_back(call.ToString());
    return out;
  }
  bool cancelled() const { return cancelled_; }
  // The threshold CancelAtFraction set, if any.
  std::optional<ULONG> cancel_at() const { return cancel_at_; }

 protected:
  SCODE OnProgress(ULONG value, ULONG count, ULONG total) override {
    SCODE answer = S_OK;
    if (cancel_at_.has_value() && value >= *cancel_at_) {
      cancelled_ = true;
      answer = MAPI_E_USER_CANCEL;
    }
    calls_.push_back({ProgressCall::kProgress, value, count, total, answer});
    return answer;
  }

 private:
  std::vector<ProgressCall> calls_;
  std::optional<ULONG> cancel_at_;
  bool cancelled_ = false;
};

// Checks the properties of `calls`, made by one operation on an object
// whose limits were [gmin, gmax] with MAPI_TOP_LEVEL at the start: GetFlags
// first, then GetMin and GetMax; every SetLimits either enters a subobject
// (MAPI_TOP_LEVEL cleared, a sub-range of the current range starting no
// lower than the last value) or restores the enclosing level's limits and
// flags exactly; values never decrease and stay within (gmin, gmax] and
// within the current range; count <= total (count increasing by one) while
// MAPI_TOP_LEVEL is set, count = total = 0 while it is cleared; gmax is
// reached only by the last call. `complete`: the last call is
// Progress(gmax, N, N) (otherwise: the last call is the Progress that
// answered cancel).
inline void ExpectProgressProperties(const std::vector<ProgressCall>& calls,
                                     ULONG gmin, ULONG gmax, bool complete) {
  struct Range {
    ULONG lo, hi, flags;
    bool operator==(const Range& o) const {
      return lo == o.lo && hi == o.hi && flags == o.flags;
    }
  };
  ASSERT_GE(calls.size(), 4u);
  EXPECT_EQ(calls[0].kind, ProgressCall::kGetFlags);
  EXPECT_EQ(calls[1].kind, ProgressCall::kGetMin);
  EXPECT_EQ(calls[2].kind, ProgressCall::kGetMax);
  std::vector<Range> levels = {{gmin, gmax, MAPI_TOP_LEVEL}};
  ULONG last_value = gmin;
  ULONG last_count = 0;
  for (size_t i = 3; i < calls.size(); ++i) {
    SCOPED_TRACE(::testing::Message()
                 << "call " << i << " " << calls[i].ToString());
    const ProgressCall& call = calls[i];
    if (call.kind == ProgressCall::kSetLimits) {
      const Range range{call.a, call.b, call.c};
      if (levels.size() >= 2 && levels[levels.size() - 2] == range) {
        levels.pop_back();  // Restores the enclosing level.
      } else if (!(levels.back() == range)) {
        EXPECT_EQ(call.c & MAPI_TOP_LEVEL, 0u);
        EXPECT_LE(levels.back().lo, call.a);
        EXPECT_LE(call.a, call.b);
        EXPECT_LE(call.b, levels.back().hi);
        EXPECT_GE(call.a, last_value);
        levels.push_back(range);
      }
      continue;
    }
    ASSERT_EQ(call.kind, ProgressCall::kProgress);
    EXPECT_GE(call.a, last_value);
    EXPECT_GT(call.a, gmin);
    EXPECT_LE(call.a, gmax);
    EXPECT_GE(call.a, levels.back().lo);
    EXPECT_LE(call.a, levels.back().hi);
    if (call.a == gmax) {
      EXPECT_EQ(i + 1, calls.size()) << "max before the end";
    }
    if (levels.back().flags & MAPI_TOP_LEVEL) {
      EXPECT_EQ(levels.size(), 1u);
      EXPECT_LE(call.b, call.c);
      EXPECT_EQ(call.b, call.c == 0 ? 0 : last_count + 1);
      last_count = call.b;
    } else {
      EXPECT_EQ(call.b, 0u);
      EXPECT_EQ(call.c, 0u);
    }
    last_value = call.a;
    if (call.answer == MAPI_E_USER_CANCEL) {
      EXPECT_FALSE(complete);
      EXPECT_EQ(i + 1, calls.size()) << "a call after the cancel";
    }
  }
  const ProgressCall& last = calls.back();
  ASSERT_EQ(last.kind, ProgressCall::kProgress);
  if (complete) {
    EXPECT_EQ(levels.size(), 1u);
    EXPECT_EQ(last.a, gmax);
    EXPECT_EQ(last.b, last.c);
  } else {
    EXPECT_EQ(last.answer, MAPI_E_USER_CANCEL);
    EXPECT_LT(last.a, gmax);
  }
}

}  // namespace mapinotify::server::store::testing

#endif  // MAPINOTIFY_TESTS_UNIT_STORE_PROGRESS_TESTING_H_
