#include "client/internal/table_client.h"

#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "client/internal/store_client.h"
#include "common/internal/proto_convert.h"
#include "common/internal/status_macros.h"
#include "mapinotify/status.h"
#include "mapinotify/v1/table.grpc.pb.h"

namespace mapinotify::internal {
namespace {

// Rows from the server. One this client cannot read is corrupt data, not
// the caller's mistake.
template <typename Repeated>
absl::StatusOr<std::vector<Row>> RowsFromWire(const Repeated& rows) {
  std::vector<Row> out;
  out.reserve(static_cast<size_t>(rows.size()));
  for (const v1::Row& wire : rows) {
    absl::StatusOr<Row> row = FromProto(wire);
    if (!row.ok()) {
      return MapiError(MAPI_E_CORRUPT_DATA,
                       absl::StrCat("unreadable row from the server: ",
                                    row.status().message()));
    }
    out.push_back(*std::move(row));
  }
  return out;
}

}  // namespace

absl::Status TableSetColumns(const StoreClient& client, uint64_t view,
                             const std::vector<ULONG>& columns, ULONG flags) {
  v1::SetColumnsRequest request;
  request.set_view_id(view);
  request.mutable_columns()->Add(columns.begin(), columns.end());
  request.set_flags(flags);
  v1::SetColumnsResponse response;
  return client.Call(&v1::Table::Stub::SetColumns, request, &response);
}

absl::StatusOr<std::vector<ULONG>> TableQueryColumns(const StoreClient& client,
                                                     uint64_t view,
                                                     ULONG flags) {
  v1::QueryColumnsRequest request;
  request.set_view_id(view);
  request.set_flags(flags);
  v1::QueryColumnsResponse response;
  MAPINOTIFY_RETURN_IF_ERROR(
      client.Call(&v1::Table::Stub::QueryColumns, request, &response));
  return std::vector<ULONG>(response.columns().begin(),
                            response.columns().end());
}

absl::StatusOr<ULONG> TableGetRowCount(const StoreClient& client, uint64_t view,
                                       ULONG flags) {
  v1::GetRowCountRequest request;
  request.set_view_id(view);
  request.set_flags(flags);
  v1::GetRowCountResponse response;
  MAPINOTIFY_RETURN_IF_ERROR(
      client.Call(&v1::Table::Stub::GetRowCount, request, &response));
  return response.row_count();
}

absl::StatusOr<std::vector<Row>> TableQueryRows(const StoreClient& client,
                                                uint64_t view, LONG count,
                                                ULONG flags) {
  v1::QueryRowsRequest request;
  request.set_view_id(view);
  request.set_row_count(count);
  request.set_flags(flags);
  v1::QueryRowsResponse response;
  MAPINOTIFY_RETURN_IF_ERROR(
      client.Call(&v1::Table::Stub::QueryRows, request, &response));
  return RowsFromWire(response.rows());
}

absl::StatusOr<LONG> TableSeekRow(const StoreClient& client, uint64_t view,
                                  BOOKMARK origin, LONG count, SCODE* warning) {
  v1::SeekRowRequest request;
  request.set_view_id(view);
  request.set_origin(origin);
  request.set_row_count(count);
  v1::SeekRowResponse response;
  MAPINOTIFY_RETURN_IF_ERROR(
      client.Call(&v1::Table::Stub::SeekRow, request, &response));
  if (warning != nullptr) *warning = response.warning();
  return response.rows_sought();
}

absl::StatusOr<TablePosition> TableQueryPosition(const StoreClient& client,
                                                 uint64_t view) {
  v1::QueryPositionRequest request;
  request.set_view_id(view);
  v1::QueryPositionResponse response;
  MAPINOTIFY_RETURN_IF_ERROR(
      client.Call(&v1::Table::Stub::QueryPosition, request, &response));
  return TablePosition{response.row(), response.numerator(),
                       response.denominator()};
}

absl::StatusOr<BOOKMARK> TableCreateBookmark(const StoreClient& client,
                                             uint64_t view) {
  v1::CreateBookmarkRequest request;
  request.set_view_id(view);
  v1::CreateBookmarkResponse response;
  MAPINOTIFY_RETURN_IF_ERROR(
      client.Call(&v1::Table::Stub::CreateBookmark, request, &response));
  return response.bookmark();
}

absl::Status TableFreeBookmark(const StoreClient& client, uint64_t view,
                               BOOKMARK bookmark) {
  v1::FreeBookmarkRequest request;
  request.set_view_id(view);
  request.set_bookmark(bookmark);
  v1::FreeBookmarkResponse response;
  return client.Call(&v1::Table::Stub::FreeBookmark, request, &response);
}

absl::Status TableFindRow(const StoreClient& client, uint64_t view,
                          const Restriction& restriction, BOOKMARK origin,
                          ULONG flags, SCODE* warning) {
  v1::FindRowRequest request;
  request.set_view_id(view);
  MAPINOTIFY_RETURN_IF_ERROR(
      ToProto(restriction, request.mutable_restriction()));
  request.set_origin(origin);
  request.set_flags(flags);
  v1::FindRowResponse response;
  MAPINOTIFY_RETURN_IF_ERROR(
      client.Call(&v1::Table::Stub::FindRow, request, &response));
  if (warning != nullptr) *warning = response.warning();
  return absl::OkStatus();
}

absl::Status TableRestrict(const StoreClient& client, uint64_t view,
                           const std::optional<Restriction>& restriction,
                           ULONG flags) {
  v1::RestrictRequest request;
  request.set_view_id(view);
  if (restriction.has_value()) {
    MAPINOTIFY_RETURN_IF_ERROR(
        ToProto(*restriction, request.mutable_restriction()));
  }
  request.set_flags(flags);
  v1::RestrictResponse response;
  return client.Call(&v1::Table::Stub::Restrict, request, &response);
}

absl::Status TableSortTable(const StoreClient& client, uint64_t view,
                            const SortOrderSet& sort, ULONG flags) {
  v1::SortTableRequest request;
  request.set_view_id(view);
  for (const SortOrder& key : sort) ToProto(key, request.add_sort_keys());
  request.set_flags(flags);
  v1::SortTableResponse response;
  return client.Call(&v1::Table::Stub::SortTable, request, &response);
}

absl::StatusOr<SortOrderSet> TableQuerySortOrder(const StoreClient& client,
                                                 uint64_t view) {
  v1::QuerySortOrderRequest request;
  request.set_view_id(view);
  v1::QuerySortOrderResponse response;
  MAPINOTIFY_RETURN_IF_ERROR(
      client.Call(&v1::Table::Stub::QuerySortOrder, request, &response));
  SortOrderSet sort;
  sort.reserve(static_cast<size_t>(response.sort_keys_size()));
  for (const v1::SortOrder& key : response.sort_keys()) {
    sort.push_back(FromProto(key));
  }
  return sort;
}

absl::StatusOr<TableSnapshot> TableQueryAllRows(const StoreClient& client,
                                                uint64_t view,
                                                size_t max_rows) {
  v1::QueryAllRowsRequest request;
  request.set_view_id(view);
  request.set_max_rows(max_rows > std::numeric_limits<uint32_t>::max()
                           ? 0
                           : static_cast<uint32_t>(max_rows));
  v1::QueryAllRowsResponse response;
  MAPINOTIFY_RETURN_IF_ERROR(
      client.Call(&v1::Table::Stub::QueryAllRows, request, &response));
  TableSnapshot snapshot;
  snapshot.columns.assign(response.columns().begin(), response.columns().end());
  MAPINOTIFY_ASSIGN_OR_RETURN(snapshot.rows, RowsFromWire(response.rows()));
  snapshot.sequence = response.sequence();
  return snapshot;
}

absl::Status TableClose(const StoreClient& client, uint64_t view) {
  v1::CloseTableRequest request;
  request.set_view_id(view);
  v1::CloseTableResponse response;
  return client.Call(&v1::Table::Stub::CloseTable, request, &response);
}

void TableCloseQuietly(const StoreClient& client, uint64_t view) {
  // After the session closed the server has closed its views already; a
  // failure here has nobody to report to.
  if (client.closed()) return;
  TableClose(client, view).IgnoreError();
}

}  // namespace mapinotify::internal
