// Waker: runs outboxes' wakes (Outbox::Wake, which may start a gRPC write)
// for a publisher that made many streams due at once, on a thread of its
// own, so that publishing to N idle streams costs the publisher N queue
// pushes, not N write starts (DESIGN.md section 4: a producer never blocks
// on a subscriber). While the thread works through one round, further
// notifications queue behind the writes it starts and leave in the same
// batches, so the number of writes follows what the machine can carry.
//
// Bounded: an outbox is handed over only when a push made its wake due,
// and an outbox owes at most one wake at a time (Outbox), so the queue
// never holds more entries than there are streams.
//
// Thread-safe.
#ifndef MAPINOTIFY_SERVER_HUB_WAKER_H_
#define MAPINOTIFY_SERVER_HUB_WAKER_H_

#include <cstddef>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "server/hub/outbox.h"

namespace mapinotify::server {

class Waker {
 public:
  // Up to `inline_max` wakes of one Run are run on the caller's thread;
  // more are handed to the waker's thread (started on first use).
  explicit Waker(size_t inline_max);
  // Runs every wake still queued, then stops the thread.
  ~Waker();

  Waker(const Waker&) = delete;
  Waker& operator=(const Waker&) = delete;

  // Wakes every outbox of `*outboxes` (and clears it): on this thread when
  // there are at most inline_max of them, else on the waker's thread (in
  // order, after those handed over before). Call with no lock held.
  void Run(std::vector<std::shared_ptr<Outbox>>* outboxes)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Wakes handed to the thread so far (for tests and stats).
  size_t handed_over() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Loop() ABSL_LOCKS_EXCLUDED(mu_);

  const size_t inline_max_;
  mutable absl::Mutex mu_;
  std::vector<std::shared_ptr<Outbox>> queue_ ABSL_GUARDED_BY(mu_);
  size_t handed_over_ ABSL_GUARDED_BY(mu_) = 0;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;  // Started under mu_ (started_), joined by ~Waker.
};

}  // namespace mapinotify::server

#endif  // MAPINOTIFY_SERVER_HUB_WAKER_H_
