// ProgressMarker: a thread that calls Hub::SendProgressMarks every interval,
// so that quiet connections' resume points advance (DESIGN.md section 4).
#ifndef MAPINOTIFY_SERVER_HUB_PROGRESS_MARKER_H_
#define MAPINOTIFY_SERVER_HUB_PROGRESS_MARKER_H_

#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/hub/hub.h"

namespace mapinotify::server {

// Thread-safe. The hub must outlive the marker.
class ProgressMarker {
 public:
  // Starts the thread; an infinite or non-positive `interval` starts none
  // (no periodic marks).
  ProgressMarker(Hub* hub, absl::Duration interval);
  // Stops the thread; returns once it has ended (at most one
  // SendProgressMarks call, which never blocks on a subscriber, to wait for).
  ~ProgressMarker();

  ProgressMarker(const ProgressMarker&) = delete;
  ProgressMarker& operator=(const ProgressMarker&) = delete;

 private:
  void Run() ABSL_LOCKS_EXCLUDED(mu_);

  Hub* const hub_;
  const absl::Duration interval_;
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace mapinotify::server

#endif  // MAPINOTIFY_SERVER_HUB_PROGRESS_MARKER_H_
