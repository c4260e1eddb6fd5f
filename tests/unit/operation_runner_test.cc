// OperationRunner (server/service/operation_runner.h): jobs run on its own
// threads, the bound on running + queued jobs, the writer thread that runs
// kicks even while every worker is busy (a long operation's progress writes
// never wait for a worker), and a destructor that runs what was submitted.
// No gRPC: also run under TSan.
#include "server/service/operation_runner.h"

#include <atomic>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "mapinotify/status.h"

namespace mapinotify::server {
namespace {

OperationRunner::Options Opts(size_t threads, size_t max_operations) {
  OperationRunner::Options options;
  options.threads = threads;
  options.max_operations = max_operations;
  return options;
}

TEST(OperationRunner, JobsRunOnTheRunnersThreads) {
  absl::Mutex mu;
  std::set<std::thread::id> threads;
  int ran = 0;
  {
    OperationRunner runner(Opts(2, 100));
    for (int i = 0; i < 50; ++i) {
      ASSERT_TRUE(runner
                      .Submit([&] {
                        absl::MutexLock lock(&mu);
                        threads.insert(std::this_thread::get_id());
                        ++ran;
                      })
                      .ok());
    }
    absl::MutexLock lock(&mu);
    mu.Await(absl::Condition(
        +[](int* n) { return *n == 50; }, &ran));
  }
  EXPECT_EQ(ran, 50);
  EXPECT_GE(threads.size(), 1u);
  EXPECT_LE(threads.size(), 2u);
  EXPECT_EQ(threads.count(std::this_thread::get_id()), 0u);
}

TEST(OperationRunner, RefusesBeyondItsBoundThenAcceptsAgain) {
  OperationRunner runner(Opts(1, 3));
  absl::Notification started, release;
  ASSERT_TRUE(runner
                  .Submit([&] {
                    started.Notify();
                    release.WaitForNotification();
                  })
                  .ok());
  started.WaitForNotification();
  // One running, two queued: the fourth is refused.
  std::atomic<int> queued_ran{0};
  ASSERT_TRUE(runner.Submit([&] { ++queued_ran; }).ok());
  ASSERT_TRUE(runner.Submit([&] { ++queued_ran; }).ok());
  absl::Status refused = runner.Submit([] {});
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted) << refused;
  EXPECT_EQ(ScodeOf(refused), MAPI_E_NOT_ENOUGH_RESOURCES);
  EXPECT_FALSE(refused.message().empty());
  release.Notify();
  // Once they drained, room again.
  absl::Notification again;
  ASSERT_TRUE([&] {
    for (;;) {
      absl::Status s = runner.Submit([&] { again.Notify(); });
      if (s.ok()) return true;
      // Refused only while the earlier jobs still occupy the slots; each
      // retry follows a job's end, as the queue only shrinks now.
      std::this_thread::yield();
    }
  }());
  again.WaitForNotification();
  EXPECT_EQ(queued_ran.load(), 2);
}

class RecordingFlush : public Flushable {
 public:
  void Flush() override {
    absl::MutexLock lock(&mu_);
    threads_.push_back(std::this_thread::get_id());
  }
  size_t count() {
    absl::MutexLock lock(&mu_);
    return threads_.size();
  }
  void WaitFor(size_t n) {
    absl::MutexLock lock(&mu_);
    auto enough = [this, n]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
      return threads_.size() >= n;  // Await evaluates it with mu_ held.
    };
    mu_.Await(absl::Condition(&enough));
  }
  std::vector<std::thread::id> threads() {
    absl::MutexLock lock(&mu_);
    return threads_;
  }

 private:
  absl::Mutex mu_;
  std::vector<std::thread::id> threads_ ABSL_GUARDED_BY(mu_);
};

TEST(OperationRunner, KicksRunOnTheWriterEvenWhileEveryWorkerIsBusy) {
  OperationRunner runner(Opts(2, 10));
  absl::Notification release;
  std::atomic<int> busy{0};
  absl::Notification both_busy;
  std::set<std::thread::id> workers;
  absl::Mutex mu;
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(runner
                    .Submit([&] {
                      {
                        absl::MutexLock lock(&mu);
                        workers.insert(std::this_thread::get_id());
                      }
                      if (++busy == 2) both_busy.Notify();
                      release.WaitForNotification();
                    })
                    .ok());
  }
  both_busy.WaitForNotification();
  auto target = std::make_shared<RecordingFlush>();
  runner.Kick(target);
  runner.Kick(target);
  target->WaitFor(2);
  release.Notify();
  std::vector<std::thread::id> threads = target->threads();
  ASSERT_EQ(threads.size(), 2u);
  EXPECT_EQ(threads[0], threads[1]);  // One writer thread.
  absl::MutexLock lock(&mu);
  EXPECT_EQ(workers.count(threads[0]), 0u);
  EXPECT_NE(threads[0], std::this_thread::get_id());
}

TEST(OperationRunner, ATimedKickRunsAtItsTimeAfterImmediateOnes) {
  OperationRunner runner(Opts(1, 10));
  class TimedFlush : public Flushable {
   public:
    void Flush() override {
      at_ = absl::Now();
      done_.Notify();
    }
    absl::Time at_;
    absl::Notification done_;
  };
  auto timed = std::make_shared<TimedFlush>();
  auto now = std::make_shared<RecordingFlush>();
  const absl::Time when = absl::Now() + absl::Milliseconds(30);
  runner.KickAt(timed, when);
  runner.Kick(now);
  now->WaitFor(1);
  EXPECT_FALSE(timed->done_.HasBeenNotified() && timed->at_ < when);
  timed->done_.WaitForNotification();
  EXPECT_GE(timed->at_, when);  // The writer never runs it early.
}

TEST(OperationRunner, AnEarlierTimedKickWakesAWriterWaitingForALaterOne) {
  OperationRunner runner(Opts(1, 10));
  auto far = std::make_shared<RecordingFlush>();
  auto near = std::make_shared<RecordingFlush>();
  auto first = std::make_shared<RecordingFlush>();
  runner.KickAt(far, absl::Now() + absl::Hours(1));
  // Once this ran, the writer waits with the far deadline.
  runner.Kick(first);
  first->WaitFor(1);
  runner.KickAt(near, absl::Now() + absl::Milliseconds(5));
  near->WaitFor(1);  // Hangs (ctest's timeout) if the writer is not woken.
  EXPECT_EQ(far->count(), 0u);
}

TEST(OperationRunner, DestructionRunsWhatWasSubmittedAndItsKicks) {
  std::atomic<int> ran{0};
  auto target = std::make_shared<RecordingFlush>();
  {
    OperationRunner runner(Opts(1, 100));
    for (int i = 0; i < 20; ++i) {
      ASSERT_TRUE(runner
                      .Submit([&runner, &ran, target] {
                        ++ran;
                        runner.Kick(target);  // A job's last progress.
                      })
                      .ok());
    }
  }
  EXPECT_EQ(ran.load(), 20);
  EXPECT_EQ(target->count(), 20u);
}

}  // namespace
}  // namespace mapinotify::server
