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
  // The arrival clock: every run of groups queued for a connection (and
  // every server resync) takes the next tick, under that connection's lock.
  std::atomic<uint64_t> tickets{0};

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

class DispatchConnection;

// The order in which one loop calls the sinks of one dispatcher: a FIFO of
// turns, one per run of groups queued for a connection, in arrival order.
// A turn delivers its connection's queue up to the run's ticket, so that
// across the connections of one loop the sinks are called in the order the
// groups arrived (the stream's sequence order), not only per connection:
// what reaches a connection while its sink runs waits for its own turn,
// behind what reached the other connections before it. It is the
// ReadySource its loop runs. Thread-safe; bounded by the queues (at most one
// turn per queued run or resync, consecutive turns of one connection
// merged).
class LoopTurns final : public ReadySource,
                        public std::enable_shared_from_this<LoopTurns> {
 public:
  explicit LoopTurns(std::shared_ptr<LoopCore> loop) : loop_(std::move(loop)) {}

  // Appends a turn for `connection` through `ticket` (merged into the last
  // turn when that is `connection`'s) and schedules this on the loop. Never
  // calls a sink.
  void Add(const std::shared_ptr<DispatchConnection>& connection,
           uint64_t ticket) ABSL_LOCKS_EXCLUDED(mu_);

  // Runs the turns in order. A turn whose connection is in a call further
  // up this thread's stack (its sink ran a nested loop) stops the run there:
  // the outer run goes on from that turn once the call returned.
  void RunReady() override ABSL_LOCKS_EXCLUDED(mu_);

  const std::shared_ptr<LoopCore>& loop() const { return loop_; }

 private:
  // Weak: a connection holds its loop's turns, and a removed connection
  // (or one whose loop is gone) has nothing more to deliver.
  struct Turn {
    std::weak_ptr<DispatchConnection> connection;
    uint64_t through = 0;
  };

  const std::shared_ptr<LoopCore> loop_;
  absl::Mutex mu_;
  std::deque<Turn> turns_ ABSL_GUARDED_BY(mu_);
  bool scheduled_ ABSL_GUARDED_BY(mu_) = false;  // Listed on the loop.
};

// One advise connection: its sink, its loop's turns and its bounded queue.
// Thread-safe.
class DispatchConnection final {
 public:
  DispatchConnection(ConnectionId id, std::shared_ptr<AdviseSink> sink,
                     std::shared_ptr<LoopTurns> turns, bool table_target,
                     const DispatcherOptions& options,
                     std::shared_ptr<DispatchCounters> counters)
      : id_(id),
        table_target_(table_target),
        max_notifications_(options.max_queued_notifications),
        max_bytes_(options.max_queued_bytes),
        turns_(std::move(turns)),
        counters_(std::move(counters)),
        sink_(std::move(sink)) {}

  // Queues `groups` (all for this connection, in order; moving their
  // deliveries out) under one lock, applying the overflow policy group by
  // group. Returns the run's ticket when the caller must add a turn for it
  // (turns()->Add), else 0.
  uint64_t EnqueueGroups(absl::Span<DeliveryGroup> groups)
      ABSL_LOCKS_EXCLUDED(mu_) {
    // Destroyed after the lock is released. Made only when needed: a
    // default-constructed std::deque allocates.
    std::optional<std::deque<Pending>> discarded;
    absl::MutexLock lock(&mu_);
    if (removed_) return 0;
    const uint64_t ticket = NextTicket();
    const bool was_lost = lost_;
    bool queued = false;
    // The session-wide counters are updated once per call, with the net
    // change (and around a discard, so that their high water stays exact).
    size_t counted_notifications = queued_notifications_;
    size_t counted_bytes = queued_bytes_;
    size_t dropped = 0;
    for (DeliveryGroup& group : groups) {
      const size_t n = group.deliveries.size();
      if (n == 0) continue;
      if (overflow_) {
        dropped += n;  // The turn that ends the overflow is pending.
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
          Pending{std::move(group.deliveries), group.bytes, false, {}, ticket});
      queued = true;
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
    // A turn delivers what this run queued, or the resync signal of an
    // overflow it started (the overflow's later drops need no more turns).
    return queued || (lost_ && !was_lost) ? ticket : 0;
  }

  // Same contract as Dispatcher::EnqueueResync; returns as EnqueueGroups.
  uint64_t EnqueueResync(std::string reason) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    if (removed_) return 0;
    // In overflow the pending lost_ signal already covers it. Two markers in
    // a row are one. Markers take no room in the bounds, and as every other
    // item holds at least one notification they are bounded as well.
    if (overflow_ || (!queue_.empty() && queue_.back().resync)) return 0;
    if (queue_.empty() && lost_) return 0;
    const uint64_t ticket = NextTicket();
    queue_.push_back(Pending{{}, 0, true, std::move(reason), ticket});
    return ticket;
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
    if (!loop()->IsOwnerThread()) {
      mu_.Await(absl::Condition(this, &DispatchConnection::IdleLocked));
    }
    if (in_call_ == 0) released = std::move(sink_);
    // Unlock, then `released` (maybe the last reference to the sink) and
    // `discarded` are destroyed.
  }

  // One turn: delivers the queue's items up to `through` (their tickets) in
  // order, one OnNotify per batch, the resync signal first when
  // notifications were lost. On the loop's thread only. False, delivering
  // nothing, when this connection is in a call further up the stack (its
  // sink ran a nested loop): the outer call comes first, and the caller
  // runs this turn again after it.
  bool RunTurn(uint64_t through) ABSL_LOCKS_EXCLUDED(mu_) {
    mu_.Lock();
    if (removed_) {
      mu_.Unlock();
      return true;
    }
    if (draining_) {
      mu_.Unlock();
      return false;
    }
    draining_ = true;
    const bool lost = lost_;
    std::string reason = std::move(lost_reason_);
    lost_ = false;
    lost_reason_.clear();
    overflow_ = false;  // From here on, arrivals are live again.
    // Only the running turn (draining_) touches work_: filled from the queue,
    // emptied after, its storage kept for the next turn.
    std::deque<Pending>& work = work_;
    size_t taken_notifications = 0;
    size_t taken_bytes = 0;
    if (!queue_.empty() && queue_.back().ticket <= through) {
      work.swap(queue_);  // All of it (the common case).
      taken_notifications = queued_notifications_;
      taken_bytes = queued_bytes_;
    } else {
      while (!queue_.empty() && queue_.front().ticket <= through) {
        taken_notifications += queue_.front().items.size();
        taken_bytes += queue_.front().bytes;
        work.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    counters_->SubQueued(taken_notifications, taken_bytes);
    queued_notifications_ -= taken_notifications;
    queued_bytes_ -= taken_bytes;
    // Delivery counts go to the session-wide counters once per turn.
    uint64_t delivered_notifications = 0;
    const uint64_t calls_before = calls_;
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
    draining_ = false;
    std::shared_ptr<AdviseSink> released;
    if (removed_ && in_call_ == 0) released = std::move(sink_);
    mu_.Unlock();
    return true;
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

  const std::shared_ptr<LoopTurns>& turns() const { return turns_; }
  const std::shared_ptr<LoopCore>& loop() const { return turns_->loop(); }

 private:
  // A batch, or (resync) the marker of a server-sent resync.
  struct Pending {
    DeliveryList items;
    size_t bytes = 0;
    bool resync = false;
    std::string reason;
    uint64_t ticket = 0;  // When it arrived (DispatchCounters::tickets).
  };

  uint64_t NextTicket() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return counters_->tickets.fetch_add(1, std::memory_order_relaxed) + 1;
  }

  bool IdleLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return in_call_ == 0;
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
  const std::shared_ptr<LoopTurns> turns_;
  const std::shared_ptr<DispatchCounters> counters_;

  mutable absl::Mutex mu_;
  // Released once removed and no call runs.
  std::shared_ptr<AdviseSink> sink_ ABSL_GUARDED_BY(mu_);
  std::deque<Pending> queue_ ABSL_GUARDED_BY(mu_);
  // The running turn's batches; see RunTurn.
  std::deque<Pending> work_;
  size_t queued_notifications_ ABSL_GUARDED_BY(mu_) = 0;
  size_t queued_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  // Notifications were lost: the next turn delivers the resync first.
  bool lost_ ABSL_GUARDED_BY(mu_) = false;
  std::string lost_reason_ ABSL_GUARDED_BY(mu_);
  // Dropping every arrival until the next turn starts.
  bool overflow_ ABSL_GUARDED_BY(mu_) = false;
  bool draining_ ABSL_GUARDED_BY(mu_) = false;  // A turn is running.
  int in_call_ ABSL_GUARDED_BY(mu_) = 0;        // OnNotify calls running.
  uint64_t calls_ ABSL_GUARDED_BY(mu_) = 0;     // OnNotify calls made.
  bool removed_ ABSL_GUARDED_BY(mu_) = false;
  size_t high_water_notifications_ ABSL_GUARDED_BY(mu_) = 0;
  size_t high_water_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t resyncs_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t delivered_ ABSL_GUARDED_BY(mu_) = 0;
};

void LoopTurns::Add(const std::shared_ptr<DispatchConnection>& connection,
                    uint64_t ticket) {
  bool schedule = false;
  {
    absl::MutexLock lock(&mu_);
    // Same connection: same control block (the turn's weak_ptr keeps it, so
    // it is never reused for another connection).
    if (!turns_.empty() && !turns_.back().connection.owner_before(connection) &&
        !connection.owner_before(turns_.back().connection)) {
      turns_.back().through = std::max(turns_.back().through, ticket);
    } else {
      turns_.push_back(Turn{connection, ticket});
    }
    if (!scheduled_) schedule = scheduled_ = true;
  }
  // Fails only once the loop is destroyed: its sinks are called no more, and
  // the turns wait (bounded, as the queues) until the connections go.
  if (schedule) loop_->Schedule(shared_from_this()).IgnoreError();
}

void LoopTurns::RunReady() {
  mu_.Lock();
  scheduled_ = false;
  while (!turns_.empty()) {
    // Taken out while it runs, so that Add never merges into a turn that is
    // past the point where it reads its queue.
    Turn turn = std::move(turns_.front());
    turns_.pop_front();
    mu_.Unlock();
    std::shared_ptr<DispatchConnection> connection = turn.connection.lock();
    if (connection != nullptr && !connection->RunTurn(turn.through)) {
      mu_.Lock();
      turns_.push_front(std::move(turn));
      break;
    }
    connection.reset();  // Maybe the last reference: released unlocked.
    mu_.Lock();
  }
  mu_.Unlock();
}

Dispatcher::Dispatcher(std::shared_ptr<LoopCore> default_loop,
                       DispatcherOptions options)
    : default_loop_(std::move(default_loop)),
      options_(options),
      counters_(std::make_shared<DispatchCounters>()),
      default_turns_(std::make_shared<LoopTurns>(default_loop_)) {}

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
  absl::MutexLock lock(&mu_);
  if (connections_.contains(c)) {
    return absl::AlreadyExistsError("connection number already advised");
  }
  connections_.emplace(c, std::make_shared<DispatchConnection>(
                              c, std::move(sink), TurnsForLocked(loop),
                              table_target, options_, counters_));
  return absl::OkStatus();
}

std::shared_ptr<LoopTurns> Dispatcher::TurnsForLocked(
    const std::shared_ptr<LoopCore>& loop) {
  if (loop == default_loop_) return default_turns_;
  // Forget the loops no connection uses any more.
  for (auto it = wrapped_turns_.begin(); it != wrapped_turns_.end();) {
    if (it->second.expired()) {
      wrapped_turns_.erase(it++);
    } else {
      ++it;
    }
  }
  std::weak_ptr<LoopTurns>& known = wrapped_turns_[loop.get()];
  std::shared_ptr<LoopTurns> turns = known.lock();
  // A new loop may have the address of a destroyed one.
  if (turns == nullptr || turns->loop() != loop) {
    turns = std::make_shared<LoopTurns>(loop);
    known = turns;
  }
  return turns;
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
  struct Due {
    std::shared_ptr<DispatchConnection> connection;
    uint64_t ticket;
  };
  absl::InlinedVector<Due, 4> due;
  {
    absl::ReaderMutexLock lock(&mu_);
    // Consecutive groups of one connection (the operations of one wire
    // message for it) go in with one lookup and one lock.
    for (size_t begin = 0; begin < groups.size();) {
      const ConnectionId c = groups[begin].connection;
      size_t end = begin + 1;
      while (end < groups.size() && groups[end].connection == c) ++end;
      auto it = connections_.find(c);
      if (it != connections_.end()) {  // Else unadvised: dropped.
        const uint64_t ticket =
            it->second->EnqueueGroups(groups.subspan(begin, end - begin));
        if (ticket != 0) due.push_back(Due{it->second, ticket});
      }
      begin = end;
    }
  }
  // In arrival order: the turns keep it across connections.
  for (const Due& d : due) d.connection->turns()->Add(d.connection, d.ticket);
}

void Dispatcher::EnqueueResync(ConnectionId c, std::string reason) {
  std::shared_ptr<DispatchConnection> connection = Find(c);
  if (connection == nullptr) return;
  const uint64_t ticket = connection->EnqueueResync(std::move(reason));
  if (ticket != 0) connection->turns()->Add(connection, ticket);
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
