#include "server/service/request_checks.h"

namespace mapinotify::server {

absl::Status CheckEntryId(const std::string& id, absl::string_view field) {
  if (id.empty()) {
    return MapiError(MAPI_E_INVALID_ENTRYID,
                     absl::StrCat(field, ": empty entry id"));
  }
  if (id.size() > kMaxEntryIdBytes) {
    return MapiError(MAPI_E_INVALID_ENTRYID,
                     absl::StrCat(field, ": entry id of ", id.size(),
                                  " bytes exceeds ", kMaxEntryIdBytes));
  }
  return absl::OkStatus();
}

absl::Status CheckFlags(uint32_t flags, ULONG allowed, absl::string_view call) {
  if ((flags & ~allowed) != 0) {
    return MapiError(
        MAPI_E_UNKNOWN_FLAGS,
        absl::StrCat(call, ": unknown flags 0x", absl::Hex(flags & ~allowed),
                     " (defined: 0x", absl::Hex(allowed), ")"));
  }
  return absl::OkStatus();
}

absl::Status CheckCount(size_t count, size_t max, absl::string_view field) {
  if (count > max) {
    return MapiError(MAPI_E_TOO_BIG,
                     absl::StrCat(field, ": ", count, " items exceed ", max));
  }
  return absl::OkStatus();
}

absl::Status CheckName(const std::string& name, absl::string_view field,
                       bool allow_empty) {
  if (name.empty() && !allow_empty) {
    return MapiError(MAPI_E_INVALID_PARAMETER,
                     absl::StrCat(field, ": empty folder name"));
  }
  if (name.size() > kMaxNameBytes) {
    return MapiError(MAPI_E_STRING_TOO_LONG,
                     absl::StrCat(field, ": ", name.size(), " bytes exceed ",
                                  kMaxNameBytes));
  }
  return absl::OkStatus();
}

}  // namespace mapinotify::server
