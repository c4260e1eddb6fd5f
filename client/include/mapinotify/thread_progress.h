// Thread wrappers for progress objects: what MAPI lacks ("for progress
// callbacks, there is no such utility" — MAPI's HrThisThreadAdviseSink has
// no progress counterpart). The application's MapiProgress
// (mapinotify/progress.h) need not be thread-safe; wrap it.
#ifndef MAPINOTIFY_THREAD_PROGRESS_H_
#define MAPINOTIFY_THREAD_PROGRESS_H_

#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "mapinotify/progress.h"

namespace mapinotify {

// A progress object any thread may call: every call runs the wrapped
// object on the calling thread, one call at a time (a mutex serializes
// them; it is held while the wrapped object runs, so the wrapped object
// must not call back into this wrapper).
class ThreadSafeProgress : public MapiProgress {
 public:
  // REQUIRES: `progress` is not null.
  explicit ThreadSafeProgress(std::shared_ptr<MapiProgress> progress);

  SCODE Progress(ULONG value, ULONG count, ULONG total) override
      ABSL_LOCKS_EXCLUDED(mu_);
  ULONG GetFlags() override ABSL_LOCKS_EXCLUDED(mu_);
  ULONG GetMax() override ABSL_LOCKS_EXCLUDED(mu_);
  ULONG GetMin() override ABSL_LOCKS_EXCLUDED(mu_);
  void SetLimits(const ULONG* min, const ULONG* max,
                 const ULONG* flags) override ABSL_LOCKS_EXCLUDED(mu_);

 private:
  absl::Mutex mu_;
  // Constant after construction; the object it points to is called only
  // with mu_ held. (Not ABSL_PT_GUARDED_BY: clang 14 accepts that attribute
  // on raw pointers only, and -Wthread-safety is an error.)
  const std::shared_ptr<MapiProgress> progress_;
};

// HrThisThreadAdviseSink for progress: returns a progress object, callable
// from any thread, that runs `progress` on the calling thread through its
// MessageLoop (it runs while that loop is pumped). `progress` is never
// called on any other thread. The returned object:
//   - forwards SetLimits and Progress to the loop in call order (calls made
//     on the wrapping thread itself wait for the loop too);
//   - coalesces: a Progress still waiting for the loop is replaced by a
//     newer one (its values are superseded), so a loop that falls behind
//     gets the latest value, and the last Progress is always delivered;
//     consecutive SetLimits waiting for the loop are merged into one call,
//     field by field (a field given later wins; a field never given stays
//     null). At most a bounded number of calls ever wait (16): past it the
//     oldest waiting Progress that a later one supersedes is dropped and the
//     SetLimits on either side of it merged, so the last Progress, its place
//     among the SetLimits and every limit last set still arrive, and a loop
//     that is never pumped holds bounded memory. The forwarding does not use
//     the loop's task capacity: a loop whose PostTask queue is full still
//     gets the last Progress once it drains;
//   - answers Progress at once, without waiting for the loop: S_OK, or
//     MAPI_E_USER_CANCEL once `progress` has answered MAPI_E_USER_CANCEL to
//     any call (later calls are still forwarded);
//   - answers GetFlags / GetMin / GetMax at once from the limits set through
//     it, starting from `progress`'s own when wrapped (read on the calling
//     thread by this function).
// No lock is held while `progress` runs: it may call the returned object,
// and may pump its loop (a progress dialog); calls made meanwhile still
// arrive in call order, after it returns. When the returned object is
// released, the calls still waiting are delivered and `progress` is then
// released on the wrapping thread by its loop (by the releasing thread when
// the loop is already destroyed). Wrapping a returned object again does not
// re-target `progress`: it keeps running on the first wrapping thread.
// FailedPrecondition when the calling thread has no MessageLoop (never a
// silent fallback to another thread); InvalidArgument when `progress` is
// null. Calls that reach the wrapper after the loop is destroyed are
// dropped (Progress then answers as above; GetFlags / GetMin / GetMax still
// follow SetLimits).
absl::StatusOr<std::shared_ptr<MapiProgress>> ThisThreadProgress(
    std::shared_ptr<MapiProgress> progress);

}  // namespace mapinotify

#endif  // MAPINOTIFY_THREAD_PROGRESS_H_
