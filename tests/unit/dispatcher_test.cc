#include "client/dispatcher.h"

#include <atomic>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "client/notification_thread.h"
#include "client/this_thread_sink.h"
#include "gtest/gtest.h"
#include "mapinotify/message_loop.h"

namespace mapinotify {
namespace internal {
namespace {

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

const absl::Duration kTimeout = absl::Seconds(60);

// An ObjectModified notification whose entry id names its sequence.
std::shared_ptr<const Notification> Object(uint64_t seq) {
  auto n = std::make_shared<Notification>();
  n->event_type = fnevObjectModified;
  ObjectNotification o;
  o.entry_id = absl::StrCat("e", seq);
  o.object_type = MAPI_MESSAGE;
  n->info = std::move(o);
  return n;
}

DeliveryGroup Group(ConnectionId c, uint64_t first, size_t count) {
  DeliveryGroup g;
  g.connection = c;
  for (uint64_t s = first; s < first + count; ++s) {
    g.deliveries.push_back(Delivery{s, Object(s)});
  }
  g.bytes = 100 * count;
  return g;
}

void EnqueueOne(Dispatcher& d, DeliveryGroup g) {
  d.Enqueue(absl::MakeSpan(&g, 1));
}

// One OnNotify call as the sink saw it.
struct Call {
  std::thread::id thread;
  ConnectionId connection;
  std::vector<uint64_t> sequences;
  std::vector<ULONG> events;
  std::vector<SCODE> scodes;        // ErrorNotification::scode, else 0.
  std::vector<ULONG> table_events;  // TableNotification::table_event, else 0.
  bool payload_ok = true;           // Entry ids match the sequences.
};

// Records every call; optionally runs a hook first. Thread-safe.
class RecordingSink : public AdviseSink {
 public:
  void OnNotify(const NotificationBatch& batch) override {
    entered_.fetch_add(1);
    Call call;
    call.thread = std::this_thread::get_id();
    call.connection = batch.connection();
    for (size_t i = 0; i < batch.size(); ++i) {
      call.sequences.push_back(batch.sequence(i));
      call.events.push_back(batch[i].event_type);
      call.scodes.push_back(batch[i].error() ? batch[i].error()->scode : 0);
      call.table_events.push_back(
          batch[i].table() ? batch[i].table()->table_event : 0);
      if (const ObjectNotification* o = batch[i].object()) {
        if (o->entry_id != absl::StrCat("e", batch.sequence(i))) {
          call.payload_ok = false;
        }
      }
    }
    std::function<void(const NotificationBatch&)> hook;
    {
      absl::MutexLock lock(&mu_);
      hook = hook_;
    }
    if (hook) hook(batch);
    absl::MutexLock lock(&mu_);
    notifications_ += batch.size();
    calls_.push_back(std::move(call));
  }

  void set_hook(std::function<void(const NotificationBatch&)> hook) {
    absl::MutexLock lock(&mu_);
    hook_ = std::move(hook);
  }
  bool WaitForNotifications(size_t n, absl::Duration timeout = kTimeout) {
    absl::MutexLock lock(&mu_);
    auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return notifications_ >= n;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), timeout);
  }
  std::vector<Call> calls() const {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  size_t notifications() const {
    absl::MutexLock lock(&mu_);
    return notifications_;
  }
  int entered() const { return entered_.load(); }

 private:
  std::atomic<int> entered_{0};
  mutable absl::Mutex mu_;
  std::function<void(const NotificationBatch&)> hook_ ABSL_GUARDED_BY(mu_);
  std::vector<Call> calls_ ABSL_GUARDED_BY(mu_);
  size_t notifications_ ABSL_GUARDED_BY(mu_) = 0;
};

// Waits until everything `core` had pending when called has run.
void Flush(LoopCore& core) {
  absl::Notification done;
  ASSERT_TRUE(core.PostTask([&] { done.Notify(); }).ok());
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(kTimeout));
}

// Runs `f` on `core`'s thread and waits for it.
void RunOn(LoopCore& core, std::function<void()> f) {
  absl::Notification done;
  ASSERT_TRUE(core.PostTask([&] {
                    f();
                    done.Notify();
                  })
                  .ok());
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(kTimeout));
}

TEST(DispatcherTest, AddValidatesArguments) {
  NotificationThread thread;
  Dispatcher d(thread.core(), {});
  auto sink = std::make_shared<RecordingSink>();
  EXPECT_EQ(d.Add(0, sink, false).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(d.Add(1, nullptr, false).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(d.Add(1, sink, false).ok());
  EXPECT_EQ(d.Add(1, sink, false).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(d.connection_count(), 1u);
  d.Remove(1);
  d.Remove(1);  // Unknown: no-op.
  EXPECT_EQ(d.connection_count(), 0u);
  EXPECT_EQ(d.connection_stats(1).status().code(), absl::StatusCode::kNotFound);
}

TEST(DispatcherTest, BatchesRunOnTheDefaultLoopInOrderOneCallPerBatch) {
  NotificationThread thread;
  Dispatcher d(thread.core(), {});
  auto sink = std::make_shared<RecordingSink>();
  ASSERT_TRUE(d.Add(7, sink, false).ok());
  for (uint64_t i = 0; i < 10; ++i) EnqueueOne(d, Group(7, 1 + i * 5, 5));
  EnqueueOne(d, Group(99, 1, 3));  // Unknown connection: dropped.
  ASSERT_TRUE(sink->WaitForNotifications(50));
  Flush(*thread.core());
  std::vector<Call> calls = sink->calls();
  uint64_t next = 1;
  size_t total = 0;
  for (const Call& call : calls) {
    EXPECT_EQ(call.thread, thread.thread_id());
    EXPECT_NE(call.thread, std::this_thread::get_id());
    EXPECT_EQ(call.connection, 7u);
    EXPECT_EQ(call.sequences.size(), 5u);  // One call per batch.
    EXPECT_TRUE(call.payload_ok);
    for (uint64_t s : call.sequences) EXPECT_EQ(s, next++);
    total += call.sequences.size();
  }
  EXPECT_EQ(calls.size(), 10u);
  EXPECT_EQ(total, 50u);
  DispatcherStats stats = d.stats();
  EXPECT_EQ(stats.delivered_notifications, 50u);
  EXPECT_EQ(stats.delivered_batches, 10u);
  EXPECT_EQ(stats.queued_notifications, 0u);
  EXPECT_EQ(stats.resyncs_issued, 0u);
}

// Two connections (1 and 2) on one notification thread, whose sinks record
// the sequences they get in one list, in call order. Connection 1's first
// call runs `first_call` (on the loop's thread) after recording.
class TwoConnections {
 public:
  explicit TwoConnections(std::function<void()> first_call)
      : d_(thread_.core(), {}), first_call_(std::move(first_call)) {
    one_->set_hook([this](const NotificationBatch& batch) {
      Record(batch);
      if (first_call_) std::exchange(first_call_, nullptr)();
    });
    two_->set_hook([this](const NotificationBatch& batch) { Record(batch); });
    EXPECT_TRUE(d_.Add(1, one_, false).ok());
    EXPECT_TRUE(d_.Add(2, two_, false).ok());
  }

  Dispatcher& dispatcher() { return d_; }
  LoopCore& loop() { return *thread_.core(); }

  // Queues 1: seq 1, waits until sink 1 has `n1` and sink 2 `n2`
  // notifications and the loop is idle, and returns the order.
  std::vector<uint64_t> Run(size_t n1, size_t n2) {
    EnqueueOne(d_, Group(1, 1, 1));
    EXPECT_TRUE(one_->WaitForNotifications(n1));
    EXPECT_TRUE(two_->WaitForNotifications(n2));
    Flush(*thread_.core());
    return order();
  }
  std::vector<uint64_t> order() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return order_;
  }

 private:
  void Record(const NotificationBatch& batch) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    for (size_t i = 0; i < batch.size(); ++i) {
      order_.push_back(batch.sequence(i));
    }
  }

  NotificationThread thread_;
  Dispatcher d_;
  std::function<void()> first_call_;  // The loop's thread only.
  const std::shared_ptr<RecordingSink> one_ = std::make_shared<RecordingSink>();
  const std::shared_ptr<RecordingSink> two_ = std::make_shared<RecordingSink>();
  absl::Mutex mu_;
  std::vector<uint64_t> order_ ABSL_GUARDED_BY(mu_);
};

// Across the connections of one loop, sinks are called in the order the
// groups were queued (the session's sequence order), also when a connection
// is in the middle of a call when the next groups arrive: here connection 1's
// sink is running (1: seq 1) when the reader queues 2: seq 2 and then 1: seq
// 3. A drain that went on with what arrived for its own connection would
// call 1 with seq 3 before 2 with seq 2.
TEST(DispatcherTest, OrderAcrossConnectionsHoldsWhileOneIsInACall) {
  TwoConnections* c = nullptr;
  TwoConnections two([&c] {
    // As the reader would while this call runs: two more wire messages.
    EnqueueOne(c->dispatcher(), Group(2, 2, 1));
    EnqueueOne(c->dispatcher(), Group(1, 3, 1));
  });
  c = &two;
  EXPECT_EQ(two.Run(2, 1), (std::vector<uint64_t>{1, 2, 3}));
}

// A sink that runs a nested loop (here RunUntilIdle from inside OnNotify)
// lets the other connections' earlier groups through, never its own later
// ones nor anything queued after them: 1: seq 1 is in its call when 2: seq
// 2, 1: seq 3 and 2: seq 4 arrive; the nested loop delivers seq 2 only, and
// seq 3 then seq 4 follow once the call returned.
TEST(DispatcherTest, NestedLoopInsideASinkKeepsTheOrder) {
  TwoConnections* c = nullptr;
  std::vector<uint64_t> nested;  // What the nested loop delivered.
  TwoConnections two([&c, &nested] {
    EnqueueOne(c->dispatcher(), Group(2, 2, 1));
    EnqueueOne(c->dispatcher(), Group(1, 3, 1));
    EnqueueOne(c->dispatcher(), Group(2, 4, 1));
    const size_t before = c->order().size();
    c->loop().RunUntilIdle();
    const std::vector<uint64_t> after = c->order();
    nested.assign(after.begin() + static_cast<long>(before), after.end());
  });
  c = &two;
  EXPECT_EQ(two.Run(2, 2), (std::vector<uint64_t>{1, 2, 3, 4}));
  EXPECT_EQ(nested, (std::vector<uint64_t>{2}));
}

TEST(DispatcherTest, PerConnectionOrderUnderConcurrentEnqueuers) {
  NotificationThread default_thread;
  NotificationThread other_thread;
  Dispatcher d(default_thread.core(), {});
  constexpr int kEnqueuers = 4;
  constexpr uint64_t kMessages = 2000;
  // Enqueuer t feeds connections 10t+1 (default loop) and 10t+2 (a
  // ThisThreadAdviseSink made on other_thread) in each wire message.
  std::vector<std::shared_ptr<RecordingSink>> sinks;
  for (int t = 0; t < kEnqueuers; ++t) {
    auto a = std::make_shared<RecordingSink>();
    auto b = std::make_shared<RecordingSink>();
    ASSERT_TRUE(d.Add(10 * t + 1, a, false).ok());
    RunOn(*other_thread.core(), [&] {
      auto wrapped = ThisThreadAdviseSink(b);
      ASSERT_TRUE(wrapped.ok());
      ASSERT_TRUE(d.Add(10 * t + 2, *wrapped, false).ok());
    });
    sinks.push_back(a);
    sinks.push_back(b);
  }
  std::vector<std::thread> enqueuers;
  for (int t = 0; t < kEnqueuers; ++t) {
    enqueuers.emplace_back([&d, t] {
      for (uint64_t m = 0; m < kMessages; ++m) {
        std::vector<DeliveryGroup> groups;
        groups.push_back(Group(10 * t + 1, 1 + 3 * m, 3));
        groups.push_back(Group(10 * t + 2, 1 + 2 * m, 2));
        d.Enqueue(absl::MakeSpan(groups));
      }
    });
  }
  for (auto& e : enqueuers) e.join();
  for (int t = 0; t < kEnqueuers; ++t) {
    for (int k = 0; k < 2; ++k) {
      RecordingSink& sink = *sinks[2 * t + k];
      const size_t per = k == 0 ? 3 : 2;
      ASSERT_TRUE(sink.WaitForNotifications(kMessages * per));
      const std::thread::id expected_thread =
          k == 0 ? default_thread.thread_id() : other_thread.thread_id();
      uint64_t next = 1;
      std::vector<Call> calls = sink.calls();
      EXPECT_EQ(calls.size(), kMessages);
      for (const Call& call : calls) {
        EXPECT_EQ(call.thread, expected_thread);
        EXPECT_EQ(call.connection, static_cast<ConnectionId>(10 * t + 1 + k));
        EXPECT_EQ(call.sequences.size(), per);
        EXPECT_TRUE(call.payload_ok);
        for (uint64_t s : call.sequences) ASSERT_EQ(s, next++);
      }
    }
  }
  EXPECT_EQ(d.stats().resyncs_issued, 0u);
}

// A sink that counts calls running now and calls entered after `closed`.
class FenceSink : public AdviseSink {
 public:
  void OnNotify(const NotificationBatch& batch) override {
    running_.fetch_add(1);
    if (closed_.load()) late_.fetch_add(1);
    calls_.fetch_add(1);
    if (!first_.exchange(true)) first_call_.Notify();
    volatile uint64_t sum = 0;  // A little work, to widen the window.
    for (size_t i = 0; i < batch.size(); ++i) sum = sum + batch.sequence(i);
    running_.fetch_sub(1);
  }
  std::atomic<int> running_{0};
  std::atomic<bool> closed_{false};
  std::atomic<int> late_{0};
  std::atomic<int> calls_{0};
  std::atomic<bool> first_{false};
  absl::Notification first_call_;
};

TEST(DispatcherTest, RemoveIsAFenceUnderFire) {
  NotificationThread thread;
  Dispatcher d(thread.core(), {});
  const int kRepetitions = 200;
  int late = 0;
  int running_after_remove = 0;
  for (int rep = 0; rep < kRepetitions; ++rep) {
    const ConnectionId c = rep + 1;
    auto sink = std::make_shared<FenceSink>();
    ASSERT_TRUE(d.Add(c, sink, false).ok());
    std::atomic<bool> stop{false};
    absl::Notification started;
    std::thread enqueuer([&] {
      uint64_t seq = 1;
      while (!stop.load()) {
        EnqueueOne(d, Group(c, seq, 4));
        seq += 4;
        if (seq == 4 * 8 + 1) started.Notify();
      }
    });
    started.WaitForNotification();
    // Until the sink is being called, so that Remove meets running calls.
    ASSERT_TRUE(sink->first_call_.WaitForNotificationWithTimeout(kTimeout));
    d.Remove(c);
    if (sink->running_.load() != 0) ++running_after_remove;
    sink->closed_.store(true);
    // Let the enqueuer go on after the Remove, then let the loop run all
    // it had scheduled.
    EnqueueOne(d, Group(c, 1u << 30, 4));
    stop.store(true);
    enqueuer.join();
    Flush(*thread.core());
    late += sink->late_.load();
  }
  EXPECT_EQ(running_after_remove, 0);
  EXPECT_EQ(late, 0);
  EXPECT_EQ(d.connection_count(), 0u);
  EXPECT_EQ(d.stats().queued_notifications, 0u);
}

TEST(DispatcherTest, RemoveFromInsideOwnOnNotifyDoesNotDeadlock) {
  NotificationThread thread;
  Dispatcher d(thread.core(), {});
  auto sink = std::make_shared<RecordingSink>();
  std::weak_ptr<RecordingSink> weak = sink;
  absl::Notification removed;
  sink->set_hook([&](const NotificationBatch& batch) {
    d.Remove(batch.connection());  // Returns: we are inside the call.
    removed.Notify();
  });
  ASSERT_TRUE(d.Add(3, sink, false).ok());
  std::vector<DeliveryGroup> groups;
  groups.push_back(Group(3, 1, 2));
  groups.push_back(Group(3, 3, 2));
  groups.push_back(Group(3, 5, 2));
  d.Enqueue(absl::MakeSpan(groups));
  ASSERT_TRUE(removed.WaitForNotificationWithTimeout(kTimeout));
  EnqueueOne(d, Group(3, 7, 1));
  Flush(*thread.core());
  std::vector<Call> calls = sink->calls();
  ASSERT_EQ(calls.size(), 1u);  // The batches after the Remove: never.
  EXPECT_EQ(calls[0].sequences, (std::vector<uint64_t>{1, 2}));
  sink->set_hook(nullptr);
  sink.reset();
  EXPECT_TRUE(weak.expired());  // Released once the running call ended.
}

TEST(DispatcherTest, AddAndRemoveFromInsideOnNotify) {
  NotificationThread thread;
  Dispatcher d(thread.core(), {});
  auto first = std::make_shared<RecordingSink>();
  auto added = std::make_shared<RecordingSink>();
  auto victim = std::make_shared<RecordingSink>();
  ASSERT_TRUE(d.Add(1, first, false).ok());
  ASSERT_TRUE(d.Add(3, victim, false).ok());
  absl::Notification hook_done;
  first->set_hook([&](const NotificationBatch&) {
    if (hook_done.HasBeenNotified()) return;
    EXPECT_TRUE(d.Add(2, added, true).ok());
    d.Remove(3);
    EXPECT_EQ(d.Add(1, added, false).code(), absl::StatusCode::kAlreadyExists);
    hook_done.Notify();
  });
  EnqueueOne(d, Group(1, 1, 1));
  ASSERT_TRUE(hook_done.WaitForNotificationWithTimeout(kTimeout));
  std::vector<DeliveryGroup> groups;
  groups.push_back(Group(2, 10, 2));
  groups.push_back(Group(3, 10, 2));
  groups.push_back(Group(1, 2, 1));
  d.Enqueue(absl::MakeSpan(groups));
  ASSERT_TRUE(added->WaitForNotifications(2));
  ASSERT_TRUE(first->WaitForNotifications(2));
  Flush(*thread.core());
  EXPECT_EQ(victim->notifications(), 0u);
  ASSERT_EQ(added->calls().size(), 1u);
  EXPECT_EQ(added->calls()[0].sequences, (std::vector<uint64_t>{10, 11}));
  EXPECT_EQ(added->calls()[0].thread, thread.thread_id());
}

TEST(DispatcherTest, NeverPumpedLoopStaysBoundedThenResyncs) {
  MessageLoop loop;  // On this thread, not pumped while enqueueing.
  DispatcherOptions options;
  options.max_queued_notifications = 1000;
  options.max_queued_bytes = 64 * 1024;
  Dispatcher d(loop.core(), options);
  auto plain = std::make_shared<RecordingSink>();
  auto table = std::make_shared<RecordingSink>();
  ASSERT_TRUE(d.Add(1, plain, /*table_target=*/false).ok());
  ASSERT_TRUE(d.Add(2, table, /*table_target=*/true).ok());

  // 1,000,000 notifications for each connection, 64 per wire message, from
  // another thread (a gRPC reader's role).
  constexpr uint64_t kTotal = 1000000;
  constexpr size_t kPerMessage = 64;
  auto shared = Object(0);
  std::thread reader([&] {
    for (uint64_t seq = 1; seq <= kTotal; seq += kPerMessage) {
      std::vector<DeliveryGroup> groups(2);
      for (int k = 0; k < 2; ++k) {
        groups[k].connection = k + 1;
        for (uint64_t s = seq; s < seq + kPerMessage && s <= kTotal; ++s) {
          groups[k].deliveries.push_back(Delivery{s, shared});
        }
        groups[k].bytes = groups[k].deliveries.size() * 120;
      }
      d.Enqueue(absl::MakeSpan(groups));
    }
  });
  reader.join();

  DispatcherStats stats = d.stats();
  EXPECT_LE(stats.connection_high_water_notifications, 1000u);
  EXPECT_LE(stats.connection_high_water_bytes, 64u * 1024);
  EXPECT_LE(stats.high_water_notifications, 2000u);
  EXPECT_LE(stats.queued_notifications, 2000u);
  EXPECT_GE(stats.dropped_notifications, 2 * kTotal - 2000);
  for (ConnectionId c : {1, 2}) {
    auto cs = d.connection_stats(c);
    ASSERT_TRUE(cs.ok());
    EXPECT_LE(cs->high_water_notifications, 1000u);
    EXPECT_LE(cs->high_water_bytes, 64u * 1024);
    // The byte bound (64 KiB / 120 bytes < 1000) was the one reached.
    EXPECT_GT(cs->high_water_bytes, 64u * 1024 - kPerMessage * 120);
    EXPECT_GT(cs->dropped_notifications, kTotal - 1000);
  }
  EXPECT_EQ(plain->notifications(), 0u);  // Nothing ran on the reader.

  loop.RunUntilIdle();
  for (RecordingSink* sink : {plain.get(), table.get()}) {
    std::vector<Call> calls = sink->calls();
    ASSERT_EQ(calls.size(), 1u);
    ASSERT_EQ(calls[0].sequences.size(), 1u);
    EXPECT_EQ(calls[0].sequences[0], 0u);
    EXPECT_EQ(calls[0].thread, std::this_thread::get_id());
  }
  EXPECT_EQ(plain->calls()[0].events[0], fnevCriticalError);
  EXPECT_EQ(plain->calls()[0].scodes[0], MAPI_E_NOTIFICATIONS_LOST);
  EXPECT_EQ(table->calls()[0].events[0], fnevTableModified);
  EXPECT_EQ(table->calls()[0].table_events[0], TABLE_RELOAD);
  EXPECT_EQ(d.stats().resyncs_issued, 2u);
  EXPECT_EQ(d.stats().queued_notifications, 0u);

  // Live again.
  EnqueueOne(d, Group(1, kTotal + 1, 3));
  EnqueueOne(d, Group(1, kTotal + 4, 2));
  EnqueueOne(d, Group(2, kTotal + 1, 1));
  loop.RunUntilIdle();
  std::vector<Call> calls = plain->calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[1].sequences,
            (std::vector<uint64_t>{kTotal + 1, kTotal + 2, kTotal + 3}));
  EXPECT_EQ(calls[2].sequences,
            (std::vector<uint64_t>{kTotal + 4, kTotal + 5}));
  ASSERT_EQ(table->calls().size(), 2u);
  EXPECT_EQ(table->calls()[1].sequences, (std::vector<uint64_t>{kTotal + 1}));
  EXPECT_EQ(d.stats().resyncs_issued, 2u);
}

// One wire message's groups go in one Enqueue call; consecutive groups of
// one connection share a lock. The bounds still apply group by group, and
// the counters come out as if each group had gone in alone.
TEST(DispatcherTest, ARunOfGroupsOverflowsAtTheGroupThatDoesNotFit) {
  MessageLoop loop;
  DispatcherOptions options;
  options.max_queued_notifications = 10;
  Dispatcher d(loop.core(), options);
  auto one = std::make_shared<RecordingSink>();
  auto two = std::make_shared<RecordingSink>();
  ASSERT_TRUE(d.Add(1, one, false).ok());
  ASSERT_TRUE(d.Add(2, two, false).ok());
  std::vector<DeliveryGroup> groups;
  for (uint64_t s = 1; s <= 8; s += 2) groups.push_back(Group(1, s, 2));
  groups.push_back(Group(2, 1, 2));
  for (uint64_t s = 9; s <= 16; s += 2) groups.push_back(Group(1, s, 2));
  d.Enqueue(absl::MakeSpan(groups));

  // Connection 1 held 10 (five groups) when the sixth did not fit: those
  // 10, that group and the two after it are dropped.
  auto cs = d.connection_stats(1);
  ASSERT_TRUE(cs.ok());
  EXPECT_EQ(cs->high_water_notifications, 10u);
  EXPECT_EQ(cs->dropped_notifications, 16u);
  EXPECT_EQ(cs->queued_notifications, 0u);
  DispatcherStats stats = d.stats();
  EXPECT_EQ(stats.high_water_notifications, 12u);  // 10 + connection 2's 2.
  EXPECT_EQ(stats.queued_notifications, 2u);
  EXPECT_EQ(stats.dropped_notifications, 16u);

  loop.RunUntilIdle();
  std::vector<Call> calls = one->calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].sequences, std::vector<uint64_t>{0});  // The resync.
  ASSERT_EQ(two->calls().size(), 1u);
  EXPECT_EQ(two->calls()[0].sequences, (std::vector<uint64_t>{1, 2}));
  stats = d.stats();
  EXPECT_EQ(stats.queued_notifications, 0u);
  EXPECT_EQ(stats.delivered_notifications, 2u);
  EXPECT_EQ(stats.delivered_batches, 2u);  // The resync and the group.
  EXPECT_EQ(stats.resyncs_issued, 1u);
}

TEST(DispatcherTest, ServerResyncIsDeliveredInOrder) {
  MessageLoop loop;
  Dispatcher d(loop.core(), {});
  auto sink = std::make_shared<RecordingSink>();
  ASSERT_TRUE(d.Add(5, sink, false).ok());
  EnqueueOne(d, Group(5, 1, 2));
  d.EnqueueResync(5, "resume point fell out of retention");
  d.EnqueueResync(5, "again");  // Consecutive: one signal.
  EnqueueOne(d, Group(5, 40, 1));
  d.EnqueueResync(99, "unknown");      // Ignored.
  EXPECT_EQ(loop.RunUntilIdle(), 1u);  // One drain for the connection.
  std::vector<Call> calls = sink->calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0].sequences, (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(calls[1].sequences, (std::vector<uint64_t>{0}));
  EXPECT_EQ(calls[1].events[0], fnevCriticalError);
  EXPECT_EQ(calls[1].scodes[0], MAPI_E_NOTIFICATIONS_LOST);
  EXPECT_EQ(calls[2].sequences, (std::vector<uint64_t>{40}));
  EXPECT_EQ(d.stats().resyncs_issued, 1u);
}

TEST(DispatcherTest, WrappedSinkRunsOnWrappingThreadWithoutExtraHop) {
  NotificationThread default_thread;
  NotificationThread wrapping_thread;
  Dispatcher d(default_thread.core(), {});
  auto sink = std::make_shared<RecordingSink>();
  std::shared_ptr<AdviseSink> wrapped;
  RunOn(*wrapping_thread.core(), [&] {
    auto w = ThisThreadAdviseSink(sink);
    ASSERT_TRUE(w.ok());
    wrapped = *w;
  });
  ASSERT_TRUE(d.Add(4, wrapped, false).ok());
  EnqueueOne(d, Group(4, 1, 3));
  ASSERT_TRUE(sink->WaitForNotifications(3));
  std::vector<Call> calls = sink->calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].thread, wrapping_thread.thread_id());
  EXPECT_EQ(calls[0].sequences, (std::vector<uint64_t>{1, 2, 3}));
  // Delivered straight to the wrapped sink: the wrapper posted no task.
  const auto* wrapper = ThisThreadSink::From(wrapped.get());
  ASSERT_NE(wrapper, nullptr);
  EXPECT_EQ(wrapper->dropped(), 0u);
  d.Remove(4);
}

TEST(DispatcherTest, AddRefusesSinkWhoseLoopIsDestroyed) {
  NotificationThread thread;
  Dispatcher d(thread.core(), {});
  std::shared_ptr<AdviseSink> wrapped;
  {
    MessageLoop loop;
    auto w = ThisThreadAdviseSink(std::make_shared<RecordingSink>());
    ASSERT_TRUE(w.ok());
    wrapped = *w;
  }
  EXPECT_EQ(d.Add(1, wrapped, false).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(DispatcherTest, DestructorIsAFenceForAllConnections) {
  NotificationThread thread;
  auto sink = std::make_shared<FenceSink>();
  {
    Dispatcher d(thread.core(), {});
    ASSERT_TRUE(d.Add(1, sink, false).ok());
    ASSERT_TRUE(d.Add(2, sink, false).ok());
    for (uint64_t i = 0; i < 100; ++i) {
      std::vector<DeliveryGroup> groups;
      groups.push_back(Group(1, 1 + i, 1));
      groups.push_back(Group(2, 1 + i, 1));
      d.Enqueue(absl::MakeSpan(groups));
    }
  }
  EXPECT_EQ(sink->running_.load(), 0);
  sink->closed_.store(true);
  Flush(*thread.core());
  EXPECT_EQ(sink->late_.load(), 0);
}

// Counts notifications; wakes the waiter when `target` is reached.
class CountingSink : public AdviseSink {
 public:
  void OnNotify(const NotificationBatch& batch) override {
    if (batch.sequence(0) != next_) ordered_ = false;
    next_ = batch.sequence(batch.size() - 1) + 1;
    absl::MutexLock lock(&mu_);
    count_ += batch.size();
  }
  bool WaitFor(uint64_t n) {
    absl::MutexLock lock(&mu_);
    auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return count_ >= n;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Minutes(5));
  }
  // Loop thread only (read after WaitFor).
  uint64_t next_ = 1;
  bool ordered_ = true;

 private:
  absl::Mutex mu_;
  uint64_t count_ ABSL_GUARDED_BY(mu_) = 0;
};

TEST(DispatcherTest, Throughput) {
  const uint64_t total = kSanitized ? 200000 : 2000000;
  constexpr size_t kPerMessage = 64;
  NotificationThread thread;
  DispatcherOptions options;
  options.max_queued_notifications = total + 1;
  options.max_queued_bytes = ~size_t{0};
  Dispatcher d(thread.core(), options);
  auto sink = std::make_shared<CountingSink>();
  ASSERT_TRUE(d.Add(1, sink, false).ok());
  auto shared = Object(0);
  const absl::Time start = absl::Now();
  std::vector<DeliveryGroup> groups(1);
  for (uint64_t seq = 1; seq <= total; seq += kPerMessage) {
    groups[0].connection = 1;
    groups[0].deliveries.clear();
    for (uint64_t s = seq; s < seq + kPerMessage && s <= total; ++s) {
      groups[0].deliveries.push_back(Delivery{s, shared});
    }
    groups[0].bytes = groups[0].deliveries.size() * 120;
    d.Enqueue(absl::MakeSpan(groups));
  }
  ASSERT_TRUE(sink->WaitFor(total));
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  Flush(*thread.core());
  EXPECT_TRUE(sink->ordered_);
  EXPECT_EQ(d.stats().resyncs_issued, 0u);
  std::printf(
      "dispatcher: %llu notifications (%zu per batch) in %.3f s: "
      "%.0f notifications/s, %llu OnNotify calls\n",
      static_cast<unsigned long long>(total), kPerMessage, seconds,
      total / seconds,
      static_cast<unsigned long long>(d.stats().delivered_batches));
}

}  // namespace
}  // namespace internal
}  // namespace mapinotify
