#include "server/hub/outbox.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace mapinotify::server {
namespace {

// Set while this thread runs some outbox's `wake`, so that Close() called
// from inside `wake` does not wait for itself.
thread_local const Outbox* tls_waking = nullptr;

// An upper bound of a Delivered's share of a batch message: the notification,
// its framing, the sequence, the connection numbers and ends_batch.
size_t EstimatedDeliveredSize(size_t notification_bytes, size_t connections) {
  return notification_bytes + 32 + 10 * connections;
}

}  // namespace

Outbox::Outbox(Options options, std::function<void()> wake)
    : options_(options), wake_(std::move(wake)) {}

Outbox::~Outbox() = default;

bool Outbox::WakeDueLocked() {
  if (closed_ || writing_ || wake_owed_ || (queue_.empty() && !refill_due_)) {
    return false;
  }
  wake_owed_ = true;
  return true;
}

bool Outbox::PushControl(v1::SubscribeResponse response) {
  absl::MutexLock lock(&mu_);
  if (closed_) return false;
  if (response.has_unadvised() && (overflowed_ || behind_)) {
    lost_.erase(response.unadvised().connection());
  }
  Item item;
  item.control = std::make_unique<v1::SubscribeResponse>(std::move(response));
  queue_.push_back(std::move(item));
  ++pending_control_;
  return WakeDueLocked();
}

bool Outbox::PushDelivery(EventPtr event, ConnectionList connections,
                          bool ends_batch) {
  absl::MutexLock lock(&mu_);
  if (closed_ || event == nullptr || connections.empty()) return false;
  if (behind_) {
    // In the retention log; Hub::Refill queues it in turn.
    lost_.insert(connections.begin(), connections.end());
    return false;
  }
  const size_t bytes = event->byte_size();
  if (overflowed_ || queued_deliveries_ + 1 > options_.max_items ||
      bytes >
          options_.max_bytes - std::min(options_.max_bytes, queued_bytes_)) {
    if (options_.catch_up) {
      behind_ = true;
      cursor_ = event->sequence();
      ++catch_ups_;
      lost_.insert(connections.begin(), connections.end());
      // Nothing queued (a single event over the byte bound): the refill is
      // due at once, and the writer must be woken for it.
      refill_due_ = queue_.empty() && !writing_;
      return WakeDueLocked();
    }
    DropLocked(*event, connections);
    MaybeEndOverflowLocked();
    return WakeDueLocked();
  }
  AppendDeliveryLocked(std::move(event), std::move(connections), ends_batch);
  return WakeDueLocked();
}

bool Outbox::PushReplay(const std::vector<Replayed>& replay,
                        uint64_t connection, bool* wake) {
  absl::MutexLock lock(&mu_);
  *wake = false;
  if (closed_) return true;
  size_t bytes = 0;
  for (const Replayed& r : replay) bytes += r.event->byte_size();
  if (behind_ || overflowed_ ||
      queued_deliveries_ + replay.size() > options_.max_items ||
      bytes >
          options_.max_bytes - std::min(options_.max_bytes, queued_bytes_)) {
    return false;
  }
  for (const Replayed& r : replay) {
    AppendDeliveryLocked(r.event, ConnectionList{connection}, r.ends_batch);
  }
  *wake = WakeDueLocked();
  return true;
}

bool Outbox::Rewind(uint64_t next, uint64_t live_through, uint64_t connection,
                    uint64_t* floor) {
  absl::MutexLock lock(&mu_);
  *floor = 0;
  if (closed_ || !options_.catch_up) return false;
  ++rewinds_;
  replaying_ = true;
  lost_.insert(connection);
  if (behind_) {
    // Everything before the cursor was queued for the other registrations.
    *floor = cursor_ - 1;
    cursor_ = std::min(cursor_, next);
    return false;  // The writer already owes the refill or a TakeWrite.
  }
  *floor = live_through;
  behind_ = true;
  cursor_ = next;
  ++catch_ups_;
  refill_due_ = queue_.empty() && !writing_;
  return WakeDueLocked();
}

void Outbox::AppendDeliveryLocked(EventPtr event, ConnectionList connections,
                                  bool ends_batch) {
  const size_t bytes = event->byte_size();
  Item item;
  item.event = std::move(event);
  item.connections = std::move(connections);
  item.ends_batch = ends_batch;
  queue_.push_back(std::move(item));
  ++queued_deliveries_;
  queued_bytes_ += bytes;
  peak_queued_bytes_ = std::max(peak_queued_bytes_, queued_bytes_);
}

bool Outbox::refill_due() const {
  absl::MutexLock lock(&mu_);
  return behind_ && refill_due_ && !closed_;
}

bool Outbox::RefillCursor(uint64_t* next, bool* exact) const {
  absl::MutexLock lock(&mu_);
  if (!behind_ || !refill_due_ || closed_) return false;
  *next = cursor_;
  if (exact != nullptr) *exact = replaying_;
  return true;
}

void Outbox::RefillDelivery(EventPtr event, ConnectionList connections,
                            bool ends_batch) {
  absl::MutexLock lock(&mu_);
  if (closed_ || !behind_) return;
  cursor_ = std::max(cursor_, event->sequence() + 1);
  ++refilled_;
  refill_due_ = false;
  AppendDeliveryLocked(std::move(event), std::move(connections), ends_batch);
}

void Outbox::AdvanceCursor(uint64_t next) {
  absl::MutexLock lock(&mu_);
  cursor_ = std::max(cursor_, next);
}

void Outbox::EndCatchUp(const std::string& lost_reason,
                        uint64_t resume_sequence) {
  absl::MutexLock lock(&mu_);
  if (!behind_) return;
  behind_ = false;
  refill_due_ = false;
  replaying_ = false;
  if (lost_reason.empty()) {
    lost_.clear();  // Everything it dropped was queued again.
    return;
  }
  QueueResyncLocked(lost_reason, resume_sequence);
}

bool Outbox::PushProgressMark(uint64_t sequence, bool* accepted) {
  absl::MutexLock lock(&mu_);
  if (accepted != nullptr) *accepted = false;
  if (closed_ || overflowed_ || behind_ || sequence <= last_mark_) {
    return false;
  }
  if (accepted != nullptr) *accepted = true;
  return QueueMarkLocked(sequence);
}

bool Outbox::PushFinalMark(uint64_t sequence) {
  absl::MutexLock lock(&mu_);
  if (closed_) return false;
  if (behind_) {
    // No refill follows a seal: the stream ends where its cursor is, and
    // its final mark says so (its client resumes from there elsewhere).
    sequence = std::min(sequence, cursor_ - 1);
    behind_ = false;
    refill_due_ = false;
    replaying_ = false;
    lost_.clear();
  }
  if (overflowed_) {
    deferred_final_mark_ = std::max(sequence, uint64_t{1});
    return false;  // The writer is busy with the queue; it will queue it.
  }
  return QueueMarkLocked(std::max(sequence, last_mark_));
}

bool Outbox::QueueMarkLocked(uint64_t sequence) {
  last_mark_ = std::max(last_mark_, sequence);
  if (!queue_.empty() && queue_.back().control != nullptr &&
      queue_.back().control->has_progress()) {
    // Nothing follows it: raising it moves no mark ahead of a delivery.
    queue_.back().control->mutable_progress()->set_sequence(last_mark_);
    return false;
  }
  Item item;
  item.control = std::make_unique<v1::SubscribeResponse>();
  item.control->mutable_progress()->set_sequence(sequence);
  queue_.push_back(std::move(item));
  ++pending_control_;
  return WakeDueLocked();
}

bool Outbox::empty() const {
  absl::MutexLock lock(&mu_);
  return queue_.empty();
}

void Outbox::DropLocked(const Event& event, const ConnectionList& connections) {
  overflowed_ = true;
  ++dropped_;
  ++lost_count_;
  lost_through_ = std::max(lost_through_, event.sequence());
  lost_.insert(connections.begin(), connections.end());
}

void Outbox::MaybeEndOverflowLocked() {
  if (!overflowed_ || queued_deliveries_ != 0) return;
  overflowed_ = false;
  QueueResyncLocked(
      absl::StrCat("stream fell behind: its outbound queue was full and ",
                   lost_count_, " notification(s) were dropped"),
      lost_through_);
  if (deferred_final_mark_ != 0) {
    (void)QueueMarkLocked(std::max(deferred_final_mark_, last_mark_));
    deferred_final_mark_ = 0;  // The caller (TakeWrite) writes it in turn.
  }
}

void Outbox::QueueResyncLocked(std::string reason, uint64_t resume_sequence) {
  if (!lost_.empty()) {
    Item item;
    item.control = std::make_unique<v1::SubscribeResponse>();
    v1::Resync* resync = item.control->mutable_resync();
    std::vector<uint64_t> lost(lost_.begin(), lost_.end());
    std::sort(lost.begin(), lost.end());
    resync->mutable_connections()->Add(lost.begin(), lost.end());
    resync->set_reason(std::move(reason));
    resync->set_resume_sequence(resume_sequence);
    queue_.push_back(std::move(item));
    ++pending_control_;
    ++resyncs_;
  }
  lost_.clear();
  lost_through_ = 0;
  lost_count_ = 0;
}

void Outbox::Wake() {
  {
    absl::MutexLock lock(&mu_);
    if (closed_ || !wake_) return;
    ++wakes_running_;
  }
  const Outbox* const outer = tls_waking;
  tls_waking = this;
  wake_();
  tls_waking = outer;
  absl::MutexLock lock(&mu_);
  --wakes_running_;
}

void Outbox::TakeBatchLocked() {
  size_t message_bytes = 0;
  while (!queue_.empty() && queue_.front().control == nullptr &&
         taking_.size() < options_.max_batch_notifications) {
    Item& item = queue_.front();
    const size_t estimate = EstimatedDeliveredSize(item.event->byte_size(),
                                                   item.connections.size());
    if (!taking_.empty() &&
        message_bytes + estimate > options_.max_message_bytes) {
      break;
    }
    message_bytes += estimate;
    queued_bytes_ -= item.event->byte_size();
    --queued_deliveries_;
    taking_.push_back(std::move(item));
    queue_.pop_front();
  }
  in_flight_count_ = taking_.size();
}

void Outbox::BuildBatch(v1::SubscribeResponse* out) {
  v1::NotificationBatch* batch = spare_batch_ != nullptr
                                     ? spare_batch_.release()
                                     : new v1::NotificationBatch();
  out->set_allocated_batch(batch);  // `out` owns it until FinishWrite.
  lent_.reserve(taking_.size());
  for (Item& item : taking_) {
    v1::Delivered* delivered = batch->add_notifications();
    delivered->set_sequence(item.event->sequence());
    delivered->mutable_connections()->Add(item.connections.begin(),
                                          item.connections.end());
    delivered->set_ends_batch(item.ends_batch);
    // Borrowed, not copied: FinishWrite releases it before `out` is cleared.
    delivered->unsafe_arena_set_allocated_notification(
        const_cast<v1::Notification*>(&item.event->notification()));
    lent_.push_back(std::move(item.event));
  }
  taking_.clear();  // Keeps its capacity for the next batch.
}

bool Outbox::TakeWrite(v1::SubscribeResponse* out) {
  bool build = false;
  {
    absl::MutexLock lock(&mu_);
    wake_owed_ = false;
    if (closed_ || writing_) return false;
    if (queue_.empty()) {
      // Behind and drained: the writer refills (Hub::Refill) and comes back.
      if (behind_) refill_due_ = true;
      return false;
    }
    out->Clear();
    if (queue_.front().control != nullptr) {
      *out = std::move(*queue_.front().control);
      queue_.pop_front();
      --pending_control_;
    } else if (EstimatedDeliveredSize(queue_.front().event->byte_size(),
                                      queue_.front().connections.size()) >
               options_.max_message_bytes) {
      // Alone it would still exceed the message limit (gRPC would fail the
      // write and end the stream, and a replay would fail again): its
      // connections get the resync instead.
      Item item = std::move(queue_.front());
      queue_.pop_front();
      --queued_deliveries_;
      queued_bytes_ -= item.event->byte_size();
      ++dropped_;
      ++resyncs_;
      v1::Resync* resync = out->mutable_resync();
      resync->mutable_connections()->Add(item.connections.begin(),
                                         item.connections.end());
      resync->set_reason(absl::StrCat("notification ", item.event->sequence(),
                                      " of ", item.event->byte_size(),
                                      " bytes exceeds the message limit of ",
                                      options_.max_message_bytes, " bytes"));
      resync->set_resume_sequence(item.event->sequence());
    } else {
      TakeBatchLocked();
      MaybeEndOverflowLocked();
      build = true;
    }
    writing_ = true;
  }
  // The batch message is built after unlocking, so that producers are not
  // held up by it: the items taken are the writer's now.
  if (build) BuildBatch(out);
  return true;
}

bool Outbox::FinishWrite(v1::SubscribeResponse* out) {
  std::unique_ptr<v1::NotificationBatch> batch;
  if (out->has_batch()) {
    for (v1::Delivered& delivered :
         *out->mutable_batch()->mutable_notifications()) {
      // Gives the borrowed notification back (the Event owns it).
      (void)delivered.unsafe_arena_release_notification();
    }
    batch.reset(out->release_batch());
    batch->Clear();  // Keeps its Delivered elements for reuse.
  }
  out->Clear();
  if (batch != nullptr) spare_batch_ = std::move(batch);
  // Released after unlocking; taken out of the writer's state before the
  // write ends (the next TakeWrite may then run on another thread).
  std::vector<EventPtr> done;
  done.swap(lent_);
  absl::MutexLock lock(&mu_);
  in_flight_count_ = 0;
  writing_ = false;
  if (closed_ || (queue_.empty() && !behind_)) return false;
  wake_owed_ = true;  // The caller owes the next TakeWrite.
  return true;
}

void Outbox::Close() {
  std::deque<Item> dropped;  // Destroyed after unlocking.
  absl::MutexLock lock(&mu_);
  closed_ = true;
  dropped.swap(queue_);
  queued_deliveries_ = 0;
  queued_bytes_ = 0;
  pending_control_ = 0;
  overflowed_ = false;
  behind_ = false;
  refill_due_ = false;
  replaying_ = false;
  lost_.clear();
  const int mine = tls_waking == this ? 1 : 0;
  const auto no_other_wake = [this, mine]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return wakes_running_ <= mine;  // Await evaluates it with mu_ held.
  };
  mu_.Await(absl::Condition(&no_other_wake));
}

size_t Outbox::pending_control() const {
  absl::MutexLock lock(&mu_);
  return pending_control_;
}

Outbox::Stats Outbox::GetStats() const {
  absl::MutexLock lock(&mu_);
  Stats stats;
  stats.queued_deliveries = queued_deliveries_;
  stats.queued_bytes = queued_bytes_;
  stats.peak_queued_bytes = peak_queued_bytes_;
  stats.pending_control = pending_control_;
  stats.in_flight_deliveries = in_flight_count_;
  stats.dropped_deliveries = dropped_;
  stats.resyncs = resyncs_;
  stats.last_progress_mark = last_mark_;
  stats.catch_ups = catch_ups_;
  stats.refilled_deliveries = refilled_;
  stats.rewinds = rewinds_;
  stats.behind = behind_;
  stats.replaying = replaying_;
  stats.overflowed = overflowed_;
  stats.closed = closed_;
  return stats;
}

}  // namespace mapinotify::server
