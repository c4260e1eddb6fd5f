// Keepalive: a session whose connection goes silent — the TCP proxy
// blackholes it, a half-open connection as both ends see it — notices the
// dead peer by itself (the session starts reconnecting) and resumes without
// loss once the path is back, and the server releases the session's stream;
// while an idle but healthy connection carries keepalive pings for many
// periods without being disturbed.
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "mapinotify/session.h"
#include "tests/integration/state_recorder.h"
#include "tests/integration/tcp_proxy.h"
#include "tests/integration/test_util.h"

namespace mapinotify::testing {
namespace {

// The keepalive period the tests use on the client (and, where it pings, on
// the server): small, and accepted by gRPC 1.51 (its chttp2 transport only
// clamps keepalive_time to >= 1 ms).
constexpr absl::Duration kPing = absl::Seconds(1);
// Failure bound only: the waits below return as soon as their event occurs.
constexpr absl::Duration kBound = absl::Seconds(12);
// How long one reconnect attempt waits for the server's answers (the
// connect_timeout of Session::Open): an attempt made into the blackhole
// hangs until then.
constexpr absl::Duration kAttemptTimeout = absl::Seconds(2);
// An HTTP/2 PING or PING ACK frame: 9-byte header + 8-byte payload.
constexpr uint64_t kPingFrameBytes = 17;

// Records when the server ended sessions (ServerOptions::notifications.
// on_session_end, called after the session's hub stream was closed).
// Thread-safe.
class SessionEnds {
 public:
  void Record() {
    absl::MutexLock lock(&mu_);
    if (count_++ == 0) first_ = absl::Now();
  }
  // Waits for the first end; its time, or InfinitePast on timeout.
  absl::Time WaitForFirst(absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto ended = +[](SessionEnds* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu_) {
      return s->count_ > 0;
    };
    if (!mu_.AwaitWithTimeout(absl::Condition(ended, this), timeout)) {
      return absl::InfinitePast();
    }
    return first_;
  }

 private:
  absl::Mutex mu_;
  int count_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time first_ ABSL_GUARDED_BY(mu_);
};

// `states` (optional) observes the session's stream: a dead peer shows as
// kReconnecting.
SessionOptions FastKeepaliveSession(
    std::shared_ptr<StateRecorder> states = nullptr) {
  SessionOptions options;
  options.keepalive_time = kPing;
  options.keepalive_timeout = kPing;
  options.reconnect.initial_backoff = absl::Milliseconds(50);
  options.reconnect.max_backoff = absl::Milliseconds(500);
  options.state_sink = std::move(states);
  return options;
}

// Accepts the client's pings at kPing with a 2x margin (as the production
// defaults do with 10 s against 30 s).
server::ServerOptions ServerAcceptingFastPings() {
  server::ServerOptions options;
  options.min_client_ping_interval = kPing / 2;
  return options;
}

TEST(Keepalive, BlackholedConnectionIsNoticedByTheClientAndTheServer) {
  SessionEnds ends;
  server::ServerOptions options = ServerAcceptingFastPings();
  options.keepalive_time = kPing;
  options.keepalive_timeout = kPing;
  // The session's state is released as soon as the server drops the
  // stream (no reconnect grace), so that on_session_end marks the moment.
  options.notifications.session_grace = absl::ZeroDuration();
  options.notifications.on_session_end = [&ends](const std::string&) {
    ends.Record();
  };
  auto server = StartServer(std::move(options));
  auto proxy = TcpProxy::Start(server->port());
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  auto states = std::make_shared<StateRecorder>();
  // A reconnect attempt through the blackhole hangs: give up on it quickly.
  auto session = Session::Open((*proxy)->target(), FastKeepaliveSession(states),
                               kAttemptTimeout);
  ASSERT_TRUE(session.ok()) << session.status();
  auto sink = std::make_shared<RecordingSink>();
  const EntryId inbox = server->store()->inbox_id();
  auto c =
      (*session)->Advise(AdviseTarget::Entry(inbox), fnevObjectModified, sink);
  ASSERT_TRUE(c.ok()) << c.status();
  // The path works end to end before the fault.
  PublishMany(server->hub(), inbox, 1);
  ASSERT_TRUE(sink->WaitForCount(1, kBound));
  ASSERT_FALSE(IsLostSignal(*sink->seen()[0].notification));
  ASSERT_EQ(server->hub()->GetStats().streams, 1u);

  (*proxy)->SetBlackhole(true);
  const absl::Time start = absl::Now();

  // The client: its ping goes unanswered, it closes the connection, the
  // stream ends, and the session starts reconnecting — with no call made
  // by the application.
  ASSERT_TRUE(states->WaitFor(SessionState::kReconnecting, kBound))
      << "the client did not notice the dead peer";
  const absl::Duration client_took = absl::Now() - start;

  // The server: its own ping goes unanswered too, it closes its side, and
  // the session's stream is released (an event: on_session_end runs after
  // the hub stream was closed).
  const absl::Time server_ended = ends.WaitForFirst(kBound);
  ASSERT_NE(server_ended, absl::InfinitePast())
      << "the server did not notice the dead peer";
  EXPECT_EQ(server->hub()->GetStats().streams, 0u);
  std::printf(
      "keepalive %s / timeout %s: the client noticed the blackhole after %s, "
      "the server after %s\n",
      absl::FormatDuration(kPing).c_str(), absl::FormatDuration(kPing).c_str(),
      absl::FormatDuration(client_took).c_str(),
      absl::FormatDuration(server_ended - start).c_str());

  // Resumed: what was published while the path was dead arrives once the
  // path is back, exactly once and with no resync signal.
  const uint64_t during = PublishMany(server->hub(), inbox, 1, 1);
  (*proxy)->SetBlackhole(false);
  ASSERT_TRUE(states->WaitForConnected(1, kBound));
  ASSERT_TRUE(sink->WaitForCount(2, kBound));
  const uint64_t after = PublishMany(server->hub(), inbox, 1, 2);
  ASSERT_TRUE(sink->WaitForCount(3, kBound));
  const std::vector<Seen> seen = sink->seen();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[1].sequence, during);
  EXPECT_EQ(seen[2].sequence, after);
  for (const Seen& s : seen) EXPECT_FALSE(IsLostSignal(*s.notification));
  EXPECT_EQ((*session)->stats().reconnects, 1u);
}

TEST(Keepalive, ClientAloneNoticesADeadPeerAfterALongIdlePeriod) {
  // The server does not ping: detection is the client's alone. The stream
  // is idle for several periods first; gRPC 1.51 would have stopped the
  // client's pings after two (GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA) had the
  // session not lifted that limit, and the blackhole would go unnoticed.
  server::ServerOptions options = ServerAcceptingFastPings();
  options.keepalive_time = absl::InfiniteDuration();
  auto server = StartServer(std::move(options));
  auto proxy = TcpProxy::Start(server->port());
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  auto states = std::make_shared<StateRecorder>();
  auto session = Session::Open((*proxy)->target(), FastKeepaliveSession(states),
                               kAttemptTimeout);
  ASSERT_TRUE(session.ok()) << session.status();
  auto sink = std::make_shared<RecordingSink>();
  auto c = (*session)->Advise(AdviseTarget::Store(), fnevNewMail, sink);
  ASSERT_TRUE(c.ok()) << c.status();
  // Idle until at least 3 pings were acknowledged (one frame of slack).
  const uint64_t before =
      (*proxy)->bytes_forwarded(TcpProxy::Direction::kServerToClient);
  ASSERT_TRUE((*proxy)->WaitForBytes(TcpProxy::Direction::kServerToClient,
                                     before + 4 * kPingFrameBytes, kBound));

  (*proxy)->SetBlackhole(true);
  const absl::Time start = absl::Now();
  ASSERT_TRUE(states->WaitFor(SessionState::kReconnecting, kBound))
      << "the client did not notice the dead peer";
  std::printf(
      "after an idle period the client alone noticed the blackhole "
      "after %s\n",
      absl::FormatDuration(absl::Now() - start).c_str());
  EXPECT_EQ(sink->count(), 0u);  // Nothing lost, so nothing to tell.
}

TEST(Keepalive, IdleHealthyConnectionCarriesPingsAndStaysUp) {
  // The server does not ping here, so every PING ACK that crosses the proxy
  // towards the client answers one of the client's pings.
  server::ServerOptions options = ServerAcceptingFastPings();
  options.keepalive_time = absl::InfiniteDuration();
  auto server = StartServer(std::move(options));
  auto proxy = TcpProxy::Start(server->port());
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  auto session = Session::Open((*proxy)->target(), FastKeepaliveSession());
  ASSERT_TRUE(session.ok()) << session.status();
  auto sink = std::make_shared<RecordingSink>();
  const EntryId inbox = server->store()->inbox_id();
  auto c =
      (*session)->Advise(AdviseTarget::Entry(inbox), fnevObjectModified, sink);
  ASSERT_TRUE(c.ok()) << c.status();
  PublishMany(server->hub(), inbox, 1);
  ASSERT_TRUE(sink->WaitForCount(1, kBound));

  // Idle for at least kPings acknowledged pings: counted as bytes the proxy
  // forwards to the client, with one frame's worth of slack for a late
  // WINDOW_UPDATE. This is a wait on time by nature (~kPings periods); it
  // returns as soon as the acks have crossed. Pings blocked by gRPC's
  // "max pings without data" rule, or a GOAWAY too_many_pings from the
  // server, would fail it.
  constexpr uint64_t kPings = 5;
  const uint64_t before =
      (*proxy)->bytes_forwarded(TcpProxy::Direction::kServerToClient);
  const absl::Time start = absl::Now();
  ASSERT_TRUE((*proxy)->WaitForBytes(TcpProxy::Direction::kServerToClient,
                                     before + (kPings + 1) * kPingFrameBytes,
                                     kBound))
      << "fewer than " << kPings << " keepalive pings were acknowledged";
  const uint64_t acked =
      ((*proxy)->bytes_forwarded(TcpProxy::Direction::kServerToClient) -
       before) /
      kPingFrameBytes;
  std::printf(
      "about %llu keepalive pings acknowledged in %s on an idle "
      "connection\n",
      static_cast<unsigned long long>(acked),
      absl::FormatDuration(absl::Now() - start).c_str());

  // Nothing was signalled, the stream is still the same one over the same
  // connection, and it still delivers.
  EXPECT_EQ(sink->count(), 1u);
  EXPECT_EQ(server->hub()->GetStats().streams, 1u);
  PublishMany(server->hub(), inbox, 1, /*first_index=*/1);
  ASSERT_TRUE(sink->WaitForCount(2, kBound));
  const std::vector<Seen> seen = sink->seen();
  ASSERT_EQ(seen.size(), 2u);
  for (const Seen& s : seen) EXPECT_FALSE(IsLostSignal(*s.notification));
  EXPECT_GT(seen[1].sequence, seen[0].sequence);
  EXPECT_EQ((*proxy)->accepted(), 1u);
  EXPECT_EQ((*session)->stats().resyncs_delivered, 0u);
}

}  // namespace
}  // namespace mapinotify::testing
