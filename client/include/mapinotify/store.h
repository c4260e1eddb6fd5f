// MsgStore and Message: a typed client of mapinotifyd's built-in message
// store (IMsgStore / IMAPIFolder / IMessage), obtained from a Session
// (Session::OpenMsgStore). Every call is one round trip to the server and
// returns the store's answer; its changes publish their notifications to
// every session advised on the objects concerned.
//
// Errors are absl::Status values carrying the MAPI SCODE (mapinotify::ScodeOf
// gives MAPI_E_NOT_FOUND, MAPI_E_COLLISION, MAPI_E_HAS_FOLDERS ...). Besides
// the store's own errors, any call can fail with Unavailable
// (MAPI_E_NETWORK_ERROR when the server cannot be reached,
// MAPI_E_END_OF_SESSION once the session that made the object is destroyed)
// and DeadlineExceeded (no answer within SessionOptions::store_call_timeout).
//
// Threads: every call is tagged with the calling thread (an id the library
// assigns to each OS thread on its first call). A message opened with
// MAPINOTIFY_THREAD_AWARE keeps separate pending changes for each client
// thread; opened without it, all threads of the session share one context.
#ifndef MAPINOTIFY_STORE_H_
#define MAPINOTIFY_STORE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "mapinotify/mapi.h"
#include "mapinotify/message_loop.h"
#include "mapinotify/notification.h"
#include "mapinotify/operation.h"
#include "mapinotify/progress.h"
#include "mapinotify/table.h"

namespace mapinotify {

namespace internal {
class StoreClient;
}  // namespace internal

// One property that SetProps / DeleteProps did not apply (SPropProblem).
struct PropProblem {
  uint32_t index = 0;  // Position of the property in the request.
  ULONG tag = 0;       // Its property tag.
  SCODE scode = 0;     // Why: MAPI_E_COMPUTED, MAPI_E_INVALID_TYPE ...

  friend bool operator==(const PropProblem& a, const PropProblem& b) {
    return a.index == b.index && a.tag == b.tag && a.scode == b.scode;
  }
  friend bool operator!=(const PropProblem& a, const PropProblem& b) {
    return !(a == b);
  }
};

// An open message (IMessage): a handle on the server with pending changes
// in the caller's context until SaveChanges. Thread-safe. Destroying it
// releases the handle (and discards unsaved changes); after its session is
// destroyed there is nothing left to release and the destructor does no
// call. May outlive the MsgStore that made it.
class Message {
 public:
  ~Message();
  Message(const Message&) = delete;
  Message& operator=(const Message&) = delete;

  // GetProps: the saved values overlaid with the caller's pending changes,
  // one per tag in order (`tags` empty: every property). A property the
  // message lacks stands in its slot as PROP_TAG(PT_ERROR, id) with
  // MAPI_E_NOT_FOUND.
  absl::StatusOr<std::vector<PropValue>> GetProps(
      const std::vector<ULONG>& tags) const;
  // SetProps: pending changes in the caller's context. Properties that
  // cannot be set (computed ones: MAPI_E_COMPUTED) come back as problems;
  // the others are applied. A value whose alternative disagrees with its
  // tag's type fails the whole call with MAPI_E_INVALID_PARAMETER.
  absl::StatusOr<std::vector<PropProblem>> SetProps(
      const std::vector<PropValue>& values);
  // DeleteProps: pending deletions, with SetProps' rules.
  absl::StatusOr<std::vector<PropProblem>> DeleteProps(
      const std::vector<ULONG>& tags);
  // SaveChanges: commits the caller's pending changes and returns the
  // message's entry id (the first save of a created message assigns it).
  // `flags`: KEEP_OPEN_READWRITE or KEEP_OPEN_READONLY keep the handle
  // open; with neither the handle is released and later calls on this
  // object fail with MAPI_E_INVALID_OBJECT. MAPI_E_OBJECT_DELETED when the
  // message was deleted meanwhile.
  absl::StatusOr<EntryId> SaveChanges(ULONG flags);
  // Releases the handle now (what the destructor does). Later calls on this
  // object fail with MAPI_E_INVALID_OBJECT. Idempotent: OK when already
  // released.
  absl::Status Release();

  // The entry id: the opened message's, or a created message's once saved
  // (empty before).
  EntryId entry_id() const ABSL_LOCKS_EXCLUDED(mu_);
  // The server's handle (for logs).
  uint64_t handle() const { return handle_; }

 private:
  friend class internal::StoreClient;
  Message(std::shared_ptr<internal::StoreClient> client, uint64_t handle,
          EntryId entry_id);
  // OK while the handle is open; MAPI_E_INVALID_OBJECT after it was
  // released.
  absl::Status CheckOpen() const ABSL_LOCKS_EXCLUDED(mu_);

  // Constant after construction.
  const std::shared_ptr<internal::StoreClient> client_;
  const uint64_t handle_;

  mutable absl::Mutex mu_;
  EntryId entry_id_ ABSL_GUARDED_BY(mu_);
  bool released_ ABSL_GUARDED_BY(mu_) = false;
};

// The server's message store (IMsgStore plus the folder calls of
// IMAPIFolder, addressed by entry id). Thread-safe: any thread may call any
// method at once, including from inside an advise sink. Entry ids are
// opaque, long-term, and equal across sessions. May outlive its Session, but
// every call then fails with MAPI_E_END_OF_SESSION.
class MsgStore {
 public:
  ~MsgStore();
  MsgStore(const MsgStore&) = delete;
  MsgStore& operator=(const MsgStore&) = delete;

  // Well-known entry ids (fetched when the store was opened).
  // The store's own (PR_STORE_ENTRYID; AdviseTarget::Store() watches it).
  const EntryId& entry_id() const { return entry_id_; }
  // The root folder of the hierarchy.
  const EntryId& root_folder_id() const { return root_folder_id_; }
  // PR_IPM_SUBTREE_ENTRYID: where user folders live.
  const EntryId& ipm_subtree_id() const { return ipm_subtree_id_; }
  // The Inbox: the receive folder of DeliverNewMail.
  const EntryId& inbox_id() const { return inbox_id_; }
  // PR_IPM_OUTBOX_ENTRYID, PR_IPM_SENTMAIL_ENTRYID,
  // PR_IPM_WASTEBASKET_ENTRYID.
  const EntryId& outbox_id() const { return outbox_id_; }
  const EntryId& sent_items_id() const { return sent_items_id_; }
  const EntryId& deleted_items_id() const { return deleted_items_id_; }

  // IMAPIProp::GetProps of the store, a folder or a saved message, one
  // value per tag in order (`tags` empty: every property); a property the
  // object lacks stands in its slot as PT_ERROR / MAPI_E_NOT_FOUND.
  // MAPI_E_NOT_FOUND for an unknown object, MAPI_E_INVALID_ENTRYID for an id
  // that is not this store's.
  absl::StatusOr<std::vector<PropValue>> GetProps(
      const EntryId& entry_id, const std::vector<ULONG>& tags) const;
  // IMAPIProp::SetProps of a folder: applied at once (fnevObjectModified
  // with the changed tags). Computed properties (PR_CONTENT_COUNT,
  // PR_SUBFOLDERS ...) come back as problems with MAPI_E_COMPUTED; the
  // others are applied.
  absl::StatusOr<std::vector<PropProblem>> SetProps(
      const EntryId& folder, const std::vector<PropValue>& values);
  // IMAPIProp::DeleteProps of a folder, with SetProps' rules.
  absl::StatusOr<std::vector<PropProblem>> DeleteProps(
      const EntryId& folder, const std::vector<ULONG>& tags);

  // --- Long operations: CopyFolder, DeleteFolder, EmptyFolder,
  // DeleteMessages, CopyMessages (moves too) and SetReadFlags.
  //
  // Progress. Each takes an optional IMAPIProgress object
  // (mapinotify/progress.h) that the server's store reports to as a MAPI
  // provider following Microsoft's "How to: Display a Progress Indicator"
  // does (GetFlags / GetMin / GetMax are read once, on the calling thread,
  // before the call goes out; then SetLimits with MAPI_TOP_LEVEL and
  // Progress(value, i, N) per item, local sub-ranges for subfolders; the
  // value never decreases and reaches the maximum exactly at completion).
  // The blocking form calls `progress` on the calling thread while it waits,
  // and returns after the last call. While the consumer is slow the calls
  // waiting for it are coalesced (a Progress superseded by a newer one is
  // dropped, consecutive SetLimits merge; at most 16 wait), so the server is
  // never held up and the last Progress always arrives. Without a progress
  // object the call is one unary round trip.
  //
  // Cancel. When `progress` answers MAPI_E_USER_CANCEL the server stops the
  // operation before its next item (the answer reaches it over the wire, so
  // items it finished meanwhile stay done): the call returns OK with
  // `*warning` = MAPI_W_PARTIAL_COMPLETION, the store is consistent (no item
  // half done) and the notifications published are exactly those of the
  // items done. After that answer `progress` gets no further call.
  //
  // `*warning` (when given) is set on success: S_OK, or
  // MAPI_W_PARTIAL_COMPLETION when items were skipped (ids of no live
  // message) or left undone by a cancel (CopyFolder, DeleteFolder and
  // EmptyFolder without a progress object cannot be cancelled: S_OK).
  //
  // Deadline. SessionOptions::store_call_timeout bounds the whole
  // operation, progress included. When it expires the call fails with
  // DeadlineExceeded; the server stops the operation before its next item
  // once it sees the deadline pass on its own clock (as on a cancel: what
  // was done stays done and notified), so it may complete meanwhile.

  // The asynchronous form of the long operations: starts `operation` and
  // returns at once. `progress` (may be null) is read (GetFlags / GetMin /
  // GetMax) on the calling thread before Start returns; then it gets its
  // calls, and then
  // `done` its outcome exactly once, on `loop`'s owning thread while the
  // loop is pumped, in that order (`done` after the last progress call).
  // Operation::Cancel, or `progress` answering MAPI_E_USER_CANCEL, cancels
  // as above. `loop` need not outlive the operation: once it is destroyed
  // nothing more is delivered (the operation still completes on the
  // server). InvalidArgument for an empty `done`; FailedPrecondition for a
  // loop being destroyed; Unavailable (MAPI_E_END_OF_SESSION) after the session
  // ended. Errors of the operation itself (a bad id, MAPI_E_NOT_FOUND ...)
  // come through `done`.
  absl::StatusOr<std::shared_ptr<Operation>> Start(
      LongOperation operation, std::shared_ptr<MapiProgress> progress,
      MessageLoop& loop, OperationCallback done);

  // IMAPIFolder::CreateFolder: a subfolder `name` of `parent`; returns its
  // entry id. MAPI_E_COLLISION when `parent` has a subfolder of that name
  // (case-insensitive) unless `flags` has OPEN_IF_EXISTS (then returns that
  // one). Other flags: MAPI_E_UNKNOWN_FLAGS.
  absl::StatusOr<EntryId> CreateFolder(const EntryId& parent,
                                       const std::string& name,
                                       const std::string& comment, ULONG flags);
  // IMAPIFolder::CopyFolder: copies `folder` (a child of `source_parent`)
  // into `dest_parent` as `new_name` (empty: the same name) and returns the
  // copy's entry id. `flags`: COPY_SUBFOLDERS (the whole subtree),
  // FOLDER_MOVE (move; returns the folder's own id; MAPI_E_FOLDER_CYCLE into
  // its own subtree). MAPI_E_COLLISION on a name clash.
  absl::StatusOr<EntryId> CopyFolder(const EntryId& source_parent,
                                     const EntryId& folder,
                                     const EntryId& dest_parent,
                                     const std::string& new_name, ULONG flags,
                                     SCODE* warning = nullptr,
                                     MapiProgress* progress = nullptr);
  // IMAPIFolder::DeleteFolder of `folder`, a child of `parent`. Without
  // DEL_FOLDERS a folder with subfolders fails with MAPI_E_HAS_FOLDERS;
  // without DEL_MESSAGES one with messages fails with MAPI_E_HAS_MESSAGES.
  absl::Status DeleteFolder(const EntryId& parent, const EntryId& folder,
                            ULONG flags, SCODE* warning = nullptr,
                            MapiProgress* progress = nullptr);
  // IMAPIFolder::EmptyFolder. `flags`: DEL_ASSOCIATED (accepted).
  absl::Status EmptyFolder(const EntryId& folder, ULONG flags,
                           SCODE* warning = nullptr,
                           MapiProgress* progress = nullptr);

  // IMAPIFolder::CreateMessage: a new message in `folder`, unsaved (it
  // exists, and notifies, once Message::SaveChanges is called). `flags`:
  // MAPINOTIFY_THREAD_AWARE, MAPI_DEFERRED_ERRORS.
  absl::StatusOr<std::unique_ptr<Message>> CreateMessage(const EntryId& folder,
                                                         ULONG flags);
  // IMsgStore::OpenEntry of a saved message. `flags`: MAPI_MODIFY or
  // MAPI_BEST_ACCESS to write (without them SetProps / SaveChanges fail
  // with MAPI_E_NO_ACCESS), MAPINOTIFY_THREAD_AWARE for a pending context
  // per client thread, MAPI_DEFERRED_ERRORS. Each open is its own context:
  // two opens of one message have independent pending changes.
  absl::StatusOr<std::unique_ptr<Message>> OpenMessage(const EntryId& entry_id,
                                                       ULONG flags);
  // The bulk calls below take messages of `folder` / `source`: a malformed
  // id fails the whole call (MAPI_E_INVALID_ENTRYID) before anything
  // changes; ids of no live message of that folder are skipped, the others
  // processed, and the call returns OK with `*warning` (when given) set to
  // MAPI_W_PARTIAL_COMPLETION (S_OK when nothing was skipped) — MAPI's
  // partial completion.

  // IMAPIFolder::DeleteMessages (`messages` not empty). `flags`:
  // MESSAGE_DIALOG (accepted).
  absl::Status DeleteMessages(const EntryId& folder,
                              const std::vector<EntryId>& messages, ULONG flags,
                              SCODE* warning = nullptr,
                              MapiProgress* progress = nullptr);
  // IMAPIFolder::CopyMessages from `source` into `dest` (`messages` not
  // empty). `flags`: MESSAGE_MOVE (a moved message gets a new entry id;
  // its old id is then MAPI_E_NOT_FOUND), MESSAGE_DIALOG.
  absl::Status CopyMessages(const EntryId& source,
                            const std::vector<EntryId>& messages,
                            const EntryId& dest, ULONG flags,
                            SCODE* warning = nullptr,
                            MapiProgress* progress = nullptr);
  // IMAPIFolder::SetReadFlags: sets MSGFLAG_READ (with CLEAR_READ_FLAG:
  // clears it) in PR_MESSAGE_FLAGS of `messages` (empty: every message of
  // the folder). Also accepted: SUPPRESS_RECEIPT, MESSAGE_DIALOG.
  absl::Status SetReadFlags(const EntryId& folder,
                            const std::vector<EntryId>& messages, ULONG flags,
                            SCODE* warning = nullptr,
                            MapiProgress* progress = nullptr);
  // Delivers a new message with `props` into the receive folder (Inbox), as
  // a transport would: fnevNewMail on the store plus the created / modified
  // events. Returns the new message's entry id.
  absl::StatusOr<EntryId> DeliverNewMail(const std::vector<PropValue>& props);

  // IMAPIContainer::GetContentsTable of `folder`: a new view of its saved
  // messages with its own cursor (mapinotify/table.h). `flags`:
  // MAPI_DEFERRED_ERRORS (accepted).
  absl::StatusOr<std::unique_ptr<Table>> OpenContentsTable(
      const EntryId& folder, ULONG flags = 0);
  // IMAPIContainer::GetHierarchyTable of `folder`: its subfolders, or with
  // CONVENIENT_DEPTH its whole subtree (PR_DEPTH 1 for direct subfolders).
  absl::StatusOr<std::unique_ptr<Table>> OpenHierarchyTable(
      const EntryId& folder, ULONG flags = 0);

 private:
  friend class internal::StoreClient;
  struct WellKnown {
    EntryId store, root, ipm_subtree, inbox, outbox, sent_items, deleted_items;
  };
  MsgStore(std::shared_ptr<internal::StoreClient> client, WellKnown ids);

  // Constant after construction.
  const std::shared_ptr<internal::StoreClient> client_;
  const EntryId entry_id_;
  const EntryId root_folder_id_;
  const EntryId ipm_subtree_id_;
  const EntryId inbox_id_;
  const EntryId outbox_id_;
  const EntryId sent_items_id_;
  const EntryId deleted_items_id_;
};

}  // namespace mapinotify

#endif  // MAPINOTIFY_STORE_H_
