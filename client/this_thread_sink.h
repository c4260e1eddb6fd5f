// The sink that ThisThreadAdviseSink returns. The dispatcher recognises it
// and delivers straight to the wrapped sink on the wrapping thread's loop.
#ifndef MAPINOTIFY_CLIENT_THIS_THREAD_SINK_H_
#define MAPINOTIFY_CLIENT_THIS_THREAD_SINK_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <utility>

#include "client/loop_core.h"
#include "mapinotify/advise_sink.h"

namespace mapinotify {
namespace internal {

// Wraps `inner` so that it runs on the loop of `loop`. Thread-safe; the
// members are constant after construction.
class ThisThreadSink final : public AdviseSink {
 public:
  ThisThreadSink(std::shared_ptr<AdviseSink> inner,
                 std::shared_ptr<LoopCore> loop)
      : inner_(std::move(inner)), loop_(std::move(loop)) {}

  // Called directly (not through the dispatcher, which unwraps this class):
  // posts a copy of `batch` (the notifications are shared, not copied) to
  // the loop as a user task, which calls inner()->OnNotify there. If the
  // loop's task queue is full or the loop is destroyed the batch is dropped
  // (the post is never blocking) and dropped() counts it.
  void OnNotify(const NotificationBatch& batch) override;

  const std::shared_ptr<AdviseSink>& inner() const { return inner_; }
  const std::shared_ptr<LoopCore>& loop() const { return loop_; }
  // Batches dropped by OnNotify because the post failed.
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

  // The wrapper when `sink` is one, else nullptr.
  static const ThisThreadSink* From(const AdviseSink* sink) {
    return dynamic_cast<const ThisThreadSink*>(sink);
  }

 private:
  const std::shared_ptr<AdviseSink> inner_;
  const std::shared_ptr<LoopCore> loop_;
  // A statistic only; nothing is ordered by it.
  std::atomic<uint64_t> dropped_{0};
};

}  // namespace internal
}  // namespace mapinotify

#endif  // MAPINOTIFY_CLIENT_THIS_THREAD_SINK_H_
