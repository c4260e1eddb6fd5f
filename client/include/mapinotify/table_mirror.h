// TableMirror: a live local copy of a table view, kept from table
// notifications alone. It advises the view (fnevTableModified), loads every
// row once (Table::QueryAllRows), and from then on applies
// TABLE_ROW_ADDED / _MODIFIED / _DELETED in place (a row goes right after
// the row its `prior` names, first when prior is PR_NULL). It reads the
// view again only on TABLE_CHANGED, TABLE_RELOAD (also the resync signal
// after lost notifications), TABLE_SORT_DONE, TABLE_RESTRICT_DONE,
// TABLE_SETCOL_DONE and TABLE_ERROR. Notifications at or below the
// sequence of the last load are skipped (the load already shows them), so
// no change is applied twice.
//
// Rows are keyed by PR_INSTANCE_KEY, which must be one of the view's
// columns (it is in the default column set).
//
// Threads: the mirror's sink runs where the session's threading model puts
// it (it is advised through `session`); rows() and the other accessors may
// be called from any thread. `on_change`, when set, runs on the sink's
// thread after each batch is applied (including the reloads it caused),
// with no lock held; the first load, in Create, does not call it. The
// Session and the Table must outlive the mirror; destroying the mirror
// unadvises it (not from inside its own on_change).
#ifndef MAPINOTIFY_TABLE_MIRROR_H_
#define MAPINOTIFY_TABLE_MIRROR_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mapinotify/advise_sink.h"
#include "mapinotify/mapi.h"
#include "mapinotify/notification.h"

namespace mapinotify {

class Session;
class Table;

class TableMirror {
 public:
  struct Options {
    // Runs after each applied batch (see above).
    std::function<void()> on_change;
    // Largest table QueryAllRows may load (0: the message size alone).
    size_t max_rows = 0;
  };

  // Advises `table`'s view through `session`, then loads it. Fails with the
  // Advise or QueryAllRows error, or InvalidArgument
  // (MAPI_E_INVALID_PARAMETER) when the view's columns lack
  // PR_INSTANCE_KEY.
  static absl::StatusOr<std::unique_ptr<TableMirror>> Create(Session* session,
                                                             Table* table,
                                                             Options options);
  static absl::StatusOr<std::unique_ptr<TableMirror>> Create(Session* session,
                                                             Table* table) {
    return Create(session, table, Options());
  }

  ~TableMirror();
  TableMirror(const TableMirror&) = delete;
  TableMirror& operator=(const TableMirror&) = delete;

  // The rows in the view's order and columns (a copy).
  std::vector<Row> rows() const;
  std::vector<ULONG> columns() const;
  // How many times the view was (re)loaded, the first load included.
  uint64_t loads() const;
  // The highest sequence the mirror reflects: its last load's, or the last
  // applied notification's.
  uint64_t sequence() const;
  // Notifications that did not fit the copy (a ROW_ADDED of a row it
  // already has, a ROW_MODIFIED / ROW_DELETED of one it lacks, a prior it
  // does not have, a row of the wrong width); each made it reload. Zero
  // unless the server's notifications are wrong.
  uint64_t inconsistencies() const;
  // OK, or why the last reload failed (the rows are then those before it;
  // the next notification that calls for a reload tries again).
  absl::Status status() const;

  class Impl;

 private:
  explicit TableMirror(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace mapinotify

#endif  // MAPINOTIFY_TABLE_MIRROR_H_
