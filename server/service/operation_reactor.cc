#include "server/service/operation_reactor.h"

#include <optional>
#include <utility>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "mapinotify/mapi.h"
#include "mapinotify/status.h"
#include "server/service/caller.h"
#include "server/service/grpc_status.h"

namespace mapinotify::server {
namespace {

void OpToWire(const internal::ProgressOp& op, v1::ProgressCall* call) {
  if (op.kind == internal::ProgressOp::Kind::kSetLimits) {
    v1::SetLimitsCall* limits = call->mutable_set_limits();
    if (op.has_min) limits->set_min(op.min);
    if (op.has_max) limits->set_max(op.max);
    if (op.has_flags) limits->set_flags(op.flags);
    return;
  }
  v1::ProgressValueCall* progress = call->mutable_progress();
  progress->set_value(op.value);
  progress->set_count(op.count);
  progress->set_total(op.total);
}

}  // namespace

// --- WireProgress
// -------------------------------------------------------------

SCODE OperationReactor::WireProgress::Progress(ULONG value, ULONG count,
                                               ULONG total) {
  reactor_->QueueProgress(internal::ProgressOp::Progress(value, count, total));
  const auto& hook = reactor_->runner_->options().progress_hook;
  if (hook) hook(value, reactor_->cancelled_);
  return reactor_->cancel_.load(std::memory_order_acquire) ? MAPI_E_USER_CANCEL
                                                           : S_OK;
}

void OperationReactor::WireProgress::SetLimits(const ULONG* min,
                                               const ULONG* max,
                                               const ULONG* flags) {
  if (min != nullptr) min_ = *min;
  if (max != nullptr) max_ = *max;
  if (flags != nullptr) flags_ = *flags;
  reactor_->QueueProgress(internal::ProgressOp::Limits(min, max, flags));
}

void OperationReactor::WireProgress::Reset(const v1::ProgressLimits& limits) {
  flags_ = limits.flags();
  min_ = limits.min();
  max_ = limits.max();
}

// --- OperationReactor
// ---------------------------------------------------------

grpc::ServerBidiReactor<v1::OperationRequest, v1::OperationResponse>*
OperationReactor::Start(grpc::CallbackServerContext* context,
                        store::Store* store, OperationRunner* runner) {
  auto reactor = std::make_shared<OperationReactor>(store, runner);
  reactor->self_ = reactor;
  absl::StatusOr<store::CallContext> caller = CallContextFromMetadata(*context);
  if (!caller.ok()) {
    reactor->FinishWith(caller.status());
  } else {
    reactor->ReadNext();
  }
  return reactor.get();
}

OperationReactor::OperationReactor(store::Store* store, OperationRunner* runner)
    : store_(store), runner_(runner) {}

void OperationReactor::ReadNext() {
  {
    absl::MutexLock lock(&mu_);
    if (finish_called_ || deferred_finish_.has_value()) return;
    ++reads_starting_;
  }
  StartRead(&request_);
  std::optional<absl::Status> finish;
  {
    absl::MutexLock lock(&mu_);
    if (--reads_starting_ == 0 && deferred_finish_.has_value()) {
      finish = std::move(deferred_finish_);
      deferred_finish_.reset();
      finish_called_ = true;
    }
  }
  if (finish.has_value()) Finish(ToGrpcStatus(*finish));
}

void OperationReactor::OnReadDone(bool ok) {
  Phase phase;
  {
    absl::MutexLock lock(&mu_);
    phase = phase_;
  }
  if (!ok) {
    // After the start a half-close (or a broken stream, which OnCancel or a
    // failed write also reports) changes nothing: the operation goes on.
    if (phase == Phase::kAwaitStart) {
      FinishWith(MapiError(MAPI_E_INVALID_PARAMETER,
                           "RunOperation: the stream ended before its start"));
    }
    return;
  }
  if (phase == Phase::kAwaitStart) {
    OnStart();
    return;
  }
  if (request_.kind_case() == v1::OperationRequest::kCancel) {
    CancelOperation();
    ReadNext();
    return;
  }
  // A second start, or a message with no kind: the call ends with the error
  // once the operation, cancelled now, has stopped. No more reads.
  {
    absl::MutexLock lock(&mu_);
    if (protocol_error_.ok()) {
      protocol_error_ = MapiError(
          MAPI_E_INVALID_PARAMETER,
          request_.kind_case() == v1::OperationRequest::kStart
              ? "RunOperation: a second start on one call"
              : "RunOperation: a message with neither start nor cancel");
    }
  }
  CancelOperation();
}

void OperationReactor::OnStart() {
  if (request_.kind_case() != v1::OperationRequest::kStart) {
    FinishWith(MapiError(MAPI_E_INVALID_PARAMETER,
                         "RunOperation: the first message must be a start"));
    return;
  }
  start_ = std::move(*request_.mutable_start());
  if (start_.operation_case() == v1::OperationStart::OPERATION_NOT_SET) {
    FinishWith(MapiError(MAPI_E_INVALID_PARAMETER,
                         "RunOperation: the start names no operation"));
    return;
  }
  if (start_.has_progress()) progress_.Reset(start_.progress());
  {
    absl::MutexLock lock(&mu_);
    phase_ = Phase::kRunning;
    report_progress_ = start_.has_progress();
  }
  absl::Status submitted =
      runner_->Submit([self = shared_from_this()] { self->RunJob(); });
  if (!submitted.ok()) {
    {
      absl::MutexLock lock(&mu_);
      outcome_ = std::move(submitted);
      phase_ = Phase::kStopped;
    }
    Flush();
    return;
  }
  ReadNext();  // For a cancel.
}

void OperationReactor::RunJob() {
  absl::StatusOr<OperationOutcome> outcome =
      RunOperationStart(*store_, start_, &progress_);
  {
    absl::MutexLock lock(&mu_);
    outcome_ = std::move(outcome);
    phase_ = Phase::kStopped;
  }
  Flush();
}

void OperationReactor::QueueProgress(const internal::ProgressOp& op) {
  bool kick = false;
  {
    absl::MutexLock lock(&mu_);
    if (!report_progress_ || broken_ || finish_called_) return;
    pending_.Add(op);
    if (!write_in_flight_ && !kick_listed_) {
      kick_listed_ = true;
      kick = true;
    }
  }
  if (kick) runner_->Kick(shared_from_this());
}

void OperationReactor::Flush() {
  enum class Action { kNone, kWriteProgress, kWriteResult, kFinish };
  Action action = Action::kNone;
  internal::ProgressOpQueue::Ops ops;
  OperationOutcome result;
  absl::Status finish_status;
  std::optional<absl::Time> kick_at;
  {
    absl::MutexLock lock(&mu_);
    kick_listed_ = false;
    if (finish_called_ || write_in_flight_) return;
    if (broken_) {
      // Nothing more can be written; end once the operation stopped (its
      // job flushes then).
      if (phase_ != Phase::kStopped) return;
      action = Action::kFinish;
      finish_status = MapiError(MAPI_E_NETWORK_ERROR,
                                "RunOperation: the client stopped reading");
    } else if (!pending_.empty()) {
      // Paced while the operation runs (OperationRunner::Options::
      // progress_interval); what queues meanwhile coalesces.
      const absl::Time now = absl::Now();
      if (phase_ != Phase::kStopped && now < next_progress_write_) {
        kick_listed_ = true;
        kick_at = next_progress_write_;
      } else {
        ops = pending_.Take();
        write_in_flight_ = true;
        next_progress_write_ = now + runner_->options().progress_interval;
        action = Action::kWriteProgress;
      }
    } else if (phase_ == Phase::kStopped) {
      if (result_sent_) {
        action = Action::kFinish;
      } else if (!protocol_error_.ok()) {
        action = Action::kFinish;
        finish_status = protocol_error_;
      } else if (!outcome_->ok()) {
        action = Action::kFinish;
        finish_status = outcome_->status();
      } else {
        result = **outcome_;
        result_sent_ = true;
        write_in_flight_ = true;
        action = Action::kWriteResult;
      }
    }
    if (action == Action::kFinish && !ClaimFinishLocked(finish_status)) return;
  }
  if (kick_at.has_value()) {
    runner_->KickAt(shared_from_this(), *kick_at);
    return;
  }
  switch (action) {
    case Action::kNone:
      return;
    case Action::kWriteProgress: {
      response_.Clear();
      v1::ProgressCalls* calls = response_.mutable_progress();
      for (const internal::ProgressOp& op : ops)
        OpToWire(op, calls->add_calls());
      StartWrite(&response_);
      return;
    }
    case Action::kWriteResult: {
      response_.Clear();
      v1::OperationResult* wire = response_.mutable_result();
      wire->set_warning(result.warning);
      wire->set_entry_id(std::move(result.entry_id));
      StartWrite(&response_);
      return;
    }
    case Action::kFinish:
      Finish(ToGrpcStatus(finish_status));
      return;
  }
}

void OperationReactor::OnWriteDone(bool ok) {
  {
    absl::MutexLock lock(&mu_);
    write_in_flight_ = false;
    if (!ok) {
      broken_ = true;
      pending_.Clear();
    }
  }
  if (!ok) CancelOperation();
  Flush();
}

void OperationReactor::OnCancel() { CancelOperation(); }

void OperationReactor::OnDone() { self_.reset(); }

void OperationReactor::CancelOperation() {
  if (!cancel_.exchange(true, std::memory_order_acq_rel)) cancelled_.Notify();
}

void OperationReactor::FinishWith(absl::Status status) {
  {
    absl::MutexLock lock(&mu_);
    if (!ClaimFinishLocked(status)) return;
  }
  Finish(ToGrpcStatus(status));
}

bool OperationReactor::ClaimFinishLocked(const absl::Status& status) {
  if (finish_called_ || deferred_finish_.has_value()) return false;
  if (reads_starting_ > 0) {
    deferred_finish_ = status;
    return false;
  }
  finish_called_ = true;
  return true;
}

}  // namespace mapinotify::server
