// Outbox: the bounded outbound queue of one Subscribe stream.
//
// Producers (the Hub) push control responses and deliveries; exactly one
// writer (the stream's gRPC reactor) takes one message at a time, writes it,
// and finishes it. Deliveries share the hub's immutable Events: the message
// the writer gets borrows each Event's v1::Notification, it is never copied.
//
// Writer protocol:
//
//   Outbox box(options, [reactor] { reactor->OnWake(); });
//   // ... a producer pushes; when a push returns true it calls box.Wake()
//   // after releasing its own locks. `wake` then runs, and the writer does:
//   if (box.TakeWrite(&msg)) StartWrite(&msg);
//   // OnWriteDone:
//   if (box.FinishWrite(&msg) && box.TakeWrite(&msg)) StartWrite(&msg);
//
// Liveness contract: whenever something is queued, either a write is in
// flight, or a TakeWrite call is owed by someone: by the writer after its
// initial start (the Hub queues `hello` without waking), by the writer after
// FinishWrite returned true, or by `wake` after a push returned true. `wake`
// may still be called when TakeWrite then returns false; it must tolerate
// that.
//
// Overflow policy (zero silent loss): a delivery that does not fit the bounds
// is dropped and the outbox becomes "overflowed": it drops every further
// delivery, remembering the connections that lost something and the highest
// dropped sequence, until the writer has taken every delivery queued before.
// It then queues ONE control response `resync` {those connections, sorted;
// reason; resume_sequence = highest dropped sequence} (this needs no queue
// space: control items are never dropped) and accepts deliveries again, which
// follow the resync. Control responses are never dropped; they are bounded by
// the service, which stops reading requests while pending_control() is high.
//
// Catch-up (Options::catch_up, set by a Hub with a retention log): instead
// of dropping for good, a delivery that does not fit puts the outbox
// "behind": it drops every further delivery (they stay in the hub's
// retention log), remembering the first sequence it did not queue (the
// cursor) and the connections of what it dropped. Once the writer has taken
// everything queued, TakeWrite returns false with refill_due() set; the
// writer then calls Hub::Refill, which queues the stream's next matching
// events from the retention log on its own cursor (RefillDelivery,
// bounded) and, when the cursor reaches the live sequence, ends the
// catch-up (EndCatchUp) in the same critical section, so live deliveries
// follow without gap. Only when the cursor fell out of the retention log is
// the resync queued (EndCatchUp with a reason), for the connections that
// lost something. A re-registered connection's replay too large for the
// queue takes the same path, with the cursor rewound to its resume point
// (Rewind).
//
// Responses are written in the order they were pushed (deliveries and control
// responses interleaved); consecutive deliveries are written as one `batch`.
//
// Thread-safe. Lock order: a caller may hold its own lock (the hub's) while
// pushing; the outbox never calls out while holding its lock, and calls
// `wake` only from Wake().
#ifndef MAPINOTIFY_SERVER_HUB_OUTBOX_H_
#define MAPINOTIFY_SERVER_HUB_OUTBOX_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "absl/synchronization/mutex.h"
#include "mapinotify/v1/notifications.pb.h"
#include "server/hub/event.h"

namespace mapinotify::server {

// Connection numbers of one stream that one notification matches.
using ConnectionList = absl::InlinedVector<uint64_t, 2>;

class Outbox {
 public:
  struct Options {
    // Most deliveries queued (not counting the write in flight).
    size_t max_items = 65536;
    // Most bytes of queued deliveries (sum of Event::byte_size()).
    size_t max_bytes = size_t{64} << 20;
    // Most deliveries in one `batch` message.
    size_t max_batch_notifications = 256;
    // A `batch` message stays under this estimated size. A single delivery
    // larger than it is never sent (it would exceed gRPC's message limit):
    // its connections get a resync {resume_sequence = its sequence} in its
    // place.
    size_t max_message_bytes = size_t{1} << 20;
    // Catch up from the hub's retention log instead of dropping (see above).
    // Only for an outbox of a Hub with retention (the Hub sets it).
    bool catch_up = false;
  };

  struct Stats {
    size_t queued_deliveries = 0;  // Queued, not yet taken.
    size_t queued_bytes = 0;       // Their Event::byte_size() sum.
    size_t peak_queued_bytes = 0;  // Highest queued_bytes ever.
    size_t pending_control = 0;    // Control responses queued.
    size_t in_flight_deliveries = 0;
    uint64_t dropped_deliveries = 0;   // Deliveries dropped by overflow.
    uint64_t resyncs = 0;              // Resync responses queued.
    uint64_t last_progress_mark = 0;   // Highest progress mark queued.
    uint64_t catch_ups = 0;            // Times it fell behind (catch_up).
    uint64_t refilled_deliveries = 0;  // Queued from the retention log.
    uint64_t rewinds = 0;              // Replays through the cursor.
    bool behind = false;               // Catching up now.
    bool replaying = false;            // Behind for a replay (Rewind).
    bool overflowed = false;
    bool closed = false;
  };

  // `wake` is called (from Wake(), never under the outbox's lock) when items
  // were queued while the outbox was idle; it should arrange for TakeWrite to
  // be called. It must not block for long, and may call any method of this
  // outbox, including Close().
  Outbox(Options options, std::function<void()> wake);
  // REQUIRES: no write in flight (every successful TakeWrite was finished),
  // since the caller's message still borrows notifications until then.
  ~Outbox();

  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  // Queues a control response (hello, advised, unadvised...), never dropped;
  // ignored after Close(). An `unadvised` response also removes its
  // connection from a pending resync (the client no longer knows it).
  // Returns true when the caller must call Wake() once it holds no lock.
  [[nodiscard]] bool PushControl(v1::SubscribeResponse response)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Queues `event` for `connections` (non-empty); `ends_batch` marks the last
  // delivery this stream gets from one publishing operation. Never blocks: a
  // delivery that does not fit is dropped per the overflow policy. Ignored
  // after Close(). Returns true when the caller must call Wake() once it
  // holds no lock.
  [[nodiscard]] bool PushDelivery(EventPtr event, ConnectionList connections,
                                  bool ends_batch) ABSL_LOCKS_EXCLUDED(mu_);

  // Queues a progress mark {sequence} (a control response). Ignored, with
  // false returned, when closed, when `sequence` is not above the last mark
  // queued, and while overflowed: the mark would then run ahead of dropped
  // deliveries whose resync is not queued yet (DESIGN.md section 4). A mark
  // still queued last is raised in place instead of queuing another. The
  // caller (the Hub) holds its lock, so every delivery up to `sequence` is
  // queued before it. Returns true when the caller must call Wake() once it
  // holds no lock. `*accepted` (optional) tells whether the mark was queued
  // or raised.
  [[nodiscard]] bool PushProgressMark(uint64_t sequence,
                                      bool* accepted = nullptr)
      ABSL_LOCKS_EXCLUDED(mu_);

  // The final progress mark of a stream that will get no more deliveries (a
  // shutdown): like PushProgressMark, but queued even when not above the
  // last mark, and while overflowed it is deferred until the resync is
  // queued, then queued right after it.
  [[nodiscard]] bool PushFinalMark(uint64_t sequence) ABSL_LOCKS_EXCLUDED(mu_);

  // Whether nothing is queued (a write may still be in flight).
  bool empty() const ABSL_LOCKS_EXCLUDED(mu_);

  // A re-registered connection's missed event (Hub::Advise with a resume).
  struct Replayed {
    EventPtr event;
    bool ends_batch = false;
  };
  // Queues `replay` (in order, each for `connection` alone) all or nothing:
  // false, with nothing queued, when they do not all fit the bounds now or
  // the outbox is dropping or catching up; the Hub then replays through the
  // catch-up cursor instead (Rewind). Sets `*wake` as a push's return value.
  // True after Close() (ignored, like every push).
  bool PushReplay(const std::vector<Replayed>& replay, uint64_t connection,
                  bool* wake) ABSL_LOCKS_EXCLUDED(mu_);

  // A replay that does not fit the queue goes through the catch-up cursor
  // (Options::catch_up only), for the Hub under its lock: the outbox goes
  // (or stays) behind with its cursor at min(cursor, `next`), so that the
  // refills queue `connection`'s missed events from the log — in full, as a
  // PushReplay would: windows of a stream that replays are not coalesced
  // until it catches up — or, should the cursor fall out of the log, the
  // resync for it. `*floor` receives the sequence through which every
  // event was already queued for the stream's other registrations (the
  // old cursor - 1 when it was behind, else `live_through`, the hub's last
  // sequence); the Hub raises their start to it, so that the rewound
  // cursor queues nothing twice. Returns true when the caller must call
  // Wake() once it holds no lock. No-op (false, `*floor` 0) after Close().
  [[nodiscard]] bool Rewind(uint64_t next, uint64_t live_through,
                            uint64_t connection, uint64_t* floor)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Catch-up, for the Hub under its lock. Whether the outbox is behind and
  // its queue has drained (a refill is due), and its cursor: the first
  // sequence not queued.
  // `*exact` (optional) tells whether the stream replays (Rewind) and its
  // refills must not be coalesced.
  bool refill_due() const ABSL_LOCKS_EXCLUDED(mu_);
  bool RefillCursor(uint64_t* next, bool* exact = nullptr) const
      ABSL_LOCKS_EXCLUDED(mu_);
  // Queues a delivery from the retention log while behind (never dropped:
  // the Hub bounds a refill), and moves the cursor past `event`.
  void RefillDelivery(EventPtr event, ConnectionList connections,
                      bool ends_batch) ABSL_LOCKS_EXCLUDED(mu_);
  // Moves the cursor to `next` (events before it were scanned).
  void AdvanceCursor(uint64_t next) ABSL_LOCKS_EXCLUDED(mu_);
  // Ends the catch-up: live deliveries are queued again. With a non-empty
  // `lost_reason` the cursor fell out of the retention log: a resync
  // {connections that lost something, lost_reason, resume_sequence} is
  // queued first (if any connection lost something).
  void EndCatchUp(const std::string& lost_reason, uint64_t resume_sequence)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Calls `wake` unless closed. Call it exactly when a push returned true,
  // while holding no lock. Once Close() has returned, `wake` is not running
  // and will not run again.
  void Wake() ABSL_LOCKS_EXCLUDED(mu_);

  // The writer: false when closed, a write is in flight, or nothing is
  // queued. Otherwise overwrites `*out` with the next message and marks a
  // write in flight: either the next control response, or a `batch` of
  // consecutive deliveries (at most max_batch_notifications, within
  // max_message_bytes). The batch's notifications are borrowed from the
  // Events, which the outbox keeps alive: `*out` must stay untouched and
  // alive until FinishWrite(out) is called with the same pointer, and must
  // not be destroyed before that.
  bool TakeWrite(v1::SubscribeResponse* out) ABSL_LOCKS_EXCLUDED(mu_);

  // The write of `*out` (from TakeWrite) completed or failed: gives back the
  // borrowed notifications, clears `*out`, releases the events, ends the
  // write in flight. Returns true when more is queued; the caller then owes
  // a TakeWrite call (no wake is sent for what is already queued).
  bool FinishWrite(v1::SubscribeResponse* out) ABSL_LOCKS_EXCLUDED(mu_);

  // Drops everything queued; later pushes are ignored and TakeWrite returns
  // false. A write in flight must still be finished with FinishWrite. Waits
  // until no `wake` call is running (except one on this thread, so `wake` may
  // call Close). Idempotent.
  void Close() ABSL_LOCKS_EXCLUDED(mu_);

  // Control responses queued and not yet taken; the service stops reading
  // requests while this is above its limit.
  size_t pending_control() const ABSL_LOCKS_EXCLUDED(mu_);

  Stats GetStats() const ABSL_LOCKS_EXCLUDED(mu_);

  const Options& options() const { return options_; }

 private:
  // A queued response: a control response (`control` set) or a delivery.
  struct Item {
    std::unique_ptr<v1::SubscribeResponse> control;
    EventPtr event;
    ConnectionList connections;
    bool ends_batch = false;
  };

  // Marks a wake outstanding and returns true when one is due.
  bool WakeDueLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Queues progress mark {sequence} after everything queued, or raises a
  // mark queued last. Returns WakeDueLocked().
  bool QueueMarkLocked(uint64_t sequence) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Records a dropped delivery (entering overflowed mode).
  void DropLocked(const Event& event, const ConnectionList& connections)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Leaves overflowed mode once no delivery is queued, queuing the resync.
  void MaybeEndOverflowLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Queues the resync {lost_, reason, resume_sequence} if lost_ is not
  // empty, and clears the loss records.
  void QueueResyncLocked(std::string reason, uint64_t resume_sequence)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Appends a delivery to the queue (no bound check).
  void AppendDeliveryLocked(EventPtr event, ConnectionList connections,
                            bool ends_batch) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Moves the next deliveries of one batch (at most max_batch_notifications,
  // within max_message_bytes) from the queue into taking_.
  void TakeBatchLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The writer, after TakeBatchLocked and unlocking: makes `*out` a batch of
  // taking_'s deliveries, borrowing their notifications; their events move
  // to lent_.
  void BuildBatch(v1::SubscribeResponse* out);

  // Constant after construction.
  const Options options_;
  const std::function<void()> wake_;

  // State below is protected by mu_.
  mutable absl::Mutex mu_;
  std::deque<Item> queue_ ABSL_GUARDED_BY(mu_);
  size_t queued_deliveries_ ABSL_GUARDED_BY(mu_) = 0;
  size_t queued_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  size_t peak_queued_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  size_t pending_control_ ABSL_GUARDED_BY(mu_) = 0;
  // The writer's own state, not guarded by mu_: touched only by a TakeWrite
  // that found writing_ false (it fills taking_ in the critical section
  // where it sets writing_, and builds after unlocking; any other TakeWrite
  // then returns false without touching it), and by the FinishWrite of that
  // write, before it clears writing_.
  //
  // The deliveries of the batch being built (empty otherwise).
  std::vector<Item> taking_;
  // The events lent to the write in flight.
  std::vector<EventPtr> lent_;
  // The last write's batch message, cleared, kept for the next one: its
  // Delivered elements and their repeated fields are reused, so a batch
  // costs no allocation per notification.
  std::unique_ptr<v1::NotificationBatch> spare_batch_;

  // Deliveries in the write in flight (for Stats).
  size_t in_flight_count_ ABSL_GUARDED_BY(mu_) = 0;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool wake_owed_ ABSL_GUARDED_BY(mu_) = false;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  // The highest progress mark queued.
  uint64_t last_mark_ ABSL_GUARDED_BY(mu_) = 0;
  // A final mark waiting for the end of overflowed mode (0: none).
  uint64_t deferred_final_mark_ ABSL_GUARDED_BY(mu_) = 0;
  // Catch-up mode (Options::catch_up): behind_, the cursor, and whether the
  // queue drained since it fell behind or was last refilled. lost_ holds the
  // connections of the deliveries dropped meanwhile.
  bool behind_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t cursor_ ABSL_GUARDED_BY(mu_) = 0;
  bool refill_due_ ABSL_GUARDED_BY(mu_) = false;
  // Behind for a replay (Rewind): refills are exact until it catches up.
  bool replaying_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t rewinds_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t catch_ups_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t refilled_ ABSL_GUARDED_BY(mu_) = 0;
  int wakes_running_ ABSL_GUARDED_BY(mu_) = 0;
  // Overflowed mode.
  bool overflowed_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_set<uint64_t> lost_ ABSL_GUARDED_BY(mu_);
  uint64_t lost_through_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t lost_count_ ABSL_GUARDED_BY(mu_) = 0;
  // Counters.
  uint64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t resyncs_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace mapinotify::server

#endif  // MAPINOTIFY_SERVER_HUB_OUTBOX_H_
