// Table value types: restrictions (SRestriction), sort orders
// (SSortOrderSet) and positions, shared by the client library and the
// server's table views. Plain values: thread-compatible, copyable.
//
// What a restriction means (evaluated against one row: every property of
// the object, computed ones and PR_INSTANCE_KEY included):
//   RES_AND / RES_OR: all / any of `children` (an empty AND is true, an empty
//     OR false). RES_NOT: the negation of its one child.
//   RES_PROPERTY: the row's property `tag` compared with `value` by `relop`
//     (RELOP_LT .. RELOP_NE). PROP_TYPE(tag) must equal PROP_TYPE(value.tag)
//     (PROP_ID may differ: MAPI ignores value's id). False when the row lacks
//     the property.
//   RES_COMPAREPROPS: the row's `tag` compared with its `tag2` by `relop`;
//     false when either is missing or their types differ.
//   RES_CONTENT: the row's PT_UNICODE / PT_BINARY property `tag` (or any
//     element of a PT_MV_UNICODE / PT_MV_BINARY one) matched against `value`
//     by the low word of `fuzzy_level` (FL_FULLSTRING, FL_SUBSTRING,
//     FL_PREFIX); FL_IGNORECASE or FL_LOOSE fold case (simple Unicode case
//     folding of the Latin, Latin-1, Greek and Cyrillic letters) on strings;
//     FL_IGNORENONSPACE is accepted and ignored.
//   RES_BITMASK: (the row's PT_LONG `tag` & `mask`) == 0 for BMR_EQZ, != 0
//     for BMR_NEZ; false when missing.
//   RES_EXIST: the row has property PROP_ID(tag) (of type PROP_TYPE(tag),
//     any type for PT_UNSPECIFIED).
//   RES_SIZE: the byte size of the row's property `tag` compared with
//     `size` by `relop`; false when missing.
// Comparisons (restrictions and sorting alike): numbers and times by value,
// booleans false < true, strings by their simple case folding (as above)
// and then byte for byte, binaries and GUIDs byte for byte (a prefix before
// a longer value). RELOP_RE is MAPI_E_TOO_COMPLEX (no regular expressions).
//
// Limits: at most kMaxRestrictionDepth levels and kMaxRestrictionNodes
// nodes in one restriction, at most kMaxSortKeys sort keys; beyond them a
// call fails with MAPI_E_TOO_COMPLEX. A malformed restriction (an unknown
// rt, relop or fuzzy level, a NOT without exactly one child, a tag / value
// type mismatch, a multi-valued or PT_ERROR / PT_NULL value) is
// MAPI_E_INVALID_PARAMETER.
#ifndef MAPINOTIFY_TABLE_TYPES_H_
#define MAPINOTIFY_TABLE_TYPES_H_

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "mapinotify/mapi.h"
#include "mapinotify/notification.h"

namespace mapinotify {

// MAPI's LONG: the signed row counts of QueryRows and SeekRow.
using LONG = int32_t;

inline constexpr size_t kMaxRestrictionDepth = 32;
inline constexpr size_t kMaxRestrictionNodes = 1024;
inline constexpr size_t kMaxSortKeys = 16;

// SRestriction. Only the fields of `type` are meaningful; build with the
// factories.
struct Restriction {
  ULONG type = RES_AND;               // RES_*.
  std::vector<Restriction> children;  // RES_AND, RES_OR, RES_NOT (one).
  ULONG relop = RELOP_EQ;  // RES_PROPERTY, RES_COMPAREPROPS, RES_SIZE.
  ULONG fuzzy_level = FL_FULLSTRING;  // RES_CONTENT.
  ULONG bitmask_relation = BMR_EQZ;   // RES_BITMASK.
  ULONG tag = PR_NULL;   // The row's property (first one of COMPAREPROPS).
  ULONG tag2 = PR_NULL;  // RES_COMPAREPROPS: the second property.
  ULONG mask = 0;        // RES_BITMASK.
  ULONG size = 0;        // RES_SIZE.
  PropValue value;       // RES_PROPERTY, RES_CONTENT.

  static Restriction And(std::vector<Restriction> children) {
    Restriction r;
    r.type = RES_AND;
    r.children = std::move(children);
    return r;
  }
  static Restriction Or(std::vector<Restriction> children) {
    Restriction r;
    r.type = RES_OR;
    r.children = std::move(children);
    return r;
  }
  static Restriction Not(Restriction child) {
    Restriction r;
    r.type = RES_NOT;
    r.children.push_back(std::move(child));
    return r;
  }
  static Restriction Property(ULONG relop, ULONG tag, PropValue value) {
    Restriction r;
    r.type = RES_PROPERTY;
    r.relop = relop;
    r.tag = tag;
    r.value = std::move(value);
    return r;
  }
  static Restriction CompareProps(ULONG relop, ULONG tag, ULONG tag2) {
    Restriction r;
    r.type = RES_COMPAREPROPS;
    r.relop = relop;
    r.tag = tag;
    r.tag2 = tag2;
    return r;
  }
  static Restriction Content(ULONG fuzzy_level, ULONG tag, PropValue value) {
    Restriction r;
    r.type = RES_CONTENT;
    r.fuzzy_level = fuzzy_level;
    r.tag = tag;
    r.value = std::move(value);
    return r;
  }
  static Restriction Bitmask(ULONG relation, ULONG tag, ULONG mask) {
    Restriction r;
    r.type = RES_BITMASK;
    r.bitmask_relation = relation;
    r.tag = tag;
    r.mask = mask;
    return r;
  }
  static Restriction Exist(ULONG tag) {
    Restriction r;
    r.type = RES_EXIST;
    r.tag = tag;
    return r;
  }
  static Restriction Size(ULONG relop, ULONG tag, ULONG size) {
    Restriction r;
    r.type = RES_SIZE;
    r.relop = relop;
    r.tag = tag;
    r.size = size;
    return r;
  }

  friend bool operator==(const Restriction& a, const Restriction& b) {
    return a.type == b.type && a.children == b.children && a.relop == b.relop &&
           a.fuzzy_level == b.fuzzy_level &&
           a.bitmask_relation == b.bitmask_relation && a.tag == b.tag &&
           a.tag2 == b.tag2 && a.mask == b.mask && a.size == b.size &&
           a.value == b.value;
  }
  friend bool operator!=(const Restriction& a, const Restriction& b) {
    return !(a == b);
  }
};

// SSortOrder: one key. Keys of a SortTable call apply in order; rows equal
// on every key keep the table's fixed tie-break (see Table::SortTable).
struct SortOrder {
  ULONG tag = PR_NULL;  // Single-valued (a PT_MV_* tag is MAPI_E_TOO_COMPLEX).
  ULONG order = TABLE_SORT_ASCEND;  // TABLE_SORT_ASCEND or _DESCEND.

  friend bool operator==(const SortOrder& a, const SortOrder& b) {
    return a.tag == b.tag && a.order == b.order;
  }
  friend bool operator!=(const SortOrder& a, const SortOrder& b) {
    return !(a == b);
  }
};
using SortOrderSet = std::vector<SortOrder>;

// IMAPITable::QueryPosition: the cursor's row (0 = first row; row_count
// when at the end) as a fraction numerator / denominator.
struct TablePosition {
  ULONG row = 0;
  ULONG numerator = 0;
  ULONG denominator = 0;
};

}  // namespace mapinotify

#endif  // MAPINOTIFY_TABLE_TYPES_H_
