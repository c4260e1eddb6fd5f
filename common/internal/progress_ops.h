// ProgressOp and ProgressOpQueue: IMAPIProgress calls (SetLimits, Progress)
// held as values while they wait to be delivered — for a loop
// (ThisThreadProgress), for the wire (the server's RunOperation stream), or
// for the thread that waits on a long call (the client) — and the bounded,
// coalescing queue they wait in. Shared by the client and the server; no
// gRPC.
#ifndef MAPINOTIFY_COMMON_INTERNAL_PROGRESS_OPS_H_
#define MAPINOTIFY_COMMON_INTERNAL_PROGRESS_OPS_H_

#include <cstddef>
#include <cstdint>

#include "absl/container/inlined_vector.h"
#include "mapinotify/mapi.h"
#include "mapinotify/progress.h"

namespace mapinotify {
namespace internal {

// The hard bound on the calls that wait for one wrapper's loop. Each waiting
// call is a small fixed-size value held inline, so a loop that is never
// pumped costs at most this many per wrapper, whatever the callers do.
inline constexpr size_t kMaxPendingProgressOps = 16;

// One call waiting for the loop: a SetLimits (each field present or not, as
// the caller passed a pointer or null) or a Progress.
struct ProgressOp {
  enum class Kind : uint8_t { kSetLimits, kProgress };
  Kind kind = Kind::kProgress;
  // kSetLimits: which fields were given.
  bool has_min = false;
  bool has_max = false;
  bool has_flags = false;
  ULONG min = 0;
  ULONG max = 0;
  ULONG flags = 0;
  // kProgress.
  ULONG value = 0;
  ULONG count = 0;
  ULONG total = 0;

  static ProgressOp Limits(const ULONG* min, const ULONG* max,
                           const ULONG* flags);
  static ProgressOp Progress(ULONG value, ULONG count, ULONG total);
  // kSetLimits only: the fields `newer` gives replace this op's.
  void MergeLimits(const ProgressOp& newer);
};

// The calls waiting for the loop, oldest first. Thread-compatible value.
//
// Coalescing keeps it short and bounded: a Progress right after a Progress
// replaces it (the newer value supersedes it), a SetLimits right after a
// SetLimits is merged into it field by field (newer fields win), so the ops
// alternate between the two kinds. Past kMaxPendingProgressOps the oldest
// Progress that a later Progress supersedes is removed, and the SetLimits on
// either side of it, now adjacent, are merged. So size() never exceeds
// kMaxPendingProgressOps; the relative order of what remains is the call
// order; the last Progress and every field last given to SetLimits survive.
class ProgressOpQueue {
 public:
  using Ops = absl::InlinedVector<ProgressOp, kMaxPendingProgressOps + 1>;

  void Add(const ProgressOp& op);
  size_t size() const { return ops_.size(); }
  bool empty() const { return ops_.empty(); }
  const Ops& ops() const { return ops_; }
  // Returns the waiting ops and leaves the queue empty.
  Ops Take();
  void Clear() { ops_.clear(); }

 private:
  // Removes the oldest superseded Progress (see the class comment). False
  // when there is none (fewer than two Progress ops).
  bool FoldOldest();

  Ops ops_;
};

// Makes `op` on `progress` (SetLimits with the fields given, or Progress)
// and returns Progress's answer (S_OK for SetLimits).
SCODE ApplyProgressOp(const ProgressOp& op, MapiProgress& progress);

}  // namespace internal
}  // namespace mapinotify

#endif  // MAPINOTIFY_COMMON_INTERNAL_PROGRESS_OPS_H_
