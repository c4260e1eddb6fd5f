#include "mapinotify/status.h"

#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/types/optional.h"

namespace mapinotify {

absl::StatusCode CodeForScode(SCODE scode) {
  if (scode >= 0) return absl::StatusCode::kOk;
  switch (scode) {
    case MAPI_E_INVALID_PARAMETER:
    case MAPI_E_INVALID_ENTRYID:
    case MAPI_E_UNKNOWN_FLAGS:
    case MAPI_E_BAD_CHARWIDTH:
    case MAPI_E_STRING_TOO_LONG:
    case MAPI_E_BAD_VALUE:
    case MAPI_E_INVALID_TYPE:
    case MAPI_E_UNEXPECTED_TYPE:
    case MAPI_E_BAD_COLUMN:
    case MAPI_E_INVALID_BOOKMARK:
    case MAPI_E_INVALID_OBJECT:
    case MAPI_E_UNEXPECTED_ID:
      return absl::StatusCode::kInvalidArgument;
    case MAPI_E_NOT_FOUND:
    case MAPI_E_UNKNOWN_ENTRYID:
      return absl::StatusCode::kNotFound;
    case MAPI_E_COLLISION:
      return absl::StatusCode::kAlreadyExists;
    case MAPI_E_NO_ACCESS:
    case MAPI_E_LOGON_FAILED:
      return absl::StatusCode::kPermissionDenied;
    case MAPI_E_HAS_FOLDERS:
    case MAPI_E_HAS_MESSAGES:
    case MAPI_E_COMPUTED:
    case MAPI_E_OBJECT_DELETED:
    case MAPI_E_NOT_INITIALIZED:
    case MAPI_E_FOLDER_CYCLE:
    case MAPI_E_TABLE_EMPTY:
    case MAPI_E_UNCONFIGURED:
    case MAPI_E_SUBMITTED:
    case MAPI_E_NOT_IN_QUEUE:
    case MAPI_E_MISSING_REQUIRED_COLUMN:
      return absl::StatusCode::kFailedPrecondition;
    case MAPI_E_OBJECT_CHANGED:
    case MAPI_E_UNABLE_TO_COMPLETE:
      return absl::StatusCode::kAborted;
    case MAPI_E_USER_CANCEL:
    case MAPI_E_CANCEL:
      return absl::StatusCode::kCancelled;
    case MAPI_E_NO_SUPPORT:
    case MAPI_E_TYPE_NO_SUPPORT:
    case MAPI_E_TOO_COMPLEX:
    case MAPI_E_VERSION:
      return absl::StatusCode::kUnimplemented;
    case MAPI_E_NOT_ENOUGH_MEMORY:
    case MAPI_E_NOT_ENOUGH_RESOURCES:
    case MAPI_E_NOT_ENOUGH_DISK:
    case MAPI_E_TABLE_TOO_BIG:
    case MAPI_E_TOO_BIG:
    case MAPI_E_SESSION_LIMIT:
      return absl::StatusCode::kResourceExhausted;
    case MAPI_E_NETWORK_ERROR:
    case MAPI_E_BUSY:
    case MAPI_E_END_OF_SESSION:
    case MAPI_E_WAIT:
      return absl::StatusCode::kUnavailable;
    case MAPI_E_TIMEOUT:
      return absl::StatusCode::kDeadlineExceeded;
    case MAPI_E_CORRUPT_DATA:
    case MAPI_E_CORRUPT_STORE:
    case MAPI_E_NOTIFICATIONS_LOST:
      return absl::StatusCode::kDataLoss;
    case MAPI_E_CALL_FAILED:
    case MAPI_E_DISK_ERROR:
    case MAPI_E_EXTENDED_ERROR:
      return absl::StatusCode::kInternal;
    default:
      return absl::StatusCode::kUnknown;
  }
}

SCODE DefaultScodeForCode(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return S_OK;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return MAPI_E_INVALID_PARAMETER;
    case absl::StatusCode::kNotFound:
      return MAPI_E_NOT_FOUND;
    case absl::StatusCode::kAlreadyExists:
      return MAPI_E_COLLISION;
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated:
      return MAPI_E_NO_ACCESS;
    case absl::StatusCode::kFailedPrecondition:
      return MAPI_E_CALL_FAILED;
    case absl::StatusCode::kAborted:
      return MAPI_E_OBJECT_CHANGED;
    case absl::StatusCode::kCancelled:
      return MAPI_E_USER_CANCEL;
    case absl::StatusCode::kUnimplemented:
      return MAPI_E_NO_SUPPORT;
    case absl::StatusCode::kResourceExhausted:
      return MAPI_E_NOT_ENOUGH_RESOURCES;
    case absl::StatusCode::kUnavailable:
      return MAPI_E_NETWORK_ERROR;
    case absl::StatusCode::kDeadlineExceeded:
      return MAPI_E_TIMEOUT;
    case absl::StatusCode::kDataLoss:
      return MAPI_E_CORRUPT_DATA;
    default:
      return MAPI_E_CALL_FAILED;
  }
}

absl::Status MapiError(SCODE scode, absl::string_view message) {
  if (scode >= 0) return absl::OkStatus();
  absl::Status status(CodeForScode(scode), message);
  status.SetPayload(kScodePayloadUrl, absl::Cord(std::to_string(scode)));
  return status;
}

SCODE ScodeOf(const absl::Status& status) {
  if (status.ok()) return S_OK;
  absl::optional<absl::Cord> payload = status.GetPayload(kScodePayloadUrl);
  int32_t scode = 0;
  if (payload.has_value() && absl::SimpleAtoi(std::string(*payload), &scode) &&
      scode < 0) {
    return scode;
  }
  return DefaultScodeForCode(status.code());
}

}  // namespace mapinotify
