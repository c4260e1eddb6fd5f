// The wire end of Table: one function per Table RPC (table.proto), each one
// unary call over a session's StoreClient for one view, converting between
// the wire and the library's value types. Table (client/table.cc) is built
// on these; this header, unlike the .cc, names no gRPC or generated type.
// Internal; stateless; thread-safe (StoreClient is). The contract is in
// mapinotify/table.h.
#ifndef MAPINOTIFY_CLIENT_INTERNAL_TABLE_CLIENT_H_
#define MAPINOTIFY_CLIENT_INTERNAL_TABLE_CLIENT_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mapinotify/mapi.h"
#include "mapinotify/notification.h"
#include "mapinotify/table.h"
#include "mapinotify/table_types.h"

namespace mapinotify::internal {

class StoreClient;

// Each call: the server's answer for `view`, its error rehydrated with its
// SCODE (StoreClient::Call); MAPI_E_END_OF_SESSION once the session closed;
// MAPI_E_CORRUPT_DATA for an answer that does not convert. A restriction
// that the wire cannot carry or that is over the limits is refused before
// sending, with the SCODE the server would give (proto_convert.h).
absl::Status TableSetColumns(const StoreClient& client, uint64_t view,
                             const std::vector<ULONG>& columns, ULONG flags);
absl::StatusOr<std::vector<ULONG>> TableQueryColumns(const StoreClient& client,
                                                     uint64_t view,
                                                     ULONG flags);
absl::StatusOr<ULONG> TableGetRowCount(const StoreClient& client, uint64_t view,
                                       ULONG flags);
absl::StatusOr<std::vector<Row>> TableQueryRows(const StoreClient& client,
                                                uint64_t view, LONG count,
                                                ULONG flags);
absl::StatusOr<LONG> TableSeekRow(const StoreClient& client, uint64_t view,
                                  BOOKMARK origin, LONG count, SCODE* warning);
absl::StatusOr<TablePosition> TableQueryPosition(const StoreClient& client,
                                                 uint64_t view);
absl::StatusOr<BOOKMARK> TableCreateBookmark(const StoreClient& client,
                                             uint64_t view);
absl::Status TableFreeBookmark(const StoreClient& client, uint64_t view,
                               BOOKMARK bookmark);
absl::Status TableFindRow(const StoreClient& client, uint64_t view,
                          const Restriction& restriction, BOOKMARK origin,
                          ULONG flags, SCODE* warning);
absl::Status TableRestrict(const StoreClient& client, uint64_t view,
                           const std::optional<Restriction>& restriction,
                           ULONG flags);
absl::Status TableSortTable(const StoreClient& client, uint64_t view,
                            const SortOrderSet& sort, ULONG flags);
absl::StatusOr<SortOrderSet> TableQuerySortOrder(const StoreClient& client,
                                                 uint64_t view);
// `max_rows` 0, or more than the wire counts: no limit but the message size.
absl::StatusOr<TableSnapshot> TableQueryAllRows(const StoreClient& client,
                                                uint64_t view, size_t max_rows);
absl::Status TableClose(const StoreClient& client, uint64_t view);
// Closes `view` ignoring the answer; makes no call once the session has
// closed (the server closed the session's views then).
void TableCloseQuietly(const StoreClient& client, uint64_t view);

}  // namespace mapinotify::internal

#endif  // MAPINOTIFY_CLIENT_INTERNAL_TABLE_CLIENT_H_
