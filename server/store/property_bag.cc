#include "server/store/property_bag.h"

#include <algorithm>
#include <string>
#include <utility>
#include <variant>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace mapinotify::server::store {
namespace {

constexpr ULONG kPropIdInvalid = 0xFFFF;
// FILETIME of the Unix epoch (100 ns ticks since 1601-01-01).
constexpr int64_t kUnixEpochTicks = 116444736000000000;

bool StoredType(ULONG type) {
  switch (type) {
    case PT_LONG:
    case PT_I8:
    case PT_BOOLEAN:
    case PT_DOUBLE:
    case PT_SYSTIME:
    case PT_UNICODE:
    case PT_BINARY:
    case PT_CLSID:
    case PT_MV_LONG:
    case PT_MV_I8:
    case PT_MV_DOUBLE:
    case PT_MV_SYSTIME:
    case PT_MV_UNICODE:
    case PT_MV_BINARY:
    case PT_MV_CLSID:
      return true;
    default:
      return false;
  }
}

struct ValueSize {
  size_t operator()(const std::monostate&) const { return 0; }
  size_t operator()(int32_t) const { return 4; }
  size_t operator()(int64_t) const { return 8; }
  size_t operator()(bool) const { return 2; }
  size_t operator()(double) const { return 8; }
  size_t operator()(FileTime) const { return 8; }
  size_t operator()(const std::string& s) const { return 2 * (s.size() + 1); }
  size_t operator()(const Binary& b) const { return b.bytes.size(); }
  size_t operator()(const Guid&) const { return 16; }
  size_t operator()(ErrorValue) const { return 4; }
  template <typename T>
  size_t operator()(const std::vector<T>& values) const {
    size_t total = 4;
    for (const T& v : values) total += (*this)(v);
    return total;
  }
};

}  // namespace

const PropValue* PropertyBag::Find(ULONG tag) const {
  auto it = values_.find(PROP_ID(tag));
  if (it == values_.end()) return nullptr;
  if (PROP_TYPE(tag) != PT_UNSPECIFIED &&
      PROP_TYPE(tag) != PROP_TYPE(it->second.tag)) {
    return nullptr;
  }
  return &it->second;
}

bool PropertyBag::Set(PropValue value) {
  auto [it, inserted] = values_.try_emplace(PROP_ID(value.tag), value);
  if (inserted) return true;
  if (it->second == value) return false;
  it->second = std::move(value);
  return true;
}

std::optional<ULONG> PropertyBag::Erase(ULONG tag) {
  auto it = values_.find(PROP_ID(tag));
  if (it == values_.end()) return std::nullopt;
  const ULONG removed = it->second.tag;
  values_.erase(it);
  return removed;
}

size_t PropValueByteSize(const PropValue& value) {
  return std::visit(ValueSize(), value.value);
}

size_t PropertyBag::ByteSize() const {
  size_t total = 0;
  for (const auto& [id, value] : values_) {
    total += 4 + PropValueByteSize(value);
  }
  return total;
}

std::vector<ULONG> ApplyPending(const PendingChanges& pending,
                                PropertyBag* bag) {
  std::vector<ULONG> changed;
  for (const auto& [id, change] : pending) {
    if (change.has_value()) {
      if (bag->Set(*change)) changed.push_back(change->tag);
    } else if (std::optional<ULONG> removed = bag->Erase(PROP_TAG(0, id))) {
      changed.push_back(*removed);
    }
  }
  std::sort(changed.begin(), changed.end());
  changed.erase(std::unique(changed.begin(), changed.end()), changed.end());
  return changed;
}

std::vector<PropValue> SelectProps(const PropertyBag& view,
                                   const std::vector<ULONG>& tags) {
  std::vector<PropValue> out;
  if (tags.empty()) {
    out.reserve(view.values().size());
    for (const auto& [id, value] : view.values()) out.push_back(value);
    return out;
  }
  out.reserve(tags.size());
  for (ULONG tag : tags) {
    const PropValue* value = view.Find(tag);
    out.push_back(value != nullptr ? *value : NotFoundValue(tag));
  }
  return out;
}

SCODE CheckStorable(const PropValue& value) {
  const SCODE tag_scode = CheckDeletable(value.tag);
  if (tag_scode != S_OK) return tag_scode;
  if (!StoredType(PROP_TYPE(value.tag)) || !PropTypeMatches(value)) {
    return MAPI_E_INVALID_TYPE;
  }
  return S_OK;
}

SCODE CheckDeletable(ULONG tag) {
  if (PROP_ID(tag) == 0 || PROP_ID(tag) == kPropIdInvalid) {
    return MAPI_E_INVALID_PARAMETER;
  }
  return S_OK;
}

PropValue NotFoundValue(ULONG tag) {
  return PropValue{CHANGE_PROP_TYPE(tag, PT_ERROR),
                   ErrorValue{MAPI_E_NOT_FOUND}};
}

FileTime FileTimeNow() {
  const int64_t ticks = absl::ToUnixNanos(absl::Now()) / 100 + kUnixEpochTicks;
  return FileTime{static_cast<uint64_t>(ticks)};
}

}  // namespace mapinotify::server::store
