// Long operations with progress and cancel over the wire (Store.RunOperation
// behind MsgStore's blocking long calls with a progress object, and
// MsgStore::Start): where the progress object and the callback run, what
// they get compared with the store's own call sequence for the same
// operation, cancel from the progress object and from Operation::Cancel, a
// slow consumer, and bad input.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "mapinotify/message_loop.h"
#include "mapinotify/operation.h"
#include "mapinotify/session.h"
#include "mapinotify/status.h"
#include "mapinotify/store.h"
#include "mapinotify/thread_progress.h"
#include "server/store/store.h"
#include "tests/integration/store_test_util.h"
#include "tests/unit/store_progress_testing.h"

namespace mapinotify::testing {
namespace {

using server::store::testing::ExpectProgressProperties;
using server::store::testing::ProgressCall;
using server::store::testing::RecordingProgress;

// Turns a hang into a failure; no test waits this long when it passes.
constexpr absl::Duration kWait = absl::Seconds(10);

// The messages of the cancel tests carry this many extra properties, so
// that an item costs the server tens of microseconds (a copy or a move
// copies the message's property map) and an operation on 500 of them lasts
// tens of milliseconds: many round trips and several of the server's
// progress write intervals (10 ms), even on a loaded machine. A cancel sent
// when the client sees 10% then lands mid-way, as with a real store. With
// bare messages the in-memory store copies 500 in well under a millisecond,
// before its first progress call has even reached the client.
constexpr int kCancelProps = 2000;

const server::store::CallContext kFiller{"operation-progress-filler", 1};

// --- Trees built directly on the server's store (fast, no round trips).

EntryId NewFolder(server::store::Store& store, const EntryId& parent,
                  const std::string& name) {
  auto id = store.CreateFolder(parent, name, "", 0);
  EXPECT_TRUE(id.ok()) << id.status();
  return id.ok() ? *id : EntryId();
}

// `n` saved messages in `folder`, each with `extra_props` PT_LONG
// properties besides PR_SUBJECT; their entry ids in order.
std::vector<EntryId> Fill(server::store::Store& store, const EntryId& folder,
                          int n, int extra_props = 0) {
  std::vector<EntryId> ids;
  for (int i = 0; i < n; ++i) {
    auto handle = store.CreateMessage(kFiller, folder, 0);
    EXPECT_TRUE(handle.ok()) << handle.status();
    if (!handle.ok()) break;
    std::vector<PropValue> props = {{PR_SUBJECT, "m" + std::to_string(i)}};
    for (int p = 0; p < extra_props; ++p) {
      props.push_back({PROP_TAG(PT_LONG, 0x6000 + p), int32_t{p}});
    }
    auto problems = store.SetMessageProps(kFiller, *handle, props);
    EXPECT_TRUE(problems.ok()) << problems.status();
    auto id = store.SaveChanges(kFiller, *handle, 0);
    EXPECT_TRUE(id.ok()) << id.status();
    if (!id.ok()) break;
    ids.push_back(*id);
  }
  return ids;
}

// `n` saved messages in `folder` (REQUIRES: empty), each with
// `extra_props` PT_LONG properties besides PR_SUBJECT; their entry ids.
// Fast for heavy messages: one is built, then the folder's messages are
// copied into the folder itself until there are `n`.
std::vector<EntryId> FillHeavy(server::store::Store& store,
                               const EntryId& folder, int n, int extra_props) {
  Fill(store, folder, 1, extra_props);
  std::vector<EntryId> ids = store.ListMessages(folder).value();
  while (static_cast<int>(ids.size()) < n) {
    const size_t more =
        std::min(ids.size(), static_cast<size_t>(n) - ids.size());
    const std::vector<EntryId> some(ids.begin(), ids.begin() + more);
    EXPECT_TRUE(store.CopyMessages(folder, some, folder, 0).ok());
    ids = store.ListMessages(folder).value();
  }
  return ids;
}

// `name` under `parent`: 20 messages and three subfolders with messages,
// the first of which has a subfolder with messages of its own:
//   name (20) / S1 (10) / S1a (7); name / S2 (15); name / S3 (5).
EntryId BuildTree(server::store::Store& store, const EntryId& parent,
                  const std::string& name) {
  const EntryId top = NewFolder(store, parent, name);
  Fill(store, top, 20);
  const EntryId s1 = NewFolder(store, top, "S1");
  Fill(store, s1, 10);
  Fill(store, NewFolder(store, s1, "S1a"), 7);
  Fill(store, NewFolder(store, top, "S2"), 15);
  Fill(store, NewFolder(store, top, "S3"), 5);
  return top;
}

// --- Progress objects.

// RecordingProgress that also records the thread of every call, and runs
// `hook` (when set) after each Progress with its value. Thread-compatible,
// as any progress object.
class TestProgress : public RecordingProgress {
 public:
  using RecordingProgress::RecordingProgress;

  SCODE Progress(ULONG value, ULONG count, ULONG total) override {
    Note();
    const SCODE answer = RecordingProgress::Progress(value, count, total);
    if (hook_) hook_(value);
    return answer;
  }
  ULONG GetFlags() override {
    Note();
    return RecordingProgress::GetFlags();
  }
  ULONG GetMin() override {
    Note();
    return RecordingProgress::GetMin();
  }
  ULONG GetMax() override {
    Note();
    return RecordingProgress::GetMax();
  }
  void SetLimits(const ULONG* min, const ULONG* max,
                 const ULONG* flags) override {
    Note();
    RecordingProgress::SetLimits(min, max, flags);
  }

  void set_hook(std::function<void(ULONG)> hook) { hook_ = std::move(hook); }
  const std::vector<std::thread::id>& threads() const { return threads_; }

  // The flags and limits it holds now (no call recorded).
  ULONG flags_now() { return BasicProgress::GetFlags(); }
  ULONG min_now() { return BasicProgress::GetMin(); }
  ULONG max_now() { return BasicProgress::GetMax(); }

 private:
  void Note() { threads_.push_back(std::this_thread::get_id()); }

  std::function<void(ULONG)> hook_;
  std::vector<std::thread::id> threads_;
};

bool AllOn(const std::vector<std::thread::id>& threads, std::thread::id id) {
  for (std::thread::id t : threads) {
    if (t != id) return false;
  }
  return true;
}

bool SameCall(const ProgressCall& x, const ProgressCall& y) {
  return x.kind == y.kind && x.a == y.a && x.b == y.b && x.c == y.c;
}

// The SetLimits and Progress calls of `calls` (the getters dropped).
std::vector<ProgressCall> Reports(const std::vector<ProgressCall>& calls) {
  std::vector<ProgressCall> out;
  for (const ProgressCall& call : calls) {
    if (call.kind == ProgressCall::kSetLimits ||
        call.kind == ProgressCall::kProgress) {
      out.push_back(call);
    }
  }
  return out;
}

size_t CountKind(const std::vector<ProgressCall>& calls,
                 ProgressCall::Kind kind) {
  size_t n = 0;
  for (const ProgressCall& call : calls) n += call.kind == kind ? 1 : 0;
  return n;
}

// Checks the calls a progress object got over the wire against `direct`,
// the calls the store made for the same operation on an identical twin:
// the getters once, first, in the store's order; then an in-order
// subsequence of the store's SetLimits and Progress calls (coalescing only
// drops superseded Progress calls and merges SetLimits, which the store
// always makes with all three values), with non-decreasing values, ending
// with the store's last call, which is Progress at the maximum.
void ExpectWireSubsequence(const std::vector<ProgressCall>& wire,
                           const std::vector<ProgressCall>& direct) {
  ASSERT_GE(wire.size(), 4u);
  ASSERT_GE(direct.size(), 4u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(wire[i].kind, direct[i].kind);
  EXPECT_EQ(CountKind(wire, ProgressCall::kGetFlags), 1u);
  EXPECT_EQ(CountKind(wire, ProgressCall::kGetMin), 1u);
  EXPECT_EQ(CountKind(wire, ProgressCall::kGetMax), 1u);
  const std::vector<ProgressCall> w = Reports(wire);
  const std::vector<ProgressCall> d = Reports(direct);
  ASSERT_FALSE(w.empty());
  ASSERT_FALSE(d.empty());
  size_t j = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    while (j < d.size() && !SameCall(d[j], w[i])) ++j;
    ASSERT_LT(j, d.size()) << "wire call " << i << " " << w[i].ToString()
                           << " is not next in the store's sequence";
    ++j;
  }
  EXPECT_TRUE(SameCall(w.back(), d.back()))
      << w.back().ToString() << " vs " << d.back().ToString();
  EXPECT_EQ(w.back().kind, ProgressCall::kProgress);
  ULONG last = 0;
  for (const ProgressCall& call : w) {
    if (call.kind != ProgressCall::kProgress) continue;
    EXPECT_GE(call.a, last) << call.ToString();
    last = call.a;
  }
}

// The two objects end in the same state: flags, limits, and last Progress.
void ExpectSameFinalState(TestProgress& wire, TestProgress& direct) {
  EXPECT_EQ(wire.flags_now(), direct.flags_now());
  EXPECT_EQ(wire.min_now(), direct.min_now());
  EXPECT_EQ(wire.max_now(), direct.max_now());
  EXPECT_EQ(wire.value(), direct.value());
  EXPECT_EQ(wire.count(), direct.count());
  EXPECT_EQ(wire.total(), direct.total());
  EXPECT_EQ(wire.value(), wire.max_now());
}

// --- A sink that keeps OBJECT notifications. Thread-safe.

struct ObjectEventSeen {
  ULONG event_type = 0;
  ObjectNotification object;
};

class ObjectLog : public AdviseSink {
 public:
  void OnNotify(const NotificationBatch& batch) override {
    absl::MutexLock lock(&mu_);
    for (size_t i = 0; i < batch.size(); ++i) {
      if (const ObjectNotification* o = batch[i].object()) {
        events_.push_back({batch[i].event_type, *o});
      }
    }
  }

  // Waits until an event of `type` about `entry_id` arrived.
  bool WaitFor(ULONG type, const EntryId& entry_id) {
    absl::MutexLock lock(&mu_);
    const auto seen = [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
      for (const ObjectEventSeen& e : events_) {
        if (e.event_type == type && e.object.entry_id == entry_id) return true;
      }
      return false;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&seen), kWait);
  }
  // Waits until `n` events of `type` arrived.
  bool WaitForCount(ULONG type, size_t n) {
    absl::MutexLock lock(&mu_);
    const auto enough = [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
      return CountLocked(type) >= n;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), kWait);
  }
  // The events of `type` about messages.
  std::vector<ObjectNotification> Messages(ULONG type) const {
    absl::MutexLock lock(&mu_);
    std::vector<ObjectNotification> out;
    for (const ObjectEventSeen& e : events_) {
      if (e.event_type == type && e.object.object_type == MAPI_MESSAGE) {
        out.push_back(e.object);
      }
    }
    return out;
  }

 private:
  size_t CountLocked(ULONG type) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    size_t n = 0;
    for (const ObjectEventSeen& e : events_) n += e.event_type == type;
    return n;
  }

  mutable absl::Mutex mu_;
  std::vector<ObjectEventSeen> events_ ABSL_GUARDED_BY(mu_);
};

// Holds a long operation on the server (its progress hook) at the first
// Progress value at or above a threshold until the client's cancel has
// reached the server. The client's progress object answers the cancel for
// that very value, so the operation stops right after that item however
// late the client reads its progress: cancel is asynchronous on the wire
// (the server never waits for the client), and without the gate a loaded
// machine lets the operation finish before the cancel arrives.
class CancelGate {
 public:
  void HoldAt(ULONG value) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    hold_at_ = value;
  }

  // The hook (server's operation thread, under the store's lock).
  void OnProgress(uint32_t value, const absl::Notification& cancelled)
      ABSL_LOCKS_EXCLUDED(mu_) {
    {
      absl::MutexLock lock(&mu_);
      if (!hold_at_.has_value() || value < *hold_at_ || held_at_) return;
      held_at_ = value;
    }
    // A bound, not a synchronisation: the wait ends when the cancel arrives.
    const bool arrived = cancelled.WaitForNotificationWithTimeout(kWait);
    absl::MutexLock lock(&mu_);
    cancel_arrived_ = arrived;
  }

  // The value the operation was held at, if it was.
  std::optional<ULONG> held_at() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return held_at_;
  }
  bool cancel_arrived() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return cancel_arrived_;
  }

 private:
  mutable absl::Mutex mu_;
  std::optional<ULONG> hold_at_ ABSL_GUARDED_BY(mu_);
  std::optional<ULONG> held_at_ ABSL_GUARDED_BY(mu_);
  bool cancel_arrived_ ABSL_GUARDED_BY(mu_) = false;
};

// --- The fixture: a server, a session and its MsgStore, and the server's
// store for building trees and running twins directly.

class OperationProgress : public ::testing::Test {
 protected:
  void SetUp() override {
    server::ServerOptions server_options;
    server_options.operations.progress_hook =
        [gate = gate_](uint32_t value, const absl::Notification& cancelled) {
          gate->OnProgress(value, cancelled);
        };
    f_ = OpenStoreFixture({}, std::move(server_options));
    ASSERT_NE(f_.store, nullptr);
    store_ = f_.store.get();
    direct_ = f_.server->store();
    ipm_ = direct_->ipm_subtree_id();
  }

  // A second session (the watcher) with an ObjectLog advised on `folder`.
  std::shared_ptr<ObjectLog> Watch(const EntryId& folder) {
    if (watcher_ == nullptr) {
      auto session = Session::Open(f_.server->target());
      EXPECT_TRUE(session.ok()) << session.status();
      if (!session.ok()) return std::make_shared<ObjectLog>();
      watcher_ = *std::move(session);
    }
    auto log = std::make_shared<ObjectLog>();
    auto c = watcher_->Advise(AdviseTarget::Entry(folder), kStoreEvents, log);
    EXPECT_TRUE(c.ok()) << c.status();
    return log;
  }

  // PR_CONTENT_COUNT of `folder`, through the client (-1 on error).
  int ContentCount(const EntryId& folder) {
    auto props = store_->GetProps(folder, {PR_CONTENT_COUNT});
    EXPECT_TRUE(props.ok()) << props.status();
    if (!props.ok() || props->size() != 1) return -1;
    const auto* n = std::get_if<int32_t>(&(*props)[0].value);
    return n == nullptr ? -1 : *n;
  }
  // Rows of a new contents table of `folder` (-1 on error).
  int RowCount(const EntryId& folder) {
    auto table = store_->OpenContentsTable(folder);
    EXPECT_TRUE(table.ok()) << table.status();
    if (!table.ok()) return -1;
    auto rows = (*table)->GetRowCount();
    EXPECT_TRUE(rows.ok()) << rows.status();
    return rows.ok() ? static_cast<int>(*rows) : -1;
  }

  // Runs CopyMessages of `n` messages over the wire with `wire` and on a
  // twin directly with `direct`, on the calling thread, and compares.
  void CompareFlatCopy(int n, TestProgress& wire, TestProgress& direct) {
    const EntryId a = NewFolder(*direct_, ipm_, "A");
    const EntryId b = NewFolder(*direct_, ipm_, "B");
    const EntryId a2 = NewFolder(*direct_, ipm_, "A2");
    const EntryId b2 = NewFolder(*direct_, ipm_, "B2");
    const std::vector<EntryId> ids = Fill(*direct_, a, n);
    const std::vector<EntryId> ids2 = Fill(*direct_, a2, n);

    SCODE warning = MAPI_E_CALL_FAILED;
    ASSERT_TRUE(store_->CopyMessages(a, ids, b, 0, &warning, &wire).ok());
    EXPECT_EQ(warning, S_OK);
    SCODE direct_warning = MAPI_E_CALL_FAILED;
    ASSERT_TRUE(
        direct_->CopyMessages(a2, ids2, b2, 0, &direct_warning, &direct).ok());
    EXPECT_EQ(direct_warning, S_OK);

    EXPECT_TRUE(AllOn(wire.threads(), std::this_thread::get_id()));
    ExpectWireSubsequence(wire.calls(), direct.calls());
    ExpectSameFinalState(wire, direct);
    EXPECT_EQ(ContentCount(b), n);
  }

  // After an operation on `ids` of `src` into `dst` (a move when `move`)
  // that returned `warning`: the counts agree (PR_CONTENT_COUNT, contents
  // tables, the store), and the watchers (dst_log on `dst`, src_log on
  // `src` for a move) saw exactly the messages now in `dst`. Returns how
  // many were done.
  size_t ExpectConsistent(const EntryId& src, const EntryId& dst,
                          const std::vector<EntryId>& ids, bool move,
                          SCODE warning, ObjectLog& dst_log,
                          ObjectLog* src_log) {
    const int dst_count = ContentCount(dst);
    const int src_count = ContentCount(src);
    EXPECT_EQ(RowCount(dst), dst_count);
    EXPECT_EQ(RowCount(src), src_count);
    const std::vector<EntryId> in_dst = direct_->ListMessages(dst).value();
    const std::vector<EntryId> in_src = direct_->ListMessages(src).value();
    EXPECT_EQ(static_cast<int>(in_dst.size()), dst_count);
    EXPECT_EQ(static_cast<int>(in_src.size()), src_count);
    const int n = static_cast<int>(ids.size());
    if (move) {
      EXPECT_EQ(src_count + dst_count, n);
    } else {
      EXPECT_EQ(src_count, n);
    }
    EXPECT_EQ(warning, dst_count < n ? MAPI_W_PARTIAL_COMPLETION : S_OK);

    // Markers: the watchers' connections deliver in order, so once a
    // marker's creation arrived everything the operation published did.
    auto dst_marker = store_->CreateFolder(dst, "marker", "", 0);
    EXPECT_TRUE(dst_marker.ok()) << dst_marker.status();
    EXPECT_TRUE(dst_log.WaitFor(fnevObjectCreated, dst_marker.value_or("")));
    const ULONG event = move ? fnevObjectMoved : fnevObjectCopied;
    const std::vector<ObjectNotification> copied = dst_log.Messages(event);
    std::set<EntryId> notified;
    for (const ObjectNotification& o : copied) {
      notified.insert(o.entry_id);
      EXPECT_EQ(o.parent_id, dst);
      EXPECT_EQ(o.old_parent_id, src);
    }
    EXPECT_EQ(copied.size(), in_dst.size()) << "a message notified twice";
    EXPECT_EQ(notified, std::set<EntryId>(in_dst.begin(), in_dst.end()));

    if (src_log != nullptr) {
      auto src_marker = store_->CreateFolder(src, "marker", "", 0);
      EXPECT_TRUE(src_marker.ok()) << src_marker.status();
      EXPECT_TRUE(src_log->WaitFor(fnevObjectCreated, src_marker.value_or("")));
      std::set<EntryId> gone(ids.begin(), ids.end());
      for (const EntryId& left : in_src) gone.erase(left);
      std::set<EntryId> moved_away;
      for (const ObjectNotification& o : src_log->Messages(event)) {
        moved_away.insert(o.old_id);
      }
      EXPECT_EQ(moved_away, gone);
    }
    return in_dst.size();
  }

  // CopyMessages (or a move) of 500 messages whose progress object answers
  // MAPI_E_USER_CANCEL from the first value reaching `fraction` of its
  // range.
  void RunCancelAt(double fraction, bool move) {
    constexpr int kMessages = 500;
    const EntryId src = NewFolder(*direct_, ipm_, "Source");
    const EntryId dst = NewFolder(*direct_, ipm_, "Dest");
    const std::vector<EntryId> ids =
        FillHeavy(*direct_, src, kMessages, kCancelProps);
    std::shared_ptr<ObjectLog> dst_log = Watch(dst);
    std::shared_ptr<ObjectLog> src_log = move ? Watch(src) : nullptr;

    TestProgress progress;
    progress.CancelAtFraction(fraction);
    gate_->HoldAt(*progress.cancel_at());
    SCODE warning = MAPI_E_CALL_FAILED;
    ASSERT_TRUE(store_
                    ->CopyMessages(src, ids, dst, move ? MESSAGE_MOVE : 0,
                                   &warning, &progress)
                    .ok());

    // The cancel was answered once, by the last call.
    ASSERT_TRUE(progress.cancelled());
    const std::vector<ProgressCall>& calls = progress.calls();
    size_t cancels = 0;
    for (const ProgressCall& call : calls) {
      cancels += call.answer == MAPI_E_USER_CANCEL ? 1 : 0;
    }
    EXPECT_EQ(cancels, 1u);
    ASSERT_EQ(calls.back().kind, ProgressCall::kProgress);
    EXPECT_EQ(calls.back().answer, MAPI_E_USER_CANCEL);
    EXPECT_TRUE(AllOn(progress.threads(), std::this_thread::get_id()));

    // The server held the operation at the value the client answered, and
    // the answer reached it.
    EXPECT_EQ(gate_->held_at(), std::optional<ULONG>(calls.back().a));
    EXPECT_TRUE(gate_->cancel_arrived());

    const size_t done =
        ExpectConsistent(src, dst, ids, move, warning, *dst_log, src_log.get());
    // The operation stopped right after the item whose progress was
    // answered: the items done then stay done, and no later one was done.
    EXPECT_EQ(done, calls.back().b);
    EXPECT_EQ(warning, MAPI_W_PARTIAL_COMPLETION);
    EXPECT_LT(done, static_cast<size_t>(kMessages));
    std::printf("cancel at %.0f%% (%s): %zu of %d done, answered at item %u\n",
                fraction * 100, move ? "move" : "copy", done, kMessages,
                calls.back().b);
  }

  const std::shared_ptr<CancelGate> gate_ = std::make_shared<CancelGate>();
  StoreFixture f_;
  MsgStore* store_ = nullptr;
  server::store::Store* direct_ = nullptr;
  EntryId ipm_;
  std::unique_ptr<Session> watcher_;
};

// --- 1. Blocking forms: calls on the calling thread, as the store made them.

TEST_F(OperationProgress, BlockingCopyMessagesDeliversTheStoresSequence) {
  TestProgress wire, direct;
  CompareFlatCopy(200, wire, direct);
  ExpectProgressProperties(direct.calls(), 1, 1000, /*complete=*/true);
  // Every call of the store at the top level: "item i of N".
  EXPECT_EQ(wire.count(), 200u);
  EXPECT_EQ(wire.total(), 200u);
}

TEST_F(OperationProgress, BlockingCopyFolderWithSubfoldersNested) {
  const EntryId f = BuildTree(*direct_, ipm_, "F");
  const EntryId d = NewFolder(*direct_, ipm_, "D");
  const EntryId f2 = BuildTree(*direct_, ipm_, "F2");
  const EntryId d2 = NewFolder(*direct_, ipm_, "D2");

  TestProgress wire, direct;
  SCODE warning = MAPI_E_CALL_FAILED;
  auto copy =
      store_->CopyFolder(ipm_, f, d, "", COPY_SUBFOLDERS, &warning, &wire);
  ASSERT_TRUE(copy.ok()) << copy.status();
  EXPECT_EQ(warning, S_OK);
  auto direct_copy =
      direct_->CopyFolder(ipm_, f2, d2, "", COPY_SUBFOLDERS, nullptr, &direct);
  ASSERT_TRUE(direct_copy.ok()) << direct_copy.status();

  EXPECT_TRUE(AllOn(wire.threads(), std::this_thread::get_id()));
  ExpectProgressProperties(direct.calls(), 1, 1000, /*complete=*/true);
  // The store enters subobjects: local limits without MAPI_TOP_LEVEL.
  EXPECT_GT(CountKind(direct.calls(), ProgressCall::kSetLimits), 1u);
  ExpectWireSubsequence(wire.calls(), direct.calls());
  ExpectSameFinalState(wire, direct);

  // The copy is the entry id returned, with the whole subtree.
  EXPECT_EQ(direct_->ListSubfolders(d).value(), std::vector<EntryId>{*copy});
  EXPECT_EQ(direct_->ListSubfolders(*copy).value().size(), 3u);
  EXPECT_EQ(ContentCount(*copy), 20);
}

TEST_F(OperationProgress, BlockingHonoursTheObjectsOwnLimits) {
  TestProgress wire(MAPI_TOP_LEVEL, 0, 100), direct(MAPI_TOP_LEVEL, 0, 100);
  CompareFlatCopy(200, wire, direct);
  ExpectProgressProperties(direct.calls(), 0, 100, /*complete=*/true);
  EXPECT_EQ(wire.value(), 100u);
}

TEST_F(OperationProgress, BlockingWithoutTopLevelReportsNoCounts) {
  TestProgress wire(0, 1, 1000), direct(0, 1, 1000);
  CompareFlatCopy(200, wire, direct);
  // A subobject of the caller's own operation: no global limits are set,
  // count = total = 0 throughout.
  EXPECT_EQ(CountKind(wire.calls(), ProgressCall::kSetLimits), 0u);
  for (const ProgressCall& call : Reports(wire.calls())) {
    EXPECT_EQ(call.b, 0u) << call.ToString();
    EXPECT_EQ(call.c, 0u) << call.ToString();
  }
  EXPECT_EQ(wire.flags_now(), 0u);
  EXPECT_EQ(wire.value(), 1000u);
}

TEST_F(OperationProgress, WithoutProgressTheLongCallsStillWork) {
  const EntryId a = NewFolder(*direct_, ipm_, "A");
  const EntryId b = NewFolder(*direct_, ipm_, "B");
  const std::vector<EntryId> ids = Fill(*direct_, a, 10);
  SCODE warning = MAPI_E_CALL_FAILED;
  ASSERT_TRUE(store_->CopyMessages(a, ids, b, 0, &warning).ok());
  EXPECT_EQ(warning, S_OK);
  warning = MAPI_E_CALL_FAILED;
  auto copy = store_->CopyFolder(ipm_, a, b, "", 0, &warning);
  ASSERT_TRUE(copy.ok()) << copy.status();
  EXPECT_EQ(warning, S_OK);
  warning = MAPI_E_CALL_FAILED;
  ASSERT_TRUE(store_->EmptyFolder(b, 0, &warning).ok());
  EXPECT_EQ(warning, S_OK);
  EXPECT_EQ(ContentCount(b), 0);
}

TEST_F(OperationProgress, EveryLongCallTakesAProgressObject) {
  const EntryId a = NewFolder(*direct_, ipm_, "A");
  const EntryId b = NewFolder(*direct_, ipm_, "B");
  std::vector<EntryId> ids = Fill(*direct_, a, 30);
  auto run =
      [&](const char* what,
          const std::function<absl::Status(SCODE*, MapiProgress*)>& call) {
        SCOPED_TRACE(what);
        TestProgress progress;
        SCODE warning = MAPI_E_CALL_FAILED;
        absl::Status status = call(&warning, &progress);
        ASSERT_TRUE(status.ok()) << status;
        EXPECT_EQ(warning, S_OK);
        EXPECT_TRUE(AllOn(progress.threads(), std::this_thread::get_id()));
        ASSERT_FALSE(progress.calls().empty());
        EXPECT_EQ(progress.calls().back().kind, ProgressCall::kProgress);
        EXPECT_EQ(progress.value(), 1000u);
      };
  run("SetReadFlags", [&](SCODE* w, MapiProgress* p) {
    return store_->SetReadFlags(a, {}, 0, w, p);
  });
  run("DeleteMessages", [&](SCODE* w, MapiProgress* p) {
    return store_->DeleteMessages(a, {ids[0], ids[1]}, 0, w, p);
  });
  run("CopyFolder", [&](SCODE* w, MapiProgress* p) {
    return store_->CopyFolder(ipm_, a, b, "", 0, w, p).status();
  });
  const EntryId copy = direct_->ListSubfolders(b).value().at(0);
  run("EmptyFolder", [&](SCODE* w, MapiProgress* p) {
    return store_->EmptyFolder(copy, 0, w, p);
  });
  run("DeleteFolder", [&](SCODE* w, MapiProgress* p) {
    return store_->DeleteFolder(b, copy, DEL_FOLDERS | DEL_MESSAGES, w, p);
  });
  EXPECT_EQ(ContentCount(a), 28);
  EXPECT_TRUE(direct_->ListSubfolders(b).value().empty());
}

// --- 2. MsgStore::Start: progress, then done, on the loop's thread.

TEST_F(OperationProgress, StartDeliversProgressThenDoneOnTheLoopThread) {
  const EntryId f = BuildTree(*direct_, ipm_, "F");
  const EntryId d = NewFolder(*direct_, ipm_, "D");
  const EntryId f2 = BuildTree(*direct_, ipm_, "F2");
  const EntryId d2 = NewFolder(*direct_, ipm_, "D2");

  auto progress = std::make_shared<TestProgress>();
  std::shared_ptr<Operation> op;
  // Loop thread only; read after the join.
  std::thread::id loop_thread;
  int done_calls = 0;
  std::thread::id done_thread;
  size_t calls_at_done = 0;
  OperationResult result;
  bool done_before_callback = true;

  std::thread t([&] {
    loop_thread = std::this_thread::get_id();
    MessageLoop loop;
    bool finished = false;
    auto started = store_->Start(
        LongOperation::CopyFolder(ipm_, f, d, "", COPY_SUBFOLDERS), progress,
        loop, [&](const OperationResult& r) {
          ++done_calls;
          done_thread = std::this_thread::get_id();
          calls_at_done = progress->calls().size();
          result = r;
          finished = true;
          MessageLoop::Current()->Quit();
        });
    ASSERT_TRUE(started.ok()) << started.status();
    op = *started;
    done_before_callback = op->done();
    const absl::Time deadline = absl::Now() + kWait;
    while (!finished && absl::Now() < deadline) {
      loop.RunFor(deadline - absl::Now());
    }
    // Whatever might still be queued behind the callback runs now.
    loop.RunUntilIdle();
  });
  t.join();

  ASSERT_EQ(done_calls, 1);
  EXPECT_EQ(done_thread, loop_thread);
  EXPECT_FALSE(done_before_callback);
  ASSERT_NE(op, nullptr);
  EXPECT_TRUE(op->done());
  op->Cancel();  // After the end: no effect.
  EXPECT_TRUE(AllOn(progress->threads(), loop_thread));
  EXPECT_EQ(calls_at_done, progress->calls().size()) << "progress after done";
  ASSERT_TRUE(result.status.ok()) << result.status;
  EXPECT_EQ(result.warning, S_OK);
  EXPECT_EQ(direct_->ListSubfolders(d).value(),
            std::vector<EntryId>{result.entry_id});

  TestProgress direct;
  ASSERT_TRUE(
      direct_->CopyFolder(ipm_, f2, d2, "", COPY_SUBFOLDERS, nullptr, &direct)
          .ok());
  ExpectWireSubsequence(progress->calls(), direct.calls());
  ExpectSameFinalState(*progress, direct);
}

TEST_F(OperationProgress, StartWithoutProgressReportsTheWarning) {
  const EntryId a = NewFolder(*direct_, ipm_, "A");
  const EntryId b = NewFolder(*direct_, ipm_, "B");
  std::vector<EntryId> ids = Fill(*direct_, a, 20);
  // A well-formed id of no live message: skipped, hence partial completion.
  const std::vector<EntryId> gone = Fill(*direct_, a, 1);
  ASSERT_TRUE(direct_->DeleteMessages(a, gone, 0).ok());
  ids.push_back(gone[0]);

  LoopThread t;
  absl::Notification done;
  OperationResult result;
  std::thread::id done_thread;
  std::shared_ptr<Operation> op;
  t.RunSync([&] {
    auto started =
        store_->Start(LongOperation::CopyMessages(a, ids, b, 0), nullptr,
                      *MessageLoop::Current(), [&](const OperationResult& r) {
                        result = r;
                        done_thread = std::this_thread::get_id();
                        done.Notify();
                      });
    ASSERT_TRUE(started.ok()) << started.status();
    op = *started;
  });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(kWait));
  t.RunSync([] {});  // The callback has returned.
  EXPECT_TRUE(op->done());
  EXPECT_EQ(done_thread, t.id());
  ASSERT_TRUE(result.status.ok()) << result.status;
  EXPECT_EQ(result.warning, MAPI_W_PARTIAL_COMPLETION);
  EXPECT_TRUE(result.entry_id.empty());
  EXPECT_EQ(ContentCount(b), 20);
}

// --- 3. A ThisThreadProgress wrapper passed to a blocking call.

TEST_F(OperationProgress, WrappedProgressRunsOnTheWrappingThread) {
  const EntryId a = NewFolder(*direct_, ipm_, "A");
  const EntryId b = NewFolder(*direct_, ipm_, "B");
  const EntryId a2 = NewFolder(*direct_, ipm_, "A2");
  const EntryId b2 = NewFolder(*direct_, ipm_, "B2");
  const std::vector<EntryId> ids = Fill(*direct_, a, 200);
  const std::vector<EntryId> ids2 = Fill(*direct_, a2, 200);

  LoopThread t;
  auto original = std::make_shared<TestProgress>();
  absl::Notification reached_max;
  original->set_hook([&](ULONG value) {
    if (value == 1000 && !reached_max.HasBeenNotified()) reached_max.Notify();
  });
  std::shared_ptr<MapiProgress> wrapper;
  t.RunSync([&] {
    auto wrapped = ThisThreadProgress(original);
    ASSERT_TRUE(wrapped.ok()) << wrapped.status();
    wrapper = *wrapped;
  });
  ASSERT_NE(wrapper, nullptr);

  SCODE warning = MAPI_E_CALL_FAILED;
  ASSERT_TRUE(store_->CopyMessages(a, ids, b, 0, &warning, wrapper.get()).ok());
  EXPECT_EQ(warning, S_OK);
  ASSERT_TRUE(reached_max.WaitForNotificationWithTimeout(kWait));

  std::vector<ProgressCall> calls;
  std::vector<std::thread::id> threads;
  t.RunSync([&] {
    calls = original->calls();
    threads = original->threads();
  });
  wrapper.reset();
  EXPECT_TRUE(AllOn(threads, t.id()));
  EXPECT_NE(t.id(), std::this_thread::get_id());

  TestProgress direct;
  ASSERT_TRUE(direct_->CopyMessages(a2, ids2, b2, 0, nullptr, &direct).ok());
  ExpectWireSubsequence(calls, direct.calls());
}

// --- 4. Cancel.

TEST_F(OperationProgress, CancelCopyAt10Percent) { RunCancelAt(0.1, false); }
TEST_F(OperationProgress, CancelCopyAt50Percent) { RunCancelAt(0.5, false); }
TEST_F(OperationProgress, CancelCopyAt90Percent) { RunCancelAt(0.9, false); }
TEST_F(OperationProgress, CancelMoveAt10Percent) { RunCancelAt(0.1, true); }
TEST_F(OperationProgress, CancelMoveAt50Percent) { RunCancelAt(0.5, true); }
TEST_F(OperationProgress, CancelMoveAt90Percent) { RunCancelAt(0.9, true); }

TEST_F(OperationProgress, OperationCancelFromAnotherThread) {
  constexpr int kMessages = 500;
  const EntryId src = NewFolder(*direct_, ipm_, "Source");
  const EntryId dst = NewFolder(*direct_, ipm_, "Dest");
  const std::vector<EntryId> ids =
      FillHeavy(*direct_, src, kMessages, kCancelProps);
  std::shared_ptr<ObjectLog> dst_log = Watch(dst);

  LoopThread t;
  auto progress = std::make_shared<TestProgress>();
  absl::Notification first_progress;
  progress->set_hook([&](ULONG) {
    if (!first_progress.HasBeenNotified()) first_progress.Notify();
  });
  absl::Notification done;
  OperationResult result;
  std::shared_ptr<Operation> op;
  t.RunSync([&] {
    auto started =
        store_->Start(LongOperation::CopyMessages(src, ids, dst, 0), progress,
                      *MessageLoop::Current(), [&](const OperationResult& r) {
                        result = r;
                        done.Notify();
                      });
    ASSERT_TRUE(started.ok()) << started.status();
    op = *started;
  });
  ASSERT_TRUE(first_progress.WaitForNotificationWithTimeout(kWait));
  op->Cancel();  // From this thread, not the loop's.
  op->Cancel();  // Idempotent.
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(kWait));
  t.RunSync([] {});
  EXPECT_TRUE(op->done());

  ASSERT_TRUE(result.status.ok()) << result.status;
  std::vector<std::thread::id> threads;
  t.RunSync([&] { threads = progress->threads(); });
  EXPECT_TRUE(AllOn(threads, t.id()));
  const size_t done_count = ExpectConsistent(src, dst, ids, /*move=*/false,
                                             result.warning, *dst_log, nullptr);
  std::printf("Operation::Cancel: %zu of %d done\n", done_count, kMessages);
}

// --- 5. A slow consumer never holds up the server.

TEST_F(OperationProgress, SlowConsumerGetsCoalescedCallsAndTheLastOne) {
  constexpr int kMessages = 500;
  const EntryId src = NewFolder(*direct_, ipm_, "Source");
  const EntryId dst = NewFolder(*direct_, ipm_, "Dest");
  const std::vector<EntryId> ids = Fill(*direct_, src, kMessages);
  std::shared_ptr<ObjectLog> dst_log = Watch(dst);

  absl::Notification entered, release;
  TestProgress progress;
  progress.set_hook([&](ULONG) {
    if (entered.HasBeenNotified()) return;
    entered.Notify();
    // Blocks the waiting thread inside its first Progress call.
    release.WaitForNotificationWithTimeout(kWait);
  });
  absl::Status status;
  SCODE warning = MAPI_E_CALL_FAILED;
  std::thread::id worker_id;
  std::thread worker([&] {
    worker_id = std::this_thread::get_id();
    status = store_->CopyMessages(src, ids, dst, 0, &warning, &progress);
  });
  const bool blocked = entered.WaitForNotificationWithTimeout(kWait);
  // While the consumer is blocked the server completes the whole operation.
  const bool completed =
      blocked && dst_log->WaitForCount(fnevObjectCopied, kMessages);
  release.Notify();
  worker.join();
  ASSERT_TRUE(blocked);
  EXPECT_TRUE(completed);

  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(warning, S_OK);
  EXPECT_TRUE(AllOn(progress.threads(), worker_id));
  const size_t progress_calls =
      CountKind(progress.calls(), ProgressCall::kProgress);
  EXPECT_LT(progress_calls, static_cast<size_t>(kMessages) / 10);
  ASSERT_EQ(progress.calls().back().kind, ProgressCall::kProgress);
  EXPECT_EQ(progress.calls().back().a, 1000u);
  EXPECT_EQ(progress.calls().back().b, static_cast<ULONG>(kMessages));
  ULONG last = 0;
  for (const ProgressCall& call : Reports(progress.calls())) {
    if (call.kind != ProgressCall::kProgress) continue;
    EXPECT_GE(call.a, last);
    last = call.a;
  }
  std::printf("slow consumer: %zu Progress calls for %d items\n",
              progress_calls, kMessages);
}

// --- 6. Bad input, and the ends of things.

TEST_F(OperationProgress, StartWithAnEmptyCallbackIsInvalid) {
  MessageLoop loop;
  auto started = store_->Start(LongOperation::EmptyFolder(ipm_, 0), nullptr,
                               loop, OperationCallback());
  EXPECT_EQ(started.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(OperationProgress, MalformedIdFailsBeforeAnyProgress) {
  const EntryId a = NewFolder(*direct_, ipm_, "A");
  const std::vector<EntryId> ids = Fill(*direct_, a, 3);
  const std::vector<EntryId> bad = {ids[0], "garbage", ids[1]};

  TestProgress progress;
  SCODE warning = MAPI_E_CALL_FAILED;
  absl::Status status = store_->DeleteMessages(a, bad, 0, &warning, &progress);
  EXPECT_EQ(ScodeOf(status), MAPI_E_INVALID_ENTRYID) << status;
  EXPECT_EQ(warning, MAPI_E_CALL_FAILED) << "set only on success";
  EXPECT_EQ(Reports(progress.calls()).size(), 0u);
  EXPECT_EQ(ContentCount(a), 3);

  LoopThread t;
  auto async_progress = std::make_shared<TestProgress>();
  absl::Notification done;
  OperationResult result;
  t.RunSync([&] {
    auto started = store_->Start(
        LongOperation::CopyFolder(ipm_, "garbage", ipm_, "x", 0),
        async_progress, *MessageLoop::Current(), [&](const OperationResult& r) {
          result = r;
          done.Notify();
        });
    ASSERT_TRUE(started.ok()) << started.status();
  });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(kWait));
  EXPECT_EQ(ScodeOf(result.status), MAPI_E_INVALID_ENTRYID) << result.status;
  EXPECT_TRUE(result.entry_id.empty());
  t.RunSync([&] { EXPECT_EQ(Reports(async_progress->calls()).size(), 0u); });
}

TEST_F(OperationProgress, AfterTheSessionEndsCallsFailWithEndOfSession) {
  const EntryId a = NewFolder(*direct_, ipm_, "A");
  const std::vector<EntryId> ids = Fill(*direct_, a, 3);
  f_.session.reset();

  TestProgress progress;
  absl::Status status = store_->DeleteMessages(a, ids, 0, nullptr, &progress);
  EXPECT_EQ(ScodeOf(status), MAPI_E_END_OF_SESSION) << status;
  EXPECT_TRUE(progress.calls().empty());

  MessageLoop loop;
  bool called = false;
  auto started =
      store_->Start(LongOperation::DeleteMessages(a, ids, 0), nullptr, loop,
                    [&](const OperationResult&) { called = true; });
  EXPECT_EQ(ScodeOf(started.status()), MAPI_E_END_OF_SESSION)
      << started.status();
  loop.RunUntilIdle();
  EXPECT_FALSE(called);
  EXPECT_EQ(direct_->ListMessages(a).value().size(), 3u);
}

TEST_F(OperationProgress, ADestroyedLoopEndsDeliveryNotTheOperation) {
  constexpr int kMessages = 100;
  const EntryId src = NewFolder(*direct_, ipm_, "Source");
  const EntryId dst = NewFolder(*direct_, ipm_, "Dest");
  const std::vector<EntryId> ids = Fill(*direct_, src, kMessages);
  std::shared_ptr<ObjectLog> dst_log = Watch(dst);

  auto progress = std::make_shared<TestProgress>();
  std::atomic<bool> called{false};
  std::shared_ptr<Operation> op;
  {
    MessageLoop loop;  // Never pumped.
    auto started =
        store_->Start(LongOperation::CopyMessages(src, ids, dst, 0), progress,
                      loop, [&](const OperationResult&) { called = true; });
    ASSERT_TRUE(started.ok()) << started.status();
    op = *started;
    EXPECT_FALSE(op->done());
  }
  // The loop is gone: the callback never will run.
  EXPECT_TRUE(op->done());
  // The operation still completes on the server.
  EXPECT_TRUE(dst_log->WaitForCount(fnevObjectCopied, kMessages));
  op->Cancel();  // Harmless.
  EXPECT_FALSE(called);
  // Only the three getters ran, on this thread at the start.
  EXPECT_EQ(progress->calls().size(), 3u);
}

}  // namespace
}  // namespace mapinotify::testing
