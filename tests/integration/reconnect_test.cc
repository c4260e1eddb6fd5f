// Reconnect: a session whose notification stream breaks re-opens it by
// itself. Through a cut connection it resumes every connection where it
// stopped (nothing lost, nothing twice); after a server restart (new epoch)
// each sink is told once and live delivery goes on; when attempts run out
// the session is lost and each sink is told once; Advise waits for the
// stream to be back; ~Session does not wait for the backoff. The state sink
// reports each transition on the session's default loop.
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "mapinotify/message_loop.h"
#include "mapinotify/session.h"
#include "mapinotify/table.h"
#include "tests/integration/tcp_proxy.h"
#include "tests/integration/test_util.h"

namespace mapinotify::testing {
namespace {

// Failure bound only: every wait returns as soon as its event happened.
constexpr absl::Duration kBound = absl::Seconds(8);

// One OnSessionState call.
struct StateSeen {
  SessionState state;
  absl::Status why;
  std::thread::id thread;
};

// Records the state transitions a session reports. Thread-safe.
class StateRecorder : public SessionStateSink {
 public:
  void OnSessionState(SessionState state, const absl::Status& why) override {
    MessageLoop* quit = nullptr;
    {
      absl::MutexLock lock(&mu_);
      seen_.push_back(StateSeen{state, why, std::this_thread::get_id()});
      if (quit_loop_ != nullptr && state == quit_on_) {
        quit = quit_loop_;
        quit_loop_ = nullptr;
      }
    }
    if (quit != nullptr) quit->Quit();
  }

  // Waits until `state` has been reported `n` times; false on timeout.
  bool WaitFor(SessionState state, int n = 1, absl::Duration timeout = kBound) {
    struct Args {
      StateRecorder* self;
      SessionState state;
      int n;
    } args{this, state, n};
    absl::MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(
        absl::Condition(
            +[](Args* a) ABSL_EXCLUSIVE_LOCKS_REQUIRED(a->self->mu_) {
              return a->self->CountLocked(a->state) >= a->n;
            },
            &args),
        timeout);
  }

  // Makes OnSessionState quit `loop` when it reports `state`.
  void QuitLoopOn(MessageLoop* loop, SessionState state) {
    absl::MutexLock lock(&mu_);
    quit_loop_ = loop;
    quit_on_ = state;
  }

  std::vector<StateSeen> seen() const {
    absl::MutexLock lock(&mu_);
    return seen_;
  }

 private:
  int CountLocked(SessionState state) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    int n = 0;
    for (const StateSeen& s : seen_) n += s.state == state ? 1 : 0;
    return n;
  }

  mutable absl::Mutex mu_;
  std::vector<StateSeen> seen_ ABSL_GUARDED_BY(mu_);
  MessageLoop* quit_loop_ ABSL_GUARDED_BY(mu_) = nullptr;
  SessionState quit_on_ ABSL_GUARDED_BY(mu_) = SessionState::kConnected;
};

// Small delays, so that the tests run in well under a second each.
SessionOptions FastReconnect(std::shared_ptr<StateRecorder> states) {
  SessionOptions options;
  options.reconnect.initial_backoff = absl::Milliseconds(20);
  options.reconnect.max_backoff = absl::Milliseconds(200);
  options.state_sink = std::move(states);
  return options;
}

std::vector<SessionState> States(const std::vector<StateSeen>& seen) {
  std::vector<SessionState> states;
  for (const StateSeen& s : seen) states.push_back(s.state);
  return states;
}

bool IsTableReload(const Notification& n) {
  return n.event_type == fnevTableModified && n.table() != nullptr &&
         n.table()->table_event == TABLE_RELOAD;
}

// `seen` holds exactly the notifications published with sequences
// `expected`, once each and in that order, and no resync signal.
void ExpectExactly(const std::vector<Seen>& seen,
                   const std::vector<uint64_t>& expected,
                   const std::string& who) {
  std::vector<uint64_t> got;
  for (const Seen& s : seen) {
    EXPECT_FALSE(IsLostSignal(*s.notification))
        << who << ": a resync signal where the stream should have resumed: "
        << s.notification->error()->error_text;
    got.push_back(s.sequence);
  }
  EXPECT_EQ(got, expected) << who;
}

// Publishes one ObjectModified on `folder` of `hub`; its sequence.
uint64_t PublishOne(server::Hub* hub, const std::string& folder,
                    uint64_t index) {
  return PublishMany(hub, folder, 1, index);
}

TEST(Reconnect, CutConnectionResumesEverySinkWithoutLossOrDuplicates) {
  auto server = StartServer();
  auto proxy = TcpProxy::Start(server->port());
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  auto states = std::make_shared<StateRecorder>();
  auto session = Session::Open((*proxy)->target(), FastReconnect(states));
  ASSERT_TRUE(session.ok()) << session.status();
  const EntryId inbox = server->store()->inbox_id();
  auto entry_sink = std::make_shared<RecordingSink>();
  auto store_sink = std::make_shared<RecordingSink>();
  auto e = (*session)->Advise(AdviseTarget::Entry(inbox), fnevObjectModified,
                              entry_sink);
  ASSERT_TRUE(e.ok()) << e.status();
  auto s =
      (*session)->Advise(AdviseTarget::Store(), fnevObjectModified, store_sink);
  ASSERT_TRUE(s.ok()) << s.status();

  std::vector<uint64_t> published;
  uint64_t index = 0;
  for (int i = 0; i < 5; ++i) {
    published.push_back(PublishOne(server->hub(), inbox, index++));
  }
  ASSERT_TRUE(entry_sink->WaitForCount(5, kBound));
  ASSERT_TRUE(store_sink->WaitForCount(5, kBound));

  // Cut the connection, and hold the next ones (the reconnect attempt
  // included) until released, so that what follows is published while the
  // session is certainly disconnected.
  (*proxy)->SetBlackhole(true);
  (*proxy)->CutAll();
  ASSERT_TRUE(states->WaitFor(SessionState::kReconnecting));
  for (int i = 0; i < 5; ++i) {
    published.push_back(PublishOne(server->hub(), inbox, index++));
  }
  (*proxy)->SetBlackhole(false);
  ASSERT_TRUE(states->WaitFor(SessionState::kConnected));
  EXPECT_EQ((*session)->state(), SessionState::kConnected);
  for (int i = 0; i < 5; ++i) {
    published.push_back(PublishOne(server->hub(), inbox, index++));
  }
  // A last one as the fence: a duplicate or a resync would come before it.
  published.push_back(PublishOne(server->hub(), inbox, index++));
  ASSERT_TRUE(entry_sink->WaitForCount(published.size(), kBound))
      << entry_sink->count();
  ASSERT_TRUE(store_sink->WaitForCount(published.size(), kBound))
      << store_sink->count();
  ExpectExactly(entry_sink->seen(), published, "entry sink");
  ExpectExactly(store_sink->seen(), published, "store sink");

  // The transitions, in order, on the library's notification thread (where
  // the sinks run), never on the test's thread.
  const std::vector<StateSeen> seen = states->seen();
  EXPECT_EQ(States(seen),
            (std::vector<SessionState>{SessionState::kReconnecting,
                                       SessionState::kConnected}));
  const std::thread::id notification_thread = entry_sink->seen()[0].thread;
  for (const StateSeen& st : seen) {
    EXPECT_EQ(st.thread, notification_thread);
    EXPECT_NE(st.thread, std::this_thread::get_id());
  }
  EXPECT_FALSE(seen[0].why.ok());
  EXPECT_TRUE(seen[1].why.ok());
  const SessionStats stats = (*session)->stats();
  EXPECT_EQ(stats.reconnects, 1u);
  EXPECT_EQ(stats.resyncs_delivered, 0u);
  EXPECT_EQ((*session)->epoch(), server->hub()->epoch());
  EXPECT_GE((*proxy)->accepted(), 2u);
}

TEST(Reconnect, ServerRestartTellsEachSinkOnceAndLiveDeliveryGoesOn) {
  auto first = StartServer();
  const int port = first->port();
  auto states = std::make_shared<StateRecorder>();
  auto session = Session::Open(first->target(), FastReconnect(states));
  ASSERT_TRUE(session.ok()) << session.status();
  const uint64_t first_epoch = (*session)->epoch();
  ASSERT_EQ(first_epoch, first->hub()->epoch());

  // A store-wide sink, an entry sink and a table sink.
  const EntryId old_inbox = first->store()->inbox_id();
  auto store_sink = std::make_shared<RecordingSink>();
  auto entry_sink = std::make_shared<RecordingSink>();
  auto table_sink = std::make_shared<RecordingSink>();
  auto s =
      (*session)->Advise(AdviseTarget::Store(), fnevObjectModified, store_sink);
  ASSERT_TRUE(s.ok()) << s.status();
  auto e = (*session)->Advise(AdviseTarget::Entry(old_inbox),
                              fnevObjectModified, entry_sink);
  ASSERT_TRUE(e.ok()) << e.status();
  auto store = (*session)->OpenMsgStore();
  ASSERT_TRUE(store.ok()) << store.status();
  auto table = (*store)->OpenContentsTable(old_inbox);
  ASSERT_TRUE(table.ok()) << table.status();
  auto t = (*session)->Advise(AdviseTarget::TableView((*table)->view_id()),
                              fnevTableModified, table_sink);
  ASSERT_TRUE(t.ok()) << t.status();
  const uint64_t before = PublishMany(first->hub(), old_inbox, 3);
  ASSERT_TRUE(store_sink->WaitForCount(3, kBound));
  ASSERT_TRUE(entry_sink->WaitForCount(3, kBound));

  // The server goes away with its history; a new one comes up on the same
  // port with another epoch and another store.
  first.reset();
  ASSERT_TRUE(states->WaitFor(SessionState::kReconnecting));
  server::ServerOptions options;
  options.address = absl::StrCat("127.0.0.1:", port);
  auto second = server::Server::Start(std::move(options));
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_TRUE(states->WaitFor(SessionState::kConnected));
  EXPECT_NE((*session)->epoch(), first_epoch);
  EXPECT_EQ((*session)->epoch(), (*second)->hub()->epoch());

  // Each sink is told exactly once: the store sink (its target exists, but
  // the history does not), the entry sink (its folder is of the old store)
  // and the table sink (its view is gone) with TABLE_RELOAD.
  ASSERT_TRUE(store_sink->WaitForCount(4, kBound));
  ASSERT_TRUE(entry_sink->WaitForCount(4, kBound));
  ASSERT_TRUE(table_sink->WaitForCount(1, kBound));
  // Live delivery goes on for the store sink, after its signal.
  const EntryId new_inbox = (*second)->store()->inbox_id();
  const uint64_t after = PublishOne((*second)->hub(), new_inbox, 0);
  const uint64_t fence = PublishOne((*second)->hub(), new_inbox, 1);
  ASSERT_TRUE(store_sink->WaitForCount(6, kBound));

  const std::vector<Seen> store_seen = store_sink->seen();
  ASSERT_EQ(store_seen.size(), 6u);
  EXPECT_EQ(store_seen[2].sequence, before);
  EXPECT_TRUE(IsLostSignal(*store_seen[3].notification));
  EXPECT_EQ(store_seen[3].sequence, 0u);
  EXPECT_EQ(store_seen[4].sequence, after);
  EXPECT_EQ(store_seen[5].sequence, fence);
  for (size_t i = 0; i < store_seen.size(); ++i) {
    if (i == 3) continue;
    EXPECT_FALSE(IsLostSignal(*store_seen[i].notification)) << i;
  }
  // The entry and table connections are dead: nothing after the signal
  // (the fence above reached the store sink after anything for them).
  const std::vector<Seen> entry_seen = entry_sink->seen();
  ASSERT_EQ(entry_seen.size(), 4u);
  EXPECT_TRUE(IsLostSignal(*entry_seen[3].notification));
  const std::vector<Seen> table_seen = table_sink->seen();
  ASSERT_EQ(table_seen.size(), 1u);
  EXPECT_TRUE(IsTableReload(*table_seen[0].notification));
  EXPECT_EQ((*session)->stats().resyncs_delivered, 3u);
  EXPECT_EQ((*session)->stats().reconnects, 1u);
  // Dead connections are still held until unadvised.
  EXPECT_TRUE((*session)->Unadvise(*e).ok());
  EXPECT_TRUE((*session)->Unadvise(*t).ok());
  EXPECT_TRUE((*session)->Unadvise(*s).ok());
  EXPECT_EQ((*session)->Unadvise(*s).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(States(states->seen()),
            (std::vector<SessionState>{SessionState::kReconnecting,
                                       SessionState::kConnected}));
  table->reset();
}

TEST(Reconnect, ExhaustedAttemptsLoseTheSessionAndTellEachSinkOnce) {
  auto server = StartServer();
  auto states = std::make_shared<StateRecorder>();
  SessionOptions options = FastReconnect(states);
  options.reconnect.max_attempts = 3;
  auto session = Session::Open(server->target(), options);
  ASSERT_TRUE(session.ok()) << session.status();
  const EntryId inbox = server->store()->inbox_id();
  auto entry_sink = std::make_shared<RecordingSink>();
  auto store_sink = std::make_shared<RecordingSink>();
  auto e = (*session)->Advise(AdviseTarget::Entry(inbox), fnevObjectModified,
                              entry_sink);
  ASSERT_TRUE(e.ok()) << e.status();
  auto s =
      (*session)->Advise(AdviseTarget::Store(), fnevObjectModified, store_sink);
  ASSERT_TRUE(s.ok()) << s.status();
  PublishMany(server->hub(), inbox, 1);
  ASSERT_TRUE(entry_sink->WaitForCount(1, kBound));
  ASSERT_TRUE(store_sink->WaitForCount(1, kBound));

  server.reset();  // Nobody listens on its port any more.
  ASSERT_TRUE(states->WaitFor(SessionState::kLost));
  // The signals were queued with the transition: they are in once the
  // sinks have them, and nothing can follow a lost session.
  ASSERT_TRUE(entry_sink->WaitForCount(2, kBound));
  ASSERT_TRUE(store_sink->WaitForCount(2, kBound));
  EXPECT_EQ(States(states->seen()),
            (std::vector<SessionState>{SessionState::kReconnecting,
                                       SessionState::kLost}));
  EXPECT_FALSE(states->seen()[1].why.ok());
  EXPECT_EQ((*session)->state(), SessionState::kLost);
  for (auto* sink : {entry_sink.get(), store_sink.get()}) {
    const std::vector<Seen> seen = sink->seen();
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_FALSE(IsLostSignal(*seen[0].notification));
    EXPECT_TRUE(IsLostSignal(*seen[1].notification));
  }
  EXPECT_EQ((*session)->stats().resyncs_delivered, 2u);
  EXPECT_EQ((*session)->stats().reconnects, 0u);
  // A lost session refuses new connections at once and still ends old ones.
  auto late = (*session)->Advise(AdviseTarget::Store(), fnevNewMail,
                                 std::make_shared<RecordingSink>());
  EXPECT_EQ(late.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE((*session)->Unadvise(*e).ok());
  EXPECT_TRUE((*session)->Unadvise(*s).ok());
}

TEST(Reconnect, DisabledReconnectLosesTheSessionAtOnce) {
  auto server = StartServer();
  auto states = std::make_shared<StateRecorder>();
  SessionOptions options = FastReconnect(states);
  options.reconnect.enabled = false;
  auto session = Session::Open(server->target(), options);
  ASSERT_TRUE(session.ok()) << session.status();
  auto sink = std::make_shared<RecordingSink>();
  auto c = (*session)->Advise(AdviseTarget::Store(), fnevNewMail, sink);
  ASSERT_TRUE(c.ok()) << c.status();
  server.reset();
  ASSERT_TRUE(states->WaitFor(SessionState::kLost));
  ASSERT_TRUE(sink->WaitForCount(1, kBound));
  EXPECT_TRUE(IsLostSignal(*sink->seen()[0].notification));
  EXPECT_EQ(States(states->seen()),
            std::vector<SessionState>{SessionState::kLost});
  EXPECT_EQ((*session)->state(), SessionState::kLost);
}

TEST(Reconnect, AdviseWhileReconnectingWaitsForTheStream) {
  auto server = StartServer();
  auto proxy = TcpProxy::Start(server->port());
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  auto states = std::make_shared<StateRecorder>();
  SessionOptions options = FastReconnect(states);
  options.advise_timeout = absl::Seconds(1);
  auto session = Session::Open((*proxy)->target(), options,
                               /*connect_timeout=*/absl::Seconds(6));
  ASSERT_TRUE(session.ok()) << session.status();
  const EntryId inbox = server->store()->inbox_id();
  auto old_sink = std::make_shared<RecordingSink>();
  auto old = (*session)->Advise(AdviseTarget::Entry(inbox), fnevObjectModified,
                                old_sink);
  ASSERT_TRUE(old.ok()) << old.status();

  // Disconnected, and held so: the session cannot get back until released.
  (*proxy)->SetBlackhole(true);
  (*proxy)->CutAll();
  ASSERT_TRUE(states->WaitFor(SessionState::kReconnecting));
  ASSERT_EQ((*session)->state(), SessionState::kReconnecting);

  // Advise waits for the stream instead of failing at once: with the
  // stream held away, it runs out of advise_timeout.
  const absl::Time start = absl::Now();
  auto timed_out = (*session)->Advise(AdviseTarget::Store(), fnevObjectModified,
                                      std::make_shared<RecordingSink>());
  EXPECT_EQ(timed_out.status().code(), absl::StatusCode::kDeadlineExceeded)
      << timed_out.status();
  EXPECT_GE(absl::Now() - start, options.advise_timeout);

  // Once the stream is back, a waiting Advise succeeds.
  auto new_sink = std::make_shared<RecordingSink>();
  absl::StatusOr<ConnectionId> advised = absl::UnknownError("not run");
  SessionState state_at_return = SessionState::kLost;
  std::thread advising([&] {
    advised = (*session)->Advise(AdviseTarget::Entry(inbox), fnevObjectModified,
                                 new_sink);
    state_at_return = (*session)->state();
  });
  (*proxy)->SetBlackhole(false);
  advising.join();
  ASSERT_TRUE(advised.ok()) << advised.status();
  EXPECT_EQ(state_at_return, SessionState::kConnected);
  EXPECT_NE(*advised, *old);
  ASSERT_TRUE(states->WaitFor(SessionState::kConnected));

  // Both the re-registered and the new connection deliver.
  const uint64_t seq = PublishOne(server->hub(), inbox, 7);
  ASSERT_TRUE(new_sink->WaitForCount(1, kBound));
  ASSERT_TRUE(old_sink->WaitForCount(1, kBound));
  EXPECT_EQ(new_sink->seen()[0].sequence, seq);
  EXPECT_EQ(old_sink->seen()[0].sequence, seq);
  EXPECT_EQ((*session)->stats().resyncs_delivered, 0u);
}

TEST(Reconnect, DestroyingTheSessionDuringBackoffReturnsAtOnce) {
  // kInitThread: the state sink runs on this thread while it pumps its loop.
  MessageLoop loop;
  auto server = StartServer();
  auto states = std::make_shared<StateRecorder>();
  SessionOptions options;
  options.threading_model = ThreadingModel::kInitThread;
  // A backoff far longer than the test may take.
  options.reconnect.initial_backoff = absl::Minutes(10);
  options.reconnect.max_backoff = absl::Minutes(10);
  options.state_sink = states;
  auto session = Session::Open(server->target(), options);
  ASSERT_TRUE(session.ok()) << session.status();
  auto sink = std::make_shared<RecordingSink>();
  ASSERT_TRUE(
      (*session)->Advise(AdviseTarget::Store(), fnevObjectModified, sink).ok());

  states->QuitLoopOn(&loop, SessionState::kReconnecting);
  server.reset();
  const absl::Time pump_until = absl::Now() + kBound;
  while (states->seen().empty() && absl::Now() < pump_until) {
    loop.RunFor(pump_until - absl::Now());
  }
  const std::vector<StateSeen> seen = states->seen();
  ASSERT_EQ(States(seen),
            std::vector<SessionState>{SessionState::kReconnecting});
  EXPECT_EQ(seen[0].thread, std::this_thread::get_id());

  const absl::Time start = absl::Now();
  session->reset();
  const absl::Duration took = absl::Now() - start;
  EXPECT_LT(took, absl::Seconds(2)) << "~Session waited for the backoff";
  // Nothing is reported once ~Session returned, and the sink is not told
  // about a loss (the session ended it, nothing was lost).
  loop.RunUntilIdle();
  EXPECT_EQ(states->seen().size(), 1u);
  EXPECT_EQ(sink->count(), 0u);
}

}  // namespace
}  // namespace mapinotify::testing
