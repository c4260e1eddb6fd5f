// Session: a client's connection to mapinotifyd, and the Advise / Unadvise of
// MAPI's IMsgStore / IMAPISession, delivering notifications on the thread the
// application chose.
#ifndef MAPINOTIFY_SESSION_H_
#define MAPINOTIFY_SESSION_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "mapinotify/advise_sink.h"
#include "mapinotify/mapi.h"
#include "mapinotify/notification.h"
#include "mapinotify/store.h"

namespace mapinotify {

// Where sinks of a session run (MAPIInitialize's choice).
enum class ThreadingModel {
  // MAPIINIT_0.ulFlags = 0: on the thread that opened the session, while it
  // runs its MessageLoop (Run / RunUntilIdle / DispatchNotifications, or its
  // fd() in the application's own event loop).
  kInitThread,
  // MAPI_MULTITHREAD_NOTIFICATIONS: on one thread the library owns. As in
  // MAPI, it is one thread per process: every kNotificationThread session of
  // the process runs its sinks on it, one call at a time, so a sink that
  // blocks holds up the other sessions' sinks too. It starts with the first
  // such session and ends with the last one.
  kNotificationThread,
};

// Where a session's notification stream stands (Session::state()).
enum class SessionState {
  // The stream is up: every live connection is registered on it and
  // notifications flow.
  kConnected,
  // The stream broke and the session is re-opening it by itself (see
  // ReconnectOptions). Nothing is lost yet: once it is back, every
  // connection continues where it stopped, or its sink gets the resync
  // signal. Advise waits for kConnected meanwhile.
  kReconnecting,
  // The stream is gone for good (reconnecting is disabled, or
  // ReconnectOptions::max_attempts attempts failed in a row). Every live
  // sink got the resync signal once; nothing more is delivered and Advise
  // fails with Unavailable. Final: a session never leaves kLost.
  kLost,
};

// How a session re-opens its notification stream after it broke (the server
// restarted, a proxy cut the connection, keepalive found the peer dead).
//
// An attempt opens a new stream, states the epoch and the sequence the
// session had reached, and re-registers every live connection with the same
// connection number, target and mask and the point up to which that
// connection's sink has everything. The server replays what each connection
// missed, and the session drops anything it already handed over, so sinks
// see every notification exactly once and in order across the break. When the
// server cannot replay (it restarted with an empty history: another epoch;
// the point fell out of its retention), the connection's sink gets the resync
// signal (fnevCriticalError with MAPI_E_NOTIFICATIONS_LOST, TABLE_RELOAD for a
// table view) and live delivery goes on after it. A connection whose target
// is gone (a table view or entry id the restarted server does not know) gets
// the resync signal and stays dead: nothing more is delivered for it, and
// Unadvise of it still succeeds.
//
// An attempt fails when its stream ends, or when the server has not answered
// (its hello and every re-registration) within the `connect_timeout` given to
// Session::Open. Before every attempt, the first included, the session waits
// a delay: initial_backoff, then multiplied by `multiplier` after each failed
// attempt up to max_backoff, each delay then multiplied by a uniform random
// factor in [1 - jitter, 1 + jitter] (so that many clients of one restarted
// server spread out; a delay may exceed max_backoff by that factor). The
// delay goes back to initial_backoff once a stream has stayed up for
// `reset_after`.
struct ReconnectOptions {
  // false: a broken stream is final (kLost at once, every sink gets the
  // resync signal), as in sessions before reconnection existed.
  bool enabled = true;
  absl::Duration initial_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(5);
  // >= 1.
  double multiplier = 1.6;
  // In [0, 1]: each delay times uniform [1 - jitter, 1 + jitter].
  double jitter = 0.2;
  // A stream that stayed up this long resets the delay to initial_backoff.
  absl::Duration reset_after = absl::Seconds(10);
  // Consecutive failed attempts before the session gives up (kLost);
  // 0 = never give up.
  int max_attempts = 0;
};

// Observes the state of a session's notification stream (SessionOptions::
// state_sink): when it breaks, when it is back, when it is lost.
//
// Called with the same thread rules as the session's advise sinks: on the
// session's default loop — the opening thread while it runs its MessageLoop
// (kInitThread), or the library's notification thread
// (kNotificationThread) — never on a gRPC thread and never with a library
// lock held; so it may call any library function. Called once per transition
// after Open returned (the state at Open is kConnected and is not reported),
// in the order of the transitions, one call at a time. Not ordered with the
// advise sinks' calls: after a reconnection, replayed notifications may reach
// their sinks before kConnected is reported. If more than 64 transitions
// wait for a loop that is not pumped, the intermediate ones are coalesced;
// the last one reported is always the latest. Never called once
// ~Session has returned; ~Session must not run inside this callback. When the
// kInitThread loop is destroyed before the session, transitions are no
// longer reported.
class SessionStateSink {
 public:
  virtual ~SessionStateSink() = default;
  // The session entered `state`. `why` is the status that ended the stream
  // (kReconnecting), the last attempt's failure (kLost), or OK (kConnected).
  virtual void OnSessionState(SessionState state, const absl::Status& why) = 0;
};

struct SessionOptions {
  ThreadingModel threading_model = ThreadingModel::kNotificationThread;
  // Per-connection bound of notifications waiting for their sink. Past it
  // (a loop that is not pumped), the waiting ones are dropped and the sink
  // gets the resync signal (fnevCriticalError with MAPI_E_NOTIFICATIONS_LOST,
  // or TABLE_RELOAD for a table sink) when it next runs.
  size_t max_queued_notifications_per_connection = 65536;
  // The same bound in bytes (wire size of the waiting notifications).
  size_t max_queued_bytes_per_connection = 16 << 20;
  // How long Advise waits for the server's answer (including, while the
  // session reconnects, the wait for the stream to be back).
  absl::Duration advise_timeout = absl::Seconds(30);
  // Largest gRPC message accepted (the server splits larger batches).
  size_t max_message_bytes = 4 << 20;
  // How long a MsgStore / Message call waits for the server's answer.
  absl::Duration store_call_timeout = absl::Seconds(30);

  // Keepalive: how the session notices a dead server or a half-open
  // connection (a host that vanished, a NAT or proxy that dropped the flow)
  // instead of waiting forever on a silent stream. The client sends an
  // HTTP/2 PING once the connection has been quiet for `keepalive_time`
  // and closes it when the ack has not come within `keepalive_timeout`; the
  // stream then ends and the session reconnects (see ReconnectOptions; with
  // reconnection disabled, every sink gets the resync signal). Defaults 30 s /
  // 10 s: a dead peer is noticed within ~40 s, an idle healthy connection
  // costs a PING and its ack (17 bytes each) per 30 s, and 30 s is below the
  // idle timeout of common NATs and load balancers, so the pings also keep the
  // flow alive. keepalive_time must not be shorter than the server's
  // --min_client_ping_interval (default 10 s), or the server closes the
  // connection with GOAWAY "too_many_pings". An infinite keepalive_time
  // turns the pings off. gRPC 1.51 accepts down to 1 ms (tests use ~1 s);
  // its own client default is no keepalive at all.
  absl::Duration keepalive_time = absl::Seconds(30);
  absl::Duration keepalive_timeout = absl::Seconds(10);
  // Ping also when no call is open on the connection. The notification
  // stream is open for the session's whole life, so this only matters
  // around (re)connects; true keeps detection uniform.
  bool keepalive_permit_without_calls = true;

  // Re-opening the stream after it broke. Session::Open returns
  // InvalidArgument for a negative delay, max_backoff < initial_backoff,
  // multiplier < 1, jitter outside [0, 1] or a negative max_attempts.
  ReconnectOptions reconnect;
  // Told about each change of state(); null: nobody is.
  std::shared_ptr<SessionStateSink> state_sink;
};

// What an advise connection watches.
class AdviseTarget {
 public:
  // The whole store (IMsgStore::Advise with a null entry id).
  static AdviseTarget Store() { return AdviseTarget(Kind::kStore, {}, 0); }
  // One object and, for a folder, the objects in it.
  static AdviseTarget Entry(EntryId entry_id) {
    return AdviseTarget(Kind::kEntry, std::move(entry_id), 0);
  }
  // One table view (IMAPITable::Advise); its sink's resync signal is
  // TABLE_RELOAD.
  static AdviseTarget TableView(uint64_t view_id) {
    return AdviseTarget(Kind::kTableView, {}, view_id);
  }

  enum class Kind { kStore, kEntry, kTableView };
  Kind kind() const { return kind_; }
  const EntryId& entry_id() const { return entry_id_; }
  uint64_t table_view() const { return table_view_; }

 private:
  AdviseTarget(Kind kind, EntryId entry_id, uint64_t view)
      : kind_(kind), entry_id_(std::move(entry_id)), table_view_(view) {}
  Kind kind_;
  EntryId entry_id_;
  uint64_t table_view_;
};

// Counters of a session (tests, monitoring).
struct SessionStats {
  // Notifications waiting for sinks now, and their bytes.
  size_t queued_notifications = 0;
  size_t queued_bytes = 0;
  // The most that ever waited for one connection at once.
  size_t max_queued_notifications = 0;
  size_t max_queued_bytes = 0;
  // Resync signals handed to sinks.
  uint64_t resyncs_delivered = 0;
  // Successful reconnections of the notification stream.
  uint64_t reconnects = 0;
  // Notifications the server sent again that a sink had already been handed
  // (dropped, never delivered twice).
  uint64_t duplicates_dropped = 0;
};

// A session. Thread-safe: Advise and Unadvise may be called from any thread,
// including from inside a sink's OnNotify. When the notification stream
// breaks, the session re-opens it by itself and every connection continues
// without loss or duplicate (SessionOptions::reconnect, state()). Destroying
// the session unadvises every connection (with Unadvise's guarantee), stops
// reconnecting at once, and closes the stream; it must not be destroyed from
// inside one of its own sinks or its state sink.
class Session {
 public:
  // Connects to `address` (host:port) and opens the notification stream.
  // kInitThread: FailedPrecondition when the calling thread has no
  // MessageLoop; sinks will run on it. Unavailable when the server cannot be
  // reached within `connect_timeout`.
  static absl::StatusOr<std::unique_ptr<Session>> Open(
      const std::string& address, SessionOptions options = {},
      absl::Duration connect_timeout = absl::Seconds(10));

  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Registers `sink` for the events in `event_mask` on `target` and returns
  // the new connection number (nonzero, never reused in this session). The
  // server's refusal comes back as its MAPI error (ScodeOf): an empty or
  // unknown mask MAPI_E_INVALID_PARAMETER, an unknown target
  // MAPI_E_NOT_FOUND, and so on. While the session is kReconnecting, waits
  // for kConnected first. Unavailable when the session is kLost or the
  // stream broke before the server answered (then the connection does not
  // exist: advise again); DeadlineExceeded when the session was not
  // connected and answered within advise_timeout (one budget for both).
  absl::StatusOr<ConnectionId> Advise(const AdviseTarget& target,
                                      ULONG event_mask,
                                      std::shared_ptr<AdviseSink> sink);

  // Ends `connection`. When it returns, no OnNotify for it is running on
  // another thread and none will start; called from inside that sink's own
  // OnNotify it does not deadlock (the running call finishes normally).
  // NotFound for a number this session does not hold. A connection the
  // server ended, or that could not be re-registered after a reconnect, is
  // still held (its sink got the resync signal) until it is unadvised.
  // Never waits for the stream: works in every state.
  absl::Status Unadvise(ConnectionId connection);

  // IMAPISession::OpenMsgStore of the server's store: a typed client that
  // shares this session's connection and identity (the server releases the
  // session's open messages when the session ends). Thread-safe; may be
  // called from a sink. Unavailable when the server cannot be reached.
  absl::StatusOr<std::unique_ptr<MsgStore>> OpenMsgStore();

  // The epoch of the server the stream last opened on (its hello).
  uint64_t epoch() const;
  // The state of the notification stream now (SessionStateSink reports the
  // changes). Thread-safe.
  SessionState state() const;
  SessionStats stats() const;

  class Impl;

 private:
  explicit Session(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mapinotify

#endif  // MAPINOTIFY_SESSION_H_
