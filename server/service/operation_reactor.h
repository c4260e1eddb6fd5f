// OperationReactor: one RunOperation call (store.proto) — the bidirectional
// stream that runs a long operation on an OperationRunner thread, carries
// the store's IMAPIProgress calls to the client as they happen, takes the
// client's cancel, and ends with the result.
//
// The progress object the store gets (WireProgress) is called under the
// store's lock, so it never blocks and never touches gRPC: it queues the
// call in a bounded, coalescing queue (common/internal/progress_ops.h: at
// most 16 calls; a superseded Progress is dropped, SetLimits merge, the last
// Progress and every limit last set survive) and, when no write is in
// flight, has the runner's writer thread start one. One write is in flight
// at a time, and while the operation runs progress writes are at least
// OperationRunner::Options::progress_interval apart (10 ms): whatever
// queued meanwhile goes next. A client that reads slowly therefore gets
// fewer, later values, and the operation never waits for it; the last
// calls and the result go as soon as the operation stopped. Progress answers
// MAPI_E_USER_CANCEL once a cancel message arrived or the call was cancelled
// (OnCancel), so the store stops before its next item. GetFlags / GetMin /
// GetMax answer the client's starting values (OperationStart.progress) as
// updated by the store's own SetLimits.
//
// Ends: after the operation returned and every queued progress call was
// written, the result is written and the call finished OK; a failed
// operation finishes with its error instead; a protocol error after the
// start (a second start, an empty message) cancels the operation and
// finishes with INVALID_ARGUMENT once it stopped; a failed write (client
// gone) cancels it and finishes once it stopped. Finish is called only after
// the operation stopped, so the job never outlives the stream's state.
//
// Lifetime: shared — the reactor holds itself until OnDone; the runner's
// job and writer list hold it while they use it. Lock order: the store's
// lock -> mu_ (WireProgress); mu_ is a leaf: no Start*, Finish, Kick or
// store call is made while it is held.
#ifndef MAPINOTIFY_SERVER_SERVICE_OPERATION_REACTOR_H_
#define MAPINOTIFY_SERVER_SERVICE_OPERATION_REACTOR_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <memory>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/internal/progress_ops.h"
#include "mapinotify/progress.h"
#include "mapinotify/v1/store.pb.h"
#include "server/service/long_operations.h"
#include "server/service/operation_runner.h"
#include "server/store/store.h"

namespace mapinotify::server {

class OperationReactor final
    : public grpc::ServerBidiReactor<v1::OperationRequest,
                                     v1::OperationResponse>,
      public Flushable,
      public std::enable_shared_from_this<OperationReactor> {
 public:
  // Starts serving `context`'s call (Store::RunOperation). `store` and
  // `runner` must outlive every call.
  static grpc::ServerBidiReactor<v1::OperationRequest, v1::OperationResponse>*
  Start(grpc::CallbackServerContext* context, store::Store* store,
        OperationRunner* runner);

  // Use Start. Public for std::make_shared.
  OperationReactor(store::Store* store, OperationRunner* runner);

  void OnReadDone(bool ok) override ABSL_LOCKS_EXCLUDED(mu_);
  void OnWriteDone(bool ok) override ABSL_LOCKS_EXCLUDED(mu_);
  void OnCancel() override;
  void OnDone() override;
  // Flushable: starts the next write, or finishes (writer thread, the job's
  // thread, or OnWriteDone).
  void Flush() override ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // The store's view of the client's progress object (see the file
  // comment). Called only by the job's thread.
  class WireProgress final : public MapiProgress {
   public:
    explicit WireProgress(OperationReactor* reactor) : reactor_(reactor) {}
    SCODE Progress(ULONG value, ULONG count, ULONG total) override;
    ULONG GetFlags() override { return flags_; }
    ULONG GetMax() override { return max_; }
    ULONG GetMin() override { return min_; }
    void SetLimits(const ULONG* min, const ULONG* max,
                   const ULONG* flags) override;
    void Reset(const v1::ProgressLimits& limits);

   private:
    OperationReactor* const reactor_;
    ULONG flags_ = MAPI_TOP_LEVEL;
    ULONG min_ = 1;
    ULONG max_ = 1000;
  };

  enum class Phase { kAwaitStart, kRunning, kStopped };

  // Makes the store's next Progress call answer MAPI_E_USER_CANCEL.
  // Idempotent; lock-free (any thread).
  void CancelOperation();
  // Reads the next request unless the call is finishing (then nothing).
  void ReadNext() ABSL_LOCKS_EXCLUDED(mu_);
  // Handles the first request: the start.
  void OnStart() ABSL_LOCKS_EXCLUDED(mu_);
  // The job: runs the operation on a runner thread, then flushes.
  void RunJob();
  // Queues a progress call for the client (WireProgress; job thread, under
  // the store's lock) and lists the reactor with the writer when idle.
  void QueueProgress(const internal::ProgressOp& op) ABSL_LOCKS_EXCLUDED(mu_);
  // Ends the call with `status` now, unless a read is being started (then
  // right after it). Only before the operation was submitted (later ends go
  // through Flush).
  void FinishWith(absl::Status status) ABSL_LOCKS_EXCLUDED(mu_);
  // Claims the one Finish: true when the caller must call Finish(status)
  // now; false when it was claimed already or is deferred to ReadNext.
  bool ClaimFinishLocked(const absl::Status& status)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Constant after construction.
  store::Store* const store_;
  OperationRunner* const runner_;

  // Set by Start, reset by OnDone: keeps the reactor alive for gRPC.
  std::shared_ptr<OperationReactor> self_;

  // Reader side: touched only by OnReadDone (one read at a time) and, for
  // start_, by the job once it was handed over (happens-before via Submit).
  v1::OperationRequest request_;
  v1::OperationStart start_;
  // The job's thread only (under the store's lock when the store calls it).
  WireProgress progress_{this};
  // Writer side: touched only by whoever holds the in-flight write.
  v1::OperationResponse response_;

  // Read by WireProgress::Progress without mu_. Set only by CancelOperation().
  std::atomic<bool> cancel_{false};
  // Notified by the CancelOperation() that set cancel_
  // (Options::progress_hook).
  absl::Notification cancelled_;

  absl::Mutex mu_;
  Phase phase_ ABSL_GUARDED_BY(mu_) = Phase::kAwaitStart;
  // The client sent OperationStart.progress: progress calls are forwarded.
  bool report_progress_ ABSL_GUARDED_BY(mu_) = false;
  internal::ProgressOpQueue pending_ ABSL_GUARDED_BY(mu_);
  bool write_in_flight_ ABSL_GUARDED_BY(mu_) = false;
  // No progress write starts before this while the operation runs.
  absl::Time next_progress_write_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  bool kick_listed_ ABSL_GUARDED_BY(mu_) = false;
  // A write failed: the client is gone; nothing more is written.
  bool broken_ ABSL_GUARDED_BY(mu_) = false;
  // The operation's answer, once it stopped.
  std::optional<absl::StatusOr<OperationOutcome>> outcome_ ABSL_GUARDED_BY(mu_);
  // A protocol error after the start: the call ends with it.
  absl::Status protocol_error_ ABSL_GUARDED_BY(mu_);
  bool result_sent_ ABSL_GUARDED_BY(mu_) = false;
  // StartRead calls being made right now (ReadNext; a read's OnReadDone may
  // start the next one before the previous ReadNext returned). A Finish
  // wanted meanwhile waits in deferred_finish_ and is made by the last of
  // them.
  int reads_starting_ ABSL_GUARDED_BY(mu_) = 0;
  std::optional<absl::Status> deferred_finish_ ABSL_GUARDED_BY(mu_);
  bool finish_called_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace mapinotify::server

#endif  // MAPINOTIFY_SERVER_SERVICE_OPERATION_REACTOR_H_
