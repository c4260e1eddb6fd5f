// The checks every Store and Table request passes before the store sees it
// (the limits store.proto and table.proto document): entry ids, flag words,
// list sizes, folder names, and the conversion of repeated wire fields into
// the store's value types. Each failure is a MapiError whose message names
// the field. Stateless; thread-safe.
#ifndef MAPINOTIFY_SERVER_SERVICE_REQUEST_CHECKS_H_
#define MAPINOTIFY_SERVER_SERVICE_REQUEST_CHECKS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/internal/proto_convert.h"
#include "common/internal/status_macros.h"
#include "mapinotify/mapi.h"
#include "mapinotify/notification.h"
#include "mapinotify/status.h"

namespace mapinotify::server {

// Request limits (store.proto).
inline constexpr size_t kMaxEntryIdBytes = 4096;
inline constexpr size_t kMaxProps = 4096;
inline constexpr size_t kMaxEntryIds = 16384;
inline constexpr size_t kMaxNameBytes = 1024;
inline constexpr size_t kMaxCommentBytes = 65536;

// MAPI_E_INVALID_ENTRYID for an empty id or one over kMaxEntryIdBytes.
absl::Status CheckEntryId(const std::string& id, absl::string_view field);
// MAPI_E_UNKNOWN_FLAGS when `flags` has a bit outside `allowed`.
absl::Status CheckFlags(uint32_t flags, ULONG allowed, absl::string_view call);
// MAPI_E_TOO_BIG when `count` exceeds `max`.
absl::Status CheckCount(size_t count, size_t max, absl::string_view field);
// A folder name: MAPI_E_INVALID_PARAMETER when empty (unless
// `allow_empty`), MAPI_E_STRING_TOO_LONG over kMaxNameBytes.
absl::Status CheckName(const std::string& name, absl::string_view field,
                       bool allow_empty);

// A list of entry ids: at most kMaxEntryIds, each passing CheckEntryId.
template <typename Repeated>
absl::StatusOr<std::vector<EntryId>> EntryIdsFrom(const Repeated& ids,
                                                  absl::string_view field) {
  MAPINOTIFY_RETURN_IF_ERROR(
      CheckCount(static_cast<size_t>(ids.size()), kMaxEntryIds, field));
  std::vector<EntryId> out;
  out.reserve(static_cast<size_t>(ids.size()));
  for (int i = 0; i < ids.size(); ++i) {
    MAPINOTIFY_RETURN_IF_ERROR(
        CheckEntryId(ids.Get(i), absl::StrCat(field, "[", i, "]")));
    out.push_back(ids.Get(i));
  }
  return out;
}

// A list of property tags: at most `max`.
template <typename Repeated>
absl::StatusOr<std::vector<ULONG>> TagsFrom(const Repeated& tags, size_t max,
                                            absl::string_view field) {
  MAPINOTIFY_RETURN_IF_ERROR(
      CheckCount(static_cast<size_t>(tags.size()), max, field));
  return std::vector<ULONG>(tags.begin(), tags.end());
}

// A list of property values: at most kMaxProps, each well-formed (a value
// whose alternative disagrees with its tag keeps FromProto's SCODE).
template <typename Repeated>
absl::StatusOr<std::vector<PropValue>> PropsFrom(const Repeated& values,
                                                 absl::string_view field) {
  MAPINOTIFY_RETURN_IF_ERROR(
      CheckCount(static_cast<size_t>(values.size()), kMaxProps, field));
  std::vector<PropValue> out;
  out.reserve(static_cast<size_t>(values.size()));
  for (int i = 0; i < values.size(); ++i) {
    absl::StatusOr<PropValue> value = internal::FromProto(values.Get(i));
    if (!value.ok()) {
      return MapiError(
          ScodeOf(value.status()),
          absl::StrCat(field, "[", i, "]: ", value.status().message()));
    }
    out.push_back(*std::move(value));
  }
  return out;
}

}  // namespace mapinotify::server

#endif  // MAPINOTIFY_SERVER_SERVICE_REQUEST_CHECKS_H_
