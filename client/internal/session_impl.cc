#include "client/internal/session_impl.h"

#include <algorithm>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/internal/backoff.h"
#include "client/internal/caller.h"
#include "common/internal/millis_arg.h"
#include "common/internal/proto_convert.h"
#include "mapinotify/message_loop.h"
#include "mapinotify/status.h"

namespace mapinotify {

namespace {

v1::Target ToWire(const AdviseTarget& target) {
  v1::Target wire;
  switch (target.kind()) {
    case AdviseTarget::Kind::kStore:
      wire.mutable_store();
      break;
    case AdviseTarget::Kind::kEntry:
      wire.set_entry_id(target.entry_id());
      break;
    case AdviseTarget::Kind::kTableView:
      wire.set_table_view(target.table_view());
      break;
  }
  return wire;
}

absl::Status FromWire(const v1::ConnectionStatus& status) {
  if (status.code() == 0) return absl::OkStatus();
  absl::Status s(static_cast<absl::StatusCode>(status.code()),
                 status.message());
  if (status.scode() < 0) {
    s.SetPayload(kScodePayloadUrl, absl::Cord(std::to_string(status.scode())));
  }
  return s;
}

// The status a stream ended with, as the session reports it.
absl::Status EndStatus(const absl::Status& status) {
  return status.ok() ? absl::UnavailableError("the stream ended") : status;
}

// True when `a` and `b` are for the same connections, in the same order.
bool SameConnections(const v1::Delivered& a, const v1::Delivered& b) {
  return std::equal(a.connections().begin(), a.connections().end(),
                    b.connections().begin(), b.connections().end());
}

}  // namespace

absl::StatusOr<std::unique_ptr<Session::Impl>> Session::Impl::Open(
    const std::string& address, SessionOptions options,
    absl::Duration connect_timeout) {
  absl::Status valid = internal::ValidateReconnectOptions(options.reconnect);
  if (!valid.ok()) return valid;
  std::shared_ptr<internal::LoopCore> loop;
  if (options.threading_model == ThreadingModel::kInitThread) {
    MessageLoop* current = MessageLoop::Current();
    if (current == nullptr) {
      return absl::FailedPreconditionError(
          "kInitThread: the opening thread has no MessageLoop; construct one "
          "on it first (its sinks run while it runs that loop)");
    }
    loop = current->core();
  }

  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(static_cast<int>(options.max_message_bytes));
  // Detect a dead server or a half-open connection (DESIGN.md section 4;
  // the values are SessionOptions').
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS,
              internal::ToMillisArg(options.keepalive_time));
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
              internal::ToMillisArg(options.keepalive_timeout));
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS,
              options.keepalive_permit_without_calls ? 1 : 0);
  // gRPC 1.51's client sends at most this many pings with no DATA or
  // HEADERS frame sent in between (default 2), and a notification stream
  // that only receives sends none: without this, keepalive would stop after
  // two pings and a later dead peer would go unnoticed. 0: no limit.
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  // The channel re-dials on its own after a failed connect, with its own
  // backoff (default 1 s growing to 120 s), and fails our streams at once
  // while it waits. Its pace is the session's: each reconnect attempt then
  // meets a channel that has just tried (or is trying) to connect.
  args.SetInt(
      GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS,
      std::max(1, internal::ToMillisArg(options.reconnect.initial_backoff)));
  args.SetInt(
      GRPC_ARG_MAX_RECONNECT_BACKOFF_MS,
      std::max(1, internal::ToMillisArg(options.reconnect.max_backoff)));
  std::shared_ptr<grpc::Channel> channel = grpc::CreateCustomChannel(
      address, grpc::InsecureChannelCredentials(), args);
  const absl::Time deadline = absl::Now() + connect_timeout;
  if (!channel->WaitForConnected(absl::ToChronoTime(deadline))) {
    return absl::UnavailableError(
        absl::StrCat("cannot reach mapinotifyd at ", address));
  }

  std::unique_ptr<Impl> impl(
      new Impl(std::move(options), std::move(channel), connect_timeout));
  if (loop == nullptr) {
    impl->notification_thread_ = internal::NotificationThread::Shared();
    loop = impl->notification_thread_->core();
  }
  if (impl->options_.state_sink != nullptr) {
    impl->state_notifier_ = std::make_shared<internal::StateNotifier>(
        loop, impl->options_.state_sink);
  }
  internal::DispatcherOptions dispatch;
  dispatch.max_queued_notifications =
      impl->options_.max_queued_notifications_per_connection;
  dispatch.max_queued_bytes = impl->options_.max_queued_bytes_per_connection;
  impl->dispatcher_ =
      std::make_unique<internal::Dispatcher>(std::move(loop), dispatch);
  impl->StartStream(std::make_shared<internal::SubscribeStream>(
                        impl->stub_.get(), impl.get(), impl->session_id_),
                    {});

  // The server's hello carries the epoch; waiting for it proves the stream.
  absl::Status why;
  {
    Impl* self = impl.get();
    absl::MutexLock lock(&self->mu_);
    self->mu_.AwaitWithDeadline(
        absl::Condition(
            +[](Impl* i) ABSL_EXCLUSIVE_LOCKS_REQUIRED(i->mu_) {
              return i->hello_ || i->stream_done_;
            },
            self),
        deadline);
    if (self->stream_done_) {
      why = EndStatus(self->stream_status_);
    } else if (!self->hello_) {
      why = absl::DeadlineExceededError(
          "mapinotifyd did not open the stream in time");
    } else {
      // From here on a broken stream is reconnected (or lost), not a
      // failed Open.
      self->opened_ = true;
    }
  }
  if (!why.ok()) return why;  // Destroying impl closes the stream.
  if (impl->options_.reconnect.enabled) {
    Impl* self = impl.get();
    impl->reconnect_thread_ = std::thread([self] { self->ReconnectLoop(); });
  }
  return impl;
}

Session::Impl::Impl(SessionOptions options,
                    std::shared_ptr<grpc::Channel> channel,
                    absl::Duration connect_timeout)
    : options_(std::move(options)),
      connect_timeout_(connect_timeout),
      session_id_(internal::NewSessionId()),
      channel_(std::move(channel)),
      stub_(v1::Notifications::NewStub(channel_)),
      store_client_(std::make_shared<internal::StoreClient>(
          channel_, session_id_, options_.store_call_timeout)) {}

Session::Impl::~Impl() {
  // Objects of the store that outlive the session stop calling the server
  // (which releases the session's handles when the stream below ends).
  store_client_->Close();
  // Every wait ends now: the reconnect thread's backoff and attempt, and an
  // Advise a sink is blocked in (so that the fences below do not wait for
  // it).
  {
    absl::MutexLock lock(&mu_);
    closing_ = true;
  }
  if (reconnect_thread_.joinable()) reconnect_thread_.join();
  if (state_notifier_ != nullptr) state_notifier_->Close();
  // Fence every connection (no sink runs after this), then close the
  // stream, then release the notification thread (the last session to
  // release it stops it).
  if (dispatcher_ != nullptr) {
    std::vector<ConnectionId> all;
    {
      absl::MutexLock lock(&mu_);
      for (const auto& entry : connections_) all.push_back(entry.first);
      connections_.clear();
    }
    for (ConnectionId c : all) dispatcher_->Remove(c);
  }
  std::shared_ptr<internal::SubscribeStream> stream;
  {
    absl::MutexLock lock(&mu_);
    stream = stream_;
  }
  // The server releases the session's state at once (not after its
  // reconnect grace); a server that does not answer in time is cut off.
  if (stream != nullptr) stream->Goodbye(absl::Seconds(2));
  dispatcher_.reset();
  notification_thread_.reset();
}

void Session::Impl::StartStream(
    std::shared_ptr<internal::SubscribeStream> stream,
    std::vector<v1::SubscribeRequest> requests) {
  // Queued before the stream is visible to other threads: a resume point
  // must be the first request.
  for (v1::SubscribeRequest& request : requests) {
    stream->Send(std::move(request)).IgnoreError();  // Not closing: queued.
  }
  // The previous stream (done) is released after the lock.
  std::shared_ptr<internal::SubscribeStream> previous;
  {
    absl::MutexLock lock(&mu_);
    previous = std::move(stream_);
    stream_ = stream;
    hello_ = false;
    stream_done_ = false;
    stream_status_ = absl::OkStatus();
  }
  stream->Start();
}

absl::StatusOr<ConnectionId> Session::Impl::Advise(
    const AdviseTarget& target, ULONG event_mask,
    std::shared_ptr<AdviseSink> sink) {
  if (sink == nullptr) {
    return MapiError(MAPI_E_INVALID_PARAMETER, "Advise: null sink");
  }
  const absl::Time deadline = absl::Now() + options_.advise_timeout;
  const ConnectionId c = next_connection_.fetch_add(1);
  // Registered before the request leaves, so that notifications that follow
  // the server's answer have somewhere to go.
  absl::Status added = dispatcher_->Add(
      c, std::move(sink), target.kind() == AdviseTarget::Kind::kTableView);
  if (!added.ok()) return added;

  absl::Status result;
  std::shared_ptr<internal::SubscribeStream> stream;
  {
    absl::MutexLock lock(&mu_);
    // While the session reconnects, wait for the stream to be back.
    mu_.AwaitWithDeadline(
        absl::Condition(
            +[](Impl* i) ABSL_EXCLUSIVE_LOCKS_REQUIRED(i->mu_) {
              return i->closing_ || i->state_ == SessionState::kLost ||
                     (i->state_ == SessionState::kConnected &&
                      !i->stream_done_);
            },
            this),
        deadline);
    if (closing_) {
      result = absl::UnavailableError("the session is closing");
    } else if (state_ == SessionState::kLost) {
      result = absl::UnavailableError(absl::StrCat(
          "the notification stream is lost: ", stream_status_.ToString()));
    } else if (state_ != SessionState::kConnected || stream_done_) {
      result = absl::DeadlineExceededError(
          "the notification stream was not back within advise_timeout");
    } else {
      Connection& connection = connections_[c];
      connection.target = ToWire(target);
      connection.event_mask = event_mask;
      stream = stream_;
    }
  }
  if (result.ok()) {
    v1::SubscribeRequest request;
    v1::AdviseRequest* advise = request.mutable_advise();
    advise->set_connection(c);
    *advise->mutable_target() = ToWire(target);
    advise->set_event_mask(event_mask);
    absl::Status sent = stream->Send(std::move(request));
    if (!sent.ok()) {
      result = absl::UnavailableError(
          absl::StrCat("the notification stream is down: ", sent.message()));
    }
  }
  if (result.ok()) {
    struct Args {
      Impl* impl;
      ConnectionId c;
    } args{this, c};
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithDeadline(
        absl::Condition(
            +[](Args* a) ABSL_EXCLUSIVE_LOCKS_REQUIRED(a->impl->mu_) {
              auto it = a->impl->connections_.find(a->c);
              return a->impl->closing_ || it == a->impl->connections_.end() ||
                     it->second.answer.has_value();
            },
            &args),
        deadline);
    auto it = connections_.find(c);
    if (it == connections_.end()) {
      result = absl::UnavailableError("the session is closing");
    } else {
      if (it->second.answer.has_value()) {
        result = *it->second.answer;  // OK: the reader made it kLive.
      } else if (closing_) {
        result = absl::UnavailableError("the session is closing");
      } else {
        // A late OK is undone by the reader (it unadvises numbers it does
        // not hold).
        result = absl::DeadlineExceededError(
            "mapinotifyd did not answer Advise in time");
      }
      if (!result.ok()) connections_.erase(it);
    }
  } else {
    absl::MutexLock lock(&mu_);
    connections_.erase(c);
  }
  if (!result.ok()) {
    dispatcher_->Remove(c);
    return result;
  }
  return c;
}

absl::Status Session::Impl::Unadvise(ConnectionId connection) {
  std::shared_ptr<internal::SubscribeStream> stream;
  {
    absl::MutexLock lock(&mu_);
    auto it = connections_.find(connection);
    // A number whose Advise has not returned yet is not held either.
    if (it == connections_.end() ||
        it->second.phase == Connection::Phase::kPending) {
      return MapiError(MAPI_E_NOT_FOUND,
                       absl::StrCat("Unadvise: no connection ", connection));
    }
    connections_.erase(it);
    stream = stream_;
  }
  // The fence: after this, no OnNotify for `connection` runs or starts.
  dispatcher_->Remove(connection);
  // Tell the server; events it sends before it reads this are dropped by the
  // dispatcher (the connection is gone). A closed stream has nothing to end;
  // a re-registration that crosses this is undone by the reader.
  v1::SubscribeRequest request;
  request.mutable_unadvise()->set_connection(connection);
  if (stream != nullptr) stream->Send(std::move(request)).IgnoreError();
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<MsgStore>> Session::Impl::OpenMsgStore() {
  return internal::StoreClient::OpenMsgStore(store_client_);
}

uint64_t Session::Impl::epoch() const {
  absl::MutexLock lock(&mu_);
  return epoch_;
}

SessionState Session::Impl::state() const {
  absl::MutexLock lock(&mu_);
  return state_;
}

SessionStats Session::Impl::stats() const {
  internal::DispatcherStats d = dispatcher_->stats();
  SessionStats s;
  s.queued_notifications = d.queued_notifications;
  s.queued_bytes = d.queued_bytes;
  s.max_queued_notifications = d.connection_high_water_notifications;
  s.max_queued_bytes = d.connection_high_water_bytes;
  s.resyncs_delivered = d.resyncs_issued;
  absl::MutexLock lock(&mu_);
  s.reconnects = reconnects_;
  s.duplicates_dropped = duplicates_dropped_;
  return s;
}

void Session::Impl::Dispatch(Steps& steps) {
  for (Step& step : steps) {
    if (!step.groups.empty()) dispatcher_->Enqueue(absl::MakeSpan(step.groups));
    for (auto& [c, reason] : step.resyncs) {
      dispatcher_->EnqueueResync(c, std::move(reason));
    }
  }
}

void Session::Impl::AdvanceLocked(ConnectionId c, uint64_t sequence) {
  auto it = connections_.find(c);
  if (it == connections_.end() ||
      it->second.phase != Connection::Phase::kLive) {
    return;
  }
  it->second.resume = std::max(it->second.resume, sequence);
}

void Session::Impl::OnResponse(v1::SubscribeResponse& response) {
  Steps steps;
  switch (response.response_case()) {
    case v1::SubscribeResponse::kHello: {
      absl::MutexLock lock(&mu_);
      hello_ = true;
      if (response.hello().epoch() != epoch_) max_seen_ = 0;
      epoch_ = response.hello().epoch();
      return;
    }
    case v1::SubscribeResponse::kAdvised: {
      bool unadvise = false;
      std::shared_ptr<internal::SubscribeStream> stream;
      {
        absl::MutexLock lock(&mu_);
        OnAdvisedLocked(response.advised(), &steps, &unadvise);
        if (unadvise) stream = stream_;  // The stream this reader reads.
      }
      Dispatch(steps);
      if (stream != nullptr) {
        // The server registered a number the session no longer holds (its
        // Advise gave up, or it was unadvised while being re-registered):
        // end it there too.
        v1::SubscribeRequest request;
        request.mutable_unadvise()->set_connection(
            response.advised().connection());
        stream->Send(std::move(request)).IgnoreError();
      }
      return;
    }
    case v1::SubscribeResponse::kUnadvised: {
      const v1::Unadvised& unadvised = response.unadvised();
      if (unadvised.status().code() == 0) return;  // Our own Unadvise.
      // The server ended a connection we hold: its sink must learn that
      // nothing more will come (never a silent stop).
      {
        absl::MutexLock lock(&mu_);
        auto it = connections_.find(unadvised.connection());
        if (it == connections_.end() ||
            it->second.phase != Connection::Phase::kLive) {
          return;
        }
        it->second.phase = Connection::Phase::kDead;
        steps.emplace_back();
        FlushPartialsLocked(&steps.back());
        steps.back().resyncs.emplace_back(
            unadvised.connection(),
            absl::StrCat("the server ended the connection: ",
                         unadvised.status().message()));
      }
      Dispatch(steps);
      return;
    }
    case v1::SubscribeResponse::kBatch: {
      // Parsed before the lock is taken: the lock only covers bookkeeping.
      // The strings move out of the message (it is not read again but for
      // its sequence, connections and ends_batch).
      v1::NotificationBatch& batch = *response.mutable_batch();
      const int n = batch.notifications_size();
      ParsedList parsed;
      parsed.reserve(n);
      // The values of a run of consecutive notifications for the same
      // connections share one allocation (Delivery). A connection's queue
      // that holds one of a run holds, and is charged for, the rest of the
      // run that it takes: beyond its charge it pins at most the part of
      // one wire message it was already given (or skipped as a replay), so
      // the queue bounds still bound the memory.
      std::shared_ptr<std::vector<Notification>> run;
      size_t run_next = 0;
      for (int i = 0; i < n; ++i) {
        v1::Delivered& d = *batch.mutable_notifications(i);
        if (run == nullptr || run_next == run->size()) {
          int end = i + 1;
          while (end < n && SameConnections(batch.notifications(end), d)) {
            ++end;
          }
          run = std::make_shared<std::vector<Notification>>(end - i);
          run_next = 0;
        }
        Notification* value = &(*run)[run_next++];  // Filled in place.
        Parsed& p = parsed.emplace_back();
        // Parsed messages have no cached size; this walks the message once.
        p.bytes = d.notification().ByteSizeLong();
        absl::Status status =
            internal::TakeFromProto(d.mutable_notification(), value);
        if (status.ok()) {
          p.value = std::shared_ptr<const Notification>(run, value);
        } else {
          p.value = std::move(status);
        }
      }
      {
        absl::MutexLock lock(&mu_);
        OnBatchLocked(batch, parsed, &steps);
      }
      Dispatch(steps);
      return;
    }
    case v1::SubscribeResponse::kProgress: {
      absl::MutexLock lock(&mu_);
      OnProgressLocked(response.progress().sequence());
      return;
    }
    case v1::SubscribeResponse::kResync: {
      const v1::Resync& resync = response.resync();
      {
        absl::MutexLock lock(&mu_);
        steps.emplace_back();
        Step& step = steps.back();
        FlushPartialsLocked(&step);
        for (uint64_t c : resync.connections()) {
          AdvanceLocked(c, resync.resume_sequence());
          step.resyncs.emplace_back(c, resync.reason());
        }
      }
      Dispatch(steps);
      return;
    }
    case v1::SubscribeResponse::RESPONSE_NOT_SET:
      return;  // A newer server's message this client does not know.
  }
}

void Session::Impl::OnAdvisedLocked(const v1::Advised& advised, Steps* steps,
                                    bool* unadvise) {
  const ConnectionId c = advised.connection();
  const absl::Status status = FromWire(advised.status());
  const bool readvised = readvising_.erase(c) > 0;
  auto it = connections_.find(c);
  if (it == connections_.end()) {
    *unadvise = status.ok();
    return;
  }
  Connection& connection = it->second;
  switch (connection.phase) {
    case Connection::Phase::kPending:
      connection.answer = status;
      if (status.ok()) {
        // A new connection gets everything after the server's sequence at
        // registration: that is where it starts.
        connection.phase = Connection::Phase::kLive;
        connection.resume = advised.sequence();
        connection.resume_epoch = epoch_;
        connection.on_stream = true;
      }
      return;
    case Connection::Phase::kLive:
      if (!readvised) return;  // Not an answer this session waits for.
      if (!status.ok()) {
        connection.phase = Connection::Phase::kDead;
        steps->emplace_back();
        steps->back().resyncs.emplace_back(
            c, absl::StrCat("the connection could not be re-registered after "
                            "a reconnect: ",
                            status.ToString()));
        return;
      }
      connection.on_stream = true;
      if (connection.resume_epoch != epoch_) {
        // Another epoch: the old point means nothing here. The server
        // reports the gap (a Resync after this answer) or, when it was not
        // asked to resume, the session does.
        connection.resume = advised.sequence();
        connection.resume_epoch = epoch_;
      }
      if (connection.owes_resync) {
        connection.owes_resync = false;
        steps->emplace_back();
        steps->back().resyncs.emplace_back(
            c, "the server's history changed (new epoch) during a reconnect");
      }
      return;
    case Connection::Phase::kDead:
      return;
  }
}

void Session::Impl::OnBatchLocked(const v1::NotificationBatch& batch,
                                  const ParsedList& parsed, Steps* steps) {
  steps->emplace_back();
  for (int i = 0; i < batch.notifications_size(); ++i) {
    const v1::Delivered& d = batch.notifications(i);
    max_seen_ = std::max(max_seen_, d.sequence());
    if (!parsed[i].value.ok()) {
      // A notification this client cannot read is a loss, and the sinks it
      // was for are told so (after what came before it).
      Step& step = steps->back();
      FlushPartialsLocked(&step);
      for (uint64_t c : d.connections()) {
        AdvanceLocked(c, d.sequence());
        step.resyncs.emplace_back(
            c, absl::StrCat("unreadable notification ", d.sequence(), ": ",
                            parsed[i].value.status().message()));
      }
      steps->emplace_back();
      continue;
    }
    const size_t bytes = parsed[i].bytes;
    for (uint64_t c : d.connections()) {
      auto conn = connections_.find(c);
      // Only live connections take deliveries (the dispatcher has no sink
      // for the others, or owes them nothing more).
      if (conn == connections_.end() ||
          conn->second.phase != Connection::Phase::kLive) {
        continue;
      }
      if (d.sequence() <= conn->second.resume) {
        ++duplicates_dropped_;  // Handed over before: a replay.
        continue;
      }
      auto [it, inserted] = partial_index_.try_emplace(c, partial_.size());
      if (inserted) {
        partial_.emplace_back();
        partial_.back().connection = c;
      }
      internal::DeliveryGroup& group = partial_[it->second];
      group.deliveries.push_back(Delivery{d.sequence(), *parsed[i].value});
      group.bytes += bytes;
    }
    // ends_batch closes the operation for every connection of the stream.
    if (d.ends_batch()) FlushPartialsLocked(&steps->back());
  }
}

void Session::Impl::OnProgressLocked(uint64_t sequence) {
  for (auto& [c, connection] : connections_) {
    if (connection.phase != Connection::Phase::kLive || !connection.on_stream) {
      continue;
    }
    uint64_t upto = sequence;
    // Never past a notification received but not yet handed over.
    auto partial = partial_index_.find(c);
    if (partial != partial_index_.end()) {
      upto = std::min(
          upto, partial_[partial->second].deliveries.front().sequence - 1);
    }
    connection.resume = std::max(connection.resume, upto);
  }
}

void Session::Impl::FlushPartialsLocked(Step* step) {
  for (internal::DeliveryGroup& group : partial_) {
    AdvanceLocked(group.connection, group.deliveries.back().sequence);
    step->groups.push_back(std::move(group));
  }
  partial_.clear();
  partial_index_.clear();
}

void Session::Impl::DiscardPartials() {
  partial_.clear();
  partial_index_.clear();
}

void Session::Impl::OnStreamDone(const absl::Status& status) {
  Steps steps;
  bool lose = false;
  {
    absl::MutexLock lock(&mu_);
    stream_done_ = true;
    stream_status_ = EndStatus(status);
    lose = opened_ && !closing_ && !options_.reconnect.enabled;
    if (lose) {
      // Nothing will be replayed: hand over what came (today's contract).
      steps.emplace_back();
      FlushPartialsLocked(&steps.back());
    }
    for (auto& [c, connection] : connections_) {
      connection.on_stream = false;
      // Advise calls waiting for this stream's answer fail.
      if (connection.phase == Connection::Phase::kPending &&
          !connection.answer.has_value()) {
        connection.answer = absl::UnavailableError(absl::StrCat(
            "the notification stream went down: ", stream_status_.ToString()));
      }
    }
  }
  // Reconnecting (or closing): the operations received in part are replayed
  // whole by the next stream.
  DiscardPartials();
  Dispatch(steps);
  if (lose) Lose(EndStatus(status));
}

}  // namespace mapinotify
