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
//     stream and a full outbox drops per its overflow policy (resync).
//   - Callbacks (`wake`, the TargetValidator) are never called with the hub's
//     lock held.
//
// Thread-safe.
#ifndef MAPINOTIFY_SERVER_HUB_HUB_H_
#define MAPINOTIFY_SERVER_HUB_HUB_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "mapinotify/mapi.h"
#include "mapinotify/v1/notifications.pb.h"
#include "server/hub/event.h"
#include "server/hub/outbox.h"
#include "server/hub/registry.h"
#include "server/hub/target_key.h"

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
// The `advised` answer {connection, status} for an AdviseRequest.
v1::SubscribeResponse AdvisedResponse(uint64_t connection,
                                      const absl::Status& status);

class Hub {
 public:
  struct Options {
    // Bounds of every stream's outbox.
    Outbox::Options outbox;
    // The epoch; 0 picks a random nonzero one (tests pass a fixed value).
    uint64_t epoch = 0;
    // Decides whether an advise target exists; empty means
    // DefaultTargetValidator.
    TargetValidator validator;
  };

  struct Stats {
    size_t streams = 0;
    size_t registrations = 0;
    uint64_t last_sequence = 0;
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
  // queues the answer `advised` {connection, status} in the stream's outbox,
  // ahead of any delivery for the connection. Returns that status:
  //   InvalidArgument: connection is 0; event_mask is 0 or has unknown bits;
  //                    the validator finds the target malformed;
  //   NotFound:        the validator knows no such target;
  //   AlreadyExists:   the connection is live on this stream;
  //   FailedPrecondition: the stream is closed or unknown (nothing queued).
  // A failure affects only this request: the stream and its other
  // connections go on.
  absl::Status Advise(Outbox* stream, uint64_t connection,
                      const TargetKey& target, uint32_t event_mask)
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
    Wakes(Wakes&&) = default;
    Wakes& operator=(Wakes&& other) {
      Run();
      outboxes_ = std::move(other.outboxes_);
      other.outboxes_.clear();
      return *this;
    }
    ~Wakes() { Run(); }
    // Wakes every outbox owed a wake. Call with no lock held.
    void Run();
    bool empty() const { return outboxes_.empty(); }

   private:
    friend class Hub;
    std::vector<std::shared_ptr<Outbox>> outboxes_;
  };

  // Publish, except that the wakes are appended to `*wakes` instead of run:
  // for a caller that publishes under a lock of its own (the store, so that
  // notification order is commit order) and must not start gRPC writes
  // under it. The caller runs `wakes` once it holds no lock.
  uint64_t PublishDeferred(std::vector<PublishItem> items, Wakes* wakes)
      ABSL_LOCKS_EXCLUDED(mu_);

  Stats GetStats() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // Constant after construction.
  const Outbox::Options outbox_options_;
  const uint64_t epoch_;
  const TargetValidator validator_;

  // State below is protected by mu_.
  mutable absl::Mutex mu_;
  uint64_t last_sequence_ ABSL_GUARDED_BY(mu_) = 0;
  Registry registry_ ABSL_GUARDED_BY(mu_);
  // Scratch of Publish, kept to reuse its capacity.
  std::vector<Registry::Match> matches_ ABSL_GUARDED_BY(mu_);
};

}  // namespace mapinotify::server

#endif  // MAPINOTIFY_SERVER_HUB_HUB_H_
