#include "mapinotify/thread_progress.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "client/loop_core.h"
#include "client/notification_thread.h"
#include "client/thread_progress_internal.h"
#include "gtest/gtest.h"
#include "mapinotify/message_loop.h"
#include "mapinotify/progress.h"

namespace mapinotify {
namespace {

const absl::Duration kTimeout = absl::Seconds(60);

using internal::kMaxPendingProgressOps;
using internal::ProgressOp;
using internal::ProgressOpQueue;
using internal::ProgressRelay;
using internal::ThisThreadProgressWrapper;

// Runs `f` on a new thread and waits for it.
void OnOtherThread(const std::function<void()>& f) {
  std::thread t(f);
  t.join();
}

const ProgressRelay& RelayOf(const std::shared_ptr<MapiProgress>& wrapped) {
  const auto* wrapper = ThisThreadProgressWrapper::From(wrapped.get());
  EXPECT_NE(wrapper, nullptr);
  return wrapper->relay();
}

// One call as the application's progress object received it.
struct Call {
  bool is_limits = false;
  std::optional<ULONG> min, max, flags;   // SetLimits: the fields given.
  ULONG value = 0, count = 0, total = 0;  // Progress.
  std::thread::id thread;

  static Call Limits(std::optional<ULONG> min, std::optional<ULONG> max,
                     std::optional<ULONG> flags) {
    Call c;
    c.is_limits = true;
    c.min = min;
    c.max = max;
    c.flags = flags;
    return c;
  }
  static Call Progress(ULONG value, ULONG count, ULONG total) {
    Call c;
    c.value = value;
    c.count = count;
    c.total = total;
    return c;
  }
  // Equal arguments (the thread is checked separately).
  bool operator==(const Call& o) const {
    return is_limits == o.is_limits && min == o.min && max == o.max &&
           flags == o.flags && value == o.value && count == o.count &&
           total == o.total;
  }
};

std::ostream& operator<<(std::ostream& os, const Call& c) {
  auto opt = [](std::optional<ULONG> v) {
    return v ? std::to_string(*v) : std::string("null");
  };
  if (c.is_limits) {
    return os << "SetLimits(" << opt(c.min) << ", " << opt(c.max) << ", "
              << opt(c.flags) << ")";
  }
  return os << "Progress(" << c.value << ", " << c.count << ", " << c.total
            << ")";
}

// Where and whether a JournalProgress was destroyed. Outlives it.
struct Destruction {
  absl::Notification done;
  // Written before `done` is notified.
  std::thread::id thread;
  ULONG last_value = 0;  // The last Progress value it had received.
};

// The application's progress object: BasicProgress's bookkeeping plus a
// journal of the calls it received (arguments and thread), so that tests
// can check order and thread affinity. Its bookkeeping is thread-compatible
// like an application's; the journal is under a mutex only so that a test
// can wait for it from another thread.
class JournalProgress : public BasicProgress {
 public:
  explicit JournalProgress(Destruction* destruction = nullptr)
      : destruction_(destruction) {}
  ~JournalProgress() override {
    if (destruction_ != nullptr) {
      destruction_->thread = std::this_thread::get_id();
      destruction_->last_value = value();
      destruction_->done.Notify();
    }
  }

  void SetLimits(const ULONG* min, const ULONG* max,
                 const ULONG* flags) override {
    BasicProgress::SetLimits(min, max, flags);
    Call c = Call::Limits(min ? std::optional<ULONG>(*min) : std::nullopt,
                          max ? std::optional<ULONG>(*max) : std::nullopt,
                          flags ? std::optional<ULONG>(*flags) : std::nullopt);
    Record(std::move(c));
  }
  ULONG GetFlags() override {
    RecordGet();
    return BasicProgress::GetFlags();
  }
  ULONG GetMax() override {
    RecordGet();
    return BasicProgress::GetMax();
  }
  ULONG GetMin() override {
    RecordGet();
    return BasicProgress::GetMin();
  }

  // Progress answers MAPI_E_USER_CANCEL for values >= `value`.
  void set_cancel_from(ULONG value) { cancel_from_ = value; }
  // Called (on the calling thread) at the start of each Progress.
  void set_on_progress(std::function<void(ULONG)> hook) {
    on_progress_ = std::move(hook);
  }

  std::vector<Call> calls() const {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  std::vector<std::thread::id> get_threads() const {
    absl::MutexLock lock(&mu_);
    return get_threads_;
  }
  // Waits until a Progress with `value` arrived.
  bool WaitForValue(ULONG value) {
    absl::MutexLock lock(&mu_);
    auto seen = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return last_value_ == value;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&seen), kTimeout);
  }

 protected:
  SCODE OnProgress(ULONG value, ULONG count, ULONG total) override {
    if (on_progress_) on_progress_(value);
    Record(Call::Progress(value, count, total));
    return value >= cancel_from_ ? MAPI_E_USER_CANCEL : S_OK;
  }

 private:
  void Record(Call c) {
    c.thread = std::this_thread::get_id();
    absl::MutexLock lock(&mu_);
    if (!c.is_limits) last_value_ = c.value;
    calls_.push_back(std::move(c));
  }
  void RecordGet() {
    absl::MutexLock lock(&mu_);
    get_threads_.push_back(std::this_thread::get_id());
  }

  Destruction* const destruction_;
  ULONG cancel_from_ = 0xffffffff;
  std::function<void(ULONG)> on_progress_;

  mutable absl::Mutex mu_;
  std::vector<Call> calls_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread::id> get_threads_ ABSL_GUARDED_BY(mu_);
  std::optional<ULONG> last_value_ ABSL_GUARDED_BY(mu_);
};

// --- ThreadSafeProgress ------------------------------------------------------

// Not thread-safe at all: plain counters and a map, so that TSan reports any
// concurrent use; the atomic in-call counter catches overlap in every build.
class UnsafeCountingProgress : public MapiProgress {
 public:
  SCODE Progress(ULONG value, ULONG count, ULONG /*total*/) override {
    Enter();
    // Not a sleep: gives another thread the chance to enter now, so that an
    // unserialized wrapper shows as overlap even without TSan.
    std::this_thread::yield();
    ++progress_calls_;
    ++calls_by_thread_[std::this_thread::get_id()];
    last_value_ = value;
    last_count_ = count;
    Leave();
    return value == kCancelValue ? MAPI_E_USER_CANCEL : S_OK;
  }
  ULONG GetFlags() override {
    Enter();
    ULONG f = flags_;
    Leave();
    return f;
  }
  ULONG GetMax() override {
    Enter();
    ULONG m = max_;
    Leave();
    return m;
  }
  ULONG GetMin() override {
    Enter();
    ULONG m = min_;
    Leave();
    return m;
  }
  void SetLimits(const ULONG* min, const ULONG* max,
                 const ULONG* flags) override {
    Enter();
    ++set_limits_calls_;
    if (min) min_ = *min;
    if (max) max_ = *max;
    if (flags) flags_ = *flags;
    Leave();
  }

  static constexpr ULONG kCancelValue = 0xdead;
  bool overlapped() const { return overlapped_.load(); }
  // Read only once the callers are joined.
  uint64_t progress_calls() const { return progress_calls_; }
  uint64_t set_limits_calls() const { return set_limits_calls_; }
  const std::map<std::thread::id, uint64_t>& calls_by_thread() const {
    return calls_by_thread_;
  }

 private:
  void Enter() {
    if (in_call_.fetch_add(1) != 0) overlapped_ = true;
  }
  void Leave() { in_call_.fetch_sub(1); }

  std::atomic<int> in_call_{0};
  std::atomic<bool> overlapped_{false};
  uint64_t progress_calls_ = 0;
  uint64_t set_limits_calls_ = 0;
  std::map<std::thread::id, uint64_t> calls_by_thread_;
  ULONG last_value_ = 0;
  ULONG last_count_ = 0;
  ULONG flags_ = MAPI_TOP_LEVEL;
  ULONG min_ = 1;
  ULONG max_ = 1000;
};

TEST(ThreadSafeProgressTest, EightThreadsNeverOverlapAndLoseNoCall) {
  constexpr int kThreads = 8;
  constexpr ULONG kPerThread = 5000;
  auto original = std::make_shared<UnsafeCountingProgress>();
  ThreadSafeProgress progress(original);

  absl::Notification start;
  std::vector<std::thread::id> ids(kThreads);
  std::vector<uint64_t> limits_sent(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ids[t] = std::this_thread::get_id();
      start.WaitForNotification();
      for (ULONG i = 1; i <= kPerThread; ++i) {
        EXPECT_EQ(progress.Progress(i, static_cast<ULONG>(t), kPerThread),
                  S_OK);
        if (i % 16 == 0) {
          ULONG max = 1000 + i;
          progress.SetLimits(nullptr, &max, nullptr);
          ++limits_sent[t];
        }
        if (i % 32 == 0) {
          EXPECT_GE(progress.GetMax(), 1000u);
          EXPECT_EQ(progress.GetMin(), 1u);
          EXPECT_EQ(progress.GetFlags(), MAPI_TOP_LEVEL);
        }
      }
    });
  }
  start.Notify();
  for (auto& t : threads) t.join();

  EXPECT_FALSE(original->overlapped());
  EXPECT_EQ(original->progress_calls(), uint64_t{kThreads} * kPerThread);
  uint64_t limits_total = 0;
  for (uint64_t n : limits_sent) limits_total += n;
  EXPECT_EQ(original->set_limits_calls(), limits_total);
  // Each call ran on the thread that made it.
  ASSERT_EQ(original->calls_by_thread().size(), size_t{kThreads});
  for (std::thread::id id : ids) {
    auto it = original->calls_by_thread().find(id);
    ASSERT_NE(it, original->calls_by_thread().end());
    EXPECT_EQ(it->second, kPerThread);
  }
}

TEST(ThreadSafeProgressTest, ForwardsAnswersAndLimits) {
  auto original = std::make_shared<UnsafeCountingProgress>();
  ThreadSafeProgress progress(original);
  EXPECT_EQ(progress.Progress(1, 0, 0), S_OK);
  EXPECT_EQ(progress.Progress(UnsafeCountingProgress::kCancelValue, 0, 0),
            MAPI_E_USER_CANCEL);
  ULONG min = 0, max = 50, flags = 0;
  progress.SetLimits(&min, &max, &flags);
  EXPECT_EQ(progress.GetMin(), 0u);
  EXPECT_EQ(progress.GetMax(), 50u);
  EXPECT_EQ(progress.GetFlags(), 0u);
}

// --- ProgressOpQueue ---------------------------------------------------------

// The state a sequence of calls leaves in a progress object.
struct EndState {
  ULONG min = 1, max = 1000, flags = MAPI_TOP_LEVEL;
  std::optional<ULONG> value;
  void Apply(const ProgressOp& op) {
    if (op.kind == ProgressOp::Kind::kProgress) {
      value = op.value;
      return;
    }
    if (op.has_min) min = op.min;
    if (op.has_max) max = op.max;
    if (op.has_flags) flags = op.flags;
  }
  bool operator==(const EndState& o) const {
    return min == o.min && max == o.max && flags == o.flags && value == o.value;
  }
};

TEST(ProgressOpQueueTest, RandomCallsStayBoundedOrderedAndEndTheSame) {
  std::mt19937 rng(12345);
  for (int round = 0; round < 50; ++round) {
    ProgressOpQueue queue;
    EndState all_calls;
    ULONG next_value = 1;
    // The SetLimits calls made after the last Progress, merged.
    ProgressOp tail_limits = ProgressOp::Limits(nullptr, nullptr, nullptr);
    bool last_is_progress = false;
    const int n = 1 + static_cast<int>(rng() % 2000);
    for (int i = 0; i < n; ++i) {
      ProgressOp op;
      if (rng() % 2 == 0) {
        op = ProgressOp::Progress(next_value++, 0, 0);
        tail_limits = ProgressOp::Limits(nullptr, nullptr, nullptr);
        last_is_progress = true;
      } else {
        ULONG a = rng() % 100, b = rng() % 100, c = rng() % 2;
        op = ProgressOp::Limits(rng() % 2 ? &a : nullptr,
                                rng() % 2 ? &b : nullptr,
                                rng() % 2 ? &c : nullptr);
        tail_limits.MergeLimits(op);
        last_is_progress = false;
      }
      all_calls.Apply(op);
      queue.Add(op);
      ASSERT_LE(queue.size(), kMaxPendingProgressOps);
    }
    // Kinds alternate; Progress values keep call order.
    EndState delivered;
    ULONG last_value = 0;
    for (size_t i = 0; i < queue.size(); ++i) {
      const ProgressOp& op = queue.ops()[i];
      if (i > 0) {
        ASSERT_NE(op.kind, queue.ops()[i - 1].kind);
      }
      if (op.kind == ProgressOp::Kind::kProgress) {
        ASSERT_GT(op.value, last_value);
        last_value = op.value;
      }
      delivered.Apply(op);
    }
    // Same end state: every limit last set and the last Progress.
    EXPECT_EQ(delivered, all_calls) << "round " << round;
    // The last Progress keeps its place among the SetLimits.
    const ProgressOp& back = queue.ops().back();
    EXPECT_EQ(back.kind == ProgressOp::Kind::kProgress, last_is_progress);
    if (!last_is_progress) {
      EXPECT_EQ(back.has_min, tail_limits.has_min);
      EXPECT_EQ(back.has_max, tail_limits.has_max);
      EXPECT_EQ(back.has_flags, tail_limits.has_flags);
    }
  }
}

// --- ThisThreadProgress ------------------------------------------------------

TEST(ThisThreadProgressTest, FailsOnThreadWithoutLoop) {
  ASSERT_EQ(MessageLoop::Current(), nullptr);
  auto wrapped = ThisThreadProgress(std::make_shared<JournalProgress>());
  EXPECT_EQ(wrapped.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(ThisThreadProgressTest, RejectsNullProgress) {
  MessageLoop loop;
  EXPECT_EQ(ThisThreadProgress(nullptr).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ThisThreadProgressTest, CallsFromOtherThreadsRunOnWrappingThreadInOrder) {
  MessageLoop loop;
  auto original = std::make_shared<JournalProgress>();
  auto wrapped = ThisThreadProgress(original);
  ASSERT_TRUE(wrapped.ok());
  std::shared_ptr<MapiProgress> w = *wrapped;
  ASSERT_NE(w, original);

  ULONG min = 0, max = 10, flags = 0, max2 = 20, flags2 = MAPI_TOP_LEVEL;
  OnOtherThread([&] {
    w->SetLimits(&min, &max, &flags);
    EXPECT_EQ(w->Progress(1, 1, 3), S_OK);
    w->SetLimits(nullptr, &max2, nullptr);
    EXPECT_EQ(w->Progress(2, 2, 3), S_OK);
    w->SetLimits(nullptr, nullptr, &flags2);
    EXPECT_EQ(w->Progress(20, 3, 3), S_OK);
  });
  EXPECT_TRUE(original->calls().empty());  // Nothing ran on the caller.
  EXPECT_EQ(loop.RunUntilIdle(), 1u);      // One drain for all six calls.

  const std::vector<Call> calls = original->calls();
  EXPECT_EQ(calls, (std::vector<Call>{
                       Call::Limits(0, 10, 0),
                       Call::Progress(1, 1, 3),
                       Call::Limits(std::nullopt, 20, std::nullopt),
                       Call::Progress(2, 2, 3),
                       Call::Limits(std::nullopt, std::nullopt, MAPI_TOP_LEVEL),
                       Call::Progress(20, 3, 3),
                   }));
  for (const Call& c : calls) EXPECT_EQ(c.thread, std::this_thread::get_id());
  EXPECT_EQ(original->GetMax(), 20u);
}

TEST(ThisThreadProgressTest, ManyCallersWhileLoopRunsKeepOrderAndThread) {
  internal::NotificationThread wrapping_thread;
  auto original = std::make_shared<JournalProgress>();
  std::shared_ptr<MapiProgress> w;
  absl::Notification made;
  ASSERT_TRUE(wrapping_thread.core()
                  ->PostTask([&] {
                    auto wrapped = ThisThreadProgress(original);
                    ASSERT_TRUE(wrapped.ok());
                    w = *wrapped;
                    made.Notify();
                  })
                  .ok());
  ASSERT_TRUE(made.WaitForNotificationWithTimeout(kTimeout));

  // Four callers, each with increasing values tagged by `count`, while the
  // wrapping thread's loop runs; then one last call.
  constexpr int kCallers = 4;
  constexpr ULONG kPerCaller = 20000;
  std::vector<std::thread> callers;
  for (int t = 0; t < kCallers; ++t) {
    callers.emplace_back([&, t] {
      for (ULONG i = 1; i <= kPerCaller; ++i) {
        EXPECT_EQ(w->Progress(i, static_cast<ULONG>(t), kPerCaller), S_OK);
        if (i % 1000 == 0) {
          ULONG max = i;
          w->SetLimits(nullptr, &max, nullptr);
        }
      }
    });
  }
  for (auto& c : callers) c.join();
  constexpr ULONG kLast = 0x7fffffff;
  EXPECT_EQ(w->Progress(kLast, kCallers, 0), S_OK);
  ASSERT_TRUE(original->WaitForValue(kLast));

  // Each caller's values arrive in its call order, on the wrapping thread.
  std::vector<ULONG> last(kCallers + 1, 0);
  size_t progress_calls = 0;
  for (const Call& c : original->calls()) {
    EXPECT_EQ(c.thread, wrapping_thread.thread_id());
    if (c.is_limits) continue;
    ++progress_calls;
    ASSERT_LE(c.count, ULONG{kCallers});
    EXPECT_GT(c.value, last[c.count]) << "caller " << c.count;
    last[c.count] = c.value;
  }
  EXPECT_LE(progress_calls, size_t{kCallers} * kPerCaller + 1);
  EXPECT_EQ(original->calls().back(), Call::Progress(kLast, kCallers, 0));
  // Release the wrapper before the thread (and its loop) goes away.
  w.reset();
}

TEST(ThisThreadProgressTest, CoalescesWhileLoopIsNotPumped) {
  MessageLoop loop;
  auto original = std::make_shared<JournalProgress>();
  auto wrapped = ThisThreadProgress(original);
  ASSERT_TRUE(wrapped.ok());
  std::shared_ptr<MapiProgress> w = *wrapped;

  constexpr ULONG kCalls = 100000;
  OnOtherThread([&] {
    for (ULONG i = 1; i <= kCalls; ++i) {
      ASSERT_EQ(w->Progress(i, i, kCalls), S_OK);
    }
  });
  EXPECT_EQ(RelayOf(w).pending(), 1u);
  EXPECT_EQ(RelayOf(w).max_pending_seen(), 1u);
  EXPECT_EQ(loop.core()->pending(), 1u);  // One drain listed, not 100,000.

  EXPECT_EQ(loop.RunUntilIdle(), 1u);
  const std::vector<Call> calls = original->calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0], Call::Progress(kCalls, kCalls, kCalls));
  EXPECT_EQ(calls[0].thread, std::this_thread::get_id());
  EXPECT_EQ(original->value(), kCalls);
  EXPECT_EQ(loop.RunUntilIdle(), 0u);
}

TEST(ThisThreadProgressTest, MonotonicValuesArriveInOrderWhileLoopRuns) {
  MessageLoop loop;
  auto original = std::make_shared<JournalProgress>();
  constexpr ULONG kMax = 50000;
  ULONG previous = 0;
  bool out_of_order = false;
  original->set_on_progress([&](ULONG value) {  // Runs on this thread.
    if (value <= previous) out_of_order = true;
    previous = value;
    if (value == kMax) loop.Quit();
  });
  auto wrapped = ThisThreadProgress(original);
  ASSERT_TRUE(wrapped.ok());
  std::shared_ptr<MapiProgress> w = *wrapped;

  std::thread caller([&] {
    for (ULONG i = 1; i <= kMax; ++i) {
      ASSERT_EQ(w->Progress(i, i, kMax), S_OK);
    }
  });
  loop.Run();  // Until the last value quits it.
  caller.join();

  EXPECT_FALSE(out_of_order);
  EXPECT_EQ(previous, kMax);
  const std::vector<Call> calls = original->calls();
  ASSERT_FALSE(calls.empty());
  EXPECT_LE(calls.size(), size_t{kMax});
  for (const Call& c : calls) EXPECT_EQ(c.thread, std::this_thread::get_id());
  EXPECT_EQ(calls.back(), Call::Progress(kMax, kMax, kMax));
}

TEST(ThisThreadProgressTest, ConsecutiveSetLimitsMergeFieldByField) {
  MessageLoop loop;
  auto original = std::make_shared<JournalProgress>();
  auto wrapped = ThisThreadProgress(original);
  ASSERT_TRUE(wrapped.ok());
  std::shared_ptr<MapiProgress> w = *wrapped;

  OnOtherThread([&] {
    ULONG min = 5, max = 50, min2 = 6, flags = 0, max2 = 70, value = 7;
    w->SetLimits(&min, nullptr, nullptr);
    w->SetLimits(nullptr, &max, nullptr);
    w->SetLimits(&min2, nullptr, &flags);
    w->Progress(value, 1, 2);
    w->Progress(value + 1, 2, 2);  // Replaces the Progress before it.
    w->SetLimits(nullptr, &max2, nullptr);
  });
  EXPECT_EQ(RelayOf(w).pending(), 3u);
  EXPECT_EQ(loop.RunUntilIdle(), 1u);
  EXPECT_EQ(original->calls(),
            (std::vector<Call>{Call::Limits(6, 50, 0), Call::Progress(8, 2, 2),
                               Call::Limits(std::nullopt, 70, std::nullopt)}));
  EXPECT_EQ(original->GetMin(), 6u);
  EXPECT_EQ(original->GetMax(), 70u);
  EXPECT_EQ(original->GetFlags(), 0u);
}

TEST(ThisThreadProgressTest, SetLimitsKeepTheirPlaceAmongProgressPastTheBound) {
  MessageLoop loop;
  auto original = std::make_shared<JournalProgress>();
  auto wrapped = ThisThreadProgress(original);
  ASSERT_TRUE(wrapped.ok());
  std::shared_ptr<MapiProgress> w = *wrapped;

  // SetLimits(max = i) right before each Progress(i): the pairs never
  // coalesce by adjacency, so the bound has to fold them.
  constexpr ULONG kPairs = 1000;
  OnOtherThread([&] {
    for (ULONG i = 1; i <= kPairs; ++i) {
      ULONG min = i % 7;
      w->SetLimits(i % 2 ? &min : nullptr, &i, nullptr);
      w->Progress(i, i, kPairs);
    }
    ULONG final_max = 5000;
    w->SetLimits(nullptr, &final_max, nullptr);
  });
  EXPECT_LE(RelayOf(w).max_pending_seen(), kMaxPendingProgressOps);
  EXPECT_LE(RelayOf(w).pending(), kMaxPendingProgressOps);
  EXPECT_EQ(loop.RunUntilIdle(), 1u);

  const std::vector<Call> calls = original->calls();
  ASSERT_LE(calls.size(), kMaxPendingProgressOps);
  ASSERT_GE(calls.size(), 2u);
  // Every delivered Progress(v) comes right after the limits its caller set
  // just before it (max = v), values increase, and the trailing SetLimits
  // stays after the last Progress.
  std::optional<ULONG> max_now;
  ULONG last_value = 0;
  for (size_t i = 0; i < calls.size(); ++i) {
    const Call& c = calls[i];
    EXPECT_EQ(c.thread, std::this_thread::get_id());
    if (i > 0) {
      EXPECT_NE(c.is_limits, calls[i - 1].is_limits);
    }
    if (c.is_limits) {
      if (c.max) max_now = c.max;
      continue;
    }
    EXPECT_EQ(max_now, c.value);
    EXPECT_GT(c.value, last_value);
    last_value = c.value;
  }
  EXPECT_EQ(calls[calls.size() - 2], Call::Progress(kPairs, kPairs, kPairs));
  EXPECT_EQ(calls.back(), Call::Limits(std::nullopt, 5000, std::nullopt));
  EXPECT_EQ(original->GetMax(), 5000u);
  EXPECT_EQ(original->GetMin(), (kPairs - 1) % 7);  // The last min given.
  EXPECT_EQ(original->value(), kPairs);
}

TEST(ThisThreadProgressTest, CancelIsAnsweredToLaterCallers) {
  MessageLoop loop;
  auto original = std::make_shared<JournalProgress>();
  original->set_cancel_from(10);
  auto wrapped = ThisThreadProgress(original);
  ASSERT_TRUE(wrapped.ok());
  std::shared_ptr<MapiProgress> w = *wrapped;

  OnOtherThread([&] { EXPECT_EQ(w->Progress(5, 0, 0), S_OK); });
  loop.RunUntilIdle();
  // Answered at once: the original has not seen 10 yet.
  OnOtherThread([&] { EXPECT_EQ(w->Progress(10, 0, 0), S_OK); });
  EXPECT_FALSE(RelayOf(w).cancelled());
  loop.RunUntilIdle();  // The original answers MAPI_E_USER_CANCEL.
  EXPECT_TRUE(RelayOf(w).cancelled());
  OnOtherThread([&] {
    EXPECT_EQ(w->Progress(11, 0, 0), MAPI_E_USER_CANCEL);
    EXPECT_EQ(w->Progress(12, 0, 0), MAPI_E_USER_CANCEL);
  });
  EXPECT_EQ(w->Progress(13, 0, 0), MAPI_E_USER_CANCEL);  // On this thread too.
  loop.RunUntilIdle();
  // Still forwarded after the cancel (coalesced).
  EXPECT_EQ(original->calls(), (std::vector<Call>{Call::Progress(5, 0, 0),
                                                  Call::Progress(10, 0, 0),
                                                  Call::Progress(13, 0, 0)}));
}

TEST(ThisThreadProgressTest, LimitsAreAnsweredFromTheWrappersCopy) {
  MessageLoop loop;
  auto original = std::make_shared<JournalProgress>();
  ULONG min = 0, max = 200, flags = 0;
  original->SetLimits(&min, &max, &flags);  // Before wrapping.
  auto wrapped = ThisThreadProgress(original);
  ASSERT_TRUE(wrapped.ok());
  std::shared_ptr<MapiProgress> w = *wrapped;
  const size_t gets_at_wrap = original->get_threads().size();
  EXPECT_EQ(gets_at_wrap, 3u);  // Read once each, when wrapped.

  OnOtherThread([&] {
    EXPECT_EQ(w->GetMin(), 0u);
    EXPECT_EQ(w->GetMax(), 200u);
    EXPECT_EQ(w->GetFlags(), 0u);
    ULONG max2 = 500, flags2 = MAPI_TOP_LEVEL;
    w->SetLimits(nullptr, &max2, &flags2);
    // At once, before the loop delivers anything.
    EXPECT_EQ(w->GetMin(), 0u);
    EXPECT_EQ(w->GetMax(), 500u);
    EXPECT_EQ(w->GetFlags(), MAPI_TOP_LEVEL);
  });
  EXPECT_EQ(original->GetMax(), 200u);  // Not delivered yet.
  loop.RunUntilIdle();
  EXPECT_EQ(original->GetMax(), 500u);
  EXPECT_EQ(original->GetFlags(), MAPI_TOP_LEVEL);
  // The original was asked for its limits only on this thread.
  for (std::thread::id id : original->get_threads()) {
    EXPECT_EQ(id, std::this_thread::get_id());
  }
}

TEST(ThisThreadProgressTest, CallsAfterTheLoopIsDestroyedAreDropped) {
  auto original = std::make_shared<JournalProgress>();
  original->set_cancel_from(1);
  std::shared_ptr<MapiProgress> w;
  {
    MessageLoop loop;
    auto wrapped = ThisThreadProgress(original);
    ASSERT_TRUE(wrapped.ok());
    w = *wrapped;
    OnOtherThread([&] { EXPECT_EQ(w->Progress(1, 0, 0), S_OK); });
    loop.RunUntilIdle();  // The original cancels.
    OnOtherThread([&] { EXPECT_EQ(w->Progress(2, 0, 0), MAPI_E_USER_CANCEL); });
  }  // Destroyed with Progress(2) waiting.
  OnOtherThread([&] {
    EXPECT_EQ(w->Progress(3, 0, 0), MAPI_E_USER_CANCEL);
    ULONG max = 77;
    w->SetLimits(nullptr, &max, nullptr);
    EXPECT_EQ(w->GetMax(), 77u);
    EXPECT_EQ(w->Progress(4, 0, 0), MAPI_E_USER_CANCEL);
  });
  // A new loop on the wrapping thread is not the wrapper's loop.
  MessageLoop another;
  EXPECT_EQ(w->Progress(5, 0, 0), MAPI_E_USER_CANCEL);
  EXPECT_EQ(another.RunUntilIdle(), 0u);

  EXPECT_EQ(original->calls(), (std::vector<Call>{Call::Progress(1, 0, 0)}));
  EXPECT_EQ(original->GetMax(), 1000u);
  EXPECT_EQ(RelayOf(w).pending(), 0u);
  // Progress(3) (which superseded the waiting Progress(2)), SetLimits, 4, 5.
  EXPECT_EQ(RelayOf(w).dropped(), 4u);
  w.reset();
  EXPECT_EQ(original.use_count(), 1);  // Released with the wrapper.
}

TEST(ThisThreadProgressTest, BoundedWhenTheLoopIsNeverPumped) {
  Destruction destruction;
  auto original = std::make_shared<JournalProgress>(&destruction);
  std::shared_ptr<MapiProgress> w;
  {
    MessageLoop loop;
    auto wrapped = ThisThreadProgress(original);
    ASSERT_TRUE(wrapped.ok());
    w = *wrapped;
    constexpr int kCallers = 4;
    constexpr int kPerCaller = 25000;
    std::vector<std::thread> callers;
    for (int t = 0; t < kCallers; ++t) {
      callers.emplace_back([&, t] {
        std::mt19937 rng(t);
        for (int i = 0; i < kPerCaller; ++i) {
          ULONG v = static_cast<ULONG>(i);
          if (rng() % 2) {
            w->Progress(v, 0, 0);
          } else {
            w->SetLimits(rng() % 2 ? &v : nullptr, rng() % 2 ? &v : nullptr,
                         rng() % 2 ? &v : nullptr);
          }
          ASSERT_LE(RelayOf(w).pending(), kMaxPendingProgressOps);
        }
      });
    }
    for (auto& c : callers) c.join();
    EXPECT_LE(RelayOf(w).max_pending_seen(), kMaxPendingProgressOps);
    EXPECT_GE(RelayOf(w).max_pending_seen(), 2u);
    EXPECT_EQ(loop.core()->pending(), 1u);  // At most one drain listed.
  }  // Destroyed without ever being pumped.
  EXPECT_TRUE(original->calls().empty());
  original.reset();
  EXPECT_FALSE(destruction.done.HasBeenNotified());  // The wrapper holds it.
  w.reset();
  EXPECT_TRUE(destruction.done.HasBeenNotified());
}

TEST(ThisThreadProgressTest, FullTaskQueueStillGetsTheLastProgress) {
  MessageLoop loop(MessageLoop::Options{1});
  auto original = std::make_shared<JournalProgress>();
  auto wrapped = ThisThreadProgress(original);
  ASSERT_TRUE(wrapped.ok());
  std::shared_ptr<MapiProgress> w = *wrapped;

  bool task_ran = false;
  ASSERT_TRUE(loop.PostTask([&] { task_ran = true; }).ok());
  ASSERT_EQ(loop.PostTask([] {}).code(), absl::StatusCode::kResourceExhausted);
  OnOtherThread([&] {
    for (ULONG i = 1; i <= 1000; ++i) EXPECT_EQ(w->Progress(i, 0, 0), S_OK);
  });
  EXPECT_EQ(loop.RunUntilIdle(), 2u);  // The user task, then the drain.
  EXPECT_TRUE(task_ran);
  EXPECT_EQ(original->calls(), (std::vector<Call>{Call::Progress(1000, 0, 0)}));
}

TEST(ThisThreadProgressTest, ReleasedWrapperDeliversThenReleasesOnLoopThread) {
  MessageLoop loop;
  Destruction destruction;
  std::weak_ptr<JournalProgress> weak;
  std::shared_ptr<MapiProgress> w;
  {
    auto original = std::make_shared<JournalProgress>(&destruction);
    weak = original;
    auto wrapped = ThisThreadProgress(std::move(original));
    ASSERT_TRUE(wrapped.ok());
    w = *wrapped;
  }
  // The provider's thread reports completion and drops the last reference.
  // (std::thread, not OnOtherThread: a std::function would keep a copy.)
  std::thread provider([w = std::move(w)]() mutable {
    EXPECT_EQ(w->Progress(1000, 10, 10), S_OK);
    w.reset();
  });
  provider.join();
  EXPECT_FALSE(destruction.done.HasBeenNotified());
  EXPECT_EQ(loop.RunUntilIdle(), 1u);
  ASSERT_TRUE(destruction.done.HasBeenNotified());
  EXPECT_EQ(destruction.last_value, 1000u);  // Delivered before release.
  EXPECT_EQ(destruction.thread, std::this_thread::get_id());
  EXPECT_TRUE(weak.expired());
}

TEST(ThisThreadProgressTest, NestedPumpInsideTheOriginalKeepsOrder) {
  MessageLoop loop;
  auto original = std::make_shared<JournalProgress>();
  auto wrapped = ThisThreadProgress(original);
  ASSERT_TRUE(wrapped.ok());
  std::shared_ptr<MapiProgress> w = *wrapped;
  MapiProgress* raw = w.get();  // Not owned by the hook: no cycle.
  // While it handles Progress(1), the original (a dialog) reports through
  // the wrapper and pumps the loop, as a modal progress dialog would.
  original->set_on_progress([&loop, raw](ULONG value) {
    if (value != 1) return;
    ULONG max = 300;
    raw->SetLimits(nullptr, &max, nullptr);
    raw->Progress(3, 0, 0);
    loop.RunUntilIdle();
  });

  OnOtherThread([&] {
    ULONG max = 100, max2 = 200;
    w->SetLimits(nullptr, &max, nullptr);
    w->Progress(1, 0, 0);
    w->SetLimits(nullptr, &max2, nullptr);
    w->Progress(2, 0, 0);
  });
  loop.RunUntilIdle();
  loop.RunUntilIdle();
  EXPECT_EQ(original->calls(),
            (std::vector<Call>{Call::Limits(std::nullopt, 100, std::nullopt),
                               Call::Progress(1, 0, 0),
                               Call::Limits(std::nullopt, 200, std::nullopt),
                               Call::Progress(2, 0, 0),
                               Call::Limits(std::nullopt, 300, std::nullopt),
                               Call::Progress(3, 0, 0)}));
  EXPECT_EQ(loop.RunUntilIdle(), 0u);
  original->set_on_progress(nullptr);
}

TEST(ThisThreadProgressTest, WrappingAWrapperKeepsTheFirstThread) {
  MessageLoop loop;
  auto original = std::make_shared<JournalProgress>();
  auto first = ThisThreadProgress(original);
  ASSERT_TRUE(first.ok());
  std::shared_ptr<MapiProgress> second;
  std::thread other([&] {
    MessageLoop other_loop;
    auto w = ThisThreadProgress(*first);
    ASSERT_TRUE(w.ok());
    second = *w;
    second->Progress(42, 0, 0);
    other_loop.RunUntilIdle();  // The second wrapper calls the first here.
    second.reset();             // Released while its loop still exists.
    other_loop.RunUntilIdle();
  });
  other.join();
  EXPECT_TRUE(original->calls().empty());
  EXPECT_EQ(loop.RunUntilIdle(), 1u);
  const std::vector<Call> calls = original->calls();
  ASSERT_EQ(calls, (std::vector<Call>{Call::Progress(42, 0, 0)}));
  EXPECT_EQ(calls[0].thread, std::this_thread::get_id());
}

}  // namespace
}  // namespace mapinotify
