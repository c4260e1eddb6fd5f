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
  // Largest gRPC message accepted or sent (DESIGN.md section 3: 1 MiB).
  size_t max_message_bytes = 1 << 20;
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

  // Graceful shutdown: health goes NOT_SERVING, every stream is ended with
  // UNAVAILABLE, and in-flight calls get until `deadline` before they are
  // cancelled (so a stalled client cannot hang the shutdown). Idempotent.
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
