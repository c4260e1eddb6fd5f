// Server: mapinotifyd's gRPC server — the hub, the Notifications service,
// grpc.health.v1.Health and server reflection — startable in-process (tests,
// benchmarks) or from mapinotifyd's main.
#ifndef MAPINOTIFY_SERVER_SERVICE_SERVER_H_
#define MAPINOTIFY_SERVER_SERVICE_SERVER_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/hub/hub.h"
#include "server/service/notifications_service.h"

namespace grpc {
class Server;
}  // namespace grpc

namespace mapinotify::server {

struct ServerOptions {
  // host:port to listen on; port 0 picks a free port (see Server::port()).
  std::string address = "127.0.0.1:50051";
  Hub::Options hub;
  NotificationsService::Options notifications;
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

  // Graceful shutdown: health goes NOT_SERVING, every stream is ended with
  // UNAVAILABLE, and in-flight calls get until `deadline` before they are
  // cancelled (so a stalled client cannot hang the shutdown). Idempotent.
  void Shutdown(absl::Time deadline);
  // Blocks until Shutdown has completed.
  void Wait();

 private:
  Server() = default;

  std::unique_ptr<Hub> hub_;
  std::unique_ptr<NotificationsService> notifications_;
  std::unique_ptr<grpc::Server> server_;
  std::string host_;
  int port_ = 0;
};

}  // namespace mapinotify::server

#endif  // MAPINOTIFY_SERVER_SERVICE_SERVER_H_
