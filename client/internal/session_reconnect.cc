// Session::Impl, continued: re-opening the notification stream after it
// broke (the reconnect thread, one attempt, giving up) and reporting the
// session's state. The contract is ReconnectOptions' in mapinotify/session.h.
#include <memory>
#include <utility>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/internal/backoff.h"
#include "client/internal/session_impl.h"

namespace mapinotify {

void Session::Impl::ReconnectLoop() {
  absl::BitGen random;
  internal::Backoff backoff(options_.reconnect, [&random] {
    return absl::Uniform(random, 0.0, 1.0);
  });
  absl::Time up_since = absl::Now();
  for (;;) {
    std::shared_ptr<internal::SubscribeStream> broken;
    absl::Status why;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](Impl* i) ABSL_EXCLUSIVE_LOCKS_REQUIRED(i->mu_) {
            return i->closing_ || i->stream_done_;
          },
          this));
      if (closing_) return;
      state_ = SessionState::kReconnecting;
      broken = stream_;
      why = stream_status_;
    }
    backoff.StreamEnded(absl::Now() - up_since);
    PostState(SessionState::kReconnecting, why);
    broken->Close();  // Already done: returns once its callbacks are over.
    broken.reset();
    int failed = 0;
    for (;;) {
      if (options_.reconnect.max_attempts > 0 &&
          failed >= options_.reconnect.max_attempts) {
        Lose(why);
        return;
      }
      {
        absl::MutexLock lock(&mu_);
        if (mu_.AwaitWithTimeout(absl::Condition(this, &Impl::ClosingLocked),
                                 backoff.NextDelay())) {
          return;
        }
      }
      absl::Status attempt = Attempt();
      {
        absl::MutexLock lock(&mu_);
        if (closing_) return;
      }
      if (attempt.ok()) break;
      ++failed;
      why = attempt;
    }
    up_since = absl::Now();
    PostState(SessionState::kConnected, absl::OkStatus());
  }
}

absl::Status Session::Impl::Attempt() {
  auto stream = std::make_shared<internal::SubscribeStream>(stub_.get(), this,
                                                            session_id_);
  std::vector<v1::SubscribeRequest> requests;
  {
    absl::MutexLock lock(&mu_);
    v1::SubscribeRequest resume;
    resume.mutable_resume()->set_epoch(epoch_);
    resume.mutable_resume()->set_last_sequence(max_seen_);
    requests.push_back(std::move(resume));
    readvising_.clear();
    for (auto& [c, connection] : connections_) {
      if (connection.phase != Connection::Phase::kLive) continue;
      v1::SubscribeRequest request;
      v1::AdviseRequest* advise = request.mutable_advise();
      advise->set_connection(c);
      *advise->mutable_target() = connection.target;
      advise->set_event_mask(connection.event_mask);
      if (connection.resume_epoch == epoch_) {
        advise->set_resume_after(connection.resume);
      } else {
        // Its point belongs to an epoch this stream does not resume from
        // (an earlier attempt met a restarted server and broke before this
        // connection was answered): it registers afresh, and its sink is
        // told about the gap once it is accepted.
        connection.owes_resync = true;
      }
      readvising_.insert(c);
      requests.push_back(std::move(request));
    }
  }
  StartStream(stream, std::move(requests));

  absl::Status why;
  {
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithDeadline(
        absl::Condition(
            +[](Impl* i) ABSL_EXCLUSIVE_LOCKS_REQUIRED(i->mu_) {
              return i->closing_ || i->stream_done_ ||
                     (i->hello_ && i->readvising_.empty());
            },
            this),
        absl::Now() + connect_timeout_);
    if (closing_) return absl::CancelledError("the session is closing");
    if (!stream_done_ && hello_ && readvising_.empty()) {
      state_ = SessionState::kConnected;
      ++reconnects_;
      return absl::OkStatus();
    }
    why = stream_done_ ? stream_status_
                       : absl::DeadlineExceededError(absl::StrCat(
                             "mapinotifyd did not answer the reconnect within ",
                             absl::FormatDuration(connect_timeout_)));
  }
  stream->Close();  // Ends it if it still runs; its callbacks are over then.
  return why;
}

void Session::Impl::Lose(const absl::Status& why) {
  std::vector<ConnectionId> live;
  {
    absl::MutexLock lock(&mu_);
    state_ = SessionState::kLost;
    for (auto& [c, connection] : connections_) {
      if (connection.phase != Connection::Phase::kLive) continue;
      connection.phase = Connection::Phase::kDead;
      live.push_back(c);
    }
  }
  PostState(SessionState::kLost, why);
  // A lost stream is lost continuity for every connection: each sink is
  // told, once.
  for (ConnectionId c : live) {
    dispatcher_->EnqueueResync(
        c, absl::StrCat("the notification stream ended: ", why.ToString()));
  }
}

void Session::Impl::PostState(SessionState state, const absl::Status& why) {
  if (state_notifier_ != nullptr) state_notifier_->Post(state, why);
}

}  // namespace mapinotify
