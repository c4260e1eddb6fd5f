// Store::Impl: the properties the store computes for itself, its folders
// and its messages, and the property reads.
#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "mapinotify/status.h"
#include "server/store/store_impl.h"

namespace mapinotify::server::store {
namespace {

// The MAPIUID of this provider (PR_MDB_PROVIDER).
constexpr char kProviderUid[] = "mapinotify-store";
static_assert(sizeof(kProviderUid) == 17, "a MAPIUID is 16 bytes");

constexpr ULONG kStoreSupportMask = STORE_ENTRYID_UNIQUE | STORE_MODIFY_OK |
                                    STORE_CREATE_OK | STORE_NOTIFY_OK |
                                    STORE_MV_PROPS_OK | STORE_UNICODE_OK;
constexpr ULONG kValidFolderMask =
    FOLDER_IPM_SUBTREE_VALID | FOLDER_IPM_INBOX_VALID |
    FOLDER_IPM_OUTBOX_VALID | FOLDER_IPM_WASTEBASKET_VALID |
    FOLDER_IPM_SENTMAIL_VALID;

PropValue Long(ULONG tag, int64_t value) {
  return PropValue{tag, static_cast<int32_t>(value)};
}
PropValue Bin(ULONG tag, std::string bytes) {
  return PropValue{tag, Binary{std::move(bytes)}};
}
PropValue Text(ULONG tag, std::string text) {
  return PropValue{tag, std::move(text)};
}
PropValue Time(ULONG tag, FileTime time) { return PropValue{tag, time}; }

std::string StoreRecordKey(const Guid& guid) {
  return std::string(guid.bytes.begin(), guid.bytes.end());
}

}  // namespace

// --- Impl: properties.

PropertyBag Store::Impl::StoreViewLocked() const {
  PropertyBag view;
  view.Set(Bin(PR_ENTRYID, store_id_));
  view.Set(Bin(PR_STORE_ENTRYID, store_id_));
  view.Set(Bin(PR_RECORD_KEY, StoreRecordKey(codec_.store_guid())));
  view.Set(Bin(PR_STORE_RECORD_KEY, StoreRecordKey(codec_.store_guid())));
  view.Set(Long(PR_OBJECT_TYPE, MAPI_STORE));
  view.Set(Text(PR_DISPLAY_NAME, display_name_));
  view.Set(Long(PR_STORE_SUPPORT_MASK, kStoreSupportMask));
  view.Set(Bin(PR_MDB_PROVIDER, std::string(kProviderUid, 16)));
  view.Set(Long(PR_VALID_FOLDER_MASK, kValidFolderMask));
  view.Set(Bin(PR_IPM_SUBTREE_ENTRYID, ipm_subtree_id_));
  view.Set(Bin(PR_IPM_OUTBOX_ENTRYID, outbox_id_));
  view.Set(Bin(PR_IPM_SENTMAIL_ENTRYID, sent_items_id_));
  view.Set(Bin(PR_IPM_WASTEBASKET_ENTRYID, deleted_items_id_));
  return view;
}

PropertyBag Store::Impl::FolderViewLocked(ObjectNumber number) const {
  const Folder& folder = FolderLocked(number);
  PropertyBag view = folder.props;
  const EntryId id = codec_.Encode(number);
  const FolderCounters counters = CountersLocked(number);
  int32_t depth = 0;
  for (ObjectNumber p = folder.parent; p != 0; p = FolderLocked(p).parent) {
    ++depth;
  }
  view.Set(Bin(PR_ENTRYID, id));
  view.Set(Bin(PR_RECORD_KEY, id));
  view.Set(Bin(PR_PARENT_ENTRYID, ParentIdLocked(number)));
  view.Set(Bin(PR_STORE_ENTRYID, store_id_));
  view.Set(Bin(PR_STORE_RECORD_KEY, StoreRecordKey(codec_.store_guid())));
  view.Set(Long(PR_OBJECT_TYPE, MAPI_FOLDER));
  view.Set(Long(PR_FOLDER_TYPE, folder.folder_type));
  view.Set(Long(PR_CONTENT_COUNT, counters.content_count));
  view.Set(Long(PR_CONTENT_UNREAD, counters.content_unread));
  view.Set(PropValue{PR_SUBFOLDERS, counters.subfolders});
  view.Set(Long(PR_FOLDER_CHILD_COUNT, counters.child_count));
  view.Set(Long(PR_DEPTH, depth));
  view.Set(Time(PR_CREATION_TIME, folder.created));
  view.Set(Time(PR_LAST_MODIFICATION_TIME, folder.modified));
  return view;
}

PropertyBag Store::Impl::MessageViewLocked(ObjectNumber number,
                                           const Message& message,
                                           bool saved) const {
  PropertyBag view = message.props;
  const size_t size = message.props.ByteSize();
  if (saved) {
    const EntryId id = codec_.Encode(number);
    view.Set(Bin(PR_ENTRYID, id));
    view.Set(Bin(PR_RECORD_KEY, id));
    view.Set(Time(PR_CREATION_TIME, message.created));
    view.Set(Time(PR_LAST_MODIFICATION_TIME, message.modified));
  }
  view.Set(Bin(PR_PARENT_ENTRYID, codec_.Encode(message.parent)));
  view.Set(Bin(PR_STORE_ENTRYID, store_id_));
  view.Set(Bin(PR_STORE_RECORD_KEY, StoreRecordKey(codec_.store_guid())));
  view.Set(Long(PR_OBJECT_TYPE, MAPI_MESSAGE));
  view.Set(Long(PR_MESSAGE_SIZE,
                static_cast<int64_t>(std::min<size_t>(size, INT32_MAX))));
  return view;
}

absl::Status Store::Impl::Exists(const EntryId& entry_id) const {
  absl::StatusOr<ObjectNumber> number = codec_.Decode(entry_id);
  if (!number.ok()) return number.status();
  absl::ReaderMutexLock lock(&mu_);
  if (*number == kStoreNumber || folders_.count(*number) != 0 ||
      messages_.count(*number) != 0) {
    return absl::OkStatus();
  }
  return MapiError(MAPI_E_NOT_FOUND, "no such object (deleted or never was)");
}

absl::StatusOr<std::vector<PropValue>> Store::Impl::GetProps(
    const EntryId& entry_id, const std::vector<ULONG>& tags) const {
  absl::StatusOr<ObjectNumber> number = codec_.Decode(entry_id);
  if (!number.ok()) return number.status();
  absl::ReaderMutexLock lock(&mu_);
  if (*number == kStoreNumber) return SelectProps(StoreViewLocked(), tags);
  if (folders_.count(*number) != 0) {
    return SelectProps(FolderViewLocked(*number), tags);
  }
  auto message = messages_.find(*number);
  if (message != messages_.end()) {
    return SelectProps(
        MessageViewLocked(*number, message->second, /*saved=*/true), tags);
  }
  return MapiError(MAPI_E_NOT_FOUND, "no such object (deleted or never was)");
}

}  // namespace mapinotify::server::store
