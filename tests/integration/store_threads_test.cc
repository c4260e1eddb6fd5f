// Per-open contexts and client threads over the wire: each open of a message
// has its own pending changes; a message opened thread-aware keeps separate
// pending changes for each client thread of the session (the library tags
// every call with its thread), one opened normally shares one context among
// the session's threads. Open handles are released with the Message object
// and, at the latest, when the session ends.
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "mapinotify/session.h"
#include "mapinotify/status.h"
#include "mapinotify/store.h"
#include "tests/integration/store_test_util.h"

namespace mapinotify::testing {
namespace {

// The PR_SUBJECT `message` shows the calling thread, or an error text.
std::string SubjectOf(const Message& message) {
  auto props = message.GetProps({PR_SUBJECT});
  if (!props.ok()) return props.status().ToString();
  if (props->size() != 1) return "wrong size";
  if (const auto* s = std::get_if<std::string>(&(*props)[0].value)) return *s;
  return "<not a string>";
}

absl::Status SetSubject(Message& message, const std::string& subject) {
  auto problems = message.SetProps({{PR_SUBJECT, subject}});
  if (!problems.ok()) return problems.status();
  if (!problems->empty()) return absl::InternalError("unexpected problems");
  return absl::OkStatus();
}

class StoreThreads : public ::testing::Test {
 protected:
  void SetUp() override {
    f_ = OpenStoreFixture();
    ASSERT_NE(f_.store, nullptr);
    store_ = f_.store.get();
    auto folder =
        store_->CreateFolder(store_->ipm_subtree_id(), "Threads", "", 0);
    ASSERT_TRUE(folder.ok()) << folder.status();
    folder_ = *folder;
    auto draft = store_->CreateMessage(folder_, 0);
    ASSERT_TRUE(draft.ok()) << draft.status();
    ASSERT_TRUE(SetSubject(**draft, "saved").ok());
    auto id = (*draft)->SaveChanges(0);
    ASSERT_TRUE(id.ok()) << id.status();
    message_ = *id;
  }

  StoreFixture f_;
  MsgStore* store_ = nullptr;
  EntryId folder_;
  EntryId message_;
};

TEST_F(StoreThreads, EachOpenHasItsOwnPendingChanges) {
  auto first = store_->OpenMessage(message_, MAPI_MODIFY);
  auto second = store_->OpenMessage(message_, MAPI_MODIFY);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_NE((*first)->handle(), (*second)->handle());

  ASSERT_TRUE(SetSubject(**first, "first's").ok());
  EXPECT_EQ(SubjectOf(**first), "first's");
  EXPECT_EQ(SubjectOf(**second), "saved");
  ASSERT_TRUE(SetSubject(**second, "second's").ok());
  EXPECT_EQ(SubjectOf(**first), "first's");

  // Saving one open commits only its changes; the other's stay pending and
  // overlay the new saved value.
  ASSERT_TRUE((*first)->SaveChanges(KEEP_OPEN_READWRITE).ok());
  EXPECT_EQ(SubjectOf(**second), "second's");
  auto saved = store_->GetProps(message_, {PR_SUBJECT});
  ASSERT_TRUE(saved.ok());
  EXPECT_EQ(*saved,
            (std::vector<PropValue>{{PR_SUBJECT, std::string("first's")}}));
  // Released without saving: its changes are gone.
  ASSERT_TRUE((*second)->Release().ok());
  auto still = store_->GetProps(message_, {PR_SUBJECT});
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(*still,
            (std::vector<PropValue>{{PR_SUBJECT, std::string("first's")}}));
  // A released Message refuses further calls.
  EXPECT_EQ(ScodeOf((*second)->GetProps({PR_SUBJECT}).status()),
            MAPI_E_INVALID_OBJECT);
  EXPECT_TRUE((*second)->Release().ok());  // Idempotent.
}

TEST_F(StoreThreads, NormalOpenIsSharedByTheSessionsThreads) {
  auto message = store_->OpenMessage(message_, MAPI_MODIFY);
  ASSERT_TRUE(message.ok()) << message.status();
  Message& m = **message;
  LoopThread t1, t2;
  t1.RunSync([&] { ASSERT_TRUE(SetSubject(m, "from t1").ok()); });
  std::string seen_by_t2;
  t2.RunSync([&] { seen_by_t2 = SubjectOf(m); });
  EXPECT_EQ(seen_by_t2, "from t1");
  EXPECT_EQ(SubjectOf(m), "from t1");  // This thread too.
  // t2 saves what t1 set: one context.
  t2.RunSync([&] { ASSERT_TRUE(m.SaveChanges(KEEP_OPEN_READWRITE).ok()); });
  auto saved = store_->GetProps(message_, {PR_SUBJECT});
  ASSERT_TRUE(saved.ok());
  EXPECT_EQ(*saved,
            (std::vector<PropValue>{{PR_SUBJECT, std::string("from t1")}}));
}

TEST_F(StoreThreads, ThreadAwareOpenKeepsAContextPerClientThread) {
  auto message =
      store_->OpenMessage(message_, MAPI_MODIFY | MAPINOTIFY_THREAD_AWARE);
  ASSERT_TRUE(message.ok()) << message.status();
  Message& m = **message;
  LoopThread t1, t2;
  t1.RunSync([&] { ASSERT_TRUE(SetSubject(m, "from t1").ok()); });
  std::string t2_first, t2_after, t1_after, t2_after_save;
  t2.RunSync([&] {
    t2_first = SubjectOf(m);
    ASSERT_TRUE(SetSubject(m, "from t2").ok());
    t2_after = SubjectOf(m);
  });
  t1.RunSync([&] { t1_after = SubjectOf(m); });
  EXPECT_EQ(t2_first, "saved");  // t1's change is not t2's.
  EXPECT_EQ(t2_after, "from t2");
  EXPECT_EQ(t1_after, "from t1");
  EXPECT_EQ(SubjectOf(m), "saved");  // This thread has no pending change.

  // t1 saves its own change only; t2's stays pending over the new value.
  t1.RunSync([&] { ASSERT_TRUE(m.SaveChanges(KEEP_OPEN_READWRITE).ok()); });
  t2.RunSync([&] { t2_after_save = SubjectOf(m); });
  EXPECT_EQ(t2_after_save, "from t2");
  EXPECT_EQ(SubjectOf(m), "from t1");
  t2.RunSync([&] { ASSERT_TRUE(m.SaveChanges(KEEP_OPEN_READWRITE).ok()); });
  auto saved = store_->GetProps(message_, {PR_SUBJECT});
  ASSERT_TRUE(saved.ok());
  EXPECT_EQ(*saved,
            (std::vector<PropValue>{{PR_SUBJECT, std::string("from t2")}}));
}

TEST_F(StoreThreads, TwoSessionsNeverShareAContextOrAHandle) {
  auto other = Session::Open(f_.server->target());
  ASSERT_TRUE(other.ok()) << other.status();
  auto other_store = (*other)->OpenMsgStore();
  ASSERT_TRUE(other_store.ok()) << other_store.status();
  auto mine = store_->OpenMessage(message_, MAPI_MODIFY);
  auto theirs = (*other_store)->OpenMessage(message_, MAPI_MODIFY);
  ASSERT_TRUE(mine.ok() && theirs.ok());
  ASSERT_TRUE(SetSubject(**mine, "mine").ok());
  EXPECT_EQ(SubjectOf(**theirs), "saved");
}

TEST(StoreHandles, MessagesReleaseTheirHandlesAndSessionEndReleasesTheRest) {
  server::ServerOptions options;
  options.store.max_handles_per_session = 2;
  absl::Notification session_ended;
  std::string ended_session;
  options.notifications.on_session_end = [&](const std::string& session) {
    ended_session = session;
    session_ended.Notify();
  };
  auto server = StartServer(options);
  auto session = Session::Open(server->target());
  ASSERT_TRUE(session.ok()) << session.status();
  auto store = (*session)->OpenMsgStore();
  ASSERT_TRUE(store.ok()) << store.status();
  const EntryId inbox = (*store)->inbox_id();

  // Destroying a Message releases its handle: far more opens than the
  // session may hold at once all succeed.
  for (int i = 0; i < 10; ++i) {
    auto m = (*store)->CreateMessage(inbox, 0);
    ASSERT_TRUE(m.ok()) << i << ": " << m.status();
  }
  auto kept1 = (*store)->CreateMessage(inbox, 0);
  auto kept2 = (*store)->CreateMessage(inbox, 0);
  ASSERT_TRUE(kept1.ok() && kept2.ok());
  auto third = (*store)->CreateMessage(inbox, 0);
  EXPECT_EQ(ScodeOf(third.status()), MAPI_E_NOT_ENOUGH_RESOURCES);
  const uint64_t handle = (*kept1)->handle();

  // The session ends with two handles open: the server releases them.
  session->reset();
  ASSERT_TRUE(session_ended.WaitForNotificationWithTimeout(absl::Seconds(30)));
  EXPECT_EQ(ended_session.size(), 32u);
  server::store::CallContext caller{ended_session, 1};
  EXPECT_EQ(ScodeOf(server->store()->Release(caller, handle)),
            MAPI_E_NOT_FOUND);
  // Objects that outlive their session fail cleanly, and their destructors
  // make no call.
  EXPECT_EQ(ScodeOf((*kept1)->GetProps({PR_SUBJECT}).status()),
            MAPI_E_END_OF_SESSION);
  EXPECT_EQ(ScodeOf((*store)->GetProps(inbox, {}).status()),
            MAPI_E_END_OF_SESSION);
  kept1->reset();
  kept2->reset();
}

}  // namespace
}  // namespace mapinotify::testing
