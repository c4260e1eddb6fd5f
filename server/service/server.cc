#include "server/service/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include <algorithm>
#include <functional>
#include <string>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/internal/millis_arg.h"

namespace mapinotify::server {

absl::StatusOr<std::unique_ptr<Server>> Server::Start(ServerOptions options) {
  const size_t colon = options.address.rfind(':');
  int requested_port = 0;
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(options.address.substr(colon + 1), &requested_port) ||
      requested_port < 0 || requested_port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("address '", options.address, "' is not host:port"));
  }
  // Process-wide gRPC switches; idempotent.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  std::unique_ptr<Server> server(new Server());
  server->host_ = options.address.substr(0, colon);
  Server* self = server.get();
  if (!options.hub.validator) {
    // The store does not exist yet (it publishes into the hub): the
    // validator reaches it through the server, which sets store_ below,
    // before anything is served.
    options.hub.validator = [self](const TargetKey& key) {
      return self->ValidateTarget(key);
    };
  }
  server->hub_ = std::make_unique<Hub>(options.hub);
  server->marker_ = std::make_unique<ProgressMarker>(
      server->hub_.get(), options.progress_mark_interval);
  options.store.hub = server->hub_.get();
  server->store_ = std::make_unique<store::Store>(std::move(options.store));

  store::Store* store = server->store_.get();
  options.notifications.store_entry_id = store->store_entry_id();
  std::function<void(const std::string&)> also =
      std::move(options.notifications.on_session_end);
  options.notifications.on_session_end =
      [store, also = std::move(also)](const std::string& session) {
        // The session's stream is gone: its open messages would leak.
        store->ReleaseSession(session);
        if (also) also(session);
      };
  server->notifications_ = std::make_unique<NotificationsService>(
      server->hub_.get(), std::move(options.notifications));
  server->store_service_ =
      std::make_unique<StoreService>(store, options.operations);
  server->table_service_ =
      std::make_unique<TableService>(store, options.max_message_bytes);

  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(options.address, grpc::InsecureServerCredentials(),
                           &port);
  builder.RegisterService(server->notifications_.get());
  builder.RegisterService(server->store_service_.get());
  builder.RegisterService(server->table_service_.get());
  builder.SetMaxReceiveMessageSize(static_cast<int>(options.max_message_bytes));
  builder.SetMaxSendMessageSize(static_cast<int>(options.max_message_bytes));
  // Detect dead peers (DESIGN.md section 4): ping quiet connections, and
  // accept clients' pings at the configured rate (see ServerOptions).
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS,
                             internal::ToMillisArg(options.keepalive_time));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
                             internal::ToMillisArg(options.keepalive_timeout));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  // gRPC stops sending pings after this many with no DATA or HEADERS frame
  // sent in between (default 2), which would silence the keepalive of an
  // idle stream after two pings. 0 lifts the limit for this side's own
  // pings (gRPC may not apply it to servers at all; then this is a no-op).
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  builder.AddChannelArgument(
      GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
      internal::ToMillisArg(options.min_client_ping_interval));
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES,
                             std::max(0, options.max_ping_strikes));
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || port == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.address));
  }
  server->port_ = port;
  server->server_->GetHealthCheckService()->SetServingStatus(true);
  return server;
}

Server::~Server() {
  Shutdown(absl::Now() + absl::Seconds(5));
  Wait();
}

absl::Status Server::ValidateTarget(const TargetKey& key) const {
  if (GetTargetKind(key) == TargetKind::kEntry && store_ != nullptr &&
      !TargetEntryId(key).empty()) {
    return store_->Exists(EntryId(TargetEntryId(key)));
  }
  if (GetTargetKind(key) == TargetKind::kTable && store_ != nullptr) {
    return store_->TableExists(TargetTableView(key));
  }
  // The store key, malformed keys.
  return DefaultTargetValidator(key);
}

std::string Server::target() const {
  std::string host = host_;
  if (host.empty() || host == "0.0.0.0" || host == "[::]") host = "127.0.0.1";
  return absl::StrCat(host, ":", port_);
}

void Server::Shutdown(absl::Time deadline) {
  if (server_ == nullptr) return;  // Start failed before the server ran.
  // Order matters: health first (load balancers stop sending), then end the
  // streams with a status, then let gRPC drain until the deadline.
  server_->GetHealthCheckService()->SetServingStatus(false);
  notifications_->Shutdown(
      absl::UnavailableError("mapinotifyd is shutting down"));
  server_->Shutdown(absl::ToChronoTime(deadline));
}

void Server::Wait() {
  if (server_ != nullptr) server_->Wait();
}

}  // namespace mapinotify::server
