// Proves tests/tsan/absl_tsan_shim.cc: every hand-off below is correctly
// synchronised by absl::Mutex / CondVar / Notification, and must run without
// a ThreadSanitizer report. Without the shim, TSan (blind to Debian's
// uninstrumented Abseil) reports races here; a real, unprotected race is
// still reported with it (checked by hand, see the shim's commit notes).
//
// Built and run only in the MAPINOTIFY_SANITIZE=thread build (label "tsan").

#include <deque>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace {

constexpr int kThreads = 4;
constexpr int kIterations = 2000;

// Threads increment a plain int guarded by a Mutex (MutexLock: Lock/Unlock).
TEST(AbslTsanShimTest, MutexLockGuardsCounter) {
  struct {
    absl::Mutex mu;
    int counter ABSL_GUARDED_BY(mu) = 0;
  } s;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIterations; ++i) {
        absl::MutexLock lock(&s.mu);
        ++s.counter;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  absl::MutexLock lock(&s.mu);
  EXPECT_EQ(s.counter, kThreads * kIterations);
}

// Readers (ReaderMutexLock) see a value a writer set; TryLock paths too.
TEST(AbslTsanShimTest, ReaderLockAndTryLock) {
  struct {
    absl::Mutex mu;
    std::string value ABSL_GUARDED_BY(mu);
    int tries ABSL_GUARDED_BY(mu) = 0;
  } s;
  std::thread writer([&] {
    absl::MutexLock lock(&s.mu);
    s.value = "written";
  });
  writer.join();
  std::vector<std::thread> readers;
  for (int t = 0; t < kThreads; ++t) {
    readers.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        absl::ReaderMutexLock lock(&s.mu);
        EXPECT_EQ(s.value, "written");
      }
      for (int i = 0; i < 100; ++i) {
        if (s.mu.TryLock()) {
          ++s.tries;
          s.mu.Unlock();
        }
        if (s.mu.ReaderTryLock()) {
          EXPECT_EQ(s.value, "written");
          s.mu.ReaderUnlock();
        }
      }
    });
  }
  for (auto& reader : readers) reader.join();
  absl::MutexLock lock(&s.mu);
  EXPECT_GT(s.tries, 0);
}

// A bounded producer/consumer queue whose waits are Mutex::Await(Condition):
// the conditions are evaluated by whichever thread unlocks.
TEST(AbslTsanShimTest, AwaitProducerConsumer) {
  constexpr size_t kCapacity = 8;
  constexpr int kItems = 5000;
  struct {
    absl::Mutex mu;
    std::deque<std::string> queue ABSL_GUARDED_BY(mu);
    bool done ABSL_GUARDED_BY(mu) = false;
  } s;

  std::thread producer([&] {
    for (int i = 0; i < kItems; ++i) {
      absl::MutexLock lock(&s.mu);
      s.mu.Await(absl::Condition(
          +[](std::deque<std::string>* q) { return q->size() < kCapacity; },
          &s.queue));
      s.queue.push_back(std::to_string(i));
    }
    absl::MutexLock lock(&s.mu);
    s.done = true;
  });

  std::vector<std::string> received;
  for (;;) {
    s.mu.Lock();
    // A lambda condition with captures, evaluated on other threads too.
    auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(s.mu) {
      return !s.queue.empty() || s.done;
    };
    s.mu.Await(absl::Condition(&ready));
    if (s.queue.empty()) {
      s.mu.Unlock();
      break;
    }
    received.push_back(std::move(s.queue.front()));
    s.queue.pop_front();
    s.mu.Unlock();
  }
  producer.join();
  ASSERT_EQ(received.size(), static_cast<size_t>(kItems));
  EXPECT_EQ(received.front(), "0");
  EXPECT_EQ(received.back(), std::to_string(kItems - 1));
}

// LockWhen / LockWhenWithTimeout: the waiter does not hold the mutex when it
// starts waiting.
TEST(AbslTsanShimTest, LockWhen) {
  struct {
    absl::Mutex mu;
    int stage ABSL_GUARDED_BY(mu) = 0;
    std::string payload ABSL_GUARDED_BY(mu);
  } s;
  std::thread waiter([&] {
    s.mu.LockWhen(absl::Condition(
        +[](int* stage) { return *stage == 1; }, &s.stage));
    EXPECT_EQ(s.payload, "one");
    s.payload = "two";
    s.stage = 2;
    s.mu.Unlock();
  });
  {
    absl::MutexLock lock(&s.mu);
    s.payload = "one";
    s.stage = 1;
  }
  const bool reached = s.mu.LockWhenWithTimeout(
      absl::Condition(
          +[](int* stage) { return *stage == 2; }, &s.stage),
      absl::Seconds(60));
  const std::string payload = s.payload;
  s.mu.Unlock();
  waiter.join();
  ASSERT_TRUE(reached);
  EXPECT_EQ(payload, "two");
}

// CondVar::Wait / WaitWithTimeout hand-off of plain data.
TEST(AbslTsanShimTest, CondVarWait) {
  struct {
    absl::Mutex mu;
    absl::CondVar cv;
    std::vector<int> items ABSL_GUARDED_BY(mu);
    bool ready ABSL_GUARDED_BY(mu) = false;
  } s;
  std::thread producer([&] {
    absl::MutexLock lock(&s.mu);
    for (int i = 0; i < 100; ++i) s.items.push_back(i);
    s.ready = true;
    s.cv.SignalAll();
  });
  {
    absl::MutexLock lock(&s.mu);
    while (!s.ready) s.cv.Wait(&s.mu);
    EXPECT_EQ(s.items.size(), 100u);
    s.items.clear();
    s.ready = false;
  }
  producer.join();

  std::thread signaller([&] {
    absl::MutexLock lock(&s.mu);
    s.items.push_back(7);
    s.ready = true;
    s.cv.Signal();
  });
  {
    absl::MutexLock lock(&s.mu);
    while (!s.ready) s.cv.WaitWithTimeout(&s.mu, absl::Seconds(60));
    EXPECT_EQ(s.items, std::vector<int>{7});
  }
  signaller.join();
}

// absl::Notification publishes plain (unguarded) data: WaitForNotification,
// WaitForNotificationWithTimeout and the inline HasBeenNotified().
TEST(AbslTsanShimTest, NotificationPublishesPlainData) {
  struct Published {
    std::string text;
    std::vector<int> numbers;
  };
  for (int round = 0; round < 50; ++round) {
    Published data;
    absl::Notification published;
    std::thread publisher([&] {
      data.text = "hello";
      data.numbers = {1, 2, 3};
      published.Notify();
    });
    std::string seen_by_waiter;
    std::thread waiter([&] {
      published.WaitForNotification();
      seen_by_waiter = data.text;
    });
    std::string seen_by_timed_waiter;
    std::thread timed_waiter([&] {
      if (published.WaitForNotificationWithTimeout(absl::Seconds(60))) {
        seen_by_timed_waiter = data.text;
      }
    });
    // Poll the inline HasBeenNotified(): waits for an event, not for time.
    while (!published.HasBeenNotified()) std::this_thread::yield();
    EXPECT_EQ(data.numbers.size(), 3u);
    publisher.join();
    waiter.join();
    timed_waiter.join();
    EXPECT_EQ(seen_by_waiter, "hello");
    EXPECT_EQ(seen_by_timed_waiter, "hello");
  }
}

}  // namespace
