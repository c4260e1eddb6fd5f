// Wire <-> value conversion: every property type round-trips; bad input is a
// clear InvalidArgument, never a crash.
#include "common/internal/proto_convert.h"

#include <vector>

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

  v1::Notification bad_row;
  bad_row.set_event_type(v1::fnevTableModified);
  bad_row.mutable_table()->set_table_event(v1::TABLE_ROW_ADDED);
  v1::PropValue* p = bad_row.mutable_table()->mutable_row()->add_props();
  p->set_tag(PR_SUBJECT);
  p->set_b(true);
  EXPECT_EQ(FromProto(bad_row).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace mapinotify::internal
