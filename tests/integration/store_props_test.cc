// Properties over the wire: every property type the wire carries round-trips
// through a folder and a message (pending and saved); missing properties
// read as PT_ERROR / MAPI_E_NOT_FOUND; computed ones come back as
// MAPI_E_COMPUTED problems; the store's own properties.
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "mapinotify/session.h"
#include "mapinotify/status.h"
#include "mapinotify/store.h"
#include "tests/integration/store_test_util.h"

namespace mapinotify::testing {
namespace {

Guid MakeGuid(uint8_t seed) {
  Guid g;
  for (size_t i = 0; i < g.bytes.size(); ++i) {
    g.bytes[i] = static_cast<uint8_t>(seed + i * 17);
  }
  return g;
}

// One value of every type the wire carries, on named-property-range ids.
std::vector<PropValue> EveryType() {
  ULONG id = 0x6700;
  auto tag = [&id](ULONG type) { return PROP_TAG(type, id++); };
  return {
      {tag(PT_LONG), int32_t{-123456}},
      {tag(PT_I8), int64_t{-(int64_t{1} << 40)}},
      {tag(PT_BOOLEAN), true},
      {tag(PT_DOUBLE), 3.25},
      {tag(PT_SYSTIME), FileTime{133000000000000000ull}},
      {tag(PT_UNICODE), std::string("Grüße, \xE4\xB8\x96\xE7\x95\x8C")},
      {tag(PT_BINARY), Binary{std::string("\x00\x01\xFF\x00zz", 6)}},
      {tag(PT_CLSID), MakeGuid(3)},
      {tag(PT_MV_LONG), std::vector<int32_t>{1, -2, 3}},
      {tag(PT_MV_I8), std::vector<int64_t>{int64_t{1} << 50, -7}},
      {tag(PT_MV_DOUBLE), std::vector<double>{0.5, -1e300}},
      {tag(PT_MV_SYSTIME), std::vector<FileTime>{{1}, {2}}},
      {tag(PT_MV_UNICODE), std::vector<std::string>{"a", "", "ç"}},
      {tag(PT_MV_BINARY), std::vector<Binary>{{std::string("\0", 1)}, {"xyz"}}},
      {tag(PT_MV_CLSID), std::vector<Guid>{MakeGuid(1), MakeGuid(2)}},
  };
}

std::vector<ULONG> TagsOf(const std::vector<PropValue>& values) {
  std::vector<ULONG> tags;
  for (const PropValue& v : values) tags.push_back(v.tag);
  return tags;
}

class StoreProps : public ::testing::Test {
 protected:
  void SetUp() override {
    f_ = OpenStoreFixture();
    ASSERT_NE(f_.store, nullptr);
    store_ = f_.store.get();
    auto folder =
        store_->CreateFolder(store_->ipm_subtree_id(), "Props", "types", 0);
    ASSERT_TRUE(folder.ok()) << folder.status();
    folder_ = *folder;
  }

  StoreFixture f_;
  MsgStore* store_ = nullptr;
  EntryId folder_;
};

TEST_F(StoreProps, EveryTypeRoundTripsThroughAFolder) {
  const std::vector<PropValue> values = EveryType();
  auto problems = store_->SetProps(folder_, values);
  ASSERT_TRUE(problems.ok()) << problems.status();
  EXPECT_TRUE(problems->empty());
  auto read = store_->GetProps(folder_, TagsOf(values));
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, values);

  // Deleted ones read as PT_ERROR / MAPI_E_NOT_FOUND in their slot.
  auto deleted = store_->DeleteProps(folder_, {values[0].tag, values[5].tag});
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_TRUE(deleted->empty());
  auto after =
      store_->GetProps(folder_, {values[0].tag, values[1].tag, values[5].tag});
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(*after,
            (std::vector<PropValue>{{CHANGE_PROP_TYPE(values[0].tag, PT_ERROR),
                                     ErrorValue{MAPI_E_NOT_FOUND}},
                                    values[1],
                                    {CHANGE_PROP_TYPE(values[5].tag, PT_ERROR),
                                     ErrorValue{MAPI_E_NOT_FOUND}}}));
}

TEST_F(StoreProps, EveryTypeRoundTripsThroughAMessagePendingAndSaved) {
  const std::vector<PropValue> values = EveryType();
  auto message = store_->CreateMessage(folder_, 0);
  ASSERT_TRUE(message.ok()) << message.status();
  auto problems = (*message)->SetProps(values);
  ASSERT_TRUE(problems.ok()) << problems.status();
  EXPECT_TRUE(problems->empty());
  // Pending: read back through the handle before any save.
  auto pending = (*message)->GetProps(TagsOf(values));
  ASSERT_TRUE(pending.ok()) << pending.status();
  EXPECT_EQ(*pending, values);

  auto id = (*message)->SaveChanges(0);
  ASSERT_TRUE(id.ok()) << id.status();
  // Saved: by entry id, and through a new open.
  auto saved = store_->GetProps(*id, TagsOf(values));
  ASSERT_TRUE(saved.ok()) << saved.status();
  EXPECT_EQ(*saved, values);
  auto reopened = store_->OpenMessage(*id, 0);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ((*reopened)->entry_id(), *id);
  auto through_handle = (*reopened)->GetProps(TagsOf(values));
  ASSERT_TRUE(through_handle.ok()) << through_handle.status();
  EXPECT_EQ(*through_handle, values);

  // Every property (empty tag list) includes the computed ones.
  auto all = store_->GetProps(*id, {});
  ASSERT_TRUE(all.ok()) << all.status();
  bool has_entry_id = false, has_parent = false;
  for (const PropValue& v : *all) {
    if (v.tag == PR_ENTRYID) has_entry_id = v.value == PropVariant(Binary{*id});
    if (v.tag == PR_PARENT_ENTRYID) {
      has_parent = v.value == PropVariant(Binary{folder_});
    }
  }
  EXPECT_TRUE(has_entry_id);
  EXPECT_TRUE(has_parent);
}

TEST_F(StoreProps, ComputedPropertiesAreProblemsAndTheRestApplies) {
  auto problems =
      store_->SetProps(folder_, {{PR_CONTENT_COUNT, int32_t{5}},
                                 {PR_COMMENT, std::string("applied")},
                                 {PR_SUBFOLDERS, true}});
  ASSERT_TRUE(problems.ok()) << problems.status();
  EXPECT_EQ(*problems,
            (std::vector<PropProblem>{{0, PR_CONTENT_COUNT, MAPI_E_COMPUTED},
                                      {2, PR_SUBFOLDERS, MAPI_E_COMPUTED}}));
  auto read = store_->GetProps(folder_, {PR_COMMENT, PR_CONTENT_COUNT});
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, (std::vector<PropValue>{{PR_COMMENT, std::string("applied")},
                                           {PR_CONTENT_COUNT, int32_t{0}}}));

  auto message = store_->CreateMessage(folder_, 0);
  ASSERT_TRUE(message.ok()) << message.status();
  auto message_problems = (*message)->SetProps(
      {{PR_SUBJECT, std::string("s")}, {PR_ENTRYID, Binary{"forged"}}});
  ASSERT_TRUE(message_problems.ok()) << message_problems.status();
  EXPECT_EQ(*message_problems,
            (std::vector<PropProblem>{{1, PR_ENTRYID, MAPI_E_COMPUTED}}));
  // A type the property does not take is a problem too.
  auto wrong_type = (*message)->SetProps(
      {{CHANGE_PROP_TYPE(PR_MESSAGE_CLASS, PT_LONG), int32_t{1}}});
  ASSERT_TRUE(wrong_type.ok()) << wrong_type.status();
  ASSERT_EQ(wrong_type->size(), 1u);
  EXPECT_EQ((*wrong_type)[0].scode, MAPI_E_INVALID_TYPE);

  // DeliverNewMail refuses a computed property as a whole.
  auto mail = store_->DeliverNewMail({{PR_ENTRYID, Binary{"forged"}}});
  EXPECT_EQ(ScodeOf(mail.status()), MAPI_E_COMPUTED) << mail.status();
  EXPECT_EQ(mail.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(StoreProps, AValueThatDisagreesWithItsTagNeverLeavesTheClient) {
  auto problems =
      store_->SetProps(folder_, {{PR_COMMENT, int32_t{5}}});  // Not PT_LONG.
  EXPECT_EQ(problems.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ScodeOf(problems.status()), MAPI_E_INVALID_PARAMETER);
}

TEST_F(StoreProps, TheStoreDescribesItself) {
  auto props =
      store_->GetProps(store_->entry_id(),
                       {PR_STORE_SUPPORT_MASK, PR_IPM_SUBTREE_ENTRYID,
                        PR_OBJECT_TYPE, PR_ENTRYID, PR_IPM_OUTBOX_ENTRYID,
                        PR_IPM_SENTMAIL_ENTRYID, PR_IPM_WASTEBASKET_ENTRYID});
  ASSERT_TRUE(props.ok()) << props.status();
  ASSERT_EQ(props->size(), 7u);
  const auto* mask = std::get_if<int32_t>(&(*props)[0].value);
  ASSERT_NE(mask, nullptr);
  EXPECT_NE(static_cast<ULONG>(*mask) & STORE_NOTIFY_OK, 0u);
  EXPECT_EQ((*props)[1], (PropValue{PR_IPM_SUBTREE_ENTRYID,
                                    Binary{store_->ipm_subtree_id()}}));
  EXPECT_EQ((*props)[2], (PropValue{PR_OBJECT_TYPE, int32_t{MAPI_STORE}}));
  EXPECT_EQ((*props)[3], (PropValue{PR_ENTRYID, Binary{store_->entry_id()}}));
  EXPECT_EQ((*props)[4],
            (PropValue{PR_IPM_OUTBOX_ENTRYID, Binary{store_->outbox_id()}}));
  EXPECT_EQ((*props)[5], (PropValue{PR_IPM_SENTMAIL_ENTRYID,
                                    Binary{store_->sent_items_id()}}));
  EXPECT_EQ((*props)[6], (PropValue{PR_IPM_WASTEBASKET_ENTRYID,
                                    Binary{store_->deleted_items_id()}}));

  // Entry ids compare equal across sessions.
  auto other = Session::Open(f_.server->target());
  ASSERT_TRUE(other.ok()) << other.status();
  auto other_store = (*other)->OpenMsgStore();
  ASSERT_TRUE(other_store.ok()) << other_store.status();
  EXPECT_EQ((*other_store)->entry_id(), store_->entry_id());
  EXPECT_EQ((*other_store)->inbox_id(), store_->inbox_id());
  auto seen_there = (*other_store)->GetProps(folder_, {PR_DISPLAY_NAME});
  ASSERT_TRUE(seen_there.ok()) << seen_there.status();
  EXPECT_EQ(*seen_there,
            (std::vector<PropValue>{{PR_DISPLAY_NAME, std::string("Props")}}));
}

}  // namespace
}  // namespace mapinotify::testing
