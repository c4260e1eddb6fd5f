// The gRPC Notifications service: one callback-API bidi stream per client
// session, bridging the stream to a Hub outbox.
#ifndef MAPINOTIFY_SERVER_SERVICE_NOTIFICATIONS_SERVICE_H_
#define MAPINOTIFY_SERVER_SERVICE_NOTIFICATIONS_SERVICE_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "mapinotify/v1/notifications.grpc.pb.h"
#include "server/hub/hub.h"
#include "server/hub/target_key.h"

namespace mapinotify::server {

// Thread-safe. Owns no stream: each Subscribe call gets a reactor that lives
// until gRPC calls its OnDone.
class NotificationsService final : public v1::Notifications::CallbackService {
 public:
  struct Options {
    // The default store's entry id. A StoreTarget naming another non-empty id
    // is NotFound.
    std::string store_entry_id;
    // The stream stops reading requests while this many answers wait to be
    // written (flow control for a client that sends but does not read).
    size_t max_pending_answers = 1024;
    // Called when the last open Subscribe stream of a client session (the
    // `mapinotify-session` metadata of the call, see caller.h) has ended, on
    // the gRPC thread that ran the stream's OnDone, with no lock held; the
    // server releases the session's open store handles there. Streams
    // without the metadata belong to no session and never trigger it. May
    // be empty.
    std::function<void(const std::string& session)> on_session_end;
    // How long a session's state outlives its last stream when that stream
    // broke (a cut, a dead peer, a server-side end) rather than ended with
    // the client's goodbye: a session that reconnects within it finds its
    // open messages and table views intact. on_session_end runs when it
    // expires (on the service's reaper thread). Zero: at once.
    absl::Duration session_grace = absl::Seconds(30);
  };

  // `hub` must outlive the service.
  NotificationsService(Hub* hub, Options options);
  ~NotificationsService() override;

  // Ends every open stream with `status` (UNAVAILABLE for a shutdown), after
  // the hub is sealed (Hub::Seal): each stream first writes what it has
  // queued and its final progress mark, then ends. Streams opened afterwards
  // are refused with the same status. Returns at once; a stream whose client
  // does not read ends when the gRPC server's shutdown deadline cancels it.
  void Shutdown(const absl::Status& status) ABSL_LOCKS_EXCLUDED(mu_);

  // Number of streams open now.
  size_t open_streams() const ABSL_LOCKS_EXCLUDED(mu_);

  // Opens a stream. A call whose `mapinotify-session` metadata is present
  // but malformed is refused with INVALID_ARGUMENT
  // (MAPI_E_INVALID_PARAMETER); one without it is served and belongs to no
  // session.
  grpc::ServerBidiReactor<v1::SubscribeRequest, v1::SubscribeResponse>*
  Subscribe(grpc::CallbackServerContext* context) override;

  // Maps a wire target to the hub's key, checking its form: InvalidArgument
  // for a target with no kind or an empty / oversized entry id, NotFound for
  // a store other than this server's. Whether an entry or view exists is the
  // hub's validator's call (Hub::Options::validator).
  absl::StatusOr<TargetKey> ResolveTarget(const v1::Target& target) const;

  class Reactor;  // One Subscribe stream; defined in the .cc.
  class Handle;   // Keeps a reactor reachable until its OnDone.

 private:
  void Register(std::shared_ptr<Handle> handle) ABSL_LOCKS_EXCLUDED(mu_);
  void Unregister(const Handle* handle) ABSL_LOCKS_EXCLUDED(mu_);
  // Counts the open streams of `session` (non-empty); the last one to end
  // calls options_.on_session_end, at once when `goodbye` (the client ended
  // its session) or the grace is zero, else after options_.session_grace
  // unless a stream of the session opens meanwhile.
  void SessionStreamOpened(const std::string& session) ABSL_LOCKS_EXCLUDED(mu_);
  void SessionStreamEnded(const std::string& session, bool goodbye)
      ABSL_LOCKS_EXCLUDED(mu_);
  // The reaper thread: ends sessions whose grace expired.
  void ReapSessions() ABSL_LOCKS_EXCLUDED(mu_);

  // Constant after construction.
  Hub* const hub_;
  const Options options_;

  mutable absl::Mutex mu_;
  absl::flat_hash_map<const Handle*, std::shared_ptr<Handle>> streams_
      ABSL_GUARDED_BY(mu_);
  // Open streams per client session id.
  absl::flat_hash_map<std::string, size_t> session_streams_
      ABSL_GUARDED_BY(mu_);
  // Sessions with no open stream whose state is kept until the deadline.
  absl::flat_hash_map<std::string, absl::Time> in_grace_ ABSL_GUARDED_BY(mu_);
  bool stop_reaper_ ABSL_GUARDED_BY(mu_) = false;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status shutdown_status_ ABSL_GUARDED_BY(mu_);
  std::thread reaper_;  // Runs ReapSessions when session_grace > 0.
};

}  // namespace mapinotify::server

#endif  // MAPINOTIFY_SERVER_SERVICE_NOTIFICATIONS_SERVICE_H_
