// NotificationBatch: builds the notifications of one store operation, with
// the targets each concerns, for one Hub::Publish call (one batch).
//
// Targets: an OBJECT notification concerns its object, the object's parent,
// and for moved / copied objects also the old id and the old parent
// (EntryTargetKey of each); a folder's counters change is an
// fnevObjectModified on the folder, so it concerns the folder and its
// parent. fnevNewMail concerns the store (StoreTargetKey), the message and
// the receive folder. Store-wide registrations see everything regardless.
//
// Thread-compatible.
#ifndef MAPINOTIFY_SERVER_STORE_STORE_NOTIFY_H_
#define MAPINOTIFY_SERVER_STORE_STORE_NOTIFY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "mapinotify/mapi.h"
#include "mapinotify/notification.h"
#include "server/hub/hub.h"

namespace mapinotify::server::store {

class NotificationBatch {
 public:
  // fnevObjectCreated / fnevObjectDeleted {entry_id, object_type, parent}.
  void ObjectCreated(const EntryId& entry_id, ULONG object_type,
                     const EntryId& parent_id);
  void ObjectDeleted(const EntryId& entry_id, ULONG object_type,
                     const EntryId& parent_id);
  // fnevObjectModified {entry_id, object_type, parent, prop_tags}.
  void ObjectModified(const EntryId& entry_id, ULONG object_type,
                      const EntryId& parent_id,
                      const std::vector<ULONG>& prop_tags);
  // fnevObjectMoved / fnevObjectCopied {entry_id, object_type, parent,
  // old_id, old_parent_id}: the new id and parent, then the old ones.
  void ObjectMoved(const EntryId& entry_id, ULONG object_type,
                   const EntryId& parent_id, const EntryId& old_id,
                   const EntryId& old_parent_id);
  void ObjectCopied(const EntryId& entry_id, ULONG object_type,
                    const EntryId& parent_id, const EntryId& old_id,
                    const EntryId& old_parent_id);
  // fnevNewMail {entry_id, parent, flags 0, message_class, message_flags}.
  void NewMail(const EntryId& entry_id, const EntryId& parent_id,
               const std::string& message_class, ULONG message_flags);

  // fnevTableModified {table} concerning TableTargetKey(view) only. Its
  // index_key goes on the wire when its tag is not PR_NULL, its prior_key
  // and row with TABLE_ROW_ADDED / TABLE_ROW_MODIFIED (prior_key PR_NULL
  // when the row is first). Values are converted with internal::ToProto; a
  // value that does not agree with its tag (the store never holds one)
  // travels as PT_ERROR MAPI_E_CORRUPT_DATA.
  void Table(uint64_t view, const TableNotification& table);

  // The items added so far, in order.
  const std::vector<PublishItem>& items() const { return items_; }
  bool empty() const { return items_.empty(); }
  size_t size() const { return items_.size(); }
  // The items, in the order added; leaves the batch empty.
  std::vector<PublishItem> Take();

 private:
  void AddObject(ULONG event_type, const EntryId& entry_id, ULONG object_type,
                 const EntryId& parent_id, const EntryId& old_id,
                 const EntryId& old_parent_id,
                 const std::vector<ULONG>& prop_tags);

  std::vector<PublishItem> items_;
};

}  // namespace mapinotify::server::store

#endif  // MAPINOTIFY_SERVER_STORE_STORE_NOTIFY_H_
