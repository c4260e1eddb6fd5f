// The client end of Store.RunOperation (store.proto): one long operation
// with progress and cancel, as MsgStore's blocking long calls with a
// progress object and MsgStore::Start run it (contracts in
// mapinotify/store.h and mapinotify/operation.h). Internal.
//
// Two objects:
//   - OperationCall, the gRPC reactor: writes the start (and at most one
//     cancel), reads ProgressCalls into the state's bounded queue and the
//     OperationResult, and hands the final status to the state. It runs on
//     gRPC threads, never blocks and never runs application code; it
//     deletes itself in OnDone.
//   - OperationState, shared (std::shared_ptr) by the reactor, the thread
//     blocked in a long call or the loop's ready list, and the application's
//     Operation handle, so that any of them may go first. It delivers the
//     progress calls and the outcome: on the waiting thread (Wait), or on a
//     MessageLoop (RunReady, a LoopCore ready source).
#ifndef MAPINOTIFY_CLIENT_INTERNAL_OPERATION_CALL_H_
#define MAPINOTIFY_CLIENT_INTERNAL_OPERATION_CALL_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "client/loop_core.h"
#include "common/internal/progress_ops.h"
#include "mapinotify/operation.h"
#include "mapinotify/progress.h"
#include "mapinotify/v1/store.grpc.pb.h"

namespace mapinotify::internal {

class OperationCall;

// The state of one long operation, shared by its call, its waiter or loop,
// and its handle. Thread-safe.
//
// Call control (under mu_): the start write is in flight first; a Cancel
// while a write is in flight is remembered and written from OnWriteDone.
// The call holds a gRPC hold (so that a cancel can be written from outside
// a reaction) until no cancel write can be started any more: the result or
// the end of the stream was read, or a write failed, and no write is in
// flight. The hold is released exactly once.
//
// Delivery: progress calls wait in a ProgressOpQueue (bounded, coalescing:
// the reader never waits for the consumer), then the outcome. No lock is
// held while a progress object or the callback runs.
class OperationState final
    : public Operation,
      public ReadySource,
      public std::enable_shared_from_this<OperationState> {
 public:
  // For a blocking call: Wait delivers on the waiting thread.
  OperationState();
  // For MsgStore::Start: RunReady delivers on `loop`'s owning thread.
  // `progress` may be null; `done` is not empty.
  OperationState(std::weak_ptr<LoopCore> loop,
                 std::shared_ptr<MapiProgress> progress,
                 OperationCallback done);
  ~OperationState() override;
  OperationState(const OperationState&) = delete;
  OperationState& operator=(const OperationState&) = delete;

  // --- Operation (any thread).
  // Writes a cancel on the call, once; nothing once the result or the end
  // of the call was read.
  void Cancel() override ABSL_LOCKS_EXCLUDED(mu_);
  // The callback has returned, or the loop is destroyed.
  bool done() const override ABSL_LOCKS_EXCLUDED(mu_);

  // --- Blocking delivery. On the calling thread: applies the progress calls
  // to `progress` (may be null) as they arrive, sends a cancel when it
  // answers MAPI_E_USER_CANCEL (and then calls it no more), and returns the
  // outcome once the call is over and every call was applied.
  OperationResult Wait(MapiProgress* progress) ABSL_LOCKS_EXCLUDED(mu_);

  // --- Loop delivery (ReadySource): the loop's owning thread only.
  void RunReady() override ABSL_LOCKS_EXCLUDED(mu_);

  // --- The reactor's side (gRPC threads, and the starting thread).
  // The call a cancel is written on; set once, before its StartCall.
  void Attach(OperationCall* call) ABSL_LOCKS_EXCLUDED(mu_);
  // Queues progress calls read from the server (and lists the loop source).
  void AddProgress(const ProgressOpQueue::Ops& ops) ABSL_LOCKS_EXCLUDED(mu_);
  // The OperationResult was read.
  void SetResult(SCODE warning, std::string entry_id) ABSL_LOCKS_EXCLUDED(mu_);
  // What the reactor must do after an event: nothing, write the cancel
  // (its message is the reactor's), or remove its hold.
  enum class Action { kNone, kWriteCancel, kRemoveHold };
  // A write completed.
  Action OnWriteDone(bool ok) ABSL_LOCKS_EXCLUDED(mu_);
  // No cancel is needed or possible any more from the read side (the result
  // or the end of the stream was read, or the answer was unreadable).
  Action OnReadOver() ABSL_LOCKS_EXCLUDED(mu_);
  // The call is over with `status` (OnDone): the outcome is final.
  void Finish(absl::Status status) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // The hold can go: nothing can be written any more and nothing is being
  // written. Marks it released (call_ is then no longer used).
  Action MaybeReleaseHoldLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Runs `action` on call_; outside mu_ (see the class comment for why
  // call_ is still alive then).
  void Perform(OperationCall* call, Action action) ABSL_LOCKS_EXCLUDED(mu_);
  // Lists the state on its loop (a no-op while listed); when the loop is
  // gone, stops delivering. Loop form only.
  void Kick() ABSL_LOCKS_EXCLUDED(mu_);
  // Wait's condition: progress calls to apply, or the call is over.
  bool HasWorkLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !pending_.empty() || finished_;
  }
  OperationResult ResultLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Constant after construction.
  const bool on_loop_;
  const std::weak_ptr<LoopCore> loop_;

  // Loop form: the loop's owning thread only (and construction /
  // destruction, which no delivery races).
  std::shared_ptr<MapiProgress> progress_;
  OperationCallback callback_;
  bool progress_stopped_ = false;  // `progress` answered MAPI_E_USER_CANCEL.
  bool draining_ = false;          // RunReady is applying a batch.

  // State below is protected by mu_.
  mutable absl::Mutex mu_;
  // Call control.
  OperationCall* call_ ABSL_GUARDED_BY(mu_) = nullptr;  // Until hold released.
  bool writing_ ABSL_GUARDED_BY(mu_) = true;  // The start write first.
  bool write_failed_ ABSL_GUARDED_BY(mu_) = false;
  bool read_over_ ABSL_GUARDED_BY(mu_) = false;
  bool cancel_wanted_ ABSL_GUARDED_BY(mu_) = false;
  bool cancel_sent_ ABSL_GUARDED_BY(mu_) = false;
  bool hold_released_ ABSL_GUARDED_BY(mu_) = false;
  // Delivery.
  ProgressOpQueue pending_ ABSL_GUARDED_BY(mu_);
  SCODE warning_ ABSL_GUARDED_BY(mu_) = S_OK;
  std::string entry_id_ ABSL_GUARDED_BY(mu_);
  bool finished_ ABSL_GUARDED_BY(mu_) = false;  // OnDone seen.
  absl::Status status_ ABSL_GUARDED_BY(mu_);
  bool callback_started_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;  // Callback returned / loop gone.
  bool loop_gone_ ABSL_GUARDED_BY(mu_) = false;
};

// The RunOperation reactor. Created by Start, deletes itself in OnDone.
class OperationCall final
    : public grpc::ClientBidiReactor<v1::OperationRequest,
                                     v1::OperationResponse> {
 public:
  // Starts RunOperation on `stub` with `context` prepared by the caller
  // (metadata, deadline) for `start`, delivering to `state`. Never fails:
  // a call that cannot be made ends through `state` like any other.
  static void Start(v1::Store::Stub* stub,
                    std::unique_ptr<grpc::ClientContext> context,
                    v1::OperationStart start,
                    std::shared_ptr<OperationState> state);

  void OnWriteDone(bool ok) override;
  void OnReadDone(bool ok) override;
  void OnDone(const grpc::Status& status) override;

 private:
  friend class OperationState;
  OperationCall(std::unique_ptr<grpc::ClientContext> context,
                v1::OperationStart start,
                std::shared_ptr<OperationState> state);
  ~OperationCall() override = default;

  // Writes the cancel message. Only OperationState calls it, when it took
  // the one write slot.
  void WriteCancel() { StartWrite(&cancel_); }
  void Do(OperationState::Action action);
  // Handles one message read; false when it is unreadable (the call is then
  // cancelled and ends with MAPI_E_CORRUPT_DATA).
  bool Handle(const v1::OperationResponse& response);

  const std::unique_ptr<grpc::ClientContext> context_;
  const std::shared_ptr<OperationState> state_;
  // Owned by the write in flight: each is written at most once and not
  // touched after.
  v1::OperationRequest start_;
  v1::OperationRequest cancel_;
  // Reader state: only the read callbacks touch it (one at a time).
  v1::OperationResponse response_;
  bool result_read_ = false;
  // Set by a read callback before the call ends; read by OnDone.
  absl::Status corrupt_;
};

}  // namespace mapinotify::internal

#endif  // MAPINOTIFY_CLIENT_INTERNAL_OPERATION_CALL_H_
