// Concurrency: four client threads (two sessions) create, modify, move,
// mark and delete messages in several folders at once while a subscriber
// thread drains the hub's stream. Afterwards the stream must hold every
// notification exactly once in strictly increasing sequence order, each
// operation's batch contiguous, per object in commit order, and replaying it
// must give the folder counters GetProps reports. Runs under TSan.
#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "mapinotify/mapi.h"
#include "mapinotify/status.h"
#include "server/hub/hub.h"
#include "server/hub/hub_testing.h"
#include "server/store/store.h"
#include "server/store/store_testing.h"

namespace mapinotify::server::store {
namespace {

using testing::LongProp;

constexpr int kThreads = 4;
constexpr int kOpsPerThread = 600;
constexpr int kFolders = 3;

// What one thread's operations published: batches it certainly produced and
// ones it may have produced (a change that may turn out to change nothing).
struct Tally {
  int certain = 0;
  int possible = 0;
};

// Fails the test unless `status` is OK or one of `allowed`.
void ExpectOkOr(const absl::Status& status, std::vector<SCODE> allowed,
                const char* what) {
  if (status.ok()) return;
  EXPECT_NE(std::find(allowed.begin(), allowed.end(), ScodeOf(status)),
            allowed.end())
      << what << ": " << status;
}

// One client thread: random operations on `folders` for a fixed seed.
void RunClient(Store& store, const std::vector<EntryId>& folders, int index,
               Tally* tally) {
  const CallContext caller{index % 2 == 0 ? "session-even" : "session-odd",
                           static_cast<uint64_t>(index + 1)};
  std::mt19937 rng(1234 + index);
  auto pick = [&rng](size_t n) {
    return std::uniform_int_distribution<size_t>(0, n - 1)(rng);
  };
  auto random_message = [&](const EntryId& folder) -> std::string {
    absl::StatusOr<std::vector<EntryId>> ids = store.ListMessages(folder);
    EXPECT_TRUE(ids.ok());
    if (!ids.ok() || ids->empty()) return "";
    return (*ids)[pick(ids->size())];
  };
  for (int op = 0; op < kOpsPerThread; ++op) {
    const EntryId& folder = folders[pick(folders.size())];
    switch (pick(6)) {
      case 0:
      case 1: {  // Create and save a message, read or unread.
        absl::StatusOr<Handle> h = store.CreateMessage(caller, folder, 0);
        ASSERT_TRUE(h.ok()) << h.status();
        const int32_t flags = pick(2) == 0 ? 0 : MSGFLAG_READ;
        ASSERT_TRUE(store
                        .SetMessageProps(caller, *h,
                                         {{PR_SUBJECT, std::string("op ") +
                                                           std::to_string(op)},
                                          {PR_MESSAGE_FLAGS, flags}})
                        .ok());
        ASSERT_TRUE(store.SaveChanges(caller, *h, 0).ok());
        ++tally->certain;
        break;
      }
      case 2: {  // Open, change the subject (unique), save.
        const EntryId m = random_message(folder);
        if (m.empty()) break;
        absl::StatusOr<Handle> h = store.OpenMessage(caller, m, MAPI_MODIFY);
        ExpectOkOr(h.status(), {MAPI_E_NOT_FOUND}, "OpenMessage");
        if (!h.ok()) break;
        const std::string subject =
            "t" + std::to_string(index) + " op " + std::to_string(op);
        ExpectOkOr(
            store.SetMessageProps(caller, *h, {{PR_SUBJECT, subject}}).status(),
            {MAPI_E_OBJECT_DELETED}, "SetMessageProps");
        absl::Status saved = store.SaveChanges(caller, *h, 0).status();
        ExpectOkOr(saved, {MAPI_E_OBJECT_DELETED}, "SaveChanges");
        if (saved.ok()) {
          ++tally->certain;
        } else {
          ASSERT_TRUE(store.Release(caller, *h).ok());
        }
        break;
      }
      case 3: {  // Delete one.
        const EntryId m = random_message(folder);
        if (m.empty()) break;
        SCODE warning = S_OK;
        ASSERT_TRUE(store.DeleteMessages(folder, {m}, 0, &warning).ok());
        if (warning == S_OK) ++tally->certain;
        break;
      }
      case 4: {  // Move one to another folder.
        const EntryId m = random_message(folder);
        const EntryId& dest = folders[pick(folders.size())];
        if (m.empty() || dest == folder) break;
        SCODE warning = S_OK;
        ASSERT_TRUE(
            store.CopyMessages(folder, {m}, dest, MESSAGE_MOVE, &warning).ok());
        if (warning == S_OK) ++tally->certain;
        break;
      }
      case 5: {  // Toggle read flags of the whole folder.
        ASSERT_TRUE(
            store.SetReadFlags(folder, {}, pick(2) == 0 ? CLEAR_READ_FLAG : 0)
                .ok());
        ++tally->possible;
        break;
      }
    }
  }
}

TEST(StoreConcurrencyTest, ConcurrentClientsKeepOrderCountsAndConsistency) {
  Hub::Options hub_options;
  hub_options.epoch = 9;
  Hub hub(hub_options);
  Store::Options options;
  options.hub = &hub;
  Store store(options);
  std::vector<EntryId> folders;
  for (int i = 0; i < kFolders; ++i) {
    folders.push_back(store
                          .CreateFolder(store.ipm_subtree_id(),
                                        "F" + std::to_string(i), "", 0)
                          .value());
  }
  folders.push_back(store.inbox_id());

  // A subscriber thread drains the stream while the clients run.
  server::testing::RecordingWriter writer(/*threaded=*/true);
  std::shared_ptr<Outbox> box = hub.OpenStream(writer.WakeCallback());
  ASSERT_TRUE(hub.Advise(box.get(), 1, StoreTargetKey(), kAllEventTypes).ok());
  for (size_t i = 0; i < folders.size(); ++i) {
    ASSERT_TRUE(hub.Advise(box.get(), 10 + i, EntryTargetKey(folders[i]),
                           kAllEventTypes)
                    .ok());
  }
  writer.Attach(box);
  const uint64_t first_sequence = hub.last_sequence() + 1;

  std::vector<Tally> tallies(kThreads);
  std::vector<std::thread> clients;
  for (int t = 0; t < kThreads; ++t) {
    clients.emplace_back([&, t] { RunClient(store, folders, t, &tallies[t]); });
  }
  for (std::thread& client : clients) client.join();
  // New mail from this thread too, at the end.
  ASSERT_TRUE(store.DeliverNewMail({}).ok());

  const uint64_t last = hub.last_sequence();
  ASSERT_TRUE(writer.WaitFor([last](const auto& responses) {
    const std::vector<v1::Delivered> d = server::testing::Deliveries(responses);
    return !d.empty() && d.back().sequence() == last;
  })) << "the stream never reached sequence "
      << last;
  const std::vector<v1::Delivered> got =
      server::testing::Deliveries(writer.responses());

  // Every notification exactly once, strictly increasing, none lost.
  ASSERT_EQ(got.size(), last - first_sequence + 1);
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].sequence(), first_sequence + i);
  }
  EXPECT_EQ(box->GetStats().dropped_deliveries, 0u);

  // Batches: as many as the operations that changed something.
  int batches = 0;
  for (const v1::Delivered& d : got) batches += d.ends_batch() ? 1 : 0;
  int certain = 1, possible = 0;  // The new mail.
  for (const Tally& t : tallies) {
    certain += t.certain;
    possible += t.possible;
  }
  EXPECT_GE(batches, certain);
  EXPECT_LE(batches, certain + possible);
  EXPECT_TRUE(got.back().ends_batch());

  // Replay: per folder, the messages the stream says it holds; per message,
  // its events in commit order (born once, nothing after it dies); and the
  // folder connections matched exactly.
  std::map<EntryId, int> count;
  std::map<EntryId, int> state;  // 0 unborn, 1 alive, 2 gone.
  auto born = [&](const EntryId& id) {
    EXPECT_EQ(state[id], 0) << "born twice";
    state[id] = 1;
  };
  auto touched = [&](const EntryId& id) { EXPECT_EQ(state[id], 1); };
  auto died = [&](const EntryId& id) {
    EXPECT_EQ(state[id], 1) << "died while not alive";
    state[id] = 2;
  };
  for (const v1::Delivered& d : got) {
    const v1::Notification& n = d.notification();
    for (size_t i = 0; i < folders.size(); ++i) {
      const bool concerns = n.has_new_mail()
                                ? n.new_mail().parent_id() == folders[i]
                                : (n.object().entry_id() == folders[i] ||
                                   n.object().parent_id() == folders[i] ||
                                   n.object().old_parent_id() == folders[i]);
      const bool matched =
          std::find(d.connections().begin(), d.connections().end(), 10 + i) !=
          d.connections().end();
      EXPECT_EQ(matched, concerns) << n.ShortDebugString();
    }
    if (n.has_new_mail()) {
      touched(n.new_mail().entry_id());
      continue;
    }
    const v1::ObjectNotification& o = n.object();
    if (o.object_type() != MAPI_MESSAGE) continue;
    switch (n.event_type()) {
      case v1::fnevObjectCreated:
        born(o.entry_id());
        ++count[o.parent_id()];
        break;
      case v1::fnevObjectModified:
        touched(o.entry_id());
        break;
      case v1::fnevObjectDeleted:
        died(o.entry_id());
        --count[o.parent_id()];
        break;
      case v1::fnevObjectMoved:
        died(o.old_id());
        born(o.entry_id());
        --count[o.old_parent_id()];
        ++count[o.parent_id()];
        break;
      default:
        ADD_FAILURE() << "unexpected " << n.ShortDebugString();
    }
  }

  // The final counters: replayed, listed, and reported all agree.
  EXPECT_TRUE(store.CheckConsistency().ok()) << store.CheckConsistency();
  for (const EntryId& folder : folders) {
    const std::vector<EntryId> messages = store.ListMessages(folder).value();
    int unread = 0;
    for (const EntryId& m : messages) {
      EXPECT_EQ(state[m], 1);
      if ((LongProp(store, m, PR_MESSAGE_FLAGS) & MSGFLAG_READ) == 0) ++unread;
    }
    EXPECT_EQ(LongProp(store, folder, PR_CONTENT_COUNT),
              static_cast<int32_t>(messages.size()));
    EXPECT_EQ(count[folder], static_cast<int>(messages.size()));
    EXPECT_EQ(LongProp(store, folder, PR_CONTENT_UNREAD), unread);
  }
  hub.CloseStream(box.get());
}

}  // namespace
}  // namespace mapinotify::server::store
