// Table: a table view on mapinotifyd (IMAPITable), opened with
// MsgStore::OpenContentsTable / OpenHierarchyTable. The view lives on the
// server with its own cursor, column set, restriction, sort order and
// bookmarks; every call is one round trip and returns the server's answer.
// The semantics of each call are those of the server's store
// (server/store/store.h, "Tables"), which follow IMAPITable's reference.
//
// Threads: a Table is thread-safe, and all threads using one Table share
// its one cursor (rows handed out by QueryRows go to one caller each). Two
// Tables (two opens, even of the same folder by the same thread) never
// share anything.
//
// Notifications: advise the view with
//   session->Advise(AdviseTarget::TableView(table->view_id()),
//                   fnevTableModified, sink)
// or keep a live copy with TableMirror (mapinotify/table_mirror.h).
//
// Errors as MsgStore's (mapinotify/store.h), plus MAPI_E_NOT_FOUND for a
// closed view, MAPI_E_OBJECT_DELETED once the view's folder is gone,
// MAPI_E_INVALID_BOOKMARK, MAPI_E_TOO_COMPLEX, MAPI_E_TABLE_TOO_BIG.
#ifndef MAPINOTIFY_TABLE_H_
#define MAPINOTIFY_TABLE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mapinotify/mapi.h"
#include "mapinotify/notification.h"
#include "mapinotify/table_types.h"

namespace mapinotify {

namespace internal {
class StoreClient;
}  // namespace internal

// Every row of a view as of one commit (Table::QueryAllRows).
struct TableSnapshot {
  std::vector<ULONG> columns;
  std::vector<Row> rows;
  // The server's last sequence number at the snapshot: a notification with
  // a higher sequence describes a change after it, one at or below it a
  // change the snapshot already shows.
  uint64_t sequence = 0;
};

class Table {
 public:
  // Closes the view on the server (errors ignored; nothing to close once
  // the session is gone).
  ~Table();
  Table(const Table&) = delete;
  Table& operator=(const Table&) = delete;

  // The server's id of the view: the target of AdviseTarget::TableView.
  uint64_t view_id() const { return view_; }

  absl::Status SetColumns(const std::vector<ULONG>& columns, ULONG flags = 0);
  absl::StatusOr<std::vector<ULONG>> QueryColumns(ULONG flags = 0);
  absl::StatusOr<ULONG> GetRowCount(ULONG flags = 0);
  absl::StatusOr<std::vector<Row>> QueryRows(LONG count, ULONG flags = 0);
  // Returns the rows sought; `*warning` (when given) gets S_OK or
  // MAPI_W_POSITION_CHANGED.
  absl::StatusOr<LONG> SeekRow(BOOKMARK origin, LONG count,
                               SCODE* warning = nullptr);
  absl::StatusOr<TablePosition> QueryPosition();
  absl::StatusOr<BOOKMARK> CreateBookmark();
  absl::Status FreeBookmark(BOOKMARK bookmark);
  absl::Status FindRow(const Restriction& restriction, BOOKMARK origin,
                       ULONG flags = 0, SCODE* warning = nullptr);
  // nullopt removes the restriction.
  absl::Status Restrict(const std::optional<Restriction>& restriction,
                        ULONG flags = 0);
  absl::Status SortTable(const SortOrderSet& sort, ULONG flags = 0);
  absl::StatusOr<SortOrderSet> QuerySortOrder();
  // Every row as of one commit, without moving the cursor (HrQueryAllRows
  // in one round trip). MAPI_E_TABLE_TOO_BIG when the view has more than
  // `max_rows` rows (0: no limit but the message size) or its rows do not
  // fit in one message.
  absl::StatusOr<TableSnapshot> QueryAllRows(size_t max_rows = 0);

  // Closes the view now; later calls fail with MAPI_E_NOT_FOUND.
  absl::Status Close();

 private:
  friend class internal::StoreClient;
  Table(std::shared_ptr<internal::StoreClient> client, uint64_t view)
      : client_(std::move(client)), view_(view) {}

  const std::shared_ptr<internal::StoreClient> client_;
  const uint64_t view_;
  // Set once Close has been called: the destructor then makes no call.
  // Atomic: several threads may call Close at once.
  std::atomic<bool> closed_{false};
};

}  // namespace mapinotify

#endif  // MAPINOTIFY_TABLE_H_
