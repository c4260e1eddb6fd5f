// The client role: real sessions through the public client API, counting
// (and optionally timing) what their sinks receive.
#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "bench/payload.h"
#include "bench/roles.h"
#include "bench/stats.h"
#include "mapinotify/advise_sink.h"
#include "mapinotify/message_loop.h"
#include "mapinotify/session.h"

namespace mapinotify::bench {

namespace {

// Counts the connections whose end marker arrived. Thread-safe.
class Tracker {
 public:
  explicit Tracker(int connections) : connections_(connections) {}

  void Done() {
    MessageLoop* quit = nullptr;
    {
      absl::MutexLock lock(&mu_);
      ++done_;
      if (done_ == connections_) quit = quit_loop_;
    }
    if (quit != nullptr) quit->Quit();
  }
  // Makes Done() quit `loop` when the last connection ends.
  void QuitWhenDone(MessageLoop* loop) {
    absl::MutexLock lock(&mu_);
    quit_loop_ = loop;
  }
  bool AllDone() const {
    absl::MutexLock lock(&mu_);
    return done_ == connections_;
  }
  bool WaitAll(absl::Time deadline) const {
    absl::MutexLock lock(&mu_);
    return mu_.AwaitWithDeadline(
        absl::Condition(
            +[](const Tracker* t) ABSL_EXCLUSIVE_LOCKS_REQUIRED(t->mu_) {
              return t->done_ == t->connections_;
            },
            this),
        deadline);
  }

 private:
  const int connections_;
  mutable absl::Mutex mu_;
  int done_ ABSL_GUARDED_BY(mu_) = 0;
  MessageLoop* quit_loop_ ABSL_GUARDED_BY(mu_) = nullptr;
};

// One connection's sink. Its counters are written only by OnNotify (one
// call at a time per connection) and read once the connection is unadvised.
class BenchSink final : public AdviseSink {
 public:
  BenchSink(Tracker* tracker, bool record)
      : tracker_(tracker), record_(record) {}

  // The clock is read only where a figure needs it, as the raw baseline
  // reads it once per message: on the first counted call (the start), per
  // call when latency is recorded, and at the end marker (the end: by the
  // per-connection order, every counted call has returned by then).
  void OnNotify(const NotificationBatch& batch) override {
    const int64_t now = record_ || first_ns_ == 0 ? MonotonicNanos() : 0;
    bool ended = false;
    uint64_t counted = 0;
    for (size_t i = 0; i < batch.size(); ++i) {
      if (batch.sequence(i) == 0) {  // The library's resync signal.
        ++resyncs_;
        continue;
      }
      const Notification& n = batch[i];
      if (IsEndMarker(n)) {
        ended = true;
        continue;
      }
      ++counted;
      if (record_) histogram_.Add(now - StampOf(n));
    }
    if (counted > 0) {
      received_ += counted;
      if (first_ns_ == 0) first_ns_ = now;
    }
    if (ended && !ended_) {
      ended_ = true;
      if (received_ > 0) last_ns_ = MonotonicNanos();
      tracker_->Done();
    }
  }

  uint64_t received_ = 0;
  uint64_t resyncs_ = 0;
  int64_t first_ns_ = 0;
  int64_t last_ns_ = 0;
  bool ended_ = false;
  Histogram histogram_;

 private:
  Tracker* const tracker_;
  const bool record_;
};

// A thread that owns a MessageLoop and runs it until destroyed.
class LoopThread {
 public:
  LoopThread() {
    thread_ = std::thread([this] {
      MessageLoop loop;
      loop_ = &loop;
      ready_.Notify();
      loop.Run();
    });
    ready_.WaitForNotification();
  }
  ~LoopThread() {
    loop_->Quit();
    thread_.join();
  }
  // Runs `fn` on the loop's thread and waits for it.
  void RunSync(const std::function<void()>& fn) {
    absl::Notification done;
    absl::Status posted = loop_->PostTask([&] {
      fn();
      done.Notify();
    });
    if (!posted.ok()) {
      std::fprintf(stderr, "client: %s\n", posted.ToString().c_str());
      std::abort();
    }
    done.WaitForNotification();
  }

 private:
  std::thread thread_;
  MessageLoop* loop_ = nullptr;
  absl::Notification ready_;
};

// Ignores everything (the scale role's connections watch targets nobody
// publishes to).
class NullSink final : public AdviseSink {
 public:
  void OnNotify(const NotificationBatch& /*batch*/) override {}
};

// The scale role (--advises > 0): opens --sessions kInitThread sessions
// (their loop is never pumped: nothing is published to their targets),
// prints "opened", waits for a line on stdin, advises --advises connections
// per session, each on its own entry target, from a few threads, prints
// "advised", and exits when stdin closes.
int RunScaleClient(const std::string& target, int sessions, int advises) {
  MessageLoop loop;
  SessionOptions options;
  options.threading_model = ThreadingModel::kInitThread;
  std::vector<std::unique_ptr<Session>> open;
  for (int s = 0; s < sessions; ++s) {
    absl::StatusOr<std::unique_ptr<Session>> session =
        Session::Open(target, options);
    if (!session.ok()) {
      std::fprintf(stderr, "client: open: %s\n",
                   session.status().ToString().c_str());
      return 1;
    }
    open.push_back(*std::move(session));
  }
  std::printf("opened\n");
  std::fflush(stdout);
  std::string line;
  if (!std::getline(std::cin, line)) return 1;

  auto sink = std::make_shared<NullSink>();
  constexpr int kThreads = 8;
  std::vector<std::thread> threads;
  absl::Mutex mu;
  absl::Status failed;
  const long pid = static_cast<long>(getpid());
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int s = t; s < sessions; s += kThreads) {
        for (int k = 0; k < advises; ++k) {
          absl::StatusOr<ConnectionId> c = open[s]->Advise(
              AdviseTarget::Entry(absl::StrCat("scale/", pid, "/", s, "/", k)),
              fnevObjectModified, sink);
          if (!c.ok()) {
            absl::MutexLock lock(&mu);
            failed = c.status();
            return;
          }
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  if (!failed.ok()) {
    std::fprintf(stderr, "client: advise: %s\n", failed.ToString().c_str());
    return 1;
  }
  std::printf("advised\n");
  std::fflush(stdout);
  while (std::getline(std::cin, line)) {
  }
  return 0;
}

}  // namespace

// How many connections the sessions' channels really opened: gRPC shares a
// subchannel between channels with equal arguments.
int CountTcpConnections(const std::string& target) {
  int port = 0;
  const size_t colon = target.rfind(':');
  if (colon != std::string::npos) {
    (void)absl::SimpleAtoi(target.substr(colon + 1), &port);
  }
  absl::flat_hash_set<std::string> inodes;
  char want[16];
  std::snprintf(want, sizeof(want), ":%04X", port);
  // gRPC dials 127.0.0.1 from a dual-stack socket: it may be in tcp6.
  for (const char* table : {"/proc/self/net/tcp", "/proc/self/net/tcp6"}) {
    std::ifstream tcp(table);
    std::string line;
    std::getline(tcp, line);  // Header.
    while (std::getline(tcp, line)) {
      std::istringstream in(line);
      std::string slot, local, remote, state, queues, timer, retr, uid, timeout,
          inode;
      in >> slot >> local >> remote >> state >> queues >> timer >> retr >>
          uid >> timeout >> inode;
      if (state == "01" && remote.size() > 5 &&
          remote.compare(remote.size() - 5, 5, want) == 0) {
        inodes.insert(absl::StrCat("socket:[", inode, "]"));
      }
    }
  }
  int count = 0;
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  while (dirent* entry = readdir(dir)) {
    char target[256];
    const std::string path = absl::StrCat("/proc/self/fd/", entry->d_name);
    const ssize_t n = readlink(path.c_str(), target, sizeof(target) - 1);
    if (n <= 0) continue;
    if (inodes.contains(std::string(target, static_cast<size_t>(n)))) ++count;
  }
  closedir(dir);
  return count;
}

void ClientResult::Add(uint64_t got, uint64_t expect, uint64_t resynced,
                       bool ended, int64_t first, int64_t last,
                       const Histogram& h) {
  received += got;
  if (got < expect) missing += expect - got;
  resyncs += resynced;
  if (!ended) ++unfinished;
  if (first != 0 && (first_ns == 0 || first < first_ns)) first_ns = first;
  last_ns = std::max(last_ns, last);
  histogram.Merge(h);
}

void ClientResult::Print(int tcp) const {
  std::printf(
      "result received=%llu missing=%llu resyncs=%llu unfinished=%d "
      "first_ns=%lld last_ns=%lld tcp=%d hist=%s\n",
      static_cast<unsigned long long>(received),
      static_cast<unsigned long long>(missing),
      static_cast<unsigned long long>(resyncs), unfinished,
      static_cast<long long>(first_ns), static_cast<long long>(last_ns), tcp,
      histogram.Serialize().c_str());
  std::fflush(stdout);
}

int RunClient() {
  const std::string target = absl::GetFlag(FLAGS_target);
  const std::string model = absl::GetFlag(FLAGS_model);
  const int sessions = absl::GetFlag(FLAGS_sessions);
  const int per_session = std::max(1, absl::GetFlag(FLAGS_connections));
  const uint64_t expect = absl::GetFlag(FLAGS_expect);
  const uint64_t max_queued = absl::GetFlag(FLAGS_max_queued);
  const bool record = absl::GetFlag(FLAGS_record_latency);
  if (absl::GetFlag(FLAGS_advises) > 0) {
    return RunScaleClient(target, sessions, absl::GetFlag(FLAGS_advises));
  }
  if (model != "notify" && model != "init" && model != "wrapped") {
    std::fprintf(stderr, "client: --model must be notify, init or wrapped\n");
    return 2;
  }

  // kInitThread: this thread's loop; wrapped sinks: a loop thread's.
  std::unique_ptr<MessageLoop> main_loop;
  std::unique_ptr<LoopThread> loop_thread;
  if (model == "init") main_loop = std::make_unique<MessageLoop>();
  if (model == "wrapped") loop_thread = std::make_unique<LoopThread>();

  SessionOptions options;
  options.threading_model = model == "init"
                                ? ThreadingModel::kInitThread
                                : ThreadingModel::kNotificationThread;
  options.max_queued_notifications_per_connection = max_queued;
  options.max_queued_bytes_per_connection = max_queued * 512;

  Tracker tracker(sessions * per_session);
  if (main_loop != nullptr) tracker.QuitWhenDone(main_loop.get());
  std::vector<std::shared_ptr<BenchSink>> sinks;
  std::vector<std::unique_ptr<Session>> open;
  for (int s = 0; s < sessions; ++s) {
    absl::StatusOr<std::unique_ptr<Session>> session =
        Session::Open(target, options);
    if (!session.ok()) {
      std::fprintf(stderr, "client: open: %s\n",
                   session.status().ToString().c_str());
      return 1;
    }
    for (int k = 0; k < per_session; ++k) {
      auto sink = std::make_shared<BenchSink>(&tracker, record);
      std::shared_ptr<AdviseSink> advised = sink;
      if (loop_thread != nullptr) {
        absl::Status wrapped_status;
        loop_thread->RunSync([&] {
          absl::StatusOr<std::shared_ptr<AdviseSink>> wrapped =
              ThisThreadAdviseSink(sink);
          wrapped_status = wrapped.status();
          if (wrapped.ok()) advised = *wrapped;
        });
        if (!wrapped_status.ok()) {
          std::fprintf(stderr, "client: wrap: %s\n",
                       wrapped_status.ToString().c_str());
          return 1;
        }
      }
      absl::StatusOr<ConnectionId> connection = (*session)->Advise(
          AdviseTarget::Entry(FolderEntryId()), kFolderEventMask, advised);
      if (!connection.ok()) {
        std::fprintf(stderr, "client: advise: %s\n",
                     connection.status().ToString().c_str());
        return 1;
      }
      sinks.push_back(std::move(sink));
    }
    open.push_back(*std::move(session));
  }
  std::printf("advised\n");
  std::fflush(stdout);

  const absl::Time deadline =
      absl::Now() + absl::Seconds(absl::GetFlag(FLAGS_deadline_s));
  if (main_loop != nullptr) {
    while (!tracker.AllDone() && absl::Now() < deadline) {
      main_loop->RunFor(deadline - absl::Now());
    }
  } else {
    tracker.WaitAll(deadline);
  }
  const int tcp = CountTcpConnections(target);
  // Unadvise everything (no sink runs after this), then read the sinks.
  open.clear();

  ClientResult result;
  for (const auto& sink : sinks) {
    result.Add(sink->received_, expect, sink->resyncs_, sink->ended_,
               sink->first_ns_, sink->last_ns_, sink->histogram_);
  }
  result.Print(tcp);
  return 0;
}

}  // namespace mapinotify::bench
