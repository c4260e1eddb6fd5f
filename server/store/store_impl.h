// Store::Impl: the state of a Store and the operations on it. Internal to
// server/store; the contract is store.h. The code is split by concern:
// store.cc (construction, the public API), store_tree.cc (lookups, counters,
// the saved-message helpers, publishing, listings, consistency),
// store_subtree.cc (the subtree walks of copy / delete, item by item with
// progress), store_props.cc (computed properties, GetProps, Exists),
// store_folders.cc (folder operations), store_messages.cc (open messages),
// store_message_ops.cc (bulk message operations and new mail), store_tables.cc
// (the table calls), store_table_rows.cc (the rows of table views and the table
// notifications every publish carries).
//
// Thread-safe: every operation takes mu_; the helpers named *Locked require
// it. The only calls made under mu_ are Hub::PublishDeferred and a long
// operation's progress object (see store.h); the stream wakes a publish
// owes (which may start gRPC writes) run after mu_ is released, by
// WriteLock.
#ifndef MAPINOTIFY_SERVER_STORE_STORE_IMPL_H_
#define MAPINOTIFY_SERVER_STORE_STORE_IMPL_H_

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/hub/hub.h"
#include "server/store/entry_id.h"
#include "server/store/open_contexts.h"
#include "server/store/progress_reporter.h"
#include "server/store/property_bag.h"
#include "server/store/store.h"
#include "server/store/store_notify.h"
#include "server/store/store_objects.h"
#include "server/store/table_view.h"

namespace mapinotify::server::store {

// Object numbers of the store and its well-known folders; the first other
// object gets kFirstDynamicNumber.
inline constexpr ObjectNumber kStoreNumber = 1;
inline constexpr ObjectNumber kRootNumber = 2;
inline constexpr ObjectNumber kIpmSubtreeNumber = 3;
inline constexpr ObjectNumber kInboxNumber = 4;
inline constexpr ObjectNumber kOutboxNumber = 5;
inline constexpr ObjectNumber kSentItemsNumber = 6;
inline constexpr ObjectNumber kDeletedItemsNumber = 7;
inline constexpr ObjectNumber kFirstDynamicNumber = 16;

inline bool IsWellKnownFolder(ObjectNumber number) {
  return number >= kRootNumber && number <= kDeletedItemsNumber;
}

// Limits on folder names and comments (bytes of UTF-8).
inline constexpr size_t kMaxFolderNameBytes = 1024;
inline constexpr size_t kMaxCommentBytes = 65536;

// MAPI_E_UNKNOWN_FLAGS naming `call` when `flags` has a bit outside
// `allowed`; OK otherwise.
absl::Status CheckFlags(ULONG flags, ULONG allowed, const char* call);
// A folder name (1..kMaxFolderNameBytes bytes): MAPI_E_INVALID_PARAMETER
// when empty, MAPI_E_STRING_TOO_LONG when longer.
SCODE CheckFolderName(const std::string& name);

// One open table view (store_tables.cc): what it shows and its rows.
struct TableViewState {
  std::string session;  // The owning session.
  ObjectNumber folder = 0;
  bool hierarchy = false;         // Subfolders; otherwise saved messages.
  bool convenient_depth = false;  // Hierarchy: the folder's whole subtree.
  // Its folder was deleted: every call but CloseTable is
  // MAPI_E_OBJECT_DELETED, and it has no rows.
  bool folder_deleted = false;
  std::vector<ULONG> columns;
  std::optional<Restriction> restriction;
  TableView table;
};

// The properties of one row of a view: its object's (as GetProps returns
// them) plus the two a view sets, PR_INSTANCE_KEY and, in a hierarchy view,
// PR_DEPTH relative to the table's folder. Valid while `object` is.
struct RowProps {
  const PropertyBag* object = nullptr;
  PropValue instance_key;
  std::optional<PropValue> depth;

  // PropertyBag::Find's rule over the three.
  const PropValue* Find(ULONG tag) const;
};

// PR_INSTANCE_KEY of the row of object `number`: its 8-byte big-endian
// number.
PropValue InstanceKey(ObjectNumber number);

// The row's values in `columns` order: PR_NULL stays PR_NULL, a property
// the row lacks is NotFoundValue (PT_ERROR, MAPI_E_NOT_FOUND).
Row ProjectColumns(const RowProps& props, const std::vector<ULONG>& columns);

class Store::Impl {
 public:
  explicit Impl(Options options);

  // --- store_props.cc
  absl::Status Exists(const EntryId& entry_id) const ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::vector<PropValue>> GetProps(
      const EntryId& entry_id, const std::vector<ULONG>& tags) const
      ABSL_LOCKS_EXCLUDED(mu_);
  // --- store_tree.cc
  absl::StatusOr<std::vector<EntryId>> ListSubfolders(
      const EntryId& folder) const ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::vector<EntryId>> ListMessages(const EntryId& folder) const
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status CheckConsistency() const ABSL_LOCKS_EXCLUDED(mu_);

  // --- store_folders.cc
  absl::StatusOr<std::vector<PropProblem>> SetFolderProps(
      const EntryId& folder, const std::vector<PropValue>& values)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::vector<PropProblem>> DeleteFolderProps(
      const EntryId& folder, const std::vector<ULONG>& tags)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<EntryId> CreateFolder(const EntryId& parent,
                                       const std::string& name,
                                       const std::string& comment, ULONG flags)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<EntryId> CopyFolder(const EntryId& source_parent,
                                     const EntryId& folder,
                                     const EntryId& dest_parent,
                                     const std::string& new_name, ULONG flags,
                                     SCODE* warning, MapiProgress* progress)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status DeleteFolder(const EntryId& parent, const EntryId& folder,
                            ULONG flags, SCODE* warning, MapiProgress* progress)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status EmptyFolder(const EntryId& folder, ULONG flags, SCODE* warning,
                           MapiProgress* progress) ABSL_LOCKS_EXCLUDED(mu_);

  // --- store_messages.cc
  absl::StatusOr<Handle> CreateMessage(const CallContext& caller,
                                       const EntryId& folder, ULONG flags)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<Handle> OpenMessage(const CallContext& caller,
                                     const EntryId& message, ULONG flags)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::vector<PropProblem>> SetMessageProps(
      const CallContext& caller, Handle handle,
      const std::vector<PropValue>& values) ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::vector<PropProblem>> DeleteMessageProps(
      const CallContext& caller, Handle handle, const std::vector<ULONG>& tags)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::vector<PropValue>> GetMessageProps(
      const CallContext& caller, Handle handle,
      const std::vector<ULONG>& tags) const ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<EntryId> SaveChanges(const CallContext& caller, Handle handle,
                                      ULONG flags) ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status Release(const CallContext& caller, Handle handle)
      ABSL_LOCKS_EXCLUDED(mu_);
  void ReleaseSession(const std::string& session) ABSL_LOCKS_EXCLUDED(mu_);

  // --- store_message_ops.cc
  absl::Status DeleteMessages(const EntryId& folder,
                              const std::vector<EntryId>& messages, ULONG flags,
                              SCODE* warning, MapiProgress* progress)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status CopyMessages(const EntryId& source,
                            const std::vector<EntryId>& messages,
                            const EntryId& dest, ULONG flags, SCODE* warning,
                            MapiProgress* progress) ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status SetReadFlags(const EntryId& folder,
                            const std::vector<EntryId>& messages, ULONG flags,
                            SCODE* warning, MapiProgress* progress)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<EntryId> DeliverNewMail(const std::vector<PropValue>& props)
      ABSL_LOCKS_EXCLUDED(mu_);

  // --- store_tables.cc
  absl::StatusOr<ViewId> OpenTable(const CallContext& caller,
                                   const EntryId& folder, bool hierarchy,
                                   ULONG flags) ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status CloseTable(const CallContext& caller, ViewId view)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status TableExists(ViewId view) const ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status SetColumns(const CallContext& caller, ViewId view,
                          const std::vector<ULONG>& columns, ULONG flags)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::vector<ULONG>> QueryColumns(const CallContext& caller,
                                                  ViewId view,
                                                  ULONG flags) const
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<ULONG> GetRowCount(const CallContext& caller, ViewId view,
                                    ULONG flags) const ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::vector<Row>> QueryRows(const CallContext& caller,
                                             ViewId view, LONG count,
                                             ULONG flags, size_t max_bytes)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<LONG> SeekRow(const CallContext& caller, ViewId view,
                               BOOKMARK origin, LONG count, SCODE* warning)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<TablePosition> QueryPosition(const CallContext& caller,
                                              ViewId view) const
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<BOOKMARK> CreateBookmark(const CallContext& caller,
                                          ViewId view) ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status FreeBookmark(const CallContext& caller, ViewId view,
                            BOOKMARK bookmark) ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status FindRow(const CallContext& caller, ViewId view,
                       const Restriction& restriction, BOOKMARK origin,
                       ULONG flags, SCODE* warning) ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status Restrict(const CallContext& caller, ViewId view,
                        const std::optional<Restriction>& restriction,
                        ULONG flags) ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status SortTable(const CallContext& caller, ViewId view,
                         const SortOrderSet& sort, ULONG flags)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<SortOrderSet> QuerySortOrder(const CallContext& caller,
                                              ViewId view) const
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<TableSnapshot> QueryAllRows(const CallContext& caller,
                                             ViewId view, size_t max_rows,
                                             size_t max_bytes) const
      ABSL_LOCKS_EXCLUDED(mu_);

  // Constant after construction.
  const EntryIdCodec codec_;
  const EntryId store_id_;
  const EntryId root_id_;
  const EntryId ipm_subtree_id_;
  const EntryId inbox_id_;
  const EntryId outbox_id_;
  const EntryId sent_items_id_;
  const EntryId deleted_items_id_;

 private:
  // --- Lookups (store_tree.cc). Errors per store.h: MAPI_E_INVALID_ENTRYID,
  // MAPI_E_NOT_FOUND, MAPI_E_INVALID_PARAMETER for an object of another
  // kind. The pointers stay valid until the object is erased.
  absl::StatusOr<ObjectNumber> FolderNumberLocked(const EntryId& entry_id) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  absl::StatusOr<ObjectNumber> MessageNumberLocked(
      const EntryId& entry_id) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  Folder& FolderLocked(ObjectNumber number) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  const Folder& FolderLocked(ObjectNumber number) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // The entry id of a folder's parent (the root's own id for the root).
  EntryId ParentIdLocked(ObjectNumber folder) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Decodes `ids` (MAPI_E_INVALID_ENTRYID for any malformed one), dropping
  // repeats and keeping the first occurrence's position.
  absl::StatusOr<std::vector<ObjectNumber>> DecodeListLocked(
      const std::vector<EntryId>& ids) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // The subfolder of `parent` named `name` (ASCII case-insensitive), other
  // than `except`; 0 when none.
  ObjectNumber ChildNamedLocked(ObjectNumber parent, const std::string& name,
                                ObjectNumber except) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Whether `number` is `root` or inside its subtree.
  bool InSubtreeLocked(ObjectNumber number, ObjectNumber root) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // `root` and the folders below it, in pre-order (each folder before its
  // subfolders, subfolders oldest first).
  std::vector<ObjectNumber> SubtreeLocked(ObjectNumber root) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);

  // --- Properties (store_props.cc; counters in store_tree.cc): every
  // property of an object, computed ones included. `saved` false: an
  // unsaved message (no entry id, no times).
  PropertyBag StoreViewLocked() const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  PropertyBag FolderViewLocked(ObjectNumber number) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  PropertyBag MessageViewLocked(ObjectNumber number, const Message& message,
                                bool saved) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  FolderCounters CountersLocked(ObjectNumber folder) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);

  // --- Changes and notifications (store_tree.cc).
  ObjectNumber NewNumberLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return next_number_++;
  }
  // Adds fnevObjectModified for the counters of `folder` that differ from
  // `before`; nothing when none does.
  void AddCountersChangeLocked(ObjectNumber folder,
                               const FolderCounters& before,
                               NotificationBatch* batch) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Erases message `number` (a message of `folder`), adding
  // fnevObjectDeleted.
  void DeleteMessageLocked(ObjectNumber number, NotificationBatch* batch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // --- Saved messages (store_tree.cc). The only code that adds a message to
  // messages_ and its folder's `messages`, removes one, or changes a saved
  // message's props: each keeps the folder's unread count (Folder::unread)
  // in step, so that CountersLocked is O(1). CheckConsistency recounts it.
  // Saves `message` as `number` in folder message.parent. REQUIRES: no
  // object `number` exists; the folder does.
  void AddMessageLocked(ObjectNumber number, Message message)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Erases saved message `number` from messages_ and from its folder.
  // REQUIRES: it exists.
  void EraseMessageLocked(ObjectNumber number)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Applies `changes` to saved message `number`'s props (ApplyPending) and
  // returns the tags that changed. REQUIRES: it exists.
  std::vector<ULONG> ChangeMessagePropsLocked(ObjectNumber number,
                                              const PendingChanges& changes)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // --- Subtree walks of the long operations (store_subtree.cc), one item
  // (a message or a folder) at a time, reporting to a ProgressReporter.
  // A folder a counters change may concern, with its counters before.
  using CountersBefore = std::pair<ObjectNumber, FolderCounters>;
  // The items of `folder` as a level of a delete: its subfolders, its
  // messages and itself.
  size_t DeleteItemsLocked(ObjectNumber folder) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Erases `root`'s subtree bottom-up (each folder's subfolders, newest
  // first and each with its own subtree, then its messages, then the
  // folder), adding fnevObjectDeleted for each object as it goes and
  // unlinking each folder from its parent. REQUIRES: `root`'s level
  // (DeleteItemsLocked(root) items) is `reporter`'s current one; the
  // folders below are entered and left here. Returns false when the
  // reporter stopped the operation: `survivors` then gets the folders of
  // the walk still alive (their contents changed), innermost first.
  bool DeleteTreeLocked(ObjectNumber root, ProgressReporter* reporter,
                        NotificationBatch* batch,
                        std::vector<CountersBefore>* survivors)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The items of `folder` as a level of a copy: its messages and, with
  // `subfolders`, its subfolders.
  size_t CopyItemsLocked(ObjectNumber folder, bool subfolders) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Copies `folder` (and with `subfolders` its subtree) into `dest_parent`
  // as `name`, in pre-order (a folder, its messages, then its subfolders
  // oldest first), adding fnevObjectCopied for the copy and
  // fnevObjectCreated for its contents as it goes; `*copy` gets the copy's
  // number. REQUIRES: dest_parent is not inside folder's subtree; the
  // reporter's current level is `folder`'s (CopyItemsLocked items).
  // Returns false when the reporter stopped the operation.
  bool CopyTreeLocked(ObjectNumber folder, ObjectNumber dest_parent,
                      const std::string& name, bool subfolders,
                      ProgressReporter* reporter, NotificationBatch* batch,
                      ObjectNumber* copy) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Creates the copy of folder `source` in `parent` (named `name`, or the
  // source's name when null) and adds fnevObjectCopied {copy, parent,
  // source, source's parent} (`top`) or fnevObjectCreated {copy, parent}.
  ObjectNumber NewFolderCopyLocked(ObjectNumber source, ObjectNumber parent,
                                   const std::string* name, bool top,
                                   FileTime now, NotificationBatch* batch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Copies the messages of `source` into `copy`, one item each, adding
  // fnevObjectCreated per message. Returns false when stopped.
  bool CopyFolderMessagesLocked(ObjectNumber source, ObjectNumber copy,
                                ProgressReporter* reporter,
                                NotificationBatch* batch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Brings every table view up to date with the changes `batch` reports
  // (AddTableEventsLocked), then publishes `batch` as one Hub::Publish call
  // (nothing when it is empty or there is no hub). Called under mu_ on
  // purpose: see store.h. Every mutating operation ends with it.
  void PublishLocked(NotificationBatch* batch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // --- Table views (store_tables.cc, store_table_rows.cc).
  // GetProps' properties of each object, computed once per operation.
  using PropsCache = std::map<ObjectNumber, PropertyBag>;
  // The view `view` of caller.session. MAPI_E_NOT_FOUND for an unknown view
  // or one of another session; MAPI_E_OBJECT_DELETED when its folder was
  // deleted, unless `allow_deleted`.
  absl::StatusOr<TableViewState*> ViewLocked(const CallContext& caller,
                                             ViewId view,
                                             bool allow_deleted = false)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<const TableViewState*> ViewLocked(const CallContext& caller,
                                                   ViewId view) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // With TBL_ASYNC in `flags`: publishes TABLE_ERROR {hresult =
  // ScodeOf(failure)} for `view` and returns OK; otherwise returns
  // `failure`.
  absl::Status FailTableChangeLocked(ViewId view, ULONG flags,
                                     absl::Status failure)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Publishes `table_event` (no row) for `view` in a batch of its own.
  void PublishTableEventLocked(ViewId view, ULONG table_event)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Where `number` stands in `view`'s scope: the row's depth relative to
  // the table's folder (1 for a saved message of a contents view's folder or
  // a subfolder of a hierarchy view's; deeper ones only with
  // convenient_depth), or 0 when it is not in the scope (or not alive).
  int ScopeDepthLocked(const TableViewState& view, ObjectNumber number) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Every object in `view`'s scope with its depth.
  std::vector<std::pair<ObjectNumber, int>> ScopeLocked(
      const TableViewState& view) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // The properties of the row of `number` at `depth` (REQUIRES:
  // ScopeDepthLocked(view, number) == depth > 0).
  RowProps RowPropsLocked(const TableViewState& view, ObjectNumber number,
                          int depth, PropsCache* cache) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // The row of `number` (in the scope at `depth`) for `view`'s columns and
  // `sort`, or nullopt when it does not match the view's restriction.
  std::optional<TableRow> MakeRowLocked(const TableViewState& view,
                                        const SortOrderSet& sort,
                                        ObjectNumber number, int depth,
                                        PropsCache* cache) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Rebuilds `view`'s rows from its scope, ordered by `sort` (which becomes
  // its sort order); the cursor goes to the beginning, bookmarks are
  // discarded.
  void ReloadViewLocked(TableViewState* view, SortOrderSet sort)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Recomputes, view by view (ascending id), the rows of every object the
  // OBJECT notifications of `batch` name (entry, parent, old entry, old
  // parent; a moved folder's whole subtree), one object at a time, and
  // appends the table notifications that reproduce each view's change
  // (TABLE_CHANGED instead when there would be more than
  // kTableChangedThreshold for one view). A view whose folder is gone loses
  // every row and becomes folder_deleted.
  void AddTableEventsLocked(NotificationBatch* batch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Closes every view of `session`.
  void CloseSessionViewsLocked(const std::string& session)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // --- Open messages (store_messages.cc): the base values the caller's
  // context sees (its draft or the saved message) overlaid with its pending
  // changes. MAPI_E_OBJECT_DELETED when the message (or an unsaved one's
  // folder) is gone.
  absl::StatusOr<Message> OverlayLocked(const OpenMessageContext& context,
                                        uint64_t thread) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  absl::Status CheckAliveLocked(const OpenMessageContext& context) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // The caller's writable context of `handle`: MAPI_E_NOT_FOUND,
  // MAPI_E_NO_ACCESS (read-only), MAPI_E_OBJECT_DELETED.
  absl::StatusOr<OpenMessageContext*> WritableContextLocked(
      const CallContext& caller, Handle handle)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // An exclusive lock of mu_ that, when released, runs the stream wakes the
  // operation's PublishLocked calls collected — after unlocking, so that no
  // gRPC write starts, and no slow subscriber is touched, under the store
  // lock. Every mutating operation holds one instead of a plain MutexLock.
  class ABSL_SCOPED_LOCKABLE WriteLock {
   public:
    explicit WriteLock(Impl* impl) ABSL_EXCLUSIVE_LOCK_FUNCTION(impl->mu_)
        : impl_(impl) {
      impl_->mu_.Lock();
    }
    ~WriteLock() ABSL_UNLOCK_FUNCTION() {
      Hub::Wakes wakes = std::move(impl_->wakes_);
      impl_->mu_.Unlock();
      wakes.Run();
    }
    WriteLock(const WriteLock&) = delete;
    WriteLock& operator=(const WriteLock&) = delete;

   private:
    Impl* const impl_;
  };

  Hub* const hub_;
  const std::string display_name_;
  const size_t max_views_per_session_;

  // State below is protected by mu_.
  mutable absl::Mutex mu_;
  // std::map: references stay valid while other entries come and go.
  std::map<ObjectNumber, Folder> folders_ ABSL_GUARDED_BY(mu_);
  std::map<ObjectNumber, Message> messages_ ABSL_GUARDED_BY(mu_);
  OpenContexts contexts_ ABSL_GUARDED_BY(mu_);
  ObjectNumber next_number_ ABSL_GUARDED_BY(mu_) = kFirstDynamicNumber;
  // Open table views by id (ascending: the order of their notifications),
  // and how many each session holds.
  std::map<ViewId, TableViewState> views_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, size_t> views_per_session_
      ABSL_GUARDED_BY(mu_);
  ViewId next_view_ ABSL_GUARDED_BY(mu_) = 1;
  // Wakes owed by this operation's publishes; run by ~WriteLock.
  Hub::Wakes wakes_ ABSL_GUARDED_BY(mu_);
};

}  // namespace mapinotify::server::store

#endif  // MAPINOTIFY_SERVER_STORE_STORE_IMPL_H_
