// The gRPC Table service (proto/mapinotify/v1/table.proto): maps each unary
// RPC onto the table calls of server::store::Store for the calling session
// (the caller metadata of server/service/caller.h), validating every request
// field the store cannot judge first.
#ifndef MAPINOTIFY_SERVER_SERVICE_TABLE_SERVICE_H_
#define MAPINOTIFY_SERVER_SERVICE_TABLE_SERVICE_H_

#include <cstddef>

#include "mapinotify/v1/table.grpc.pb.h"
#include "server/store/store.h"

namespace mapinotify::server {

// The two RPCs that carry a restriction take their request as bytes (raw
// callback methods): protobuf's parser refuses a message nested more than
// 100 levels deep with an INTERNAL status and no useful text, so these
// first measure the restriction's depth on the bytes, without recursion,
// and answer MAPI_E_TOO_COMPLEX beyond kMaxRestrictionDepth.
using TableServiceBase = v1::Table::WithRawCallbackMethod_FindRow<
    v1::Table::WithRawCallbackMethod_Restrict<v1::Table::CallbackService>>;

// Thread-safe (the store is; the service holds no state of its own). Each
// call runs inline on the gRPC thread that received it and finishes with
// the store's status, its SCODE in error_details. Refused before the store
// sees them, with the SCODE table.proto documents: missing or malformed
// caller metadata, an oversized tag or sort key list, a restriction that is
// too deep, too large or malformed on the wire, a missing FindRow
// restriction, and an answer that would not fit in one gRPC message. Flags
// are passed through: each store call rejects the bits it does not define.
class TableService final : public TableServiceBase {
 public:
  // Request limits (see table.proto).
  static constexpr size_t kMaxColumns = 4096;
  static constexpr size_t kMaxSortKeys = 4096;
  // QueryRows and QueryAllRows ask the store for answers of at most
  // max_message_bytes minus this much (by store::RowByteSize, an upper
  // bound of the rows' wire size), leaving room for the message's own
  // framing.
  static constexpr size_t kAllRowsHeadroomBytes = 64 * 1024;
  // `store` must outlive the service. `max_message_bytes` is the server's
  // largest gRPC message (ServerOptions::max_message_bytes): no answer is
  // larger.
  TableService(store::Store* store, size_t max_message_bytes);
  ~TableService() override;
  TableService(const TableService&) = delete;
  TableService& operator=(const TableService&) = delete;

  grpc::ServerUnaryReactor* SetColumns(
      grpc::CallbackServerContext* context,
      const v1::SetColumnsRequest* request,
      v1::SetColumnsResponse* response) override;
  grpc::ServerUnaryReactor* QueryColumns(
      grpc::CallbackServerContext* context,
      const v1::QueryColumnsRequest* request,
      v1::QueryColumnsResponse* response) override;
  grpc::ServerUnaryReactor* GetRowCount(
      grpc::CallbackServerContext* context,
      const v1::GetRowCountRequest* request,
      v1::GetRowCountResponse* response) override;
  grpc::ServerUnaryReactor* QueryRows(grpc::CallbackServerContext* context,
                                      const v1::QueryRowsRequest* request,
                                      v1::QueryRowsResponse* response) override;
  grpc::ServerUnaryReactor* SeekRow(grpc::CallbackServerContext* context,
                                    const v1::SeekRowRequest* request,
                                    v1::SeekRowResponse* response) override;
  grpc::ServerUnaryReactor* QueryPosition(
      grpc::CallbackServerContext* context,
      const v1::QueryPositionRequest* request,
      v1::QueryPositionResponse* response) override;
  grpc::ServerUnaryReactor* CreateBookmark(
      grpc::CallbackServerContext* context,
      const v1::CreateBookmarkRequest* request,
      v1::CreateBookmarkResponse* response) override;
  grpc::ServerUnaryReactor* FreeBookmark(
      grpc::CallbackServerContext* context,
      const v1::FreeBookmarkRequest* request,
      v1::FreeBookmarkResponse* response) override;
  // Raw: the bytes of a v1::FindRowRequest, answered with a
  // v1::FindRowResponse.
  grpc::ServerUnaryReactor* FindRow(grpc::CallbackServerContext* context,
                                    const grpc::ByteBuffer* request,
                                    grpc::ByteBuffer* response) override;
  // Raw: the bytes of a v1::RestrictRequest, answered with a
  // v1::RestrictResponse.
  grpc::ServerUnaryReactor* Restrict(grpc::CallbackServerContext* context,
                                     const grpc::ByteBuffer* request,
                                     grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* SortTable(grpc::CallbackServerContext* context,
                                      const v1::SortTableRequest* request,
                                      v1::SortTableResponse* response) override;
  grpc::ServerUnaryReactor* QuerySortOrder(
      grpc::CallbackServerContext* context,
      const v1::QuerySortOrderRequest* request,
      v1::QuerySortOrderResponse* response) override;
  grpc::ServerUnaryReactor* QueryAllRows(
      grpc::CallbackServerContext* context,
      const v1::QueryAllRowsRequest* request,
      v1::QueryAllRowsResponse* response) override;
  grpc::ServerUnaryReactor* CloseTable(
      grpc::CallbackServerContext* context,
      const v1::CloseTableRequest* request,
      v1::CloseTableResponse* response) override;

 private:
  // The byte budget of a QueryRows / QueryAllRows answer's rows.
  size_t AnswerBudget() const;
  // Constant after construction.
  store::Store* const store_;
  const size_t max_message_bytes_;
};

}  // namespace mapinotify::server

#endif  // MAPINOTIFY_SERVER_SERVICE_TABLE_SERVICE_H_
