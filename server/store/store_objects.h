// The objects of the built-in store's tree: folders and saved messages, as
// the Store keeps them under its mutex, plus the folder counters and the
// properties the store computes. Plain values: thread-compatible.
#ifndef MAPINOTIFY_SERVER_STORE_STORE_OBJECTS_H_
#define MAPINOTIFY_SERVER_STORE_STORE_OBJECTS_H_

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "mapinotify/mapi.h"
#include "mapinotify/notification.h"
#include "server/store/entry_id.h"
#include "server/store/property_bag.h"

namespace mapinotify::server::store {

// A folder. `props` holds PR_DISPLAY_NAME, PR_COMMENT and whatever clients
// set; everything else a folder reports is computed (see
// IsComputedProp).
struct Folder {
  // The parent folder; 0 for the root folder (whose PR_PARENT_ENTRYID is its
  // own entry id, as in MAPI).
  ObjectNumber parent = 0;
  ULONG folder_type = FOLDER_GENERIC;
  PropertyBag props;
  // Children, by object number (= creation order).
  std::set<ObjectNumber> subfolders;
  // Saved messages. Changed only by Store::Impl's AddMessageLocked and
  // EraseMessageLocked, which keep `unread` in step.
  std::set<ObjectNumber> messages;
  // How many of `messages` are unread (Message::unread()): PR_CONTENT_UNREAD,
  // kept up to date by every change of `messages` or of a saved message's
  // props (Store::Impl's saved-message helpers) instead of being counted.
  int32_t unread = 0;
  FileTime created;
  FileTime modified;

  // PR_DISPLAY_NAME ("" when absent).
  const std::string& name() const;
};

// A saved message. `props` holds PR_MESSAGE_CLASS, PR_MESSAGE_FLAGS and
// whatever clients set; the rest is computed (see IsComputedProp). A saved
// message's `props` change only through Store::Impl::ChangeMessagePropsLocked
// (its folder's unread count depends on PR_MESSAGE_FLAGS); a draft's are
// free to change.
struct Message {
  ObjectNumber parent = 0;
  PropertyBag props;
  FileTime created;
  FileTime modified;

  // PR_MESSAGE_FLAGS (0 when absent).
  ULONG flags() const;
  // PR_MESSAGE_CLASS ("" when absent).
  const std::string& message_class() const;
  bool unread() const { return (flags() & MSGFLAG_READ) == 0; }
};

// The counters a folder reports, computed from its contents.
struct FolderCounters {
  int32_t content_count = 0;   // PR_CONTENT_COUNT
  int32_t content_unread = 0;  // PR_CONTENT_UNREAD
  bool subfolders = false;     // PR_SUBFOLDERS
  int32_t child_count = 0;     // PR_FOLDER_CHILD_COUNT

  // The counter tags whose values differ between `before` and `after`, in
  // ascending tag order (PR_CONTENT_COUNT, PR_CONTENT_UNREAD, PR_SUBFOLDERS,
  // PR_FOLDER_CHILD_COUNT).
  static std::vector<ULONG> Changed(const FolderCounters& before,
                                    const FolderCounters& after);
};

// Properties the store computes, compared by property id, for every kind of
// object (a message has no PR_CONTENT_COUNT, but a client still cannot set
// one): PR_ENTRYID, PR_PARENT_ENTRYID, PR_RECORD_KEY, PR_INSTANCE_KEY,
// PR_OBJECT_TYPE, PR_STORE_ENTRYID, PR_STORE_RECORD_KEY, PR_FOLDER_TYPE,
// PR_CONTENT_COUNT, PR_CONTENT_UNREAD, PR_SUBFOLDERS, PR_FOLDER_CHILD_COUNT,
// PR_DEPTH, PR_MESSAGE_SIZE, PR_CREATION_TIME, PR_LAST_MODIFICATION_TIME.
// SetProps and DeleteProps report MAPI_E_COMPUTED for them.
bool IsComputedProp(ULONG tag);

// The problem SetProps reports for `value` (not counting the checks that
// need the tree, such as folder name collisions), or S_OK:
// MAPI_E_COMPUTED, then CheckStorable, then CheckFixedType.
SCODE CheckSettable(const PropValue& value);
// The same for DeleteProps of `tag`: MAPI_E_COMPUTED, then CheckDeletable.
SCODE CheckRemovable(ULONG tag);

// Properties whose type the store relies on: PR_DISPLAY_NAME, PR_COMMENT,
// PR_MESSAGE_CLASS (PT_UNICODE) and PR_MESSAGE_FLAGS (PT_LONG). Returns
// MAPI_E_INVALID_TYPE when `tag` has one of their ids with another type,
// S_OK otherwise.
SCODE CheckFixedType(ULONG tag);

}  // namespace mapinotify::server::store

#endif  // MAPINOTIFY_SERVER_STORE_STORE_OBJECTS_H_
