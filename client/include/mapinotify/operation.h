// Long operations of the store run asynchronously: MsgStore::Start
// (mapinotify/store.h) runs one of IMAPIFolder's long calls — CopyFolder,
// DeleteFolder, EmptyFolder, DeleteMessages, CopyMessages, SetReadFlags —
// and delivers its progress (IMAPIProgress, mapinotify/progress.h) and then
// its outcome on the MessageLoop the caller names. The blocking forms are
// MsgStore's methods of the same names, which take a progress object too.
#ifndef MAPINOTIFY_OPERATION_H_
#define MAPINOTIFY_OPERATION_H_

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "mapinotify/mapi.h"
#include "mapinotify/notification.h"

namespace mapinotify {

// One long operation, with the arguments its MsgStore method takes (see
// mapinotify/store.h for each call's rules and flags). Build it with the
// factory of its kind; a value type.
struct LongOperation {
  enum class Kind {
    kCopyFolder,
    kDeleteFolder,
    kEmptyFolder,
    kDeleteMessages,
    kCopyMessages,
    kSetReadFlags,
  };

  // CopyFolder: `folder`, a child of `parent`, into `dest` as `new_name`.
  static LongOperation CopyFolder(EntryId source_parent, EntryId folder,
                                  EntryId dest_parent, std::string new_name,
                                  ULONG flags);
  // DeleteFolder: `folder`, a child of `parent`.
  static LongOperation DeleteFolder(EntryId parent, EntryId folder,
                                    ULONG flags);
  // EmptyFolder: `folder`.
  static LongOperation EmptyFolder(EntryId folder, ULONG flags);
  // DeleteMessages: `messages` of `folder`.
  static LongOperation DeleteMessages(EntryId folder,
                                      std::vector<EntryId> messages,
                                      ULONG flags);
  // CopyMessages: `messages` of `folder` into `dest`.
  static LongOperation CopyMessages(EntryId source,
                                    std::vector<EntryId> messages, EntryId dest,
                                    ULONG flags);
  // SetReadFlags: `messages` of `folder` (empty: all of them).
  static LongOperation SetReadFlags(EntryId folder,
                                    std::vector<EntryId> messages, ULONG flags);

  Kind kind = Kind::kEmptyFolder;
  // The parent of `folder` (CopyFolder, DeleteFolder); else empty.
  EntryId parent;
  // The folder the call names (for CopyMessages the source).
  EntryId folder;
  // The destination (CopyFolder: the new parent; CopyMessages: the folder);
  // else empty.
  EntryId dest;
  // CopyFolder's new name (empty: the folder's own).
  std::string new_name;
  // The messages (DeleteMessages, CopyMessages, SetReadFlags).
  std::vector<EntryId> messages;
  ULONG flags = 0;
};

// How a long operation ended.
struct OperationResult {
  // OK, or the call's error (as its blocking form would return it).
  absl::Status status;
  // When `status` is OK: S_OK, or MAPI_W_PARTIAL_COMPLETION when items were
  // skipped or left undone by a cancel.
  SCODE warning = S_OK;
  // CopyFolder: the copy's entry id (a move: the folder's own); else empty.
  EntryId entry_id;
};

// Called once with the outcome, on the loop named at the start.
using OperationCallback = std::function<void(const OperationResult&)>;

// A long operation in flight (MsgStore::Start). Thread-safe. Dropping the
// handle does not stop the operation: its progress and its callback still
// run. The handle may outlive its session and its loop.
class Operation {
 public:
  virtual ~Operation() = default;

  // Asks the server to stop the operation before its next item — what a
  // progress object answering MAPI_E_USER_CANCEL does. The callback then
  // gets OK with MAPI_W_PARTIAL_COMPLETION (S_OK when everything was done
  // already): the store is consistent and the notifications published are
  // exactly those of the items done. Any thread; returns at once;
  // idempotent; no effect once the operation has ended.
  virtual void Cancel() = 0;

  // True once the callback has returned (or the loop was found destroyed,
  // so that it never will run). Any thread.
  virtual bool done() const = 0;
};

}  // namespace mapinotify

#endif  // MAPINOTIFY_OPERATION_H_
