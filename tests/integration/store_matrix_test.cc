// The notification matrix of the built-in store, over the wire: a real
// server, a real Session and MsgStore, sinks advised through Session::Advise
// on the store and on folders. Each row checks the whole payload of every
// notification, that one operation arrives in one OnNotify call, and that
// masks and targets filter exactly.
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

class StoreMatrix : public ::testing::Test {
 protected:
  void SetUp() override {
    f_ = OpenStoreFixture();
    ASSERT_NE(f_.store, nullptr);
    store_ = f_.store.get();
    ipm_ = store_->ipm_subtree_id();
    root_ = store_->root_folder_id();
  }

  EntryId NewFolder(const EntryId& parent, const std::string& name) {
    auto id = store_->CreateFolder(parent, name, "", 0);
    EXPECT_TRUE(id.ok()) << id.status();
    return id.ok() ? *id : EntryId();
  }

  // Creates and saves a message with `subject` in `folder` (handle
  // released by the save).
  EntryId NewMessage(const EntryId& folder, const std::string& subject) {
    auto message = store_->CreateMessage(folder, 0);
    EXPECT_TRUE(message.ok()) << message.status();
    if (!message.ok()) return EntryId();
    auto problems = (*message)->SetProps({PropValue{PR_SUBJECT, subject}});
    EXPECT_TRUE(problems.ok() && problems->empty()) << problems.status();
    auto id = (*message)->SaveChanges(0);
    EXPECT_TRUE(id.ok()) << id.status();
    return id.ok() ? *id : EntryId();
  }

  StoreFixture f_;
  MsgStore* store_ = nullptr;
  EntryId ipm_;
  EntryId root_;
};

TEST_F(StoreMatrix, FolderCreatedOnParentAndStoreWithParentCounters) {
  auto on_store =
      AdviseRecording(*f_.session, AdviseTarget::Store(), kStoreEvents);
  auto on_ipm =
      AdviseRecording(*f_.session, AdviseTarget::Entry(ipm_), kStoreEvents);
  SinkReader store_reader(on_store), ipm_reader(on_ipm);

  const EntryId a = NewFolder(ipm_, "Projects");
  ASSERT_FALSE(a.empty());
  // The IPM subtree already has subfolders: only its child count changes.
  const std::vector<ObjectEvent> created_a = {
      {fnevObjectCreated, a, MAPI_FOLDER, ipm_, {}, {}, {}},
      {fnevObjectModified,
       ipm_,
       MAPI_FOLDER,
       root_,
       {},
       {},
       {PR_FOLDER_CHILD_COUNT}}};
  ExpectObjects(store_reader.Next(2), created_a);
  ExpectObjects(ipm_reader.Next(2), created_a);

  // A's first subfolder: A's PR_SUBFOLDERS turns true and its child count
  // changes (ascending tags). The IPM subtree sees only A's change (it
  // concerns A and A's parent); the creation concerns B and A.
  const EntryId b = NewFolder(a, "2026");
  ExpectObjects(store_reader.Next(2),
                {{fnevObjectCreated, b, MAPI_FOLDER, a, {}, {}, {}},
                 {fnevObjectModified,
                  a,
                  MAPI_FOLDER,
                  ipm_,
                  {},
                  {},
                  {PR_SUBFOLDERS, PR_FOLDER_CHILD_COUNT}}});
  ExpectObjects(ipm_reader.Next(1), {{fnevObjectModified,
                                      a,
                                      MAPI_FOLDER,
                                      ipm_,
                                      {},
                                      {},
                                      {PR_SUBFOLDERS, PR_FOLDER_CHILD_COUNT}}});

  auto props = store_->GetProps(a, {PR_SUBFOLDERS, PR_FOLDER_CHILD_COUNT,
                                    PR_DISPLAY_NAME, PR_PARENT_ENTRYID});
  ASSERT_TRUE(props.ok()) << props.status();
  EXPECT_EQ(*props,
            (std::vector<PropValue>{{PR_SUBFOLDERS, true},
                                    {PR_FOLDER_CHILD_COUNT, int32_t{1}},
                                    {PR_DISPLAY_NAME, std::string("Projects")},
                                    {PR_PARENT_ENTRYID, Binary{ipm_}}}));
  EXPECT_EQ(store_reader.unread(), 0u);
}

TEST_F(StoreMatrix, MessageFirstSaveCreatedLaterSavesModifiedWithTags) {
  const EntryId a = NewFolder(ipm_, "Work");
  auto on_a =
      AdviseRecording(*f_.session, AdviseTarget::Entry(a), kStoreEvents);
  SinkReader reader(on_a);

  auto message = store_->CreateMessage(a, 0);
  ASSERT_TRUE(message.ok()) << message.status();
  Message& m = **message;
  EXPECT_EQ(m.entry_id(), "");
  ASSERT_TRUE(m.SetProps({{PR_SUBJECT, std::string("draft")}}).ok());
  auto id = m.SaveChanges(KEEP_OPEN_READWRITE);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(m.entry_id(), *id);
  // A composed message starts read: only the content count changes.
  ExpectObjects(
      reader.Next(2),
      {{fnevObjectCreated, *id, MAPI_MESSAGE, a, {}, {}, {}},
       {fnevObjectModified, a, MAPI_FOLDER, ipm_, {}, {}, {PR_CONTENT_COUNT}}});

  ASSERT_TRUE(m.SetProps({{PR_BODY, std::string("text")},
                          {PR_SUBJECT, std::string("final")}})
                  .ok());
  ASSERT_TRUE(m.SaveChanges(KEEP_OPEN_READWRITE).ok());
  ExpectObjects(reader.Next(1), {{fnevObjectModified,
                                  *id,
                                  MAPI_MESSAGE,
                                  a,
                                  {},
                                  {},
                                  {PR_SUBJECT, PR_BODY}}});

  // Unread now: the message's flags and the folder's unread count.
  ASSERT_TRUE(m.SetProps({{PR_MESSAGE_FLAGS, int32_t{0}}}).ok());
  ASSERT_TRUE(m.SaveChanges(KEEP_OPEN_READWRITE).ok());
  ExpectObjects(
      reader.Next(2),
      {{fnevObjectModified, *id, MAPI_MESSAGE, a, {}, {}, {PR_MESSAGE_FLAGS}},
       {fnevObjectModified,
        a,
        MAPI_FOLDER,
        ipm_,
        {},
        {},
        {PR_CONTENT_UNREAD}}});

  // A save that changes nothing publishes nothing; a deletion of a property
  // lists it.
  ASSERT_TRUE(m.SaveChanges(KEEP_OPEN_READWRITE).ok());
  ASSERT_TRUE(m.DeleteProps({PR_BODY}).ok());
  ASSERT_TRUE(m.SaveChanges(KEEP_OPEN_READWRITE).ok());
  ExpectObjects(
      reader.Next(1),
      {{fnevObjectModified, *id, MAPI_MESSAGE, a, {}, {}, {PR_BODY}}});

  auto counts = store_->GetProps(a, {PR_CONTENT_COUNT, PR_CONTENT_UNREAD});
  ASSERT_TRUE(counts.ok()) << counts.status();
  EXPECT_EQ(*counts, (std::vector<PropValue>{{PR_CONTENT_COUNT, int32_t{1}},
                                             {PR_CONTENT_UNREAD, int32_t{1}}}));
  EXPECT_EQ(reader.unread(), 0u);
}

TEST_F(StoreMatrix, MessagesDeletedMovedCopied) {
  const EntryId a = NewFolder(ipm_, "A");
  const EntryId b = NewFolder(ipm_, "B");
  const EntryId m1 = NewMessage(a, "one");
  const EntryId m2 = NewMessage(a, "two");
  const EntryId m3 = NewMessage(a, "three");
  auto on_a =
      AdviseRecording(*f_.session, AdviseTarget::Entry(a), kStoreEvents);
  auto on_b =
      AdviseRecording(*f_.session, AdviseTarget::Entry(b), kStoreEvents);
  auto on_store =
      AdviseRecording(*f_.session, AdviseTarget::Store(), kStoreEvents);
  SinkReader ra(on_a), rb(on_b), rs(on_store);

  // Deleted: the message (entry id, parent), then the folder's count.
  SCODE warning = -1;
  ASSERT_TRUE(store_->DeleteMessages(a, {m1}, 0, &warning).ok());
  EXPECT_EQ(warning, S_OK);
  const std::vector<ObjectEvent> deleted = {
      {fnevObjectDeleted, m1, MAPI_MESSAGE, a, {}, {}, {}},
      {fnevObjectModified, a, MAPI_FOLDER, ipm_, {}, {}, {PR_CONTENT_COUNT}}};
  ExpectObjects(ra.Next(2), deleted);
  ExpectObjects(rs.Next(2), deleted);

  // Moved: a new id in the new parent, the old id and old parent; then the
  // source's and the destination's counts. Each folder sees the move and
  // its own count.
  ASSERT_TRUE(store_->CopyMessages(a, {m2}, b, MESSAGE_MOVE).ok());
  std::vector<Seen> moved = rs.Next(3);
  ASSERT_EQ(moved.size(), 3u);
  const EntryId new2 = moved[0].notification->object()->entry_id;
  EXPECT_FALSE(new2.empty());
  EXPECT_NE(new2, m2);
  const ObjectEvent move = {fnevObjectMoved, new2, MAPI_MESSAGE, b, m2, a, {}};
  const ObjectEvent a_count = {fnevObjectModified, a, MAPI_FOLDER, ipm_, {}, {},
                               {PR_CONTENT_COUNT}};
  const ObjectEvent b_count = {fnevObjectModified, b, MAPI_FOLDER, ipm_, {}, {},
                               {PR_CONTENT_COUNT}};
  ExpectObjects(moved, {move, a_count, b_count});
  ExpectObjects(ra.Next(2), {move, a_count});
  ExpectObjects(rb.Next(2), {move, b_count});
  // The old id is gone, the new one is in B with the message's properties.
  EXPECT_EQ(ScodeOf(store_->GetProps(m2, {PR_SUBJECT}).status()),
            MAPI_E_NOT_FOUND);
  auto moved_props = store_->GetProps(new2, {PR_SUBJECT, PR_PARENT_ENTRYID});
  ASSERT_TRUE(moved_props.ok()) << moved_props.status();
  EXPECT_EQ(*moved_props,
            (std::vector<PropValue>{{PR_SUBJECT, std::string("two")},
                                    {PR_PARENT_ENTRYID, Binary{b}}}));

  // Copied: the copy's id and parent, the original's id and parent; only
  // the destination's count changes.
  ASSERT_TRUE(store_->CopyMessages(a, {m3}, b, 0).ok());
  std::vector<Seen> copied = rs.Next(2);
  ASSERT_EQ(copied.size(), 2u);
  const EntryId new3 = copied[0].notification->object()->entry_id;
  EXPECT_NE(new3, m3);
  const ObjectEvent copy = {fnevObjectCopied, new3, MAPI_MESSAGE, b, m3, a, {}};
  ExpectObjects(copied, {copy, b_count});
  ExpectObjects(ra.Next(1), {copy});
  ExpectObjects(rb.Next(2), {copy, b_count});
  EXPECT_TRUE(store_->GetProps(m3, {PR_SUBJECT}).ok());

  // Partial completion: a gone id is skipped, the rest processed.
  ASSERT_TRUE(store_->DeleteMessages(a, {m1, m3}, 0, &warning).ok());
  EXPECT_EQ(warning, MAPI_W_PARTIAL_COMPLETION);
  ExpectObjects(
      ra.Next(2),
      {{fnevObjectDeleted, m3, MAPI_MESSAGE, a, {}, {}, {}}, a_count});
  EXPECT_EQ(rb.unread(), 0u);
}

TEST_F(StoreMatrix, NewMailOnTheStoreWithCreatedAndModified) {
  auto on_store =
      AdviseRecording(*f_.session, AdviseTarget::Store(), kStoreEvents);
  auto new_mail_only =
      AdviseRecording(*f_.session, AdviseTarget::Store(), fnevNewMail);
  SinkReader rs(on_store), rn(new_mail_only);
  const EntryId inbox = store_->inbox_id();

  auto id = store_->DeliverNewMail(
      {{PR_SUBJECT, std::string("hello")},
       {PR_MESSAGE_CLASS, std::string("IPM.Note.Test")}});
  ASSERT_TRUE(id.ok()) << id.status();

  std::vector<Seen> seen = rs.Next(3);
  ASSERT_EQ(seen.size(), 3u);
  ExpectObject(seen[0],
               {fnevObjectCreated, *id, MAPI_MESSAGE, inbox, {}, {}, {}});
  // Delivered unread: both counts change.
  ExpectObject(seen[1], {fnevObjectModified,
                         inbox,
                         MAPI_FOLDER,
                         ipm_,
                         {},
                         {},
                         {PR_CONTENT_COUNT, PR_CONTENT_UNREAD}});
  for (const Seen& s : seen) EXPECT_EQ(s.batch_size, 3u);
  const Notification& mail = *seen[2].notification;
  EXPECT_EQ(mail.event_type, fnevNewMail);
  ASSERT_NE(mail.new_mail(), nullptr);
  EXPECT_EQ(mail.new_mail()->entry_id, *id);
  EXPECT_EQ(mail.new_mail()->parent_id, inbox);
  EXPECT_EQ(mail.new_mail()->message_class, "IPM.Note.Test");
  EXPECT_EQ(mail.new_mail()->message_flags, 0u);
  EXPECT_EQ(mail.new_mail()->flags, 0u);

  // The new-mail-only connection gets exactly the fnevNewMail, alone.
  std::vector<Seen> only = rn.Next(1);
  ASSERT_EQ(only.size(), 1u);
  EXPECT_EQ(only[0].notification->event_type, fnevNewMail);
  EXPECT_EQ(only[0].sequence, seen[2].sequence);
  EXPECT_EQ(only[0].batch_size, 1u);
}

TEST_F(StoreMatrix, FolderCopiedMovedDeletedAndModified) {
  const EntryId a = NewFolder(ipm_, "Source");
  const EntryId b = NewFolder(ipm_, "Dest");
  NewMessage(a, "inside");
  auto on_store =
      AdviseRecording(*f_.session, AdviseTarget::Store(), kStoreEvents);
  SinkReader rs(on_store);

  // Copied: the copy (old id and parent set), the copied message created in
  // it, then the destination's counters.
  auto c = store_->CopyFolder(ipm_, a, b, "Copy", 0);
  ASSERT_TRUE(c.ok()) << c.status();
  std::vector<Seen> copied = rs.Next(3);
  ASSERT_EQ(copied.size(), 3u);
  const EntryId copied_message = copied[1].notification->object()->entry_id;
  ExpectObjects(
      copied,
      {{fnevObjectCopied, *c, MAPI_FOLDER, b, a, ipm_, {}},
       {fnevObjectCreated, copied_message, MAPI_MESSAGE, *c, {}, {}, {}},
       {fnevObjectModified,
        b,
        MAPI_FOLDER,
        ipm_,
        {},
        {},
        {PR_SUBFOLDERS, PR_FOLDER_CHILD_COUNT}}});

  // Moved (and renamed): keeps its id; the old and new parents' counters.
  auto moved = store_->CopyFolder(b, *c, ipm_, "Moved", FOLDER_MOVE);
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(*moved, *c);
  ExpectObjects(rs.Next(3),
                {{fnevObjectMoved, *c, MAPI_FOLDER, ipm_, *c, b, {}},
                 {fnevObjectModified,
                  b,
                  MAPI_FOLDER,
                  ipm_,
                  {},
                  {},
                  {PR_SUBFOLDERS, PR_FOLDER_CHILD_COUNT}},
                 {fnevObjectModified,
                  ipm_,
                  MAPI_FOLDER,
                  root_,
                  {},
                  {},
                  {PR_FOLDER_CHILD_COUNT}}});

  // Modified: folder properties change at once, with the changed tags.
  auto problems = store_->SetProps(*c, {{PR_COMMENT, std::string("note")}});
  ASSERT_TRUE(problems.ok()) << problems.status();
  EXPECT_TRUE(problems->empty());
  ExpectObjects(
      rs.Next(1),
      {{fnevObjectModified, *c, MAPI_FOLDER, ipm_, {}, {}, {PR_COMMENT}}});

  // Deleted with its message: the message, the folder, the parent's count.
  ASSERT_TRUE(store_->DeleteFolder(ipm_, *c, DEL_MESSAGES).ok());
  ExpectObjects(
      rs.Next(3),
      {{fnevObjectDeleted, copied_message, MAPI_MESSAGE, *c, {}, {}, {}},
       {fnevObjectDeleted, *c, MAPI_FOLDER, ipm_, {}, {}, {}},
       {fnevObjectModified,
        ipm_,
        MAPI_FOLDER,
        root_,
        {},
        {},
        {PR_FOLDER_CHILD_COUNT}}});
  EXPECT_EQ(rs.unread(), 0u);
}

TEST_F(StoreMatrix, TargetsAndMasksFilterExactly) {
  const EntryId a = NewFolder(ipm_, "Watched");
  const EntryId b = NewFolder(ipm_, "Busy");
  auto on_a =
      AdviseRecording(*f_.session, AdviseTarget::Entry(a), kStoreEvents);
  auto on_b =
      AdviseRecording(*f_.session, AdviseTarget::Entry(b), kStoreEvents);
  auto no_modified = AdviseRecording(*f_.session, AdviseTarget::Store(),
                                     kStoreEvents & ~fnevObjectModified);
  SinkReader ra(on_a), rb(on_b), rn(no_modified);

  // Work in B only: a message, a folder property, a subfolder created and
  // deleted.
  const EntryId in_b = NewMessage(b, "b's");
  ASSERT_TRUE(store_->SetProps(b, {{PR_COMMENT, std::string("busy")}}).ok());
  const EntryId sub = NewFolder(b, "sub");
  ASSERT_TRUE(store_->DeleteFolder(b, sub, 0).ok());
  // Then one operation in A: the first thing A's connection ever sees.
  const EntryId in_a = NewMessage(a, "a's");
  ExpectObjects(
      ra.Next(2),
      {{fnevObjectCreated, in_a, MAPI_MESSAGE, a, {}, {}, {}},
       {fnevObjectModified, a, MAPI_FOLDER, ipm_, {}, {}, {PR_CONTENT_COUNT}}});

  // B's connection saw all of B's work and nothing of A's: the next thing
  // after its 7 notifications is another change of B.
  const ObjectEvent b_count = {fnevObjectModified, b, MAPI_FOLDER, ipm_, {}, {},
                               {PR_CONTENT_COUNT}};
  const ObjectEvent b_subfolders = {fnevObjectModified,
                                    b,
                                    MAPI_FOLDER,
                                    ipm_,
                                    {},
                                    {},
                                    {PR_SUBFOLDERS, PR_FOLDER_CHILD_COUNT}};
  ExpectObjects(
      rb.Next(2),
      {{fnevObjectCreated, in_b, MAPI_MESSAGE, b, {}, {}, {}}, b_count});
  ExpectObjects(
      rb.Next(1),
      {{fnevObjectModified, b, MAPI_FOLDER, ipm_, {}, {}, {PR_COMMENT}}});
  ExpectObjects(
      rb.Next(2),
      {{fnevObjectCreated, sub, MAPI_FOLDER, b, {}, {}, {}}, b_subfolders});
  ExpectObjects(
      rb.Next(2),
      {{fnevObjectDeleted, sub, MAPI_FOLDER, b, {}, {}, {}}, b_subfolders});
  ASSERT_TRUE(store_->SetProps(b, {{PR_COMMENT, std::string("done")}}).ok());
  ExpectObjects(
      rb.Next(1),
      {{fnevObjectModified, b, MAPI_FOLDER, ipm_, {}, {}, {PR_COMMENT}}});

  // The mask without fnevObjectModified: every other event, in order, and
  // never a modified one (each batch arrives without its modified part).
  const EntryId marker = NewFolder(a, "marker");
  std::vector<Seen> seen = rn.Next(5);
  ASSERT_EQ(seen.size(), 5u);
  const std::vector<ObjectEvent> want = {
      {fnevObjectCreated, in_b, MAPI_MESSAGE, b, {}, {}, {}},
      {fnevObjectCreated, sub, MAPI_FOLDER, b, {}, {}, {}},
      {fnevObjectDeleted, sub, MAPI_FOLDER, b, {}, {}, {}},
      {fnevObjectCreated, in_a, MAPI_MESSAGE, a, {}, {}, {}},
      {fnevObjectCreated, marker, MAPI_FOLDER, a, {}, {}, {}}};
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE(absl::StrCat("no-modified notification ", i));
    ExpectObject(seen[i], want[i]);
    EXPECT_EQ(seen[i].batch_size, 1u);
  }
  EXPECT_EQ(rn.unread(), 0u);
}

}  // namespace
}  // namespace mapinotify::testing
