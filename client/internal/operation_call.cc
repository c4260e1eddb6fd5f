#include "client/internal/operation_call.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "client/internal/grpc_status.h"
#include "mapinotify/status.h"

namespace mapinotify::internal {
namespace {

// One wire ProgressCall as a ProgressOp; false when it names no call.
bool OpFromWire(const v1::ProgressCall& call, ProgressOp* op) {
  switch (call.call_case()) {
    case v1::ProgressCall::kSetLimits: {
      const v1::SetLimitsCall& limits = call.set_limits();
      const ULONG min = limits.min();
      const ULONG max = limits.max();
      const ULONG flags = limits.flags();
      *op = ProgressOp::Limits(limits.has_min() ? &min : nullptr,
                               limits.has_max() ? &max : nullptr,
                               limits.has_flags() ? &flags : nullptr);
      return true;
    }
    case v1::ProgressCall::kProgress: {
      const v1::ProgressValueCall& value = call.progress();
      *op = ProgressOp::Progress(value.value(), value.count(), value.total());
      return true;
    }
    case v1::ProgressCall::CALL_NOT_SET:
      break;
  }
  return false;
}

}  // namespace

// --- OperationState ----------------------------------------------------------

OperationState::OperationState() : on_loop_(false) {}

OperationState::OperationState(std::weak_ptr<LoopCore> loop,
                               std::shared_ptr<MapiProgress> progress,
                               OperationCallback done)
    : on_loop_(true),
      loop_(std::move(loop)),
      progress_(std::move(progress)),
      callback_(std::move(done)) {}

OperationState::~OperationState() = default;

void OperationState::Attach(OperationCall* call) {
  absl::MutexLock lock(&mu_);
  call_ = call;
}

void OperationState::Cancel() {
  OperationCall* call;
  {
    absl::MutexLock lock(&mu_);
    if (cancel_wanted_) return;
    cancel_wanted_ = true;
    // Written now only when the one write slot is free and a cancel still
    // means something; while the start is being written, OnWriteDone
    // writes it.
    if (hold_released_ || writing_ || read_over_ || write_failed_) return;
    writing_ = true;
    cancel_sent_ = true;
    call = call_;
  }
  // The hold keeps the call alive: it is only removed once writing_ is
  // false again, i.e. after this write's OnWriteDone.
  Perform(call, Action::kWriteCancel);
}

bool OperationState::done() const {
  {
    absl::MutexLock lock(&mu_);
    if (done_) return true;
    if (!on_loop_) return finished_;
  }
  // A destroyed loop runs nothing more: the callback never will run.
  std::shared_ptr<LoopCore> loop = loop_.lock();
  return loop == nullptr || loop->is_shut_down();
}

OperationState::Action OperationState::MaybeReleaseHoldLocked() {
  if (hold_released_ || writing_ || !(read_over_ || write_failed_)) {
    return Action::kNone;
  }
  hold_released_ = true;
  return Action::kRemoveHold;
}

OperationState::Action OperationState::OnWriteDone(bool ok) {
  absl::MutexLock lock(&mu_);
  writing_ = false;
  if (!ok) write_failed_ = true;  // The call is ending; OnDone says why.
  if (cancel_wanted_ && !cancel_sent_ && !read_over_ && !write_failed_) {
    writing_ = true;
    cancel_sent_ = true;
    return Action::kWriteCancel;
  }
  return MaybeReleaseHoldLocked();
}

OperationState::Action OperationState::OnReadOver() {
  absl::MutexLock lock(&mu_);
  read_over_ = true;
  return MaybeReleaseHoldLocked();
}

void OperationState::Perform(OperationCall* call, Action action) {
  if (call != nullptr) call->Do(action);
}

void OperationState::AddProgress(const ProgressOpQueue::Ops& ops) {
  if (ops.empty()) return;
  {
    absl::MutexLock lock(&mu_);
    if (loop_gone_) return;
    for (const ProgressOp& op : ops) pending_.Add(op);
  }
  // Blocking form: Wait's Await sees the queue change by itself.
  if (on_loop_) Kick();
}

void OperationState::SetResult(SCODE warning, std::string entry_id) {
  absl::MutexLock lock(&mu_);
  warning_ = warning;
  entry_id_ = std::move(entry_id);
}

void OperationState::Finish(absl::Status status) {
  {
    absl::MutexLock lock(&mu_);
    finished_ = true;
    status_ = std::move(status);
    call_ = nullptr;
  }
  if (on_loop_) Kick();
}

OperationResult OperationState::ResultLocked() const {
  OperationResult result;
  result.status = status_;
  if (status_.ok()) {
    result.warning = warning_;
    result.entry_id = entry_id_;
  }
  return result;
}

OperationResult OperationState::Wait(MapiProgress* progress) {
  bool stopped = false;  // `progress` answered MAPI_E_USER_CANCEL.
  while (true) {
    ProgressOpQueue::Ops batch;
    bool over;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &OperationState::HasWorkLocked));
      batch = pending_.Take();
      // No progress call is read after the end of the call: when it is over
      // here, `batch` holds the last ones.
      over = finished_;
    }
    for (const ProgressOp& op : batch) {
      if (stopped || progress == nullptr) break;
      if (ApplyProgressOp(op, *progress) == MAPI_E_USER_CANCEL) {
        stopped = true;
        Cancel();
      }
    }
    if (over) break;
  }
  absl::MutexLock lock(&mu_);
  done_ = true;
  return ResultLocked();
}

void OperationState::Kick() {
  std::shared_ptr<LoopCore> loop = loop_.lock();
  // Schedule fails only once the loop is destroyed (a ready source is not
  // counted against the loop's task capacity).
  if (loop != nullptr && loop->Schedule(shared_from_this()).ok()) return;
  absl::MutexLock lock(&mu_);
  loop_gone_ = true;
  done_ = true;
  pending_.Clear();
}

void OperationState::RunReady() {
  // A nested pump from inside the progress object or the callback: the
  // outer RunReady delivers what arrived meanwhile, in order, after it.
  if (draining_) return;
  ProgressOpQueue::Ops batch;
  {
    absl::MutexLock lock(&mu_);
    batch = pending_.Take();
  }
  draining_ = true;
  for (const ProgressOp& op : batch) {
    if (progress_stopped_ || progress_ == nullptr) break;
    if (ApplyProgressOp(op, *progress_) == MAPI_E_USER_CANCEL) {
      progress_stopped_ = true;
      Cancel();
    }
  }
  bool more;
  bool deliver = false;
  OperationResult result;
  {
    absl::MutexLock lock(&mu_);
    more = !pending_.empty();
    if (!more && finished_ && !callback_started_) {
      callback_started_ = true;
      deliver = true;
      result = ResultLocked();
    }
  }
  if (deliver) {
    callback_(result);
    // Released here, on the loop's thread, as the application would expect
    // of objects it handed to this loop.
    callback_ = nullptr;
    progress_.reset();
    absl::MutexLock lock(&mu_);
    done_ = true;
  }
  draining_ = false;
  if (more) Kick();  // Usually listed already by the reader: a no-op.
}

// --- OperationCall -----------------------------------------------------------

OperationCall::OperationCall(std::unique_ptr<grpc::ClientContext> context,
                             v1::OperationStart start,
                             std::shared_ptr<OperationState> state)
    : context_(std::move(context)), state_(std::move(state)) {
  *start_.mutable_start() = std::move(start);
  cancel_.mutable_cancel();
}

void OperationCall::Start(v1::Store::Stub* stub,
                          std::unique_ptr<grpc::ClientContext> context,
                          v1::OperationStart start,
                          std::shared_ptr<OperationState> state) {
  auto* call =
      new OperationCall(std::move(context), std::move(start), std::move(state));
  stub->async()->RunOperation(call->context_.get(), call);
  call->state_->Attach(call);
  // The hold lets OperationState::Cancel start a write from outside a
  // reaction; the state removes it once no cancel can be written.
  call->AddHold();
  call->StartWrite(&call->start_);
  call->StartRead(&call->response_);
  call->StartCall();
}

void OperationCall::Do(OperationState::Action action) {
  switch (action) {
    case OperationState::Action::kNone:
      break;
    case OperationState::Action::kWriteCancel:
      WriteCancel();
      break;
    case OperationState::Action::kRemoveHold:
      RemoveHold();
      break;
  }
}

void OperationCall::OnWriteDone(bool ok) { Do(state_->OnWriteDone(ok)); }

bool OperationCall::Handle(const v1::OperationResponse& response) {
  if (result_read_) {
    corrupt_ = MapiError(MAPI_E_CORRUPT_DATA,
                         "RunOperation: a message after the result");
    return false;
  }
  switch (response.kind_case()) {
    case v1::OperationResponse::kProgress: {
      ProgressOpQueue::Ops ops;
      for (const v1::ProgressCall& call : response.progress().calls()) {
        ProgressOp op;
        if (!OpFromWire(call, &op)) {
          corrupt_ = MapiError(MAPI_E_CORRUPT_DATA,
                               "RunOperation: a progress call naming no call");
          return false;
        }
        ops.push_back(op);
      }
      state_->AddProgress(ops);
      return true;
    }
    case v1::OperationResponse::kResult:
      result_read_ = true;
      state_->SetResult(response.result().warning(),
                        response.result().entry_id());
      return true;
    case v1::OperationResponse::KIND_NOT_SET:
      break;
  }
  corrupt_ = MapiError(MAPI_E_CORRUPT_DATA,
                       "RunOperation: a response with neither progress nor "
                       "result");
  return false;
}

void OperationCall::OnReadDone(bool ok) {
  if (!ok) {
    // The stream ended; OnDone follows with the status.
    Do(state_->OnReadOver());
    return;
  }
  if (!Handle(response_)) {
    // Unreadable: stop the call (the server then stops the operation as on
    // a cancel); OnDone reports MAPI_E_CORRUPT_DATA.
    context_->TryCancel();
    Do(state_->OnReadOver());
    return;
  }
  // Read on even after the result: the end of the stream (or a message
  // that should not be there) follows.
  StartRead(&response_);
  if (result_read_) Do(state_->OnReadOver());
}

void OperationCall::OnDone(const grpc::Status& status) {
  absl::Status final_status;
  if (!corrupt_.ok()) {
    final_status = corrupt_;
  } else if (!status.ok()) {
    final_status = FromGrpcStatus(status);
  } else if (!result_read_) {
    final_status = MapiError(MAPI_E_CALL_FAILED,
                             "RunOperation ended without an operation result");
  }
  state_->Finish(std::move(final_status));
  delete this;
}

}  // namespace mapinotify::internal
