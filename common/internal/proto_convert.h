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
#include "absl/strings/string_view.h"
#include "mapinotify/notification.h"
#include "mapinotify/table_types.h"
#include "mapinotify/v1/notification.pb.h"
#include "mapinotify/v1/table.pb.h"

namespace google::protobuf {
class Descriptor;
}  // namespace google::protobuf

namespace mapinotify::internal {

// PropValue. InvalidArgument when the value's case does not match
// PROP_TYPE(tag) or a PT_CLSID value is not 16 bytes.
absl::StatusOr<PropValue> FromProto(const v1::PropValue& proto);
// REQUIRES: PropTypeMatches(value); otherwise InvalidArgument.
absl::Status ToProto(const PropValue& value, v1::PropValue* proto);

// Notification. InvalidArgument when event_type is not exactly one fnev bit,
// or the structure it calls for is not the one set, or a value inside is bad.
absl::StatusOr<Notification> FromProto(const v1::Notification& proto);
// The same into *out, moving the strings out of *proto instead of copying
// them (for a message read off the wire and not needed after): on return
// *proto is valid but its string fields are unspecified, and on an error
// *out is unspecified.
absl::Status TakeFromProto(v1::Notification* proto, Notification* out);
absl::Status ToProto(const Notification& value, v1::Notification* proto);

// Checks a wire notification without converting it (what a publisher sends
// the server): the same rules as FromProto.
absl::Status ValidateNotification(const v1::Notification& proto);

// The v1::Notification::InfoCase that `event_type` requires, or
// INFO_NOT_SET when event_type is not exactly one known fnev bit.
v1::Notification::InfoCase InfoCaseFor(uint32_t event_type);

// Row (SRow). FromProto: InvalidArgument for a bad value (as PropValue).
absl::StatusOr<Row> FromProto(const v1::Row& proto);
absl::Status ToProto(const Row& value, v1::Row* proto);

// Restriction (SRestriction). Both directions enforce the limits of
// table_types.h while they descend, so that neither recurses deeper than
// kMaxRestrictionDepth + 1 levels whatever the input's depth: more than
// kMaxRestrictionDepth levels (the root is level 1) or more than
// kMaxRestrictionNodes nodes is MAPI_E_TOO_COMPLEX. FromProto:
// MAPI_E_INVALID_PARAMETER for a node with no kind set, a NOT without its
// restriction, a PROPERTY / CONTENT without its value, or a bad PropValue.
// ToProto: MAPI_E_INVALID_PARAMETER for what the wire cannot carry: an
// unknown `type`, a NOT without exactly one child, a value that does not
// match its tag. Everything else (relops, fuzzy levels, bitmask relations,
// tag / value type agreement) is the store's to judge.
absl::StatusOr<Restriction> FromProto(const v1::Restriction& proto);
absl::Status ToProto(const Restriction& value, v1::Restriction* proto);

// Checks the serialized message `bytes` of type `type` without parsing it
// into objects and without recursion: MAPI_E_TOO_COMPLEX when a
// v1::Restriction nests more than kMaxRestrictionDepth levels deep inside
// it. OK otherwise, also for bytes that are not a valid `type` (the parse
// that follows reports those). Protobuf's parser refuses messages nested
// past 100 levels (50 restriction levels) with no useful error; a service
// that takes restrictions runs this first to answer MAPI_E_TOO_COMPLEX.
absl::Status CheckRestrictionNesting(absl::string_view bytes,
                                     const google::protobuf::Descriptor* type);

// SortOrder (SSortOrder): copied field for field; the store judges the
// values (see table_types.h).
SortOrder FromProto(const v1::SortOrder& proto);
void ToProto(const SortOrder& value, v1::SortOrder* proto);

}  // namespace mapinotify::internal

#endif  // MAPINOTIFY_COMMON_INTERNAL_PROTO_CONVERT_H_
