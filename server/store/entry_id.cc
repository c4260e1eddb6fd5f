#include "server/store/entry_id.h"

#include <cstring>
#include <string>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "mapinotify/status.h"

namespace mapinotify::server::store {
namespace {

constexpr char kPrefix[8] = {0, 0, 0, 0, 'M', 'N', 'S', '1'};
constexpr size_t kGuidOffset = sizeof(kPrefix);
constexpr size_t kNumberOffset = kGuidOffset + 16;
static_assert(kNumberOffset + 8 == kEntryIdSize, "entry id layout");

}  // namespace

EntryId EntryIdCodec::Encode(ObjectNumber number) const {
  EntryId id(kEntryIdSize, '\0');
  std::memcpy(&id[0], kPrefix, sizeof(kPrefix));
  std::memcpy(&id[kGuidOffset], store_guid_.bytes.data(), 16);
  for (int i = 0; i < 8; ++i) {
    id[kNumberOffset + i] = static_cast<char>((number >> (56 - 8 * i)) & 0xFF);
  }
  return id;
}

absl::StatusOr<ObjectNumber> EntryIdCodec::Decode(
    absl::string_view entry_id) const {
  if (entry_id.size() != kEntryIdSize) {
    return MapiError(MAPI_E_INVALID_ENTRYID,
                     absl::StrCat("entry id of ", entry_id.size(),
                                  " bytes; this store's have ", kEntryIdSize));
  }
  if (std::memcmp(entry_id.data(), kPrefix, sizeof(kPrefix)) != 0) {
    return MapiError(MAPI_E_INVALID_ENTRYID,
                     "not an entry id of this provider");
  }
  if (std::memcmp(entry_id.data() + kGuidOffset, store_guid_.bytes.data(),
                  16) != 0) {
    return MapiError(MAPI_E_INVALID_ENTRYID, "entry id of another store");
  }
  ObjectNumber number = 0;
  for (int i = 0; i < 8; ++i) {
    number = (number << 8) | static_cast<uint8_t>(entry_id[kNumberOffset + i]);
  }
  if (number == 0) {
    return MapiError(MAPI_E_INVALID_ENTRYID, "entry id of object number 0");
  }
  return number;
}

Guid RandomStoreGuid() {
  absl::BitGen gen;
  Guid guid;
  for (uint8_t& b : guid.bytes) {
    b = static_cast<uint8_t>(absl::Uniform<uint32_t>(gen, 0, 256));
  }
  guid.bytes[7] = static_cast<uint8_t>((guid.bytes[7] & 0x0F) | 0x40);
  guid.bytes[8] = static_cast<uint8_t>((guid.bytes[8] & 0x3F) | 0x80);
  return guid;
}

}  // namespace mapinotify::server::store
