#include "client/internal/subscribe_stream.h"

#include <string>
#include <utility>

#include "client/internal/caller.h"

namespace mapinotify::internal {

SubscribeStream::SubscribeStream(v1::Notifications::Stub* stub,
                                 StreamHandler* handler,
                                 const std::string& session_id)
    : handler_(handler),
      arena_block_(new char[kArenaBlockBytes]),
      arena_([this] {
        google::protobuf::ArenaOptions options;
        options.initial_block = arena_block_.get();
        options.initial_block_size = kArenaBlockBytes;
        return options;
      }()),
      response_(google::protobuf::Arena::CreateMessage<v1::SubscribeResponse>(
          &arena_)) {
  AddCallerMetadata(session_id, &context_);
  stub->async()->Subscribe(&context_, this);
}

SubscribeStream::~SubscribeStream() { Close(); }

void SubscribeStream::Start() {
  {
    absl::MutexLock lock(&mu_);
    started_ = true;
  }
  StartRead(response_);
  StartCall();
  MaybeWrite();
}

absl::Status SubscribeStream::Send(v1::SubscribeRequest request) {
  {
    absl::MutexLock lock(&mu_);
    if (closing_ || done_.HasBeenNotified()) {
      return absl::FailedPreconditionError("the notification stream is closed");
    }
    pending_.push_back(std::move(request));
  }
  MaybeWrite();
  return absl::OkStatus();
}

void SubscribeStream::MaybeWrite() {
  {
    absl::MutexLock lock(&mu_);
    if (!started_ || writing_ || closing_ || pending_.empty()) return;
    writing_msg_ = std::move(pending_.front());
    pending_.pop_front();
    writing_ = true;
  }
  StartWrite(&writing_msg_);
}

void SubscribeStream::OnWriteDone(bool ok) {
  {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!ok) {
      // The call is ending; OnDone reports why.
      pending_.clear();
      closing_ = true;
      return;
    }
  }
  MaybeWrite();
}

void SubscribeStream::OnReadDone(bool ok) {
  if (!ok) return;  // The call is ending; OnDone follows.
  handler_->OnResponse(*response_);
  // The handler keeps nothing of it: start the next read on a clean arena.
  arena_.Reset();
  response_ =
      google::protobuf::Arena::CreateMessage<v1::SubscribeResponse>(&arena_);
  StartRead(response_);
}

void SubscribeStream::OnDone(const grpc::Status& status) {
  {
    absl::MutexLock lock(&mu_);
    closing_ = true;
    pending_.clear();
  }
  handler_->OnStreamDone(FromGrpcStatus(status));
  done_.Notify();
}

void SubscribeStream::Goodbye(absl::Duration timeout) {
  v1::SubscribeRequest goodbye;
  goodbye.mutable_goodbye();
  if (Send(std::move(goodbye)).ok()) {
    done_.WaitForNotificationWithTimeout(timeout);
  }
  Close();
}

void SubscribeStream::Close() {
  bool started;
  {
    absl::MutexLock lock(&mu_);
    closing_ = true;
    pending_.clear();
    started = started_;
  }
  if (!started) return;
  context_.TryCancel();
  done_.WaitForNotification();
}

}  // namespace mapinotify::internal
