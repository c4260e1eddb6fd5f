// Wire <-> value conversion: every property type round-trips; bad input is a
// clear InvalidArgument, never a crash.
#include "common/internal/proto_convert.h"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "google/protobuf/arena.h"
#include "gtest/gtest.h"
#include "mapinotify/status.h"

namespace mapinotify::internal {
namespace {

Guid MakeGuid(uint8_t seed) {
  Guid g;
  for (size_t i = 0; i < g.bytes.size(); ++i) g.bytes[i] = seed + i;
  return g;
}

std::vector<PropValue> EveryType() {
  return {
      {PROP_TAG(PT_NULL, 0x1), std::monostate{}},
      {PROP_TAG(PT_LONG, 0x2), int32_t{-7}},
      {PROP_TAG(PT_I8, 0x3), int64_t{1} << 40},
      {PROP_TAG(PT_BOOLEAN, 0x4), true},
      {PROP_TAG(PT_DOUBLE, 0x5), 2.5},
      {PROP_TAG(PT_SYSTIME, 0x6), FileTime{133000000000000000ull}},
      {PR_SUBJECT, std::string("Grüße")},
      {PR_ENTRYID, Binary{std::string("\0\1\2", 3)}},
      {PROP_TAG(PT_CLSID, 0x7), MakeGuid(3)},
      {PROP_TAG(PT_ERROR, 0x8), ErrorValue{MAPI_E_NOT_FOUND}},
      {PROP_TAG(PT_MV_LONG, 0x9), std::vector<int32_t>{1, 2, 3}},
      {PROP_TAG(PT_MV_I8, 0xA), std::vector<int64_t>{-1, 5}},
      {PROP_TAG(PT_MV_DOUBLE, 0xB), std::vector<double>{0.5}},
      {PROP_TAG(PT_MV_SYSTIME, 0xC), std::vector<FileTime>{{1}, {2}}},
      {PROP_TAG(PT_MV_UNICODE, 0xD), std::vector<std::string>{"a", "b"}},
      {PROP_TAG(PT_MV_BINARY, 0xE), std::vector<Binary>{{"x"}, {""}}},
      {PROP_TAG(PT_MV_CLSID, 0xF), std::vector<Guid>{MakeGuid(1), MakeGuid(9)}},
  };
}

TEST(ProtoConvert, EveryPropertyTypeRoundTrips) {
  for (const PropValue& value : EveryType()) {
    ASSERT_TRUE(PropTypeMatches(value)) << std::hex << value.tag;
    v1::PropValue wire;
    ASSERT_TRUE(ToProto(value, &wire).ok());
    absl::StatusOr<PropValue> back = FromProto(wire);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, value) << std::hex << value.tag;
  }
}

TEST(ProtoConvert, ValueThatDisagreesWithItsTagIsInvalid) {
  v1::PropValue wire;
  wire.set_tag(PR_SUBJECT);  // PT_UNICODE ...
  wire.set_l(5);             // ... carrying a PT_LONG.
  absl::StatusOr<PropValue> v = FromProto(wire);
  EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ScodeOf(v.status()), MAPI_E_INVALID_PARAMETER);

  wire.Clear();
  wire.set_tag(PROP_TAG(PT_CLSID, 1));
  wire.set_clsid("short");
  EXPECT_EQ(FromProto(wire).status().code(),
            absl::StatusCode::kInvalidArgument);

  wire.Clear();
  wire.set_tag(PROP_TAG(0x0777, 1));  // Unknown property type.
  EXPECT_EQ(FromProto(wire).status().code(),
            absl::StatusCode::kInvalidArgument);

  PropValue wrong{PR_SUBJECT, int32_t{1}};
  EXPECT_EQ(ToProto(wrong, &wire).code(), absl::StatusCode::kInvalidArgument);
}

TEST(ProtoConvert, AllSixStructuresRoundTrip) {
  std::vector<Notification> all;
  all.push_back(
      {fnevCriticalError,
       ErrorNotification{"e", MAPI_E_CALL_FAILED, 0, "text", "comp", 7, 9}});
  all.push_back(
      {fnevNewMail, NewMailNotification{"m", "inbox", 0, "IPM.Note", 1}});
  all.push_back(
      {fnevObjectMoved, ObjectNotification{"id",
                                           MAPI_MESSAGE,
                                           "p",
                                           "old",
                                           "oldp",
                                           {PR_SUBJECT, PR_MESSAGE_FLAGS}}});
  TableNotification table;
  table.table_event = TABLE_ROW_ADDED;
  table.index_key = {PR_INSTANCE_KEY, Binary{"k2"}};
  table.prior_key = {PR_INSTANCE_KEY, Binary{"k1"}};
  table.row = {{PR_SUBJECT, std::string("s")}, {PR_NULL, std::monostate{}}};
  all.push_back({fnevTableModified, table});
  all.push_back({fnevExtended, ExtendedNotification{42, "opaque"}});
  all.push_back(
      {fnevStatusObjectModified,
       StatusObjectNotification{"st", {{PR_DISPLAY_NAME, std::string("x")}}}});
  for (const Notification& n : all) {
    v1::Notification wire;
    ASSERT_TRUE(ToProto(n, &wire).ok());
    ASSERT_TRUE(ValidateNotification(wire).ok());
    absl::StatusOr<Notification> back = FromProto(wire);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(back->event_type, n.event_type);
    EXPECT_EQ(back->info.index(), n.info.index());
    v1::Notification again;
    ASSERT_TRUE(ToProto(*back, &again).ok());
    EXPECT_EQ(again.SerializeAsString(), wire.SerializeAsString());
  }
}

// A TABLE_ROW_ADDED whose row holds a value that disagrees with its tag.
v1::Notification TableRowWithABadValue() {
  v1::Notification n;
  n.set_event_type(v1::fnevTableModified);
  n.mutable_table()->set_table_event(v1::TABLE_ROW_ADDED);
  v1::PropValue* p = n.mutable_table()->mutable_row()->add_props();
  p->set_tag(PR_SUBJECT);
  p->set_b(true);
  return n;
}

TEST(ProtoConvert, MalformedNotificationsAreInvalid) {
  v1::Notification none;  // No event type.
  EXPECT_EQ(FromProto(none).status().code(),
            absl::StatusCode::kInvalidArgument);

  v1::Notification two_bits;
  two_bits.set_event_type(
      static_cast<v1::EventType>(fnevNewMail | fnevObjectCreated));
  two_bits.mutable_new_mail();
  EXPECT_EQ(FromProto(two_bits).status().code(),
            absl::StatusCode::kInvalidArgument);

  v1::Notification wrong_structure;
  wrong_structure.set_event_type(v1::fnevNewMail);
  wrong_structure.mutable_object();
  EXPECT_EQ(FromProto(wrong_structure).status().code(),
            absl::StatusCode::kInvalidArgument);

  v1::Notification bad_table;
  bad_table.set_event_type(v1::fnevTableModified);
  bad_table.mutable_table()->set_table_event(static_cast<v1::TableEvent>(99));
  EXPECT_EQ(FromProto(bad_table).status().code(),
            absl::StatusCode::kInvalidArgument);

  v1::Notification bad_row = TableRowWithABadValue();
  EXPECT_EQ(FromProto(bad_row).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// TakeFromProto (the client's path for a received message) converts each
// structure as FromProto does, on an arena-parsed message as on a heap one.
TEST(ProtoConvert, TakeFromProtoGivesWhatFromProtoGives) {
  std::vector<Notification> all;
  all.push_back(
      {fnevCriticalError,
       ErrorNotification{"e", MAPI_E_CALL_FAILED, 0, "text", "comp", 7, 9}});
  all.push_back({fnevNewMail,
                 NewMailNotification{std::string(40, 'm'), std::string(40, 'i'),
                                     3, "IPM.Note.With.A.Long.Class", 1}});
  all.push_back(
      {fnevObjectMoved, ObjectNotification{std::string(46, 'a'),
                                           MAPI_MESSAGE,
                                           std::string(46, 'p'),
                                           "",
                                           std::string(46, 'q'),
                                           {PR_SUBJECT, PR_MESSAGE_FLAGS}}});
  TableNotification table;
  table.table_event = TABLE_ROW_ADDED;
  table.index_key = {PR_INSTANCE_KEY, Binary{"k2"}};
  table.row = {{PR_SUBJECT, std::string("s")}};
  all.push_back({fnevTableModified, table});
  all.push_back(
      {fnevExtended, ExtendedNotification{42, std::string(100, '\x01')}});
  all.push_back(
      {fnevStatusObjectModified,
       StatusObjectNotification{"st", {{PR_DISPLAY_NAME, std::string("x")}}}});
  google::protobuf::Arena arena;
  for (const Notification& n : all) {
    v1::Notification wire;
    ASSERT_TRUE(ToProto(n, &wire).ok());
    const std::string bytes = wire.SerializeAsString();
    for (bool on_arena : {false, true}) {
      v1::Notification* parsed =
          on_arena
              ? google::protobuf::Arena::CreateMessage<v1::Notification>(&arena)
              : &wire;
      ASSERT_TRUE(parsed->ParseFromString(bytes));
      Notification taken;
      ASSERT_TRUE(TakeFromProto(parsed, &taken).ok());
      v1::Notification again;
      ASSERT_TRUE(ToProto(taken, &again).ok());
      EXPECT_EQ(again.SerializeAsString(), bytes)
          << "event type " << n.event_type << (on_arena ? " on an arena" : "");
    }
  }
}

TEST(ProtoConvert, TakeFromProtoRejectsWhatFromProtoRejects) {
  v1::Notification none;
  Notification out;
  EXPECT_EQ(TakeFromProto(&none, &out).code(),
            absl::StatusCode::kInvalidArgument);
  v1::Notification wrong_structure;
  wrong_structure.set_event_type(v1::fnevNewMail);
  wrong_structure.mutable_object()->set_entry_id("x");
  EXPECT_EQ(TakeFromProto(&wrong_structure, &out).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(wrong_structure.object().entry_id(), "x");  // Nothing taken.
  v1::Notification bad_row = TableRowWithABadValue();
  EXPECT_EQ(TakeFromProto(&bad_row, &out).code(),
            absl::StatusCode::kInvalidArgument);
}

// --- Rows, restrictions and sort orders ------------------------------------

// A restriction that uses every kind, nested.
Restriction EveryKind() {
  return Restriction::And({
      Restriction::Or({
          Restriction::Property(RELOP_GE, PR_MESSAGE_SIZE,
                                {PR_MESSAGE_SIZE, 10}),
          Restriction::Content(FL_SUBSTRING | FL_IGNORECASE, PR_SUBJECT,
                               {PR_SUBJECT, std::string("Grüße")}),
      }),
      Restriction::Not(Restriction::Exist(PR_BODY)),
      Restriction::CompareProps(RELOP_NE, PR_CREATION_TIME,
                                PR_LAST_MODIFICATION_TIME),
      Restriction::Bitmask(BMR_NEZ, PR_MESSAGE_FLAGS, MSGFLAG_READ),
      Restriction::Size(RELOP_LT, PR_SUBJECT, 100),
      Restriction::Content(FL_PREFIX, PR_ENTRYID,
                           {PR_ENTRYID, Binary{std::string("\0x", 2)}}),
      Restriction::And({}),
      Restriction::Or({}),
  });
}

// A chain of `levels` levels: NOTs around one RES_EXIST.
v1::Restriction* NestNots(v1::Restriction* root, size_t levels) {
  v1::Restriction* r = root;
  for (size_t i = 1; i < levels; ++i) {
    r = r->mutable_res_not()->mutable_restriction();
  }
  r->mutable_res_exist()->set_prop_tag(PR_SUBJECT);
  return root;
}

Restriction NestNots(size_t levels) {
  Restriction r = Restriction::Exist(PR_SUBJECT);
  for (size_t i = 1; i < levels; ++i) r = Restriction::Not(std::move(r));
  return r;
}

TEST(ProtoConvert, RowsRoundTrip) {
  const Row row = EveryType();
  v1::Row wire;
  ASSERT_TRUE(ToProto(row, &wire).ok());
  absl::StatusOr<Row> back = FromProto(wire);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, row);
  wire.mutable_props(1)->set_unicode("not a long");
  EXPECT_EQ(ScodeOf(FromProto(wire).status()), MAPI_E_INVALID_PARAMETER);
}

TEST(ProtoConvert, EveryRestrictionKindRoundTrips) {
  const Restriction r = EveryKind();
  v1::Restriction wire;
  ASSERT_TRUE(ToProto(r, &wire).ok());
  // The oneof field numbers are MAPI's RES_* plus one.
  EXPECT_EQ(static_cast<ULONG>(wire.kind_case()), RES_AND + 1);
  EXPECT_EQ(static_cast<ULONG>(wire.res_and().restrictions(1).kind_case()),
            RES_NOT + 1);
  absl::StatusOr<Restriction> back = FromProto(wire);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, r);
  // Through bytes too.
  v1::Restriction parsed;
  ASSERT_TRUE(parsed.ParseFromString(wire.SerializeAsString()));
  back = FromProto(parsed);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, r);
}

TEST(ProtoConvert, MalformedRestrictionsAreInvalidParameter) {
  v1::Restriction none;  // No kind.
  EXPECT_EQ(ScodeOf(FromProto(none).status()), MAPI_E_INVALID_PARAMETER);

  v1::Restriction nested_none;  // An AND holding a node with no kind.
  nested_none.mutable_res_and()->add_restrictions();
  EXPECT_EQ(ScodeOf(FromProto(nested_none).status()), MAPI_E_INVALID_PARAMETER);

  v1::Restriction lone_not;
  lone_not.mutable_res_not();
  EXPECT_EQ(ScodeOf(FromProto(lone_not).status()), MAPI_E_INVALID_PARAMETER);

  v1::Restriction no_value;
  no_value.mutable_res_property()->set_prop_tag(PR_SUBJECT);
  EXPECT_EQ(ScodeOf(FromProto(no_value).status()), MAPI_E_INVALID_PARAMETER);
  v1::Restriction no_content;
  no_content.mutable_res_content()->set_prop_tag(PR_SUBJECT);
  EXPECT_EQ(ScodeOf(FromProto(no_content).status()), MAPI_E_INVALID_PARAMETER);

  v1::Restriction bad_value;
  v1::PropValue* p = bad_value.mutable_res_property()->mutable_prop();
  p->set_tag(PR_SUBJECT);
  p->set_l(3);  // A PT_LONG in a PT_UNICODE tag.
  absl::Status status = FromProto(bad_value).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ScodeOf(status), MAPI_E_INVALID_PARAMETER);

  // What the wire cannot carry, from the other side.
  v1::Restriction wire;
  Restriction unknown;
  unknown.type = 42;
  EXPECT_EQ(ScodeOf(ToProto(unknown, &wire)), MAPI_E_INVALID_PARAMETER);
  Restriction two_child_not = Restriction::Not(Restriction::Exist(PR_SUBJECT));
  two_child_not.children.push_back(Restriction::Exist(PR_BODY));
  EXPECT_EQ(ScodeOf(ToProto(two_child_not, &wire)), MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(ScodeOf(ToProto(Restriction::Property(RELOP_EQ, PR_SUBJECT,
                                                  {PR_SUBJECT, int32_t{1}}),
                            &wire)),
            MAPI_E_INVALID_PARAMETER);
}

TEST(ProtoConvert, RestrictionDepthLimitIsExactInBothDirections) {
  v1::Restriction at_limit;
  NestNots(&at_limit, kMaxRestrictionDepth);
  absl::StatusOr<Restriction> ok = FromProto(at_limit);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(*ok, NestNots(kMaxRestrictionDepth));
  v1::Restriction back;
  EXPECT_TRUE(ToProto(*ok, &back).ok());

  v1::Restriction over;
  NestNots(&over, kMaxRestrictionDepth + 1);
  absl::Status status = FromProto(over).status();
  EXPECT_EQ(ScodeOf(status), MAPI_E_TOO_COMPLEX) << status;
  EXPECT_EQ(ScodeOf(ToProto(NestNots(kMaxRestrictionDepth + 1), &back)),
            MAPI_E_TOO_COMPLEX);
}

TEST(ProtoConvert, AVeryDeepRestrictionStopsAtTheLimitWithoutRecursing) {
  // 100000 levels: converting them recursively would overflow the stack.
  // On an arena, so that destroying the chain does not recurse either.
  google::protobuf::Arena arena;
  auto* deep = google::protobuf::Arena::CreateMessage<v1::Restriction>(&arena);
  NestNots(deep, 100000);
  EXPECT_EQ(ScodeOf(FromProto(*deep).status()), MAPI_E_TOO_COMPLEX);
}

TEST(ProtoConvert, RestrictionNodeLimitIsExact) {
  // An AND of n - 1 leaves holds n nodes.
  auto wide = [](size_t nodes) {
    v1::Restriction r;
    for (size_t i = 1; i < nodes; ++i) {
      r.mutable_res_and()
          ->add_restrictions()
          ->mutable_res_exist()
          ->set_prop_tag(PR_SUBJECT);
    }
    return r;
  };
  EXPECT_TRUE(FromProto(wide(kMaxRestrictionNodes)).ok());
  EXPECT_EQ(ScodeOf(FromProto(wide(kMaxRestrictionNodes + 1)).status()),
            MAPI_E_TOO_COMPLEX);
  EXPECT_EQ(ScodeOf(FromProto(wide(50000)).status()), MAPI_E_TOO_COMPLEX);

  std::vector<Restriction> leaves(kMaxRestrictionNodes,
                                  Restriction::Exist(PR_SUBJECT));
  v1::Restriction wire;
  EXPECT_EQ(ScodeOf(ToProto(Restriction::Or(leaves), &wire)),
            MAPI_E_TOO_COMPLEX);
  leaves.pop_back();
  EXPECT_TRUE(ToProto(Restriction::Or(leaves), &wire).ok());
}

TEST(ProtoConvert, NestingCheckFindsDeepRestrictionsInSerializedRequests) {
  auto request = [](size_t levels) {
    v1::RestrictRequest r;
    r.set_view_id(7);
    NestNots(r.mutable_restriction(), levels);
    r.set_flags(TBL_BATCH);
    return r.SerializeAsString();
  };
  const auto* type = v1::RestrictRequest::descriptor();
  EXPECT_TRUE(
      CheckRestrictionNesting(request(kMaxRestrictionDepth), type).ok());
  EXPECT_EQ(
      ScodeOf(CheckRestrictionNesting(request(kMaxRestrictionDepth + 1), type)),
      MAPI_E_TOO_COMPLEX);
  // Why the check exists: protobuf's own parser gives up on 200 levels
  // (400 nested messages) without saying why.
  const std::string deep = request(200);
  v1::RestrictRequest parsed;
  EXPECT_FALSE(parsed.ParseFromString(deep));
  EXPECT_EQ(ScodeOf(CheckRestrictionNesting(deep, type)), MAPI_E_TOO_COMPLEX);
  // No restriction at all, and one deep inside an OR of a FindRow.
  EXPECT_TRUE(
      CheckRestrictionNesting(v1::RestrictRequest().SerializeAsString(), type)
          .ok());
  v1::FindRowRequest find;
  v1::OrRestriction* o = find.mutable_restriction()->mutable_res_or();
  o->add_restrictions()->mutable_res_exist()->set_prop_tag(PR_BODY);
  NestNots(o->add_restrictions(), kMaxRestrictionDepth);  // One level too many.
  find.set_origin(BOOKMARK_CURRENT);
  EXPECT_EQ(ScodeOf(CheckRestrictionNesting(find.SerializeAsString(),
                                            v1::FindRowRequest::descriptor())),
            MAPI_E_TOO_COMPLEX);
  find.mutable_restriction()
      ->mutable_res_or()
      ->mutable_restrictions()
      ->RemoveLast();
  NestNots(o->add_restrictions(), kMaxRestrictionDepth - 1);
  EXPECT_TRUE(CheckRestrictionNesting(find.SerializeAsString(),
                                      v1::FindRowRequest::descriptor())
                  .ok());
}

TEST(ProtoConvert, NestingCheckLeavesGarbageToTheParser) {
  const auto* type = v1::RestrictRequest::descriptor();
  EXPECT_TRUE(CheckRestrictionNesting("", type).ok());
  EXPECT_TRUE(CheckRestrictionNesting("\xff\xff\xff", type).ok());
  // A restriction field whose length runs past the end.
  EXPECT_TRUE(
      CheckRestrictionNesting(std::string("\x12\x7f\x1a\x00", 4), type).ok());
  // Truncations and random bytes: never a crash, never a hang.
  const std::string good = [] {
    v1::RestrictRequest r;
    v1::Restriction* root = r.mutable_restriction();
    ToProto(EveryKind(), root).IgnoreError();
    return r.SerializeAsString();
  }();
  for (size_t n = 0; n <= good.size(); ++n) {
    CheckRestrictionNesting(good.substr(0, n), type).IgnoreError();
  }
  std::mt19937 random(12345);
  for (int i = 0; i < 2000; ++i) {
    std::string bytes = good;
    for (int j = 0; j < 4; ++j) {
      bytes[random() % bytes.size()] = static_cast<char>(random());
    }
    CheckRestrictionNesting(bytes, type).IgnoreError();
  }
}

TEST(ProtoConvert, SortOrdersRoundTrip) {
  const SortOrder key{PR_SUBJECT, TABLE_SORT_DESCEND};
  v1::SortOrder wire;
  ToProto(key, &wire);
  EXPECT_EQ(wire.prop_tag(), PR_SUBJECT);
  EXPECT_EQ(wire.order(), TABLE_SORT_DESCEND);
  EXPECT_EQ(FromProto(wire), key);
}

}  // namespace
}  // namespace mapinotify::internal
