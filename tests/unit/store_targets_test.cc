// Targets and masks: an advise on one folder sees that folder's and its
// messages' events and nothing of another folder; a store-wide advise sees
// everything; a mask filters exactly; new mail reaches store-wide advises;
// the store validates advise targets for the hub.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "mapinotify/mapi.h"
#include "mapinotify/status.h"
#include "server/store/store.h"
#include "server/store/store_testing.h"

namespace mapinotify::server::store {
namespace {

using testing::StoreHarness;

const CallContext kCaller{"session-a", 1};

bool Has(const v1::Delivered& d, uint64_t connection) {
  return std::find(d.connections().begin(), d.connections().end(),
                   connection) != d.connections().end();
}

// Whether `d` is about `folder` itself or one of its direct children.
bool Concerns(const v1::Delivered& d, const EntryId& folder) {
  const v1::Notification& n = d.notification();
  if (n.has_new_mail()) {
    return n.new_mail().entry_id() == folder ||
           n.new_mail().parent_id() == folder;
  }
  const v1::ObjectNotification& o = n.object();
  return o.entry_id() == folder || o.parent_id() == folder ||
         o.old_id() == folder || o.old_parent_id() == folder;
}

// A mix of operations in folders A and B (and the Inbox).
void Churn(Store& store, const EntryId& a, const EntryId& b) {
  for (const EntryId& folder : {a, b}) {
    Handle h = store.CreateMessage(kCaller, folder, 0).value();
    ASSERT_TRUE(
        store.SetMessageProps(kCaller, h, {{PR_SUBJECT, std::string("x")}})
            .ok());
    const EntryId m =
        store.SaveChanges(kCaller, h, KEEP_OPEN_READWRITE).value();
    ASSERT_TRUE(
        store.SetMessageProps(kCaller, h, {{PR_SUBJECT, std::string("y")}})
            .ok());
    ASSERT_TRUE(store.SaveChanges(kCaller, h, 0).ok());
    ASSERT_TRUE(store.SetReadFlags(folder, {m}, CLEAR_READ_FLAG).ok());
    ASSERT_TRUE(store.CreateFolder(folder, "sub", "", 0).ok());
    ASSERT_TRUE(
        store.SetFolderProps(folder, {{PR_COMMENT, std::string("c")}}).ok());
    ASSERT_TRUE(store.DeleteMessages(folder, {m}, 0).ok());
  }
  ASSERT_TRUE(store.DeliverNewMail({}).ok());
}

TEST(StoreTargetsTest, AFolderAdviseSeesOnlyItsFolderAndMessages) {
  StoreHarness h;
  const EntryId ipm = h.store.ipm_subtree_id();
  const EntryId a = h.store.CreateFolder(ipm, "A", "", 0).value();
  const EntryId b = h.store.CreateFolder(ipm, "B", "", 0).value();
  h.AdviseEntry(10, a);
  h.AdviseEntry(11, b);
  h.Take();
  Churn(h.store, a, b);
  const std::vector<v1::Delivered> got = h.Take();
  size_t seen_a = 0, seen_b = 0;
  for (const v1::Delivered& d : got) {
    SCOPED_TRACE(d.ShortDebugString());
    EXPECT_TRUE(Has(d, testing::kStoreWide));  // The store sees everything.
    EXPECT_EQ(Has(d, 10), Concerns(d, a));
    EXPECT_EQ(Has(d, 11), Concerns(d, b));
    seen_a += Has(d, 10);
    seen_b += Has(d, 11);
  }
  // Per folder: created + counters, modified, read flag + counters, subfolder
  // created + counters, folder modified, deleted + counters.
  EXPECT_EQ(seen_a, 10u);
  EXPECT_EQ(seen_b, 10u);
  EXPECT_EQ(got.size(), 2 * 10u + 3u);  // And the new mail's three.
}

TEST(StoreTargetsTest, AMaskWithoutObjectModifiedNeverReceivesOne) {
  StoreHarness h;
  const EntryId ipm = h.store.ipm_subtree_id();
  const EntryId a = h.store.CreateFolder(ipm, "A", "", 0).value();
  const EntryId b = h.store.CreateFolder(ipm, "B", "", 0).value();
  const uint32_t no_modified = kAllEventTypes & ~fnevObjectModified;
  h.AdviseEntry(12, a, no_modified);
  ASSERT_TRUE(h.Advise(13, StoreTargetKey(), no_modified).ok());
  ASSERT_TRUE(h.Advise(14, StoreTargetKey(), fnevObjectModified).ok());
  h.Take();
  Churn(h.store, a, b);
  size_t modified = 0, others = 0;
  for (const v1::Delivered& d : h.Take()) {
    SCOPED_TRACE(d.ShortDebugString());
    const bool is_modified =
        d.notification().event_type() == v1::fnevObjectModified;
    EXPECT_NE(Has(d, 13), is_modified);
    EXPECT_EQ(Has(d, 14), is_modified);
    if (is_modified) {
      EXPECT_FALSE(Has(d, 12));
      ++modified;
    } else {
      EXPECT_EQ(Has(d, 12), Concerns(d, a));
      ++others;
    }
  }
  EXPECT_GT(modified, 0u);
  EXPECT_GT(others, 0u);
}

TEST(StoreTargetsTest, NewMailReachesStoreWideAndReceiveFolderAdvises) {
  StoreHarness h;
  const EntryId a =
      h.store.CreateFolder(h.store.ipm_subtree_id(), "A", "", 0).value();
  ASSERT_TRUE(h.Advise(20, StoreTargetKey(), fnevNewMail).ok());
  h.AdviseEntry(21, a);
  h.AdviseEntry(22, h.store.inbox_id(), fnevNewMail);
  h.Take();
  const EntryId id = h.store.DeliverNewMail({}).value();
  const std::vector<v1::Delivered> got = h.Take();
  ASSERT_EQ(got.size(), 3u);
  for (const v1::Delivered& d : got) {
    const bool is_mail = d.notification().event_type() == v1::fnevNewMail;
    EXPECT_EQ(Has(d, 20), is_mail);
    EXPECT_EQ(Has(d, 22), is_mail);
    EXPECT_FALSE(Has(d, 21));
  }
  EXPECT_EQ(got[2].notification().new_mail().entry_id(), id);
  EXPECT_TRUE(got[2].ends_batch());
}

TEST(StoreTargetsTest, TheStoreValidatesAdviseTargetsForTheHub) {
  std::unique_ptr<Store> store;
  Hub::Options hub_options;
  hub_options.validator = [&store](const TargetKey& key) {
    if (GetTargetKind(key) != TargetKind::kEntry) {
      return DefaultTargetValidator(key);
    }
    return store->Exists(EntryId(TargetEntryId(key)));
  };
  Hub hub(hub_options);
  Store::Options options;
  options.hub = &hub;
  store = std::make_unique<Store>(options);
  server::testing::RecordingWriter writer(/*threaded=*/false);
  std::shared_ptr<Outbox> box = hub.OpenStream(writer.WakeCallback());
  writer.Attach(box);

  const EntryId gone =
      store->CreateFolder(store->ipm_subtree_id(), "Gone", "", 0).value();
  ASSERT_TRUE(store->DeleteFolder(store->ipm_subtree_id(), gone, 0).ok());
  EXPECT_TRUE(hub.Advise(box.get(), 1, EntryTargetKey(store->inbox_id()),
                         kAllEventTypes)
                  .ok());
  const absl::Status not_found =
      hub.Advise(box.get(), 2, EntryTargetKey(gone), kAllEventTypes);
  EXPECT_EQ(ScodeOf(not_found), MAPI_E_NOT_FOUND);
  Store other{Store::Options()};
  const absl::Status foreign = hub.Advise(
      box.get(), 3, EntryTargetKey(other.inbox_id()), kAllEventTypes);
  EXPECT_EQ(ScodeOf(foreign), MAPI_E_INVALID_ENTRYID);
  writer.DrainNow();
  const std::vector<v1::SubscribeResponse> controls =
      server::testing::Controls(writer.responses());
  ASSERT_EQ(controls.size(), 4u);  // hello and three answers.
  EXPECT_EQ(controls[2].advised().status().scode(), MAPI_E_NOT_FOUND);
  EXPECT_EQ(controls[3].advised().status().scode(), MAPI_E_INVALID_ENTRYID);
}

}  // namespace
}  // namespace mapinotify::server::store
