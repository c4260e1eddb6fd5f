// MAPI errors as absl::Status. Each SCODE maps onto one absl (= gRPC) status
// code; the SCODE itself rides along as a status payload so that a client can
// rehydrate the exact MAPI error. Stateless; thread-safe.
#ifndef MAPINOTIFY_STATUS_H_
#define MAPINOTIFY_STATUS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "mapinotify/mapi.h"

namespace mapinotify {

// The payload URL under which MapiError stores the SCODE (decimal text).
inline constexpr absl::string_view kScodePayloadUrl =
    "type.googleapis.com/mapinotify.v1.MapiError";

// The absl status code that stands for `scode` (S_OK and MAPI_W_* warnings:
// kOk). E.g. MAPI_E_NOT_FOUND -> kNotFound, MAPI_E_INVALID_PARAMETER ->
// kInvalidArgument, MAPI_E_COLLISION -> kAlreadyExists, MAPI_E_HAS_FOLDERS ->
// kFailedPrecondition, MAPI_E_USER_CANCEL -> kCancelled; an SCODE this
// library does not know -> kUnknown.
absl::StatusCode CodeForScode(SCODE scode);

// The SCODE a status without an explicit one stands for (kNotFound ->
// MAPI_E_NOT_FOUND, kInvalidArgument -> MAPI_E_INVALID_PARAMETER ...).
SCODE DefaultScodeForCode(absl::StatusCode code);

// A status with code CodeForScode(scode), `message`, and `scode` attached.
// REQUIRES: scode is an error (negative); for a non-error returns OkStatus.
absl::Status MapiError(SCODE scode, absl::string_view message);

// The SCODE of `status`: the attached one if any, else
// DefaultScodeForCode(status.code()). S_OK for an OK status.
SCODE ScodeOf(const absl::Status& status);

}  // namespace mapinotify

#endif  // MAPINOTIFY_STATUS_H_
