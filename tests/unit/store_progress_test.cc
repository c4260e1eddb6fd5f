// IMAPIProgress reporting of the store's long operations: the exact call
// sequences of flat and nested operations against Microsoft's "Display a
// progress indicator" (as progress_reporter.h implements it), the
// properties every sequence has, progress objects with other limits or
// flags, and the cost of reporting on a 50,000-message copy.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "mapinotify/mapi.h"
#include "mapinotify/status.h"
#include "server/store/store.h"
#include "server/store/store_testing.h"
#include "tests/unit/store_progress_testing.h"

namespace mapinotify::server::store {
namespace {

using testing::ExpectProgressProperties;
using testing::RecordingProgress;
using testing::StoreHarness;
using Calls = std::vector<std::string>;

const CallContext kCaller{"session-a", 1};

EntryId Save(Store& store, const EntryId& folder, const std::string& subject,
             ULONG flags = 0) {
  Handle h = store.CreateMessage(kCaller, folder, 0).value();
  EXPECT_TRUE(
      store
          .SetMessageProps(kCaller, h,
                           {{PR_SUBJECT, subject},
                            {PR_MESSAGE_FLAGS, static_cast<int32_t>(flags)}})
          .ok());
  return store.SaveChanges(kCaller, h, 0).value();
}

EntryId Folder(Store& store, const EntryId& parent, const std::string& name) {
  return store.CreateFolder(parent, name, "", 0).value();
}

std::vector<EntryId> Messages(const Store& store, const EntryId& folder) {
  return store.ListMessages(folder).value();
}

// A folder A with `n` messages and an empty folder B under IPM_SUBTREE.
struct Flat {
  Flat(Store& store, int n) {
    a = Folder(store, store.ipm_subtree_id(), "A");
    b = Folder(store, store.ipm_subtree_id(), "B");
    for (int i = 0; i < n; ++i)
      ids.push_back(Save(store, a, "m" + std::to_string(i)));
  }
  EntryId a, b;
  std::vector<EntryId> ids;
};

// IPM_SUBTREE / F (m1, m2) / S1 (m3) / S1a (m4, m5); F / S2 (empty); and an
// empty folder D.
struct Nested {
  explicit Nested(Store& store) {
    const EntryId ipm = store.ipm_subtree_id();
    f = Folder(store, ipm, "F");
    d = Folder(store, ipm, "D");
    Save(store, f, "m1");
    Save(store, f, "m2");
    s1 = Folder(store, f, "S1");
    Save(store, s1, "m3");
    s1a = Folder(store, s1, "S1a");
    Save(store, s1a, "m4");
    Save(store, s1a, "m5");
    s2 = Folder(store, f, "S2");
  }
  EntryId f, d, s1, s1a, s2;
};

TEST(StoreProgressTest, CopyMessagesReportsEachMessageAtTopLevel) {
  StoreHarness h;
  Flat t(h.store, 4);
  RecordingProgress progress;
  SCODE warning = -1;
  ASSERT_TRUE(
      h.store.CopyMessages(t.a, t.ids, t.b, 0, &warning, &progress).ok());
  EXPECT_EQ(warning, S_OK);
  EXPECT_EQ(progress.Strings(),
            (Calls{"GetFlags", "GetMin", "GetMax", "SetLimits(1,1000,1)",
                   "Progress(250,1,4)", "Progress(500,2,4)",
                   "Progress(750,3,4)", "Progress(1000,4,4)"}));
  ExpectProgressProperties(progress.calls(), 1, 1000, /*complete=*/true);
  EXPECT_EQ(Messages(h.store, t.b).size(), 4u);
}

TEST(StoreProgressTest, DeleteMessagesCountsSkippedEntriesAsItems) {
  StoreHarness h;
  Flat t(h.store, 3);
  ASSERT_TRUE(h.store.DeleteMessages(t.a, {t.ids[1]}, 0).ok());
  RecordingProgress progress;
  SCODE warning = -1;
  // ids[1] is gone: skipped, but still the list's second item.
  ASSERT_TRUE(h.store.DeleteMessages(t.a, t.ids, 0, &warning, &progress).ok());
  EXPECT_EQ(warning, MAPI_W_PARTIAL_COMPLETION);
  EXPECT_EQ(
      progress.Strings(),
      (Calls{"GetFlags", "GetMin", "GetMax", "SetLimits(1,1000,1)",
             "Progress(334,1,3)", "Progress(667,2,3)", "Progress(1000,3,3)"}));
  EXPECT_TRUE(Messages(h.store, t.a).empty());
}

TEST(StoreProgressTest, SetReadFlagsOfTheWholeFolder) {
  StoreHarness h;
  Flat t(h.store, 5);
  RecordingProgress progress;
  ASSERT_TRUE(h.store.SetReadFlags(t.a, {}, 0, nullptr, &progress).ok());
  EXPECT_EQ(
      progress.Strings(),
      (Calls{"GetFlags", "GetMin", "GetMax", "SetLimits(1,1000,1)",
             "Progress(200,1,5)", "Progress(400,2,5)", "Progress(600,3,5)",
             "Progress(800,4,5)", "Progress(1000,5,5)"}));
}

TEST(StoreProgressTest, EmptyFolderOfMessagesOnly) {
  StoreHarness h;
  Flat t(h.store, 3);
  RecordingProgress progress;
  SCODE warning = -1;
  ASSERT_TRUE(h.store.EmptyFolder(t.a, 0, &warning, &progress).ok());
  EXPECT_EQ(warning, S_OK);
  EXPECT_EQ(
      progress.Strings(),
      (Calls{"GetFlags", "GetMin", "GetMax", "SetLimits(1,1000,1)",
             "Progress(334,1,3)", "Progress(667,2,3)", "Progress(1000,3,3)"}));
}

TEST(StoreProgressTest, CopyFolderWithSubfoldersTwoLevelsDeep) {
  StoreHarness h;
  Nested t(h.store);
  RecordingProgress progress;
  SCODE warning = -1;
  ASSERT_TRUE(h.store
                  .CopyFolder(h.store.ipm_subtree_id(), t.f, t.d, "",
                              COPY_SUBFOLDERS, &warning, &progress)
                  .ok());
  EXPECT_EQ(warning, S_OK);
  // Top level: m1, m2, S1, S2. S1's level [500, 750]: m3, S1a (its last
  // item, reported by the top level); S1a's level [625, 750]: m4, m5 (the
  // last one reported by S1's level, i.e. by the top level).
  EXPECT_EQ(
      progress.Strings(),
      (Calls{"GetFlags", "GetMin", "GetMax", "SetLimits(1,1000,1)",
             "Progress(250,1,4)", "Progress(500,2,4)", "SetLimits(500,750,0)",
             "Progress(625,0,0)", "SetLimits(625,750,0)", "Progress(687,0,0)",
             "SetLimits(500,750,0)", "SetLimits(1,1000,1)", "Progress(750,3,4)",
             "SetLimits(750,1000,0)", "SetLimits(1,1000,1)",
             "Progress(1000,4,4)"}));
  ExpectProgressProperties(progress.calls(), 1, 1000, /*complete=*/true);
}

TEST(StoreProgressTest, DeleteFolderBottomUp) {
  StoreHarness h;
  Nested t(h.store);
  RecordingProgress progress;
  SCODE warning = -1;
  ASSERT_TRUE(h.store
                  .DeleteFolder(h.store.ipm_subtree_id(), t.f,
                                DEL_FOLDERS | DEL_MESSAGES, &warning, &progress)
                  .ok());
  EXPECT_EQ(warning, S_OK);
  // Top level: S2, S1 (newest first), m1, m2, F. S2's level [1, 200]: S2
  // itself. S1's level [200, 400]: S1a, m3, S1. S1a's [200, 266]: m4, m5,
  // S1a.
  EXPECT_EQ(
      progress.Strings(),
      (Calls{"GetFlags", "GetMin", "GetMax", "SetLimits(1,1000,1)",
             "SetLimits(1,200,0)", "SetLimits(1,1000,1)", "Progress(200,1,5)",
             "SetLimits(200,400,0)", "SetLimits(200,266,0)",
             "Progress(222,0,0)", "Progress(244,0,0)", "SetLimits(200,400,0)",
             "Progress(266,0,0)", "Progress(333,0,0)", "SetLimits(1,1000,1)",
             "Progress(400,2,5)", "Progress(600,3,5)", "Progress(800,4,5)",
             "Progress(1000,5,5)"}));
  ExpectProgressProperties(progress.calls(), 1, 1000, /*complete=*/true);
}

TEST(StoreProgressTest, EmptyFolderWithSubfolders) {
  StoreHarness h;
  const EntryId e = Folder(h.store, h.store.ipm_subtree_id(), "E");
  Save(h.store, e, "m1");
  const EntryId s1 = Folder(h.store, e, "S1");
  Save(h.store, s1, "m2");
  const EntryId s1a = Folder(h.store, s1, "S1a");
  Save(h.store, s1a, "m3");
  Folder(h.store, e, "S2");
  RecordingProgress progress;
  ASSERT_TRUE(h.store.EmptyFolder(e, 0, nullptr, &progress).ok());
  // Top level: m1, S1, S2 (oldest first). S1's level [334, 667]: S1a, m2,
  // S1; S1a's [334, 445]: m3, S1a. S2's [667, 1000]: S2.
  EXPECT_EQ(progress.Strings(),
            (Calls{"GetFlags", "GetMin", "GetMax", "SetLimits(1,1000,1)",
                   "Progress(334,1,3)", "SetLimits(334,667,0)",
                   "SetLimits(334,445,0)", "Progress(389,0,0)",
                   "SetLimits(334,667,0)", "Progress(445,0,0)",
                   "Progress(556,0,0)", "SetLimits(1,1000,1)",
                   "Progress(667,2,3)", "SetLimits(667,1000,0)",
                   "SetLimits(1,1000,1)", "Progress(1000,3,3)"}));
  ExpectProgressProperties(progress.calls(), 1, 1000, /*complete=*/true);
  EXPECT_TRUE(h.store.ListSubfolders(e).value().empty());
}

TEST(StoreProgressTest, MoveFolderIsOneItemAndEmptyOperationsComplete) {
  StoreHarness h;
  Nested t(h.store);
  RecordingProgress move;
  ASSERT_TRUE(h.store
                  .CopyFolder(h.store.ipm_subtree_id(), t.f, t.d, "",
                              FOLDER_MOVE, nullptr, &move)
                  .ok());
  EXPECT_EQ(move.Strings(),
            (Calls{"GetFlags", "GetMin", "GetMax", "SetLimits(1,1000,1)",
                   "Progress(1000,1,1)"}));
  // No items: the completion alone.
  RecordingProgress empty;
  SCODE warning = -1;
  ASSERT_TRUE(h.store.EmptyFolder(t.s2, 0, &warning, &empty).ok());
  EXPECT_EQ(warning, S_OK);
  EXPECT_EQ(empty.Strings(),
            (Calls{"GetFlags", "GetMin", "GetMax", "SetLimits(1,1000,1)",
                   "Progress(1000,0,0)"}));
}

TEST(StoreProgressTest, FailedCallsMakeNoProgressCall) {
  StoreHarness h;
  Nested t(h.store);
  RecordingProgress progress;
  EXPECT_EQ(ScodeOf(h.store.DeleteFolder(h.store.ipm_subtree_id(), t.f, 0,
                                         nullptr, &progress)),
            MAPI_E_HAS_FOLDERS);
  EXPECT_EQ(
      ScodeOf(h.store.CopyMessages(t.f, {"bogus"}, t.d, 0, nullptr, &progress)),
      MAPI_E_INVALID_ENTRYID);
  EXPECT_EQ(ScodeOf(h.store
                        .CopyFolder(h.store.ipm_subtree_id(), t.f, t.s1, "", 0,
                                    nullptr, &progress)
                        .status()),
            MAPI_E_FOLDER_CYCLE);
  EXPECT_TRUE(progress.calls().empty());
}

TEST(StoreProgressTest, HonoursTheObjectsOwnGlobalLimits) {
  StoreHarness h;
  Flat t(h.store, 3);
  RecordingProgress progress(MAPI_TOP_LEVEL, 0, 100);
  ASSERT_TRUE(
      h.store.CopyMessages(t.a, t.ids, t.b, 0, nullptr, &progress).ok());
  EXPECT_EQ(
      progress.Strings(),
      (Calls{"GetFlags", "GetMin", "GetMax", "SetLimits(0,100,1)",
             "Progress(33,1,3)", "Progress(66,2,3)", "Progress(100,3,3)"}));
  EXPECT_EQ(progress.GetMin(), 0u);
  EXPECT_EQ(progress.GetMax(), 100u);
}

TEST(StoreProgressTest, WithoutTopLevelTheCallIsASubobjectOfTheCallers) {
  // The caller cleared MAPI_TOP_LEVEL and set a local range [200, 300]:
  // no global limits are set, count and total stay 0, the local range is
  // restored after each subobject, and the last value is its max.
  StoreHarness h;
  const EntryId f = Folder(h.store, h.store.ipm_subtree_id(), "F");
  const EntryId d = Folder(h.store, h.store.ipm_subtree_id(), "D");
  Save(h.store, f, "m1");
  const EntryId s1 = Folder(h.store, f, "S1");
  Save(h.store, s1, "m2");
  RecordingProgress progress(0, 200, 300);
  ASSERT_TRUE(h.store
                  .CopyFolder(h.store.ipm_subtree_id(), f, d, "",
                              COPY_SUBFOLDERS, nullptr, &progress)
                  .ok());
  EXPECT_EQ(progress.Strings(),
            (Calls{"GetFlags", "GetMin", "GetMax", "Progress(250,0,0)",
                   "SetLimits(250,300,0)", "SetLimits(200,300,0)",
                   "Progress(300,0,0)"}));
  EXPECT_EQ(progress.GetFlags(), 0u);
}

TEST(StoreProgressTest, PropertiesOfLargeFlatAndNestedOperations) {
  StoreHarness h;
  Flat t(h.store, 2500);  // More items than values: steps repeat.
  RecordingProgress copy;
  ASSERT_TRUE(h.store.CopyMessages(t.a, t.ids, t.b, 0, nullptr, &copy).ok());
  ExpectProgressProperties(copy.calls(), 1, 1000, /*complete=*/true);
  EXPECT_EQ(copy.calls().size(), 4u + 2500u);

  // A tree three levels deep, 4 subfolders per folder, 3 messages each.
  const EntryId top = Folder(h.store, h.store.ipm_subtree_id(), "T");
  std::vector<EntryId> level = {top};
  for (int depth = 0; depth < 3; ++depth) {
    std::vector<EntryId> next;
    for (const EntryId& parent : level) {
      for (int m = 0; m < 3; ++m) Save(h.store, parent, "x");
      for (int s = 0; s < 4; ++s) {
        next.push_back(Folder(h.store, parent, "s" + std::to_string(s)));
      }
    }
    level = next;
  }
  RecordingProgress tree_copy;
  ASSERT_TRUE(h.store
                  .CopyFolder(h.store.ipm_subtree_id(), top, t.b, "",
                              COPY_SUBFOLDERS, nullptr, &tree_copy)
                  .ok());
  ExpectProgressProperties(tree_copy.calls(), 1, 1000, /*complete=*/true);
  RecordingProgress tree_delete;
  ASSERT_TRUE(h.store
                  .DeleteFolder(h.store.ipm_subtree_id(), top,
                                DEL_FOLDERS | DEL_MESSAGES, nullptr,
                                &tree_delete)
                  .ok());
  ExpectProgressProperties(tree_delete.calls(), 1, 1000, /*complete=*/true);
  EXPECT_TRUE(h.store.CheckConsistency().ok());
}

// --- Cost. A progress object that does nothing but answer S_OK.
class TrivialProgress : public BasicProgress {};

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define MAPINOTIFY_TEST_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define MAPINOTIFY_TEST_SANITIZED 1
#endif

TEST(StoreProgressTest, FiftyThousandMessageCopyReportsAndPrintsItsCost) {
  constexpr int kMessages = 50000;
#ifdef MAPINOTIFY_TEST_SANITIZED
  constexpr int kRounds = 1;  // Only printed: keep the run short.
#else
  constexpr int kRounds = 3;  // The fastest of each: noise only adds.
#endif
  Store store{Store::Options()};  // No hub: only the store's own work.
  // One message, then copies of the folder's messages into itself, doubling
  // (one save per message would cost a counters pass each).
  const EntryId source = Folder(store, store.ipm_subtree_id(), "Source");
  Handle handle = store.CreateMessage(kCaller, source, 0).value();
  ASSERT_TRUE(store
                  .SetMessageProps(kCaller, handle,
                                   {{PR_SUBJECT, std::string("message")},
                                    {PR_BODY, std::string(64, 'b')}})
                  .ok());
  ASSERT_TRUE(store.SaveChanges(kCaller, handle, 0).ok());
  std::vector<EntryId> ids = store.ListMessages(source).value();
  while (ids.size() < static_cast<size_t>(kMessages)) {
    const size_t more = std::min(ids.size(), kMessages - ids.size());
    ASSERT_TRUE(
        store.CopyMessages(source, {ids.begin(), ids.begin() + more}, source, 0)
            .ok());
    ids = store.ListMessages(source).value();
  }
  ASSERT_EQ(ids.size(), static_cast<size_t>(kMessages));
  // Copies every message into a fresh folder (timed), then deletes it.
  auto timed_copy = [&](MapiProgress* progress) {
    const EntryId dest = Folder(store, store.ipm_subtree_id(), "Dest");
    const auto start = std::chrono::steady_clock::now();
    EXPECT_TRUE(
        store.CopyMessages(source, ids, dest, 0, nullptr, progress).ok());
    const auto end = std::chrono::steady_clock::now();
    EXPECT_TRUE(
        store.DeleteFolder(store.ipm_subtree_id(), dest, DEL_MESSAGES).ok());
    return std::chrono::duration<double, std::milli>(end - start).count();
  };
  double without = 1e300, with = 1e300;
  for (int round = 0; round < kRounds; ++round) {
    TrivialProgress progress;
    without = std::min(without, timed_copy(nullptr));
    with = std::min(with, timed_copy(&progress));
    EXPECT_EQ(progress.value(), 1000u);
    EXPECT_EQ(progress.count(), static_cast<ULONG>(kMessages));
  }
  const double ratio = with / without;
  std::printf(
      "CopyMessages of %d messages: %.1f ms without progress, "
      "%.1f ms with a trivial progress object: ratio %.3f\n",
      kMessages, without, with, ratio);
  // A measurement, not a timed assertion: ctest runs tests side by side,
  // so the ratio is printed for the record (docs and closing notes) and
  // only the functional outcome above is checked.
}

}  // namespace
}  // namespace mapinotify::server::store
