// grpc::Status -> absl::Status on the client. The codes are numerically the
// same; the MAPI SCODE travels in error_details as a serialized
// mapinotify.v1.MapiError (server/service/grpc_status.h). Internal;
// stateless; thread-safe.
#ifndef MAPINOTIFY_CLIENT_INTERNAL_GRPC_STATUS_H_
#define MAPINOTIFY_CLIENT_INTERNAL_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace mapinotify::internal {

// `status` as an absl::Status, with the SCODE from error_details attached
// (mapinotify::ScodeOf reads it) when present.
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace mapinotify::internal

#endif  // MAPINOTIFY_CLIENT_INTERNAL_GRPC_STATUS_H_
