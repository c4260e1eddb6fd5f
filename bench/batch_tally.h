// What the client roles that read the wire themselves (the bare gRPC
// fan-out reader and the generated-stub reader) share: counting and timing
// the notifications of v1.NotificationBatch messages as the benchmark sink
// does for the client library, each call's bookkeeping, and the role's
// driver.
#ifndef MAPINOTIFY_BENCH_BATCH_TALLY_H_
#define MAPINOTIFY_BENCH_BATCH_TALLY_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/notification.h"
#include "bench/roles.h"
#include "bench/stats.h"
#include "mapinotify/v1/notifications.pb.h"

namespace mapinotify::bench {

// One call's figures, and its place in the role's two countdowns: `ready`
// counts down once, at the call's first answer (or its end); `ended` once,
// at the end marker (or the end of a call without it). Thread-compatible:
// a call's reactions never overlap, and the figures are read after `ended`.
class BatchTally {
 public:
  BatchTally(absl::BlockingCounter* ready, absl::BlockingCounter* ended)
      : ready_(ready), ended_(ended) {}

  // The call got its first answer (idempotent).
  void Ready();
  // Counts `batch` (the clock read once, as the raw baseline reads it once
  // per message), each notification once per connection id it carries.
  void Add(const v1::NotificationBatch& batch);
  // The end marker came (or, after Done, the call ended without it): the
  // call need not read again.
  bool ended() const { return ended_seen_; }
  // From OnDone: the call is over.
  void Done();
  // Adds this call to `result`, as a connection expected to get `expect`.
  void AddTo(uint64_t expect, ClientResult* result) const;

 private:
  absl::BlockingCounter* const ready_;
  absl::BlockingCounter* const ended_;
  bool ready_seen_ = false;
  bool ended_seen_ = false;  // `ended` counted down (marker or Done).
  bool unfinished_ = false;  // The call ended without the marker.
  uint64_t received_ = 0;
  int64_t first_ns_ = 0;  // Clock at the first message that counted.
  int64_t last_ns_ = 0;   // Clock at the end marker.
  Histogram histogram_;   // Publish to receipt, once per connection id.
};

// A reader reactor's ending, on top of the gRPC reactor `Reactor`
// (grpc::ClientReadReactor or grpc::ClientBidiReactor): its tally, its
// call's context, OnDone and Stop. The reader starts its call on context_.
template <typename Reactor>
class TallyingReader : public Reactor {
 public:
  TallyingReader(absl::BlockingCounter* ready, absl::BlockingCounter* ended)
      : tally_(ready, ended) {}

  void OnDone(const grpc::Status& /*status*/) override {
    tally_.Done();
    done_.Notify();
  }

  // Cancels the call (the server then finishes it) and waits for OnDone.
  void Stop() {
    context_.TryCancel();
    done_.WaitForNotification();
  }

  const BatchTally& tally() const { return tally_; }

 protected:
  BatchTally tally_;
  grpc::ClientContext context_;

 private:
  absl::Notification done_;
};

// The role's driver: makes `streams` readers (TallyingReaders) with
// make(&ready, &ended), prints
// "advised" once every call is ready, waits for every call to end, stops
// them and prints the client role's result line (resyncs always 0), each
// call expected to get `expect`.
template <typename Reader, typename Make>
int RunReaders(const std::string& target, int streams, uint64_t expect,
               Make make) {
  absl::BlockingCounter ready(streams);
  absl::BlockingCounter ended(streams);
  std::vector<std::unique_ptr<Reader>> readers;
  for (int i = 0; i < streams; ++i) readers.push_back(make(&ready, &ended));
  ready.Wait();
  std::printf("advised\n");
  std::fflush(stdout);
  ended.Wait();
  const int tcp = CountTcpConnections(target);
  for (auto& reader : readers) reader->Stop();
  ClientResult result;
  for (const auto& reader : readers) reader->tally().AddTo(expect, &result);
  result.Print(tcp);
  return 0;
}

}  // namespace mapinotify::bench

#endif  // MAPINOTIFY_BENCH_BATCH_TALLY_H_
