#include "server/hub/progress_marker.h"

namespace mapinotify::server {

ProgressMarker::ProgressMarker(Hub* hub, absl::Duration interval)
    : hub_(hub), interval_(interval) {
  if (interval_ > absl::ZeroDuration() &&
      interval_ != absl::InfiniteDuration()) {
    thread_ = std::thread([this] { Run(); });
  }
}

ProgressMarker::~ProgressMarker() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void ProgressMarker::Run() {
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      // A timer, not synchronisation: the marks are periodic by design.
      mu_.AwaitWithTimeout(absl::Condition(&stop_), interval_);
      if (stop_) return;
    }
    hub_->SendProgressMarks();
  }
}

}  // namespace mapinotify::server
