// mapinotifyd: serves MAPI notifications over gRPC until SIGINT / SIGTERM.
#include <signal.h>

#include <cstdio>
#include <cstdlib>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "server/service/server.h"

ABSL_FLAG(std::string, address, "127.0.0.1:50051",
          "host:port to listen on (port 0 picks a free one)");
ABSL_FLAG(size_t, stream_queue_items, 65536,
          "per-stream queue bound, in notifications; past it the stream's "
          "connections get the resync signal");
ABSL_FLAG(size_t, stream_queue_bytes, 64 << 20,
          "per-stream queue bound, in bytes of notification payload");
ABSL_FLAG(size_t, max_message_bytes, 1 << 20,
          "largest gRPC message sent or accepted");
ABSL_FLAG(absl::Duration, keepalive_time, absl::Seconds(30),
          "ping a connection that has been quiet this long (inf: never)");
ABSL_FLAG(absl::Duration, keepalive_timeout, absl::Seconds(10),
          "close a connection whose ping is not acknowledged within this "
          "(its streams end and their sessions' state is released)");
ABSL_FLAG(absl::Duration, min_client_ping_interval, absl::Seconds(10),
          "a client ping sooner than this after the previous one (with no "
          "data sent in between) is a strike; keep it at or below the "
          "clients' keepalive time (client default 30s)");
ABSL_FLAG(int, max_ping_strikes, 2,
          "strikes tolerated before GOAWAY too_many_pings (0: no limit)");
ABSL_FLAG(size_t, retention_events, 100000,
          "most notifications kept for replay to reconnecting clients; a "
          "resume point older than the retention log gets the resync signal");
ABSL_FLAG(size_t, retention_bytes, 64 << 20,
          "most bytes kept in the retention log (estimated per notification)");
ABSL_FLAG(absl::Duration, progress_mark_interval, absl::Seconds(1),
          "how often streams get a progress mark when the sequence moved on; "
          "'inf' turns periodic marks off");
ABSL_FLAG(absl::Duration, session_grace, absl::Seconds(30),
          "how long a client session's state (open messages, table views) "
          "outlives a broken stream, so that a reconnecting session finds it; "
          "a session that ends with its goodbye is released at once");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(5),
          "on SIGTERM, how long in-flight calls get before they are cancelled");
ABSL_FLAG(bool, mutex_deadlock_detection, false,
          "keep Abseil's lock-order checking on (Debian's Abseil is built "
          "with it enabled; it costs every lock a global graph lookup, about "
          "30 ns, so the server turns it off unless asked)");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "mapinotifyd --address=127.0.0.1:50051: MAPI notifications over gRPC");
  absl::ParseCommandLine(argc, argv);
  if (!absl::GetFlag(FLAGS_mutex_deadlock_detection)) {
    absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  }

  // Block the shutdown signals in every thread (gRPC's included) so that
  // only sigwait below sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // A closed stdout (a supervisor that stopped reading) or a peer that went
  // away must never kill the server.
  signal(SIGPIPE, SIG_IGN);

  mapinotify::server::ServerOptions options;
  options.address = absl::GetFlag(FLAGS_address);
  options.hub.outbox.max_items = absl::GetFlag(FLAGS_stream_queue_items);
  options.hub.outbox.max_bytes = absl::GetFlag(FLAGS_stream_queue_bytes);
  options.max_message_bytes = absl::GetFlag(FLAGS_max_message_bytes);
  options.hub.outbox.max_message_bytes = options.max_message_bytes;
  options.hub.retention.max_events = absl::GetFlag(FLAGS_retention_events);
  options.hub.retention.max_bytes = absl::GetFlag(FLAGS_retention_bytes);
  options.progress_mark_interval = absl::GetFlag(FLAGS_progress_mark_interval);
  options.notifications.session_grace = absl::GetFlag(FLAGS_session_grace);
  options.keepalive_time = absl::GetFlag(FLAGS_keepalive_time);
  options.keepalive_timeout = absl::GetFlag(FLAGS_keepalive_timeout);
  options.min_client_ping_interval =
      absl::GetFlag(FLAGS_min_client_ping_interval);
  options.max_ping_strikes = absl::GetFlag(FLAGS_max_ping_strikes);

  auto server = mapinotify::server::Server::Start(options);
  if (!server.ok()) {
    std::fprintf(stderr, "mapinotifyd: %s\n",
                 server.status().ToString().c_str());
    return EXIT_FAILURE;
  }
  std::printf("mapinotifyd listening on %s (port %d)\n",
              options.address.c_str(), (*server)->port());
  std::fflush(stdout);

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  std::printf("mapinotifyd: signal %d, shutting down\n", signal_number);
  std::fflush(stdout);
  (*server)->Shutdown(absl::Now() + absl::GetFlag(FLAGS_shutdown_grace));
  (*server)->Wait();
  std::printf("mapinotifyd: stopped\n");
  return EXIT_SUCCESS;
}
