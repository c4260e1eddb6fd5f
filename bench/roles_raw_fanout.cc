// The fan-out baseline's roles: a bare gRPC callback-API server that writes
// every notification of a paced publisher to every subscribed stream, and
// its reader, with no mapinotify code in between. What a straightforward
// gRPC service does for the same fan-out, so that the fan-out rows'
// latency can be read against what gRPC itself gives on the same machine.
#include <grpcpp/grpcpp.h>
#include <sys/prctl.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "bench/batch_tally.h"
#include "bench/payload.h"
#include "bench/proc.h"
#include "bench/roles.h"
#include "bench/stats.h"
#include "raw_stream.grpc.pb.h"  // Generated from bench/raw_stream.proto.

namespace mapinotify::bench {

namespace {

// As mapinotify's outbox (Outbox::Options): at most this many notifications
// per message, and a bounded queue per stream.
constexpr size_t kMaxBatch = 256;
constexpr size_t kMaxQueued = 65536;
// Connection ids a stream may ask for.
constexpr uint32_t kMaxConnections = 65536;

// One subscriber's stream. The publisher pushes shared notifications; one
// write is in flight at a time, and what queued meanwhile is copied into
// the next message (its elements reused from message to message). The first
// write is an empty batch: the subscription is in place. Owned by the
// service, which outlives the gRPC server; finishes once when the call is
// cancelled or a write fails, never with a write in flight.
class FanoutWriter final
    : public grpc::ServerWriteReactor<v1::NotificationBatch> {
 public:
  // Each Delivered is written with connection ids 1..`connections` (at
  // least 1, at most kMaxConnections).
  explicit FanoutWriter(uint32_t connections) {
    connections = std::clamp<uint32_t>(connections, 1, kMaxConnections);
    for (uint32_t c = 1; c <= connections; ++c) {
      connections_.push_back(c);
    }
    {
      absl::MutexLock lock(&mu_);
      writing_ = true;
    }
    StartWrite(&message_);
  }

  // Queues `d`; dropped (and missing at the client) past kMaxQueued or
  // once the stream is finishing. Thread-safe.
  void Push(const std::shared_ptr<const v1::Delivered>& d) {
    {
      absl::MutexLock lock(&mu_);
      if (finishing_ || queue_.size() >= kMaxQueued) return;
      queue_.push_back(d);
      if (writing_) return;
      TakeLocked();
    }
    StartWrite(&message_);
  }

  void OnWriteDone(bool ok) override {
    bool write = false;
    bool finish = false;
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      if (!ok) finishing_ = true;
      if (finishing_) {
        finish = !finished_;
        finished_ = true;
      } else if (!queue_.empty()) {
        TakeLocked();
        write = true;
      }
    }
    if (write) StartWrite(&message_);
    if (finish) Finish(grpc::Status(grpc::StatusCode::CANCELLED, "ended"));
  }

  void OnCancel() override {
    bool finish = false;
    {
      absl::MutexLock lock(&mu_);
      finishing_ = true;
      queue_.clear();
      if (!writing_ && !finished_) finish = finished_ = true;
    }
    if (finish) Finish(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
  }

  void OnDone() override {}

 private:
  // Moves up to kMaxBatch queued notifications into message_ and marks the
  // write in flight.
  void TakeLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    message_.mutable_notifications()->Clear();  // Keeps the elements.
    for (size_t n = 0; n < kMaxBatch && !queue_.empty(); ++n) {
      v1::Delivered* d = message_.add_notifications();
      *d = *queue_.front();
      if (connections_.size() > 1) {
        d->mutable_connections()->Clear();
        d->mutable_connections()->Add(connections_.begin(), connections_.end());
      }
      queue_.pop_front();
    }
    writing_ = true;
  }

  std::vector<uint64_t> connections_;  // Constant after construction.
  absl::Mutex mu_;
  std::deque<std::shared_ptr<const v1::Delivered>> queue_ ABSL_GUARDED_BY(mu_);
  // Written only while no write is in flight (under mu_, by whoever sets
  // writing_), read by gRPC during the write.
  v1::NotificationBatch message_;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finishing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

class FanoutService final : public RawFanout::CallbackService {
 public:
  grpc::ServerWriteReactor<v1::NotificationBatch>* Subscribe(
      grpc::CallbackServerContext* /*context*/,
      const RawFanoutRequest* request) override {
    auto writer = std::make_unique<FanoutWriter>(request->connections());
    FanoutWriter* out = writer.get();
    absl::MutexLock lock(&mu_);
    writers_.push_back(std::move(writer));
    return out;
  }

  std::vector<FanoutWriter*> Writers() {
    absl::MutexLock lock(&mu_);
    std::vector<FanoutWriter*> out;
    for (const auto& w : writers_) out.push_back(w.get());
    return out;
  }

 private:
  absl::Mutex mu_;
  std::vector<std::unique_ptr<FanoutWriter>> writers_ ABSL_GUARDED_BY(mu_);
};

// As the server role's Publish: `count` notifications at `rate` per second
// (each stamped just before it is pushed), then the end marker, to every
// stream subscribed now. Returns the publishing time in seconds.
double Publish(FanoutService* service, uint64_t count, uint64_t rate) {
  const std::vector<FanoutWriter*> writers = service->Writers();
  auto delivered = [](uint64_t sequence, v1::Notification n) {
    auto d = std::make_shared<v1::Delivered>();
    d->set_sequence(sequence);
    d->add_connections(1);
    *d->mutable_notification() = std::move(n);
    d->set_ends_batch(true);
    return std::shared_ptr<const v1::Delivered>(std::move(d));
  };
  const int64_t start = MonotonicNanos();
  for (uint64_t i = 0; i < count; ++i) {
    if (rate > 0) {
      SleepUntil(start + static_cast<int64_t>(i * 1000000000.0 /
                                              static_cast<double>(rate)));
    }
    const auto d = delivered(i + 1, ObjectModified(i, MonotonicNanos()));
    for (FanoutWriter* w : writers) w->Push(d);
  }
  const int64_t end = MonotonicNanos();
  const auto marker = delivered(count + 1, EndMarker());
  for (FanoutWriter* w : writers) w->Push(marker);
  return static_cast<double>(end - start) / 1e9;
}

// Reads one RawFanout.Subscribe call: ready at its first (empty) message.
class FanoutReader final
    : public TallyingReader<grpc::ClientReadReactor<v1::NotificationBatch>> {
 public:
  // `connections`: as RawFanoutRequest.connections; every notification
  // counts (and is timed) once per connection id it carries.
  FanoutReader(RawFanout::Stub* stub, uint32_t connections,
               absl::BlockingCounter* ready, absl::BlockingCounter* ended)
      : TallyingReader(ready, ended) {
    request_.set_connections(connections);
    stub->async()->Subscribe(&context_, &request_, this);
    StartRead(&message_);
    StartCall();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // OnDone follows.
    tally_.Ready();
    tally_.Add(message_);
    if (!tally_.ended()) StartRead(&message_);
  }

 private:
  RawFanoutRequest request_;
  v1::NotificationBatch message_;
};

}  // namespace

int RunRawFanoutServer() {
  // Paced publishing wakes every millisecond: ask for exact wake-ups.
  prctl(PR_SET_TIMERSLACK, 1UL);
  FanoutService service;  // Outlives the server (declared first).
  std::unique_ptr<grpc::Server> server =
      StartLoopbackServer(&service, "raw_fanout_server");
  if (server == nullptr) return 1;
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.rfind("publish", 0) == 0) {
      const auto fields = ParseFields(line);
      const double seconds = Publish(&service, FieldOr(fields, "count", 0),
                                     FieldOr(fields, "rate", 0));
      std::printf("published seconds=%.6f\n", seconds);
    } else {
      std::printf("error unknown command: %s\n", line.c_str());
    }
    std::fflush(stdout);
  }
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  server->Wait();
  return 0;
}

int RunRawFanoutClient() {
  const std::string target = absl::GetFlag(FLAGS_target);
  const uint32_t connections =
      static_cast<uint32_t>(std::max(1, absl::GetFlag(FLAGS_connections)));
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(4 << 20);
  std::shared_ptr<grpc::Channel> channel = grpc::CreateCustomChannel(
      target, grpc::InsecureChannelCredentials(), args);
  std::unique_ptr<RawFanout::Stub> stub = RawFanout::NewStub(channel);
  // Per call: each of its connections expects --expect.
  return RunReaders<FanoutReader>(
      target, absl::GetFlag(FLAGS_sessions),
      absl::GetFlag(FLAGS_expect) * connections,
      [&](absl::BlockingCounter* ready, absl::BlockingCounter* ended) {
        return std::make_unique<FanoutReader>(stub.get(), connections, ready,
                                              ended);
      });
}

}  // namespace mapinotify::bench
