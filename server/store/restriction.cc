#include "server/store/restriction.h"

#include <cmath>
#include <cstring>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "mapinotify/status.h"
#include "server/store/case_fold.h"

namespace mapinotify::server::store {
namespace {

constexpr ULONG kFuzzyMatchMask = 0x0000FFFF;
constexpr ULONG kFuzzyModifiers = FL_IGNORECASE | FL_IGNORENONSPACE | FL_LOOSE;

absl::Status Invalid(const std::string& what) {
  return MapiError(MAPI_E_INVALID_PARAMETER,
                   absl::StrCat("restriction: ", what));
}

bool HasChildren(ULONG type) {
  return type == RES_AND || type == RES_OR || type == RES_NOT;
}

// Pass 1: the depth and node limits. `depth` is the level of `r` (1-based).
absl::Status CheckLimits(const Restriction& r, size_t depth, size_t* nodes) {
  if (depth > kMaxRestrictionDepth) {
    return MapiError(MAPI_E_TOO_COMPLEX,
                     absl::StrCat("restriction: deeper than ",
                                  kMaxRestrictionDepth, " levels"));
  }
  if (++*nodes > kMaxRestrictionNodes) {
    return MapiError(MAPI_E_TOO_COMPLEX,
                     absl::StrCat("restriction: more than ",
                                  kMaxRestrictionNodes, " nodes"));
  }
  if (!HasChildren(r.type)) return absl::OkStatus();
  for (const Restriction& child : r.children) {
    absl::Status s = CheckLimits(child, depth + 1, nodes);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status CheckRelop(ULONG relop) {
  if (relop <= RELOP_NE) return absl::OkStatus();
  if (relop == RELOP_RE) {
    return MapiError(MAPI_E_TOO_COMPLEX,
                     "restriction: RELOP_RE (regular expressions) is not "
                     "supported");
  }
  return Invalid(absl::StrCat("unknown relop ", relop));
}

// A single-valued type a RES_PROPERTY value may have.
bool ComparableType(ULONG type) {
  switch (type) {
    case PT_LONG:
    case PT_I8:
    case PT_BOOLEAN:
    case PT_DOUBLE:
    case PT_SYSTIME:
    case PT_UNICODE:
    case PT_BINARY:
    case PT_CLSID:
      return true;
    default:
      return false;
  }
}

// Pass 2: each node's own fields. The depth is already bounded.
absl::Status CheckNode(const Restriction& r) {
  switch (r.type) {
    case RES_AND:
    case RES_OR:
      break;
    case RES_NOT:
      if (r.children.size() != 1) {
        return Invalid(absl::StrCat("RES_NOT with ", r.children.size(),
                                    " children (it takes exactly one)"));
      }
      break;
    case RES_PROPERTY: {
      absl::Status s = CheckRelop(r.relop);
      if (!s.ok()) return s;
      const ULONG type = PROP_TYPE(r.value.tag);
      if (!ComparableType(type) || !PropTypeMatches(r.value)) {
        return Invalid(absl::StrFormat(
            "RES_PROPERTY value of tag 0x%08X: not a single-valued "
            "comparable value of its type",
            r.value.tag));
      }
      if (PROP_TYPE(r.tag) != type) {
        return Invalid(absl::StrFormat(
            "RES_PROPERTY tag 0x%08X and value tag 0x%08X differ in type",
            r.tag, r.value.tag));
      }
      break;
    }
    case RES_COMPAREPROPS:
      return CheckRelop(r.relop);
    case RES_CONTENT: {
      const ULONG match = r.fuzzy_level & kFuzzyMatchMask;
      if (match != FL_FULLSTRING && match != FL_SUBSTRING &&
          match != FL_PREFIX) {
        return Invalid(absl::StrCat("unknown fuzzy level ", match));
      }
      if ((r.fuzzy_level & ~kFuzzyMatchMask & ~kFuzzyModifiers) != 0) {
        return Invalid(absl::StrFormat("unknown fuzzy level modifiers 0x%08X",
                                       r.fuzzy_level & ~kFuzzyMatchMask));
      }
      const ULONG type = PROP_TYPE(r.value.tag);
      if ((type != PT_UNICODE && type != PT_BINARY) ||
          !PropTypeMatches(r.value)) {
        return Invalid("RES_CONTENT value must be PT_UNICODE or PT_BINARY");
      }
      if (PROP_TYPE(r.tag) != type && PROP_TYPE(r.tag) != (type | MV_FLAG)) {
        return Invalid(absl::StrFormat(
            "RES_CONTENT tag 0x%08X does not have the value's type", r.tag));
      }
      break;
    }
    case RES_BITMASK:
      if (r.bitmask_relation != BMR_EQZ && r.bitmask_relation != BMR_NEZ) {
        return Invalid(
            absl::StrCat("unknown bitmask relation ", r.bitmask_relation));
      }
      if (PROP_TYPE(r.tag) != PT_LONG) {
        return Invalid(
            absl::StrFormat("RES_BITMASK tag 0x%08X is not PT_LONG", r.tag));
      }
      break;
    case RES_EXIST:
      break;
    case RES_SIZE:
      return CheckRelop(r.relop);
    default:
      return Invalid(absl::StrCat("unknown restriction type ", r.type));
  }
  if (HasChildren(r.type)) {
    for (const Restriction& child : r.children) {
      absl::Status s = CheckNode(child);
      if (!s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

bool ApplyRelop(ULONG relop, int cmp) {
  switch (relop) {
    case RELOP_LT:
      return cmp < 0;
    case RELOP_LE:
      return cmp <= 0;
    case RELOP_GT:
      return cmp > 0;
    case RELOP_GE:
      return cmp >= 0;
    case RELOP_EQ:
      return cmp == 0;
    case RELOP_NE:
      return cmp != 0;
    default:
      return false;  // Validation rejects every other relop.
  }
}

template <typename T>
int Three(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

int Sign(int v) { return v < 0 ? -1 : (v > 0 ? 1 : 0); }

// Three-way comparisons of the alternatives of PropVariant.
int Compare(const std::monostate&, const std::monostate&) { return 0; }
int Compare(int32_t a, int32_t b) { return Three(a, b); }
int Compare(int64_t a, int64_t b) { return Three(a, b); }
int Compare(bool a, bool b) { return Three(a, b); }
int Compare(double a, double b) {
  const bool na = std::isnan(a), nb = std::isnan(b);
  if (na || nb) return Three(na, nb);  // NaN after every number.
  return Three(a, b);
}
int Compare(FileTime a, FileTime b) { return Three(a.ticks, b.ticks); }
int Compare(const std::string& a, const std::string& b) {
  const int folded = Sign(FoldCase(a).compare(FoldCase(b)));
  return folded != 0 ? folded : Sign(a.compare(b));
}
int Compare(const Binary& a, const Binary& b) {
  return Sign(a.bytes.compare(b.bytes));
}
int Compare(const Guid& a, const Guid& b) {
  return Sign(std::memcmp(a.bytes.data(), b.bytes.data(), a.bytes.size()));
}
int Compare(ErrorValue a, ErrorValue b) { return Three(a.scode, b.scode); }
template <typename T>
int Compare(const std::vector<T>& a, const std::vector<T>& b) {
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    const int c = Compare(a[i], b[i]);
    if (c != 0) return c;
  }
  return Three(a.size(), b.size());
}

bool TextMatches(absl::string_view text, absl::string_view pattern,
                 ULONG fuzzy_level) {
  switch (fuzzy_level & kFuzzyMatchMask) {
    case FL_SUBSTRING:
      return absl::StrContains(text, pattern);
    case FL_PREFIX:
      return absl::StartsWith(text, pattern);
    default:
      return text == pattern;
  }
}

bool ContentMatches(const PropValue& value, const Restriction& r) {
  if (const auto* pattern = std::get_if<Binary>(&r.value.value)) {
    if (const auto* b = std::get_if<Binary>(&value.value)) {
      return TextMatches(b->bytes, pattern->bytes, r.fuzzy_level);
    }
    if (const auto* mv = std::get_if<std::vector<Binary>>(&value.value)) {
      for (const Binary& b : *mv) {
        if (TextMatches(b.bytes, pattern->bytes, r.fuzzy_level)) return true;
      }
    }
    return false;
  }
  const std::string& raw = std::get<std::string>(r.value.value);
  const bool fold = (r.fuzzy_level & (FL_IGNORECASE | FL_LOOSE)) != 0;
  const std::string pattern = fold ? FoldCase(raw) : raw;
  const auto matches = [&](const std::string& text) {
    return TextMatches(fold ? FoldCase(text) : text, pattern, r.fuzzy_level);
  };
  if (const auto* s = std::get_if<std::string>(&value.value)) {
    return matches(*s);
  }
  if (const auto* mv = std::get_if<std::vector<std::string>>(&value.value)) {
    for (const std::string& s : *mv) {
      if (matches(s)) return true;
    }
  }
  return false;
}

}  // namespace

absl::Status ValidateRestriction(const Restriction& restriction) {
  size_t nodes = 0;
  absl::Status s = CheckLimits(restriction, 1, &nodes);
  if (!s.ok()) return s;
  return CheckNode(restriction);
}

bool MatchesRestriction(const Restriction& r, PropLookup lookup) {
  switch (r.type) {
    case RES_AND:
      for (const Restriction& child : r.children) {
        if (!MatchesRestriction(child, lookup)) return false;
      }
      return true;
    case RES_OR:
      for (const Restriction& child : r.children) {
        if (MatchesRestriction(child, lookup)) return true;
      }
      return false;
    case RES_NOT:
      return !MatchesRestriction(r.children.at(0), lookup);
    case RES_PROPERTY: {
      const PropValue* v = lookup(r.tag);
      return v != nullptr && ApplyRelop(r.relop, CompareValues(*v, r.value));
    }
    case RES_COMPAREPROPS: {
      const PropValue* a = lookup(r.tag);
      const PropValue* b = lookup(r.tag2);
      if (a == nullptr || b == nullptr ||
          PROP_TYPE(a->tag) != PROP_TYPE(b->tag)) {
        return false;
      }
      return ApplyRelop(r.relop, CompareValues(*a, *b));
    }
    case RES_CONTENT: {
      const PropValue* v = lookup(r.tag);
      return v != nullptr && ContentMatches(*v, r);
    }
    case RES_BITMASK: {
      const PropValue* v = lookup(r.tag);
      const int32_t* l =
          v == nullptr ? nullptr : std::get_if<int32_t>(&v->value);
      if (l == nullptr) return false;
      const bool zero = (static_cast<ULONG>(*l) & r.mask) == 0;
      return r.bitmask_relation == BMR_EQZ ? zero : !zero;
    }
    case RES_EXIST:
      return lookup(r.tag) != nullptr;
    case RES_SIZE: {
      const PropValue* v = lookup(r.tag);
      if (v == nullptr) return false;
      return ApplyRelop(r.relop, Three<size_t>(PropValueByteSize(*v), r.size));
    }
    default:
      return false;  // Validation rejects every other type.
  }
}

absl::Status ValidateSortOrder(const SortOrderSet& sort) {
  if (sort.size() > kMaxSortKeys) {
    return MapiError(MAPI_E_TOO_COMPLEX,
                     absl::StrCat("sort order: ", sort.size(),
                                  " keys; the most is ", kMaxSortKeys));
  }
  for (size_t i = 0; i < sort.size(); ++i) {
    if ((PROP_TYPE(sort[i].tag) & MV_FLAG) != 0) {
      return MapiError(MAPI_E_TOO_COMPLEX,
                       absl::StrFormat("sort order: key %u has the "
                                       "multi-valued tag 0x%08X",
                                       i, sort[i].tag));
    }
    if (sort[i].order != TABLE_SORT_ASCEND &&
        sort[i].order != TABLE_SORT_DESCEND) {
      return MapiError(
          MAPI_E_INVALID_PARAMETER,
          absl::StrCat("sort order: key ", i, " has order ", sort[i].order));
    }
  }
  return absl::OkStatus();
}

int CompareValues(const PropValue& a, const PropValue& b) {
  const ULONG ta = PROP_TYPE(a.tag), tb = PROP_TYPE(b.tag);
  if (ta != tb) return Three(ta, tb);
  // A value always holds its type's alternative; the index keeps the order
  // total even if one did not.
  if (a.value.index() != b.value.index()) {
    return Three(a.value.index(), b.value.index());
  }
  return std::visit(
      [&b](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        return Compare(x, std::get<T>(b.value));
      },
      a.value);
}

}  // namespace mapinotify::server::store
