// NotificationThread::Shared, without gRPC (so it also runs under TSan): one
// thread per process while anyone holds it, a new one after the last holder
// let go, and a last release on the thread itself (a sink that ended the
// last session) that neither deadlocks nor stops a thread still held.
#include <functional>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "client/loop_core.h"
#include "client/notification_thread.h"
#include "gtest/gtest.h"

namespace mapinotify::internal {
namespace {

// Runs `fn` on `thread`'s loop and waits for it; returns the thread it ran on.
std::thread::id RunOn(
    const NotificationThread& thread, std::function<void()> fn = [] {}) {
  absl::Notification done;
  std::thread::id ran_on;
  EXPECT_TRUE(thread.core()
                  ->PostTask([&] {
                    ran_on = std::this_thread::get_id();
                    fn();
                    done.Notify();
                  })
                  .ok());
  done.WaitForNotification();
  return ran_on;
}

TEST(SharedNotificationThread, ConcurrentCallersGetOneThread) {
  constexpr int kCallers = 8;
  std::vector<std::shared_ptr<NotificationThread>> got(kCallers);
  std::vector<std::thread> callers;
  for (int i = 0; i < kCallers; ++i) {
    callers.emplace_back([&got, i] { got[i] = NotificationThread::Shared(); });
  }
  for (std::thread& t : callers) t.join();
  for (int i = 1; i < kCallers; ++i) EXPECT_EQ(got[i], got[0]);
  EXPECT_EQ(RunOn(*got[0]), got[0]->thread_id());
  EXPECT_NE(got[0]->thread_id(), std::this_thread::get_id());
  // A later caller joins the same thread while it is held.
  EXPECT_EQ(NotificationThread::Shared(), got[0]);
}

TEST(SharedNotificationThread, AfterTheLastReleaseANewThreadStarts) {
  std::shared_ptr<NotificationThread> first = NotificationThread::Shared();
  std::weak_ptr<NotificationThread> first_weak = first;
  RunOn(*first);
  first.reset();  // The last holder: stops and joins the thread.
  EXPECT_TRUE(first_weak.expired());
  std::shared_ptr<NotificationThread> second = NotificationThread::Shared();
  EXPECT_EQ(RunOn(*second), second->thread_id());
}

TEST(SharedNotificationThread, LastReleaseOnTheThreadItselfDetachesIt) {
  auto held = std::make_unique<std::shared_ptr<NotificationThread>>(
      NotificationThread::Shared());
  const std::shared_ptr<LoopCore> core = (*held)->core();
  absl::Notification released;
  // The last reference is dropped inside a task on the thread: it must
  // detach (not join itself) and the loop stops after this task.
  ASSERT_TRUE(core->PostTask([&] {
                    held.reset();
                    released.Notify();
                  })
                  .ok());
  released.WaitForNotification();
  // The next caller gets a running thread (a new one: the old one ends).
  std::shared_ptr<NotificationThread> next = NotificationThread::Shared();
  EXPECT_EQ(RunOn(*next), next->thread_id());
  EXPECT_NE(next->core(), core);
}

TEST(SharedNotificationThread, ReleaseOnTheThreadKeepsItForOtherHolders) {
  std::shared_ptr<NotificationThread> keeper = NotificationThread::Shared();
  auto other = std::make_unique<std::shared_ptr<NotificationThread>>(
      NotificationThread::Shared());
  ASSERT_EQ(*other, keeper);
  // One holder lets go on the thread itself; the other still uses it.
  RunOn(*keeper, [&] { other.reset(); });
  EXPECT_EQ(RunOn(*keeper), keeper->thread_id());
  EXPECT_EQ(NotificationThread::Shared(), keeper);
}

}  // namespace
}  // namespace mapinotify::internal
