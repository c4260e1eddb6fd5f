// Entry ids of the built-in store: opaque to clients, long-term for the life
// of the store, equal across sessions.
//
// Layout (kEntryIdSize = 32 bytes):
//   [0, 4)   abFlags: zero (a long-term entry id, as MAPI's ENTRYID);
//   [4, 8)   "MNS1": this provider's format tag;
//   [8, 24)  the store's GUID (random per Store instance), so that an id of
//            another store (or of an earlier server run) is recognised;
//   [24, 32) the object number, big-endian; nonzero, never reused.
#ifndef MAPINOTIFY_SERVER_STORE_ENTRY_ID_H_
#define MAPINOTIFY_SERVER_STORE_ENTRY_ID_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "mapinotify/notification.h"

namespace mapinotify::server::store {

// Numbers the objects of one store (the store itself, folders, messages).
using ObjectNumber = uint64_t;

inline constexpr size_t kEntryIdSize = 32;

// Encodes and decodes one store's entry ids. Immutable: thread-safe.
class EntryIdCodec {
 public:
  explicit EntryIdCodec(const Guid& store_guid) : store_guid_(store_guid) {}

  // The entry id of object `number` (REQUIRES: number != 0).
  EntryId Encode(ObjectNumber number) const;

  // The object number of `entry_id`. InvalidArgument
  // (MAPI_E_INVALID_ENTRYID) when it has the wrong size or format tag, names
  // another store, or holds object number 0. Says nothing about whether the
  // object exists.
  absl::StatusOr<ObjectNumber> Decode(absl::string_view entry_id) const;

  const Guid& store_guid() const { return store_guid_; }

 private:
  const Guid store_guid_;
};

// A random GUID (version 4 layout) for a new store.
Guid RandomStoreGuid();

}  // namespace mapinotify::server::store

#endif  // MAPINOTIFY_SERVER_STORE_ENTRY_ID_H_
