// Session::Impl: the session's state — channel, stream, dispatcher, advise
// connections and their resume points, and the thread that re-opens the
// stream when it breaks. Internal; the public contract is in
// mapinotify/session.h.
#ifndef MAPINOTIFY_CLIENT_INTERNAL_SESSION_IMPL_H_
#define MAPINOTIFY_CLIENT_INTERNAL_SESSION_IMPL_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "client/dispatcher.h"
#include "client/internal/state_notifier.h"
#include "client/internal/store_client.h"
#include "client/internal/subscribe_stream.h"
#include "client/notification_thread.h"
#include "mapinotify/session.h"
#include "mapinotify/v1/notifications.grpc.pb.h"

namespace mapinotify {

// Thread-safe.
//
// Threads. Advise / Unadvise / accessors run on application threads (sinks
// included). The current stream's callbacks (OnResponse, OnStreamDone) run
// on gRPC threads, one at a time: the "reader". The reconnect thread
// (reconnect enabled only) waits for the stream to break, then replaces it;
// it starts a stream only after the previous one is done (Close returned),
// so reader callbacks of two streams never overlap, and it alone reports
// state transitions after Open (with reconnection disabled, the reader
// reports the one transition, kLost).
//
// Lock order: mu_ is a leaf. Nothing is called while it is held — no sink,
// no dispatcher, no stream, no StateNotifier: the callers collect what to
// do under mu_ and do it after unlocking.
//
// Resume points: a live connection's `resume` is the sequence up to which its
// sink has been handed everything the server sent for it (handed to the
// dispatcher, whose queues survive reconnects), raised by progress marks and
// resyncs; it is what the connection asks the server to replay after, and
// anything at or below it that arrives again is dropped as a duplicate.
class Session::Impl final : public internal::StreamHandler {
 public:
  static absl::StatusOr<std::unique_ptr<Impl>> Open(
      const std::string& address, SessionOptions options,
      absl::Duration connect_timeout);
  ~Impl() override;

  absl::StatusOr<ConnectionId> Advise(const AdviseTarget& target,
                                      ULONG event_mask,
                                      std::shared_ptr<AdviseSink> sink)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status Unadvise(ConnectionId connection) ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::unique_ptr<MsgStore>> OpenMsgStore();
  uint64_t epoch() const ABSL_LOCKS_EXCLUDED(mu_);
  SessionState state() const ABSL_LOCKS_EXCLUDED(mu_);
  SessionStats stats() const ABSL_LOCKS_EXCLUDED(mu_);

  // StreamHandler (the reader).
  void OnResponse(v1::SubscribeResponse& response) override
      ABSL_LOCKS_EXCLUDED(mu_);
  void OnStreamDone(const absl::Status& status) override
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // An advise connection of the session.
  struct Connection {
    enum class Phase {
      // Advise sent; its caller waits for `answer`.
      kPending,
      // Answered OK: notifications flow; re-registered after a reconnect.
      kLive,
      // The server ended it, refused to re-register it, or the stream is
      // lost: its sink got the resync signal; nothing more comes. Kept so
      // that Unadvise succeeds.
      kDead,
    };
    v1::Target target;
    uint32_t event_mask = 0;
    Phase phase = Phase::kPending;
    // kPending: the server's answer, once it came (or the stream's end).
    absl::optional<absl::Status> answer;
    // kLive: see the class comment. Meaningful in `resume_epoch` only.
    uint64_t resume = 0;
    uint64_t resume_epoch = 0;
    // Answered OK on the current stream: its progress marks apply.
    bool on_stream = false;
    // Re-registered without a resume point (its point belongs to an epoch
    // other than the one the stream resumes from): the session itself owes
    // the sink the resync signal when the server accepts it.
    bool owes_resync = false;
  };

  // What the reader decided under mu_, to be done after unlocking, in this
  // order: groups to the dispatcher, then resync signals.
  // Inline storage: a batch of one operation makes one Step with one group
  // per connection, and allocates for neither.
  struct Step {
    absl::InlinedVector<internal::DeliveryGroup, 1> groups;
    std::vector<std::pair<ConnectionId, std::string>> resyncs;
  };
  using Steps = absl::InlinedVector<Step, 1>;
  // A received notification, converted before the lock is taken, and its
  // wire size (what it costs against the dispatcher's byte bound).
  struct Parsed {
    absl::StatusOr<std::shared_ptr<const Notification>> value;
    size_t bytes = 0;
  };
  using ParsedList = absl::InlinedVector<Parsed, 8>;

  Impl(SessionOptions options, std::shared_ptr<grpc::Channel> channel,
       absl::Duration connect_timeout);

  // Runs `steps` (no lock held).
  void Dispatch(Steps& steps) ABSL_LOCKS_EXCLUDED(mu_);

  // The reader's handlers. REQUIRES: mu_ held; they only record what to do.
  void OnAdvisedLocked(const v1::Advised& advised, Steps* steps, bool* unadvise)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnBatchLocked(const v1::NotificationBatch& batch,
                     const ParsedList& parsed, Steps* steps)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnProgressLocked(uint64_t sequence) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Moves every partially received group into `step` (handed over: their
  // connections' resume points advance to them).
  void FlushPartialsLocked(Step* step) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Forgets the partially received groups (the server replays them whole).
  void DiscardPartials();
  // Raises `c`'s resume point to `sequence` (live connections only).
  void AdvanceLocked(ConnectionId c, uint64_t sequence)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Starts `stream` as the current one after queuing `requests` on it (so
  // that they precede anything another thread sends). REQUIRES: the
  // previous stream is done.
  void StartStream(std::shared_ptr<internal::SubscribeStream> stream,
                   std::vector<v1::SubscribeRequest> requests)
      ABSL_LOCKS_EXCLUDED(mu_);

  // The reconnect thread.
  void ReconnectLoop() ABSL_LOCKS_EXCLUDED(mu_);
  // One attempt: OK once the new stream answered hello and every
  // re-registration (state_ is then kConnected); Cancelled when closing;
  // otherwise why it failed (its stream is done then).
  absl::Status Attempt() ABSL_LOCKS_EXCLUDED(mu_);
  // kLost: every live connection gets the resync signal.
  void Lose(const absl::Status& why) ABSL_LOCKS_EXCLUDED(mu_);
  void PostState(SessionState state, const absl::Status& why);

  bool ClosingLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return closing_;
  }

  // Constant after construction.
  const SessionOptions options_;
  const absl::Duration connect_timeout_;
  // The session's identity on the wire (client/internal/caller.h).
  const std::string session_id_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Notifications::Stub> stub_;
  // Shared with every MsgStore and Message of the session; closed when the
  // session is destroyed.
  const std::shared_ptr<internal::StoreClient> store_client_;
  // kNotificationThread: this session's hold on the process's notification
  // thread (NotificationThread::Shared); null for kInitThread. Set in Open,
  // then constant. Declared before the dispatcher: the dispatcher's sinks
  // run on its loop.
  std::shared_ptr<internal::NotificationThread> notification_thread_;
  std::unique_ptr<internal::Dispatcher> dispatcher_;
  std::shared_ptr<internal::StateNotifier> state_notifier_;  // May be null.
  std::thread reconnect_thread_;  // Started by Open; joined by ~Impl.
  std::atomic<ConnectionId> next_connection_{1};

  // Reader state (one reader callback at a time, streams never overlap):
  // groups being assembled, in the order their connections first appeared.
  absl::flat_hash_map<ConnectionId, size_t> partial_index_;
  std::vector<internal::DeliveryGroup> partial_;

  // State below is protected by mu_.
  mutable absl::Mutex mu_;
  // ~Impl has begun: every wait ends, nothing new starts.
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  // Open succeeded: a broken stream is the reconnect thread's (or kLost).
  bool opened_ ABSL_GUARDED_BY(mu_) = false;
  SessionState state_ ABSL_GUARDED_BY(mu_) = SessionState::kConnected;
  // The current stream; Send to it without mu_ (copy the pointer).
  std::shared_ptr<internal::SubscribeStream> stream_ ABSL_GUARDED_BY(mu_);
  // The current stream answered hello / ended (and why).
  bool hello_ ABSL_GUARDED_BY(mu_) = false;
  bool stream_done_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status stream_status_ ABSL_GUARDED_BY(mu_);
  // The epoch of the last hello, and the highest sequence received in it.
  uint64_t epoch_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t max_seen_ ABSL_GUARDED_BY(mu_) = 0;
  // Every connection the session holds.
  absl::flat_hash_map<ConnectionId, Connection> connections_
      ABSL_GUARDED_BY(mu_);
  // Re-registrations of the current attempt not answered yet.
  absl::flat_hash_set<ConnectionId> readvising_ ABSL_GUARDED_BY(mu_);
  uint64_t reconnects_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t duplicates_dropped_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace mapinotify

#endif  // MAPINOTIFY_CLIENT_INTERNAL_SESSION_IMPL_H_
