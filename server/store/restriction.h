// Restrictions and sort orders of the store's table views: validation,
// evaluation against one row, and the value comparison that restrictions
// and sorting share. The semantics are mapinotify/table_types.h's; this
// header adds only what that one leaves to the implementation. Stateless;
// thread-safe.
#ifndef MAPINOTIFY_SERVER_STORE_RESTRICTION_H_
#define MAPINOTIFY_SERVER_STORE_RESTRICTION_H_

#include <cstddef>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "mapinotify/mapi.h"
#include "mapinotify/notification.h"
#include "mapinotify/table_types.h"
#include "server/store/property_bag.h"

namespace mapinotify::server::store {

// A row's properties as a restriction sees them: the value of property
// PROP_ID(tag) when the row has it with type PROP_TYPE(tag) (any type for
// PT_UNSPECIFIED), nullptr otherwise (PropertyBag::Find's rule). The
// pointer must stay valid while the evaluation runs.
using PropLookup = absl::FunctionRef<const PropValue*(ULONG tag)>;

// OK when `restriction` may be evaluated. MAPI_E_TOO_COMPLEX when it is
// deeper than kMaxRestrictionDepth levels (a lone node is one level) or has
// more than kMaxRestrictionNodes nodes (these two are checked before
// anything else), or when a node uses RELOP_RE.
// MAPI_E_INVALID_PARAMETER when it is malformed: an unknown rt, relop,
// bitmask relation or fuzzy level (low word other than FL_FULLSTRING /
// FL_SUBSTRING / FL_PREFIX, high word with bits other than FL_IGNORECASE /
// FL_IGNORENONSPACE / FL_LOOSE); a RES_NOT without exactly one child; a
// RES_PROPERTY whose value is multi-valued, PT_NULL, PT_ERROR,
// PT_UNSPECIFIED, of an unknown type, holds an alternative other than its
// tag's type calls for, or whose PROP_TYPE differs from PROP_TYPE(tag); a
// RES_CONTENT whose value is not PT_UNICODE / PT_BINARY (with a matching
// alternative) or whose tag is neither that type nor its PT_MV_ form; a
// RES_BITMASK whose tag is not PT_LONG. Only the children of RES_AND /
// RES_OR / RES_NOT count (other nodes' are ignored). The walk stops at the
// depth limit, so a hostile, deeply nested input cannot exhaust the stack.
absl::Status ValidateRestriction(const Restriction& restriction);

// Whether the row `lookup` describes matches `restriction` (see
// table_types.h). REQUIRES: ValidateRestriction(restriction) is OK.
bool MatchesRestriction(const Restriction& restriction, PropLookup lookup);

// OK, or MAPI_E_TOO_COMPLEX for more than kMaxSortKeys keys or a key with a
// multi-valued tag, or MAPI_E_INVALID_PARAMETER for a key whose order is
// neither TABLE_SORT_ASCEND nor TABLE_SORT_DESCEND. The key count is
// checked first, then each key in turn.
absl::Status ValidateSortOrder(const SortOrderSet& sort);

// Three-way comparison (< 0, 0, > 0) of two property values: a total order,
// the one restrictions and sorting use. Values of different property types
// order by PROP_TYPE (this only happens for PT_UNSPECIFIED sort keys or
// compared properties). Within a type: PT_LONG, PT_I8, PT_DOUBLE and
// PT_SYSTIME by value (a NaN after every number, NaNs equal); PT_BOOLEAN
// false < true; PT_UNICODE by FoldCase (case_fold.h) byte for byte, then,
// among strings that fold equally, by their own bytes (so only identical
// strings compare equal); PT_BINARY and PT_CLSID byte for byte (unsigned),
// a prefix before the longer value; PT_ERROR by SCODE; PT_NULL all equal;
// multi-valued values element by element, a prefix first.
int CompareValues(const PropValue& a, const PropValue& b);

}  // namespace mapinotify::server::store

#endif  // MAPINOTIFY_SERVER_STORE_RESTRICTION_H_
