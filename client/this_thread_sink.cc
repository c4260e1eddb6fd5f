#include "client/this_thread_sink.h"

#include <utility>

#include "mapinotify/message_loop.h"

namespace mapinotify {
namespace internal {

void ThisThreadSink::OnNotify(const NotificationBatch& batch) {
  absl::Status posted = loop_->PostTask(
      [inner = inner_, copy = batch] { inner->OnNotify(copy); });
  if (!posted.ok()) dropped_.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace internal

absl::StatusOr<std::shared_ptr<AdviseSink>> ThisThreadAdviseSink(
    std::shared_ptr<AdviseSink> sink) {
  if (sink == nullptr) {
    return absl::InvalidArgumentError("ThisThreadAdviseSink: null sink");
  }
  MessageLoop* loop = MessageLoop::Current();
  if (loop == nullptr) {
    return absl::FailedPreconditionError(
        "ThisThreadAdviseSink: the calling thread has no MessageLoop");
  }
  // Wrapping a wrapper re-targets the inner sink to this thread.
  if (const auto* wrapper = internal::ThisThreadSink::From(sink.get())) {
    sink = wrapper->inner();
  }
  return std::shared_ptr<AdviseSink>(std::make_shared<internal::ThisThreadSink>(
      std::move(sink), loop->core()));
}

}  // namespace mapinotify
