// Operations on saved messages and their rows of the notification matrix:
// DeleteMessages, CopyMessages, MoveMessages (new ids), SetReadFlags and
// new-mail delivery; partial completion and bad input.
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
using testing::NewMail;
using testing::Object;
using testing::Prop;
using testing::StoreHarness;
using testing::Want;

const CallContext kCaller{"session-a", 1};

// Two folders A and B under IPM_SUBTREE; A holds read message r and unread
// messages u1, u2. Connections: 5 on A, 6 on B.
struct Fixture {
  explicit Fixture(StoreHarness& h) : store(h.store) {
    ipm = store.ipm_subtree_id();
    a = store.CreateFolder(ipm, "A", "", 0).value();
    b = store.CreateFolder(ipm, "B", "", 0).value();
    r = Save(a, "r", MSGFLAG_READ);
    u1 = Save(a, "u1", 0);
    u2 = Save(a, "u2", 0);
    h.AdviseEntry(5, a);
    h.AdviseEntry(6, b);
    h.Take();
  }
  EntryId Save(const EntryId& folder, const std::string& subject, ULONG flags) {
    Handle h = store.CreateMessage(kCaller, folder, 0).value();
    EXPECT_TRUE(
        store
            .SetMessageProps(kCaller, h,
                             {{PR_SUBJECT, subject},
                              {PR_MESSAGE_FLAGS, static_cast<int32_t>(flags)}})
            .ok());
    return store.SaveChanges(kCaller, h, 0).value();
  }
  Store& store;
  EntryId ipm, a, b, r, u1, u2;
};

TEST(StoreMessageOpsTest, DeleteMessagesPublishesEachThenCountersOnce) {
  StoreHarness h;
  Fixture f(h);
  SCODE warning = -1;
  ASSERT_TRUE(h.store.DeleteMessages(f.a, {f.u1, f.r}, 0, &warning).ok());
  EXPECT_EQ(warning, S_OK);
  ExpectBatch(h.Take(),
              {Want{Object(fnevObjectDeleted, f.u1, MAPI_MESSAGE, f.a), {1, 5}},
               Want{Object(fnevObjectDeleted, f.r, MAPI_MESSAGE, f.a), {1, 5}},
               Want{Modified(f.a, MAPI_FOLDER, f.ipm,
                             {PR_CONTENT_COUNT, PR_CONTENT_UNREAD}),
                    {1, 5}}});
  EXPECT_EQ(LongProp(h.store, f.a, PR_CONTENT_COUNT), 1);
  EXPECT_EQ(LongProp(h.store, f.a, PR_CONTENT_UNREAD), 1);
  EXPECT_EQ(ScodeOf(h.store.Exists(f.u1)), MAPI_E_NOT_FOUND);
}

TEST(StoreMessageOpsTest, DeleteMessagesPartialCompletionAndBadInput) {
  StoreHarness h;
  Fixture f(h);
  const EntryId in_b = f.Save(f.b, "b", 0);
  h.Take();
  // u1 twice (counts once), an id deleted meanwhile, a message of another
  // folder: the rest is deleted, with MAPI_W_PARTIAL_COMPLETION.
  ASSERT_TRUE(h.store.DeleteMessages(f.a, {f.u1}, 0).ok());
  h.Take();
  SCODE warning = S_OK;
  ASSERT_TRUE(h.store
                  .DeleteMessages(f.a, {f.u2, f.u1, in_b, f.u2}, MESSAGE_DIALOG,
                                  &warning)
                  .ok());
  EXPECT_EQ(warning, MAPI_W_PARTIAL_COMPLETION);
  ExpectBatch(h.Take(),
              {Want{Object(fnevObjectDeleted, f.u2, MAPI_MESSAGE, f.a), {1, 5}},
               Want{Modified(f.a, MAPI_FOLDER, f.ipm,
                             {PR_CONTENT_COUNT, PR_CONTENT_UNREAD}),
                    {1, 5}}});
  EXPECT_TRUE(h.store.Exists(in_b).ok());
  // Nothing found at all: still partial completion, nothing published.
  ASSERT_TRUE(h.store.DeleteMessages(f.a, {f.u1}, 0, &warning).ok());
  EXPECT_EQ(warning, MAPI_W_PARTIAL_COMPLETION);
  EXPECT_TRUE(h.Take().empty());
  // A malformed id fails the whole call before anything is deleted.
  absl::Status bad = h.store.DeleteMessages(f.a, {f.r, "bogus"}, 0);
  EXPECT_EQ(ScodeOf(bad), MAPI_E_INVALID_ENTRYID);
  EXPECT_TRUE(h.store.Exists(f.r).ok());
  EXPECT_EQ(ScodeOf(h.store.DeleteMessages(f.a, {}, 0)),
            MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(ScodeOf(h.store.DeleteMessages(f.a, {f.r}, MESSAGE_MOVE)),
            MAPI_E_UNKNOWN_FLAGS);
  EXPECT_EQ(ScodeOf(h.store.DeleteMessages(f.r, {f.r}, 0)),
            MAPI_E_INVALID_PARAMETER);  // A message is not a folder.
  EXPECT_TRUE(h.Take().empty());
}

TEST(StoreMessageOpsTest, CopyMessagesPublishesCopiedWithOldIds) {
  StoreHarness h;
  Fixture f(h);
  ASSERT_TRUE(h.store.CopyMessages(f.a, {f.r, f.u1}, f.b, 0).ok());
  const std::vector<EntryId> copies = h.store.ListMessages(f.b).value();
  ASSERT_EQ(copies.size(), 2u);
  ExpectBatch(
      h.Take(),
      {Want{Object(fnevObjectCopied, copies[0], MAPI_MESSAGE, f.b, f.r, f.a),
            {1, 5, 6}},
       Want{Object(fnevObjectCopied, copies[1], MAPI_MESSAGE, f.b, f.u1, f.a),
            {1, 5, 6}},
       Want{Modified(f.b, MAPI_FOLDER, f.ipm,
                     {PR_CONTENT_COUNT, PR_CONTENT_UNREAD}),
            {1, 6}}});
  EXPECT_EQ(Prop(h.store, copies[1], PR_SUBJECT).value,
            PropVariant(std::string("u1")));
  EXPECT_EQ(Prop(h.store, copies[1], PR_PARENT_ENTRYID).value,
            PropVariant(Binary{f.b}));
  EXPECT_TRUE(h.store.Exists(f.r).ok());  // The originals stay.
  EXPECT_EQ(LongProp(h.store, f.a, PR_CONTENT_COUNT), 3);
  EXPECT_EQ(LongProp(h.store, f.b, PR_CONTENT_COUNT), 2);
  EXPECT_EQ(LongProp(h.store, f.b, PR_CONTENT_UNREAD), 1);
  // A copy into the same folder duplicates.
  ASSERT_TRUE(h.store.CopyMessages(f.a, {f.r}, f.a, 0).ok());
  EXPECT_EQ(LongProp(h.store, f.a, PR_CONTENT_COUNT), 4);
  EXPECT_TRUE(h.store.CheckConsistency().ok());
}

TEST(StoreMessageOpsTest, MoveMessagesGivesNewIdsAndUpdatesBothFolders) {
  StoreHarness h;
  Fixture f(h);
  absl::StatusOr<Handle> open = h.store.OpenMessage(kCaller, f.u1, MAPI_MODIFY);
  ASSERT_TRUE(open.ok());
  ASSERT_TRUE(h.store.CopyMessages(f.a, {f.u1}, f.b, MESSAGE_MOVE).ok());
  const std::vector<EntryId> moved = h.store.ListMessages(f.b).value();
  ASSERT_EQ(moved.size(), 1u);
  EXPECT_NE(moved[0], f.u1);
  ExpectBatch(
      h.Take(),
      {Want{Object(fnevObjectMoved, moved[0], MAPI_MESSAGE, f.b, f.u1, f.a),
            {1, 5, 6}},
       Want{Modified(f.a, MAPI_FOLDER, f.ipm,
                     {PR_CONTENT_COUNT, PR_CONTENT_UNREAD}),
            {1, 5}},
       Want{Modified(f.b, MAPI_FOLDER, f.ipm,
                     {PR_CONTENT_COUNT, PR_CONTENT_UNREAD}),
            {1, 6}}});
  EXPECT_EQ(ScodeOf(h.store.Exists(f.u1)), MAPI_E_NOT_FOUND);
  EXPECT_EQ(Prop(h.store, moved[0], PR_SUBJECT).value,
            PropVariant(std::string("u1")));
  EXPECT_EQ(ScodeOf(h.store.SaveChanges(kCaller, *open, 0).status()),
            MAPI_E_OBJECT_DELETED);
  EXPECT_EQ(ScodeOf(h.store.SetMessageProps(kCaller, *open, {}).status()),
            MAPI_E_OBJECT_DELETED);
  EXPECT_EQ(LongProp(h.store, f.a, PR_CONTENT_COUNT), 2);
  EXPECT_EQ(LongProp(h.store, f.b, PR_CONTENT_UNREAD), 1);

  // A move into the source itself changes nothing.
  ASSERT_TRUE(h.store.CopyMessages(f.a, {f.r}, f.a, MESSAGE_MOVE).ok());
  EXPECT_TRUE(h.Take().empty());
  EXPECT_TRUE(h.store.Exists(f.r).ok());
  // Partial completion: the moved message's old id is gone.
  SCODE warning = S_OK;
  ASSERT_TRUE(
      h.store.CopyMessages(f.a, {f.u1, f.u2}, f.b, MESSAGE_MOVE, &warning)
          .ok());
  EXPECT_EQ(warning, MAPI_W_PARTIAL_COMPLETION);
  EXPECT_EQ(h.Take().size(), 3u);  // u2 moved, two folders' counters.
  EXPECT_EQ(ScodeOf(h.store.CopyMessages(f.a, {}, f.b, 0)),
            MAPI_E_INVALID_PARAMETER);
  EXPECT_EQ(ScodeOf(h.store.CopyMessages(f.a, {f.r}, f.b, 0x8)),
            MAPI_E_UNKNOWN_FLAGS);
  EXPECT_EQ(ScodeOf(h.store.CopyMessages(f.a, {f.r}, "bogus", 0)),
            MAPI_E_INVALID_ENTRYID);
  EXPECT_TRUE(h.store.CheckConsistency().ok());
}

TEST(StoreMessageOpsTest, SetReadFlagsPublishesOnlyTheMessagesThatChanged) {
  StoreHarness h;
  Fixture f(h);
  // All of A's: r is read already.
  ASSERT_TRUE(h.store.SetReadFlags(f.a, {}, 0).ok());
  ExpectBatch(
      h.Take(),
      {Want{Object(fnevObjectModified, f.u1, MAPI_MESSAGE, f.a, "", "",
                   {PR_MESSAGE_FLAGS}),
            {1, 5}},
       Want{Object(fnevObjectModified, f.u2, MAPI_MESSAGE, f.a, "", "",
                   {PR_MESSAGE_FLAGS}),
            {1, 5}},
       Want{Modified(f.a, MAPI_FOLDER, f.ipm, {PR_CONTENT_UNREAD}), {1, 5}}});
  EXPECT_EQ(LongProp(h.store, f.a, PR_CONTENT_UNREAD), 0);
  EXPECT_EQ(LongProp(h.store, f.u1, PR_MESSAGE_FLAGS),
            static_cast<int32_t>(MSGFLAG_READ));
  // Again: nothing changes, nothing is published.
  ASSERT_TRUE(h.store.SetReadFlags(f.a, {f.u1}, SUPPRESS_RECEIPT).ok());
  EXPECT_TRUE(h.Take().empty());
  // CLEAR_READ_FLAG on one message.
  ASSERT_TRUE(h.store.SetReadFlags(f.a, {f.r}, CLEAR_READ_FLAG).ok());
  ExpectBatch(
      h.Take(),
      {Want{Object(fnevObjectModified, f.r, MAPI_MESSAGE, f.a, "", "",
                   {PR_MESSAGE_FLAGS}),
            {1, 5}},
       Want{Modified(f.a, MAPI_FOLDER, f.ipm, {PR_CONTENT_UNREAD}), {1, 5}}});
  EXPECT_EQ(LongProp(h.store, f.a, PR_CONTENT_UNREAD), 1);
  SCODE warning = S_OK;
  ASSERT_TRUE(h.store.SetReadFlags(f.b, {f.r}, 0, &warning).ok());
  EXPECT_EQ(warning, MAPI_W_PARTIAL_COMPLETION);  // r is not in B.
  EXPECT_EQ(ScodeOf(h.store.SetReadFlags(f.a, {}, 0x100)),
            MAPI_E_UNKNOWN_FLAGS);
}

TEST(StoreMessageOpsTest, DeliverNewMailPublishesCreatedCountersAndNewMail) {
  StoreHarness h;
  const EntryId& inbox = h.store.inbox_id();
  h.AdviseEntry(3, inbox);
  const EntryId other =
      h.store.CreateFolder(h.store.ipm_subtree_id(), "Other", "", 0).value();
  h.AdviseEntry(4, other);
  h.Take();
  absl::StatusOr<EntryId> id = h.store.DeliverNewMail(
      {{PR_SUBJECT, std::string("hi")},
       {PR_MESSAGE_CLASS, std::string("IPM.Note.Custom")}});
  ASSERT_TRUE(id.ok()) << id.status();
  ExpectBatch(
      h.Take(),
      {Want{Object(fnevObjectCreated, *id, MAPI_MESSAGE, inbox), {1, 3}},
       Want{Modified(inbox, MAPI_FOLDER, h.store.ipm_subtree_id(),
                     {PR_CONTENT_COUNT, PR_CONTENT_UNREAD}),
            {1, 3}},
       Want{NewMail(*id, inbox, "IPM.Note.Custom", 0), {1, 3}}});
  EXPECT_EQ(LongProp(h.store, *id, PR_MESSAGE_FLAGS), 0);
  EXPECT_TRUE(std::holds_alternative<FileTime>(
      Prop(h.store, *id, PR_MESSAGE_DELIVERY_TIME).value));
  // Defaults, and flags given by the transport.
  id = h.store.DeliverNewMail(
      {{PR_MESSAGE_FLAGS, static_cast<int32_t>(MSGFLAG_READ)}});
  ASSERT_TRUE(id.ok());
  ExpectBatch(
      h.Take(),
      {Want{Object(fnevObjectCreated, *id, MAPI_MESSAGE, inbox), {1, 3}},
       Want{Modified(inbox, MAPI_FOLDER, h.store.ipm_subtree_id(),
                     {PR_CONTENT_COUNT}),
            {1, 3}},
       Want{NewMail(*id, inbox, "IPM.Note", MSGFLAG_READ), {1, 3}}});
  // A bad value fails the whole delivery.
  EXPECT_EQ(
      ScodeOf(h.store.DeliverNewMail({{PR_ENTRYID, Binary{"x"}}}).status()),
      MAPI_E_COMPUTED);
  EXPECT_EQ(
      ScodeOf(h.store.DeliverNewMail({{PR_SUBJECT, int32_t{1}}}).status()),
      MAPI_E_INVALID_TYPE);
  EXPECT_TRUE(h.Take().empty());
  EXPECT_EQ(LongProp(h.store, inbox, PR_CONTENT_COUNT), 2);
}

}  // namespace
}  // namespace mapinotify::server::store
