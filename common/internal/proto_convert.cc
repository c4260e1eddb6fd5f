#include "common/internal/proto_convert.h"

#include <algorithm>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/internal/status_macros.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"
#include "mapinotify/status.h"

namespace mapinotify::internal {
namespace {

absl::Status BadValue(ULONG tag, absl::string_view why) {
  return MapiError(
      MAPI_E_INVALID_PARAMETER,
      absl::StrCat("property 0x", absl::Hex(tag, absl::kZeroPad8), ": ", why));
}

absl::StatusOr<Guid> GuidFrom(const std::string& bytes, ULONG tag) {
  if (bytes.size() != 16) return BadValue(tag, "PT_CLSID must be 16 bytes");
  Guid g;
  std::copy(bytes.begin(), bytes.end(), g.bytes.begin());
  return g;
}

std::string GuidBytes(const Guid& g) {
  return std::string(reinterpret_cast<const char*>(g.bytes.data()),
                     g.bytes.size());
}

template <typename T, typename Repeated>
std::vector<T> ToVector(const Repeated& r) {
  return std::vector<T>(r.begin(), r.end());
}

}  // namespace

absl::StatusOr<PropValue> FromProto(const v1::PropValue& p) {
  PropValue out;
  out.tag = p.tag();
  using C = v1::PropValue::ValueCase;
  const ULONG type = PROP_TYPE(p.tag());
  C expected;
  switch (type) {
    case PT_NULL:
    case PT_UNSPECIFIED:
      expected = C::VALUE_NOT_SET;
      break;
    case PT_LONG:
      expected = C::kL;
      break;
    case PT_I8:
      expected = C::kI8;
      break;
    case PT_BOOLEAN:
      expected = C::kB;
      break;
    case PT_DOUBLE:
      expected = C::kDbl;
      break;
    case PT_SYSTIME:
      expected = C::kSystime;
      break;
    case PT_UNICODE:
      expected = C::kUnicode;
      break;
    case PT_BINARY:
      expected = C::kBin;
      break;
    case PT_CLSID:
      expected = C::kClsid;
      break;
    case PT_ERROR:
      expected = C::kErr;
      break;
    case PT_MV_LONG:
      expected = C::kMvLong;
      break;
    case PT_MV_I8:
      expected = C::kMvI8;
      break;
    case PT_MV_DOUBLE:
      expected = C::kMvDbl;
      break;
    case PT_MV_SYSTIME:
      expected = C::kMvSystime;
      break;
    case PT_MV_UNICODE:
      expected = C::kMvUnicode;
      break;
    case PT_MV_BINARY:
      expected = C::kMvBin;
      break;
    case PT_MV_CLSID:
      expected = C::kMvClsid;
      break;
    default:
      return BadValue(p.tag(), "unknown property type");
  }
  if (p.value_case() != expected) {
    return BadValue(p.tag(), "value does not match the tag's property type");
  }
  switch (expected) {
    case C::VALUE_NOT_SET:
      break;
    case C::kL:
      out.value = p.l();
      break;
    case C::kI8:
      out.value = p.i8();
      break;
    case C::kB:
      out.value = p.b();
      break;
    case C::kDbl:
      out.value = p.dbl();
      break;
    case C::kSystime:
      out.value = FileTime{p.systime()};
      break;
    case C::kUnicode:
      out.value = p.unicode();
      break;
    case C::kBin:
      out.value = Binary{p.bin()};
      break;
    case C::kClsid: {
      MAPINOTIFY_ASSIGN_OR_RETURN(Guid g, GuidFrom(p.clsid(), p.tag()));
      out.value = g;
      break;
    }
    case C::kErr:
      out.value = ErrorValue{p.err()};
      break;
    case C::kMvLong:
      out.value = ToVector<int32_t>(p.mv_long().values());
      break;
    case C::kMvI8:
      out.value = ToVector<int64_t>(p.mv_i8().values());
      break;
    case C::kMvDbl:
      out.value = ToVector<double>(p.mv_dbl().values());
      break;
    case C::kMvSystime: {
      std::vector<FileTime> v;
      v.reserve(p.mv_systime().values_size());
      for (uint64_t t : p.mv_systime().values()) v.push_back(FileTime{t});
      out.value = std::move(v);
      break;
    }
    case C::kMvUnicode:
      out.value = ToVector<std::string>(p.mv_unicode().values());
      break;
    case C::kMvBin: {
      std::vector<Binary> v;
      v.reserve(p.mv_bin().values_size());
      for (const std::string& b : p.mv_bin().values()) v.push_back(Binary{b});
      out.value = std::move(v);
      break;
    }
    case C::kMvClsid: {
      std::vector<Guid> v;
      v.reserve(p.mv_clsid().values_size());
      for (const std::string& b : p.mv_clsid().values()) {
        MAPINOTIFY_ASSIGN_OR_RETURN(Guid g, GuidFrom(b, p.tag()));
        v.push_back(g);
      }
      out.value = std::move(v);
      break;
    }
  }
  return out;
}

absl::Status ToProto(const PropValue& value, v1::PropValue* p) {
  if (!PropTypeMatches(value)) {
    return BadValue(value.tag, "value does not match the tag's property type");
  }
  p->Clear();
  p->set_tag(value.tag);
  const PropVariant& v = value.value;
  if (auto* x = std::get_if<int32_t>(&v)) {
    p->set_l(*x);
  } else if (auto* x = std::get_if<int64_t>(&v)) {
    p->set_i8(*x);
  } else if (auto* x = std::get_if<bool>(&v)) {
    p->set_b(*x);
  } else if (auto* x = std::get_if<double>(&v)) {
    p->set_dbl(*x);
  } else if (auto* x = std::get_if<FileTime>(&v)) {
    p->set_systime(x->ticks);
  } else if (auto* x = std::get_if<std::string>(&v)) {
    p->set_unicode(*x);
  } else if (auto* x = std::get_if<Binary>(&v)) {
    p->set_bin(x->bytes);
  } else if (auto* x = std::get_if<Guid>(&v)) {
    p->set_clsid(GuidBytes(*x));
  } else if (auto* x = std::get_if<ErrorValue>(&v)) {
    p->set_err(x->scode);
  } else if (auto* x = std::get_if<std::vector<int32_t>>(&v)) {
    p->mutable_mv_long()->mutable_values()->Add(x->begin(), x->end());
  } else if (auto* x = std::get_if<std::vector<int64_t>>(&v)) {
    p->mutable_mv_i8()->mutable_values()->Add(x->begin(), x->end());
  } else if (auto* x = std::get_if<std::vector<double>>(&v)) {
    p->mutable_mv_dbl()->mutable_values()->Add(x->begin(), x->end());
  } else if (auto* x = std::get_if<std::vector<FileTime>>(&v)) {
    for (FileTime t : *x) p->mutable_mv_systime()->add_values(t.ticks);
  } else if (auto* x = std::get_if<std::vector<std::string>>(&v)) {
    for (const auto& s : *x) p->mutable_mv_unicode()->add_values(s);
  } else if (auto* x = std::get_if<std::vector<Binary>>(&v)) {
    for (const auto& b : *x) p->mutable_mv_bin()->add_values(b.bytes);
  } else if (auto* x = std::get_if<std::vector<Guid>>(&v)) {
    for (const auto& g : *x) p->mutable_mv_clsid()->add_values(GuidBytes(g));
  }
  return absl::OkStatus();
}

v1::Notification::InfoCase InfoCaseFor(uint32_t event_type) {
  using I = v1::Notification::InfoCase;
  switch (event_type) {
    case fnevCriticalError:
      return I::kError;
    case fnevNewMail:
      return I::kNewMail;
    case fnevObjectCreated:
    case fnevObjectDeleted:
    case fnevObjectModified:
    case fnevObjectMoved:
    case fnevObjectCopied:
    case fnevSearchComplete:
      return I::kObject;
    case fnevTableModified:
      return I::kTable;
    case fnevExtended:
      return I::kExtended;
    case fnevStatusObjectModified:
      return I::kStatusObject;
    default:
      return I::INFO_NOT_SET;
  }
}

namespace {

absl::Status CheckShape(const v1::Notification& p) {
  const uint32_t type = static_cast<uint32_t>(p.event_type());
  v1::Notification::InfoCase want = InfoCaseFor(type);
  if (want == v1::Notification::INFO_NOT_SET) {
    return MapiError(
        MAPI_E_INVALID_PARAMETER,
        absl::StrCat("notification: event type 0x", absl::Hex(type),
                     " is not exactly one known fnev bit"));
  }
  if (p.info_case() != want) {
    return MapiError(
        MAPI_E_INVALID_PARAMETER,
        absl::StrCat("notification: event type 0x", absl::Hex(type),
                     " needs its structure (field ", want, "), got field ",
                     p.info_case()));
  }
  if (want == v1::Notification::kTable) {
    const uint32_t ev = static_cast<uint32_t>(p.table().table_event());
    if (ev < TABLE_CHANGED || ev > TABLE_RELOAD) {
      return MapiError(MAPI_E_INVALID_PARAMETER,
                       absl::StrCat("notification: unknown table event ", ev));
    }
  }
  return absl::OkStatus();
}

template <typename Repeated>
absl::StatusOr<std::vector<PropValue>> PropsFrom(const Repeated& r) {
  std::vector<PropValue> out;
  out.reserve(r.size());
  for (const v1::PropValue& p : r) {
    MAPINOTIFY_ASSIGN_OR_RETURN(PropValue v, FromProto(p));
    out.push_back(std::move(v));
  }
  return out;
}

template <typename Repeated>
absl::Status PropsTo(const std::vector<PropValue>& values, Repeated* r) {
  for (const PropValue& v : values) {
    MAPINOTIFY_RETURN_IF_ERROR(ToProto(v, r->Add()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateNotification(const v1::Notification& p) {
  // Converting validates every value; the cost is only paid by publishers.
  return FromProto(p).status();
}

absl::StatusOr<Notification> FromProto(const v1::Notification& p) {
  MAPINOTIFY_RETURN_IF_ERROR(CheckShape(p));
  Notification n;
  n.event_type = static_cast<uint32_t>(p.event_type());
  switch (p.info_case()) {
    case v1::Notification::kError: {
      const auto& e = p.error();
      n.info = ErrorNotification{
          e.entry_id(),  e.scode(),           e.flags(),  e.error_text(),
          e.component(), e.low_level_error(), e.context()};
      break;
    }
    case v1::Notification::kNewMail: {
      const auto& m = p.new_mail();
      n.info = NewMailNotification{m.entry_id(), m.parent_id(), m.flags(),
                                   m.message_class(), m.message_flags()};
      break;
    }
    case v1::Notification::kObject: {
      const auto& o = p.object();
      n.info = ObjectNotification{
          o.entry_id(), o.object_type(),   o.parent_id(),
          o.old_id(),   o.old_parent_id(), ToVector<ULONG>(o.prop_tags())};
      break;
    }
    case v1::Notification::kTable: {
      const auto& t = p.table();
      TableNotification tn;
      tn.table_event = static_cast<ULONG>(t.table_event());
      tn.hresult = t.hresult();
      if (t.has_index_key()) {
        MAPINOTIFY_ASSIGN_OR_RETURN(tn.index_key, FromProto(t.index_key()));
      }
      if (t.has_prior_key()) {
        MAPINOTIFY_ASSIGN_OR_RETURN(tn.prior_key, FromProto(t.prior_key()));
      }
      MAPINOTIFY_ASSIGN_OR_RETURN(tn.row, PropsFrom(t.row().props()));
      n.info = std::move(tn);
      break;
    }
    case v1::Notification::kExtended:
      n.info = ExtendedNotification{p.extended().event_code(),
                                    p.extended().event_parameters()};
      break;
    case v1::Notification::kStatusObject: {
      StatusObjectNotification s;
      s.entry_id = p.status_object().entry_id();
      MAPINOTIFY_ASSIGN_OR_RETURN(s.prop_vals,
                                  PropsFrom(p.status_object().prop_vals()));
      n.info = std::move(s);
      break;
    }
    case v1::Notification::INFO_NOT_SET:
      break;  // CheckShape rejected it.
  }
  return n;
}

// Moves string field `f` out of message `m`; an empty one is not touched
// (mutable_ on an unset field would allocate).
#define MAPINOTIFY_TAKE(m, f) \
  ((m).f().empty() ? std::string() : std::move(*(m).mutable_##f()))

absl::Status TakeFromProto(v1::Notification* p, Notification* out) {
  MAPINOTIFY_RETURN_IF_ERROR(CheckShape(*p));
  out->event_type = static_cast<uint32_t>(p->event_type());
  switch (p->info_case()) {
    case v1::Notification::kNewMail: {
      v1::NewMailNotification& m = *p->mutable_new_mail();
      auto& n = out->info.emplace<NewMailNotification>();
      n.entry_id = MAPINOTIFY_TAKE(m, entry_id);
      n.parent_id = MAPINOTIFY_TAKE(m, parent_id);
      n.flags = m.flags();
      n.message_class = MAPINOTIFY_TAKE(m, message_class);
      n.message_flags = m.message_flags();
      return absl::OkStatus();
    }
    case v1::Notification::kObject: {
      v1::ObjectNotification& o = *p->mutable_object();
      auto& n = out->info.emplace<ObjectNotification>();
      n.entry_id = MAPINOTIFY_TAKE(o, entry_id);
      n.object_type = o.object_type();
      n.parent_id = MAPINOTIFY_TAKE(o, parent_id);
      n.old_id = MAPINOTIFY_TAKE(o, old_id);
      n.old_parent_id = MAPINOTIFY_TAKE(o, old_parent_id);
      n.prop_tags.assign(o.prop_tags().begin(), o.prop_tags().end());
      return absl::OkStatus();
    }
    case v1::Notification::kExtended: {
      v1::ExtendedNotification& x = *p->mutable_extended();
      auto& n = out->info.emplace<ExtendedNotification>();
      n.event_code = x.event_code();
      n.event_parameters = MAPINOTIFY_TAKE(x, event_parameters);
      return absl::OkStatus();
    }
    default: {
      // The kinds whose values are validated one by one: copied.
      MAPINOTIFY_ASSIGN_OR_RETURN(*out, FromProto(*p));
      return absl::OkStatus();
    }
  }
}

#undef MAPINOTIFY_TAKE

absl::Status ToProto(const Notification& n, v1::Notification* p) {
  p->Clear();
  v1::Notification::InfoCase want = InfoCaseFor(n.event_type);
  p->set_event_type(static_cast<v1::EventType>(n.event_type));
  if (const auto* e = n.error()) {
    auto* x = p->mutable_error();
    x->set_entry_id(e->entry_id);
    x->set_scode(e->scode);
    x->set_flags(e->flags);
    x->set_error_text(e->error_text);
    x->set_component(e->component);
    x->set_low_level_error(e->low_level_error);
    x->set_context(e->context);
  } else if (const auto* m = n.new_mail()) {
    auto* x = p->mutable_new_mail();
    x->set_entry_id(m->entry_id);
    x->set_parent_id(m->parent_id);
    x->set_flags(m->flags);
    x->set_message_class(m->message_class);
    x->set_message_flags(m->message_flags);
  } else if (const auto* o = n.object()) {
    auto* x = p->mutable_object();
    x->set_entry_id(o->entry_id);
    x->set_object_type(o->object_type);
    x->set_parent_id(o->parent_id);
    x->set_old_id(o->old_id);
    x->set_old_parent_id(o->old_parent_id);
    x->mutable_prop_tags()->Add(o->prop_tags.begin(), o->prop_tags.end());
  } else if (const auto* t = n.table()) {
    auto* x = p->mutable_table();
    x->set_table_event(static_cast<v1::TableEvent>(t->table_event));
    x->set_hresult(t->hresult);
    MAPINOTIFY_RETURN_IF_ERROR(ToProto(t->index_key, x->mutable_index_key()));
    MAPINOTIFY_RETURN_IF_ERROR(ToProto(t->prior_key, x->mutable_prior_key()));
    MAPINOTIFY_RETURN_IF_ERROR(
        PropsTo(t->row, x->mutable_row()->mutable_props()));
  } else if (const auto* x2 = n.extended()) {
    auto* x = p->mutable_extended();
    x->set_event_code(x2->event_code);
    x->set_event_parameters(x2->event_parameters);
  } else if (const auto* s = n.status_object()) {
    auto* x = p->mutable_status_object();
    x->set_entry_id(s->entry_id);
    MAPINOTIFY_RETURN_IF_ERROR(PropsTo(s->prop_vals, x->mutable_prop_vals()));
  }
  if (want == v1::Notification::INFO_NOT_SET || p->info_case() != want) {
    return MapiError(MAPI_E_INVALID_PARAMETER,
                     "notification: event type and structure disagree");
  }
  return absl::OkStatus();
}

absl::StatusOr<Row> FromProto(const v1::Row& proto) {
  return PropsFrom(proto.props());
}

absl::Status ToProto(const Row& value, v1::Row* proto) {
  proto->Clear();
  return PropsTo(value, proto->mutable_props());
}

// --- Restrictions ----------------------------------------------------------

namespace {

absl::Status TooDeep() {
  return MapiError(
      MAPI_E_TOO_COMPLEX,
      absl::StrCat("restriction: more than ", kMaxRestrictionDepth, " levels"));
}

absl::Status TooManyNodes() {
  return MapiError(
      MAPI_E_TOO_COMPLEX,
      absl::StrCat("restriction: more than ", kMaxRestrictionNodes, " nodes"));
}

absl::Status BadRestriction(absl::string_view why) {
  return MapiError(MAPI_E_INVALID_PARAMETER,
                   absl::StrCat("restriction: ", why));
}

// Counts one node at `depth` (the root is 1) against the limits.
absl::Status Admit(size_t depth, size_t* nodes) {
  if (depth > kMaxRestrictionDepth) return TooDeep();
  if (++*nodes > kMaxRestrictionNodes) return TooManyNodes();
  return absl::OkStatus();
}

absl::Status ValueFrom(const v1::PropValue& p, PropValue* out) {
  absl::StatusOr<PropValue> value = FromProto(p);
  if (!value.ok()) {
    return MapiError(MAPI_E_INVALID_PARAMETER,
                     absl::StrCat("restriction: ", value.status().message()));
  }
  *out = *std::move(value);
  return absl::OkStatus();
}

absl::Status RestrictionFrom(const v1::Restriction& p, size_t depth,
                             size_t* nodes, Restriction* out);

template <typename Repeated>
absl::Status ChildrenFrom(const Repeated& children, size_t depth, size_t* nodes,
                          Restriction* out) {
  // The node limit stops a wide list long before it is all converted.
  out->children.reserve(std::min<size_t>(static_cast<size_t>(children.size()),
                                         kMaxRestrictionNodes));
  for (const v1::Restriction& child : children) {
    out->children.emplace_back();
    MAPINOTIFY_RETURN_IF_ERROR(
        RestrictionFrom(child, depth + 1, nodes, &out->children.back()));
  }
  return absl::OkStatus();
}

absl::Status RestrictionFrom(const v1::Restriction& p, size_t depth,
                             size_t* nodes, Restriction* out) {
  MAPINOTIFY_RETURN_IF_ERROR(Admit(depth, nodes));
  switch (p.kind_case()) {
    case v1::Restriction::kResAnd:
      out->type = RES_AND;
      return ChildrenFrom(p.res_and().restrictions(), depth, nodes, out);
    case v1::Restriction::kResOr:
      out->type = RES_OR;
      return ChildrenFrom(p.res_or().restrictions(), depth, nodes, out);
    case v1::Restriction::kResNot:
      out->type = RES_NOT;
      if (!p.res_not().has_restriction()) {
        return BadRestriction("RES_NOT without its restriction");
      }
      out->children.emplace_back();
      return RestrictionFrom(p.res_not().restriction(), depth + 1, nodes,
                             &out->children.back());
    case v1::Restriction::kResContent: {
      const v1::ContentRestriction& c = p.res_content();
      out->type = RES_CONTENT;
      out->fuzzy_level = c.fuzzy_level();
      out->tag = c.prop_tag();
      if (!c.has_prop()) return BadRestriction("RES_CONTENT without its value");
      return ValueFrom(c.prop(), &out->value);
    }
    case v1::Restriction::kResProperty: {
      const v1::PropertyRestriction& r = p.res_property();
      out->type = RES_PROPERTY;
      out->relop = r.relop();
      out->tag = r.prop_tag();
      if (!r.has_prop())
        return BadRestriction("RES_PROPERTY without its value");
      return ValueFrom(r.prop(), &out->value);
    }
    case v1::Restriction::kResCompareProps: {
      const v1::ComparePropsRestriction& r = p.res_compare_props();
      out->type = RES_COMPAREPROPS;
      out->relop = r.relop();
      out->tag = r.prop_tag1();
      out->tag2 = r.prop_tag2();
      return absl::OkStatus();
    }
    case v1::Restriction::kResBitmask: {
      const v1::BitmaskRestriction& r = p.res_bitmask();
      out->type = RES_BITMASK;
      out->bitmask_relation = r.rel_bmr();
      out->tag = r.prop_tag();
      out->mask = r.mask();
      return absl::OkStatus();
    }
    case v1::Restriction::kResSize: {
      const v1::SizeRestriction& r = p.res_size();
      out->type = RES_SIZE;
      out->relop = r.relop();
      out->tag = r.prop_tag();
      out->size = r.cb();
      return absl::OkStatus();
    }
    case v1::Restriction::kResExist:
      out->type = RES_EXIST;
      out->tag = p.res_exist().prop_tag();
      return absl::OkStatus();
    case v1::Restriction::KIND_NOT_SET:
      break;
  }
  return BadRestriction("a node with no kind set");
}

absl::Status ValueTo(const PropValue& value, v1::PropValue* p) {
  absl::Status converted = ToProto(value, p);
  if (!converted.ok()) {
    return MapiError(MAPI_E_INVALID_PARAMETER,
                     absl::StrCat("restriction: ", converted.message()));
  }
  return absl::OkStatus();
}

absl::Status RestrictionTo(const Restriction& r, size_t depth, size_t* nodes,
                           v1::Restriction* p) {
  MAPINOTIFY_RETURN_IF_ERROR(Admit(depth, nodes));
  switch (r.type) {
    case RES_AND:
    case RES_OR: {
      auto* list = r.type == RES_AND
                       ? p->mutable_res_and()->mutable_restrictions()
                       : p->mutable_res_or()->mutable_restrictions();
      for (const Restriction& child : r.children) {
        MAPINOTIFY_RETURN_IF_ERROR(
            RestrictionTo(child, depth + 1, nodes, list->Add()));
      }
      return absl::OkStatus();
    }
    case RES_NOT:
      if (r.children.size() != 1) {
        return BadRestriction(absl::StrCat("RES_NOT with ", r.children.size(),
                                           " children (needs one)"));
      }
      return RestrictionTo(r.children[0], depth + 1, nodes,
                           p->mutable_res_not()->mutable_restriction());
    case RES_CONTENT: {
      v1::ContentRestriction* c = p->mutable_res_content();
      c->set_fuzzy_level(r.fuzzy_level);
      c->set_prop_tag(r.tag);
      return ValueTo(r.value, c->mutable_prop());
    }
    case RES_PROPERTY: {
      v1::PropertyRestriction* x = p->mutable_res_property();
      x->set_relop(r.relop);
      x->set_prop_tag(r.tag);
      return ValueTo(r.value, x->mutable_prop());
    }
    case RES_COMPAREPROPS: {
      v1::ComparePropsRestriction* x = p->mutable_res_compare_props();
      x->set_relop(r.relop);
      x->set_prop_tag1(r.tag);
      x->set_prop_tag2(r.tag2);
      return absl::OkStatus();
    }
    case RES_BITMASK: {
      v1::BitmaskRestriction* x = p->mutable_res_bitmask();
      x->set_rel_bmr(r.bitmask_relation);
      x->set_prop_tag(r.tag);
      x->set_mask(r.mask);
      return absl::OkStatus();
    }
    case RES_SIZE: {
      v1::SizeRestriction* x = p->mutable_res_size();
      x->set_relop(r.relop);
      x->set_prop_tag(r.tag);
      x->set_cb(r.size);
      return absl::OkStatus();
    }
    case RES_EXIST:
      p->mutable_res_exist()->set_prop_tag(r.tag);
      return absl::OkStatus();
    default:
      break;
  }
  return BadRestriction(absl::StrCat("unknown restriction type ", r.type));
}

}  // namespace

absl::StatusOr<Restriction> FromProto(const v1::Restriction& proto) {
  Restriction out;
  size_t nodes = 0;
  MAPINOTIFY_RETURN_IF_ERROR(RestrictionFrom(proto, 1, &nodes, &out));
  return out;
}

absl::Status ToProto(const Restriction& value, v1::Restriction* proto) {
  proto->Clear();
  size_t nodes = 0;
  return RestrictionTo(value, 1, &nodes, proto);
}

absl::Status CheckRestrictionNesting(absl::string_view bytes,
                                     const google::protobuf::Descriptor* type) {
  namespace pb = google::protobuf;
  using pb::internal::WireFormatLite;
  const pb::Descriptor* const counted = v1::Restriction::descriptor();
  pb::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                              static_cast<int>(bytes.size()));
  // The messages being read, innermost last: an explicit stack instead of
  // recursion. Each push consumes at least two bytes, and the depth check
  // bounds the stack at about three frames per restriction level.
  struct Frame {
    const pb::Descriptor* type;
    pb::io::CodedInputStream::Limit limit;
  };
  std::vector<Frame> stack;
  stack.push_back({type, 0});
  size_t depth = type == counted ? 1 : 0;
  if (depth > kMaxRestrictionDepth) return TooDeep();
  while (true) {
    const uint32_t tag = in.ReadTagNoLastTag();
    if (tag == 0) {
      // The end of the current message, or of the input, or bytes that are
      // no message (for the parser to report).
      if (stack.size() == 1 || in.BytesUntilLimit() != 0) {
        return absl::OkStatus();
      }
      if (stack.back().type == counted) --depth;
      in.PopLimit(stack.back().limit);
      stack.pop_back();
      continue;
    }
    const pb::FieldDescriptor* field =
        stack.back().type->FindFieldByNumber(static_cast<int>(tag >> 3));
    if (field != nullptr &&
        field->type() == pb::FieldDescriptor::TYPE_MESSAGE &&
        WireFormatLite::GetTagWireType(tag) ==
            WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      uint32_t length = 0;
      if (!in.ReadVarint32(&length) ||
          length > static_cast<uint32_t>(std::numeric_limits<int>::max())) {
        return absl::OkStatus();
      }
      const pb::Descriptor* inner = field->message_type();
      if (inner == counted && ++depth > kMaxRestrictionDepth) return TooDeep();
      stack.push_back({inner, in.PushLimit(static_cast<int>(length))});
      continue;
    }
    if (!WireFormatLite::SkipField(&in, tag)) return absl::OkStatus();
  }
}

SortOrder FromProto(const v1::SortOrder& proto) {
  return SortOrder{proto.prop_tag(), proto.order()};
}

void ToProto(const SortOrder& value, v1::SortOrder* proto) {
  proto->set_prop_tag(value.tag);
  proto->set_order(value.order);
}

}  // namespace mapinotify::internal
