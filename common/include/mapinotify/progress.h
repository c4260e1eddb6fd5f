// IMAPIProgress: the progress object a long operation reports to, shared by
// the client library (the application implements it) and the server's store
// (which calls it as a MAPI provider does).
//
// MAPI's contract, kept here: a progress object starts with flags
// MAPI_TOP_LEVEL, minimum 1 and maximum 1000 (GetFlags / GetMin / GetMax).
// The provider calls SetLimits to set global limits (with MAPI_TOP_LEVEL)
// or, while it works on a subobject (a subfolder of a folder being copied),
// local ones (MAPI_TOP_LEVEL cleared), and Progress(value, count, total):
// `value` lies within the global limits, never decreases, equals the global
// minimum only at the very beginning and the global maximum only at
// completion; `count` / `total` are "item i of N" at the top level (0 when
// not known). Progress returns S_OK to go on or MAPI_E_USER_CANCEL to stop
// the operation at the next item.
#ifndef MAPINOTIFY_PROGRESS_H_
#define MAPINOTIFY_PROGRESS_H_

#include "mapinotify/mapi.h"

namespace mapinotify {

// IMAPIProgress. Implementations need not be thread-safe: whoever calls
// one (the library, a provider) calls it from one thread at a time (see
// ThreadSafeProgress and ThisThreadProgress in the client library).
class MapiProgress {
 public:
  virtual ~MapiProgress() = default;
  // IMAPIProgress::Progress. S_OK or MAPI_E_USER_CANCEL.
  virtual SCODE Progress(ULONG value, ULONG count, ULONG total) = 0;
  virtual ULONG GetFlags() = 0;
  virtual ULONG GetMax() = 0;
  virtual ULONG GetMin() = 0;
  // IMAPIProgress::SetLimits: each pointer, when not null, sets that value.
  virtual void SetLimits(const ULONG* min, const ULONG* max,
                         const ULONG* flags) = 0;
};

// The bookkeeping MAPI's "Implementing a Progress Indicator" asks of every
// progress object: flags MAPI_TOP_LEVEL, min 1, max 1000 until SetLimits
// saves new ones. Progress records its arguments and returns S_OK; override
// OnProgress to display them or to cancel. Thread-compatible.
class BasicProgress : public MapiProgress {
 public:
  SCODE Progress(ULONG value, ULONG count, ULONG total) override {
    value_ = value;
    count_ = count;
    total_ = total;
    return OnProgress(value, count, total);
  }
  ULONG GetFlags() override { return flags_; }
  ULONG GetMax() override { return max_; }
  ULONG GetMin() override { return min_; }
  void SetLimits(const ULONG* min, const ULONG* max,
                 const ULONG* flags) override {
    if (min != nullptr) min_ = *min;
    if (max != nullptr) max_ = *max;
    if (flags != nullptr) flags_ = *flags;
  }

  // The last Progress call's arguments (0 before any).
  ULONG value() const { return value_; }
  ULONG count() const { return count_; }
  ULONG total() const { return total_; }

 protected:
  // Called by Progress after recording; its answer is Progress's.
  virtual SCODE OnProgress(ULONG /*value*/, ULONG /*count*/, ULONG /*total*/) {
    return S_OK;
  }

 private:
  ULONG flags_ = MAPI_TOP_LEVEL;
  ULONG min_ = 1;
  ULONG max_ = 1000;
  ULONG value_ = 0;
  ULONG count_ = 0;
  ULONG total_ = 0;
};

}  // namespace mapinotify

#endif  // MAPINOTIFY_PROGRESS_H_
