// Table: each method is one call of the Table service for this view
// (client/internal/table_client.h does the wire), tagged with the session
// and the calling thread like every store call.
#include "mapinotify/table.h"

#include <utility>
#include <vector>

#include "client/internal/table_client.h"

namespace mapinotify {

Table::~Table() {
  if (!closed_.exchange(true)) internal::TableCloseQuietly(*client_, view_);
}

absl::Status Table::Close() {
  closed_.store(true);
  return internal::TableClose(*client_, view_);
}

absl::Status Table::SetColumns(const std::vector<ULONG>& columns, ULONG flags) {
  return internal::TableSetColumns(*client_, view_, columns, flags);
}

absl::StatusOr<std::vector<ULONG>> Table::QueryColumns(ULONG flags) {
  return internal::TableQueryColumns(*client_, view_, flags);
}

absl::StatusOr<ULONG> Table::GetRowCount(ULONG flags) {
  return internal::TableGetRowCount(*client_, view_, flags);
}

absl::StatusOr<std::vector<Row>> Table::QueryRows(LONG count, ULONG flags) {
  return internal::TableQueryRows(*client_, view_, count, flags);
}

absl::StatusOr<LONG> Table::SeekRow(BOOKMARK origin, LONG count,
                                    SCODE* warning) {
  return internal::TableSeekRow(*client_, view_, origin, count, warning);
}

absl::StatusOr<TablePosition> Table::QueryPosition() {
  return internal::TableQueryPosition(*client_, view_);
}

absl::StatusOr<BOOKMARK> Table::CreateBookmark() {
  return internal::TableCreateBookmark(*client_, view_);
}

absl::Status Table::FreeBookmark(BOOKMARK bookmark) {
  return internal::TableFreeBookmark(*client_, view_, bookmark);
}

absl::Status Table::FindRow(const Restriction& restriction, BOOKMARK origin,
                            ULONG flags, SCODE* warning) {
  return internal::TableFindRow(*client_, view_, restriction, origin, flags,
                                warning);
}

absl::Status Table::Restrict(const std::optional<Restriction>& restriction,
                             ULONG flags) {
  return internal::TableRestrict(*client_, view_, restriction, flags);
}

absl::Status Table::SortTable(const SortOrderSet& sort, ULONG flags) {
  return internal::TableSortTable(*client_, view_, sort, flags);
}

absl::StatusOr<SortOrderSet> Table::QuerySortOrder() {
  return internal::TableQuerySortOrder(*client_, view_);
}

absl::StatusOr<TableSnapshot> Table::QueryAllRows(size_t max_rows) {
  return internal::TableQueryAllRows(*client_, view_, max_rows);
}

}  // namespace mapinotify
