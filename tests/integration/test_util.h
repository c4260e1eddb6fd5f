// Helpers of the integration tests: an in-process mapinotifyd on 127.0.0.1:0,
// notification builders, a recording sink, and a thread with its own loop.
#ifndef MAPINOTIFY_TESTS_INTEGRATION_TEST_UTIL_H_
#define MAPINOTIFY_TESTS_INTEGRATION_TEST_UTIL_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "mapinotify/advise_sink.h"
#include "mapinotify/message_loop.h"
#include "mapinotify/session.h"
#include "server/hub/hub.h"
#include "server/service/server.h"

namespace mapinotify::testing {

// Starts a real server on 127.0.0.1 with a free port. Aborts the test binary
// if it cannot (nothing else can run).
std::unique_ptr<server::Server> StartServer(server::ServerOptions options = {});

// The entry id of folder `name` under the IPM subtree of `server`'s store,
// created if missing (OPEN_IF_EXISTS; its creation publishes
// fnevObjectCreated and the parent's counters). Advise on an entry id needs
// an object the store has. Aborts the test binary if the store refuses.
EntryId MakeFolder(server::Server* server, const std::string& name);

// fnevObjectModified on message `index` (entry id "msg-<index>") of folder
// `folder`, with PR_SUBJECT as the changed tag.
server::PublishItem ObjectModified(const std::string& folder, uint64_t index);
// Publishes `count` ObjectModified notifications on `folder`, one operation
// each; returns the last sequence.
uint64_t PublishMany(server::Hub* hub, const std::string& folder,
                     uint64_t count, uint64_t first_index = 0);

// One notification as a sink saw it.
struct Seen {
  ConnectionId connection = 0;
  uint64_t sequence = 0;
  std::thread::id thread;
  std::shared_ptr<const Notification> notification;
  size_t batch_size = 0;  // Size of the OnNotify call it came in.
};

// Records every notification with the thread it arrived on. Thread-safe.
// `on_notify`, when set, runs inside OnNotify after recording (no lock held).
class RecordingSink : public AdviseSink {
 public:
  RecordingSink() = default;
  explicit RecordingSink(std::function<void(const NotificationBatch&)> hook)
      : hook_(std::move(hook)) {}

  void OnNotify(const NotificationBatch& batch) override;

  // Makes OnNotify call loop->Quit() once `n` notifications are recorded, so
  // that a test thread pumping `loop` returns exactly when they are in.
  void QuitLoopAt(MessageLoop* loop, size_t n);

  // Waits until at least `n` notifications were recorded; false on timeout.
  bool WaitForCount(size_t n, absl::Duration timeout = absl::Seconds(60));
  size_t count() const;
  size_t calls() const;
  std::vector<Seen> seen() const;

 private:
  const std::function<void(const NotificationBatch&)> hook_;
  mutable absl::Mutex mu_;
  std::vector<Seen> seen_ ABSL_GUARDED_BY(mu_);
  size_t calls_ ABSL_GUARDED_BY(mu_) = 0;
  MessageLoop* quit_loop_ ABSL_GUARDED_BY(mu_) = nullptr;
  size_t quit_at_ ABSL_GUARDED_BY(mu_) = 0;
};

// Runs `loop` (REQUIRES: owned by the calling thread) until `sink` holds `n`
// notifications (the sink quits the loop then) or `timeout` passes; returns
// whether they arrived.
bool PumpUntilCount(MessageLoop& loop, RecordingSink& sink, size_t n,
                    absl::Duration timeout = absl::Seconds(60));

// Counts notifications without keeping them (for floods). Thread-safe.
class CountingSink : public AdviseSink {
 public:
  void OnNotify(const NotificationBatch& batch) override;
  // Waits until at least `n` notifications were counted; false on timeout.
  bool WaitForCount(uint64_t n, absl::Duration timeout = absl::Seconds(60));
  uint64_t count() const;

 private:
  mutable absl::Mutex mu_;
  uint64_t count_ ABSL_GUARDED_BY(mu_) = 0;
};

// A thread that owns a MessageLoop and runs it until destroyed.
class LoopThread {
 public:
  LoopThread();
  ~LoopThread();  // Quits the loop and joins.

  // Runs `fn` on the thread and waits for it to return.
  void RunSync(std::function<void()> fn);
  std::thread::id id() const { return id_; }

 private:
  std::thread thread_;
  std::thread::id id_;
  MessageLoop* loop_ = nullptr;
  absl::Notification ready_;
};

// True when `n` is the resync signal the library synthesises for a
// non-table sink.
bool IsLostSignal(const Notification& n);

// Resident set size of this process, in bytes (from /proc/self/statm).
size_t CurrentRssBytes();

}  // namespace mapinotify::testing

#endif  // MAPINOTIFY_TESTS_INTEGRATION_TEST_UTIL_H_
