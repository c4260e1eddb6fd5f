// A sink may call Advise and Unadvise from inside OnNotify — its own
// connection included — on every threading model and on a wrapped sink,
// without deadlock and with the right effect.
#include <atomic>
#include <memory>
#include <thread>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "mapinotify/session.h"
#include "tests/integration/test_util.h"

namespace mapinotify::testing {
namespace {

enum class Where { kInitThread, kNotificationThread, kWrapped };

std::string Name(Where w) {
  switch (w) {
    case Where::kInitThread:
      return "InitThread";
    case Where::kNotificationThread:
      return "NotificationThread";
    case Where::kWrapped:
      return "Wrapped";
  }
  return "";
}

// On its first call: unadvises itself, then advises `next` on folder
// `second` from inside OnNotify. Counts its calls.
class SelfEndingSink : public AdviseSink {
 public:
  void OnNotify(const NotificationBatch& batch) override {
    ++calls;
    if (calls > 1) return;  // Must never happen: counted and asserted.
    unadvise_status = session->Unadvise(batch.connection());
    auto c =
        session->Advise(AdviseTarget::Entry(second), fnevObjectModified, next);
    advise_status = c.status();
    if (c.ok()) next_connection = *c;
    done.Notify();
    if (quit_loop != nullptr) quit_loop->Quit();
  }

  Session* session = nullptr;
  EntryId second;
  MessageLoop* quit_loop = nullptr;  // Quit once done (kInitThread case).
  std::shared_ptr<AdviseSink> next;
  std::atomic<int> calls{0};
  absl::Status unadvise_status = absl::UnknownError("not called");
  absl::Status advise_status = absl::UnknownError("not called");
  ConnectionId next_connection = 0;
  absl::Notification done;
};

class Reentrancy : public ::testing::TestWithParam<Where> {};

TEST_P(Reentrancy, UnadviseSelfAndAdviseFromInsideOnNotify) {
  auto server = StartServer();
  MessageLoop loop;  // The opening thread's loop (kInitThread pumps it).
  SessionOptions options;
  options.threading_model = GetParam() == Where::kInitThread
                                ? ThreadingModel::kInitThread
                                : ThreadingModel::kNotificationThread;
  auto session = Session::Open(server->target(), options);
  ASSERT_TRUE(session.ok()) << session.status();

  LoopThread third;
  auto wrap = [&](std::shared_ptr<AdviseSink> s) {
    if (GetParam() != Where::kWrapped) return s;
    std::shared_ptr<AdviseSink> wrapped;
    third.RunSync([&] { wrapped = *ThisThreadAdviseSink(s); });
    return wrapped;
  };

  auto first = std::make_shared<SelfEndingSink>();
  auto second = std::make_shared<RecordingSink>();
  first->session = session->get();
  const EntryId first_folder = MakeFolder(server.get(), "first");
  const EntryId second_folder = MakeFolder(server.get(), "second");
  first->second = second_folder;
  first->next = wrap(second);
  if (GetParam() == Where::kInitThread) first->quit_loop = &loop;
  auto c = (*session)->Advise(AdviseTarget::Entry(first_folder),
                              fnevObjectModified, wrap(first));
  ASSERT_TRUE(c.ok()) << c.status();

  // Two operations on "first": the sink must see only the first one.
  PublishMany(server->hub(), first_folder, 2);
  if (GetParam() == Where::kInitThread) {
    loop.RunFor(absl::Seconds(30));  // Returns when the sink quits it.
  }
  ASSERT_TRUE(first->done.WaitForNotificationWithTimeout(absl::Seconds(30)));
  EXPECT_TRUE(first->unadvise_status.ok()) << first->unadvise_status;
  ASSERT_TRUE(first->advise_status.ok()) << first->advise_status;
  EXPECT_NE(first->next_connection, *c);

  // The connection advised from inside OnNotify is live.
  PublishMany(server->hub(), first_folder, 3);
  PublishMany(server->hub(), second_folder, 3);
  if (GetParam() == Where::kInitThread) {
    ASSERT_TRUE(PumpUntilCount(loop, *second, 3));
  }
  ASSERT_TRUE(second->WaitForCount(3));
  for (const Seen& s : second->seen()) {
    EXPECT_EQ(s.connection, first->next_connection);
    EXPECT_EQ(s.notification->object()->parent_id, second_folder);
  }
  // The self-unadvised connection got nothing more; and since "second"'s
  // notifications were delivered after "first"'s last ones on the same
  // stream and loop, any late call would already have happened.
  EXPECT_EQ(first->calls.load(), 1);
  // The old connection is gone, the new one can be ended normally.
  EXPECT_EQ((*session)->Unadvise(*c).code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE((*session)->Unadvise(first->next_connection).ok());
}

INSTANTIATE_TEST_SUITE_P(Models, Reentrancy,
                         ::testing::Values(Where::kInitThread,
                                           Where::kNotificationThread,
                                           Where::kWrapped),
                         [](const auto& info) { return Name(info.param); });

}  // namespace
}  // namespace mapinotify::testing
