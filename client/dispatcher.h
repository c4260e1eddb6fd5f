// Dispatcher: moves notifications from the threads that receive them (gRPC
// readers) to the loops on which their advise sinks run.
#ifndef MAPINOTIFY_CLIENT_DISPATCHER_H_
#define MAPINOTIFY_CLIENT_DISPATCHER_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "client/loop_core.h"
#include "mapinotify/advise_sink.h"

namespace mapinotify {
namespace internal {

class DispatchConnection;
struct DispatchCounters;
class LoopTurns;

// Per-connection bounds of the client-side queue (DESIGN §2 rule 5).
struct DispatcherOptions {
  // A connection's queue never holds more notifications than this ...
  size_t max_queued_notifications = 100000;
  // ... nor more bytes (as reported by the enqueuer, DeliveryGroup::bytes).
  size_t max_queued_bytes = size_t{64} << 20;
};

// The notifications of one operation for one connection, as one incoming
// wire message carried them: delivered in ONE OnNotify call.
struct DeliveryGroup {
  ConnectionId connection = 0;
  DeliveryList deliveries;  // In sequence order; moved from.
  // What the group costs against max_queued_bytes: the caller passes the
  // wire size of the notifications (cheap and proportional to the memory
  // they hold).
  size_t bytes = 0;
};

struct DispatcherStats {
  // Queued now, all connections.
  size_t queued_notifications = 0;
  size_t queued_bytes = 0;
  // Highest value ever reached by the sums above.
  size_t high_water_notifications = 0;
  size_t high_water_bytes = 0;
  // Highest queue of any single connection ever (never above the bounds).
  size_t connection_high_water_notifications = 0;
  size_t connection_high_water_bytes = 0;
  // Resync signals delivered to sinks (overflow or server resync).
  uint64_t resyncs_issued = 0;
  // Notifications dropped by the overflow policy.
  uint64_t dropped_notifications = 0;
  // Notifications and OnNotify calls delivered to sinks.
  uint64_t delivered_notifications = 0;
  uint64_t delivered_batches = 0;
};

struct ConnectionStats {
  size_t queued_notifications = 0;
  size_t queued_bytes = 0;
  size_t high_water_notifications = 0;
  size_t high_water_bytes = 0;
  uint64_t resyncs_issued = 0;
  uint64_t dropped_notifications = 0;
  uint64_t delivered_notifications = 0;
};

// Holds the advise connections of one session: each connection's sink, the
// loop it runs on, and a bounded queue of batches waiting for that loop.
// Thread-safe. Never calls a sink while holding a lock, and calls sinks only
// from the loops (never from Enqueue*'s caller).
//
// Order: per connection, batches are delivered in the order they were
// queued; across the connections of one loop too (each loop runs a FIFO of
// turns, one per run of batches queued for a connection), so that what a
// connection receives while its sink runs does not overtake what other
// connections received before it. A sink that runs a nested loop lets the
// turns before its own next one run, and stops there.
//
// Overflow: when a connection's queue would exceed its bounds (its loop is
// not pumped fast enough), its queued batches and every batch that arrives
// until its next turn runs are dropped; that turn first delivers the
// resync signal (sequence 0): fnevCriticalError with
// ErrorNotification::scode = MAPI_E_NOTIFICATIONS_LOST for a non-table
// target, a TableNotification with TABLE_RELOAD for a table target, whatever
// the event mask; live delivery continues with the batches that arrive after.
class Dispatcher {
 public:
  // `default_loop` runs every sink that is not a ThisThreadAdviseSink
  // wrapper: the kInitThread loop of the session's opening thread, or a
  // NotificationThread's loop. Must be non-null.
  Dispatcher(std::shared_ptr<LoopCore> default_loop, DispatcherOptions options);
  // Removes every connection (the fence of Remove for each). REQUIRES: not
  // called from inside an OnNotify of one of its connections.
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // Registers connection `c`. Its sink runs on the wrapping thread's loop if
  // `sink` came from ThisThreadAdviseSink (unwrapped: no extra hop), else on
  // the default loop. `table_target` selects the resync signal
  // (TABLE_RELOAD instead of fnevCriticalError). InvalidArgument for c == 0
  // or a null sink; AlreadyExists when `c` is registered; FailedPrecondition
  // when the sink's loop is already destroyed.
  absl::Status Add(ConnectionId c, std::shared_ptr<AdviseSink> sink,
                   bool table_target) ABSL_LOCKS_EXCLUDED(mu_);

  // Unregisters `c` and discards its pending batches. THE FENCE: when it
  // returns, no OnNotify for `c` runs on another thread and none will start.
  // From inside `c`'s own OnNotify it returns at once (the running call
  // finishes; nothing more is delivered). The sink is released once no call
  // is running. Unknown `c`: no-op. Calls for other connections continue.
  // Two sinks that Remove each other from OnNotify on two different loops at
  // the same moment deadlock (as any two threads joining each other).
  void Remove(ConnectionId c) ABSL_LOCKS_EXCLUDED(mu_);

  // Queues the groups of one incoming wire message (moving their
  // deliveries out) and adds, in order, a turn for each run of consecutive
  // groups of one connection to its loop's turns, scheduled when they were
  // idle (see "Order" above). Never blocks on application
  // code and never calls it; takes the registry lock once and a
  // connection's lock once per run of consecutive groups for it. Groups for
  // unknown or removed connections, and empty groups, are dropped silently.
  void Enqueue(absl::Span<DeliveryGroup> groups) ABSL_LOCKS_EXCLUDED(mu_);

  // A server-sent resync for `c`: the connection's sink gets the resync
  // signal after the batches queued before it and before those queued after
  // it. Takes no room in the bounds (consecutive resyncs, or one while an
  // overflow's signal is pending, are delivered once). `reason` becomes the
  // ErrorNotification's error_text (non-table targets).
  void EnqueueResync(ConnectionId c, std::string reason)
      ABSL_LOCKS_EXCLUDED(mu_);

  DispatcherStats stats() const;
  // NotFound for an unknown connection.
  absl::StatusOr<ConnectionStats> connection_stats(ConnectionId c) const
      ABSL_LOCKS_EXCLUDED(mu_);
  size_t connection_count() const ABSL_LOCKS_EXCLUDED(mu_);

  // The resync signal a sink gets (sequence 0).
  static Delivery ResyncSignal(bool table_target, const std::string& reason);

 private:
  std::shared_ptr<DispatchConnection> Find(ConnectionId c) const
      ABSL_LOCKS_EXCLUDED(mu_);
  // The turns of `loop` (one per loop the connections use).
  std::shared_ptr<LoopTurns> TurnsForLocked(
      const std::shared_ptr<LoopCore>& loop) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Constant after construction.
  const std::shared_ptr<LoopCore> default_loop_;
  const DispatcherOptions options_;
  const std::shared_ptr<DispatchCounters> counters_;
  const std::shared_ptr<LoopTurns> default_turns_;

  // The registry. Lock order: mu_ before any DispatchConnection::mu_.
  mutable absl::Mutex mu_;
  absl::flat_hash_map<ConnectionId, std::shared_ptr<DispatchConnection>>
      connections_ ABSL_GUARDED_BY(mu_);
  // The turns of the wrapping threads' loops, while a connection uses them.
  absl::flat_hash_map<LoopCore*, std::weak_ptr<LoopTurns>> wrapped_turns_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace internal
}  // namespace mapinotify

#endif  // MAPINOTIFY_CLIENT_DISPATCHER_H_
