#include "bench/batch_tally.h"

#include "bench/payload.h"

namespace mapinotify::bench {

void BatchTally::Ready() {
  if (ready_seen_) return;
  ready_seen_ = true;
  ready_->DecrementCount();
}

void BatchTally::Add(const v1::NotificationBatch& batch) {
  const int64_t now = MonotonicNanos();
  for (const v1::Delivered& d : batch.notifications()) {
    if (IsEndMarker(d.notification())) {
      if (!ended_seen_) {
        ended_seen_ = true;
        if (received_ > 0) last_ns_ = MonotonicNanos();
        ended_->DecrementCount();
      }
      continue;
    }
    const int64_t latency = now - StampOf(d.notification());
    for (int c = 0; c < d.connections_size(); ++c) {
      ++received_;
      histogram_.Add(latency);
    }
    if (first_ns_ == 0) first_ns_ = now;
  }
}

void BatchTally::Done() {
  Ready();
  if (ended_seen_) return;
  ended_seen_ = true;
  unfinished_ = true;
  ended_->DecrementCount();
}

void BatchTally::AddTo(uint64_t expect, ClientResult* result) const {
  result->Add(received_, expect, 0, !unfinished_, first_ns_, last_ns_,
              histogram_);
}

}  // namespace mapinotify::bench
