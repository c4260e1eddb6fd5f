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
  // MAPI_MULTITHREAD_NOTIFICATIONS: on one thread the library owns.
  kNotificationThread,
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
  // How long Advise waits for the server's answer.
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
  // stream then ends and every sink gets the resync signal. Defaults 30 s /
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
};

// A session. Thread-safe: Advise and Unadvise may be called from any thread,
// including from inside a sink's OnNotify. Destroying the session unadvises
// every connection (with Unadvise's guarantee) and closes the stream; it must
// not be destroyed from inside one of its own sinks.
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
  // MAPI_E_NOT_FOUND, and so on. Unavailable when the stream is down,
  // DeadlineExceeded when the server does not answer in advise_timeout.
  absl::StatusOr<ConnectionId> Advise(const AdviseTarget& target,
                                      ULONG event_mask,
                                      std::shared_ptr<AdviseSink> sink);

  // Ends `connection`. When it returns, no OnNotify for it is running on
  // another thread and none will start; called from inside that sink's own
  // OnNotify it does not deadlock (the running call finishes normally).
  // NotFound for a number this session does not hold.
  absl::Status Unadvise(ConnectionId connection);

  // IMAPISession::OpenMsgStore of the server's store: a typed client that
  // shares this session's connection and identity (the server releases the
  // session's open messages when the session ends). Thread-safe; may be
  // called from a sink. Unavailable when the server cannot be reached.
  absl::StatusOr<std::unique_ptr<MsgStore>> OpenMsgStore();

  // The server's epoch and the highest sequence delivered to a sink so far.
  uint64_t epoch() const;
  SessionStats stats() const;

  class Impl;

 private:
  explicit Session(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mapinotify

#endif  // MAPINOTIFY_SESSION_H_
