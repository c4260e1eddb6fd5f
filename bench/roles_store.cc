// The store roles: a client of the built-in message store through the
// public client API (MsgStore), and the sessions that watch its folder.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/flags/flag.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "bench/payload.h"
#include "bench/proc.h"
#include "bench/roles.h"
#include "mapinotify/advise_sink.h"
#include "mapinotify/progress.h"
#include "mapinotify/session.h"
#include "mapinotify/store.h"

namespace mapinotify::bench {

namespace {

// Counts the connections whose end marker arrived. Thread-safe.
class EndCounter {
 public:
  explicit EndCounter(int connections) : connections_(connections) {}

  void Ended() {
    absl::MutexLock lock(&mu_);
    ++ended_;
  }
  // True once every connection ended; false at `deadline`.
  bool WaitAll(absl::Time deadline) const {
    absl::MutexLock lock(&mu_);
    return mu_.AwaitWithDeadline(
        absl::Condition(
            +[](const EndCounter* c) ABSL_EXCLUSIVE_LOCKS_REQUIRED(c->mu_) {
              return c->ended_ >= c->connections_;
            },
            this),
        deadline);
  }

 private:
  const int connections_;
  mutable absl::Mutex mu_;
  int ended_ ABSL_GUARDED_BY(mu_) = 0;
};

// One watcher connection's sink: counts distinct fnevObjectCreated of
// messages in its folder until the end marker. Its counters are written
// only by OnNotify (one call at a time per connection) and read once the
// connection is unadvised.
class CreatedSink final : public AdviseSink {
 public:
  CreatedSink(EntryId folder, EndCounter* counter)
      : folder_(std::move(folder)), counter_(counter) {}

  void OnNotify(const NotificationBatch& batch) override {
    bool counted = false;
    for (size_t i = 0; i < batch.size(); ++i) {
      if (batch.sequence(i) == 0) {  // The library's resync signal.
        ++resyncs_;
        continue;
      }
      const Notification& n = batch[i];
      if (IsEndMarker(n) && !ended_) {
        ended_ = true;
        counter_->Ended();
        continue;
      }
      const ObjectNotification* object = n.object();
      if (!ended_ && n.event_type == fnevObjectCreated && object != nullptr &&
          object->object_type == MAPI_MESSAGE && object->parent_id == folder_ &&
          seen_.insert(object->entry_id).second) {
        ++received_;
        counted = true;
      } else {
        ++surplus_;
      }
    }
    if (counted) last_ns_ = MonotonicNanos();  // OnNotify returning.
  }

  uint64_t received_ = 0;
  uint64_t surplus_ = 0;
  uint64_t resyncs_ = 0;
  int64_t last_ns_ = 0;
  bool ended_ = false;

 private:
  const EntryId folder_;
  EndCounter* const counter_;
  absl::flat_hash_set<EntryId> seen_;
};

// The progress object of the copy row: BasicProgress's bookkeeping, plus
// how many calls it got and whether the value ever went down. Called on the
// thread blocked in CopyMessages only.
class RecordingProgress final : public BasicProgress {
 public:
  uint64_t calls() const { return calls_; }
  bool decreased() const { return decreased_; }

 protected:
  SCODE OnProgress(ULONG value, ULONG /*count*/, ULONG /*total*/) override {
    if (calls_ > 0 && value < last_) decreased_ = true;
    last_ = value;
    ++calls_;
    return S_OK;
  }

 private:
  uint64_t calls_ = 0;
  ULONG last_ = 0;
  bool decreased_ = false;
};

int Fail(const char* what, const absl::Status& status) {
  std::fprintf(stderr, "store_client: %s: %s\n", what,
               status.ToString().c_str());
  return 1;
}

// Prints "opened" and waits for the driver's go.
bool OpenedWaitForGo() {
  std::printf("opened\n");
  std::fflush(stdout);
  std::string line;
  return static_cast<bool>(std::getline(std::cin, line));
}

int SaveMessages(MsgStore& store, const EntryId& folder, uint64_t ops) {
  if (!OpenedWaitForGo()) return 1;
  const double cpu0 = SelfCpuSeconds();
  const int64_t first = MonotonicNanos();
  // The first and the last tenth of the saves, timed apart: the folder
  // grows during the run.
  const uint64_t tenth = ops / 10;
  int64_t first_tenth_end = 0, last_tenth_start = 0;
  uint64_t done = 0;
  absl::Status failed;
  for (; done < ops; ++done) {
    if (tenth > 0 && done == tenth) first_tenth_end = MonotonicNanos();
    if (tenth > 0 && done == ops - tenth) last_tenth_start = MonotonicNanos();
    absl::StatusOr<std::unique_ptr<Message>> message =
        store.CreateMessage(folder, 0);
    if (!message.ok()) {
      failed = message.status();
      break;
    }
    absl::StatusOr<std::vector<PropProblem>> problems = (*message)->SetProps(
        {PropValue{PR_SUBJECT, absl::StrCat("bench message ", done)}});
    if (!problems.ok() || !problems->empty()) {
      failed = problems.ok() ? absl::InternalError("SetProps: a problem")
                             : problems.status();
      break;
    }
    absl::StatusOr<EntryId> saved = (*message)->SaveChanges(0);
    if (!saved.ok()) {
      failed = saved.status();
      break;
    }
  }
  const int64_t last = MonotonicNanos();
  const double cpu = SelfCpuSeconds() - cpu0;
  if (!failed.ok()) Fail("save", failed);
  double first_rate = 0, last_rate = 0;
  if (failed.ok() && tenth > 0) {
    first_rate = static_cast<double>(tenth) * 1e9 /
                 static_cast<double>(first_tenth_end - first);
    last_rate = static_cast<double>(tenth) * 1e9 /
                static_cast<double>(last - last_tenth_start);
  }
  std::printf(
      "result ok=%d done=%llu seconds=%.6f first_ns=%lld last_ns=%lld "
      "cpu=%.6f first_rate=%.1f last_rate=%.1f\n",
      failed.ok() ? 1 : 0, static_cast<unsigned long long>(done),
      static_cast<double>(last - first) / 1e9, static_cast<long long>(first),
      static_cast<long long>(last), cpu, first_rate, last_rate);
  std::fflush(stdout);
  return failed.ok() ? 0 : 1;
}

int CopyAll(MsgStore& store, const EntryId& source, const EntryId& dest,
            uint64_t messages, bool with_progress) {
  // One operation over every message: CopyFolder of the source folder (its
  // messages, no subfolders) into `dest`. (CopyMessages takes at most 16,384
  // ids per call, store.proto.)
  RecordingProgress progress;
  if (!OpenedWaitForGo()) return 1;
  SCODE warning = S_OK;
  const double cpu0 = SelfCpuSeconds();
  const int64_t first = MonotonicNanos();
  absl::StatusOr<EntryId> copy =
      store.CopyFolder(store.ipm_subtree_id(), source, dest, "bench copy", 0,
                       &warning, with_progress ? &progress : nullptr);
  const int64_t last = MonotonicNanos();
  const double cpu = SelfCpuSeconds() - cpu0;
  if (!copy.ok()) return Fail("CopyFolder", copy.status());
  absl::StatusOr<std::vector<PropValue>> props =
      store.GetProps(*copy, {PR_CONTENT_COUNT});
  if (!props.ok()) return Fail("GetProps", props.status());
  const int32_t* count =
      props->empty() ? nullptr : std::get_if<int32_t>(&(*props)[0].value);
  // The progress object must end at its maximum, item N of N, having never
  // gone down.
  bool progress_ok = true;
  const ULONG n = static_cast<ULONG>(messages);
  if (with_progress &&
      (progress.value() != progress.GetMax() || progress.count() != n ||
       progress.total() != n || progress.decreased())) {
    std::fprintf(stderr,
                 "store_client: progress ended at value %lu of %lu, item %lu "
                 "of %lu (of %lu items); decreased=%d\n",
                 static_cast<unsigned long>(progress.value()),
                 static_cast<unsigned long>(progress.GetMax()),
                 static_cast<unsigned long>(progress.count()),
                 static_cast<unsigned long>(progress.total()),
                 static_cast<unsigned long>(n), progress.decreased() ? 1 : 0);
    progress_ok = false;
  }
  std::printf(
      "result ok=1 done=%llu seconds=%.6f first_ns=%lld last_ns=%lld cpu=%.6f "
      "calls=1 count=%d warning=%lld progress_calls=%llu progress_ok=%d\n",
      static_cast<unsigned long long>(messages),
      static_cast<double>(last - first) / 1e9, static_cast<long long>(first),
      static_cast<long long>(last), cpu, count == nullptr ? -1 : *count,
      static_cast<long long>(warning),
      static_cast<unsigned long long>(with_progress ? progress.calls() : 0),
      progress_ok ? 1 : 0);
  std::fflush(stdout);
  return 0;
}

}  // namespace

int RunWatchers() {
  const std::string target = absl::GetFlag(FLAGS_target);
  const int sessions = absl::GetFlag(FLAGS_sessions);
  const uint64_t expect = absl::GetFlag(FLAGS_expect);
  const EntryId folder = absl::HexStringToBytes(absl::GetFlag(FLAGS_folder));
  SessionOptions options;
  options.threading_model = ThreadingModel::kNotificationThread;
  options.max_queued_notifications_per_connection =
      static_cast<size_t>(absl::GetFlag(FLAGS_max_queued));
  options.max_queued_bytes_per_connection =
      static_cast<size_t>(absl::GetFlag(FLAGS_max_queued)) * 512;

  EndCounter counter(sessions);
  std::vector<std::shared_ptr<CreatedSink>> sinks;
  std::vector<std::unique_ptr<Session>> open;
  for (int s = 0; s < sessions; ++s) {
    absl::StatusOr<std::unique_ptr<Session>> session =
        Session::Open(target, options);
    if (!session.ok()) {
      std::fprintf(stderr, "watchers: open: %s\n",
                   session.status().ToString().c_str());
      return 1;
    }
    auto sink = std::make_shared<CreatedSink>(folder, &counter);
    absl::StatusOr<ConnectionId> connection = (*session)->Advise(
        AdviseTarget::Entry(folder), fnevObjectCreated | fnevExtended, sink);
    if (!connection.ok()) {
      std::fprintf(stderr, "watchers: advise: %s\n",
                   connection.status().ToString().c_str());
      return 1;
    }
    sinks.push_back(std::move(sink));
    open.push_back(*std::move(session));
  }
  std::printf("advised\n");
  std::fflush(stdout);

  counter.WaitAll(absl::Now() + absl::Seconds(absl::GetFlag(FLAGS_deadline_s)));
  const int tcp = CountTcpConnections(target);
  open.clear();  // Unadvises everything: no sink runs after this.

  uint64_t received = 0, missing = 0, surplus = 0, resyncs = 0;
  int unfinished = 0;
  int64_t last = 0;
  for (const auto& sink : sinks) {
    received += sink->received_;
    if (sink->received_ < expect) missing += expect - sink->received_;
    surplus += sink->surplus_;
    resyncs += sink->resyncs_;
    if (!sink->ended_) ++unfinished;
    if (sink->last_ns_ > last) last = sink->last_ns_;
  }
  std::printf(
      "result received=%llu missing=%llu surplus=%llu resyncs=%llu "
      "unfinished=%d last_ns=%lld tcp=%d\n",
      static_cast<unsigned long long>(received),
      static_cast<unsigned long long>(missing),
      static_cast<unsigned long long>(surplus),
      static_cast<unsigned long long>(resyncs), unfinished,
      static_cast<long long>(last), tcp);
  std::fflush(stdout);
  return 0;
}

int RunStoreClient() {
  const std::string op = absl::GetFlag(FLAGS_store_op);
  if (op != "save" && op != "copy") {
    std::fprintf(stderr, "store_client: --store_op must be save or copy\n");
    return 2;
  }
  SessionOptions options;
  // A long copy may take longer than the default.
  options.store_call_timeout = absl::Seconds(absl::GetFlag(FLAGS_deadline_s));
  absl::StatusOr<std::unique_ptr<Session>> session =
      Session::Open(absl::GetFlag(FLAGS_target), options);
  if (!session.ok()) return Fail("open", session.status());
  absl::StatusOr<std::unique_ptr<MsgStore>> store = (*session)->OpenMsgStore();
  if (!store.ok()) return Fail("OpenMsgStore", store.status());
  const EntryId folder = absl::HexStringToBytes(absl::GetFlag(FLAGS_folder));
  const uint64_t ops = absl::GetFlag(FLAGS_ops);
  if (op == "save") return SaveMessages(**store, folder, ops);
  return CopyAll(**store, folder,
                 absl::HexStringToBytes(absl::GetFlag(FLAGS_dest)), ops,
                 absl::GetFlag(FLAGS_progress));
}

}  // namespace mapinotify::bench
