// absl::Status <-> grpc::Status. The codes are numerically the same; the MAPI
// SCODE travels in error_details as a serialized mapinotify.v1.MapiError.
#ifndef MAPINOTIFY_SERVER_SERVICE_GRPC_STATUS_H_
#define MAPINOTIFY_SERVER_SERVICE_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace mapinotify::server {

// The wire form of `status`, with its SCODE (mapinotify::ScodeOf) attached.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace mapinotify::server

#endif  // MAPINOTIFY_SERVER_SERVICE_GRPC_STATUS_H_
