// Store::Impl: the state of a Store and the operations on it. Internal to
// server/store; the contract is store.h. The code is split by concern:
// store.cc (construction, the public API), store_tree.cc (lookups, counters,
// subtree walks, publishing, listings, consistency), store_props.cc
// (computed properties, GetProps, Exists), store_folders.cc (folder
// operations), store_messages.cc (open messages), store_message_ops.cc
// (bulk message operations and new mail).
//
// Thread-safe: every operation takes mu_; the helpers named *Locked require
// it. The only call made under mu_ is Hub::PublishDeferred (see store.h); the
// stream wakes it owes (which may start gRPC writes) run after mu_ is
// released, by WriteLock.
#ifndef MAPINOTIFY_SERVER_STORE_STORE_IMPL_H_
#define MAPINOTIFY_SERVER_STORE_STORE_IMPL_H_

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/hub/hub.h"
#include "server/store/entry_id.h"
#include "server/store/open_contexts.h"
#include "server/store/property_bag.h"
#include "server/store/store.h"
#include "server/store/store_notify.h"
#include "server/store/store_objects.h"

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
                                     const std::string& new_name, ULONG flags)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status DeleteFolder(const EntryId& parent, const EntryId& folder,
                            ULONG flags) ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status EmptyFolder(const EntryId& folder, ULONG flags)
      ABSL_LOCKS_EXCLUDED(mu_);

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
                              SCODE* warning) ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status CopyMessages(const EntryId& source,
                            const std::vector<EntryId>& messages,
                            const EntryId& dest, ULONG flags, SCODE* warning)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status SetReadFlags(const EntryId& folder,
                            const std::vector<EntryId>& messages, ULONG flags,
                            SCODE* warning) ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<EntryId> DeliverNewMail(const std::vector<PropValue>& props)
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
  // Erases `folder`'s subtree (folders and messages), adding
  // fnevObjectDeleted for each object bottom-up, and unlinks it from its
  // parent.
  void DeleteSubtreeLocked(ObjectNumber folder, NotificationBatch* batch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Erases message `number` (a message of `folder`), adding
  // fnevObjectDeleted.
  void DeleteMessageLocked(ObjectNumber number, NotificationBatch* batch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Copies `folder` (and with `subfolders` its subtree) into `dest_parent`
  // as `name`, adding fnevObjectCopied for the copy and fnevObjectCreated
  // for its contents. Returns the copy's number. REQUIRES: dest_parent is
  // not inside folder's subtree.
  ObjectNumber CopySubtreeLocked(ObjectNumber folder, ObjectNumber dest_parent,
                                 const std::string& name, bool subfolders,
                                 NotificationBatch* batch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Publishes `batch` as one Hub::Publish call (nothing when it is empty or
  // there is no hub). Called under mu_ on purpose: see store.h.
  void PublishLocked(NotificationBatch* batch)
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

  // State below is protected by mu_.
  mutable absl::Mutex mu_;
  // std::map: references stay valid while other entries come and go.
  std::map<ObjectNumber, Folder> folders_ ABSL_GUARDED_BY(mu_);
  std::map<ObjectNumber, Message> messages_ ABSL_GUARDED_BY(mu_);
  OpenContexts contexts_ ABSL_GUARDED_BY(mu_);
  ObjectNumber next_number_ ABSL_GUARDED_BY(mu_) = kFirstDynamicNumber;
  // Wakes owed by this operation's publishes; run by ~WriteLock.
  Hub::Wakes wakes_ ABSL_GUARDED_BY(mu_);
};

}  // namespace mapinotify::server::store

#endif  // MAPINOTIFY_SERVER_STORE_STORE_IMPL_H_
