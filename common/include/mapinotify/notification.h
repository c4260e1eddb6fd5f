// MAPI-shaped value types: property values, rows and notifications, as the
// client library hands them to advise sinks. Plain values: thread-compatible,
// copyable, no reference to the wire.
#ifndef MAPINOTIFY_NOTIFICATION_H_
#define MAPINOTIFY_NOTIFICATION_H_

#include <array>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "mapinotify/mapi.h"

namespace mapinotify {

// Opaque bytes (PT_BINARY, entry ids, instance keys).
struct Binary {
  std::string bytes;
  friend bool operator==(const Binary& a, const Binary& b) {
    return a.bytes == b.bytes;
  }
  friend bool operator!=(const Binary& a, const Binary& b) { return !(a == b); }
};

// An entry id: opaque to clients, compared byte for byte.
using EntryId = std::string;

// PT_SYSTIME: FILETIME, 100-nanosecond intervals since 1601-01-01 UTC.
struct FileTime {
  uint64_t ticks = 0;
  friend bool operator==(FileTime a, FileTime b) { return a.ticks == b.ticks; }
  friend bool operator!=(FileTime a, FileTime b) { return !(a == b); }
};

// PT_CLSID: a GUID in MAPI's in-memory byte order.
struct Guid {
  std::array<uint8_t, 16> bytes{};
  friend bool operator==(const Guid& a, const Guid& b) {
    return a.bytes == b.bytes;
  }
  friend bool operator!=(const Guid& a, const Guid& b) { return !(a == b); }
};

// PT_ERROR: the SCODE standing in a property's slot.
struct ErrorValue {
  SCODE scode = 0;
  friend bool operator==(ErrorValue a, ErrorValue b) {
    return a.scode == b.scode;
  }
  friend bool operator!=(ErrorValue a, ErrorValue b) { return !(a == b); }
};

// The value of a property. The alternative always agrees with
// PROP_TYPE(tag) of the PropValue holding it:
//   PT_NULL monostate, PT_LONG int32_t, PT_I8 int64_t, PT_BOOLEAN bool,
//   PT_DOUBLE double, PT_SYSTIME FileTime, PT_UNICODE std::string (UTF-8),
//   PT_BINARY Binary, PT_CLSID Guid, PT_ERROR ErrorValue, and the PT_MV_*
//   forms as vectors of the same element types.
using PropVariant =
    std::variant<std::monostate, int32_t, int64_t, bool, double, FileTime,
                 std::string, Binary, Guid, ErrorValue, std::vector<int32_t>,
                 std::vector<int64_t>, std::vector<double>,
                 std::vector<FileTime>, std::vector<std::string>,
                 std::vector<Binary>, std::vector<Guid>>;

// SPropValue.
struct PropValue {
  ULONG tag = PR_NULL;
  PropVariant value;

  friend bool operator==(const PropValue& a, const PropValue& b) {
    return a.tag == b.tag && a.value == b.value;
  }
  friend bool operator!=(const PropValue& a, const PropValue& b) {
    return !(a == b);
  }
};

// Returns true when `value` holds the alternative that PROP_TYPE(tag) calls
// for (see PropVariant).
bool PropTypeMatches(const PropValue& value);

// SRow: values in the view's column order.
using Row = std::vector<PropValue>;

// ERROR_NOTIFICATION (with its MAPIERROR flattened in).
struct ErrorNotification {
  EntryId entry_id;
  SCODE scode = 0;
  ULONG flags = 0;
  std::string error_text;
  std::string component;
  ULONG low_level_error = 0;
  ULONG context = 0;
};

// NEWMAIL_NOTIFICATION.
struct NewMailNotification {
  EntryId entry_id;
  EntryId parent_id;
  ULONG flags = 0;
  std::string message_class;
  ULONG message_flags = 0;
};

// OBJECT_NOTIFICATION.
struct ObjectNotification {
  EntryId entry_id;
  ULONG object_type = 0;
  EntryId parent_id;
  EntryId old_id;
  EntryId old_parent_id;
  std::vector<ULONG> prop_tags;
};

// TABLE_NOTIFICATION.
struct TableNotification {
  ULONG table_event = 0;
  HRESULT hresult = S_OK;
  PropValue index_key;  // PR_INSTANCE_KEY of the row concerned.
  PropValue
      prior_key;  // PR_INSTANCE_KEY of the row before; tag PR_NULL if first.
  Row row;
};

// EXTENDED_NOTIFICATION.
struct ExtendedNotification {
  ULONG event_code = 0;
  std::string event_parameters;
};

// STATUS_OBJECT_NOTIFICATION.
struct StatusObjectNotification {
  EntryId entry_id;
  std::vector<PropValue> prop_vals;
};

// NOTIFICATION: one event type and the structure it selects
// (fnevObject* and fnevSearchComplete use ObjectNotification).
struct Notification {
  ULONG event_type = 0;
  std::variant<ErrorNotification, NewMailNotification, ObjectNotification,
               TableNotification, ExtendedNotification,
               StatusObjectNotification>
      info;

  // Typed access; nullptr when `info` holds another structure.
  const ErrorNotification* error() const {
    return std::get_if<ErrorNotification>(&info);
  }
  const NewMailNotification* new_mail() const {
    return std::get_if<NewMailNotification>(&info);
  }
  const ObjectNotification* object() const {
    return std::get_if<ObjectNotification>(&info);
  }
  const TableNotification* table() const {
    return std::get_if<TableNotification>(&info);
  }
  const ExtendedNotification* extended() const {
    return std::get_if<ExtendedNotification>(&info);
  }
  const StatusObjectNotification* status_object() const {
    return std::get_if<StatusObjectNotification>(&info);
  }
};

}  // namespace mapinotify

#endif  // MAPINOTIFY_NOTIFICATION_H_
