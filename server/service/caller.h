// The caller identity that clients send as gRPC metadata on every Store call
// and on the Subscribe stream (see proto/mapinotify/v1/store.proto):
//   mapinotify-session: 32 hex digits, the session's random 128-bit id;
//   mapinotify-thread:  the calling client thread, a nonzero decimal number.
// Stateless; thread-safe.
#ifndef MAPINOTIFY_SERVER_SERVICE_CALLER_H_
#define MAPINOTIFY_SERVER_SERVICE_CALLER_H_

#include <grpcpp/grpcpp.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/service/grpc_status.h"
#include "server/store/store.h"

namespace mapinotify::server {

inline constexpr absl::string_view kSessionMetadataKey = "mapinotify-session";
inline constexpr absl::string_view kThreadMetadataKey = "mapinotify-thread";

// The store's CallContext from `context`'s client metadata. InvalidArgument
// (MAPI_E_INVALID_PARAMETER) when either entry is missing, repeated or
// malformed.
absl::StatusOr<store::CallContext> CallContextFromMetadata(
    const grpc::CallbackServerContext& context);

// The session id alone (what a Subscribe stream carries): empty when the
// client sent none; InvalidArgument (MAPI_E_INVALID_PARAMETER) when it is
// repeated or malformed.
absl::StatusOr<std::string> SessionIdFromMetadata(
    const grpc::CallbackServerContext& context);

// Runs `fn(caller)` for a unary call of the Store or Table service: the
// caller identity first (a missing or malformed one fails the call without
// calling `fn`), then `fn`, then Finish with its status. Never throws,
// never asserts on input.
template <typename Fn>
grpc::ServerUnaryReactor* RunWithCaller(grpc::CallbackServerContext* context,
                                        Fn&& fn) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<store::CallContext> caller = CallContextFromMetadata(*context);
  absl::Status status = caller.ok() ? fn(*caller) : caller.status();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

}  // namespace mapinotify::server

#endif  // MAPINOTIFY_SERVER_SERVICE_CALLER_H_
