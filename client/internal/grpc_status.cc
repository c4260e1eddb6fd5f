#include "client/internal/grpc_status.h"

#include <string>

#include "mapinotify/status.h"
#include "mapinotify/v1/mapi.pb.h"

namespace mapinotify::internal {

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  absl::Status s(static_cast<absl::StatusCode>(status.error_code()),
                 status.error_message());
  v1::MapiError details;
  if (!status.error_details().empty() &&
      details.ParseFromString(status.error_details()) && details.scode() < 0) {
    s.SetPayload(kScodePayloadUrl, absl::Cord(std::to_string(details.scode())));
  }
  return s;
}

}  // namespace mapinotify::internal
