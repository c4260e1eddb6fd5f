#include "server/service/table_service.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/internal/proto_convert.h"
#include "common/internal/status_macros.h"
#include "mapinotify/mapi.h"
#include "mapinotify/status.h"
#include "mapinotify/table_types.h"
#include "server/service/caller.h"
#include "server/service/grpc_status.h"
#include "server/service/request_checks.h"

namespace mapinotify::server {
namespace {

// Parses the bytes of a request that carries a restriction: its nesting is
// measured first (CheckRestrictionNesting), so that a restriction too deep
// for protobuf's parser is MAPI_E_TOO_COMPLEX rather than an unexplained
// parse failure.
template <typename Request>
absl::Status ParseRestrictionCarrier(const grpc::ByteBuffer* bytes,
                                     Request* request) {
  std::vector<grpc::Slice> slices;
  if (bytes == nullptr || !bytes->Dump(&slices).ok()) {
    return MapiError(MAPI_E_INVALID_PARAMETER, "unreadable request");
  }
  std::string flat;
  for (const grpc::Slice& slice : slices) {
    flat.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  MAPINOTIFY_RETURN_IF_ERROR(
      internal::CheckRestrictionNesting(flat, Request::descriptor()));
  if (!request->ParseFromString(flat)) {
    return MapiError(MAPI_E_INVALID_PARAMETER,
                     absl::StrCat("malformed ", Request::descriptor()->name()));
  }
  return absl::OkStatus();
}

// Runs `fn(caller, request, response)` for a raw call whose request carries
// a restriction, then serializes `response` into `response_bytes`.
template <typename Request, typename Response, typename Fn>
grpc::ServerUnaryReactor* RunRaw(grpc::CallbackServerContext* context,
                                 const grpc::ByteBuffer* request_bytes,
                                 grpc::ByteBuffer* response_bytes, Fn&& fn) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<store::CallContext> caller = CallContextFromMetadata(*context);
  absl::Status status = caller.status();
  Request request;
  Response response;
  if (status.ok()) status = ParseRestrictionCarrier(request_bytes, &request);
  if (status.ok()) status = fn(*caller, request, &response);
  if (status.ok()) {
    bool own_buffer = false;
    grpc::Status serialized = grpc::SerializationTraits<Response>::Serialize(
        response, response_bytes, &own_buffer);
    if (!serialized.ok()) {
      status = MapiError(MAPI_E_CALL_FAILED,
                         absl::StrCat("cannot serialize the answer: ",
                                      serialized.error_message()));
    }
  }
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

// A restriction from the wire: its limits and shape (proto_convert.h; the
// errors say "restriction: ...").
absl::StatusOr<Restriction> RestrictionFrom(const v1::Restriction& wire) {
  return internal::FromProto(wire);
}

template <typename Repeated>
absl::Status RowsTo(const std::vector<Row>& rows, Repeated* out) {
  out->Reserve(static_cast<int>(rows.size()));
  for (const Row& row : rows) {
    // A row the store made is well-formed; a failure here is a server bug,
    // reported as such rather than sent half-converted.
    absl::Status converted = internal::ToProto(row, out->Add());
    if (!converted.ok()) {
      return MapiError(MAPI_E_CALL_FAILED, absl::StrCat("cannot send a row: ",
                                                        converted.message()));
    }
  }
  return absl::OkStatus();
}

// MAPI_E_TABLE_TOO_BIG when `response` would exceed the server's largest
// message (gRPC would otherwise fail the call with no MAPI error).
absl::Status CheckFits(const google::protobuf::Message& response,
                       size_t max_message_bytes) {
  const size_t size = response.ByteSizeLong();
  if (size > max_message_bytes) {
    return MapiError(MAPI_E_TABLE_TOO_BIG,
                     absl::StrCat("the answer's ", size, " bytes exceed the ",
                                  max_message_bytes, "-byte message limit"));
  }
  return absl::OkStatus();
}

}  // namespace

TableService::TableService(store::Store* store, size_t max_message_bytes)
    : store_(store), max_message_bytes_(max_message_bytes) {}

TableService::~TableService() = default;

size_t TableService::AnswerBudget() const {
  return max_message_bytes_ > 2 * kAllRowsHeadroomBytes
             ? max_message_bytes_ - kAllRowsHeadroomBytes
             : max_message_bytes_ / 2;
}

grpc::ServerUnaryReactor* TableService::SetColumns(
    grpc::CallbackServerContext* context, const v1::SetColumnsRequest* request,
    v1::SetColumnsResponse* /*response*/) {
  return RunWithCaller(
      context, [&](const store::CallContext& caller) -> absl::Status {
        std::vector<ULONG> columns;
        MAPINOTIFY_ASSIGN_OR_RETURN(
            columns,
            TagsFrom(request->columns(), TableService::kMaxColumns, "columns"));
        return store_->SetColumns(caller, request->view_id(), columns,
                                  request->flags());
      });
}

grpc::ServerUnaryReactor* TableService::QueryColumns(
    grpc::CallbackServerContext* context,
    const v1::QueryColumnsRequest* request,
    v1::QueryColumnsResponse* response) {
  return RunWithCaller(
      context, [&](const store::CallContext& caller) -> absl::Status {
        std::vector<ULONG> columns;
        MAPINOTIFY_ASSIGN_OR_RETURN(
            columns,
            store_->QueryColumns(caller, request->view_id(), request->flags()));
        response->mutable_columns()->Add(columns.begin(), columns.end());
        return CheckFits(*response, max_message_bytes_);
      });
}

grpc::ServerUnaryReactor* TableService::GetRowCount(
    grpc::CallbackServerContext* context, const v1::GetRowCountRequest* request,
    v1::GetRowCountResponse* response) {
  return RunWithCaller(
      context, [&](const store::CallContext& caller) -> absl::Status {
        ULONG count = 0;
        MAPINOTIFY_ASSIGN_OR_RETURN(
            count,
            store_->GetRowCount(caller, request->view_id(), request->flags()));
        response->set_row_count(count);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* TableService::QueryRows(
    grpc::CallbackServerContext* context, const v1::QueryRowsRequest* request,
    v1::QueryRowsResponse* response) {
  return RunWithCaller(
      context, [&](const store::CallContext& caller) -> absl::Status {
        // The store budgets the answer with an upper bound of its wire size
        // (store::RowByteSize), within the message limit less headroom;
        // CheckFits still refuses the rare answer that one huge row makes too
        // big.
        const LONG count = request->row_count();
        std::vector<Row> rows;
        MAPINOTIFY_ASSIGN_OR_RETURN(
            rows, store_->QueryRows(caller, request->view_id(), count,
                                    request->flags(), AnswerBudget()));
        MAPINOTIFY_RETURN_IF_ERROR(RowsTo(rows, response->mutable_rows()));
        return CheckFits(*response, max_message_bytes_);
      });
}

grpc::ServerUnaryReactor* TableService::SeekRow(
    grpc::CallbackServerContext* context, const v1::SeekRowRequest* request,
    v1::SeekRowResponse* response) {
  return RunWithCaller(
      context, [&](const store::CallContext& caller) -> absl::Status {
        SCODE warning = S_OK;
        LONG sought = 0;
        MAPINOTIFY_ASSIGN_OR_RETURN(
            sought,
            store_->SeekRow(caller, request->view_id(), request->origin(),
                            request->row_count(), &warning));
        response->set_rows_sought(sought);
        response->set_warning(warning);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* TableService::QueryPosition(
    grpc::CallbackServerContext* context,
    const v1::QueryPositionRequest* request,
    v1::QueryPositionResponse* response) {
  return RunWithCaller(
      context, [&](const store::CallContext& caller) -> absl::Status {
        TablePosition position;
        MAPINOTIFY_ASSIGN_OR_RETURN(
            position, store_->QueryPosition(caller, request->view_id()));
        response->set_row(position.row);
        response->set_numerator(position.numerator);
        response->set_denominator(position.denominator);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* TableService::CreateBookmark(
    grpc::CallbackServerContext* context,
    const v1::CreateBookmarkRequest* request,
    v1::CreateBookmarkResponse* response) {
  return RunWithCaller(
      context, [&](const store::CallContext& caller) -> absl::Status {
        BOOKMARK bookmark = 0;
        MAPINOTIFY_ASSIGN_OR_RETURN(
            bookmark, store_->CreateBookmark(caller, request->view_id()));
        response->set_bookmark(bookmark);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* TableService::FreeBookmark(
    grpc::CallbackServerContext* context,
    const v1::FreeBookmarkRequest* request,
    v1::FreeBookmarkResponse* /*response*/) {
  return RunWithCaller(context, [&](const store::CallContext& caller) {
    return store_->FreeBookmark(caller, request->view_id(),
                                request->bookmark());
  });
}

grpc::ServerUnaryReactor* TableService::FindRow(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return RunRaw<v1::FindRowRequest, v1::FindRowResponse>(
      context, request, response,
      [&](const store::CallContext& caller, const v1::FindRowRequest& req,
          v1::FindRowResponse* resp) -> absl::Status {
        if (!req.has_restriction()) {
          return MapiError(MAPI_E_INVALID_PARAMETER,
                           "FindRow needs a restriction");
        }
        Restriction restriction;
        MAPINOTIFY_ASSIGN_OR_RETURN(restriction,
                                    RestrictionFrom(req.restriction()));
        SCODE warning = S_OK;
        MAPINOTIFY_RETURN_IF_ERROR(store_->FindRow(caller, req.view_id(),
                                                   restriction, req.origin(),
                                                   req.flags(), &warning));
        resp->set_warning(warning);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* TableService::Restrict(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return RunRaw<v1::RestrictRequest, v1::RestrictResponse>(
      context, request, response,
      [&](const store::CallContext& caller, const v1::RestrictRequest& req,
          v1::RestrictResponse* /*resp*/) -> absl::Status {
        std::optional<Restriction> restriction;
        if (req.has_restriction()) {
          MAPINOTIFY_ASSIGN_OR_RETURN(restriction,
                                      RestrictionFrom(req.restriction()));
        }
        return store_->Restrict(caller, req.view_id(), restriction,
                                req.flags());
      });
}

grpc::ServerUnaryReactor* TableService::SortTable(
    grpc::CallbackServerContext* context, const v1::SortTableRequest* request,
    v1::SortTableResponse* /*response*/) {
  return RunWithCaller(
      context, [&](const store::CallContext& caller) -> absl::Status {
        MAPINOTIFY_RETURN_IF_ERROR(
            CheckCount(static_cast<size_t>(request->sort_keys_size()),
                       kMaxSortKeys, "sort_keys"));
        SortOrderSet sort;
        sort.reserve(static_cast<size_t>(request->sort_keys_size()));
        for (const v1::SortOrder& key : request->sort_keys()) {
          sort.push_back(internal::FromProto(key));
        }
        return store_->SortTable(caller, request->view_id(), sort,
                                 request->flags());
      });
}

grpc::ServerUnaryReactor* TableService::QuerySortOrder(
    grpc::CallbackServerContext* context,
    const v1::QuerySortOrderRequest* request,
    v1::QuerySortOrderResponse* response) {
  return RunWithCaller(
      context, [&](const store::CallContext& caller) -> absl::Status {
        SortOrderSet sort;
        MAPINOTIFY_ASSIGN_OR_RETURN(
            sort, store_->QuerySortOrder(caller, request->view_id()));
        for (const SortOrder& key : sort) {
          internal::ToProto(key, response->add_sort_keys());
        }
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* TableService::QueryAllRows(
    grpc::CallbackServerContext* context,
    const v1::QueryAllRowsRequest* request,
    v1::QueryAllRowsResponse* response) {
  return RunWithCaller(
      context, [&](const store::CallContext& caller) -> absl::Status {
        const size_t max_rows = request->max_rows() == 0
                                    ? std::numeric_limits<size_t>::max()
                                    : request->max_rows();
        const size_t max_bytes = AnswerBudget();
        store::Store::TableSnapshot snapshot;
        MAPINOTIFY_ASSIGN_OR_RETURN(
            snapshot, store_->QueryAllRows(caller, request->view_id(), max_rows,
                                           max_bytes));
        response->mutable_columns()->Add(snapshot.columns.begin(),
                                         snapshot.columns.end());
        MAPINOTIFY_RETURN_IF_ERROR(
            RowsTo(snapshot.rows, response->mutable_rows()));
        response->set_sequence(snapshot.sequence);
        // The store counts value bytes; the framing of many small values can
        // still push the message past the limit.
        return CheckFits(*response, max_message_bytes_);
      });
}

grpc::ServerUnaryReactor* TableService::CloseTable(
    grpc::CallbackServerContext* context, const v1::CloseTableRequest* request,
    v1::CloseTableResponse* /*response*/) {
  return RunWithCaller(context, [&](const store::CallContext& caller) {
    return store_->CloseTable(caller, request->view_id());
  });
}

}  // namespace mapinotify::server
