// The process's notification thread. MAPI_MULTITHREAD_NOTIFICATIONS gives a
// process one thread for notifications; every kNotificationThread session of
// this process shares one (NotificationThread::Shared). Asserted by thread
// id: the sessions' sinks run on one thread, a session ended from inside its
// own sink leaves that thread running the others' sinks, and after the last
// session let it go the next session gets a thread again.
#include <memory>
#include <set>
#include <thread>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "mapinotify/advise_sink.h"
#include "mapinotify/session.h"
#include "tests/integration/test_util.h"

namespace mapinotify::testing {
namespace {

std::unique_ptr<Session> OpenNotifySession(server::Server* server) {
  SessionOptions options;
  options.threading_model = ThreadingModel::kNotificationThread;
  auto session = Session::Open(server->target(), options);
  EXPECT_TRUE(session.ok()) << session.status();
  return session.ok() ? std::move(*session) : nullptr;
}

// Advises `sink` on `folder` for fnevObjectModified; false on failure.
bool AdviseModified(Session* session, const EntryId& folder,
                    std::shared_ptr<AdviseSink> sink) {
  auto c = session->Advise(AdviseTarget::Entry(folder), fnevObjectModified,
                           std::move(sink));
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok();
}

// Two kNotificationThread sessions of this process on one server, and a
// folder for each.
struct TwoSessions {
  std::unique_ptr<server::Server> server = StartServer();
  std::unique_ptr<Session> a = OpenNotifySession(server.get());
  std::unique_ptr<Session> b = OpenNotifySession(server.get());
  EntryId folder_a = MakeFolder(server.get(), "folder-a");
  EntryId folder_b = MakeFolder(server.get(), "folder-b");
};

std::set<std::thread::id> ThreadsOf(const RecordingSink& sink) {
  std::set<std::thread::id> threads;
  for (const Seen& s : sink.seen()) threads.insert(s.thread);
  return threads;
}

TEST(NotificationThread, SessionsOfAProcessShareOneThread) {
  TwoSessions t;
  ASSERT_NE(t.a, nullptr);
  ASSERT_NE(t.b, nullptr);
  auto sink_a = std::make_shared<RecordingSink>();
  auto sink_b = std::make_shared<RecordingSink>();
  ASSERT_TRUE(AdviseModified(t.a.get(), t.folder_a, sink_a));
  ASSERT_TRUE(AdviseModified(t.b.get(), t.folder_b, sink_b));

  PublishMany(t.server->hub(), t.folder_a, 100);
  PublishMany(t.server->hub(), t.folder_b, 100);
  ASSERT_TRUE(sink_a->WaitForCount(100));
  ASSERT_TRUE(sink_b->WaitForCount(100));
  const std::set<std::thread::id> threads_a = ThreadsOf(*sink_a);
  ASSERT_EQ(threads_a.size(), 1u);
  EXPECT_NE(*threads_a.begin(), std::this_thread::get_id());
  EXPECT_EQ(ThreadsOf(*sink_b), threads_a);
}

TEST(NotificationThread, ASessionEndedInsideItsOwnSinkLeavesTheThreadRunning) {
  absl::Mutex mu;  // Guards t.a: the sink takes it.
  TwoSessions t;
  ASSERT_NE(t.a, nullptr);
  ASSERT_NE(t.b, nullptr);

  // A's sink destroys session A on its first call, on the shared thread.
  absl::Notification a_ended;
  std::thread::id a_thread;
  auto sink_a = std::make_shared<RecordingSink>([&](const NotificationBatch&) {
    std::unique_ptr<Session> ending;
    {
      absl::MutexLock lock(&mu);
      ending = std::move(t.a);
    }
    if (ending == nullptr) return;  // Only the first call ends it.
    ending.reset();                 // ~Session inside its own sink.
    a_thread = std::this_thread::get_id();
    a_ended.Notify();
  });
  auto sink_b = std::make_shared<RecordingSink>();
  {
    absl::MutexLock lock(&mu);
    ASSERT_TRUE(AdviseModified(t.a.get(), t.folder_a, sink_a));
  }
  ASSERT_TRUE(AdviseModified(t.b.get(), t.folder_b, sink_b));

  PublishMany(t.server->hub(), t.folder_a, 1);
  ASSERT_TRUE(a_ended.WaitForNotificationWithTimeout(absl::Seconds(60)));
  // The thread that ran ~Session for A goes on running B's sink.
  PublishMany(t.server->hub(), t.folder_b, 100);
  ASSERT_TRUE(sink_b->WaitForCount(100));
  EXPECT_EQ(ThreadsOf(*sink_b), std::set<std::thread::id>{a_thread});
  EXPECT_NE(a_thread, std::this_thread::get_id());
  EXPECT_EQ(sink_a->calls(), 1u);
}

TEST(NotificationThread, AfterTheLastSessionTheNextOneGetsAThreadAgain) {
  auto server = StartServer();
  const EntryId folder = MakeFolder(server.get(), "folder");
  for (int round = 0; round < 3; ++round) {
    std::unique_ptr<Session> session = OpenNotifySession(server.get());
    ASSERT_NE(session, nullptr);
    auto sink = std::make_shared<RecordingSink>();
    ASSERT_TRUE(AdviseModified(session.get(), folder, sink));
    PublishMany(server->hub(), folder, 10);
    ASSERT_TRUE(sink->WaitForCount(10)) << "round " << round;
    const std::set<std::thread::id> threads = ThreadsOf(*sink);
    ASSERT_EQ(threads.size(), 1u);
    EXPECT_NE(*threads.begin(), std::this_thread::get_id());
    // The only session ends here: the thread is stopped and joined.
  }
}

}  // namespace
}  // namespace mapinotify::testing
