// Advise sinks (IMAPIAdviseSink) and the batches they receive.
#ifndef MAPINOTIFY_ADVISE_SINK_H_
#define MAPINOTIFY_ADVISE_SINK_H_

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "mapinotify/notification.h"

namespace mapinotify {

// A client-chosen advise connection number; never 0.
using ConnectionId = uint64_t;

// One notification as delivered: its server sequence number and the shared,
// immutable value. A notification the library makes itself (the resync
// signal) has sequence 0. Notifications that arrived in one wire message
// for the same advise connections may share one allocation: keeping one of
// them past OnNotify keeps that allocation (at most one wire message's
// notifications) until it is released.
struct Delivery {
  uint64_t sequence = 0;
  std::shared_ptr<const Notification> notification;
};

// The deliveries of one OnNotify call; one is held inline (an operation of
// a single notification, the common case, allocates no list).
using DeliveryList = absl::InlinedVector<Delivery, 1>;

// The notifications of one operation for one connection, in sequence order:
// what MAPI passes to OnNotify as (cNotif, lpNotifications). Thread-compatible
// value; valid for the duration of the OnNotify call (copy what you keep).
class NotificationBatch {
 public:
  NotificationBatch() = default;
  NotificationBatch(ConnectionId connection, DeliveryList items)
      : connection_(connection), items_(std::move(items)) {}
  // From a std::vector (a template, so that a braced list picks the
  // DeliveryList constructor).
  template <
      typename Vector,
      std::enable_if_t<std::is_same_v<Vector, std::vector<Delivery>>, int> = 0>
  NotificationBatch(ConnectionId connection, Vector items)
      : connection_(connection),
        items_(std::make_move_iterator(items.begin()),
               std::make_move_iterator(items.end())) {}

  // The connection the batch is delivered for.
  ConnectionId connection() const { return connection_; }
  // cNotif.
  size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  // lpNotifications[i]. REQUIRES: i < size().
  const Notification& operator[](size_t i) const {
    return *items_[i].notification;
  }
  // The sequence number of notification i (0 for the resync signal).
  uint64_t sequence(size_t i) const { return items_[i].sequence; }
  absl::Span<const Delivery> items() const { return items_; }

 private:
  ConnectionId connection_ = 0;
  DeliveryList items_;
};

// IMAPIAdviseSink. Implementations are called by the library on the thread
// the session's threading model (or ThisThreadAdviseSink) names, never on a
// gRPC thread, and never for a connection after Unadvise of it returned.
// A sink may call any library function from OnNotify, including Advise and
// Unadvise of its own connection. The sinks of one session that run on one
// thread are called in the order the notifications arrive on the session's
// stream, across their connections: the server's sequence order, so when
// OnNotify sees a notification every earlier one of the session for a sink
// on that thread has been delivered. The exception is the replay after a
// reconnection, which the server sends connection by connection.
class AdviseSink {
 public:
  virtual ~AdviseSink() = default;
  // The notifications of one operation for `batch.connection()`, in order.
  virtual void OnNotify(const NotificationBatch& batch) = 0;
};

// HrThisThreadAdviseSink: returns a sink that runs `sink` on the calling
// thread, through the calling thread's MessageLoop, whatever the session's
// threading model. FailedPrecondition when the calling thread has no
// MessageLoop (never an unwrapped sink); InvalidArgument when `sink` is null.
// The loop must outlive every connection advised with the returned sink.
// Advised through a session, the returned sink is unwrapped: notifications go
// straight to the wrapping thread's loop, under the connection's bounds and
// overflow policy. Called directly (its OnNotify invoked by the application),
// it posts a copy of the batch (the notifications are shared) to the loop as
// a task; when that loop's task queue is full or the loop is destroyed the
// batch is dropped (the call never blocks). Wrapping a returned sink again
// re-targets the original sink to the new calling thread.
absl::StatusOr<std::shared_ptr<AdviseSink>> ThisThreadAdviseSink(
    std::shared_ptr<AdviseSink> sink);

}  // namespace mapinotify

#endif  // MAPINOTIFY_ADVISE_SINK_H_
