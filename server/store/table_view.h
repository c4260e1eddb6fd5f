// TableView: the rows, their order, the cursor and the bookmarks of one
// table view (one IMAPITable open), independent of where the rows come
// from: the store decides which objects are rows and what their values are;
// the view keeps them ordered, answers the cursor calls and says which
// table notification each change of a row calls for. No store, no gRPC.
//
// Order. Rows are kept sorted by their sort values, key by key (a missing
// value before any value; TABLE_SORT_DESCEND reverses that key only, with
// CompareValues of restriction.h), then by `key` ascending (the tie-break:
// the object number, i.e. creation order). Keys are unique.
//
// Cursor and bookmarks are positions in that order (0 = the first row,
// size() = past the end). A position on a row keeps pointing at that row
// while other rows are added, removed or moved around it, and follows its
// row when it moves. When its row is removed it points at the row that
// followed it (or the end); a bookmark then reports MAPI_W_POSITION_CHANGED
// on its next use by SeekRow or FindRow. The end points at no row: it stays
// the end while rows come and go before it, and a row added (or moved) to
// the end of the table lands under it — so a cursor at the beginning of an
// empty table, which is also its end, sees the rows that arrive.
//
// Thread-compatible: the Store keeps each view under its mutex.
#ifndef MAPINOTIFY_SERVER_STORE_TABLE_VIEW_H_
#define MAPINOTIFY_SERVER_STORE_TABLE_VIEW_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mapinotify/mapi.h"
#include "mapinotify/notification.h"
#include "mapinotify/table_types.h"

namespace mapinotify::server::store {

// One row: its key, its value for each sort key of the view (nullopt when
// the row lacks the property), and its values in the view's columns.
struct TableRow {
  uint64_t key = 0;
  std::vector<std::optional<PropValue>> sort_values;
  Row columns;
};

// The table notification that one change of a row calls for.
struct RowEvent {
  // 0 when nothing a client sees changed; otherwise TABLE_ROW_ADDED,
  // TABLE_ROW_MODIFIED or TABLE_ROW_DELETED.
  ULONG event = 0;
  uint64_t key = 0;
  // ADDED / MODIFIED: the key of the row now before this one; nullopt when
  // it is the first row.
  std::optional<uint64_t> prior;
  // ADDED / MODIFIED: the row's column values.
  Row columns;
};

// An upper bound of the bytes `row` takes on the wire as a v1.Row: for each
// value kWireBytesPerValue (the row entry's key and length, the tag, the
// oneof's key and length, and up to a 10-byte varint) plus its string,
// binary or GUID bytes, and for each element of a multi-valued value
// kWireBytesPerElement (key, length or varint) plus the element's bytes.
// QueryRows and QueryAllRows budget answers with it, so an answer within
// their byte limit fits in a gRPC message of that size plus one row.
inline constexpr size_t kWireBytesPerValue = 32;
inline constexpr size_t kWireBytesPerElement = 12;
size_t RowByteSize(const Row& row);

class TableView {
 public:
  // An empty view ordered by `sort`. REQUIRES: ValidateSortOrder(sort) is
  // OK, and every row given later has sort.size() sort values.
  explicit TableView(SortOrderSet sort = {});

  const SortOrderSet& sort() const { return sort_; }
  size_t size() const { return rows_.size(); }
  // The rows, in order.
  const std::vector<TableRow>& rows() const { return rows_; }
  bool Contains(uint64_t key) const { return sort_values_.contains(key); }

  // Replaces the sort order and every row (given in any order; unique
  // keys), moves the cursor to the beginning and discards every bookmark:
  // Restrict, SortTable.
  void Reset(SortOrderSet sort, std::vector<TableRow> rows);
  // Replaces each row's column values with columns(key), keeping the order,
  // the cursor and the bookmarks: SetColumns.
  void SetColumnValues(absl::FunctionRef<Row(uint64_t key)> columns);

  // Adds `row`, or replaces the row with its key (repositioning it by its
  // new sort values). Returns ADDED {prior = the row now before it}, or
  // MODIFIED {prior = the row now before it} when the row existed and its
  // column values or the row before it changed, or nothing.
  RowEvent Upsert(TableRow row);
  // Removes the row with `key`: DELETED, or nothing when there is none.
  RowEvent Remove(uint64_t key);

  // --- The cursor calls (store.h, "Tables", has the full contract).
  // count > 0: up to `count` rows from the cursor on, the cursor moving past
  // them unless !advance. count < 0: up to -count rows just before the
  // cursor, in table order, the cursor moving to the first of them. At most
  // `max_rows` rows, and no more once their RowByteSize sum exceeds
  // `max_bytes` (but at least one row when any is available). REQUIRES:
  // count != 0, max_rows > 0.
  std::vector<Row> QueryRows(int64_t count, bool advance, size_t max_rows,
                             size_t max_bytes);
  // Moves the cursor `count` rows from `origin` (BOOKMARK_BEGINNING /
  // CURRENT / END or a bookmark), clamped to [0, size()], and returns the
  // rows actually moved. MAPI_E_INVALID_BOOKMARK for an unknown bookmark.
  // `*warning` (when given): MAPI_W_POSITION_CHANGED when the bookmark's
  // row had been removed, S_OK otherwise.
  absl::StatusOr<LONG> SeekRow(BOOKMARK origin, LONG count, SCODE* warning);
  // Moves the cursor to the first row for which match(row) holds, searching
  // forward from the row at `origin` (included), or with `backward` from the
  // row before it towards the beginning. MAPI_E_NOT_FOUND, cursor
  // unchanged, when none matches; MAPI_E_INVALID_BOOKMARK; `*warning` as
  // SeekRow.
  absl::Status FindRow(BOOKMARK origin, bool backward,
                       absl::FunctionRef<bool(const TableRow&)> match,
                       SCODE* warning);
  // {cursor, cursor, size()}.
  TablePosition QueryPosition() const;
  // A new bookmark at the cursor (values above BOOKMARK_END, never reused
  // by this view). MAPI_E_UNABLE_TO_COMPLETE when `max_bookmarks` exist.
  absl::StatusOr<BOOKMARK> CreateBookmark(size_t max_bookmarks);
  // Frees a bookmark; OK (doing nothing) for the three predefined ones;
  // MAPI_E_INVALID_BOOKMARK for an unknown one.
  absl::Status FreeBookmark(BOOKMARK bookmark);

 private:
  struct Mark {
    size_t position = 0;
    bool moved = false;  // Its row was removed since its last use.
  };

  // Whether `a` sorts before `b` (sort values, then key).
  bool Before(const std::vector<std::optional<PropValue>>& a_values,
              uint64_t a_key,
              const std::vector<std::optional<PropValue>>& b_values,
              uint64_t b_key) const;
  // Where a row with these values stands, or would be inserted.
  size_t LowerBound(const std::vector<std::optional<PropValue>>& values,
                    uint64_t key) const;
  std::optional<uint64_t> KeyBefore(size_t position) const;
  // The position of `origin`; clears a bookmark's moved flag into
  // `*warning`.
  absl::StatusOr<size_t> OriginPosition(BOOKMARK origin, SCODE* warning);

  SortOrderSet sort_;
  std::vector<TableRow> rows_;
  // Each row's sort values by key: finds a row's position by binary search.
  absl::flat_hash_map<uint64_t, std::vector<std::optional<PropValue>>>
      sort_values_;
  size_t cursor_ = 0;
  absl::flat_hash_map<BOOKMARK, Mark> bookmarks_;
  BOOKMARK next_bookmark_ = BOOKMARK_END + 1;
};

}  // namespace mapinotify::server::store

#endif  // MAPINOTIFY_SERVER_STORE_TABLE_VIEW_H_
