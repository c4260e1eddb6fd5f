// Conversion between the wire messages (mapinotify.v1) and the library's
// MAPI-shaped value types. Input from the wire is validated: a value whose
// case disagrees with its tag, an unknown event type, or an event type whose
// structure is missing is InvalidArgument, never a crash. Internal;
// stateless; thread-safe.
#ifndef MAPINOTIFY_COMMON_INTERNAL_PROTO_CONVERT_H_
#define MAPINOTIFY_COMMON_INTERNAL_PROTO_CONVERT_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mapinotify/notification.h"
#include "mapinotify/v1/notification.pb.h"

namespace mapinotify::internal {

// PropValue. InvalidArgument when the value's case does not match
// PROP_TYPE(tag) or a PT_CLSID value is not 16 bytes.
absl::StatusOr<PropValue> FromProto(const v1::PropValue& proto);
// REQUIRES: PropTypeMatches(value); otherwise InvalidArgument.
absl::Status ToProto(const PropValue& value, v1::PropValue* proto);

// Notification. InvalidArgument when event_type is not exactly one fnev bit,
// or the structure it calls for is not the one set, or a value inside is bad.
absl::StatusOr<Notification> FromProto(const v1::Notification& proto);
absl::Status ToProto(const Notification& value, v1::Notification* proto);

// Checks a wire notification without converting it (what a publisher sends
// the server): the same rules as FromProto.
absl::Status ValidateNotification(const v1::Notification& proto);

// The v1::Notification::InfoCase that `event_type` requires, or
// INFO_NOT_SET when event_type is not exactly one known fnev bit.
v1::Notification::InfoCase InfoCaseFor(uint32_t event_type);

}  // namespace mapinotify::internal

#endif  // MAPINOTIFY_COMMON_INTERNAL_PROTO_CONVERT_H_
