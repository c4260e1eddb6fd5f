// Folder operations and their rows of the notification matrix: create,
// copy (with / without subfolders, renamed), move, delete and empty — the
// whole payload, the batch boundaries and the connections each reaches —
// and their errors with their SCODEs.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "mapinotify/mapi.h"
#include "mapinotify/status.h"
#include "server/store/store.h"
#include "server/store/store_testing.h"

namespace mapinotify::server::store {
namespace {

using testing::ExpectBatch;
using testing::LongProp;
using testing::Modified;
using testing::Object;
using testing::Prop;
using testing::StoreHarness;
using testing::Want;

const CallContext kCaller{"session-a", 1};

// Saves a new message in `folder` with PR_SUBJECT and PR_MESSAGE_FLAGS.
EntryId SaveMessage(Store& store, const EntryId& folder,
                    const std::string& subject, ULONG flags = MSGFLAG_READ) {
  absl::StatusOr<Handle> h = store.CreateMessage(kCaller, folder, 0);
  EXPECT_TRUE(h.ok()) << h.status();
  EXPECT_TRUE(
      store
          .SetMessageProps(kCaller, *h,
                           {{PR_SUBJECT, subject},
                            {PR_MESSAGE_FLAGS, static_cast<int32_t>(flags)}})
          .ok());
  absl::StatusOr<EntryId> id = store.SaveChanges(kCaller, *h, 0);
  EXPECT_TRUE(id.ok()) << id.status();
  return id.value_or("");
}

EntryId MakeFolder(Store& store, const EntryId& parent,
                   const std::string& name) {
  absl::StatusOr<EntryId> id = store.CreateFolder(parent, name, "", 0);
  EXPECT_TRUE(id.ok()) << id.status();
  return id.value_or("");
}

std::vector<EntryId> Subfolders(const Store& store, const EntryId& folder) {
  return store.ListSubfolders(folder).value_or(std::vector<EntryId>{});
}
std::vector<EntryId> Messages(const Store& store, const EntryId& folder) {
  return store.ListMessages(folder).value_or(std::vector<EntryId>{});
}

// A folder tree for the copy / move / delete tests:
//   IPM_SUBTREE / A (m1) / S (m2) / T
//   IPM_SUBTREE / B
// with connections 2 on IPM_SUBTREE, 5 on A, 6 on B, 7 on S.
struct Tree {
  explicit Tree(StoreHarness& h) : h(h) {
    Store& s = h.store;
    ipm = s.ipm_subtree_id();
    root = s.root_folder_id();
    a = MakeFolder(s, ipm, "A");
    b = MakeFolder(s, ipm, "B");
    sub = MakeFolder(s, a, "S");
    t = MakeFolder(s, sub, "T");
    m1 = SaveMessage(s, a, "one");
    m2 = SaveMessage(s, sub, "two", 0);
    h.AdviseEntry(2, ipm);
    h.AdviseEntry(5, a);
    h.AdviseEntry(6, b);
    h.AdviseEntry(7, sub);
    h.Take();
  }
  StoreHarness& h;
  EntryId root, ipm, a, b, sub, t, m1, m2;
};

TEST(StoreFoldersTest, CreateFolderPublishesCreatedThenParentCounters) {
  StoreHarness h;
  const EntryId ipm = h.store.ipm_subtree_id();
  h.AdviseEntry(2, ipm);
  h.AdviseEntry(3, h.store.inbox_id());
  absl::StatusOr<EntryId> a = h.store.CreateFolder(ipm, "A", "about A", 0);
  ASSERT_TRUE(a.ok()) << a.status();
  // IPM_SUBTREE had subfolders already: only the child count changed.
  ExpectBatch(h.Take(),
              {Want{Object(fnevObjectCreated, *a, MAPI_FOLDER, ipm), {1, 2}},
               Want{Modified(ipm, MAPI_FOLDER, h.store.root_folder_id(),
                             {PR_FOLDER_CHILD_COUNT}),
                    {1, 2}}});
  EXPECT_EQ(Prop(h.store, *a, PR_COMMENT).value,
            PropVariant(std::string("about A")));
  EXPECT_EQ(Prop(h.store, *a, PR_PARENT_ENTRYID).value,
            PropVariant(Binary{ipm}));

  // The first subfolder of A also turns A's PR_SUBFOLDERS on.
  h.AdviseEntry(4, *a);
  absl::StatusOr<EntryId> sub = h.store.CreateFolder(*a, "Sub", "", 0);
  ASSERT_TRUE(sub.ok());
  ExpectBatch(h.Take(),
              {Want{Object(fnevObjectCreated, *sub, MAPI_FOLDER, *a), {1, 4}},
               Want{Modified(*a, MAPI_FOLDER, ipm,
                             {PR_SUBFOLDERS, PR_FOLDER_CHILD_COUNT}),
                    {1, 2, 4}}});
  EXPECT_EQ(Prop(h.store, *a, PR_SUBFOLDERS).value, PropVariant(true));
  EXPECT_EQ(LongProp(h.store, *a, PR_FOLDER_CHILD_COUNT), 1);
  EXPECT_EQ(Prop(h.store, *sub, PR_COMMENT).tag,
            PROP_TAG(PT_ERROR, PROP_ID(PR_COMMENT)));
}

TEST(StoreFoldersTest, CreateFolderCollisionOpenIfExistsAndBadInput) {
  StoreHarness h;
  const EntryId ipm = h.store.ipm_subtree_id();
  const EntryId a = MakeFolder(h.store, ipm, "Projects");
  h.Take();
  absl::StatusOr<EntryId> again = h.store.CreateFolder(ipm, "PROJECTS", "", 0);
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(ScodeOf(again.status()), MAPI_E_COLLISION);
  again = h.store.CreateFolder(ipm, "projects", "", OPEN_IF_EXISTS);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, a);
  EXPECT_TRUE(h.Take().empty());  // Neither published anything.
  // The same name in another parent is fine.
  EXPECT_TRUE(h.store.CreateFolder(a, "Projects", "", 0).ok());
  h.Take();

  EXPECT_EQ(ScodeOf(h.store.CreateFolder(ipm, "", "", 0).status()),
            MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(
      ScodeOf(
          h.store.CreateFolder(ipm, std::string(1025, 'n'), "", 0).status()),
      MAPI_E_STRING_TOO_LONG);
  EXPECT_TRUE(h.store.CreateFolder(ipm, std::string(1024, 'n'), "", 0).ok());
  EXPECT_EQ(
      ScodeOf(
          h.store.CreateFolder(ipm, "c", std::string(65537, 'c'), 0).status()),
      MAPI_E_STRING_TOO_LONG);
  EXPECT_EQ(ScodeOf(h.store.CreateFolder(ipm, "x", "", 0x2).status()),
            MAPI_E_UNKNOWN_FLAGS);
  EXPECT_EQ(ScodeOf(h.store.CreateFolder("bogus", "x", "", 0).status()),
            MAPI_E_INVALID_ENTRYID);
  const EntryId gone = MakeFolder(h.store, ipm, "Gone");
  ASSERT_TRUE(h.store.DeleteFolder(ipm, gone, 0).ok());
  const absl::Status status = h.store.CreateFolder(gone, "x", "", 0).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ScodeOf(status), MAPI_E_NOT_FOUND);
}

TEST(StoreFoldersTest, CopyFolderWithSubfoldersAndANewName) {
  StoreHarness h;
  Tree t(h);
  absl::StatusOr<EntryId> copy =
      h.store.CopyFolder(t.ipm, t.a, t.b, "A2", COPY_SUBFOLDERS);
  ASSERT_TRUE(copy.ok()) << copy.status();
  ASSERT_EQ(Subfolders(h.store, t.b), std::vector<EntryId>{*copy});
  const std::vector<EntryId> copied_messages = Messages(h.store, *copy);
  ASSERT_EQ(copied_messages.size(), 1u);
  const std::vector<EntryId> copied_subs = Subfolders(h.store, *copy);
  ASSERT_EQ(copied_subs.size(), 1u);
  const EntryId s2 = copied_subs[0];
  ASSERT_EQ(Messages(h.store, s2).size(), 1u);
  const EntryId m2_copy = Messages(h.store, s2)[0];
  ASSERT_EQ(Subfolders(h.store, s2).size(), 1u);
  const EntryId t2 = Subfolders(h.store, s2)[0];

  ExpectBatch(
      h.Take(),
      {Want{Object(fnevObjectCopied, *copy, MAPI_FOLDER, t.b, t.a, t.ipm),
            {1, 2, 5, 6}},
       Want{Object(fnevObjectCreated, copied_messages[0], MAPI_MESSAGE, *copy)},
       Want{Object(fnevObjectCreated, s2, MAPI_FOLDER, *copy)},
       Want{Object(fnevObjectCreated, m2_copy, MAPI_MESSAGE, s2)},
       Want{Object(fnevObjectCreated, t2, MAPI_FOLDER, s2)},
       Want{Modified(t.b, MAPI_FOLDER, t.ipm,
                     {PR_SUBFOLDERS, PR_FOLDER_CHILD_COUNT}),
            {1, 2, 6}}});

  // The copy has the new name and copies of the contents; the original is
  // untouched.
  EXPECT_EQ(Prop(h.store, *copy, PR_DISPLAY_NAME).value,
            PropVariant(std::string("A2")));
  EXPECT_EQ(Prop(h.store, s2, PR_DISPLAY_NAME).value,
            PropVariant(std::string("S")));
  EXPECT_EQ(Prop(h.store, copied_messages[0], PR_SUBJECT).value,
            PropVariant(std::string("one")));
  EXPECT_EQ(LongProp(h.store, s2, PR_CONTENT_UNREAD), 1);
  EXPECT_EQ(Messages(h.store, t.a), std::vector<EntryId>{t.m1});
  EXPECT_EQ(Subfolders(h.store, t.a), std::vector<EntryId>{t.sub});
  EXPECT_TRUE(h.store.CheckConsistency().ok());
}

TEST(StoreFoldersTest, CopyFolderWithoutSubfoldersKeepsTheName) {
  StoreHarness h;
  Tree t(h);
  // B gets a subfolder first so that only its child count changes.
  const EntryId x = MakeFolder(h.store, t.b, "X");
  h.Take();
  absl::StatusOr<EntryId> copy = h.store.CopyFolder(t.ipm, t.a, t.b, "", 0);
  ASSERT_TRUE(copy.ok()) << copy.status();
  EXPECT_EQ(Subfolders(h.store, t.b), (std::vector<EntryId>{x, *copy}));
  const std::vector<EntryId> messages = Messages(h.store, *copy);
  ASSERT_EQ(messages.size(), 1u);
  ExpectBatch(
      h.Take(),
      {Want{Object(fnevObjectCopied, *copy, MAPI_FOLDER, t.b, t.a, t.ipm),
            {1, 2, 5, 6}},
       Want{Object(fnevObjectCreated, messages[0], MAPI_MESSAGE, *copy)},
       Want{Modified(t.b, MAPI_FOLDER, t.ipm, {PR_FOLDER_CHILD_COUNT}),
            {1, 2, 6}}});
  EXPECT_EQ(Prop(h.store, *copy, PR_DISPLAY_NAME).value,
            PropVariant(std::string("A")));
  EXPECT_TRUE(Subfolders(h.store, *copy).empty());
  EXPECT_EQ(Prop(h.store, *copy, PR_SUBFOLDERS).value, PropVariant(false));
}

TEST(StoreFoldersTest, MoveFolderKeepsIdsAndUpdatesBothParents) {
  StoreHarness h;
  Tree t(h);
  absl::StatusOr<EntryId> moved =
      h.store.CopyFolder(t.ipm, t.a, t.b, "", FOLDER_MOVE);
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(*moved, t.a);
  ExpectBatch(
      h.Take(),
      {Want{Object(fnevObjectMoved, t.a, MAPI_FOLDER, t.b, t.a, t.ipm),
            {1, 2, 5, 6}},
       Want{Modified(t.ipm, MAPI_FOLDER, t.root, {PR_FOLDER_CHILD_COUNT}),
            {1, 2}},
       Want{Modified(t.b, MAPI_FOLDER, t.ipm,
                     {PR_SUBFOLDERS, PR_FOLDER_CHILD_COUNT}),
            {1, 2, 6}}});
  EXPECT_EQ(Prop(h.store, t.a, PR_PARENT_ENTRYID).value,
            PropVariant(Binary{t.b}));
  EXPECT_EQ(Messages(h.store, t.a), std::vector<EntryId>{t.m1});
  EXPECT_EQ(Subfolders(h.store, t.a), std::vector<EntryId>{t.sub});
  EXPECT_EQ(LongProp(h.store, t.a, PR_DEPTH), 3);

  // A move within one parent with a new name is a rename: no counters.
  moved = h.store.CopyFolder(t.b, t.a, t.b, "Renamed", FOLDER_MOVE);
  ASSERT_TRUE(moved.ok());
  ExpectBatch(h.Take(),
              {Want{Object(fnevObjectMoved, t.a, MAPI_FOLDER, t.b, t.a, t.b),
                    {1, 5, 6}}});
  EXPECT_EQ(Prop(h.store, t.a, PR_DISPLAY_NAME).value,
            PropVariant(std::string("Renamed")));
  EXPECT_TRUE(h.store.CheckConsistency().ok());
}

TEST(StoreFoldersTest, CopyFolderErrors) {
  StoreHarness h;
  Tree t(h);
  Store& s = h.store;
  // Into its own subtree (or itself), moved or copied.
  EXPECT_EQ(ScodeOf(s.CopyFolder(t.ipm, t.a, t.sub, "", FOLDER_MOVE).status()),
            MAPI_E_FOLDER_CYCLE);
  EXPECT_EQ(
      ScodeOf(s.CopyFolder(t.ipm, t.a, t.t, "", COPY_SUBFOLDERS).status()),
      MAPI_E_FOLDER_CYCLE);
  EXPECT_EQ(ScodeOf(s.CopyFolder(t.ipm, t.a, t.a, "", FOLDER_MOVE).status()),
            MAPI_E_FOLDER_CYCLE);
  // A name clash in the destination (case-insensitive).
  EXPECT_EQ(ScodeOf(s.CopyFolder(t.ipm, t.a, t.ipm, "", 0).status()),
            MAPI_E_COLLISION);
  EXPECT_EQ(ScodeOf(s.CopyFolder(t.ipm, t.a, t.ipm, "b", FOLDER_MOVE).status()),
            MAPI_E_COLLISION);
  // The folder is not a child of the source given.
  EXPECT_EQ(ScodeOf(s.CopyFolder(t.b, t.a, t.ipm, "A3", 0).status()),
            MAPI_E_NOT_FOUND);
  // Well-known folders cannot move (they can be copied).
  EXPECT_EQ(
      ScodeOf(s.CopyFolder(t.ipm, s.inbox_id(), t.b, "", FOLDER_MOVE).status()),
      MAPI_E_NO_ACCESS);
  EXPECT_TRUE(s.CopyFolder(t.ipm, s.inbox_id(), t.b, "", 0).ok());
  h.Take();
  // Bad names, flags and ids.
  EXPECT_EQ(
      ScodeOf(
          s.CopyFolder(t.ipm, t.a, t.b, std::string(2000, 'x'), 0).status()),
      MAPI_E_STRING_TOO_LONG);
  EXPECT_EQ(ScodeOf(s.CopyFolder(t.ipm, t.a, t.b, "", 0x100).status()),
            MAPI_E_UNKNOWN_FLAGS);
  EXPECT_EQ(ScodeOf(s.CopyFolder(t.ipm, t.a, "bogus", "", 0).status()),
            MAPI_E_INVALID_ENTRYID);
  EXPECT_EQ(ScodeOf(s.CopyFolder(t.ipm, t.a, t.m1, "", 0).status()),
            MAPI_E_INVALID_PARAMETER);
  EXPECT_TRUE(h.Take().empty());  // No failed call published anything.
  EXPECT_TRUE(s.CheckConsistency().ok());
}

TEST(StoreFoldersTest, DeleteFolderNeedsFlagsAndPublishesBottomUp) {
  StoreHarness h;
  Tree t(h);
  Store& s = h.store;
  absl::Status status = s.DeleteFolder(t.ipm, t.a, 0);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ScodeOf(status), MAPI_E_HAS_FOLDERS);
  // DEL_FOLDERS alone: a subfolder still holds a message.
  EXPECT_EQ(ScodeOf(s.DeleteFolder(t.ipm, t.a, DEL_FOLDERS)),
            MAPI_E_HAS_MESSAGES);
  EXPECT_EQ(ScodeOf(s.DeleteFolder(t.sub, t.t, 0x1)), MAPI_E_UNKNOWN_FLAGS);
  EXPECT_EQ(ScodeOf(s.DeleteFolder(t.ipm, t.sub, DEL_FOLDERS | DEL_MESSAGES)),
            MAPI_E_NOT_FOUND);  // S is not a child of IPM_SUBTREE.
  EXPECT_TRUE(h.Take().empty());

  // Open handles on the doomed message and an unsaved message in S.
  absl::StatusOr<Handle> open_m1 = s.OpenMessage(kCaller, t.m1, MAPI_MODIFY);
  absl::StatusOr<Handle> draft = s.CreateMessage(kCaller, t.sub, 0);
  ASSERT_TRUE(open_m1.ok() && draft.ok());

  ASSERT_TRUE(s.DeleteFolder(t.ipm, t.a, DEL_FOLDERS | DEL_MESSAGES).ok());
  ExpectBatch(
      h.Take(),
      {Want{Object(fnevObjectDeleted, t.t, MAPI_FOLDER, t.sub), {1, 7}},
       Want{Object(fnevObjectDeleted, t.m2, MAPI_MESSAGE, t.sub), {1, 7}},
       Want{Object(fnevObjectDeleted, t.sub, MAPI_FOLDER, t.a), {1, 5, 7}},
       Want{Object(fnevObjectDeleted, t.m1, MAPI_MESSAGE, t.a), {1, 5}},
       Want{Object(fnevObjectDeleted, t.a, MAPI_FOLDER, t.ipm), {1, 2, 5}},
       Want{Modified(t.ipm, MAPI_FOLDER, t.root, {PR_FOLDER_CHILD_COUNT}),
            {1, 2}}});
  for (const EntryId& id : {t.a, t.sub, t.t, t.m1, t.m2}) {
    EXPECT_EQ(ScodeOf(s.Exists(id)), MAPI_E_NOT_FOUND);
  }
  EXPECT_EQ(ScodeOf(s.GetMessageProps(kCaller, *open_m1, {}).status()),
            MAPI_E_OBJECT_DELETED);
  EXPECT_EQ(ScodeOf(s.SaveChanges(kCaller, *open_m1, 0).status()),
            MAPI_E_OBJECT_DELETED);
  EXPECT_EQ(ScodeOf(s.SaveChanges(kCaller, *draft, 0).status()),
            MAPI_E_OBJECT_DELETED);
  EXPECT_TRUE(s.Release(kCaller, *draft).ok());
  EXPECT_TRUE(s.CheckConsistency().ok());

  // An empty folder needs no flags.
  ASSERT_TRUE(s.DeleteFolder(t.ipm, t.b, 0).ok());
  ExpectBatch(
      h.Take(),
      {Want{Object(fnevObjectDeleted, t.b, MAPI_FOLDER, t.ipm), {1, 2, 6}},
       Want{Modified(t.ipm, MAPI_FOLDER, t.root, {PR_FOLDER_CHILD_COUNT}),
            {1, 2}}});
}

TEST(StoreFoldersTest, WellKnownFoldersCannotBeDeleted) {
  Store store{Store::Options()};
  const ULONG all = DEL_FOLDERS | DEL_MESSAGES;
  EXPECT_EQ(ScodeOf(store.DeleteFolder(store.ipm_subtree_id(), store.inbox_id(),
                                       all)),
            MAPI_E_NO_ACCESS);
  EXPECT_EQ(ScodeOf(store.DeleteFolder(store.root_folder_id(),
                                       store.ipm_subtree_id(), all)),
            MAPI_E_NO_ACCESS);
  EXPECT_EQ(ScodeOf(store.DeleteFolder(store.root_folder_id(),
                                       store.root_folder_id(), all)),
            MAPI_E_NO_ACCESS);
  EXPECT_EQ(ScodeOf(store.EmptyFolder(store.ipm_subtree_id(), 0)),
            MAPI_E_NO_ACCESS);
  EXPECT_EQ(ScodeOf(store.EmptyFolder(store.root_folder_id(), 0)),
            MAPI_E_NO_ACCESS);
  EXPECT_TRUE(store.Exists(store.inbox_id()).ok());
  EXPECT_TRUE(store.CheckConsistency().ok());
}

TEST(StoreFoldersTest, EmptyFolderDeletesMessagesAndSubfolders) {
  StoreHarness h;
  Tree t(h);
  Store& s = h.store;
  const EntryId m3 = SaveMessage(s, t.a, "three", 0);
  h.Take();
  EXPECT_EQ(LongProp(s, t.a, PR_CONTENT_UNREAD), 1);
  EXPECT_EQ(ScodeOf(s.EmptyFolder(t.a, 0x1)), MAPI_E_UNKNOWN_FLAGS);
  ASSERT_TRUE(s.EmptyFolder(t.a, DEL_ASSOCIATED).ok());
  ExpectBatch(
      h.Take(),
      {Want{Object(fnevObjectDeleted, t.m1, MAPI_MESSAGE, t.a), {1, 5}},
       Want{Object(fnevObjectDeleted, m3, MAPI_MESSAGE, t.a), {1, 5}},
       Want{Object(fnevObjectDeleted, t.t, MAPI_FOLDER, t.sub), {1, 7}},
       Want{Object(fnevObjectDeleted, t.m2, MAPI_MESSAGE, t.sub), {1, 7}},
       Want{Object(fnevObjectDeleted, t.sub, MAPI_FOLDER, t.a), {1, 5, 7}},
       Want{Modified(t.a, MAPI_FOLDER, t.ipm,
                     {PR_CONTENT_COUNT, PR_CONTENT_UNREAD, PR_SUBFOLDERS,
                      PR_FOLDER_CHILD_COUNT}),
            {1, 2, 5}}});
  EXPECT_EQ(LongProp(s, t.a, PR_CONTENT_COUNT), 0);
  EXPECT_EQ(LongProp(s, t.a, PR_CONTENT_UNREAD), 0);
  EXPECT_EQ(Prop(s, t.a, PR_SUBFOLDERS).value, PropVariant(false));
  EXPECT_TRUE(s.Exists(t.a).ok());
  // Emptying an empty folder changes and publishes nothing.
  ASSERT_TRUE(s.EmptyFolder(t.a, 0).ok());
  EXPECT_TRUE(h.Take().empty());
  EXPECT_TRUE(s.CheckConsistency().ok());
}

}  // namespace
}  // namespace mapinotify::server::store
