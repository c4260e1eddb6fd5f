// Store::Impl: the table calls (IMAPITable) — opening and closing views,
// columns, restriction and sort order, the cursor and bookmarks, and the
// snapshot a client mirror loads from.
#include <algorithm>
#include <iterator>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/internal/status_macros.h"
#include "mapinotify/status.h"
#include "server/store/restriction.h"
#include "server/store/store_impl.h"

namespace mapinotify::server::store {
namespace {

constexpr ULONG kOpenContentsFlags = MAPI_DEFERRED_ERRORS;
constexpr ULONG kOpenHierarchyFlags = CONVENIENT_DEPTH | MAPI_DEFERRED_ERRORS;
constexpr ULONG kTableChangeFlags = TBL_ASYNC | TBL_BATCH;
constexpr size_t kMaxColumns = 4096;

const std::vector<ULONG>& DefaultColumns(bool hierarchy) {
  static const auto* const kContents = new std::vector<ULONG>{
      PR_INSTANCE_KEY,          PR_ENTRYID,       PR_SUBJECT,
      PR_MESSAGE_CLASS,         PR_MESSAGE_FLAGS, PR_MESSAGE_SIZE,
      PR_LAST_MODIFICATION_TIME};
  static const auto* const kHierarchy = new std::vector<ULONG>{
      PR_INSTANCE_KEY,  PR_ENTRYID,        PR_DISPLAY_NAME, PR_DEPTH,
      PR_CONTENT_COUNT, PR_CONTENT_UNREAD, PR_SUBFOLDERS};
  return hierarchy ? *kHierarchy : *kContents;
}

}  // namespace

// --- Impl: the view registry.

absl::StatusOr<const TableViewState*> Store::Impl::ViewLocked(
    const CallContext& caller, ViewId view) const {
  auto it = views_.find(view);
  if (it == views_.end() || it->second.session != caller.session) {
    return MapiError(MAPI_E_NOT_FOUND,
                     absl::StrCat("no table view ", view,
                                  " in this session (closed or never opened)"));
  }
  if (it->second.folder_deleted) {
    return MapiError(MAPI_E_OBJECT_DELETED, "the table's folder was deleted");
  }
  return &it->second;
}

absl::StatusOr<TableViewState*> Store::Impl::ViewLocked(
    const CallContext& caller, ViewId view, bool allow_deleted) {
  auto it = views_.find(view);
  if (it != views_.end() && allow_deleted &&
      it->second.session == caller.session) {
    return &it->second;
  }
  MAPINOTIFY_ASSIGN_OR_RETURN(
      const TableViewState* found,
      static_cast<const Impl*>(this)->ViewLocked(caller, view));
  return const_cast<TableViewState*>(found);
}

absl::StatusOr<Store::ViewId> Store::Impl::OpenTable(const CallContext& caller,
                                                     const EntryId& folder,
                                                     bool hierarchy,
                                                     ULONG flags) {
  MAPINOTIFY_RETURN_IF_ERROR(
      CheckFlags(flags, hierarchy ? kOpenHierarchyFlags : kOpenContentsFlags,
                 hierarchy ? "OpenHierarchyTable" : "OpenContentsTable"));
  if (caller.session.empty()) {
    return MapiError(MAPI_E_INVALID_PARAMETER, "table views need a session id");
  }
  WriteLock lock(this);
  MAPINOTIFY_ASSIGN_OR_RETURN(const ObjectNumber number,
                              FolderNumberLocked(folder));
  auto it = views_per_session_.find(caller.session);
  const size_t held = it == views_per_session_.end() ? 0 : it->second;
  if (held >= max_views_per_session_) {
    return MapiError(MAPI_E_NOT_ENOUGH_RESOURCES,
                     absl::StrCat("the session already holds ", held,
                                  " table views, the most it may"));
  }
  const ViewId id = next_view_++;
  TableViewState& view = views_[id];
  view.session = caller.session;
  view.folder = number;
  view.hierarchy = hierarchy;
  view.convenient_depth = hierarchy && (flags & CONVENIENT_DEPTH) != 0;
  view.columns = DefaultColumns(hierarchy);
  ReloadViewLocked(&view, {});
  ++views_per_session_[caller.session];
  return id;
}

absl::Status Store::Impl::CloseTable(const CallContext& caller, ViewId view) {
  WriteLock lock(this);
  MAPINOTIFY_RETURN_IF_ERROR(
      ViewLocked(caller, view, /*allow_deleted=*/true).status());
  views_.erase(view);
  auto held = views_per_session_.find(caller.session);
  if (--held->second == 0) views_per_session_.erase(held);
  return absl::OkStatus();
}

void Store::Impl::CloseSessionViewsLocked(const std::string& session) {
  for (auto it = views_.begin(); it != views_.end();) {
    it = it->second.session == session ? views_.erase(it) : std::next(it);
  }
  views_per_session_.erase(session);
}

absl::Status Store::Impl::TableExists(ViewId view) const {
  absl::ReaderMutexLock lock(&mu_);
  if (views_.count(view) != 0) return absl::OkStatus();
  return MapiError(MAPI_E_NOT_FOUND,
                   absl::StrCat("no table view ", view, " is open"));
}

// --- Impl: columns, restriction, sort order.

void Store::Impl::PublishTableEventLocked(ViewId view, ULONG table_event) {
  NotificationBatch batch;
  TableNotification table;
  table.table_event = table_event;
  batch.Table(view, table);
  PublishLocked(&batch);
}

absl::Status Store::Impl::FailTableChangeLocked(ViewId view, ULONG flags,
                                                absl::Status failure) {
  if ((flags & TBL_ASYNC) == 0) return failure;
  NotificationBatch batch;
  TableNotification table;
  table.table_event = TABLE_ERROR;
  table.hresult = ScodeOf(failure);
  batch.Table(view, table);
  PublishLocked(&batch);
  return absl::OkStatus();
}

absl::Status Store::Impl::SetColumns(const CallContext& caller, ViewId id,
                                     const std::vector<ULONG>& columns,
                                     ULONG flags) {
  MAPINOTIFY_RETURN_IF_ERROR(
      CheckFlags(flags, kTableChangeFlags, "SetColumns"));
  WriteLock lock(this);
  MAPINOTIFY_ASSIGN_OR_RETURN(TableViewState * view, ViewLocked(caller, id));
  if (columns.empty() || columns.size() > kMaxColumns) {
    return FailTableChangeLocked(
        id, flags,
        MapiError(MAPI_E_INVALID_PARAMETER,
                  absl::StrCat("SetColumns: ", columns.size(),
                               " columns; it takes 1 to ", kMaxColumns)));
  }
  view->columns = columns;
  PropsCache cache;
  // The lambdas below run inside this critical section (TableView calls
  // them synchronously), hence their lock annotations.
  view->table.SetColumnValues(
      [&](uint64_t key) ABSL_SHARED_LOCKS_REQUIRED(mu_) {
        return ProjectColumns(
            RowPropsLocked(*view, key, ScopeDepthLocked(*view, key), &cache),
            view->columns);
      });
  PublishTableEventLocked(
      id, (flags & TBL_ASYNC) != 0 ? TABLE_SETCOL_DONE : TABLE_RELOAD);
  return absl::OkStatus();
}

absl::Status Store::Impl::Restrict(
    const CallContext& caller, ViewId id,
    const std::optional<Restriction>& restriction, ULONG flags) {
  MAPINOTIFY_RETURN_IF_ERROR(CheckFlags(flags, kTableChangeFlags, "Restrict"));
  const absl::Status valid = restriction.has_value()
                                 ? ValidateRestriction(*restriction)
                                 : absl::OkStatus();
  WriteLock lock(this);
  MAPINOTIFY_ASSIGN_OR_RETURN(TableViewState * view, ViewLocked(caller, id));
  if (!valid.ok()) return FailTableChangeLocked(id, flags, valid);
  view->restriction = restriction;
  ReloadViewLocked(view, view->table.sort());
  PublishTableEventLocked(
      id, (flags & TBL_ASYNC) != 0 ? TABLE_RESTRICT_DONE : TABLE_RELOAD);
  return absl::OkStatus();
}

absl::Status Store::Impl::SortTable(const CallContext& caller, ViewId id,
                                    const SortOrderSet& sort, ULONG flags) {
  MAPINOTIFY_RETURN_IF_ERROR(CheckFlags(flags, kTableChangeFlags, "SortTable"));
  const absl::Status valid = ValidateSortOrder(sort);
  WriteLock lock(this);
  MAPINOTIFY_ASSIGN_OR_RETURN(TableViewState * view, ViewLocked(caller, id));
  if (!valid.ok()) return FailTableChangeLocked(id, flags, valid);
  ReloadViewLocked(view, sort);
  PublishTableEventLocked(
      id, (flags & TBL_ASYNC) != 0 ? TABLE_SORT_DONE : TABLE_RELOAD);
  return absl::OkStatus();
}

absl::StatusOr<SortOrderSet> Store::Impl::QuerySortOrder(
    const CallContext& caller, ViewId id) const {
  absl::ReaderMutexLock lock(&mu_);
  MAPINOTIFY_ASSIGN_OR_RETURN(const TableViewState* view,
                              ViewLocked(caller, id));
  return view->table.sort();
}

absl::StatusOr<std::vector<ULONG>> Store::Impl::QueryColumns(
    const CallContext& caller, ViewId id, ULONG flags) const {
  MAPINOTIFY_RETURN_IF_ERROR(
      CheckFlags(flags, TBL_ALL_COLUMNS, "QueryColumns"));
  absl::ReaderMutexLock lock(&mu_);
  MAPINOTIFY_ASSIGN_OR_RETURN(const TableViewState* view,
                              ViewLocked(caller, id));
  if ((flags & TBL_ALL_COLUMNS) == 0) return view->columns;
  std::vector<ULONG> tags = DefaultColumns(view->hierarchy);
  tags.push_back(PR_INSTANCE_KEY);
  PropsCache cache;
  for (const auto& [number, depth] : ScopeLocked(*view)) {
    const RowProps props = RowPropsLocked(*view, number, depth, &cache);
    for (const auto& [prop_id, value] : props.object->values()) {
      tags.push_back(value.tag);
    }
    cache.clear();  // Each object is read once.
  }
  std::sort(tags.begin(), tags.end());
  tags.erase(std::unique(tags.begin(), tags.end()), tags.end());
  return tags;
}

// --- Impl: rows and the cursor.

absl::StatusOr<ULONG> Store::Impl::GetRowCount(const CallContext& caller,
                                               ViewId id, ULONG flags) const {
  MAPINOTIFY_RETURN_IF_ERROR(CheckFlags(flags, 0, "GetRowCount"));
  absl::ReaderMutexLock lock(&mu_);
  MAPINOTIFY_ASSIGN_OR_RETURN(const TableViewState* view,
                              ViewLocked(caller, id));
  return static_cast<ULONG>(view->table.size());
}

absl::StatusOr<std::vector<Row>> Store::Impl::QueryRows(
    const CallContext& caller, ViewId id, LONG count, ULONG flags,
    size_t max_bytes) {
  MAPINOTIFY_RETURN_IF_ERROR(CheckFlags(flags, TBL_NOADVANCE, "QueryRows"));
  if (count == 0) {
    return MapiError(MAPI_E_INVALID_PARAMETER, "QueryRows: a count of 0");
  }
  WriteLock lock(this);
  MAPINOTIFY_ASSIGN_OR_RETURN(TableViewState * view, ViewLocked(caller, id));
  return view->table.QueryRows(count, (flags & TBL_NOADVANCE) == 0,
                               kMaxQueryRows, max_bytes);
}

absl::StatusOr<LONG> Store::Impl::SeekRow(const CallContext& caller, ViewId id,
                                          BOOKMARK origin, LONG count,
                                          SCODE* warning) {
  WriteLock lock(this);
  MAPINOTIFY_ASSIGN_OR_RETURN(TableViewState * view, ViewLocked(caller, id));
  return view->table.SeekRow(origin, count, warning);
}

absl::StatusOr<TablePosition> Store::Impl::QueryPosition(
    const CallContext& caller, ViewId id) const {
  absl::ReaderMutexLock lock(&mu_);
  MAPINOTIFY_ASSIGN_OR_RETURN(const TableViewState* view,
                              ViewLocked(caller, id));
  return view->table.QueryPosition();
}

absl::StatusOr<BOOKMARK> Store::Impl::CreateBookmark(const CallContext& caller,
                                                     ViewId id) {
  WriteLock lock(this);
  MAPINOTIFY_ASSIGN_OR_RETURN(TableViewState * view, ViewLocked(caller, id));
  return view->table.CreateBookmark(kMaxBookmarksPerView);
}

absl::Status Store::Impl::FreeBookmark(const CallContext& caller, ViewId id,
                                       BOOKMARK bookmark) {
  WriteLock lock(this);
  MAPINOTIFY_ASSIGN_OR_RETURN(TableViewState * view, ViewLocked(caller, id));
  return view->table.FreeBookmark(bookmark);
}

absl::Status Store::Impl::FindRow(const CallContext& caller, ViewId id,
                                  const Restriction& restriction,
                                  BOOKMARK origin, ULONG flags,
                                  SCODE* warning) {
  MAPINOTIFY_RETURN_IF_ERROR(CheckFlags(flags, DIR_BACKWARD, "FindRow"));
  MAPINOTIFY_RETURN_IF_ERROR(ValidateRestriction(restriction));
  WriteLock lock(this);
  MAPINOTIFY_ASSIGN_OR_RETURN(TableViewState * view, ViewLocked(caller, id));
  PropsCache cache;
  return view->table.FindRow(
      origin, (flags & DIR_BACKWARD) != 0,
      [&](const TableRow& row) ABSL_SHARED_LOCKS_REQUIRED(mu_) {
        const RowProps props = RowPropsLocked(
            *view, row.key, ScopeDepthLocked(*view, row.key), &cache);
        return MatchesRestriction(
            restriction, [&props](ULONG tag) { return props.Find(tag); });
      },
      warning);
}

absl::StatusOr<Store::TableSnapshot> Store::Impl::QueryAllRows(
    const CallContext& caller, ViewId id, size_t max_rows,
    size_t max_bytes) const {
  absl::ReaderMutexLock lock(&mu_);
  MAPINOTIFY_ASSIGN_OR_RETURN(const TableViewState* view,
                              ViewLocked(caller, id));
  if (view->table.size() > max_rows) {
    return MapiError(MAPI_E_TABLE_TOO_BIG,
                     absl::StrCat("the view has ", view->table.size(),
                                  " rows; the most asked for is ", max_rows));
  }
  TableSnapshot snapshot;
  snapshot.columns = view->columns;
  snapshot.rows.reserve(view->table.size());
  size_t bytes = 0;
  for (const TableRow& row : view->table.rows()) {
    bytes += RowByteSize(row.columns);
    if (bytes > max_bytes) {
      return MapiError(
          MAPI_E_TABLE_TOO_BIG,
          absl::StrCat("the view's rows exceed ", max_bytes, " bytes"));
    }
    snapshot.rows.push_back(row.columns);
  }
  // Under mu_: the store publishes only under it, so no store change lies
  // between these rows and this sequence number.
  snapshot.sequence = hub_ != nullptr ? hub_->last_sequence() : 0;
  return snapshot;
}

}  // namespace mapinotify::server::store
