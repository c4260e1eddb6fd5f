#include "bench/payload.h"

#include <time.h>

#include "mapinotify/mapi.h"

namespace mapinotify::bench {

namespace {

constexpr size_t kEntryIdBytes = 46;
// A made-up provider UID (MAPIUID) for the benchmark's store.
constexpr char kProviderUid[16] = {
    '\x6d', '\x61', '\x70', '\x69', '\x6e', '\x6f', '\x74', '\x69',
    '\x66', '\x79', '\x62', '\x65', '\x6e', '\x63', '\x68', '\x31'};

void AppendBigEndian(uint64_t v, std::string* out) {
  char bytes[8];
  for (int i = 0; i < 8; ++i) {
    bytes[i] = static_cast<char>((v >> (56 - 8 * i)) & 0xff);
  }
  out->append(bytes, sizeof(bytes));
}

// 4 flag bytes, the provider UID, a 2-byte id type.
std::string EntryIdPrefix(uint16_t type) {
  std::string id(4, '\0');
  id.append(kProviderUid, sizeof(kProviderUid));
  id.push_back(static_cast<char>(type >> 8));
  id.push_back(static_cast<char>(type & 0xff));
  return id;
}

}  // namespace

int64_t MonotonicNanos() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

std::string FolderEntryId() {
  std::string id = EntryIdPrefix(MAPI_FOLDER);
  AppendBigEndian(1, &id);                        // Folder number.
  id.append(kProviderUid, sizeof(kProviderUid));  // Folder GID (any 16 bytes).
  return id;
}

namespace {
// Built once: a provider does not rebuild its constant ids per event.
const std::string& CachedFolderEntryId() {
  static const std::string* const id = new std::string(FolderEntryId());
  return *id;
}
const std::string& MessageIdPrefix() {
  static const std::string* const prefix = [] {
    auto* p = new std::string(EntryIdPrefix(MAPI_MESSAGE));
    AppendBigEndian(1, p);  // Folder number.
    return p;
  }();
  return *prefix;
}
}  // namespace

v1::Notification ObjectModified(uint64_t index, int64_t stamp_ns) {
  v1::Notification n;
  n.set_event_type(v1::fnevObjectModified);
  v1::ObjectNotification* object = n.mutable_object();
  std::string* id = object->mutable_entry_id();
  id->reserve(kEntryIdBytes);
  id->assign(MessageIdPrefix());  // Flags, provider UID, type, folder.
  AppendBigEndian(index, id);
  AppendBigEndian(static_cast<uint64_t>(stamp_ns), id);
  object->set_object_type(MAPI_MESSAGE);
  object->set_parent_id(CachedFolderEntryId());
  object->add_prop_tags(PR_SUBJECT);
  object->add_prop_tags(PR_MESSAGE_FLAGS);
  object->add_prop_tags(PR_LAST_MODIFICATION_TIME);
  object->add_prop_tags(PROP_TAG(PT_BINARY, 0x65E2));  // PR_CHANGE_KEY.
  return n;
}

v1::Notification EndMarker() {
  v1::Notification n;
  n.set_event_type(v1::fnevExtended);
  n.mutable_extended()->set_event_code(kEndMarkerCode);
  return n;
}

namespace {
// The stamp in the last 8 bytes of a message entry id; -1 for another id.
int64_t StampOfId(const std::string& id) {
  if (id.size() != kEntryIdBytes) return -1;
  uint64_t v = 0;
  for (size_t i = kEntryIdBytes - 8; i < kEntryIdBytes; ++i) {
    v = (v << 8) | static_cast<unsigned char>(id[i]);
  }
  return static_cast<int64_t>(v);
}
}  // namespace

int64_t StampOf(const Notification& n) {
  const ObjectNotification* object = n.object();
  return object == nullptr ? -1 : StampOfId(object->entry_id);
}

int64_t StampOf(const v1::Notification& n) {
  return n.has_object() ? StampOfId(n.object().entry_id()) : -1;
}

bool IsEndMarker(const v1::Notification& n) {
  return n.event_type() == v1::fnevExtended && n.has_extended() &&
         n.extended().event_code() == kEndMarkerCode;
}

bool IsEndMarker(const Notification& n) {
  const ExtendedNotification* extended = n.extended();
  return n.event_type == fnevExtended && extended != nullptr &&
         extended->event_code == kEndMarkerCode;
}

}  // namespace mapinotify::bench
