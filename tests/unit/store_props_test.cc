// Properties: the store's and the well-known folders' computed properties,
// every property type round-tripping, missing properties as PT_ERROR,
// computed properties and bad values as problems (the rest applied), and
// folder property changes as fnevObjectModified with the changed tags.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "mapinotify/mapi.h"
#include "mapinotify/status.h"
#include "server/store/store.h"
#include "server/store/store_testing.h"

namespace mapinotify::server::store {
namespace {

using testing::FindValue;
using testing::LongProp;
using testing::Modified;
using testing::Prop;
using testing::StoreHarness;
using testing::Want;

const CallContext kCaller{"session-a", 1};

std::vector<PropValue> EveryType() {
  Guid guid;
  for (size_t i = 0; i < 16; ++i) guid.bytes[i] = static_cast<uint8_t>(i * 7);
  Guid other = guid;
  other.bytes[0] = 0xFF;
  return {
      {PROP_TAG(PT_LONG, 0x8001), int32_t{-42}},
      {PROP_TAG(PT_I8, 0x8002), int64_t{1} << 40},
      {PROP_TAG(PT_BOOLEAN, 0x8003), true},
      {PROP_TAG(PT_DOUBLE, 0x8004), 2.5},
      {PROP_TAG(PT_SYSTIME, 0x8005), FileTime{132000000000000000ull}},
      {PROP_TAG(PT_UNICODE, 0x8006), std::string("h\xC3\xA9llo")},
      {PROP_TAG(PT_BINARY, 0x8007), Binary{std::string("\0\1\2", 3)}},
      {PROP_TAG(PT_CLSID, 0x8008), guid},
      {PROP_TAG(PT_MV_LONG, 0x8009), std::vector<int32_t>{1, -2, 3}},
      {PROP_TAG(PT_MV_I8, 0x800A), std::vector<int64_t>{-1, 1ll << 50}},
      {PROP_TAG(PT_MV_DOUBLE, 0x800B), std::vector<double>{0.5, -1e300}},
      {PROP_TAG(PT_MV_SYSTIME, 0x800C),
       std::vector<FileTime>{FileTime{1}, FileTime{2}}},
      {PROP_TAG(PT_MV_UNICODE, 0x800D), std::vector<std::string>{"a", ""}},
      {PROP_TAG(PT_MV_BINARY, 0x800E),
       std::vector<Binary>{Binary{"x"}, Binary{""}}},
      {PROP_TAG(PT_MV_CLSID, 0x800F), std::vector<Guid>{guid, other}},
      {PROP_TAG(PT_MV_LONG, 0x8010), std::vector<int32_t>{}},
  };
}

std::vector<ULONG> TagsOf(const std::vector<PropValue>& values) {
  std::vector<ULONG> tags;
  for (const PropValue& v : values) tags.push_back(v.tag);
  return tags;
}

TEST(StorePropsTest, StoreObjectHasTheProperties_A_MapiClientLooksFor) {
  Store::Options options;
  options.display_name = "Mailbox - Test";
  Store store(options);
  const EntryId& s = store.store_entry_id();
  EXPECT_EQ(Prop(store, s, PR_DISPLAY_NAME).value,
            PropVariant(std::string("Mailbox - Test")));
  EXPECT_EQ(Prop(store, s, PR_ENTRYID).value, PropVariant(Binary{s}));
  EXPECT_EQ(Prop(store, s, PR_STORE_ENTRYID).value, PropVariant(Binary{s}));
  EXPECT_EQ(std::get<Binary>(Prop(store, s, PR_RECORD_KEY).value).bytes.size(),
            16u);
  EXPECT_EQ(LongProp(store, s, PR_OBJECT_TYPE),
            static_cast<int32_t>(MAPI_STORE));
  const ULONG mask =
      static_cast<ULONG>(LongProp(store, s, PR_STORE_SUPPORT_MASK));
  for (ULONG bit :
       {STORE_NOTIFY_OK, STORE_MODIFY_OK, STORE_CREATE_OK, STORE_MV_PROPS_OK,
        STORE_UNICODE_OK, STORE_ENTRYID_UNIQUE}) {
    EXPECT_NE(mask & bit, 0u) << std::hex << bit;
  }
  EXPECT_EQ(mask & STORE_READONLY, 0u);
  EXPECT_EQ(Prop(store, s, PR_IPM_SUBTREE_ENTRYID).value,
            PropVariant(Binary{store.ipm_subtree_id()}));
  EXPECT_EQ(Prop(store, s, PR_IPM_OUTBOX_ENTRYID).value,
            PropVariant(Binary{store.outbox_id()}));
  EXPECT_EQ(Prop(store, s, PR_IPM_SENTMAIL_ENTRYID).value,
            PropVariant(Binary{store.sent_items_id()}));
  EXPECT_EQ(Prop(store, s, PR_IPM_WASTEBASKET_ENTRYID).value,
            PropVariant(Binary{store.deleted_items_id()}));
  // Every property, ascending by id, none of them an error.
  absl::StatusOr<std::vector<PropValue>> all = store.GetProps(s, {});
  ASSERT_TRUE(all.ok());
  EXPECT_GE(all->size(), 10u);
  for (size_t i = 1; i < all->size(); ++i) {
    EXPECT_LT(PROP_ID((*all)[i - 1].tag), PROP_ID((*all)[i].tag));
  }
}

TEST(StorePropsTest, TheHierarchyRootIpmSubtreeInbox) {
  Store store{Store::Options()};
  const EntryId& root = store.root_folder_id();
  EXPECT_EQ(LongProp(store, root, PR_FOLDER_TYPE),
            static_cast<int32_t>(FOLDER_ROOT));
  EXPECT_EQ(Prop(store, root, PR_PARENT_ENTRYID).value,
            PropVariant(Binary{root}));  // The root is its own parent.
  EXPECT_EQ(LongProp(store, root, PR_DEPTH), 0);
  absl::StatusOr<std::vector<EntryId>> top = store.ListSubfolders(root);
  ASSERT_TRUE(top.ok());
  EXPECT_EQ(*top, std::vector<EntryId>{store.ipm_subtree_id()});
  EXPECT_EQ(Prop(store, store.ipm_subtree_id(), PR_DISPLAY_NAME).value,
            PropVariant(std::string("IPM_SUBTREE")));
  absl::StatusOr<std::vector<EntryId>> ipm =
      store.ListSubfolders(store.ipm_subtree_id());
  ASSERT_TRUE(ipm.ok());
  EXPECT_EQ(*ipm, (std::vector<EntryId>{store.inbox_id(), store.outbox_id(),
                                        store.sent_items_id(),
                                        store.deleted_items_id()}));
  const EntryId& inbox = store.inbox_id();
  EXPECT_EQ(Prop(store, inbox, PR_DISPLAY_NAME).value,
            PropVariant(std::string("Inbox")));
  EXPECT_EQ(Prop(store, inbox, PR_ENTRYID).value, PropVariant(Binary{inbox}));
  EXPECT_EQ(Prop(store, inbox, PR_RECORD_KEY).value,
            PropVariant(Binary{inbox}));
  EXPECT_EQ(Prop(store, inbox, PR_PARENT_ENTRYID).value,
            PropVariant(Binary{store.ipm_subtree_id()}));
  EXPECT_EQ(Prop(store, inbox, PR_STORE_ENTRYID).value,
            PropVariant(Binary{store.store_entry_id()}));
  EXPECT_EQ(LongProp(store, inbox, PR_OBJECT_TYPE),
            static_cast<int32_t>(MAPI_FOLDER));
  EXPECT_EQ(LongProp(store, inbox, PR_FOLDER_TYPE),
            static_cast<int32_t>(FOLDER_GENERIC));
  EXPECT_EQ(LongProp(store, inbox, PR_CONTENT_COUNT), 0);
  EXPECT_EQ(LongProp(store, inbox, PR_CONTENT_UNREAD), 0);
  EXPECT_EQ(Prop(store, inbox, PR_SUBFOLDERS).value, PropVariant(false));
  EXPECT_EQ(LongProp(store, inbox, PR_FOLDER_CHILD_COUNT), 0);
  EXPECT_EQ(LongProp(store, inbox, PR_DEPTH), 2);
  EXPECT_EQ(Prop(store, store.ipm_subtree_id(), PR_SUBFOLDERS).value,
            PropVariant(true));
  EXPECT_EQ(LongProp(store, store.ipm_subtree_id(), PR_FOLDER_CHILD_COUNT), 4);
  EXPECT_TRUE(std::holds_alternative<FileTime>(
      Prop(store, inbox, PR_CREATION_TIME).value));
  EXPECT_TRUE(store.CheckConsistency().ok());
}

TEST(StorePropsTest, MissingPropertyStandsInItsSlotAsPtError) {
  Store store{Store::Options()};
  absl::StatusOr<std::vector<PropValue>> values = store.GetProps(
      store.inbox_id(),
      {PR_SUBJECT, PR_DISPLAY_NAME, PROP_TAG(PT_LONG, PROP_ID(PR_DISPLAY_NAME)),
       PROP_TAG(PT_UNSPECIFIED, PROP_ID(PR_DISPLAY_NAME)), PR_COMMENT});
  ASSERT_TRUE(values.ok()) << values.status();
  ASSERT_EQ(values->size(), 5u);
  EXPECT_EQ((*values)[0], (PropValue{PROP_TAG(PT_ERROR, 0x0037),
                                     ErrorValue{MAPI_E_NOT_FOUND}}));
  EXPECT_EQ((*values)[1].value, PropVariant(std::string("Inbox")));
  // The stored type differs from the one asked for: not found.
  EXPECT_EQ((*values)[2], (PropValue{PROP_TAG(PT_ERROR, 0x3001),
                                     ErrorValue{MAPI_E_NOT_FOUND}}));
  // PT_UNSPECIFIED: whatever type it has.
  EXPECT_EQ((*values)[3], (PropValue{PR_DISPLAY_NAME, std::string("Inbox")}));
  EXPECT_EQ((*values)[4].tag, PROP_TAG(PT_ERROR, PROP_ID(PR_COMMENT)));
}

TEST(StorePropsTest, EveryPropertyTypeRoundTripsOnMessagesAndFolders) {
  Store store{Store::Options()};
  const std::vector<PropValue> values = EveryType();
  // A message: pending, then saved.
  absl::StatusOr<Handle> h = store.CreateMessage(kCaller, store.inbox_id(), 0);
  ASSERT_TRUE(h.ok()) << h.status();
  absl::StatusOr<std::vector<PropProblem>> problems =
      store.SetMessageProps(kCaller, *h, values);
  ASSERT_TRUE(problems.ok()) << problems.status();
  EXPECT_TRUE(problems->empty());
  absl::StatusOr<std::vector<PropValue>> pending =
      store.GetMessageProps(kCaller, *h, TagsOf(values));
  ASSERT_TRUE(pending.ok());
  EXPECT_EQ(*pending, values);
  absl::StatusOr<EntryId> id = store.SaveChanges(kCaller, *h, 0);
  ASSERT_TRUE(id.ok()) << id.status();
  absl::StatusOr<std::vector<PropValue>> saved =
      store.GetProps(*id, TagsOf(values));
  ASSERT_TRUE(saved.ok());
  EXPECT_EQ(*saved, values);
  // A folder.
  problems = store.SetFolderProps(store.inbox_id(), values);
  ASSERT_TRUE(problems.ok());
  EXPECT_TRUE(problems->empty());
  saved = store.GetProps(store.inbox_id(), TagsOf(values));
  ASSERT_TRUE(saved.ok());
  EXPECT_EQ(*saved, values);
}

TEST(StorePropsTest, MessageDefaultsAndComputedProperties) {
  Store store{Store::Options()};
  absl::StatusOr<Handle> h = store.CreateMessage(kCaller, store.inbox_id(), 0);
  ASSERT_TRUE(h.ok());
  // Unsaved: defaults, no entry id yet.
  absl::StatusOr<std::vector<PropValue>> draft =
      store.GetMessageProps(kCaller, *h,
                            {PR_MESSAGE_CLASS, PR_MESSAGE_FLAGS, PR_ENTRYID,
                             PR_PARENT_ENTRYID, PR_OBJECT_TYPE});
  ASSERT_TRUE(draft.ok());
  EXPECT_EQ((*draft)[0].value, PropVariant(std::string("IPM.Note")));
  EXPECT_EQ((*draft)[1].value,
            PropVariant(static_cast<int32_t>(MSGFLAG_READ | MSGFLAG_UNSENT)));
  EXPECT_EQ((*draft)[2].tag, PROP_TAG(PT_ERROR, PROP_ID(PR_ENTRYID)));
  EXPECT_EQ((*draft)[3].value, PropVariant(Binary{store.inbox_id()}));
  EXPECT_EQ((*draft)[4].value, PropVariant(static_cast<int32_t>(MAPI_MESSAGE)));
  ASSERT_TRUE(store
                  .SetMessageProps(kCaller, *h,
                                   {{PR_SUBJECT, std::string("0123456789")}})
                  .ok());
  absl::StatusOr<EntryId> id = store.SaveChanges(kCaller, *h, 0);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(Prop(store, *id, PR_ENTRYID).value, PropVariant(Binary{*id}));
  EXPECT_EQ(Prop(store, *id, PR_RECORD_KEY).value, PropVariant(Binary{*id}));
  EXPECT_EQ(Prop(store, *id, PR_STORE_ENTRYID).value,
            PropVariant(Binary{store.store_entry_id()}));
  EXPECT_GT(LongProp(store, *id, PR_MESSAGE_SIZE), 20);
  const PropValue created = Prop(store, *id, PR_CREATION_TIME);
  const PropValue modified = Prop(store, *id, PR_LAST_MODIFICATION_TIME);
  ASSERT_TRUE(std::holds_alternative<FileTime>(created.value));
  EXPECT_GT(std::get<FileTime>(created.value).ticks, 130000000000000000ull);
  EXPECT_EQ(created.value, modified.value);
  // The handle was released by the save (no KEEP_OPEN_*).
  EXPECT_EQ(ScodeOf(store.GetMessageProps(kCaller, *h, {}).status()),
            MAPI_E_NOT_FOUND);
}

TEST(StorePropsTest, ComputedAndBadValuesAreProblemsAndTheRestApplies) {
  StoreHarness h;
  const EntryId& inbox = h.store.inbox_id();
  const std::vector<PropValue> request = {
      {PR_CONTENT_COUNT, int32_t{5}},     // 0 computed
      {PR_SUBJECT, std::string("kept")},  // 1 ok
      {PROP_TAG(PT_UNICODE, PROP_ID(PR_ENTRYID)), std::string("x")},  // 2
      {PROP_TAG(PT_LONG, 0x8100), std::string("not a long")},         // 3 type
      {PROP_TAG(PT_ERROR, 0x8101), ErrorValue{1}},  // 4 never stored
      {PROP_TAG(PT_LONG, 0x0000), int32_t{1}},      // 5 id 0
      {PROP_TAG(PT_LONG, PROP_ID(PR_DISPLAY_NAME)), int32_t{1}},  // 6 fixed
      {PR_FOLDER_CHILD_COUNT, int32_t{1}},                        // 7 computed
      {PR_SUBFOLDERS, true},                                      // 8 computed
      {PR_CONTENT_UNREAD, int32_t{1}},                            // 9 computed
      {PR_COMMENT, std::string("also kept")},                     // 10 ok
  };
  absl::StatusOr<std::vector<PropProblem>> problems =
      h.store.SetFolderProps(inbox, request);
  ASSERT_TRUE(problems.ok()) << problems.status();
  const std::vector<std::pair<uint32_t, SCODE>> want = {
      {0, MAPI_E_COMPUTED},          {2, MAPI_E_COMPUTED},
      {3, MAPI_E_INVALID_TYPE},      {4, MAPI_E_INVALID_TYPE},
      {5, MAPI_E_INVALID_PARAMETER}, {6, MAPI_E_INVALID_TYPE},
      {7, MAPI_E_COMPUTED},          {8, MAPI_E_COMPUTED},
      {9, MAPI_E_COMPUTED}};
  ASSERT_EQ(problems->size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ((*problems)[i].index, want[i].first);
    EXPECT_EQ((*problems)[i].tag, request[want[i].first].tag);
    EXPECT_EQ((*problems)[i].scode, want[i].second) << i;
  }
  EXPECT_EQ(Prop(h.store, inbox, PR_SUBJECT).value,
            PropVariant(std::string("kept")));
  EXPECT_EQ(LongProp(h.store, inbox, PR_CONTENT_COUNT), 0);
  testing::ExpectBatch(
      h.Take(), {Want{Modified(inbox, MAPI_FOLDER, h.store.ipm_subtree_id(),
                               {PR_SUBJECT, PR_COMMENT})}});

  // DeleteProps: computed ones are problems; deleting a missing one is not.
  problems = h.store.DeleteFolderProps(
      inbox, {PR_SUBJECT, PR_ENTRYID, PROP_TAG(PT_LONG, 0x8123), PR_DEPTH,
              PR_DISPLAY_NAME});
  ASSERT_TRUE(problems.ok());
  ASSERT_EQ(problems->size(), 3u);
  EXPECT_EQ((*problems)[0].scode, MAPI_E_COMPUTED);
  EXPECT_EQ((*problems)[0].index, 1u);
  EXPECT_EQ((*problems)[1].scode, MAPI_E_COMPUTED);
  EXPECT_EQ((*problems)[2].scode, MAPI_E_INVALID_PARAMETER);  // The name.
  EXPECT_EQ(Prop(h.store, inbox, PR_SUBJECT).tag,
            PROP_TAG(PT_ERROR, PROP_ID(PR_SUBJECT)));
  testing::ExpectBatch(
      h.Take(), {Want{Modified(inbox, MAPI_FOLDER, h.store.ipm_subtree_id(),
                               {PR_SUBJECT})}});

  // Messages: the same rules in the pending context.
  absl::StatusOr<Handle> m = h.store.CreateMessage(kCaller, inbox, 0);
  ASSERT_TRUE(m.ok());
  problems = h.store.SetMessageProps(
      kCaller, *m,
      {{PR_MESSAGE_SIZE, int32_t{1}},
       {PR_SUBJECT, std::string("s")},
       {PR_LAST_MODIFICATION_TIME, FileTime{1}},
       {PROP_TAG(PT_UNICODE, PROP_ID(PR_MESSAGE_FLAGS)), std::string("x")},
       {PROP_TAG(PT_I8, 0x8200), int32_t{1}},
       {PR_CONTENT_COUNT, int32_t{1}}});  // Computed on any object.
  ASSERT_TRUE(problems.ok());
  ASSERT_EQ(problems->size(), 5u);
  EXPECT_EQ((*problems)[4].scode, MAPI_E_COMPUTED);
  EXPECT_EQ((*problems)[0].scode, MAPI_E_COMPUTED);
  EXPECT_EQ((*problems)[1].scode, MAPI_E_COMPUTED);
  EXPECT_EQ((*problems)[1].index, 2u);
  EXPECT_EQ((*problems)[2].scode, MAPI_E_INVALID_TYPE);
  EXPECT_EQ((*problems)[3].scode, MAPI_E_INVALID_TYPE);
  problems =
      h.store.DeleteMessageProps(kCaller, *m, {PR_ENTRYID, PR_CREATION_TIME});
  ASSERT_TRUE(problems.ok());
  ASSERT_EQ(problems->size(), 2u);
  EXPECT_EQ((*problems)[1].scode, MAPI_E_COMPUTED);
  absl::StatusOr<std::vector<PropValue>> got =
      h.store.GetMessageProps(kCaller, *m, {PR_SUBJECT});
  ASSERT_TRUE(got.ok());
  EXPECT_EQ((*got)[0].value, PropVariant(std::string("s")));
}

TEST(StorePropsTest, FolderChangesPublishOnlyWhatChanged) {
  StoreHarness h;
  absl::StatusOr<EntryId> f =
      h.store.CreateFolder(h.store.ipm_subtree_id(), "Work", "", 0);
  ASSERT_TRUE(f.ok());
  h.Take();
  const ULONG custom = PROP_TAG(PT_LONG, 0x8300);
  ASSERT_TRUE(h.store.SetFolderProps(*f, {{custom, int32_t{1}}}).ok());
  testing::ExpectBatch(
      h.Take(),
      {Want{Modified(*f, MAPI_FOLDER, h.store.ipm_subtree_id(), {custom})}});
  // The same value again, and deleting a missing property: no change.
  ASSERT_TRUE(h.store.SetFolderProps(*f, {{custom, int32_t{1}}}).ok());
  ASSERT_TRUE(h.store.DeleteFolderProps(*f, {PR_SUBJECT}).ok());
  EXPECT_TRUE(h.Take().empty());
  // A rename; a rename onto a sibling's name (case-insensitive) collides;
  // well-known folders keep their names.
  ASSERT_TRUE(
      h.store.CreateFolder(h.store.ipm_subtree_id(), "Play", "", 0).ok());
  h.Take();
  absl::StatusOr<std::vector<PropProblem>> problems =
      h.store.SetFolderProps(*f, {{PR_DISPLAY_NAME, std::string("PLAY")},
                                  {PR_DISPLAY_NAME, std::string("")},
                                  {PR_DISPLAY_NAME, std::string("Work 2")}});
  ASSERT_TRUE(problems.ok());
  ASSERT_EQ(problems->size(), 2u);
  EXPECT_EQ((*problems)[0].scode, MAPI_E_COLLISION);
  EXPECT_EQ((*problems)[1].scode, MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(Prop(h.store, *f, PR_DISPLAY_NAME).value,
            PropVariant(std::string("Work 2")));
  testing::ExpectBatch(h.Take(),
                       {Want{Modified(*f, MAPI_FOLDER, h.store.ipm_subtree_id(),
                                      {PR_DISPLAY_NAME})}});
  problems = h.store.SetFolderProps(h.store.inbox_id(),
                                    {{PR_DISPLAY_NAME, std::string("Box")}});
  ASSERT_TRUE(problems.ok());
  ASSERT_EQ(problems->size(), 1u);
  EXPECT_EQ((*problems)[0].scode, MAPI_E_NO_ACCESS);
}

TEST(StorePropsTest, FolderCallsOnObjectsOfAnotherKindAreClearErrors) {
  Store store{Store::Options()};
  absl::StatusOr<EntryId> mail = store.DeliverNewMail({});
  ASSERT_TRUE(mail.ok());
  EXPECT_EQ(ScodeOf(store.SetFolderProps(*mail, {}).status()),
            MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(ScodeOf(store.SetFolderProps(store.store_entry_id(), {}).status()),
            MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(ScodeOf(store.SetFolderProps("bogus", {}).status()),
            MAPI_E_INVALID_ENTRYID);
  EXPECT_EQ(ScodeOf(store.OpenMessage(kCaller, store.inbox_id(), 0).status()),
            MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(ScodeOf(store.CreateMessage(kCaller, *mail, 0).status()),
            MAPI_E_INVALID_PARAMETER);
  // GetProps works on all three kinds.
  EXPECT_EQ(LongProp(store, *mail, PR_OBJECT_TYPE),
            static_cast<int32_t>(MAPI_MESSAGE));
}

}  // namespace
}  // namespace mapinotify::server::store
