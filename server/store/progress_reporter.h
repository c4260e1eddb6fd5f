// ProgressReporter: how the store's long operations (CopyFolder,
// DeleteFolder, EmptyFolder, DeleteMessages, CopyMessages, SetReadFlags)
// drive an IMAPIProgress object (mapinotify/progress.h), following
// Microsoft's "Display a progress indicator" (MAPI reference, "How to:
// Display a Progress Indicator"), and how a MAPI_E_USER_CANCEL answer
// becomes "stop before the next item". No gRPC, no lock of its own.
//
// The document, in short. A provider first calls GetFlags. With
// MAPI_TOP_LEVEL set it counts the N items of the object the client called
// (for a folder's contents: its subfolders plus its messages), computes a
// step of 1000 / N, calls SetLimits(0, 1000, MAPI_TOP_LEVEL) when it shows
// progress for subobjects, and for item i calls SetLimits((i - 1) * step,
// i * step, 0), processes the item (a subobject gets the progress object)
// and calls Progress(i * step, i, N). Without MAPI_TOP_LEVEL (it is itself
// a subobject) it reads GetMin and GetMax, splits that local range among
// its items the same way, optionally sets each item's sub-range with
// SetLimits(.., .., 0), and calls Progress(value, 0, 0). `value` never
// decreases, stays within the global limits, equals the global minimum
// only at the very beginning and the global maximum only at completion.
//
// The algorithm implemented, and the choices the document leaves open:
//  1. Start (Begin, once the call's arguments are validated; a call that
//     fails validation makes no progress call at all): GetFlags, then
//     GetMin and GetMax — the object's own limits are honoured instead of
//     the literal 0 / 1000, and no Progress is made at the very beginning
//     (so the minimum itself is never reported when the range allows) —
//     then, only when GetFlags had MAPI_TOP_LEVEL, SetLimits(min, max,
//     flags) re-asserting them as the global limits (always, not only when
//     there are subobjects). max < min is read as max = min. Without
//     MAPI_TOP_LEVEL the caller made this call a subobject of its own
//     operation: [min, max] is then a local range, no SetLimits is made for
//     it and count = total = 0.
//  2. Values. A level with range [lo, hi] and N items reports after item i
//     the boundary B(i) = lo + max(floor((hi - lo) * i / N), c), where c is
//     1 when hi - lo >= 2 and 0 otherwise, for i < N, and B(N) = hi: exact
//     (64-bit) arithmetic instead of the document's truncated "max / N"
//     steps, so that the last item lands exactly on hi; strictly above lo
//     and (by the floor) strictly below hi before the end whenever the
//     range allows it. Item i's sub-range is [B(i-1), B(i)], so values
//     never decrease across levels.
//  3. count / total: (i, N) at the top level, where an item is one message
//     or one folder of the object the client named (the operation defines
//     its items, see store_folders.cc / store_message_ops.cc: as the step
//     list says, a folder's subfolders plus its messages, rather than
//     IMAPIProgress::Progress's note "the number of subfolders, or 1 for a
//     folder of messages only"); (0, 0) at every other level. The
//     document's value for a subobject's item, "step * i", is read as
//     min + step * i (its sample's own ulDelta).
//  4. Subobjects (EnterSubobject / LeaveSubobject). SetLimits is called
//     before subobject items only (a message has no progress of its own to
//     scale; the document's step list sets limits before every item, its
//     sample only before subfolders): SetLimits(B(i-1), B(i),
//     flags & ~MAPI_TOP_LEVEL) before; after, the parent's limits and
//     flags restored with SetLimits(lo, hi, flags) — which the document's
//     sample omits — and then the parent's Progress for the subobject as
//     its item i. The store does not read GetFlags / GetMin / GetMax again
//     for a subobject: it set them itself, and not reading them back keeps
//     the values monotonic even with an object that does not store local
//     limits.
//  5. A subobject's level does not report its own last item: its parent
//     reports the same value B(i) right after, and so a value is never
//     reported twice for one completion and the global maximum is reached
//     exactly once, by the last Progress call. The outermost level reports
//     every item, its last one at exactly its max. An outermost level with
//     no items reports Progress(max, 0, 0) once at Begin.
//  6. Cancel. Only MAPI_E_USER_CANCEL stops (any other answer goes on).
//     From then on the reporter calls nothing on the object — no Progress,
//     no SetLimits (the object keeps the limits it had when it answered) —
//     and ItemDone / LeaveSubobject return false so that the operation
//     stops before its next item. A cancel answered for the very last item
//     changes nothing: the operation is complete (incomplete() is false).
//  7. Cost. Without a progress object every method is an inline null check;
//     with one, an item costs one 64-bit multiply-divide and one virtual
//     call.
//
// Thread-compatible: one operation uses it on one thread (under the store
// lock, so the progress object must return quickly and must not call the
// store).
#ifndef MAPINOTIFY_SERVER_STORE_PROGRESS_REPORTER_H_
#define MAPINOTIFY_SERVER_STORE_PROGRESS_REPORTER_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "mapinotify/mapi.h"
#include "mapinotify/progress.h"

namespace mapinotify::server::store {

class ProgressReporter {
 public:
  // `progress` may be null (nothing is reported, nothing stops); it must
  // outlive the reporter.
  explicit ProgressReporter(MapiProgress* progress) : progress_(progress) {}
  ProgressReporter(const ProgressReporter&) = delete;
  ProgressReporter& operator=(const ProgressReporter&) = delete;

  // Starts the operation whose outermost level has `items` items (step 1;
  // with none, step 5's single Progress). Call once, before any other.
  void Begin(size_t items) {
    if (progress_ != nullptr) BeginSlow(items);
  }
  // The current level's next item is done (steps 2, 3, 5). Returns false
  // when the operation must stop before its next item (a cancel was
  // answered, now or earlier).
  bool ItemDone() { return progress_ == nullptr || ItemDoneSlow(); }
  // The current level's next item is a subobject with `items` items of its
  // own, which becomes the current level (step 4). Nothing once stopped.
  void EnterSubobject(size_t items) {
    if (progress_ != nullptr) EnterSlow(items);
  }
  // The current subobject's items are all done: it counts as its parent's
  // item done, the parent becomes current again (step 4). Returns false as
  // ItemDone.
  bool LeaveSubobject() { return progress_ == nullptr || LeaveSlow(); }

  // Whether the operation was stopped by a cancel before all of its items
  // were done: the caller then reports MAPI_W_PARTIAL_COMPLETION.
  bool incomplete() const;

 private:
  struct Level {
    uint64_t lo = 0;
    uint64_t hi = 0;
    size_t total = 0;
    size_t done = 0;
  };

  void BeginSlow(size_t items);
  bool ItemDoneSlow();
  void EnterSlow(size_t items);
  bool LeaveSlow();
  // B(i) of `level` (step 2).
  static uint64_t Boundary(const Level& level, size_t i);
  // Calls Progress; false (and stopped_) when it answered
  // MAPI_E_USER_CANCEL.
  bool Report(uint64_t value, size_t count, size_t total);

  MapiProgress* const progress_;
  ULONG flags_ = 0;   // GetFlags' answer at Begin.
  bool top_ = false;  // flags_ has MAPI_TOP_LEVEL.
  bool stopped_ = false;
  // levels_[0] is the outermost level; the back one is current.
  std::vector<Level> levels_;
};

}  // namespace mapinotify::server::store

#endif  // MAPINOTIFY_SERVER_STORE_PROGRESS_REPORTER_H_
