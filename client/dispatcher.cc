#include "client/dispatcher.h"

#include <algorithm>
#include <deque>
#include <optional>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "client/this_thread_sink.h"
#include "mapinotify/mapi.h"

namespace mapinotify {
namespace internal {

// Totals over all connections. Atomics rather than a lock: each is updated
// under a different connection's lock (or none), and they are statistics
// that order nothing.
struct DispatchCounters {
  std::atomic<size_t> queued_notifications{0};
  std::atomic<size_t> queued_bytes{0};
  std::atomic<size_t> high_water_notifications{0};
  std::atomic<size_t> high_water_bytes{0};
  std::atomic<size_t> connection_high_water_notifications{0};
  std::atomic<size_t> connection_high_water_bytes{0};
  std::atomic<uint64_t> resyncs_issued{0};
  std::atomic<uint64_t> dropped_notifications{0};
  std::atomic<uint64_t> delivered_notifications{0};
  std::atomic<uint64_t> delivered_batches{0};

  static void Max(std::atomic<size_t>& hw, size_t value) {
    size_t seen = hw.load(std::memory_order_relaxed);
    while (value > seen &&
           !hw.compare_exchange_weak(seen, value, std::memory_order_relaxed)) {
    }
  }
  void AddQueued(size_t n, size_t bytes) {
    Max(high_water_notifications,
        queued_notifications.fetch_add(n, std::memory_order_relaxed) + n);
    Max(high_water_bytes,
        queued_bytes.fetch_add(bytes, std::memory_order_relaxed) + bytes);
  }
  void SubQueued(size_t n, size_t bytes) {
    queued_notifications.fetch_sub(n, std::memory_order_relaxed);
    queued_bytes.fetch_sub(bytes, std::memory_order_relaxed);
  }
};

// One advise connection: its sink, its loop and its bounded queue. It is the
// ReadySource its loop runs to drain the queue. Thread-safe.
class DispatchConnection final : public ReadySource {
 public:
  DispatchConnection(ConnectionId id, std::shared_ptr<AdviseSink> sink,
                     std::shared_ptr<LoopCore> loop, bool table_target,
                     const DispatcherOptions& options,
                     std::shared_ptr<DispatchCounters> counters)
      : id_(id),
        table_target_(table_target),
        max_notifications_(options.max_queued_notifications),
        max_bytes_(options.max_queued_bytes),
        loop_(std::move(loop)),
        counters_(std::move(counters)),
        sink_(std::move(sink)) {}

  // Queues `groups` (all for this connection, in order; moving their
  // deliveries out) under one lock, applying the overflow policy group by
  // group. Returns true when the caller must schedule this connection's
  // drain on loop() (at most one drain is ever pending).
  bool EnqueueGroups(absl::Span<DeliveryGroup> groups)
      ABSL_LOCKS_EXCLUDED(mu_) {
    // Destroyed after the lock is released. Made only when needed: a
    // default-constructed std::deque allocates.
    std::optional<std::deque<Pending>> discarded;
    absl::MutexLock lock(&mu_);
    if (removed_) return false;
    // The session-wide counters are updated once per call, with the net
    // change (and around a discard, so that their high water stays exact).
    size_t counted_notifications = queued_notifications_;
    size_t counted_bytes = queued_bytes_;
    size_t dropped = 0;
    for (DeliveryGroup& group : groups) {
      const size_t n = group.deliveries.size();
      if (n == 0) continue;
      if (overflow_) {
        dropped += n;  // The drain that ends the overflow is pending.
        continue;
      }
      if (queued_notifications_ + n > max_notifications_ ||
          queued_bytes_ + group.bytes > max_bytes_) {
        dropped += queued_notifications_ + n;
        counters_->AddQueued(queued_notifications_ - counted_notifications,
                             queued_bytes_ - counted_bytes);
        DiscardQueueLocked(&discarded.emplace());  // Once: overflow_ is set.
        counted_notifications = 0;
        counted_bytes = 0;
        overflow_ = true;
        MarkLostLocked("client notification queue overflow");
        continue;
      }
      queued_notifications_ += n;
      queued_bytes_ += group.bytes;
      high_water_notifications_ =
          std::max(high_water_notifications_, queued_notifications_);
      high_water_bytes_ = std::max(high_water_bytes_, queued_bytes_);
      queue_.push_back(
          Pending{std::move(group.deliveries), group.bytes, false, {}});
    }
    if (queued_notifications_ > counted_notifications) {
      counters_->AddQueued(queued_notifications_ - counted_notifications,
                           queued_bytes_ - counted_bytes);
    }
    DispatchCounters::Max(counters_->connection_high_water_notifications,
                          high_water_notifications_);
    DispatchCounters::Max(counters_->connection_high_water_bytes,
                          high_water_bytes_);
    if (dropped > 0) {
      dropped_ += dropped;
      counters_->dropped_notifications.fetch_add(dropped,
                                                 std::memory_order_relaxed);
    }
    return !queue_.empty() || lost_ ? NeedScheduleLocked() : false;
  }

  // Same contract as Dispatcher::EnqueueResync; returns as EnqueueGroups.
  bool EnqueueResync(std::string reason) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    if (removed_) return false;
    // In overflow the pending lost_ signal already covers it. Two markers in
    // a row are one. Markers take no room in the bounds, and as every other
    // item holds at least one notification they are bounded as well.
    if (overflow_ || (!queue_.empty() && queue_.back().resync)) return false;
    if (queue_.empty() && lost_) return false;
    queue_.push_back(Pending{{}, 0, true, std::move(reason)});
    return NeedScheduleLocked();
  }

  // The fence; see Dispatcher::Remove.
  void Remove() ABSL_LOCKS_EXCLUDED(mu_) {
    std::deque<Pending> discarded;
    std::shared_ptr<AdviseSink> released;
    absl::MutexLock lock(&mu_);
    removed_ = true;
    lost_ = false;
    DiscardQueueLocked(&discarded);
    // Sink calls run only on the loop's thread: there, a running call is
    // one this Remove is nested in, and waiting would deadlock.
    if (!loop_->IsOwnerThread()) {
      mu_.Await(absl::Condition(this, &DispatchConnection::IdleLocked));
    }
    if (in_call_ == 0) released = std::move(sink_);
    // Unlock, then `released` (maybe the last reference to the sink) and
    // `discarded` are destroyed.
  }

  // The drain: delivers the queue in order, one OnNotify per batch, the
  // resync signal first when notifications were lost.
  void RunReady() override ABSL_LOCKS_EXCLUDED(mu_) {
    mu_.Lock();
    scheduled_ = false;
    // A drain nested in one of this connection's own calls (the sink ran a
    // nested loop) leaves the batches to the outer drain: order first.
    if (removed_ || draining_) {
      mu_.Unlock();
      return;
    }
    draining_ = true;
    // Only the drain (draining_) touches work_: swapped with the queue,
    // emptied after, its storage kept for the next drain.
    std::deque<Pending>& work = work_;
    while (!removed_ && (lost_ || !queue_.empty())) {
      const bool lost = lost_;
      std::string reason = std::move(lost_reason_);
      lost_ = false;
      lost_reason_.clear();
      overflow_ = false;  // From here on, arrivals are live again.
      work.swap(queue_);
      // Delivery counts go to the session-wide counters once per swap.
      uint64_t delivered_notifications = 0;
      const uint64_t calls_before = calls_;
      counters_->SubQueued(queued_notifications_, queued_bytes_);
      queued_notifications_ = 0;
      queued_bytes_ = 0;
      if (lost) {
        ++resyncs_;
        counters_->resyncs_issued.fetch_add(1, std::memory_order_relaxed);
        CallSinkLocked(
            DeliveryList{Dispatcher::ResyncSignal(table_target_, reason)});
      }
      for (Pending& pending : work) {
        if (removed_) break;  // The fence, re-checked before every call.
        if (pending.resync) {
          ++resyncs_;
          counters_->resyncs_issued.fetch_add(1, std::memory_order_relaxed);
          CallSinkLocked(DeliveryList{
              Dispatcher::ResyncSignal(table_target_, pending.reason)});
          continue;
        }
        delivered_ += pending.items.size();
        delivered_notifications += pending.items.size();
        CallSinkLocked(std::move(pending.items));
      }
      counters_->delivered_notifications.fetch_add(delivered_notifications,
                                                   std::memory_order_relaxed);
      counters_->delivered_batches.fetch_add(calls_ - calls_before,
                                             std::memory_order_relaxed);
      mu_.Unlock();
      work.clear();  // What a Remove left undelivered, freed unlocked.
      mu_.Lock();
    }
    draining_ = false;
    std::shared_ptr<AdviseSink> released;
    if (removed_ && in_call_ == 0) released = std::move(sink_);
    mu_.Unlock();
  }

  ConnectionStats stats() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    ConnectionStats s;
    s.queued_notifications = queued_notifications_;
    s.queued_bytes = queued_bytes_;
    s.high_water_notifications = high_water_notifications_;
    s.high_water_bytes = high_water_bytes_;
    s.resyncs_issued = resyncs_;
    s.dropped_notifications = dropped_;
    s.delivered_notifications = delivered_;
    return s;
  }

  const std::shared_ptr<LoopCore>& loop() const { return loop_; }

 private:
  // A batch, or (resync) the marker of a server-sent resync.
  struct Pending {
    DeliveryList items;
    size_t bytes = 0;
    bool resync = false;
    std::string reason;
  };

  bool IdleLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return in_call_ == 0;
  }

  // True when no drain is pending or running (a running drain re-checks the
  // queue before it ends); marks one pending.
  bool NeedScheduleLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (scheduled_ || draining_) return false;
    scheduled_ = true;
    return true;
  }

  void MarkLostLocked(std::string reason) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!lost_) lost_reason_ = std::move(reason);
    lost_ = true;
  }

  void DiscardQueueLocked(std::deque<Pending>* out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    out->swap(queue_);
    counters_->SubQueued(queued_notifications_, queued_bytes_);
    queued_notifications_ = 0;
    queued_bytes_ = 0;
  }

  // Calls the sink with `items` with mu_ released around the call.
  // REQUIRES: !removed_ (so sink_ is set).
  void CallSinkLocked(DeliveryList items) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    AdviseSink* sink = sink_.get();  // Kept alive: in_call_ > 0.
    ++in_call_;
    ++calls_;
    mu_.Unlock();
    {
      NotificationBatch batch(id_, std::move(items));
      sink->OnNotify(batch);
    }  // The batch is freed before the lock is taken again.
    mu_.Lock();
    --in_call_;
  }

  // Constant after construction.
  const ConnectionId id_;
  const bool table_target_;
  const size_t max_notifications_;
  const size_t max_bytes_;
  const std::shared_ptr<LoopCore> loop_;
  const std::shared_ptr<DispatchCounters> counters_;

  mutable absl::Mutex mu_;
  // Released once removed and no call runs.
  std::shared_ptr<AdviseSink> sink_ ABSL_GUARDED_BY(mu_);
  std::deque<Pending> queue_ ABSL_GUARDED_BY(mu_);
  // The drain's batches; see RunReady.
  std::deque<Pending> work_;
  size_t queued_notifications_ ABSL_GUARDED_BY(mu_) = 0;
  size_t queued_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  // Notifications were lost: the next drain delivers the resync first.
  bool lost_ ABSL_GUARDED_BY(mu_) = false;
  std::string lost_reason_ ABSL_GUARDED_BY(mu_);
  // Dropping every arrival until the next drain starts.
  bool overflow_ ABSL_GUARDED_BY(mu_) = false;
  bool scheduled_ ABSL_GUARDED_BY(mu_) = false;  // A drain is in the loop.
  bool draining_ ABSL_GUARDED_BY(mu_) = false;   // A drain is running.
  int in_call_ ABSL_GUARDED_BY(mu_) = 0;         // OnNotify calls running.
  uint64_t calls_ ABSL_GUARDED_BY(mu_) = 0;      // OnNotify calls made.
  bool removed_ ABSL_GUARDED_BY(mu_) = false;
  size_t high_water_notifications_ ABSL_GUARDED_BY(mu_) = 0;
  size_t high_water_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t resyncs_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t delivered_ ABSL_GUARDED_BY(mu_) = 0;
};

Dispatcher::Dispatcher(std::shared_ptr<LoopCore> default_loop,
                       DispatcherOptions options)
    : default_loop_(std::move(default_loop)),
      options_(options),
      counters_(std::make_shared<DispatchCounters>()) {}

Dispatcher::~Dispatcher() {
  absl::flat_hash_map<ConnectionId, std::shared_ptr<DispatchConnection>> all;
  {
    absl::MutexLock lock(&mu_);
    all.swap(connections_);
  }
  for (auto& entry : all) entry.second->Remove();
}

absl::Status Dispatcher::Add(ConnectionId c, std::shared_ptr<AdviseSink> sink,
                             bool table_target) {
  if (c == 0) return absl::InvalidArgumentError("connection number 0");
  if (sink == nullptr) return absl::InvalidArgumentError("null sink");
  std::shared_ptr<LoopCore> loop = default_loop_;
  if (const ThisThreadSink* wrapper = ThisThreadSink::From(sink.get())) {
    loop = wrapper->loop();
    sink = wrapper->inner();  // Delivered on its loop directly: no hop.
  }
  if (loop == nullptr) {
    return absl::FailedPreconditionError("no loop to deliver on");
  }
  if (loop->is_shut_down()) {
    return absl::FailedPreconditionError("the sink's MessageLoop is destroyed");
  }
  auto connection = std::make_shared<DispatchConnection>(
      c, std::move(sink), std::move(loop), table_target, options_, counters_);
  absl::MutexLock lock(&mu_);
  if (!connections_.emplace(c, std::move(connection)).second) {
    return absl::AlreadyExistsError("connection number already advised");
  }
  return absl::OkStatus();
}

void Dispatcher::Remove(ConnectionId c) {
  std::shared_ptr<DispatchConnection> connection;
  {
    absl::MutexLock lock(&mu_);
    auto it = connections_.find(c);
    if (it == connections_.end()) return;
    connection = std::move(it->second);
    connections_.erase(it);
  }
  // Outside mu_: the fence may wait for a sink that calls Add / Remove.
  connection->Remove();
}

void Dispatcher::Enqueue(absl::Span<DeliveryGroup> groups) {
  absl::InlinedVector<std::shared_ptr<DispatchConnection>, 4> to_schedule;
  {
    absl::ReaderMutexLock lock(&mu_);
    // Consecutive groups of one connection (the operations of one wire
    // message for it) go in with one lookup and one lock.
    for (size_t begin = 0; begin < groups.size();) {
      const ConnectionId c = groups[begin].connection;
      size_t end = begin + 1;
      while (end < groups.size() && groups[end].connection == c) ++end;
      auto it = connections_.find(c);
      if (it != connections_.end() &&  // Else unadvised: dropped.
          it->second->EnqueueGroups(groups.subspan(begin, end - begin))) {
        to_schedule.push_back(it->second);
      }
      begin = end;
    }
  }
  for (auto& connection : to_schedule) {
    // Fails only when the loop is destroyed; the connection then keeps its
    // (bounded) queue until it is removed.
    connection->loop()->Schedule(connection).IgnoreError();
  }
}

void Dispatcher::EnqueueResync(ConnectionId c, std::string reason) {
  std::shared_ptr<DispatchConnection> connection = Find(c);
  if (connection == nullptr) return;
  if (connection->EnqueueResync(std::move(reason))) {
    connection->loop()->Schedule(connection).IgnoreError();  // As Enqueue.
  }
}

std::shared_ptr<DispatchConnection> Dispatcher::Find(ConnectionId c) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = connections_.find(c);
  return it == connections_.end() ? nullptr : it->second;
}

DispatcherStats Dispatcher::stats() const {
  const DispatchCounters& k = *counters_;
  constexpr auto r = std::memory_order_relaxed;
  DispatcherStats s;
  s.queued_notifications = k.queued_notifications.load(r);
  s.queued_bytes = k.queued_bytes.load(r);
  s.high_water_notifications = k.high_water_notifications.load(r);
  s.high_water_bytes = k.high_water_bytes.load(r);
  s.connection_high_water_notifications =
      k.connection_high_water_notifications.load(r);
  s.connection_high_water_bytes = k.connection_high_water_bytes.load(r);
  s.resyncs_issued = k.resyncs_issued.load(r);
  s.dropped_notifications = k.dropped_notifications.load(r);
  s.delivered_notifications = k.delivered_notifications.load(r);
  s.delivered_batches = k.delivered_batches.load(r);
  return s;
}

absl::StatusOr<ConnectionStats> Dispatcher::connection_stats(
    ConnectionId c) const {
  std::shared_ptr<DispatchConnection> connection = Find(c);
  if (connection == nullptr) return absl::NotFoundError("unknown connection");
  return connection->stats();
}

size_t Dispatcher::connection_count() const {
  absl::ReaderMutexLock lock(&mu_);
  return connections_.size();
}

Delivery Dispatcher::ResyncSignal(bool table_target,
                                  const std::string& reason) {
  auto n = std::make_shared<Notification>();
  if (table_target) {
    n->event_type = fnevTableModified;
    TableNotification table;
    table.table_event = TABLE_RELOAD;
    n->info = std::move(table);
  } else {
    n->event_type = fnevCriticalError;
    ErrorNotification error;
    error.scode = MAPI_E_NOTIFICATIONS_LOST;
    error.error_text = reason;
    error.component = "mapinotify";
    n->info = std::move(error);
  }
  return Delivery{0, std::move(n)};
}

}  // namespace internal
}  // namespace mapinotify
