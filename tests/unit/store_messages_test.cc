// Open messages: the created / modified rows of the notification matrix,
// per-open pending changes, shared versus thread-aware contexts across
// client threads of one session, access modes and handle ownership.
#include <string>
#include <thread>
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
const ULONG kCustom = PROP_TAG(PT_LONG, 0x8001);

PropValue Subject(const std::string& s) { return PropValue{PR_SUBJECT, s}; }

// PR_SUBJECT as `caller` sees it through `handle` ("" when missing).
std::string SubjectSeen(const Store& store, const CallContext& caller,
                        Handle handle) {
  absl::StatusOr<std::vector<PropValue>> v =
      store.GetMessageProps(caller, handle, {PR_SUBJECT});
  EXPECT_TRUE(v.ok()) << v.status();
  if (!v.ok()) return "<error>";
  const std::string* s = std::get_if<std::string>(&(*v)[0].value);
  return s == nullptr ? "" : *s;
}

// Runs `fn` on a thread of its own and waits for it to finish: a client
// thread of the session making its calls.
template <typename Fn>
void OnClientThread(Fn fn) {
  std::thread thread(fn);
  thread.join();
}

TEST(StoreMessagesTest, FirstSavePublishesCreatedThenFolderCounters) {
  StoreHarness h;
  const EntryId& inbox = h.store.inbox_id();
  const EntryId& ipm = h.store.ipm_subtree_id();
  h.AdviseEntry(3, inbox);
  absl::StatusOr<Handle> m = h.store.CreateMessage(kCaller, inbox, 0);
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE(h.store.SetMessageProps(kCaller, *m, {Subject("hello")}).ok());
  EXPECT_TRUE(h.Take().empty());  // Nothing exists before the save.
  absl::StatusOr<EntryId> id = h.store.SaveChanges(kCaller, *m, 0);
  ASSERT_TRUE(id.ok()) << id.status();
  // A composed message is read: only the count changes.
  ExpectBatch(
      h.Take(),
      {Want{Object(fnevObjectCreated, *id, MAPI_MESSAGE, inbox), {1, 3}},
       Want{Modified(inbox, MAPI_FOLDER, ipm, {PR_CONTENT_COUNT}), {1, 3}}});
  EXPECT_EQ(Prop(h.store, *id, PR_SUBJECT).value,
            PropVariant(std::string("hello")));

  m = h.store.CreateMessage(kCaller, inbox, 0);
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE(
      h.store.SetMessageProps(kCaller, *m, {{PR_MESSAGE_FLAGS, int32_t{0}}})
          .ok());
  id = h.store.SaveChanges(kCaller, *m, 0);
  ASSERT_TRUE(id.ok());
  ExpectBatch(
      h.Take(),
      {Want{Object(fnevObjectCreated, *id, MAPI_MESSAGE, inbox), {1, 3}},
       Want{Modified(inbox, MAPI_FOLDER, ipm,
                     {PR_CONTENT_COUNT, PR_CONTENT_UNREAD}),
            {1, 3}}});
  EXPECT_EQ(LongProp(h.store, inbox, PR_CONTENT_COUNT), 2);
  EXPECT_EQ(LongProp(h.store, inbox, PR_CONTENT_UNREAD), 1);
}

TEST(StoreMessagesTest, LaterSavesPublishExactlyTheChangedTags) {
  StoreHarness h;
  const EntryId& inbox = h.store.inbox_id();
  const EntryId& ipm = h.store.ipm_subtree_id();
  absl::StatusOr<EntryId> id = h.store.DeliverNewMail(
      {{PR_BODY, std::string("body")}, {kCustom, int32_t{7}}});
  ASSERT_TRUE(id.ok());
  h.AdviseEntry(3, inbox);
  h.AdviseEntry(8, *id);
  const PropValue modified_before =
      Prop(h.store, *id, PR_LAST_MODIFICATION_TIME);

  absl::StatusOr<Handle> m = h.store.OpenMessage(kCaller, *id, MAPI_MODIFY);
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE(
      h.store
          .SetMessageProps(kCaller, *m, {Subject("new"), {kCustom, int32_t{7}}})
          .ok());
  ASSERT_TRUE(
      h.store
          .DeleteMessageProps(kCaller, *m, {PR_BODY, PROP_TAG(PT_LONG, 0x8555)})
          .ok());
  ASSERT_TRUE(h.store.SaveChanges(kCaller, *m, KEEP_OPEN_READWRITE).ok());
  // kCustom was set to its saved value and 0x8555 did not exist: unchanged.
  ExpectBatch(h.Take(), {Want{Object(fnevObjectModified, *id, MAPI_MESSAGE,
                                     inbox, "", "", {PR_SUBJECT, PR_BODY}),
                              {1, 3, 8}}});
  const PropValue modified_after =
      Prop(h.store, *id, PR_LAST_MODIFICATION_TIME);
  EXPECT_GE(std::get<FileTime>(modified_after.value).ticks,
            std::get<FileTime>(modified_before.value).ticks);

  // A save that changes nothing publishes nothing.
  ASSERT_TRUE(h.store.SaveChanges(kCaller, *m, KEEP_OPEN_READWRITE).ok());
  ASSERT_TRUE(h.store.SetMessageProps(kCaller, *m, {Subject("new")}).ok());
  ASSERT_TRUE(h.store.SaveChanges(kCaller, *m, KEEP_OPEN_READWRITE).ok());
  EXPECT_TRUE(h.Take().empty());

  // Marking it read through PR_MESSAGE_FLAGS also changes the folder's
  // unread count.
  ASSERT_TRUE(h.store
                  .SetMessageProps(
                      kCaller, *m,
                      {{PR_MESSAGE_FLAGS, static_cast<int32_t>(MSGFLAG_READ)}})
                  .ok());
  ASSERT_TRUE(h.store.SaveChanges(kCaller, *m, 0).ok());
  ExpectBatch(
      h.Take(),
      {Want{Object(fnevObjectModified, *id, MAPI_MESSAGE, inbox, "", "",
                   {PR_MESSAGE_FLAGS}),
            {1, 3, 8}},
       Want{Modified(inbox, MAPI_FOLDER, ipm, {PR_CONTENT_UNREAD}), {1, 3}}});
  EXPECT_EQ(LongProp(h.store, inbox, PR_CONTENT_UNREAD), 0);
}

TEST(StoreMessagesTest, EachOpenHasItsOwnPendingChanges) {
  StoreHarness h;
  absl::StatusOr<EntryId> id = h.store.DeliverNewMail({Subject("saved")});
  ASSERT_TRUE(id.ok());
  absl::StatusOr<Handle> one = h.store.OpenMessage(kCaller, *id, MAPI_MODIFY);
  absl::StatusOr<Handle> two = h.store.OpenMessage(kCaller, *id, MAPI_MODIFY);
  ASSERT_TRUE(one.ok() && two.ok());
  EXPECT_NE(*one, *two);
  ASSERT_TRUE(
      h.store
          .SetMessageProps(kCaller, *one,
                           {Subject("one"), {PR_BODY, std::string("b")}})
          .ok());
  ASSERT_TRUE(h.store.SetMessageProps(kCaller, *two, {Subject("two")}).ok());
  EXPECT_EQ(SubjectSeen(h.store, kCaller, *one), "one");
  EXPECT_EQ(SubjectSeen(h.store, kCaller, *two), "two");
  EXPECT_EQ(Prop(h.store, *id, PR_SUBJECT).value,
            PropVariant(std::string("saved")));
  h.Take();

  ASSERT_TRUE(h.store.SaveChanges(kCaller, *one, 0).ok());
  EXPECT_EQ(Prop(h.store, *id, PR_SUBJECT).value,
            PropVariant(std::string("one")));
  // The other open sees the newly saved values under its own pending ones.
  absl::StatusOr<std::vector<PropValue>> seen =
      h.store.GetMessageProps(kCaller, *two, {PR_SUBJECT, PR_BODY});
  ASSERT_TRUE(seen.ok());
  EXPECT_EQ((*seen)[0].value, PropVariant(std::string("two")));
  EXPECT_EQ((*seen)[1].value, PropVariant(std::string("b")));
  h.Take();
  ASSERT_TRUE(h.store.SaveChanges(kCaller, *two, 0).ok());
  ExpectBatch(h.Take(), {Want{Object(fnevObjectModified, *id, MAPI_MESSAGE,
                                     h.store.inbox_id(), "", "", {PR_SUBJECT}),
                              {1}}});
  EXPECT_EQ(Prop(h.store, *id, PR_SUBJECT).value,
            PropVariant(std::string("two")));
}

TEST(StoreMessagesTest, ThreadsOfASessionShareOneContextByDefault) {
  Store store{Store::Options()};
  absl::StatusOr<EntryId> id = store.DeliverNewMail({Subject("saved")});
  ASSERT_TRUE(id.ok());
  const CallContext t1{"s", 101}, t2{"s", 202};
  absl::StatusOr<Handle> m = store.OpenMessage(t1, *id, MAPI_MODIFY);
  ASSERT_TRUE(m.ok());
  OnClientThread([&] {
    EXPECT_TRUE(store.SetMessageProps(t1, *m, {Subject("from t1")}).ok());
  });
  OnClientThread([&] {
    EXPECT_EQ(SubjectSeen(store, t2, *m), "from t1");
    EXPECT_TRUE(
        store.SetMessageProps(t2, *m, {{PR_BODY, std::string("t2")}}).ok());
    // t2's save commits t1's change too: one context.
    EXPECT_TRUE(store.SaveChanges(t2, *m, KEEP_OPEN_READWRITE).ok());
  });
  EXPECT_EQ(Prop(store, *id, PR_SUBJECT).value,
            PropVariant(std::string("from t1")));
  EXPECT_EQ(Prop(store, *id, PR_BODY).value, PropVariant(std::string("t2")));
}

TEST(StoreMessagesTest, ThreadAwareOpenKeepsPendingChangesPerThread) {
  StoreHarness h;
  absl::StatusOr<EntryId> id = h.store.DeliverNewMail({Subject("saved")});
  ASSERT_TRUE(id.ok());
  h.Take();
  const CallContext t1{"s", 101}, t2{"s", 202};
  absl::StatusOr<Handle> m =
      h.store.OpenMessage(t1, *id, MAPI_MODIFY | MAPINOTIFY_THREAD_AWARE);
  ASSERT_TRUE(m.ok());
  OnClientThread([&] {
    EXPECT_TRUE(h.store.SetMessageProps(t1, *m, {Subject("from t1")}).ok());
  });
  OnClientThread([&] {
    EXPECT_EQ(SubjectSeen(h.store, t2, *m), "saved");
    EXPECT_TRUE(
        h.store.SetMessageProps(t2, *m, {{PR_BODY, std::string("t2")}}).ok());
  });
  OnClientThread([&] {
    // t1 commits only its own change.
    EXPECT_TRUE(h.store.SaveChanges(t1, *m, KEEP_OPEN_READWRITE).ok());
  });
  ExpectBatch(h.Take(),
              {Want{Object(fnevObjectModified, *id, MAPI_MESSAGE,
                           h.store.inbox_id(), "", "", {PR_SUBJECT})}});
  EXPECT_EQ(Prop(h.store, *id, PR_BODY).tag,
            PROP_TAG(PT_ERROR, PROP_ID(PR_BODY)));
  OnClientThread([&] {
    EXPECT_EQ(SubjectSeen(h.store, t2, *m), "from t1");  // Now saved.
    EXPECT_TRUE(h.store.SaveChanges(t2, *m, KEEP_OPEN_READWRITE).ok());
    EXPECT_TRUE(h.store.SetMessageProps(t2, *m, {Subject("unsaved")}).ok());
  });
  ExpectBatch(h.Take(), {Want{Object(fnevObjectModified, *id, MAPI_MESSAGE,
                                     h.store.inbox_id(), "", "", {PR_BODY})}});
  // A release by any thread of the session discards every thread's context.
  ASSERT_TRUE(h.store.Release(t1, *m).ok());
  EXPECT_EQ(ScodeOf(h.store.GetMessageProps(t2, *m, {}).status()),
            MAPI_E_NOT_FOUND);
  EXPECT_EQ(Prop(h.store, *id, PR_SUBJECT).value,
            PropVariant(std::string("from t1")));
}

TEST(StoreMessagesTest, ThreadAwareNewMessageIsCreatedByTheFirstSave) {
  StoreHarness h;
  const EntryId& inbox = h.store.inbox_id();
  const CallContext t1{"s", 1}, t2{"s", 2};
  absl::StatusOr<Handle> m =
      h.store.CreateMessage(t1, inbox, MAPINOTIFY_THREAD_AWARE);
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE(h.store.SetMessageProps(t1, *m, {Subject("t1")}).ok());
  ASSERT_TRUE(
      h.store.SetMessageProps(t2, *m, {{PR_BODY, std::string("t2")}}).ok());
  absl::StatusOr<EntryId> id = h.store.SaveChanges(t1, *m, KEEP_OPEN_READWRITE);
  ASSERT_TRUE(id.ok());
  ExpectBatch(h.Take(),
              {Want{Object(fnevObjectCreated, *id, MAPI_MESSAGE, inbox)},
               Want{Modified(inbox, MAPI_FOLDER, h.store.ipm_subtree_id(),
                             {PR_CONTENT_COUNT})}});
  absl::StatusOr<EntryId> again = h.store.SaveChanges(t2, *m, 0);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *id);
  ExpectBatch(h.Take(), {Want{Object(fnevObjectModified, *id, MAPI_MESSAGE,
                                     inbox, "", "", {PR_BODY})}});
  EXPECT_EQ(Prop(h.store, *id, PR_SUBJECT).value,
            PropVariant(std::string("t1")));
}

TEST(StoreMessagesTest, AccessModesAndKeepOpenFlags) {
  Store store{Store::Options()};
  absl::StatusOr<EntryId> id = store.DeliverNewMail({Subject("s")});
  ASSERT_TRUE(id.ok());
  absl::StatusOr<Handle> ro = store.OpenMessage(kCaller, *id, 0);
  ASSERT_TRUE(ro.ok());
  EXPECT_EQ(SubjectSeen(store, kCaller, *ro), "s");
  absl::Status denied =
      store.SetMessageProps(kCaller, *ro, {Subject("x")}).status();
  EXPECT_EQ(denied.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ScodeOf(denied), MAPI_E_NO_ACCESS);
  EXPECT_EQ(
      ScodeOf(store.DeleteMessageProps(kCaller, *ro, {PR_SUBJECT}).status()),
      MAPI_E_NO_ACCESS);
  EXPECT_EQ(ScodeOf(store.SaveChanges(kCaller, *ro, 0).status()),
            MAPI_E_NO_ACCESS);

  absl::StatusOr<Handle> best =
      store.OpenMessage(kCaller, *id, MAPI_BEST_ACCESS);
  ASSERT_TRUE(best.ok());
  EXPECT_TRUE(store.SetMessageProps(kCaller, *best, {Subject("b")}).ok());
  // KEEP_OPEN_READONLY: still readable, no longer writable.
  ASSERT_TRUE(store.SaveChanges(kCaller, *best, KEEP_OPEN_READONLY).ok());
  EXPECT_EQ(SubjectSeen(store, kCaller, *best), "b");
  EXPECT_EQ(
      ScodeOf(store.SetMessageProps(kCaller, *best, {Subject("c")}).status()),
      MAPI_E_NO_ACCESS);
  // Both KEEP_OPEN flags: read-write.
  absl::StatusOr<Handle> rw = store.OpenMessage(kCaller, *id, MAPI_MODIFY);
  ASSERT_TRUE(rw.ok());
  ASSERT_TRUE(
      store.SaveChanges(kCaller, *rw, KEEP_OPEN_READONLY | KEEP_OPEN_READWRITE)
          .ok());
  EXPECT_TRUE(store.SetMessageProps(kCaller, *rw, {Subject("d")}).ok());
  // Neither: the save releases the handle and drops nothing else.
  ASSERT_TRUE(store.SaveChanges(kCaller, *rw, FORCE_SAVE).ok());
  EXPECT_EQ(ScodeOf(store.GetMessageProps(kCaller, *rw, {}).status()),
            MAPI_E_NOT_FOUND);
  EXPECT_EQ(Prop(store, *id, PR_SUBJECT).value, PropVariant(std::string("d")));

  // Unknown flags.
  EXPECT_EQ(ScodeOf(store.OpenMessage(kCaller, *id, 0x4).status()),
            MAPI_E_UNKNOWN_FLAGS);
  EXPECT_EQ(
      ScodeOf(
          store.CreateMessage(kCaller, store.inbox_id(), MAPI_MODIFY).status()),
      MAPI_E_UNKNOWN_FLAGS);
  EXPECT_EQ(ScodeOf(store.SaveChanges(kCaller, *ro, 0x100).status()),
            MAPI_E_UNKNOWN_FLAGS);
  // Bad ids.
  EXPECT_EQ(ScodeOf(store.OpenMessage(kCaller, "bogus", 0).status()),
            MAPI_E_INVALID_ENTRYID);
}

TEST(StoreMessagesTest, HandlesBelongToTheirSessionAndAreBounded) {
  Store::Options options;
  options.max_handles_per_session = 3;
  Store store(options);
  absl::StatusOr<EntryId> id = store.DeliverNewMail({Subject("s")});
  ASSERT_TRUE(id.ok());
  const CallContext alice{"alice", 1}, bob{"bob", 1};
  absl::StatusOr<Handle> h = store.OpenMessage(alice, *id, MAPI_MODIFY);
  ASSERT_TRUE(h.ok());
  // Another session cannot use (or learn about) alice's handle.
  EXPECT_EQ(ScodeOf(store.GetMessageProps(bob, *h, {}).status()),
            MAPI_E_NOT_FOUND);
  EXPECT_EQ(ScodeOf(store.SetMessageProps(bob, *h, {Subject("x")}).status()),
            MAPI_E_NOT_FOUND);
  EXPECT_EQ(ScodeOf(store.SaveChanges(bob, *h, 0).status()), MAPI_E_NOT_FOUND);
  EXPECT_EQ(ScodeOf(store.Release(bob, *h)), MAPI_E_NOT_FOUND);
  EXPECT_EQ(ScodeOf(store.GetMessageProps(alice, 999999, {}).status()),
            MAPI_E_NOT_FOUND);
  EXPECT_EQ(ScodeOf(store.OpenMessage(CallContext{"", 1}, *id, 0).status()),
            MAPI_E_INVALID_PARAMETER);

  // The bound: three handles per session; bob's are counted apart.
  ASSERT_TRUE(store.OpenMessage(alice, *id, 0).ok());
  absl::StatusOr<Handle> third =
      store.CreateMessage(alice, store.inbox_id(), 0);
  ASSERT_TRUE(third.ok());
  absl::Status full = store.OpenMessage(alice, *id, 0).status();
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(ScodeOf(full), MAPI_E_NOT_ENOUGH_RESOURCES);
  EXPECT_TRUE(store.OpenMessage(bob, *id, 0).ok());
  ASSERT_TRUE(store.Release(alice, *third).ok());
  absl::StatusOr<Handle> fresh = store.OpenMessage(alice, *id, 0);
  ASSERT_TRUE(fresh.ok());
  EXPECT_GT(*fresh, *third);  // Never reused.

  // The session's end releases all of its handles, and only its own.
  store.ReleaseSession("alice");
  EXPECT_EQ(ScodeOf(store.GetMessageProps(alice, *h, {}).status()),
            MAPI_E_NOT_FOUND);
  for (int i = 0; i < 3; ++i)
    EXPECT_TRUE(store.OpenMessage(alice, *id, 0).ok());
  EXPECT_EQ(ScodeOf(store.OpenMessage(bob, *id, 0).status()), S_OK);
}

}  // namespace
}  // namespace mapinotify::server::store
