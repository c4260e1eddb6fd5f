// The thread matrix: {kInitThread, kNotificationThread} x {plain sink, sink
// wrapped by ThisThreadAdviseSink on a third thread}. Every notification must
// run on exactly the expected thread, asserted by thread id, over 1,000
// notifications per case.
#include <memory>
#include <set>
#include <thread>

#include "gtest/gtest.h"
#include "mapinotify/advise_sink.h"
#include "mapinotify/message_loop.h"
#include "mapinotify/session.h"
#include "tests/integration/test_util.h"

namespace mapinotify::testing {
namespace {

constexpr size_t kCount = 1000;
const char kFolder[] = "folder-matrix";

// Returns the set of threads the notifications ran on, after checking that
// they are complete and in order.
std::set<std::thread::id> CheckedThreads(const RecordingSink& sink,
                                         uint64_t first_sequence) {
  std::set<std::thread::id> threads;
  std::vector<Seen> seen = sink.seen();
  EXPECT_EQ(seen.size(), kCount);
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].sequence, first_sequence + i);
    EXPECT_EQ(seen[i].notification->event_type, fnevObjectModified);
    threads.insert(seen[i].thread);
  }
  return threads;
}

TEST(ThreadMatrix, InitThreadPlainSinkRunsOnTheOpeningThread) {
  auto server = StartServer();
  MessageLoop loop;
  SessionOptions options;
  options.threading_model = ThreadingModel::kInitThread;
  auto session = Session::Open(server->target(), options);
  ASSERT_TRUE(session.ok()) << session.status();
  auto sink = std::make_shared<RecordingSink>();
  const EntryId folder = MakeFolder(server.get(), kFolder);
  auto c =
      (*session)->Advise(AdviseTarget::Entry(folder), fnevObjectModified, sink);
  ASSERT_TRUE(c.ok()) << c.status();

  const uint64_t first = server->hub()->last_sequence() + 1;
  PublishMany(server->hub(), folder, kCount);
  // Nothing runs until this thread runs its loop: gRPC threads only enqueue.
  ASSERT_TRUE(PumpUntilCount(loop, *sink, kCount));
  EXPECT_EQ(CheckedThreads(*sink, first),
            std::set<std::thread::id>{std::this_thread::get_id()});
}

TEST(ThreadMatrix, NotificationThreadPlainSinkRunsOnTheLibraryThread) {
  auto server = StartServer();
  SessionOptions options;
  options.threading_model = ThreadingModel::kNotificationThread;
  auto session = Session::Open(server->target(), options);
  ASSERT_TRUE(session.ok()) << session.status();
  auto sink = std::make_shared<RecordingSink>();
  const EntryId folder = MakeFolder(server.get(), kFolder);
  auto c =
      (*session)->Advise(AdviseTarget::Entry(folder), fnevObjectModified, sink);
  ASSERT_TRUE(c.ok()) << c.status();

  const uint64_t first = server->hub()->last_sequence() + 1;
  PublishMany(server->hub(), folder, kCount);
  ASSERT_TRUE(sink->WaitForCount(kCount));
  std::set<std::thread::id> threads = CheckedThreads(*sink, first);
  ASSERT_EQ(threads.size(), 1u);
  // One thread the library owns: neither this thread nor a second sink's
  // thread, and the same thread for another connection of the session.
  EXPECT_NE(*threads.begin(), std::this_thread::get_id());
  auto other = std::make_shared<RecordingSink>();
  const EntryId folder_other = MakeFolder(server.get(), "folder-other");
  auto c2 = (*session)->Advise(AdviseTarget::Entry(folder_other),
                               fnevObjectModified, other);
  ASSERT_TRUE(c2.ok()) << c2.status();
  PublishMany(server->hub(), folder_other, 10);
  ASSERT_TRUE(other->WaitForCount(10));
  for (const Seen& s : other->seen()) EXPECT_EQ(s.thread, *threads.begin());
}

class WrappedMatrix : public ::testing::TestWithParam<ThreadingModel> {};

TEST_P(WrappedMatrix, WrappedSinkRunsOnTheWrappingThread) {
  auto server = StartServer();
  // kInitThread needs a loop on the opening thread even though this sink
  // runs elsewhere.
  MessageLoop opening_loop;
  SessionOptions options;
  options.threading_model = GetParam();
  auto session = Session::Open(server->target(), options);
  ASSERT_TRUE(session.ok()) << session.status();

  LoopThread third;
  auto sink = std::make_shared<RecordingSink>();
  std::shared_ptr<AdviseSink> wrapped;
  third.RunSync([&] {
    auto w = ThisThreadAdviseSink(sink);
    ASSERT_TRUE(w.ok()) << w.status();
    wrapped = *w;
  });
  ASSERT_NE(wrapped, nullptr);
  const EntryId folder = MakeFolder(server.get(), kFolder);
  auto c = (*session)->Advise(AdviseTarget::Entry(folder), fnevObjectModified,
                              wrapped);
  ASSERT_TRUE(c.ok()) << c.status();

  const uint64_t first = server->hub()->last_sequence() + 1;
  PublishMany(server->hub(), folder, kCount);
  // The opening thread does not pump: the wrapped sink must not need it.
  ASSERT_TRUE(sink->WaitForCount(kCount));
  EXPECT_EQ(CheckedThreads(*sink, first),
            std::set<std::thread::id>{third.id()});
  ASSERT_TRUE((*session)->Unadvise(*c).ok());
}

INSTANTIATE_TEST_SUITE_P(Models, WrappedMatrix,
                         ::testing::Values(ThreadingModel::kInitThread,
                                           ThreadingModel::kNotificationThread),
                         [](const auto& info) {
                           return info.param == ThreadingModel::kInitThread
                                      ? std::string("InitThread")
                                      : std::string("NotificationThread");
                         });

TEST(ThreadMatrix, InitThreadWithoutLoopIsFailedPrecondition) {
  auto server = StartServer();
  std::thread([&] {
    SessionOptions options;
    options.threading_model = ThreadingModel::kInitThread;
    auto session = Session::Open(server->target(), options);
    EXPECT_EQ(session.status().code(), absl::StatusCode::kFailedPrecondition);
  }).join();
}

TEST(ThreadMatrix, WrappingOnAThreadWithoutLoopIsFailedPrecondition) {
  std::thread([] {
    auto wrapped = ThisThreadAdviseSink(std::make_shared<RecordingSink>());
    EXPECT_EQ(wrapped.status().code(), absl::StatusCode::kFailedPrecondition);
  }).join();
}

}  // namespace
}  // namespace mapinotify::testing
