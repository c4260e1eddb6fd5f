// PropertyBag: the stored properties of one store object, and the rules for
// values a client may store. Plain values: thread-compatible.
#ifndef MAPINOTIFY_SERVER_STORE_PROPERTY_BAG_H_
#define MAPINOTIFY_SERVER_STORE_PROPERTY_BAG_H_

#include <cstddef>
#include <map>
#include <optional>
#include <vector>

#include "mapinotify/mapi.h"
#include "mapinotify/notification.h"

namespace mapinotify::server::store {

// Properties keyed by property id: one value per id, whatever its type
// (setting PROP_TAG(PT_LONG, id) replaces a PT_UNICODE value of that id, as
// in MAPI).
class PropertyBag {
 public:
  // The property `tag` names: nullptr when the bag has no property of that
  // id, or when PROP_TYPE(tag) is neither PT_UNSPECIFIED nor the stored
  // value's type.
  const PropValue* Find(ULONG tag) const;

  // Stores `value` (REQUIRES: CheckStorable(value) == S_OK). Returns true
  // when the bag changed.
  bool Set(PropValue value);

  // Removes the property of PROP_ID(tag), whatever its type. Returns the
  // removed value's tag, or nullopt when there was none.
  std::optional<ULONG> Erase(ULONG tag);

  // Every value, by ascending property id.
  const std::map<ULONG, PropValue>& values() const { return values_; }

  // An estimate of the bytes the values take (PR_MESSAGE_SIZE).
  size_t ByteSize() const;

  friend bool operator==(const PropertyBag& a, const PropertyBag& b) {
    return a.values_ == b.values_;
  }

 private:
  std::map<ULONG, PropValue> values_;
};

// Unsaved changes of one open-message context, by property id: a value to
// set, or nullopt for a deletion. Later changes of one id replace earlier
// ones.
using PendingChanges = std::map<ULONG, std::optional<PropValue>>;

// Applies `pending` to `bag`; returns the tags that changed, ascending and
// unique (a deleted property by the tag it had, a set one by its new tag).
std::vector<ULONG> ApplyPending(const PendingChanges& pending,
                                PropertyBag* bag);

// GetProps' answer from `view` (every property of an object): one value per
// tag in `tags` order, NotFoundValue for a tag `view` lacks (see
// PropertyBag::Find); every value, by ascending id, when `tags` is empty.
std::vector<PropValue> SelectProps(const PropertyBag& view,
                                   const std::vector<ULONG>& tags);

// Whether a client may store `value`: S_OK; MAPI_E_INVALID_PARAMETER for
// property id 0 or 0xFFFF; MAPI_E_INVALID_TYPE when the type is one that is
// never stored (PT_UNSPECIFIED, PT_NULL, PT_ERROR, an unknown type) or the
// value's alternative disagrees with PROP_TYPE(tag) (PropTypeMatches).
SCODE CheckStorable(const PropValue& value);

// Whether a client may name `tag` in DeleteProps: S_OK or
// MAPI_E_INVALID_PARAMETER (property id 0 or 0xFFFF).
SCODE CheckDeletable(ULONG tag);

// The byte size of one value, the store's one measure (PR_MESSAGE_SIZE
// adds 4 per value; RES_SIZE compares it): PT_LONG 4, PT_I8 / PT_DOUBLE /
// PT_SYSTIME 8, PT_BOOLEAN 2, PT_CLSID 16, PT_ERROR 4, PT_NULL 0, PT_BINARY
// its length, PT_UNICODE 2 * (UTF-8 bytes + 1) (a UTF-16 string with its
// terminator, for ASCII text), multi-valued 4 plus the sizes of the
// elements.
size_t PropValueByteSize(const PropValue& value);

// The slot of a property the object lacks: PROP_TAG(PT_ERROR, PROP_ID(tag))
// holding MAPI_E_NOT_FOUND.
PropValue NotFoundValue(ULONG tag);

// The current time as a FILETIME.
FileTime FileTimeNow();

}  // namespace mapinotify::server::store

#endif  // MAPINOTIFY_SERVER_STORE_PROPERTY_BAG_H_
