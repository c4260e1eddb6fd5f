#include "server/service/grpc_status.h"

#include <string>

#include "mapinotify/status.h"
#include "mapinotify/v1/mapi.pb.h"

namespace mapinotify::server {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  v1::MapiError details;
  details.set_scode(ScodeOf(status));
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()),
                      details.SerializeAsString());
}

}  // namespace mapinotify::server
