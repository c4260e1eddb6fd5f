#include "mapinotify/message_loop.h"

#include <poll.h>

#include <atomic>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "client/loop_core.h"
#include "gtest/gtest.h"

namespace mapinotify {
namespace {

bool Readable(int fd) {
  struct pollfd p = {fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0;
}

// What the tasks saw, in the order they ran. Thread-safe.
class Journal {
 public:
  void Add(int value) {
    absl::MutexLock lock(&mu_);
    values_.push_back(value);
    threads_.push_back(std::this_thread::get_id());
  }
  std::vector<int> values() const {
    absl::MutexLock lock(&mu_);
    return values_;
  }
  std::vector<std::thread::id> threads() const {
    absl::MutexLock lock(&mu_);
    return threads_;
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<int> values_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread::id> threads_ ABSL_GUARDED_BY(mu_);
};

TEST(MessageLoopTest, TasksPostedFromOtherThreadsRunOnOwnerThreadInOrder) {
  MessageLoop loop;
  Journal journal;
  constexpr int kThreads = 3;
  constexpr int kPerThread = 1000;
  std::atomic<int> done{0};
  std::vector<std::thread> posters;
  for (int t = 0; t < kThreads; ++t) {
    posters.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        ASSERT_TRUE(loop.PostTask([&, t, i] {
                          journal.Add(t * kPerThread + i);
                          if (++done == kThreads * kPerThread) loop.Quit();
                        })
                        .ok());
      }
    });
  }
  loop.Run();  // Until the last task quits it.
  for (auto& p : posters) p.join();

  const std::vector<int> values = journal.values();
  ASSERT_EQ(values.size(), size_t{kThreads * kPerThread});
  for (std::thread::id id : journal.threads()) {
    EXPECT_EQ(id, std::this_thread::get_id());
  }
  // FIFO per poster.
  std::vector<int> last(kThreads, -1);
  for (int v : values) {
    int t = v / kPerThread;
    EXPECT_GT(v % kPerThread, last[t]);
    last[t] = v % kPerThread;
  }
}

TEST(MessageLoopTest, FifoAcrossTasksAndReadySources) {
  MessageLoop loop(MessageLoop::Options{1});
  Journal journal;
  struct Source : internal::ReadySource {
    explicit Source(Journal* j) : journal(j) {}
    void RunReady() override { journal->Add(2); }
    Journal* journal;
  };
  auto source = std::make_shared<Source>(&journal);
  ASSERT_TRUE(loop.PostTask([&] { journal.Add(1); }).ok());
  // Sources do not use the (full) user-task capacity ...
  EXPECT_EQ(loop.PostTask([] {}).code(), absl::StatusCode::kResourceExhausted);
  ASSERT_TRUE(loop.core()->Schedule(source).ok());
  // ... and are listed at most once.
  ASSERT_TRUE(loop.core()->Schedule(source).ok());
  EXPECT_EQ(loop.core()->pending(), 2u);
  EXPECT_EQ(loop.RunUntilIdle(), 2u);
  ASSERT_TRUE(loop.PostTask([&] { journal.Add(3); }).ok());
  ASSERT_TRUE(loop.core()->Schedule(source).ok());  // Listed again after run.
  EXPECT_EQ(loop.RunUntilIdle(), 2u);
  EXPECT_EQ(journal.values(), (std::vector<int>{1, 2, 3, 2}));
}

TEST(MessageLoopTest, FdIsReadableExactlyWhileWorkIsPending) {
  MessageLoop loop;
  EXPECT_FALSE(Readable(loop.fd()));
  ASSERT_TRUE(loop.PostTask([] {}).ok());
  EXPECT_TRUE(Readable(loop.fd()));
  ASSERT_TRUE(loop.PostTask([] {}).ok());
  EXPECT_TRUE(Readable(loop.fd()));
  EXPECT_EQ(loop.RunUntilIdle(), 2u);
  EXPECT_FALSE(Readable(loop.fd()));

  // Posted from another thread: the fd wakes a poller on the owner thread.
  std::thread poster([&] { ASSERT_TRUE(loop.PostTask([] {}).ok()); });
  struct pollfd p = {loop.fd(), POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 10000), 1);
  poster.join();
  EXPECT_EQ(loop.RunUntilIdle(), 1u);
  EXPECT_FALSE(Readable(loop.fd()));
}

TEST(MessageLoopTest, RunUntilIdleRunsOnlyWhatWasPending) {
  MessageLoop loop;
  EXPECT_EQ(loop.RunUntilIdle(), 0u);
  int ran = 0;
  ASSERT_TRUE(loop.PostTask([&] { ++ran; }).ok());
  ASSERT_TRUE(loop.PostTask([&] {
                    ++ran;
                    ASSERT_TRUE(loop.PostTask([&] { ++ran; }).ok());
                  })
                  .ok());
  EXPECT_EQ(loop.RunUntilIdle(), 2u);
  EXPECT_EQ(ran, 2);
  EXPECT_TRUE(Readable(loop.fd()));
  EXPECT_EQ(loop.RunUntilIdle(), 1u);
  EXPECT_EQ(ran, 3);
  EXPECT_EQ(DispatchNotifications(), absl::OkStatus());
}

TEST(MessageLoopTest, QuitFromAnotherThreadEndsRun) {
  MessageLoop loop;
  absl::Notification running;
  ASSERT_TRUE(loop.PostTask([&] { running.Notify(); }).ok());
  std::thread quitter([&] {
    running.WaitForNotification();
    loop.Quit();
  });
  loop.Run();  // Blocks (no work left) until the Quit.
  quitter.join();
  EXPECT_TRUE(running.HasBeenNotified());
}

TEST(MessageLoopTest, QuitBeforeRunMakesRunReturnAtOnce) {
  MessageLoop loop;
  loop.Quit();
  loop.Run();
  loop.Quit();
  loop.RunFor(absl::Hours(1));
}

TEST(MessageLoopTest, RunForReturnsAfterTheDuration) {
  MessageLoop loop;
  int ran = 0;
  ASSERT_TRUE(loop.PostTask([&] { ++ran; }).ok());
  const absl::Time start = absl::Now();
  loop.RunFor(absl::Milliseconds(20));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(20));
  EXPECT_EQ(ran, 1);
}

TEST(MessageLoopTest, RunForEndsEarlyOnQuit) {
  MessageLoop loop;
  ASSERT_TRUE(loop.PostTask([&] { loop.Quit(); }).ok());
  const absl::Time start = absl::Now();
  loop.RunFor(absl::Hours(1));
  EXPECT_LT(absl::Now() - start, absl::Minutes(1));
}

TEST(MessageLoopTest, PostTaskIsBounded) {
  MessageLoop loop(MessageLoop::Options{2});
  EXPECT_TRUE(loop.PostTask([] {}).ok());
  EXPECT_TRUE(loop.PostTask([] {}).ok());
  EXPECT_EQ(loop.PostTask([] {}).code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(loop.PostTask(nullptr).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(loop.RunUntilIdle(), 2u);
  EXPECT_TRUE(loop.PostTask([] {}).ok());
}

TEST(MessageLoopTest, CurrentIsPerThread) {
  EXPECT_EQ(MessageLoop::Current(), nullptr);
  EXPECT_EQ(DispatchNotifications().code(),
            absl::StatusCode::kFailedPrecondition);
  {
    MessageLoop loop;
    EXPECT_EQ(MessageLoop::Current(), &loop);
    std::thread other([&] {
      EXPECT_EQ(MessageLoop::Current(), nullptr);
      MessageLoop own;
      EXPECT_EQ(MessageLoop::Current(), &own);
      EXPECT_NE(own.fd(), loop.fd());
    });
    other.join();
    EXPECT_EQ(MessageLoop::Current(), &loop);
    {
      MessageLoop inner;
      EXPECT_EQ(MessageLoop::Current(), &inner);
    }
    EXPECT_EQ(MessageLoop::Current(), &loop);
    EXPECT_EQ(loop.core()->owner(), std::this_thread::get_id());
  }
  EXPECT_EQ(MessageLoop::Current(), nullptr);
}

TEST(MessageLoopTest, DestroyedLoopDiscardsWorkAndRefusesPosts) {
  std::shared_ptr<internal::LoopCore> core;
  auto token = std::make_shared<int>(0);
  bool ran = false;
  {
    MessageLoop loop;
    core = loop.core();
    ASSERT_TRUE(loop.PostTask([&ran, token] { ran = true; }).ok());
    EXPECT_EQ(token.use_count(), 2);
  }
  EXPECT_EQ(token.use_count(), 1);  // Destroyed without running.
  EXPECT_FALSE(ran);
  EXPECT_TRUE(core->is_shut_down());
  EXPECT_EQ(core->PostTask([&ran] { ran = true; }).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(core->pending(), 0u);
  EXPECT_FALSE(ran);
}

TEST(MessageLoopTest, TaskMayRunNestedLoop) {
  MessageLoop loop;
  Journal journal;
  ASSERT_TRUE(loop.PostTask([&] {
                    journal.Add(1);
                    ASSERT_TRUE(loop.PostTask([&] { journal.Add(2); }).ok());
                    loop.RunUntilIdle();
                    journal.Add(3);
                  })
                  .ok());
  loop.RunUntilIdle();
  EXPECT_EQ(journal.values(), (std::vector<int>{1, 2, 3}));
}

}  // namespace
}  // namespace mapinotify
