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
// Publishing is the only call the store makes while holding its lock.
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
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mapinotify/mapi.h"
#include "mapinotify/notification.h"

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
                                     const std::string& new_name, ULONG flags);
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
                            ULONG flags);
  // Deletes every message and every subfolder (with its subtree) of
  // `folder`, as MAPI's EmptyFolder does. Flags: DEL_ASSOCIATED (accepted;
  // there are no associated contents). MAPI_E_NO_ACCESS when the subtree
  // holds a well-known folder. Publishes fnevObjectDeleted for everything
  // deleted (the folder's messages, then each subfolder's subtree bottom-up
  // as DeleteFolder, oldest subfolder first), then the folder's counters;
  // nothing for an empty folder.
  absl::Status EmptyFolder(const EntryId& folder, ULONG flags);

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
  // Releases every handle of `session` (its stream ended).
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
                              SCODE* warning = nullptr);
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
                            SCODE* warning = nullptr);
  // Sets (or with CLEAR_READ_FLAG clears) MSGFLAG_READ in PR_MESSAGE_FLAGS;
  // `messages` empty: all of the folder's. Flags: CLEAR_READ_FLAG,
  // SUPPRESS_RECEIPT, MESSAGE_DIALOG (the last two accepted). Publishes
  // fnevObjectModified {message, MAPI_MESSAGE, folder, [PR_MESSAGE_FLAGS]}
  // per message whose flag changed, then the folder's counters
  // (PR_CONTENT_UNREAD).
  absl::Status SetReadFlags(const EntryId& folder,
                            const std::vector<EntryId>& messages, ULONG flags,
                            SCODE* warning = nullptr);
  // Delivers a new, saved message with `props` into the receive folder
  // (Inbox). Defaults: PR_MESSAGE_CLASS "IPM.Note", PR_MESSAGE_FLAGS 0
  // (unread), PR_MESSAGE_DELIVERY_TIME now. A bad value fails the whole call
  // with the SCODE SetMessageProps would report as a problem
  // (MAPI_E_COMPUTED, MAPI_E_INVALID_TYPE, MAPI_E_INVALID_PARAMETER).
  // Publishes fnevObjectCreated {message, MAPI_MESSAGE, inbox}, the Inbox's
  // counters, then fnevNewMail {message, inbox, message class, message
  // flags} (targets: the store, the message and the inbox).
  absl::StatusOr<EntryId> DeliverNewMail(const std::vector<PropValue>& props);

  // Checks the tree's invariants: every folder and message is reachable
  // from the root exactly once, parent links agree with the child sets, and
  // the well-known folders exist. OK, or DataLoss (MAPI_E_CORRUPT_STORE)
  // describing the first violation. For tests.
  absl::Status CheckConsistency() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace store
}  // namespace mapinotify::server

#endif  // MAPINOTIFY_SERVER_STORE_STORE_H_
