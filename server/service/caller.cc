#include "server/service/caller.h"

#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/types/optional.h"
#include "mapinotify/mapi.h"
#include "mapinotify/status.h"

namespace mapinotify::server {
namespace {

constexpr size_t kSessionIdDigits = 32;
constexpr size_t kMaxThreadDigits = 20;

// The single value of metadata `key`: nullopt when absent, InvalidArgument
// when repeated.
absl::StatusOr<absl::optional<absl::string_view>> SingleValue(
    const grpc::CallbackServerContext& context, absl::string_view key) {
  const auto& metadata = context.client_metadata();
  auto range = metadata.equal_range(grpc::string_ref(key.data(), key.size()));
  if (range.first == range.second) return absl::optional<absl::string_view>();
  auto it = range.first;
  if (++it != range.second) {
    return MapiError(MAPI_E_INVALID_PARAMETER,
                     absl::StrCat("metadata '", key, "' is repeated"));
  }
  return absl::optional<absl::string_view>(absl::string_view(
      range.first->second.data(), range.first->second.size()));
}

absl::Status CheckSessionId(absl::string_view id) {
  bool ok = id.size() == kSessionIdDigits;
  for (char c : id)
    ok = ok && absl::ascii_isxdigit(static_cast<unsigned char>(c));
  if (!ok) {
    return MapiError(
        MAPI_E_INVALID_PARAMETER,
        absl::StrCat("metadata '", kSessionMetadataKey, "' must be ",
                     kSessionIdDigits, " hex digits"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> SessionIdFromMetadata(
    const grpc::CallbackServerContext& context) {
  absl::StatusOr<absl::optional<absl::string_view>> value =
      SingleValue(context, kSessionMetadataKey);
  if (!value.ok()) return value.status();
  if (!value->has_value()) return std::string();
  absl::Status checked = CheckSessionId(**value);
  if (!checked.ok()) return checked;
  // Hex digits compare case-insensitively: one session, one key.
  return absl::AsciiStrToLower(**value);
}

absl::StatusOr<store::CallContext> CallContextFromMetadata(
    const grpc::CallbackServerContext& context) {
  absl::StatusOr<std::string> session = SessionIdFromMetadata(context);
  if (!session.ok()) return session.status();
  if (session->empty()) {
    return MapiError(MAPI_E_INVALID_PARAMETER,
                     absl::StrCat("a Store call needs the '",
                                  kSessionMetadataKey, "' metadata"));
  }
  absl::StatusOr<absl::optional<absl::string_view>> thread =
      SingleValue(context, kThreadMetadataKey);
  if (!thread.ok()) return thread.status();
  if (!thread->has_value()) {
    return MapiError(MAPI_E_INVALID_PARAMETER,
                     absl::StrCat("a Store call needs the '",
                                  kThreadMetadataKey, "' metadata"));
  }
  const absl::string_view text = **thread;
  bool digits = !text.empty() && text.size() <= kMaxThreadDigits;
  for (char c : text)
    digits = digits && absl::ascii_isdigit(static_cast<unsigned char>(c));
  uint64_t id = 0;
  if (!digits || !absl::SimpleAtoi(text, &id) || id == 0) {
    return MapiError(MAPI_E_INVALID_PARAMETER,
                     absl::StrCat("metadata '", kThreadMetadataKey,
                                  "' must be a nonzero decimal number"));
  }
  store::CallContext caller;
  caller.session = *std::move(session);
  caller.thread = id;
  return caller;
}

}  // namespace mapinotify::server
