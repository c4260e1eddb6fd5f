// Internals of ThisThreadProgress (mapinotify/thread_progress.h): the bounded
// queue of calls waiting for the loop, and the relay that drains it on the
// wrapping thread. Private to the client library and its tests.
#ifndef MAPINOTIFY_CLIENT_THREAD_PROGRESS_INTERNAL_H_
#define MAPINOTIFY_CLIENT_THREAD_PROGRESS_INTERNAL_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "client/loop_core.h"
#include "common/internal/progress_ops.h"
#include "mapinotify/progress.h"

namespace mapinotify {
namespace internal {

// The shared state behind one ThisThreadProgress wrapper: the loop's ready
// source. Producers (any thread) queue calls and schedule it; RunReady, on
// the wrapping thread, calls the original. Thread-safe.
//
// Lifetime: the application's wrapper holds it, and the loop holds it while
// it is listed. The loop is referenced weakly, so a destroyed loop is seen as
// such and a relay never keeps a loop's core alive.
class ProgressRelay final : public ReadySource,
                            public std::enable_shared_from_this<ProgressRelay> {
 public:
  // The limits the wrapper answers GetFlags / GetMin / GetMax from.
  struct Limits {
    ULONG flags = MAPI_TOP_LEVEL;
    ULONG min = 1;
    ULONG max = 1000;
  };

  // `original` must only be called on `loop`'s owning thread, which is the
  // thread constructing the relay.
  ProgressRelay(std::shared_ptr<MapiProgress> original,
                std::weak_ptr<LoopCore> loop, Limits initial);

  // The wrapper's methods (thread_progress.h). Any thread; never block on
  // the loop; never call the original.
  SCODE Progress(ULONG value, ULONG count, ULONG total)
      ABSL_LOCKS_EXCLUDED(mu_);
  void SetLimits(const ULONG* min, const ULONG* max, const ULONG* flags)
      ABSL_LOCKS_EXCLUDED(mu_);
  Limits limits() const ABSL_LOCKS_EXCLUDED(mu_);

  // The application released its wrapper: no call will follow. Schedules a
  // last drain that delivers what still waits and then releases the original
  // on the wrapping thread. When the loop is gone, the original is released
  // with the relay, on whichever thread drops it last.
  void Orphan() ABSL_LOCKS_EXCLUDED(mu_);

  // Owning thread of the loop only: calls the original with the ops waiting
  // now, in order, with no lock held.
  void RunReady() override ABSL_LOCKS_EXCLUDED(mu_);

  // Testing hooks (any thread).
  // Calls waiting for the loop now.
  size_t pending() const ABSL_LOCKS_EXCLUDED(mu_);
  // The most calls that ever waited at once (<= kMaxPendingProgressOps).
  size_t max_pending_seen() const ABSL_LOCKS_EXCLUDED(mu_);
  // Calls not delivered because the loop is destroyed: the ops that waited
  // when that was found, plus every call made after.
  uint64_t dropped() const ABSL_LOCKS_EXCLUDED(mu_);
  // True once the original answered MAPI_E_USER_CANCEL.
  bool cancelled() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // Queues `op` (or drops it when the loop is known to be gone) and lists the
  // relay on the loop. Returns the answer for Progress.
  SCODE Enqueue(const ProgressOp& op) ABSL_LOCKS_EXCLUDED(mu_);
  // Lists the relay on its loop (a no-op while listed). When the loop is
  // gone, drops what waits and remembers it.
  void Kick() ABSL_LOCKS_EXCLUDED(mu_);

  // Constant after construction.
  const std::weak_ptr<LoopCore> loop_;

  // Loop thread only (and construction / destruction, which no call races).
  std::shared_ptr<MapiProgress> original_;
  // True while RunReady calls the original: a nested pump of the loop from
  // inside the original (a progress dialog pumping messages) must not
  // deliver newer calls before the rest of the running batch.
  bool draining_ = false;

  // State below is protected by mu_.
  mutable absl::Mutex mu_;
  ProgressOpQueue pending_ ABSL_GUARDED_BY(mu_);
  Limits limits_ ABSL_GUARDED_BY(mu_);
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool orphaned_ ABSL_GUARDED_BY(mu_) = false;
  bool loop_gone_ ABSL_GUARDED_BY(mu_) = false;
  size_t max_pending_seen_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
};

// The object ThisThreadProgress returns: forwards to its relay, and orphans
// it on destruction. Thread-safe (the relay is constant after construction).
class ThisThreadProgressWrapper final : public MapiProgress {
 public:
  explicit ThisThreadProgressWrapper(std::shared_ptr<ProgressRelay> relay)
      : relay_(std::move(relay)) {}
  ~ThisThreadProgressWrapper() override { relay_->Orphan(); }
  ThisThreadProgressWrapper(const ThisThreadProgressWrapper&) = delete;
  ThisThreadProgressWrapper& operator=(const ThisThreadProgressWrapper&) =
      delete;

  SCODE Progress(ULONG value, ULONG count, ULONG total) override {
    return relay_->Progress(value, count, total);
  }
  ULONG GetFlags() override { return relay_->limits().flags; }
  ULONG GetMax() override { return relay_->limits().max; }
  ULONG GetMin() override { return relay_->limits().min; }
  void SetLimits(const ULONG* min, const ULONG* max,
                 const ULONG* flags) override {
    relay_->SetLimits(min, max, flags);
  }

  const ProgressRelay& relay() const { return *relay_; }

  // The wrapper when `progress` is one, else nullptr.
  static const ThisThreadProgressWrapper* From(const MapiProgress* progress) {
    return dynamic_cast<const ThisThreadProgressWrapper*>(progress);
  }

 private:
  const std::shared_ptr<ProgressRelay> relay_;
};

}  // namespace internal
}  // namespace mapinotify

#endif  // MAPINOTIFY_CLIENT_THREAD_PROGRESS_INTERNAL_H_
