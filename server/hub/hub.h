// Hub: the server's notification hub. Streams (one per Subscribe call) advise
// connections on targets; producers publish notifications; the hub numbers
// them (one server-wide sequence per epoch) and queues each notification
// once per stream, with every matching connection number, into that stream's
// Outbox.
//
// Guarantees:
//   - Every stream receives its deliveries in ascending sequence order, even
//     with concurrent publishers (numbering and queuing happen in one
//     critical section).
//   - A stream's `advised` answer precedes every delivery for that
//     connection; its `unadvised` answer follows every delivery for it.
//   - One Publish call is one operation: the last delivery a stream gets
//     from it carries ends_batch.
//   - A producer never blocks on a subscriber: queuing is O(1) per matching
//     stream; a full outbox falls behind and catches up from the retention
//     log on its own cursor (Refill), and only a stream that falls out of it
//     gets the resync.
//   - Callbacks (`wake`, the TargetValidator) are never called with the hub's
//     lock held.
//   - Retention: the hub keeps the most recent events (bounded by count and
//     by bytes, shared with the outboxes, never copied) so that a connection
//     re-registered after a reconnect gets what it missed (Advise with a
//     ResumeFrom), and progress marks let quiet connections' resume points
//     advance (SendProgressMarks).
//
// Thread-safe.
#ifndef MAPINOTIFY_SERVER_HUB_HUB_H_
#define MAPINOTIFY_SERVER_HUB_HUB_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "mapinotify/mapi.h"
#include "mapinotify/v1/notifications.pb.h"
#include "server/hub/event.h"
#include "server/hub/outbox.h"
#include "server/hub/registry.h"
#include "server/hub/target_key.h"
#include "server/hub/waker.h"

namespace mapinotify::server {

// Every fnev* bit; an event mask with any other bit is invalid.
inline constexpr uint32_t kKnownEventMask = kAllEventTypes;

// One notification of a Publish call and the targets it concerns (for
// example, a folder-created event concerns the parent folder's entry id).
// Store-wide registrations match it whatever its targets.
struct PublishItem {
  v1::Notification notification;
  std::vector<TargetKey> targets;
};

// `status` as a wire ConnectionStatus {code, message, scode}; the scode is
// mapinotify::ScodeOf(status): the SCODE the status carries, or its code's
// default (MAPI_E_INVALID_PARAMETER for InvalidArgument ...).
v1::ConnectionStatus ToConnectionStatus(const absl::Status& status);
// The `advised` answer {connection, status, sequence} for an AdviseRequest;
// `sequence` (the registration point) is sent only with an OK status.
v1::SubscribeResponse AdvisedResponse(uint64_t connection,
                                      const absl::Status& status,
                                      uint64_t sequence = 0);

class Hub {
 public:
  // Bounds of the retention log. Every published event is retained until
  // one of them evicts it (oldest first); a resume point before the oldest
  // retained event can only be answered with a resync.
  struct RetentionOptions {
    size_t max_events = 100000;
    // Sum of Event::retained_bytes().
    size_t max_bytes = size_t{64} << 20;
  };

  struct Options {
    // Bounds of every stream's outbox.
    Outbox::Options outbox;
    RetentionOptions retention;
    // The epoch; 0 picks a random nonzero one (tests pass a fixed value).
    uint64_t epoch = 0;
    // Decides whether an advise target exists; empty means
    // DefaultTargetValidator.
    TargetValidator validator;
    // A Publish (or progress mark round) that makes at most this many idle
    // streams due wakes them on its own thread; more are woken by the hub's
    // Waker thread (waker.h), so that fan-out to many streams does not make
    // the publisher start every write itself.
    size_t inline_wakes = 4;
  };

  struct Stats {
    size_t streams = 0;
    size_t registrations = 0;
    uint64_t last_sequence = 0;
    // The retention log: events and their retained_bytes(); a resume point
    // can be replayed from when it is >= retained_after.
    size_t retained_events = 0;
    size_t retained_bytes = 0;
    uint64_t retained_after = 0;
    // Resumed registrations: answered by replay (and how many deliveries
    // that queued) or by a resync.
    uint64_t resumes_replayed = 0;
    uint64_t replayed_deliveries = 0;
    uint64_t resumes_resynced = 0;
    // Of resumes_replayed: those whose missed events did not fit the
    // stream's queue and were replayed through its catch-up cursor
    // (their deliveries count as refilled_deliveries).
    uint64_t replays_through_cursor = 0;
    // Progress marks queued (after coalescing in the outboxes).
    uint64_t progress_marks = 0;
    // Catch-up of slow streams: refills, deliveries they queued, and
    // catch-ups that fell out of the retention log (resynced).
    uint64_t refills = 0;
    uint64_t refilled_deliveries = 0;
    uint64_t catch_up_resyncs = 0;
    // Notifications left out of refills by coalescing (coalesce.h).
    uint64_t coalesced = 0;
  };

  // Where a connection re-registered after a reconnect resumes
  // (AdviseRequest.resume_after of a stream that began with a ResumePoint).
  struct ResumeFrom {
    // The epoch of the stream's ResumePoint.
    uint64_t epoch = 0;
    // The connection has received every matching event up to and including
    // this sequence of that epoch.
    uint64_t after = 0;
  };

  explicit Hub(Options options);
  Hub() : Hub(Options()) {}
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;
  // Outboxes of streams still open stay valid (their owners hold them) but
  // receive nothing more.
  ~Hub();

  // Nonzero; constant for the hub's lifetime.
  uint64_t epoch() const { return epoch_; }
  // The highest sequence number assigned so far (0 before any Publish).
  uint64_t last_sequence() const ABSL_LOCKS_EXCLUDED(mu_);

  // Opens a stream. Its outbox already holds the control response `hello`
  // {epoch, last_sequence}, for which no wake is sent: the caller starts
  // writing by calling TakeWrite once it is ready. `wake` is the outbox's
  // wake callback (see Outbox). The stream lives until CloseStream.
  std::shared_ptr<Outbox> OpenStream(std::function<void()> wake)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Registers `connection` of `stream` on `target` for `event_mask` and
  // queues the answer `advised` {connection, status, sequence} in the
  // stream's outbox, ahead of any delivery for the connection; `sequence` is
  // last_sequence() at the registration. With `resume` (a re-registration),
  // in the same critical section, right after a successful answer:
  //   - the retained events with a sequence in (resume->after, sequence]
  //     that match the registration, each for this connection alone, with
  //     ends_batch on the last one of each publishing operation; or, when
  //     that cannot be done,
  //   - a `resync` {connection, reason, resume_sequence = sequence}: the
  //     epoch differs (the server restarted without its history), the point
  //     is ahead of the server, or it is older than the retention log.
  // Replay costs O(retained events after the point) under the hub's lock.
  // When the missed events do not all fit the stream's queue now (or the
  // stream is catching up), they are replayed through the stream's
  // catch-up cursor instead (Outbox::Rewind; refills, never coalesced for
  // a replay): all of them, or — should the cursor fall out of the log
  // before it gets there — the resync. Never a part followed by a silent
  // gap. Returns the answer's status:
  //   InvalidArgument: connection is 0; event_mask is 0 or has unknown bits;
  //                    the validator finds the target malformed;
  //   NotFound:        the validator knows no such target;
  //   AlreadyExists:   the connection is live on this stream;
  //   Unavailable:     the hub is sealed (the server is shutting down);
  //   FailedPrecondition: the stream is closed or unknown (nothing queued).
  // A failure affects only this request: the stream and its other
  // connections go on.
  absl::Status Advise(Outbox* stream, uint64_t connection,
                      const TargetKey& target, uint32_t event_mask,
                      const ResumeFrom* resume = nullptr)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Unregisters `connection` of `stream` and queues `unadvised` {connection,
  // status}, after every delivery already queued for it. NotFound when the
  // connection is not live on the stream; FailedPrecondition when the stream
  // is closed or unknown (nothing queued).
  absl::Status Unadvise(Outbox* stream, uint64_t connection)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Removes all of `stream`'s registrations (if it has any) and closes its
  // outbox (see Outbox::Close; a write in flight must still be finished).
  // Idempotent.
  void CloseStream(Outbox* stream) ABSL_LOCKS_EXCLUDED(mu_);

  // Publishes one operation's notifications: numbers them consecutively and
  // queues each in every stream with a matching registration, once per
  // stream with all its matching connections, in order; the last delivery a
  // stream gets from this call has ends_batch. Returns the last sequence
  // assigned (last_sequence() unchanged if `items` is empty). Never blocks on
  // a subscriber. A notification whose event_type is 0 matches nothing.
  uint64_t Publish(std::vector<PublishItem> items) ABSL_LOCKS_EXCLUDED(mu_);

  // The outboxes a PublishDeferred call queued on while they were idle: each
  // owes a wake (Outbox::Wake), which may start a gRPC write. Run() wakes
  // them; the destructor runs whatever was not run. Move-only.
  class Wakes {
   public:
    Wakes() = default;
    Wakes(Wakes&& other)
        : outboxes_(std::move(other.outboxes_)), waker_(other.waker_) {
      other.outboxes_.clear();
    }
    Wakes& operator=(Wakes&& other) {
      Run();
      outboxes_ = std::move(other.outboxes_);
      other.outboxes_.clear();
      waker_ = other.waker_;
      return *this;
    }
    ~Wakes() { Run(); }
    // Wakes every outbox owed a wake (a few on this thread, many through
    // the hub's Waker). Call with no lock held, before the hub that filled
    // it is destroyed (an empty Wakes may outlive it).
    void Run();
    bool empty() const { return outboxes_.empty(); }

   private:
    friend class Hub;
    std::vector<std::shared_ptr<Outbox>> outboxes_;
    Waker* waker_ = nullptr;  // Set by the Hub; null: all on this thread.
  };

  // Publish, except that the wakes are appended to `*wakes` instead of run:
  // for a caller that publishes under a lock of its own (the store, so that
  // notification order is commit order) and must not start gRPC writes
  // under it. The caller runs `wakes` once it holds no lock.
  uint64_t PublishDeferred(std::vector<PublishItem> items, Wakes* wakes)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Queues a progress mark {last_sequence()} on every stream that has at
  // least one registration, under the hub's lock (so every event up to the
  // mark that matches the stream is queued before it), and wakes them. An
  // outbox ignores a mark that is not above its last one or that it cannot
  // honour yet (it is dropping deliveries), and merges it with a mark still
  // queued last. `all_streams` also marks streams without registrations (the
  // final mark of a shutdown). Returns how many marks were queued.
  size_t SendProgressMarks(bool all_streams = false) ABSL_LOCKS_EXCLUDED(mu_);

  // The writer of `stream` found it behind and drained (Outbox::
  // refill_due): queues the stream's next matching events from the
  // retention log on its cursor — at most half the outbox's bounds per
  // call, state-like notifications coalesced first (coalesce.h) — and, once
  // the cursor reaches the live sequence, ends the catch-up so that live
  // deliveries follow without a gap; or, when the cursor fell out of the
  // retention log, ends it with a resync for the connections that lost
  // something. Scans at most kRefillScan events per call; the writer
  // calls again while refill_due() holds. No-op for a stream that is not
  // due.
  void Refill(Outbox* stream) ABSL_LOCKS_EXCLUDED(mu_);
  static constexpr size_t kRefillScan = 65536;

  // The start of a graceful shutdown, in one critical section: every
  // stream gets a final progress mark {last_sequence()} (Outbox::
  // PushFinalMark) and loses its registrations, so its outbox drains and
  // stays empty. Afterwards Advise answers Unavailable and Publish still
  // numbers and retains but delivers nothing. Idempotent.
  void Seal() ABSL_LOCKS_EXCLUDED(mu_);

  Stats GetStats() const ABSL_LOCKS_EXCLUDED(mu_);

  // Wakes handed to the Waker thread so far.
  size_t wakes_handed_over() const { return waker_.handed_over(); }

 private:
  // Appends `events` (numbered) to the retention log and evicts past its
  // bounds; the evicted events are moved to `*evicted` (released by the
  // caller after unlocking).
  using EventList = absl::InlinedVector<std::shared_ptr<Event>, 4>;
  using EvictedList = absl::InlinedVector<EventPtr, 4>;
  void RetainLocked(const EventList& events, EvictedList* evicted)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The resume half of Advise (see there). Returns true when the stream is
  // owed a wake.
  bool ResumeLocked(Outbox* stream, uint64_t connection,
                    const TargetKey& target, uint32_t event_mask,
                    const ResumeFrom& resume)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Constant after construction.
  const Outbox::Options outbox_options_;
  const RetentionOptions retention_;
  const uint64_t epoch_;
  const TargetValidator validator_;

  // State below is protected by mu_.
  mutable absl::Mutex mu_;
  uint64_t last_sequence_ ABSL_GUARDED_BY(mu_) = 0;
  bool sealed_ ABSL_GUARDED_BY(mu_) = false;
  Registry registry_ ABSL_GUARDED_BY(mu_);
  // The retention log: every event with a sequence in
  // (retained_after_, last_sequence_], in order (sequences are consecutive,
  // so event s is at index s - retained_after_ - 1).
  std::deque<EventPtr> retained_ ABSL_GUARDED_BY(mu_);
  size_t retained_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t retained_after_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t resumes_replayed_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t replayed_deliveries_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t resumes_resynced_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t replays_through_cursor_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t progress_marks_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t refills_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t refilled_deliveries_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t catch_up_resyncs_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t coalesced_ ABSL_GUARDED_BY(mu_) = 0;
  // Scratch of Publish, kept to reuse its capacity.
  std::vector<Registry::Match> matches_ ABSL_GUARDED_BY(mu_);
  // Last: destroyed first, so its thread (which may call Refill through a
  // wake) has ended before the rest of the hub goes.
  Waker waker_;
};

}  // namespace mapinotify::server

#endif  // MAPINOTIFY_SERVER_HUB_HUB_H_
