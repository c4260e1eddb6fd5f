#include "server/service/notifications_service.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "mapinotify/mapi.h"
#include "mapinotify/status.h"
#include "server/service/caller.h"
#include "server/service/grpc_status.h"

namespace mapinotify::server {

namespace {
// Entry ids are opaque, but a MAPI entry id is far smaller than this; a larger
// one is a client bug, not a key to index.
constexpr size_t kMaxEntryIdBytes = 4096;
}  // namespace

// Keeps a reactor reachable from other threads (the hub's wake callback, the
// service's Shutdown) until its OnDone, without keeping it alive: Call runs
// `fn` only while the reactor exists, and OnDone waits for running calls.
class NotificationsService::Handle {
 public:
  explicit Handle(Reactor* reactor) : reactor_(reactor) {}

  // Runs fn(reactor) unless the reactor is gone. No lock is held during fn.
  template <typename Fn>
  void Call(Fn&& fn) ABSL_LOCKS_EXCLUDED(mu_) {
    Reactor* reactor;
    {
      absl::MutexLock lock(&mu_);
      if (reactor_ == nullptr) return;
      reactor = reactor_;
      ++active_;
    }
    fn(reactor);
    absl::MutexLock lock(&mu_);
    --active_;
  }

  // Makes further Calls no-ops and waits for running ones to return.
  void Detach() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    reactor_ = nullptr;
    mu_.Await(absl::Condition(
        +[](int* active) { return *active == 0; }, &active_));
  }

 private:
  absl::Mutex mu_;
  Reactor* reactor_ ABSL_GUARDED_BY(mu_);
  int active_ ABSL_GUARDED_BY(mu_) = 0;
};

// One Subscribe stream. Reads requests one at a time and answers them through
// the hub (so that an answer is ordered before the notifications it allows);
// writes whatever the outbox hands it, one write in flight.
//
// Lock order: mu_ -> the outbox's lock. The outbox never calls back into the
// reactor while holding its lock, and no gRPC Start* runs under mu_.
class NotificationsService::Reactor final
    : public grpc::ServerBidiReactor<v1::SubscribeRequest,
                                     v1::SubscribeResponse> {
 public:
  // `session`: the client session the stream belongs to; empty for none.
  Reactor(NotificationsService* service, Hub* hub, std::string session)
      : service_(service),
        hub_(hub),
        session_(std::move(session)),
        handle_(std::make_shared<Handle>(this)) {
    std::weak_ptr<Handle> weak = handle_;
    outbox_ = hub_->OpenStream([weak] {
      if (std::shared_ptr<Handle> h = weak.lock()) {
        h->Call([](Reactor* r) { r->MaybeWrite(); });
      }
    });
  }

  // Starts reading and writing; the stream is registered for Shutdown.
  void Begin() {
    if (!session_.empty()) service_->SessionStreamOpened(session_);
    service_->Register(handle_);
    StartRead(&request_);
    MaybeWrite();
  }

  // Ends the stream with `status` once the write in flight (if any) is done.
  // Queued but unwritten items are dropped. Idempotent (the first status
  // wins); thread-safe. Every call re-checks whether Finish can run now: a
  // write that completes (even failed) after the stream began ending calls
  // End again, and must then finish the call, or gRPC would wait for it
  // forever (a cancelled call with a write in flight hung Server::Shutdown).
  void End(const absl::Status& status) ABSL_LOCKS_EXCLUDED(mu_) {
    bool first = false;
    {
      absl::MutexLock lock(&mu_);
      if (!ending_) {
        first = true;
        ending_ = true;
        end_status_ = ToGrpcStatus(status);
      }
    }
    if (first) outbox_->Close();
    MaybeFinish();
  }

  // Ends the stream with `status` once everything queued has been written
  // (the hub sealed the outbox: the final progress mark is its last item).
  // A client that does not read holds the stream until the gRPC server's
  // shutdown deadline cancels it. Thread-safe.
  void EndWhenDrained(const absl::Status& status) ABSL_LOCKS_EXCLUDED(mu_) {
    {
      absl::MutexLock lock(&mu_);
      if (ending_ || draining_) return;
      draining_ = true;
      drain_status_ = status;
    }
    MaybeWrite();
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      // The client half-closed or the call broke: nothing more to answer.
      End(absl::OkStatus());
      return;
    }
    if (request_.has_goodbye()) {
      goodbye_ = true;  // Read in OnDone, after the last reaction.
      End(absl::OkStatus());
      return;
    }
    absl::Status stream_error = Answer(request_);
    if (!stream_error.ok()) {
      End(stream_error);
      return;
    }
    ++requests_seen_;
    bool read_now;
    {
      absl::MutexLock lock(&mu_);
      read_now = !ending_ && outbox_->pending_control() <
                                 service_->options_.max_pending_answers;
      reading_paused_ = !read_now && !ending_;
    }
    if (read_now) StartRead(&request_);
  }

  void OnWriteDone(bool ok) override {
    bool resume_reading = false;
    {
      absl::MutexLock lock(&mu_);
      outbox_->FinishWrite(&response_);
      writing_ = false;
      if (reading_paused_ && !ending_ &&
          outbox_->pending_control() < service_->options_.max_pending_answers) {
        reading_paused_ = false;
        resume_reading = true;
      }
    }
    if (!ok) {
      End(absl::UnavailableError("write failed: the client went away"));
      return;
    }
    if (resume_reading) StartRead(&request_);
    MaybeFinish();
    MaybeWrite();
  }

  void OnCancel() override {
    End(absl::CancelledError("the client cancelled the stream"));
  }

  void OnDone() override {
    service_->Unregister(handle_.get());
    handle_->Detach();
    hub_->CloseStream(outbox_.get());
    if (!session_.empty()) service_->SessionStreamEnded(session_, goodbye_);
    delete this;
  }

  // Starts the next write if none is in flight and the outbox has one; a
  // stream catching up is refilled from the hub's retention log first (not
  // under mu_: lock order is hub -> outbox); a draining stream with nothing
  // left to write ends.
  void MaybeWrite() ABSL_LOCKS_EXCLUDED(mu_) {
    for (;;) {
      bool drained = false;
      bool refill = false;
      absl::Status drain_status;
      {
        absl::MutexLock lock(&mu_);
        if (writing_ || ending_) return;
        if (outbox_->TakeWrite(&response_)) {
          writing_ = true;
        } else if (outbox_->refill_due()) {
          refill = true;
        } else {
          if (!draining_ || !outbox_->empty()) return;
          drained = true;
          drain_status = drain_status_;
        }
      }
      if (refill) {
        // Each call queues something or moves the cursor towards the end.
        hub_->Refill(outbox_.get());
        continue;
      }
      if (drained) {
        End(drain_status);
        return;
      }
      StartWrite(&response_);
      return;
    }
  }

 private:
  // Calls Finish once the stream is ending and no write is in flight.
  void MaybeFinish() ABSL_LOCKS_EXCLUDED(mu_) {
    grpc::Status status;
    {
      absl::MutexLock lock(&mu_);
      if (!ending_ || writing_ || finished_) return;
      finished_ = true;
      status = end_status_;
    }
    Finish(status);
  }

  // Answers one request. Per-connection errors are answered on the stream
  // (the hub queues the answer); only a request that names no operation, or a
  // resume point that is not first, ends the stream (returned).
  absl::Status Answer(const v1::SubscribeRequest& request) {
    switch (request.request_case()) {
      case v1::SubscribeRequest::kAdvise: {
        const v1::AdviseRequest& advise = request.advise();
        absl::StatusOr<TargetKey> key =
            service_->ResolveTarget(advise.target());
        if (key.ok() && advise.options() != 0) {
          key = MapiError(
              MAPI_E_UNKNOWN_FLAGS,
              absl::StrCat("advise options 0x", absl::Hex(advise.options()),
                           " are not supported"));
        }
        if (key.ok() && advise.has_resume_after() && !resumed_) {
          key = MapiError(MAPI_E_INVALID_PARAMETER,
                          "resume_after on a stream that did not begin with "
                          "a resume point");
        }
        if (!key.ok()) {
          // Refused before the hub sees it: answer on the stream; the stream
          // and its other connections go on.
          if (outbox_->PushControl(
                  AdvisedResponse(advise.connection(), key.status()))) {
            outbox_->Wake();
          }
          return absl::OkStatus();
        }
        // The hub answers on the stream, success or failure, and replays
        // what a re-registered connection missed (or resyncs it).
        Hub::ResumeFrom resume;
        resume.epoch = resume_epoch_;
        resume.after = advise.resume_after();
        hub_->Advise(outbox_.get(), advise.connection(), *key,
                     advise.event_mask(),
                     advise.has_resume_after() ? &resume : nullptr)
            .IgnoreError();  // Answered on the stream.
        return absl::OkStatus();
      }
      case v1::SubscribeRequest::kUnadvise:
        hub_->Unadvise(outbox_.get(), request.unadvise().connection())
            .IgnoreError();  // Answered on the stream.
        return absl::OkStatus();
      case v1::SubscribeRequest::kResume: {
        if (requests_seen_ != 0) {
          return MapiError(MAPI_E_INVALID_PARAMETER,
                           "a resume point is only valid as the first request "
                           "of a stream");
        }
        // Each re-registered connection states its own point
        // (AdviseRequest.resume_after); the hub checks the epoch there.
        resumed_ = true;
        resume_epoch_ = request.resume().epoch();
        return absl::OkStatus();
      }
      case v1::SubscribeRequest::kGoodbye:  // Handled in OnReadDone.
      case v1::SubscribeRequest::REQUEST_NOT_SET:
        break;
    }
    return MapiError(MAPI_E_INVALID_PARAMETER,
                     "SubscribeRequest names no operation (advise, unadvise "
                     "or resume)");
  }

  NotificationsService* const service_;
  Hub* const hub_;
  const std::string session_;
  const std::shared_ptr<Handle> handle_;
  std::shared_ptr<Outbox> outbox_;  // Set in the constructor, then constant.

  // Reader state: only the reader (one OnReadDone at a time) touches these.
  v1::SubscribeRequest request_;
  uint64_t requests_seen_ = 0;
  // The client said goodbye: its session ends with this stream.
  bool goodbye_ = false;
  // The stream began with a ResumePoint of `resume_epoch_`.
  bool resumed_ = false;
  uint64_t resume_epoch_ = 0;

  absl::Mutex mu_;
  // The message of the write in flight; owned by the outbox protocol between
  // TakeWrite and FinishWrite.
  v1::SubscribeResponse response_;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool reading_paused_ ABSL_GUARDED_BY(mu_) = false;
  bool ending_ ABSL_GUARDED_BY(mu_) = false;
  // EndWhenDrained was called: End(drain_status_) once the outbox is empty.
  bool draining_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status drain_status_ ABSL_GUARDED_BY(mu_);
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status end_status_ ABSL_GUARDED_BY(mu_);
};

NotificationsService::NotificationsService(Hub* hub, Options options)
    : hub_(hub), options_(std::move(options)) {
  if (options_.session_grace > absl::ZeroDuration()) {
    reaper_ = std::thread([this] { ReapSessions(); });
  }
}

NotificationsService::~NotificationsService() {
  {
    absl::MutexLock lock(&mu_);
    stop_reaper_ = true;
  }
  if (reaper_.joinable()) reaper_.join();
}

void NotificationsService::ReapSessions() {
  for (;;) {
    std::vector<std::string> expired;
    {
      absl::MutexLock lock(&mu_);
      absl::Time next = absl::InfiniteFuture();
      for (const auto& [session, deadline] : in_grace_) {
        next = std::min(next, deadline);
      }
      // A timer: wakes at the earliest deadline, or when one is added or the
      // service stops (both change what Await sees).
      const size_t count = in_grace_.size();
      const auto changed = [this, count]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
        return stop_reaper_ || in_grace_.size() != count;
      };
      mu_.AwaitWithDeadline(absl::Condition(&changed), next);
      if (stop_reaper_) return;
      const absl::Time now = absl::Now();
      for (auto it = in_grace_.begin(); it != in_grace_.end();) {
        if (it->second <= now) {
          expired.push_back(it->first);
          in_grace_.erase(it++);
        } else {
          ++it;
        }
      }
    }
    for (const std::string& session : expired) {
      if (options_.on_session_end) options_.on_session_end(session);
    }
  }
}

namespace {

// A Subscribe call refused before it started (malformed caller metadata):
// finishes at once with `status`.
class RefusedStream final
    : public grpc::ServerBidiReactor<v1::SubscribeRequest,
                                     v1::SubscribeResponse> {
 public:
  explicit RefusedStream(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

}  // namespace

grpc::ServerBidiReactor<v1::SubscribeRequest, v1::SubscribeResponse>*
NotificationsService::Subscribe(grpc::CallbackServerContext* context) {
  absl::StatusOr<std::string> session = SessionIdFromMetadata(*context);
  if (!session.ok()) return new RefusedStream(ToGrpcStatus(session.status()));
  auto* reactor = new Reactor(this, hub_, *std::move(session));
  reactor->Begin();
  return reactor;
}

void NotificationsService::SessionStreamOpened(const std::string& session) {
  absl::MutexLock lock(&mu_);
  ++session_streams_[session];
  in_grace_.erase(session);  // Reconnected: its state is still there.
}

void NotificationsService::SessionStreamEnded(const std::string& session,
                                              bool goodbye) {
  {
    absl::MutexLock lock(&mu_);
    auto it = session_streams_.find(session);
    if (it == session_streams_.end()) return;
    if (--it->second != 0) return;
    session_streams_.erase(it);
    if (!goodbye && !shut_down_ && reaper_.joinable()) {
      in_grace_[session] = absl::Now() + options_.session_grace;
      return;
    }
    in_grace_.erase(session);
  }
  if (options_.on_session_end) options_.on_session_end(session);
}

void NotificationsService::Register(std::shared_ptr<Handle> handle) {
  absl::Status refuse;
  {
    absl::MutexLock lock(&mu_);
    if (!shut_down_) {
      const Handle* key = handle.get();
      streams_.emplace(key, std::move(handle));
      return;
    }
    refuse = shutdown_status_;
  }
  handle->Call([&](Reactor* r) { r->End(refuse); });
}

void NotificationsService::Unregister(const Handle* handle) {
  absl::MutexLock lock(&mu_);
  streams_.erase(handle);
}

void NotificationsService::Shutdown(const absl::Status& status) {
  std::vector<std::shared_ptr<Handle>> streams;
  {
    absl::MutexLock lock(&mu_);
    shut_down_ = true;
    shutdown_status_ = status;
    for (const auto& [key, handle] : streams_) streams.push_back(handle);
  }
  // The final progress marks, and no delivery after them; each stream ends
  // once it has written them.
  hub_->Seal();
  for (const auto& handle : streams) {
    handle->Call([&](Reactor* r) { r->EndWhenDrained(status); });
  }
}

size_t NotificationsService::open_streams() const {
  absl::MutexLock lock(&mu_);
  return streams_.size();
}

absl::StatusOr<TargetKey> NotificationsService::ResolveTarget(
    const v1::Target& target) const {
  switch (target.kind_case()) {
    case v1::Target::kStore: {
      const std::string& id = target.store().store_entry_id();
      if (!id.empty() && id != options_.store_entry_id) {
        return MapiError(MAPI_E_NOT_FOUND, "no store with that entry id");
      }
      return StoreTargetKey();
    }
    case v1::Target::kEntryId: {
      const std::string& id = target.entry_id();
      if (id.empty()) {
        return MapiError(MAPI_E_INVALID_ENTRYID, "empty entry id");
      }
      if (id.size() > kMaxEntryIdBytes) {
        return MapiError(MAPI_E_INVALID_ENTRYID,
                         absl::StrCat("entry id of ", id.size(),
                                      " bytes exceeds ", kMaxEntryIdBytes));
      }
      return EntryTargetKey(id);
    }
    case v1::Target::kTableView:
      return TableTargetKey(target.table_view());
    case v1::Target::KIND_NOT_SET:
      break;
  }
  return MapiError(MAPI_E_INVALID_PARAMETER,
                   "advise target names no store, entry id or table view");
}

}  // namespace mapinotify::server
