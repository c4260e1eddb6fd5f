// Store: the built-in provider — an in-memory MAPI message store whose
// objects are safe to use from every gRPC thread at once and whose every
// change publishes exactly the notifications a "rich" MAPI store publishes
// (DESIGN.md section 5). No gRPC: the Store service (server/service) maps the
// wire onto this API; tests drive it directly.
//
// Thread-safe. One store-wide mutex orders all changes; the notifications of
// one operation are queued to the hub as one batch, inside that critical
// section, so that notification order is commit order. Lock order:
// Store::mu_ -> Hub::mu_ -> Outbox::mu_ (the hub never calls the store while
// holding its lock; Hub::PublishDeferred never blocks and calls nothing out).
// The streams' wakes, which may start gRPC writes, run after the store lock
// is released, so a slow or stalled subscriber never holds up a writer.
// Publishing, and a long operation's progress object (see "Long
// operations"), are the only calls the store makes while holding its lock.
//
// The tree. The root folder (FOLDER_ROOT, no name, its own parent) holds
// "IPM_SUBTREE", which holds "Inbox" (the receive folder), "Outbox",
// "Sent Items" and "Deleted Items". These six are well-known: they cannot be
// deleted or moved (MAPI_E_NO_ACCESS), and neither can a subtree that holds
// one be emptied.
//
// Errors. Every failure is a mapinotify::MapiError: its SCODE travels as the
// status payload (ScodeOf) and picks the status code. Common to all calls:
//   MAPI_E_INVALID_ENTRYID (InvalidArgument): an entry id that is not one of
//     this store's (wrong size or format, another store's);
//   MAPI_E_NOT_FOUND (NotFound): a well-formed entry id of no live object
//     (never existed, deleted, or moved away: a moved message's old id);
//   MAPI_E_INVALID_PARAMETER (InvalidArgument): an entry id of the wrong kind
//     (a message where a folder is expected, or the store's own id), an empty
//     list where one is required, an empty session;
//   MAPI_E_UNKNOWN_FLAGS (InvalidArgument): a flag bit the call does not
//     define (each call lists the ones it takes).
//
// Notifications. Each operation publishes its notifications in ONE
// Hub::Publish call, in the order listed at the operation. An OBJECT
// notification concerns (targets) EntryTargetKey of its entry id and parent
// id, and for moved / copied objects also of the old id and old parent; a
// folder's counters change (PR_CONTENT_COUNT, PR_CONTENT_UNREAD,
// PR_SUBFOLDERS, PR_FOLDER_CHILD_COUNT — only those that changed, ascending)
// is an fnevObjectModified of the folder, so it concerns the folder and its
// parent; fnevNewMail concerns StoreTargetKey(), the message and the
// receive folder. Store-wide registrations see everything. An operation that
// changes nothing publishes nothing.
#ifndef MAPINOTIFY_SERVER_STORE_STORE_H_
#define MAPINOTIFY_SERVER_STORE_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mapinotify/mapi.h"
#include "mapinotify/notification.h"
#include "mapinotify/progress.h"
#include "mapinotify/table_types.h"

namespace mapinotify::server {

class Hub;

namespace store {

// Who is calling: the client session (a client-chosen id, sent on every
// call) and the calling thread within it (the client library tags calls).
// Per-open contexts belong to a session; thread-aware ones to a (session,
// thread) pair.
struct CallContext {
  std::string session;
  uint64_t thread = 0;
};

// One property that SetProps / DeleteProps did not apply (SPropProblem).
struct PropProblem {
  uint32_t index = 0;  // Position in the request.
  ULONG tag = 0;
  SCODE scode = 0;  // MAPI_E_COMPUTED, MAPI_E_INVALID_TYPE ...
};

// A message opened for reading or writing; its pending changes live in the
// open context (see OpenMessage). Nonzero; never reused within a Store.
using Handle = uint64_t;

class Store {
 public:
  struct Options {
    // Where notifications are published. Must outlive the store. nullptr:
    // nothing is published (a store without watchers).
    Hub* hub = nullptr;
    // PR_DISPLAY_NAME of the store.
    std::string display_name = "mapinotify store";
    // Most open message handles one session may hold (MAPI_E_NOT_ENOUGH_
    // RESOURCES beyond).
    size_t max_handles_per_session = 4096;
    // Most table views one session may hold open.
    size_t max_views_per_session = 1024;
  };

  explicit Store(Options options);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // --- Well-known objects. Entry ids are opaque, long-term for the life of
  // the store, and compare equal across sessions. Each Store instance has a
  // random GUID inside its ids, so another instance's ids are
  // MAPI_E_INVALID_ENTRYID here.
  const EntryId& store_entry_id() const;
  const EntryId& root_folder_id() const;
  const EntryId& ipm_subtree_id() const;
  // The Inbox: the receive folder of DeliverNewMail.
  const EntryId& inbox_id() const;
  const EntryId& outbox_id() const;
  const EntryId& sent_items_id() const;
  const EntryId& deleted_items_id() const;

  // OK when `entry_id` names the store itself or a live folder or saved
  // message of this store, NotFound (MAPI_E_NOT_FOUND) otherwise,
  // InvalidArgument (MAPI_E_INVALID_ENTRYID) when it is not an entry id of
  // this store. The hub's TargetValidator for entry targets. (An advise on
  // the store's own entry id should use StoreTargetKey(): entry targets only
  // see events about that object or its children.)
  absl::Status Exists(const EntryId& entry_id) const;

  // --- Properties of the store, a folder, or a saved message (by entry id).
  // One value per tag, in `tags` order; `tags` empty: every property the
  // object has, by ascending property id. A property the object lacks, or
  // whose stored type differs from PROP_TYPE(tag) (PT_UNSPECIFIED matches
  // any type), stands in its slot as PT_ERROR (PROP_TAG(PT_ERROR, id)) with
  // MAPI_E_NOT_FOUND.
  // Computed, for every object: PR_ENTRYID, PR_RECORD_KEY, PR_OBJECT_TYPE,
  // PR_STORE_ENTRYID, PR_STORE_RECORD_KEY. The store: PR_DISPLAY_NAME,
  // PR_STORE_SUPPORT_MASK (STORE_ENTRYID_UNIQUE | STORE_MODIFY_OK |
  // STORE_CREATE_OK | STORE_NOTIFY_OK | STORE_MV_PROPS_OK | STORE_UNICODE_OK),
  // PR_MDB_PROVIDER, PR_VALID_FOLDER_MASK, PR_IPM_SUBTREE_ENTRYID,
  // PR_IPM_OUTBOX_ENTRYID, PR_IPM_SENTMAIL_ENTRYID,
  // PR_IPM_WASTEBASKET_ENTRYID. Folders: PR_PARENT_ENTRYID, PR_FOLDER_TYPE,
  // PR_CONTENT_COUNT, PR_CONTENT_UNREAD, PR_SUBFOLDERS,
  // PR_FOLDER_CHILD_COUNT, PR_DEPTH (root 0), PR_CREATION_TIME,
  // PR_LAST_MODIFICATION_TIME. Messages: PR_PARENT_ENTRYID,
  // PR_MESSAGE_SIZE, PR_CREATION_TIME, PR_LAST_MODIFICATION_TIME. PR_RECORD_KEY
  // is the entry id for folders and messages, the store GUID for the store.
  absl::StatusOr<std::vector<PropValue>> GetProps(
      const EntryId& entry_id, const std::vector<ULONG>& tags) const;

  // Sets / deletes properties of a folder (immediately: folders have no
  // pending state). Computed properties (the ids of every property listed
  // above as computed, whatever the type, on any kind of object: a message's
  // PR_CONTENT_COUNT is MAPI_E_COMPUTED too) come back as problems
  // (MAPI_E_COMPUTED) and the others are applied. Other problems:
  // MAPI_E_INVALID_TYPE for a value whose type disagrees with its tag, of a
  // type never stored (PT_NULL, PT_ERROR, PT_UNSPECIFIED), or another type
  // for PR_DISPLAY_NAME / PR_COMMENT (PT_UNICODE only);
  // MAPI_E_INVALID_PARAMETER for property id 0 or 0xFFFF, an empty
  // PR_DISPLAY_NAME, or deleting PR_DISPLAY_NAME; MAPI_E_COLLISION for a
  // PR_DISPLAY_NAME a sibling has (case-insensitive); MAPI_E_NO_ACCESS for
  // renaming a well-known folder. When anything changed: PR_LAST_
  // MODIFICATION_TIME is updated and fnevObjectModified {folder, MAPI_FOLDER,
  // parent, the changed tags ascending (not listing the time)} is published.
  absl::StatusOr<std::vector<PropProblem>> SetFolderProps(
      const EntryId& folder, const std::vector<PropValue>& values);
  absl::StatusOr<std::vector<PropProblem>> DeleteFolderProps(
      const EntryId& folder, const std::vector<ULONG>& tags);

  // --- Long operations: progress and cancel. CopyFolder, DeleteFolder,
  // EmptyFolder, DeleteMessages, CopyMessages (and moves) and SetReadFlags
  // take an optional progress object (IMAPIProgress, mapinotify/progress.h)
  // and report to it as a MAPI provider following Microsoft's "Displaying a
  // Progress Indicator" does: GetFlags first; at the top level (the object
  // the call names) SetLimits with the global range and MAPI_TOP_LEVEL and
  // Progress(value, i, N) after each of its N items, value moving
  // monotonically from the global minimum to exactly the global maximum at
  // completion; for each subfolder it recurses into, the flag cleared and a
  // local sub-range of the parent's range set with SetLimits, Progress
  // calls within it with count = total = 0, and the parent's flags and
  // limits restored afterwards (each implementation file documents the exact
  // sequence). An item is one message or one folder. The store calls the
  // progress object under its lock, from the calling thread: an
  // implementation must return quickly and must not call the store.
  // Precisely (server/store/progress_reporter.h has the algorithm): no call
  // at all when the call fails its checks; the limits are the object's own
  // (GetMin / GetMax after GetFlags); when GetFlags lacks MAPI_TOP_LEVEL the
  // caller made this call a subobject of its own operation: its [min, max]
  // is then a local range, no global limits are set and count = total = 0
  // throughout; a subfolder's last item is reported by its parent's
  // Progress, not twice; an operation with no items reports Progress(max,
  // 0, 0) once. The items of DeleteMessages, CopyMessages and SetReadFlags
  // are the list's distinct entries (one skipped for naming no message of
  // the folder counts too).
  //
  // Cancel. When Progress returns MAPI_E_USER_CANCEL, the operation stops
  // before its next item: every item already done stays done (no item is
  // ever half done: a message is copied, moved or deleted whole), counters
  // agree, the notifications published are exactly those of the items done
  // (in one batch, as ever), and the call returns OK with `*warning` =
  // MAPI_W_PARTIAL_COMPLETION (CopyFolder returns the id of the partial
  // copy; a cancelled DeleteFolder leaves the folder with what it still
  // holds; the counters changes then also cover the folders left alive
  // whose contents changed, innermost first, before the usual ones). After
  // it answered MAPI_E_USER_CANCEL nothing is called on the progress object
  // any more (not even SetLimits to restore limits), nor after the value
  // reached the maximum. A cancel answered for the last item leaves nothing
  // undone: the call completed, `*warning` is S_OK. Without a cancel, a
  // progress object changes nothing but the calls made on it. `*warning`,
  // when given, is set on success (S_OK or MAPI_W_PARTIAL_COMPLETION).

  // --- Folders.
  // Creates `name` (1..1024 bytes; MAPI_E_INVALID_PARAMETER when empty,
  // MAPI_E_STRING_TOO_LONG when longer; `comment` at most 65536 bytes, empty
  // means no PR_COMMENT) in `parent`. MAPI_E_COLLISION when `parent` has a
  // subfolder of that name (ASCII case-insensitive), unless flags has
  // OPEN_IF_EXISTS: then returns the existing folder and publishes nothing.
  // Flags: OPEN_IF_EXISTS. Publishes fnevObjectCreated {folder, MAPI_FOLDER,
  // parent}, then the parent's counters as fnevObjectModified
  // (PR_SUBFOLDERS when it changed, PR_FOLDER_CHILD_COUNT).
  absl::StatusOr<EntryId> CreateFolder(const EntryId& parent,
                                       const std::string& name,
                                       const std::string& comment, ULONG flags);
  // Copies (or with FOLDER_MOVE moves) `folder`, a child of `source_parent`
  // (MAPI_E_NOT_FOUND otherwise), into `dest_parent` as `new_name` (empty:
  // keep the name; limits as CreateFolder). A copy takes the folder's
  // properties and messages; COPY_SUBFOLDERS copies the subtree. Flags:
  // FOLDER_MOVE, COPY_SUBFOLDERS. Errors: MAPI_E_FOLDER_CYCLE when
  // `dest_parent` is `folder` or inside its subtree (copy or move);
  // MAPI_E_COLLISION on a name clash in `dest_parent`; MAPI_E_NO_ACCESS when
  // moving a well-known folder. Returns the entry id of the copy (a move
  // keeps the folder's entry id, and so do its contents).
  // Publishes, copy: fnevObjectCopied {copy, MAPI_FOLDER, dest_parent,
  // old_id = folder, old_parent = source_parent}, then fnevObjectCreated for
  // each copied message and subfolder (pre-order: a folder's messages, then
  // its subfolders), then dest_parent's counters. Move: fnevObjectMoved
  // {folder, MAPI_FOLDER, dest_parent, old_id = folder, old_parent =
  // source_parent}, then source_parent's and dest_parent's counters (none
  // when they are the same folder: a rename).
  absl::StatusOr<EntryId> CopyFolder(const EntryId& source_parent,
                                     const EntryId& folder,
                                     const EntryId& dest_parent,
                                     const std::string& new_name, ULONG flags,
                                     SCODE* warning = nullptr,
                                     MapiProgress* progress = nullptr);
  // Deletes `folder`, a child of `parent` (MAPI_E_NOT_FOUND otherwise).
  // Flags: DEL_FOLDERS, DEL_MESSAGES. Without DEL_FOLDERS a folder with
  // subfolders fails with MAPI_E_HAS_FOLDERS; without DEL_MESSAGES a folder
  // whose subtree holds messages fails with MAPI_E_HAS_MESSAGES;
  // MAPI_E_NO_ACCESS for a well-known folder. Publishes fnevObjectDeleted
  // for everything deleted, bottom-up (each folder after everything inside
  // it, its own messages just before it: for F holding S1 and S2, S2's
  // contents and S2, S1's contents and S1, F's messages, F), then the
  // parent's counters. Open handles on deleted messages get
  // MAPI_E_OBJECT_DELETED afterwards.
  absl::Status DeleteFolder(const EntryId& parent, const EntryId& folder,
                            ULONG flags, SCODE* warning = nullptr,
                            MapiProgress* progress = nullptr);
  // Deletes every message and every subfolder (with its subtree) of
  // `folder`, as MAPI's EmptyFolder does. Flags: DEL_ASSOCIATED (accepted;
  // there are no associated contents). MAPI_E_NO_ACCESS when the subtree
  // holds a well-known folder. Publishes fnevObjectDeleted for everything
  // deleted (the folder's messages, then each subfolder's subtree bottom-up
  // as DeleteFolder, oldest subfolder first), then the folder's counters;
  // nothing for an empty folder.
  absl::Status EmptyFolder(const EntryId& folder, ULONG flags,
                           SCODE* warning = nullptr,
                           MapiProgress* progress = nullptr);

  // Entry ids of the subfolders / saved messages of `folder`, oldest first.
  // (A stand-in until hierarchy and contents tables exist.)
  absl::StatusOr<std::vector<EntryId>> ListSubfolders(
      const EntryId& folder) const;
  absl::StatusOr<std::vector<EntryId>> ListMessages(
      const EntryId& folder) const;

  // --- Messages.
  // Open handles belong to caller.session (non-empty: MAPI_E_INVALID_
  // PARAMETER otherwise). A handle used by another session is
  // MAPI_E_NOT_FOUND, as an unknown one.

  // A new message in `folder`, unsaved: it exists (and notifies) only once
  // SaveChanges is called. Writable. Its values start as PR_MESSAGE_CLASS
  // "IPM.Note" and PR_MESSAGE_FLAGS MSGFLAG_READ | MSGFLAG_UNSENT (a message
  // one composes is read); PR_ENTRYID and the times appear with the first
  // save. Flags: MAPINOTIFY_THREAD_AWARE, MAPI_DEFERRED_ERRORS.
  // MAPI_E_NOT_ENOUGH_RESOURCES when the session holds
  // max_handles_per_session handles.
  absl::StatusOr<Handle> CreateMessage(const CallContext& caller,
                                       const EntryId& folder, ULONG flags);
  // Opens a saved message. Flags: MAPI_MODIFY (or MAPI_BEST_ACCESS) to
  // write; MAPINOTIFY_THREAD_AWARE for a separate pending context per client
  // thread of the session (otherwise all threads of the session share one);
  // MAPI_DEFERRED_ERRORS. Each open is its own context: two opens of one
  // message have independent pending changes.
  absl::StatusOr<Handle> OpenMessage(const CallContext& caller,
                                     const EntryId& message, ULONG flags);
  // Pending (unsaved) changes in the caller's context of `handle`.
  // MAPI_E_NO_ACCESS for a handle opened without MAPI_MODIFY;
  // MAPI_E_OBJECT_DELETED when the message (or, unsaved, its folder) was
  // deleted or moved meanwhile. Problems as SetFolderProps (computed
  // properties: MAPI_E_COMPUTED; PR_MESSAGE_CLASS PT_UNICODE and
  // PR_MESSAGE_FLAGS PT_LONG only). PR_MESSAGE_FLAGS may be set at any time.
  absl::StatusOr<std::vector<PropProblem>> SetMessageProps(
      const CallContext& caller, Handle handle,
      const std::vector<PropValue>& values);
  absl::StatusOr<std::vector<PropProblem>> DeleteMessageProps(
      const CallContext& caller, Handle handle, const std::vector<ULONG>& tags);
  // Saved values (for an unsaved message: its initial values) overlaid with
  // the caller's pending changes; computed properties as GetProps (PR_
  // MESSAGE_SIZE of the overlay). MAPI_E_OBJECT_DELETED as SetMessageProps.
  absl::StatusOr<std::vector<PropValue>> GetMessageProps(
      const CallContext& caller, Handle handle,
      const std::vector<ULONG>& tags) const;
  // Commits the caller's pending changes (thread-aware: only the calling
  // thread's; the other threads' stay pending). First save:
  // fnevObjectCreated {message, MAPI_MESSAGE, folder}, then the folder's
  // counters (PR_CONTENT_COUNT, PR_CONTENT_UNREAD when it changed). Later
  // saves: fnevObjectModified {message, MAPI_MESSAGE, folder, the changed
  // tags ascending} (a set to the saved value or a delete of a missing
  // property changes nothing), then the folder's counters when the read bit
  // of PR_MESSAGE_FLAGS changed; a save that changes nothing publishes
  // nothing. PR_LAST_MODIFICATION_TIME is updated when something changed
  // (and not listed). Flags: KEEP_OPEN_READWRITE keeps the handle writable,
  // KEEP_OPEN_READONLY readable (both: read-write); with neither the handle
  // is released; FORCE_SAVE, MAPI_DEFERRED_ERRORS accepted. Errors:
  // MAPI_E_NO_ACCESS for a read-only handle; MAPI_E_OBJECT_DELETED when the
  // message (or, unsaved, its folder) was deleted or moved meanwhile.
  // Returns the message's entry id.
  absl::StatusOr<EntryId> SaveChanges(const CallContext& caller, Handle handle,
                                      ULONG flags);
  // Discards the handle and all its pending changes (every thread's).
  // NotFound for an unknown handle or one of another session.
  absl::Status Release(const CallContext& caller, Handle handle);
  // Releases every handle and closes every table view of `session` (its
  // stream ended).
  void ReleaseSession(const std::string& session);

  // The bulk message calls below take a non-empty list of entry ids of
  // messages of `folder` / `source` (duplicates count once), except
  // SetReadFlags where empty means all. A malformed id fails the whole call
  // (MAPI_E_INVALID_ENTRYID) before anything changes. Ids of no live message
  // of that folder are skipped and the others processed: the call then
  // returns OK and sets `*warning` (when given) to
  // MAPI_W_PARTIAL_COMPLETION, else to S_OK (MAPI's partial completion).

  // Deletes messages. Flags: MESSAGE_DIALOG (accepted). Publishes
  // fnevObjectDeleted {message, MAPI_MESSAGE, folder} per message, then the
  // folder's counters once.
  absl::Status DeleteMessages(const EntryId& folder,
                              const std::vector<EntryId>& messages, ULONG flags,
                              SCODE* warning = nullptr,
                              MapiProgress* progress = nullptr);
  // Copies (MESSAGE_MOVE: moves) messages of `source` into `dest`. The copy
  // or the moved message gets a new entry id (as Exchange does: a moved
  // message's old id is then MAPI_E_NOT_FOUND and its open handles get
  // MAPI_E_OBJECT_DELETED); properties and times are kept. Flags:
  // MESSAGE_MOVE, MESSAGE_DIALOG (accepted). A move into `source` itself
  // changes nothing. Publishes fnevObjectCopied / fnevObjectMoved {new id,
  // MAPI_MESSAGE, dest, old_id = message, old_parent = source} per message,
  // then (move) source's counters, then dest's counters.
  absl::Status CopyMessages(const EntryId& source,
                            const std::vector<EntryId>& messages,
                            const EntryId& dest, ULONG flags,
                            SCODE* warning = nullptr,
                            MapiProgress* progress = nullptr);
  // Sets (or with CLEAR_READ_FLAG clears) MSGFLAG_READ in PR_MESSAGE_FLAGS;
  // `messages` empty: all of the folder's. Flags: CLEAR_READ_FLAG,
  // SUPPRESS_RECEIPT, MESSAGE_DIALOG (the last two accepted). Publishes
  // fnevObjectModified {message, MAPI_MESSAGE, folder, [PR_MESSAGE_FLAGS]}
  // per message whose flag changed, then the folder's counters
  // (PR_CONTENT_UNREAD).
  absl::Status SetReadFlags(const EntryId& folder,
                            const std::vector<EntryId>& messages, ULONG flags,
                            SCODE* warning = nullptr,
                            MapiProgress* progress = nullptr);
  // Delivers a new, saved message with `props` into the receive folder
  // (Inbox). Defaults: PR_MESSAGE_CLASS "IPM.Note", PR_MESSAGE_FLAGS 0
  // (unread), PR_MESSAGE_DELIVERY_TIME now. A bad value fails the whole call
  // with the SCODE SetMessageProps would report as a problem
  // (MAPI_E_COMPUTED, MAPI_E_INVALID_TYPE, MAPI_E_INVALID_PARAMETER).
  // Publishes fnevObjectCreated {message, MAPI_MESSAGE, inbox}, the Inbox's
  // counters, then fnevNewMail {message, inbox, message class, message
  // flags} (targets: the store, the message and the inbox).
  absl::StatusOr<EntryId> DeliverNewMail(const std::vector<PropValue>& props);

  // --- Tables (IMAPITable). A view is a contents table of a folder (its
  // saved messages) or a hierarchy table (its subfolders; with
  // CONVENIENT_DEPTH its whole subtree). Each open is its own view with its
  // own cursor, column set, restriction, sort order and bookmarks; a view
  // belongs to caller.session and is shared by all threads of that session
  // (one cursor). It lives until CloseTable, or until ReleaseSession of its
  // session, or until its folder is deleted (then every call on it is
  // MAPI_E_OBJECT_DELETED, except CloseTable). A view of another session,
  // or an unknown or closed one, is MAPI_E_NOT_FOUND. At most
  // Options::max_views_per_session views per session
  // (MAPI_E_NOT_ENOUGH_RESOURCES beyond).
  //
  // Rows. A row stands for one object; its properties are every property
  // GetProps returns for the object, plus PR_INSTANCE_KEY (PT_BINARY, 8
  // bytes, unique among the rows of the view, stable while the row lives)
  // and, in a hierarchy table, PR_DEPTH relative to the table's folder (1
  // for its direct subfolders) instead of the absolute one. QueryRows gives
  // each row's values in the view's column order: a column the row lacks is
  // PT_ERROR with MAPI_E_NOT_FOUND, a PR_NULL column stays PR_NULL.
  // Default columns: contents PR_INSTANCE_KEY, PR_ENTRYID, PR_SUBJECT,
  // PR_MESSAGE_CLASS, PR_MESSAGE_FLAGS, PR_MESSAGE_SIZE,
  // PR_LAST_MODIFICATION_TIME; hierarchy PR_INSTANCE_KEY, PR_ENTRYID,
  // PR_DISPLAY_NAME, PR_DEPTH, PR_CONTENT_COUNT, PR_CONTENT_UNREAD,
  // PR_SUBFOLDERS.
  //
  // Order. Rows are ordered by the view's sort keys (SortTable; none by
  // default) and then by a fixed tie-break: ascending creation order of the
  // object (a copied or moved message is a new object). The order is total
  // and deterministic, and it is the order table notifications use.
  //
  // Cursor and bookmarks point at rows: when rows come and go they keep
  // pointing at the same row. A bookmark whose row was removed moves to the
  // row that followed it, and the next SeekRow / FindRow from it sets
  // *warning to MAPI_W_POSITION_CHANGED. The end points at no row: a row
  // added at the end of the order lands under a cursor or bookmark there
  // (so a view opened empty shows the rows that arrive). At most
  // kMaxBookmarksPerView bookmarks per view (MAPI_E_UNABLE_TO_COMPLETE
  // beyond).
  //
  // Table notifications (fnevTableModified, targets TableTargetKey(view)).
  // Every operation that changes rows of a view appends, to its own one
  // batch and after its object notifications, for each view concerned (views
  // in ascending id): TABLE_ROW_ADDED {index = the row's PR_INSTANCE_KEY,
  // prior = the PR_INSTANCE_KEY of the row before it in the view's order
  // (PR_NULL when first), row in the view's columns}, TABLE_ROW_MODIFIED
  // {same fields; only when the row's column values or its position changed}
  // and TABLE_ROW_DELETED {index}. A row that stops matching the view's
  // restriction is deleted, one that starts matching added. Each event is
  // computed against the view as the events before it left it, so applying
  // them in order (inserting after `prior`) reproduces QueryRows exactly.
  // When one operation would produce more than kTableChangedThreshold
  // events for one view, that view gets one TABLE_CHANGED instead.
  // SetColumns / Restrict / SortTable publish TABLE_RELOAD for the view (its
  // rows must be read again); with TBL_ASYNC they answer OK at once (the
  // change is made before answering) and publish TABLE_SETCOL_DONE /
  // TABLE_RESTRICT_DONE / TABLE_SORT_DONE, or TABLE_ERROR {hresult = the
  // SCODE} when the change failed (the view is then unchanged).
  static constexpr size_t kMaxBookmarksPerView = 1024;
  static constexpr size_t kTableChangedThreshold = 8;
  // QueryRows returns at most this many rows per call, and fewer when their
  // wire size would exceed kMaxQueryRowsBytes (but always at least one row).
  static constexpr size_t kMaxQueryRows = 4096;
  static constexpr size_t kMaxQueryRowsBytes = 512 * 1024;

  using ViewId = uint64_t;
  // IMAPIContainer::GetContentsTable. Flags: MAPI_DEFERRED_ERRORS (accepted).
  absl::StatusOr<ViewId> OpenContentsTable(const CallContext& caller,
                                           const EntryId& folder, ULONG flags);
  // IMAPIContainer::GetHierarchyTable. Flags: CONVENIENT_DEPTH,
  // MAPI_DEFERRED_ERRORS (accepted).
  absl::StatusOr<ViewId> OpenHierarchyTable(const CallContext& caller,
                                            const EntryId& folder, ULONG flags);
  // Releases the view. Connections advised on it get nothing more.
  absl::Status CloseTable(const CallContext& caller, ViewId view);
  // OK when `view` is an open view (of any session), NotFound otherwise:
  // the hub's TargetValidator for table targets.
  absl::Status TableExists(ViewId view) const;

  // IMAPITable::SetColumns: 1..4096 tags (duplicates and PR_NULL allowed);
  // an empty list is MAPI_E_INVALID_PARAMETER. Flags: TBL_ASYNC, TBL_BATCH
  // (accepted). Keeps the cursor and bookmarks.
  absl::Status SetColumns(const CallContext& caller, ViewId view,
                          const std::vector<ULONG>& columns, ULONG flags);
  // IMAPITable::QueryColumns: the column set; with TBL_ALL_COLUMNS every
  // tag a row of the view could have (the default columns and every
  // property some object in the view's scope has), ascending.
  absl::StatusOr<std::vector<ULONG>> QueryColumns(const CallContext& caller,
                                                  ViewId view,
                                                  ULONG flags) const;
  // IMAPITable::GetRowCount: rows in the view (after its restriction).
  // Flags: none (any bit is MAPI_E_UNKNOWN_FLAGS).
  absl::StatusOr<ULONG> GetRowCount(const CallContext& caller, ViewId view,
                                    ULONG flags) const;
  // IMAPITable::QueryRows. count > 0: up to `count` rows from the cursor
  // forward; the cursor moves past them, or with TBL_NOADVANCE stays on the
  // first one. count < 0: up to -count rows before the cursor, returned in
  // table order; the cursor moves to the first of them (with or without
  // TBL_NOADVANCE). No rows when the cursor is at the end (count > 0) or at
  // the beginning (count < 0). count 0: MAPI_E_INVALID_PARAMETER. Flags:
  // TBL_NOADVANCE. At most kMaxQueryRows rows, and no more once their
  // RowByteSize (an upper bound of their wire size) would pass
  // min(max_bytes, kMaxQueryRowsBytes) — but always at least one row.
  absl::StatusOr<std::vector<Row>> QueryRows(
      const CallContext& caller, ViewId view, LONG count, ULONG flags,
      size_t max_bytes = kMaxQueryRowsBytes);
  // IMAPITable::SeekRow: moves the cursor `count` rows from `origin`
  // (BOOKMARK_BEGINNING / CURRENT / END or a bookmark), clamped to the
  // table, and returns the signed number of rows actually moved from the
  // origin. MAPI_E_INVALID_BOOKMARK for an unknown or freed bookmark.
  absl::StatusOr<LONG> SeekRow(const CallContext& caller, ViewId view,
                               BOOKMARK origin, LONG count,
                               SCODE* warning = nullptr);
  // IMAPITable::QueryPosition: {cursor row, cursor row, row count}.
  absl::StatusOr<TablePosition> QueryPosition(const CallContext& caller,
                                              ViewId view) const;
  // IMAPITable::CreateBookmark (at the cursor) / FreeBookmark
  // (MAPI_E_INVALID_BOOKMARK for an unknown one; freeing a predefined one
  // is OK and does nothing).
  absl::StatusOr<BOOKMARK> CreateBookmark(const CallContext& caller,
                                          ViewId view);
  absl::Status FreeBookmark(const CallContext& caller, ViewId view,
                            BOOKMARK bookmark);
  // IMAPITable::FindRow: the first row matching `restriction`, searching
  // forward from the row at `origin` (included) or, with DIR_BACKWARD,
  // backward from the row before it; moves the cursor to that row.
  // MAPI_E_NOT_FOUND (cursor unchanged) when no row matches. Flags:
  // DIR_BACKWARD. Restriction errors as Restrict.
  absl::Status FindRow(const CallContext& caller, ViewId view,
                       const Restriction& restriction, BOOKMARK origin,
                       ULONG flags, SCODE* warning = nullptr);
  // IMAPITable::Restrict: only rows matching `restriction` (nullopt: all
  // rows) stay in the view. Discards every bookmark and moves the cursor to
  // the beginning. Flags: TBL_ASYNC, TBL_BATCH (accepted). Errors (see
  // table_types.h): MAPI_E_INVALID_PARAMETER, MAPI_E_TOO_COMPLEX.
  absl::Status Restrict(const CallContext& caller, ViewId view,
                        const std::optional<Restriction>& restriction,
                        ULONG flags);
  // IMAPITable::SortTable: orders rows by `sort` (empty: the default order,
  // by the tie-break alone). Discards bookmarks and moves the cursor to the
  // beginning. Flags: TBL_ASYNC, TBL_BATCH (accepted). Errors: more than
  // kMaxSortKeys keys or a multi-valued tag MAPI_E_TOO_COMPLEX; an order
  // other than TABLE_SORT_ASCEND / DESCEND MAPI_E_INVALID_PARAMETER.
  absl::Status SortTable(const CallContext& caller, ViewId view,
                         const SortOrderSet& sort, ULONG flags);
  // IMAPITable::QuerySortOrder.
  absl::StatusOr<SortOrderSet> QuerySortOrder(const CallContext& caller,
                                              ViewId view) const;

  // Every row of the view in its columns, in order, as of one commit: what
  // a client needs to (re)load a mirror of the view. Does not move the
  // cursor. `sequence` is the hub's last sequence number at that commit
  // (0 without a hub): every notification with a higher sequence happened
  // after the snapshot, every one at or below it before.
  // MAPI_E_TABLE_TOO_BIG when the view has more than `max_rows` rows or its
  // values exceed `max_bytes`.
  struct TableSnapshot {
    std::vector<ULONG> columns;
    std::vector<Row> rows;
    uint64_t sequence = 0;
  };
  absl::StatusOr<TableSnapshot> QueryAllRows(const CallContext& caller,
                                             ViewId view, size_t max_rows,
                                             size_t max_bytes) const;

  // Checks the tree's invariants: every folder and message is reachable
  // from the root exactly once, parent links agree with the child sets,
  // each folder's unread count (kept incrementally) matches its messages'
  // PR_MESSAGE_FLAGS, and the well-known folders exist. OK, or DataLoss
  // (MAPI_E_CORRUPT_STORE) describing the first violation. For tests.
  absl::Status CheckConsistency() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace store
}  // namespace mapinotify::server

#endif  // MAPINOTIFY_SERVER_STORE_STORE_H_
