#include "client/internal/session_impl.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
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

}  // namespace

absl::StatusOr<std::unique_ptr<Session::Impl>> Session::Impl::Open(
    const std::string& address, SessionOptions options,
    absl::Duration connect_timeout) {
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
  std::shared_ptr<grpc::Channel> channel = grpc::CreateCustomChannel(
      address, grpc::InsecureChannelCredentials(), args);
  const absl::Time deadline = absl::Now() + connect_timeout;
  if (!channel->WaitForConnected(absl::ToChronoTime(deadline))) {
    return absl::UnavailableError(
        absl::StrCat("cannot reach mapinotifyd at ", address));
  }

  std::unique_ptr<Impl> impl(new Impl(std::move(options), std::move(channel)));
  if (loop == nullptr) {
    impl->notification_thread_ =
        std::make_unique<internal::NotificationThread>();
    loop = impl->notification_thread_->core();
  }
  internal::DispatcherOptions dispatch;
  dispatch.max_queued_notifications =
      impl->options_.max_queued_notifications_per_connection;
  dispatch.max_queued_bytes = impl->options_.max_queued_bytes_per_connection;
  impl->dispatcher_ =
      std::make_unique<internal::Dispatcher>(std::move(loop), dispatch);
  impl->stream_ = std::make_unique<internal::SubscribeStream>(
      impl->stub_.get(), impl.get(), impl->session_id_);
  impl->stream_->Start();

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
    if (!self->hello_) {
      why = self->stream_done_
                ? self->stream_status_
                : absl::DeadlineExceededError(
                      "mapinotifyd did not open the stream in time");
    }
  }
  if (!why.ok()) return why;  // Destroying impl closes the stream.
  return impl;
}

Session::Impl::Impl(SessionOptions options,
                    std::shared_ptr<grpc::Channel> channel)
    : options_(std::move(options)),
      session_id_(internal::NewSessionId()),
      channel_(std::move(channel)),
      stub_(v1::Notifications::NewStub(channel_)),
      store_client_(std::make_shared<internal::StoreClient>(
          channel_, session_id_, options_.store_call_timeout)) {}

Session::Impl::~Impl() {
  // Objects of the store that outlive the session stop calling the server
  // (which releases the session's handles when the stream below ends).
  store_client_->Close();
  // Fence every connection first (no sink runs after this), then close the
  // stream, then stop the notification thread.
  if (dispatcher_ != nullptr) {
    absl::flat_hash_set<ConnectionId> live;
    {
      absl::MutexLock lock(&mu_);
      live.swap(live_);
    }
    for (ConnectionId c : live) dispatcher_->Remove(c);
  }
  if (stream_ != nullptr) stream_->Close();
  dispatcher_.reset();
  notification_thread_.reset();
}

absl::StatusOr<ConnectionId> Session::Impl::Advise(
    const AdviseTarget& target, ULONG event_mask,
    std::shared_ptr<AdviseSink> sink) {
  if (sink == nullptr) {
    return MapiError(MAPI_E_INVALID_PARAMETER, "Advise: null sink");
  }
  const ConnectionId c = next_connection_.fetch_add(1);
  // Registered before the request leaves, so that notifications that follow
  // the server's answer have somewhere to go.
  absl::Status added = dispatcher_->Add(
      c, std::move(sink), target.kind() == AdviseTarget::Kind::kTableView);
  if (!added.ok()) return added;
  absl::Status result;
  {
    absl::MutexLock lock(&mu_);
    if (stream_done_) {
      result = absl::UnavailableError(absl::StrCat(
          "the notification stream is down: ", stream_status_.ToString()));
    } else {
      answers_[c] = absl::nullopt;
    }
  }
  if (result.ok()) {
    v1::SubscribeRequest request;
    v1::AdviseRequest* advise = request.mutable_advise();
    advise->set_connection(c);
    *advise->mutable_target() = ToWire(target);
    advise->set_event_mask(event_mask);
    result = stream_->Send(std::move(request));
  }
  if (result.ok()) {
    absl::MutexLock lock(&mu_);
    struct Args {
      Impl* impl;
      ConnectionId c;
    } args{this, c};
    const bool answered = mu_.AwaitWithTimeout(
        absl::Condition(
            +[](Args* a) ABSL_EXCLUSIVE_LOCKS_REQUIRED(a->impl->mu_) {
              return a->impl->answers_[a->c].has_value() ||
                     a->impl->stream_done_;
            },
            &args),
        options_.advise_timeout);
    auto it = answers_.find(c);
    if (it->second.has_value()) {
      result = *it->second;
    } else if (stream_done_) {
      result = absl::UnavailableError(absl::StrCat(
          "the notification stream went down: ", stream_status_.ToString()));
    } else if (!answered) {
      result = absl::DeadlineExceededError(
          "mapinotifyd did not answer Advise in time");
    }
    answers_.erase(it);
    if (result.ok()) live_.insert(c);
  } else {
    absl::MutexLock lock(&mu_);
    answers_.erase(c);
  }
  if (!result.ok()) {
    dispatcher_->Remove(c);
    return result;
  }
  return c;
}

absl::Status Session::Impl::Unadvise(ConnectionId connection) {
  {
    absl::MutexLock lock(&mu_);
    if (live_.erase(connection) == 0) {
      return MapiError(MAPI_E_NOT_FOUND,
                       absl::StrCat("Unadvise: no connection ", connection));
    }
  }
  // The fence: after this, no OnNotify for `connection` runs or starts.
  dispatcher_->Remove(connection);
  // Tell the server; events it sends before it reads this are dropped by the
  // dispatcher (the connection is gone). A closed stream has nothing to end.
  v1::SubscribeRequest request;
  request.mutable_unadvise()->set_connection(connection);
  stream_->Send(std::move(request)).IgnoreError();
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<MsgStore>> Session::Impl::OpenMsgStore() {
  return internal::StoreClient::OpenMsgStore(store_client_);
}

uint64_t Session::Impl::epoch() const {
  absl::MutexLock lock(&mu_);
  return epoch_;
}

SessionStats Session::Impl::stats() const {
  internal::DispatcherStats d = dispatcher_->stats();
  SessionStats s;
  s.queued_notifications = d.queued_notifications;
  s.queued_bytes = d.queued_bytes;
  s.max_queued_notifications = d.connection_high_water_notifications;
  s.max_queued_bytes = d.connection_high_water_bytes;
  s.resyncs_delivered = d.resyncs_issued;
  return s;
}

void Session::Impl::OnResponse(v1::SubscribeResponse& response) {
  switch (response.response_case()) {
    case v1::SubscribeResponse::kHello: {
      absl::MutexLock lock(&mu_);
      hello_ = true;
      epoch_ = response.hello().epoch();
      return;
    }
    case v1::SubscribeResponse::kAdvised: {
      const v1::Advised& advised = response.advised();
      absl::MutexLock lock(&mu_);
      auto it = answers_.find(advised.connection());
      // An answer nobody waits for (the Advise timed out) is dropped; the
      // connection was removed from the dispatcher, so its events are too.
      if (it != answers_.end()) it->second = FromWire(advised.status());
      return;
    }
    case v1::SubscribeResponse::kUnadvised: {
      const v1::Unadvised& unadvised = response.unadvised();
      if (unadvised.status().code() == 0) return;  // Our own Unadvise.
      // The server ended a connection we hold: its sink must learn that
      // nothing more will come (never a silent stop).
      bool live;
      {
        absl::MutexLock lock(&mu_);
        live = live_.contains(unadvised.connection());
      }
      if (live) {
        std::vector<internal::DeliveryGroup> groups;
        FlushPartials(&groups);
        dispatcher_->Enqueue(absl::MakeSpan(groups));
        dispatcher_->EnqueueResync(
            unadvised.connection(),
            absl::StrCat("the server ended the connection: ",
                         unadvised.status().message()));
      }
      return;
    }
    case v1::SubscribeResponse::kBatch:
      OnBatch(response.batch());
      return;
    case v1::SubscribeResponse::kProgress:
      // Resume points land with reconnecting streams (issue 6).
      return;
    case v1::SubscribeResponse::kResync: {
      std::vector<internal::DeliveryGroup> groups;
      FlushPartials(&groups);
      dispatcher_->Enqueue(absl::MakeSpan(groups));
      for (uint64_t c : response.resync().connections()) {
        dispatcher_->EnqueueResync(c, response.resync().reason());
      }
      return;
    }
    case v1::SubscribeResponse::RESPONSE_NOT_SET:
      return;  // A newer server's message this client does not know.
  }
}

void Session::Impl::OnBatch(const v1::NotificationBatch& batch) {
  std::vector<internal::DeliveryGroup> complete;
  for (const v1::Delivered& d : batch.notifications()) {
    absl::StatusOr<Notification> value = internal::FromProto(d.notification());
    if (!value.ok()) {
      // A notification this client cannot read is a loss, and the sinks it
      // was for are told so.
      FlushPartials(&complete);
      dispatcher_->Enqueue(absl::MakeSpan(complete));
      complete.clear();
      for (uint64_t c : d.connections()) {
        dispatcher_->EnqueueResync(
            c, absl::StrCat("unreadable notification ", d.sequence(), ": ",
                            value.status().message()));
      }
      continue;
    }
    auto shared = std::make_shared<const Notification>(*std::move(value));
    // Parsed messages have no cached size; this walks the message once.
    const size_t bytes = d.notification().ByteSizeLong();
    for (uint64_t c : d.connections()) {
      auto [it, inserted] = partial_index_.try_emplace(c, partial_.size());
      if (inserted) {
        partial_.emplace_back();
        partial_.back().connection = c;
      }
      internal::DeliveryGroup& group = partial_[it->second];
      group.deliveries.push_back(Delivery{d.sequence(), shared});
      group.bytes += bytes;
    }
    // ends_batch closes the operation for every connection of the stream.
    if (d.ends_batch()) FlushPartials(&complete);
  }
  if (!complete.empty()) dispatcher_->Enqueue(absl::MakeSpan(complete));
}

void Session::Impl::FlushPartials(std::vector<internal::DeliveryGroup>* out) {
  for (internal::DeliveryGroup& group : partial_) {
    out->push_back(std::move(group));
  }
  partial_.clear();
  partial_index_.clear();
}

void Session::Impl::OnStreamDone(const absl::Status& status) {
  std::vector<internal::DeliveryGroup> groups;
  FlushPartials(&groups);
  dispatcher_->Enqueue(absl::MakeSpan(groups));
  std::vector<ConnectionId> live;
  {
    absl::MutexLock lock(&mu_);
    stream_done_ = true;
    stream_status_ =
        status.ok() ? absl::UnavailableError("stream ended") : status;
    live.assign(live_.begin(), live_.end());
  }
  // Until sessions reconnect by themselves (issue 6), a lost stream is lost
  // continuity for every connection, and each sink is told.
  for (ConnectionId c : live) {
    dispatcher_->EnqueueResync(
        c, absl::StrCat("the notification stream ended: ", status.ToString()));
  }
}

}  // namespace mapinotify
