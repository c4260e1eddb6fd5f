// Cancel of the store's long operations: a progress object answers
// MAPI_E_USER_CANCEL once the value passes 10%, 25%, 50% or 90% of its
// range. The same operation runs to completion on an identical store; the
// cancelled one must then have done a prefix of the full one's items —
// each done item whole (a copy has every property of its source) and
// notified once, in the full operation's order, nothing else changed or
// notified but the counters of the folders whose contents changed, at the
// end — with the store consistent, the counters agreeing with the
// listings, MAPI_W_PARTIAL_COMPLETION, and no progress call after the
// cancel.
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "mapinotify/mapi.h"
#include "mapinotify/status.h"
#include "server/store/store.h"
#include "server/store/store_objects.h"
#include "server/store/store_testing.h"
#include "tests/unit/store_progress_testing.h"

namespace mapinotify::server::store {
namespace {

using testing::ExpectProgressProperties;
using testing::RecordingProgress;
using testing::StoreHarness;

const CallContext kCaller{"session-a", 1};
const ULONG kCounterTags[] = {PR_CONTENT_COUNT, PR_CONTENT_UNREAD,
                              PR_SUBFOLDERS, PR_FOLDER_CHILD_COUNT};
const ULONG PR_TEST_NUMBER = PROP_TAG(PT_LONG, 0x6701);

EntryId Save(Store& store, const EntryId& folder, const std::string& subject,
             int number) {
  Handle h = store.CreateMessage(kCaller, folder, 0).value();
  const int32_t flags = number % 2 == 0 ? MSGFLAG_READ : 0;
  EXPECT_TRUE(store
                  .SetMessageProps(kCaller, h,
                                   {{PR_SUBJECT, subject},
                                    {PR_MESSAGE_FLAGS, flags},
                                    {PR_BODY, "body of " + subject},
                                    {PR_TEST_NUMBER, int32_t{number}}})
                  .ok());
  return store.SaveChanges(kCaller, h, 0).value();
}

EntryId Folder(Store& store, const EntryId& parent, const std::string& name) {
  return store.CreateFolder(parent, name, "about " + name, 0).value();
}

// The entry ids an operation needs, as a builder made them in one store.
struct Ids {
  EntryId ipm, a, b;
  std::vector<EntryId> messages;
};

// IPM_SUBTREE / A (20 messages), B (empty).
Ids BuildFlat(Store& store) {
  Ids ids;
  ids.ipm = store.ipm_subtree_id();
  ids.a = Folder(store, ids.ipm, "A");
  ids.b = Folder(store, ids.ipm, "B");
  for (int i = 0; i < 20; ++i) {
    ids.messages.push_back(Save(store, ids.a, "m" + std::to_string(i), i));
  }
  return ids;
}

// IPM_SUBTREE / A (6 messages) with S1 (4) / S1a (3) / S1a1 (2), S2 (3),
// S3 (5); IPM_SUBTREE / B (empty). Every name and subject unique.
Ids BuildTree(Store& store) {
  Ids ids;
  ids.ipm = store.ipm_subtree_id();
  ids.a = Folder(store, ids.ipm, "A");
  ids.b = Folder(store, ids.ipm, "B");
  int n = 0;
  auto fill = [&](const EntryId& folder, int count) {
    for (int i = 0; i < count; ++i, ++n) {
      Save(store, folder, "t" + std::to_string(n), n);
    }
  };
  fill(ids.a, 6);
  const EntryId s1 = Folder(store, ids.a, "S1");
  fill(s1, 4);
  const EntryId s1a = Folder(store, s1, "S1a");
  fill(s1a, 3);
  fill(Folder(store, s1a, "S1a1"), 2);
  fill(Folder(store, ids.a, "S2"), 3);
  fill(Folder(store, ids.a, "S3"), 5);
  return ids;
}

// Every folder and message of a store, by entry id.
struct Object {
  std::string label;                // "F:" + display name or "M:" + subject.
  std::vector<PropValue> props;     // Those a copy must have too.
  std::vector<PropValue> counters;  // Folders: kCounterTags' values.
};
using Snapshot = std::map<EntryId, Object>;

Snapshot TakeSnapshot(const Store& store) {
  Snapshot out;
  std::vector<EntryId> stack = {store.root_folder_id()};
  auto props_of = [&](const EntryId& id) {
    std::vector<PropValue> kept;
    const std::vector<PropValue> all = store.GetProps(id, {}).value();
    for (const PropValue& v : all) {
      if (!IsComputedProp(v.tag)) kept.push_back(v);
    }
    return kept;
  };
  while (!stack.empty()) {
    const EntryId folder = stack.back();
    stack.pop_back();
    Object& f = out[folder];
    const PropValue name = testing::Prop(store, folder, PR_DISPLAY_NAME);
    const std::string* text = std::get_if<std::string>(&name.value);
    f.label = "F:" + (text == nullptr ? std::string() : *text);
    f.props = props_of(folder);
    f.counters =
        store
            .GetProps(folder, std::vector<ULONG>(std::begin(kCounterTags),
                                                 std::end(kCounterTags)))
            .value();
    const std::vector<EntryId> messages = store.ListMessages(folder).value();
    for (const EntryId& m : messages) {
      Object& message = out[m];
      message.label = "M:" + std::get<std::string>(
                                 testing::Prop(store, m, PR_SUBJECT).value);
      message.props = props_of(m);
    }
    const std::vector<EntryId> subfolders =
        store.ListSubfolders(folder).value();
    for (const EntryId& s : subfolders) {
      stack.push_back(s);
    }
  }
  return out;
}

// The properties of each label (unique in a store built above).
std::map<std::string, std::vector<PropValue>> PropsByLabel(
    const Snapshot& snapshot) {
  std::map<std::string, std::vector<PropValue>> out;
  for (const auto& [id, object] : snapshot) {
    EXPECT_TRUE(out.emplace(object.label, object.props).second)
        << "label not unique: " << object.label;
  }
  return out;
}

// Every folder's counters agree with what the listings say.
void ExpectCountersMatchListings(const Store& store, const Snapshot& after) {
  for (const auto& [id, object] : after) {
    if (object.label.rfind("F:", 0) != 0) continue;
    SCOPED_TRACE(object.label);
    const std::vector<EntryId> messages = store.ListMessages(id).value();
    const std::vector<EntryId> subfolders = store.ListSubfolders(id).value();
    int32_t unread = 0;
    for (const EntryId& m : messages) {
      if ((testing::LongProp(store, m, PR_MESSAGE_FLAGS) & MSGFLAG_READ) == 0) {
        ++unread;
      }
    }
    EXPECT_EQ(testing::LongProp(store, id, PR_CONTENT_COUNT),
              static_cast<int32_t>(messages.size()));
    EXPECT_EQ(testing::LongProp(store, id, PR_CONTENT_UNREAD), unread);
    EXPECT_EQ(testing::Prop(store, id, PR_SUBFOLDERS).value,
              PropVariant(!subfolders.empty()));
    EXPECT_EQ(testing::LongProp(store, id, PR_FOLDER_CHILD_COUNT),
              static_cast<int32_t>(subfolders.size()));
  }
}

bool IsCountersChange(const v1::Notification& n) {
  return n.event_type() == v1::fnevObjectModified &&
         n.object().object_type() == MAPI_FOLDER;
}

// "deleted M:t3", "copied F:A", "created M:t7", "moved M:m2": what the
// notification did, to which object (labels of `before`, or of `after` for
// created objects).
std::string Describe(const v1::Notification& n, const Snapshot& before,
                     const Snapshot& after) {
  const v1::ObjectNotification& o = n.object();
  auto label = [](const Snapshot& s, const std::string& id) {
    auto it = s.find(id);
    return it == s.end() ? std::string("?") : it->second.label;
  };
  switch (n.event_type()) {
    case v1::fnevObjectDeleted:
      return "deleted " + label(before, o.entry_id());
    case v1::fnevObjectCopied:
      return "copied " + label(before, o.old_id());
    case v1::fnevObjectMoved:
      return "moved " + label(before, o.old_id());
    case v1::fnevObjectCreated:
      return "created " + label(after, o.entry_id());
    default:
      return "other " + n.ShortDebugString();
  }
}

using OpFn = absl::Status (*)(Store&, const Ids&, SCODE*, MapiProgress*);

absl::Status CopyMessagesOp(Store& s, const Ids& ids, SCODE* w,
                            MapiProgress* p) {
  return s.CopyMessages(ids.a, ids.messages, ids.b, 0, w, p);
}
absl::Status MoveMessagesOp(Store& s, const Ids& ids, SCODE* w,
                            MapiProgress* p) {
  return s.CopyMessages(ids.a, ids.messages, ids.b, MESSAGE_MOVE, w, p);
}
absl::Status DeleteMessagesOp(Store& s, const Ids& ids, SCODE* w,
                              MapiProgress* p) {
  return s.DeleteMessages(ids.a, ids.messages, 0, w, p);
}
absl::Status CopyFolderOp(Store& s, const Ids& ids, SCODE* w, MapiProgress* p) {
  return s.CopyFolder(ids.ipm, ids.a, ids.b, "", COPY_SUBFOLDERS, w, p)
      .status();
}
absl::Status DeleteFolderOp(Store& s, const Ids& ids, SCODE* w,
                            MapiProgress* p) {
  return s.DeleteFolder(ids.ipm, ids.a, DEL_FOLDERS | DEL_MESSAGES, w, p);
}
absl::Status EmptyFolderOp(Store& s, const Ids& ids, SCODE* w,
                           MapiProgress* p) {
  return s.EmptyFolder(ids.a, 0, w, p);
}

struct Case {
  const char* name;
  Ids (*build)(Store&);
  OpFn op;
};

const Case kCases[] = {
    {"CopyMessages", BuildFlat, CopyMessagesOp},
    {"MoveMessages", BuildFlat, MoveMessagesOp},
    {"DeleteMessages", BuildFlat, DeleteMessagesOp},
    {"CopyFolder", BuildTree, CopyFolderOp},
    {"DeleteFolder", BuildTree, DeleteFolderOp},
    {"EmptyFolder", BuildTree, EmptyFolderOp},
};

// The item notifications (descriptions) and the trailing counters changes
// ({label, tags}) of one batch; fails when a counters change is not at the
// end or the batch is not one batch.
struct Split {
  std::vector<std::string> items;
  std::set<std::pair<std::string, std::vector<ULONG>>> counters;
};
Split SplitBatch(const std::vector<v1::Delivered>& batch,
                 const Snapshot& before, const Snapshot& after) {
  Split out;
  for (size_t i = 0; i < batch.size(); ++i) {
    EXPECT_EQ(batch[i].ends_batch(), i + 1 == batch.size());
    if (i > 0) {
      EXPECT_EQ(batch[i].sequence(), batch[i - 1].sequence() + 1);
    }
    const v1::Notification& n = batch[i].notification();
    if (IsCountersChange(n)) {
      auto it = before.find(n.object().entry_id());
      const std::string label = it == before.end() ? "?" : it->second.label;
      const std::vector<ULONG> tags(n.object().prop_tags().begin(),
                                    n.object().prop_tags().end());
      EXPECT_TRUE(out.counters.emplace(label, tags).second)
          << "two counters changes for " << label;
      continue;
    }
    EXPECT_TRUE(out.counters.empty()) << "an item after a counters change";
    out.items.push_back(Describe(n, before, after));
  }
  return out;
}

// The counters changes a store should have published: every folder alive
// before and after whose counters differ, with the tags that differ.
std::set<std::pair<std::string, std::vector<ULONG>>> ExpectedCounters(
    const Snapshot& before, const Snapshot& after) {
  std::set<std::pair<std::string, std::vector<ULONG>>> out;
  for (const auto& [id, object] : before) {
    if (object.counters.empty()) continue;
    auto it = after.find(id);
    if (it == after.end()) continue;
    std::vector<ULONG> changed;
    for (size_t i = 0; i < object.counters.size(); ++i) {
      if (object.counters[i] != it->second.counters[i]) {
        changed.push_back(kCounterTags[i]);
      }
    }
    if (!changed.empty()) out.emplace(object.label, changed);
  }
  return out;
}

void CheckCancel(const Case& c, double fraction) {
  SCOPED_TRACE(::testing::Message()
               << c.name << " cancelled at " << fraction * 100 << "%");
  StoreHarness full_h, cut_h;
  const Ids full_ids = c.build(full_h.store);
  const Ids cut_ids = c.build(cut_h.store);
  full_h.Take();
  cut_h.Take();
  const Snapshot full_before = TakeSnapshot(full_h.store);
  const Snapshot cut_before = TakeSnapshot(cut_h.store);
  const auto props = PropsByLabel(cut_before);

  ASSERT_TRUE(c.op(full_h.store, full_ids, nullptr, nullptr).ok());
  const Snapshot full_after = TakeSnapshot(full_h.store);
  const Split full = SplitBatch(full_h.Take(), full_before, full_after);

  RecordingProgress progress;
  progress.CancelAtFraction(fraction);
  SCODE warning = -1;
  ASSERT_TRUE(c.op(cut_h.store, cut_ids, &warning, &progress).ok());
  const Snapshot cut_after = TakeSnapshot(cut_h.store);
  const Split cut = SplitBatch(cut_h.Take(), cut_before, cut_after);

  EXPECT_TRUE(progress.cancelled());
  EXPECT_EQ(warning, MAPI_W_PARTIAL_COMPLETION);
  ExpectProgressProperties(progress.calls(), 1, 1000, /*complete=*/false);
  EXPECT_TRUE(cut_h.store.CheckConsistency().ok());
  ExpectCountersMatchListings(cut_h.store, cut_after);

  // A prefix of the full operation's items, in its order.
  ASSERT_GT(cut.items.size(), 0u);
  ASSERT_LT(cut.items.size(), full.items.size());
  EXPECT_EQ(cut.items,
            std::vector<std::string>(full.items.begin(),
                                     full.items.begin() + cut.items.size()));
  // Each done item whole, nothing else changed.
  size_t added = 0, removed = 0;
  for (const auto& [id, object] : cut_after) {
    if (cut_before.count(id) == 0) ++added;
  }
  for (const auto& [id, object] : cut_before) {
    if (cut_after.count(id) == 0) ++removed;
  }
  size_t notified_added = 0, notified_removed = 0;
  for (const std::string& item : cut.items) {
    if (item.rfind("deleted", 0) == 0) {
      ++notified_removed;
    } else if (item.rfind("moved", 0) == 0) {
      ++notified_added;
      ++notified_removed;
    } else {
      ++notified_added;
    }
  }
  EXPECT_EQ(added, notified_added);
  EXPECT_EQ(removed, notified_removed);
  // Every object added is a whole copy of its source (same label).
  for (const auto& [id, object] : cut_after) {
    if (cut_before.count(id) != 0) continue;
    ASSERT_EQ(props.count(object.label), 1u) << object.label;
    EXPECT_EQ(object.props, props.at(object.label)) << object.label;
  }
  // The counters of exactly the folders whose counters changed.
  EXPECT_EQ(cut.counters, ExpectedCounters(cut_before, cut_after));
  EXPECT_EQ(full.counters, ExpectedCounters(full_before, full_after));
}

TEST(StoreProgressCancelTest, CancelLeavesADonePrefixAndAConsistentStore) {
  for (const Case& c : kCases) {
    for (double fraction : {0.1, 0.25, 0.5, 0.9}) CheckCancel(c, fraction);
  }
}

TEST(StoreProgressCancelTest, WithoutCancelNotificationsAreUnchanged) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    StoreHarness plain_h, reported_h;
    const Ids plain_ids = c.build(plain_h.store);
    const Ids reported_ids = c.build(reported_h.store);
    plain_h.Take();
    reported_h.Take();
    const Snapshot plain_before = TakeSnapshot(plain_h.store);
    const Snapshot reported_before = TakeSnapshot(reported_h.store);
    SCODE plain_warning = -1, reported_warning = -1;
    ASSERT_TRUE(c.op(plain_h.store, plain_ids, &plain_warning, nullptr).ok());
    RecordingProgress progress;
    ASSERT_TRUE(
        c.op(reported_h.store, reported_ids, &reported_warning, &progress)
            .ok());
    EXPECT_EQ(plain_warning, S_OK);
    EXPECT_EQ(reported_warning, S_OK);
    ExpectProgressProperties(progress.calls(), 1, 1000, /*complete=*/true);
    const Snapshot plain_after = TakeSnapshot(plain_h.store);
    const Snapshot reported_after = TakeSnapshot(reported_h.store);
    const Split plain = SplitBatch(plain_h.Take(), plain_before, plain_after);
    const Split reported =
        SplitBatch(reported_h.Take(), reported_before, reported_after);
    EXPECT_EQ(plain.items, reported.items);
    EXPECT_EQ(plain.counters, reported.counters);
    EXPECT_FALSE(plain.items.empty());
  }
}

TEST(StoreProgressCancelTest, CancelAtTheLastItemIsNotPartial) {
  // Answering MAPI_E_USER_CANCEL to the completion leaves nothing undone.
  StoreHarness h;
  const Ids ids = BuildFlat(h.store);
  RecordingProgress progress;
  progress.CancelAtFraction(1.0);
  SCODE warning = -1;
  ASSERT_TRUE(DeleteMessagesOp(h.store, ids, &warning, &progress).ok());
  EXPECT_TRUE(progress.cancelled());
  EXPECT_EQ(warning, S_OK);
  EXPECT_TRUE(h.store.ListMessages(ids.a).value().empty());
}

// Folders and messages in `folder`'s subtree, itself included.
size_t CountSubtree(const Store& store, const EntryId& folder) {
  size_t count = 1 + store.ListMessages(folder).value().size();
  const std::vector<EntryId> subfolders = store.ListSubfolders(folder).value();
  for (const EntryId& s : subfolders) {
    count += CountSubtree(store, s);
  }
  return count;
}

TEST(StoreProgressCancelTest, CancelledCopyFolderReturnsThePartialCopy) {
  StoreHarness h;
  const Ids ids = BuildTree(h.store);
  RecordingProgress progress;
  progress.CancelAtFraction(0.5);
  SCODE warning = -1;
  absl::StatusOr<EntryId> copy = h.store.CopyFolder(
      ids.ipm, ids.a, ids.b, "", COPY_SUBFOLDERS, &warning, &progress);
  ASSERT_TRUE(copy.ok()) << copy.status();
  EXPECT_EQ(warning, MAPI_W_PARTIAL_COMPLETION);
  EXPECT_EQ(h.store.ListSubfolders(ids.b).value(), std::vector<EntryId>{*copy});
  EXPECT_GT(CountSubtree(h.store, *copy), 1u);
  EXPECT_LT(CountSubtree(h.store, *copy), CountSubtree(h.store, ids.a));
}

}  // namespace
}  // namespace mapinotify::server::store
