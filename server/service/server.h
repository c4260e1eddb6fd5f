// Server: mapinotifyd's gRPC server — the hub, the built-in message store,
// the Notifications, Store and Table services, grpc.health.v1.Health and server
// reflection — startable in-process (tests, benchmarks) or from mapinotifyd's
// main.
#ifndef MAPINOTIFY_SERVER_SERVICE_SERVER_H_
#define MAPINOTIFY_SERVER_SERVICE_SERVER_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/hub/hub.h"
#include "server/hub/progress_marker.h"
#include "server/hub/target_key.h"
#include "server/service/notifications_service.h"
#include "server/service/store_service.h"
#include "server/service/table_service.h"
#include "server/store/store.h"

namespace grpc {
class Server;
}  // namespace grpc

namespace mapinotify::server {

struct ServerOptions {
  // host:port to listen on; port 0 picks a free port (see Server::port()).
  std::string address = "127.0.0.1:50051";
  // The hub. Leave `hub.validator` empty for the default: the store key is
  // always valid, an entry key is valid when the store has that folder or
  // message (store::Store::Exists: NotFound for an unknown one,
  // InvalidArgument for an id that is not the store's), and a table key
  // when the store has that view open (store::Store::TableExists: NotFound
  // for an unknown or closed one). A validator set here replaces it.
  Hub::Options hub;
  // The built-in store; `store.hub` is set by the server.
  store::Store::Options store;
  // The Notifications service. `store_entry_id` is set by the server to the
  // store's entry id; `on_session_end` is chained after the server's own
  // (which releases the session's open store handles).
  NotificationsService::Options notifications;
  // Store.RunOperation's long operations: worker threads and the most
  // running or queued at once.
  OperationRunner::Options operations;
  // How often streams get a progress mark (Hub::SendProgressMarks) when the
  // server's sequence moved on since their last one, so that quiet
  // connections' resume points stay inside the retention log. Infinite: no
  // periodic marks (the final mark of a shutdown is still sent).
  absl::Duration progress_mark_interval = absl::Seconds(1);
  // Largest gRPC message accepted or sent (DESIGN.md section 3: 1 MiB).
  size_t max_message_bytes = 1 << 20;

  // Keepalive: how the server notices a dead client or a half-open
  // connection (DESIGN.md section 4). The server sends an HTTP/2 PING on a
  // connection once it has been quiet for `keepalive_time` and closes the
  // connection when the ack has not come within `keepalive_timeout`; its
  // streams then end and each session's state (hub stream, open store
  // handles) is released. Defaults 30 s / 10 s: a dead client holds its
  // server state for at most ~40 s, and a healthy idle connection costs a
  // PING and its ack (17 bytes each) per 30 s. An infinite keepalive_time turns
  // the pings off. (gRPC's own defaults are 2 h / 20 s on a server.)
  absl::Duration keepalive_time = absl::Seconds(30);
  absl::Duration keepalive_timeout = absl::Seconds(10);
  // The ping policy for clients' keepalive pings (gRPC's
  // GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS and
  // GRPC_ARG_HTTP2_MAX_PING_STRIKES). A ping that arrives sooner than
  // `min_client_ping_interval` after the previous one, with no data sent by
  // the server in between, is a strike; past `max_ping_strikes` strikes the
  // server closes the connection with GOAWAY ENHANCE_YOUR_CALM
  // "too_many_pings". Pings are accepted on connections with no call too
  // (a session's connection between streams). The default 10 s accepts the
  // client's default SessionOptions::keepalive_time (30 s) with a 3x margin
  // and lets a client go down to 10 s; gRPC's defaults (5 min, 2) would
  // reject a 30 s client. 0 strikes means any number is tolerated.
  absl::Duration min_client_ping_interval = absl::Seconds(10);
  int max_ping_strikes = 2;
};

// A running server. Thread-safe. Destroying it shuts it down.
class Server {
 public:
  // Builds and starts the server. Unavailable when the address cannot be
  // bound; InvalidArgument for a malformed address.
  static absl::StatusOr<std::unique_ptr<Server>> Start(ServerOptions options);
  ~Server();

  // The bound port.
  int port() const { return port_; }
  // "127.0.0.1:<port>" style address clients can dial.
  std::string target() const;
  // The hub: publish notifications here. Outlives every stream.
  Hub* hub() const { return hub_.get(); }
  // The built-in store the Store service serves (tests drive it directly).
  // Outlives every call.
  store::Store* store() const { return store_.get(); }

  // Graceful shutdown: health goes NOT_SERVING, every stream writes what it
  // has queued and a final progress mark and ends with UNAVAILABLE, and
  // in-flight calls get until `deadline` before they are cancelled (so a
  // stalled client cannot hang the shutdown). Idempotent.
  void Shutdown(absl::Time deadline);
  // Blocks until Shutdown has completed.
  void Wait();

 private:
  Server() = default;

  // The default TargetValidator (see ServerOptions::hub). Called by the hub
  // from any thread; store_ is set before the server starts serving and
  // constant afterwards.
  absl::Status ValidateTarget(const TargetKey& key) const;

  // Declaration order is destruction order in reverse: the gRPC server goes
  // first (every call done), then the services, the store, the hub.
  std::unique_ptr<Hub> hub_;
  std::unique_ptr<ProgressMarker> marker_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<NotificationsService> notifications_;
  std::unique_ptr<StoreService> store_service_;
  std::unique_ptr<TableService> table_service_;
  std::unique_ptr<grpc::Server> server_;
  std::string host_;
  int port_ = 0;
};

}  // namespace mapinotify::server

#endif  // MAPINOTIFY_SERVER_SERVICE_SERVER_H_
