// Session::Impl: the session's state — channel, stream, dispatcher, pending
// Advise answers. Internal; the public contract is in mapinotify/session.h.
#ifndef MAPINOTIFY_CLIENT_INTERNAL_SESSION_IMPL_H_
#define MAPINOTIFY_CLIENT_INTERNAL_SESSION_IMPL_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/optional.h"
#include "client/dispatcher.h"
#include "client/internal/store_client.h"
#include "client/internal/subscribe_stream.h"
#include "client/notification_thread.h"
#include "mapinotify/session.h"
#include "mapinotify/v1/notifications.grpc.pb.h"

namespace mapinotify {

// Thread-safe. Lock order: mu_ is a leaf (nothing is called while it is
// held); the dispatcher and the stream are called without it.
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
  SessionStats stats() const;

  // StreamHandler (gRPC reader thread).
  void OnResponse(v1::SubscribeResponse& response) override
      ABSL_LOCKS_EXCLUDED(mu_);
  void OnStreamDone(const absl::Status& status) override
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  Impl(SessionOptions options, std::shared_ptr<grpc::Channel> channel);

  // Reader thread only: turns a batch into per-connection groups, each the
  // notifications of one operation, and hands complete ones to the
  // dispatcher.
  void OnBatch(const v1::NotificationBatch& batch);
  // Reader thread only: hands every partially received group over (before a
  // resync, or at stream end) so nothing received is held back.
  void FlushPartials(std::vector<internal::DeliveryGroup>* out);

  // Constant after construction.
  const SessionOptions options_;
  // The session's identity on the wire (client/internal/caller.h).
  const std::string session_id_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Notifications::Stub> stub_;
  // Shared with every MsgStore and Message of the session; closed when the
  // session is destroyed.
  const std::shared_ptr<internal::StoreClient> store_client_;
  // Declared before the dispatcher: the dispatcher's sinks run on its loop.
  std::unique_ptr<internal::NotificationThread> notification_thread_;
  std::unique_ptr<internal::Dispatcher> dispatcher_;
  std::unique_ptr<internal::SubscribeStream> stream_;
  std::atomic<ConnectionId> next_connection_{1};

  // Reader state (one OnResponse at a time): groups being assembled, in the
  // order their connections first appeared.
  absl::flat_hash_map<ConnectionId, size_t> partial_index_;
  std::vector<internal::DeliveryGroup> partial_;

  mutable absl::Mutex mu_;
  bool hello_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t epoch_ ABSL_GUARDED_BY(mu_) = 0;
  bool stream_done_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status stream_status_ ABSL_GUARDED_BY(mu_);
  // Advise calls waiting for the server's answer.
  absl::flat_hash_map<ConnectionId, absl::optional<absl::Status>> answers_
      ABSL_GUARDED_BY(mu_);
  // Live connections (advised and answered OK, not yet unadvised).
  absl::flat_hash_set<ConnectionId> live_ ABSL_GUARDED_BY(mu_);
};

}  // namespace mapinotify

#endif  // MAPINOTIFY_CLIENT_INTERNAL_SESSION_IMPL_H_
