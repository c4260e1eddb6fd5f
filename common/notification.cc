#include "mapinotify/notification.h"

namespace mapinotify {

bool PropTypeMatches(const PropValue& value) {
  const PropVariant& v = value.value;
  switch (PROP_TYPE(value.tag)) {
    case PT_NULL:
    case PT_UNSPECIFIED:
      return std::holds_alternative<std::monostate>(v);
    case PT_LONG:
      return std::holds_alternative<int32_t>(v);
    case PT_I8:
      return std::holds_alternative<int64_t>(v);
    case PT_BOOLEAN:
      return std::holds_alternative<bool>(v);
    case PT_DOUBLE:
      return std::holds_alternative<double>(v);
    case PT_SYSTIME:
      return std::holds_alternative<FileTime>(v);
    case PT_UNICODE:
      return std::holds_alternative<std::string>(v);
    case PT_BINARY:
      return std::holds_alternative<Binary>(v);
    case PT_CLSID:
      return std::holds_alternative<Guid>(v);
    case PT_ERROR:
      return std::holds_alternative<ErrorValue>(v);
    case PT_MV_LONG:
      return std::holds_alternative<std::vector<int32_t>>(v);
    case PT_MV_I8:
      return std::holds_alternative<std::vector<int64_t>>(v);
    case PT_MV_DOUBLE:
      return std::holds_alternative<std::vector<double>>(v);
    case PT_MV_SYSTIME:
      return std::holds_alternative<std::vector<FileTime>>(v);
    case PT_MV_UNICODE:
      return std::holds_alternative<std::vector<std::string>>(v);
    case PT_MV_BINARY:
      return std::holds_alternative<std::vector<Binary>>(v);
    case PT_MV_CLSID:
      return std::holds_alternative<std::vector<Guid>>(v);
    default:
      return false;
  }
}

}  // namespace mapinotify
