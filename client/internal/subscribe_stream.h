// SubscribeStream: the client end of one Notifications.Subscribe stream
// (gRPC callback API). Internal.
#ifndef MAPINOTIFY_CLIENT_INTERNAL_SUBSCRIBE_STREAM_H_
#define MAPINOTIFY_CLIENT_INTERNAL_SUBSCRIBE_STREAM_H_

#include <google/protobuf/arena.h>
#include <grpcpp/grpcpp.h>

#include <deque>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "client/internal/grpc_status.h"
#include "mapinotify/v1/notifications.grpc.pb.h"

namespace mapinotify::internal {

// Receives what the stream reads. Called on gRPC threads, one call at a time
// (reads are sequential), never with a stream lock held. Implementations must
// not block on application code.
class StreamHandler {
 public:
  virtual ~StreamHandler() = default;
  // One message from the server. `response` is valid during the call only.
  virtual void OnResponse(v1::SubscribeResponse& response) = 0;
  // The stream ended with `status` (after the last OnResponse).
  virtual void OnStreamDone(const absl::Status& status) = 0;
};

// Thread-safe. Writes requests one at a time in the order Send was called;
// reads responses continuously and hands them to the handler. One object per
// call: a session that reconnects makes a new one for each attempt.
class SubscribeStream final
    : public grpc::ClientBidiReactor<v1::SubscribeRequest,
                                     v1::SubscribeResponse> {
 public:
  // `handler` must outlive the stream (until WaitDone returns). The call
  // carries `session_id` and the constructing thread's tag as its caller
  // metadata (client/internal/caller.h), so that the server can release the
  // session's store handles when the stream ends.
  SubscribeStream(v1::Notifications::Stub* stub, StreamHandler* handler,
                  const std::string& session_id);
  ~SubscribeStream() override;

  // Starts the call. Call once.
  void Start();

  // Queues `request`. FailedPrecondition once the stream is closing or done.
  // Requests queued before Start are written first, in order, once it starts
  // (a reconnecting session queues its resume point and re-registrations so).
  // Requests are bounded by the caller: a session has at most one Advise
  // waiting per calling thread, one Unadvise per live connection, and, on a
  // resumed stream, the resume point and one re-registration per live
  // connection.
  absl::Status Send(v1::SubscribeRequest request) ABSL_LOCKS_EXCLUDED(mu_);

  // Cancels the call (pending requests are dropped) and waits until gRPC has
  // finished with the stream (OnDone). Idempotent.
  void Close() ABSL_LOCKS_EXCLUDED(mu_);

  // Ends the session's stream for good: sends `goodbye` after the pending
  // requests (the server then releases the session's state at once instead
  // of keeping it for a reconnect) and waits up to `timeout` for the server
  // to end the stream, then Close(). Idempotent.
  void Goodbye(absl::Duration timeout) ABSL_LOCKS_EXCLUDED(mu_);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnDone(const grpc::Status& status) override;

 private:
  // Starts the next write if none is in flight. Not under mu_ when starting.
  void MaybeWrite() ABSL_LOCKS_EXCLUDED(mu_);

  StreamHandler* const handler_;
  grpc::ClientContext context_;

  // Reader state: only the read callbacks touch it (one at a time). Each
  // response is parsed into `arena_`, which is reset once the handler has
  // returned: the wire form of a batch (its messages and repeated fields)
  // costs no heap allocation once the arena's first block fits it.
  static constexpr size_t kArenaBlockBytes = 32 << 10;
  std::unique_ptr<char[]> arena_block_;
  google::protobuf::Arena arena_;
  v1::SubscribeResponse* response_;  // On arena_.

  absl::Mutex mu_;
  std::deque<v1::SubscribeRequest> pending_ ABSL_GUARDED_BY(mu_);
  // The request being written: owned by the write in flight (set under mu_
  // before StartWrite, untouched until OnWriteDone).
  v1::SubscribeRequest writing_msg_;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  absl::Notification done_;
};

}  // namespace mapinotify::internal

#endif  // MAPINOTIFY_CLIENT_INTERNAL_SUBSCRIBE_STREAM_H_
