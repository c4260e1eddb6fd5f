// The baseline roles: a bare gRPC callback-API server stream and its reader,
// with no mapinotify code in between.
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/synchronization/notification.h"
#include "bench/payload.h"
#include "bench/roles.h"
#include "raw_stream.grpc.pb.h"  // Generated from bench/raw_stream.proto.

namespace mapinotify::bench {

namespace {

// Writes one stream: one write in flight, the next started from
// OnWriteDone, as route_guide's callback example does. `Message` is the one
// response every write sends. Deletes itself in OnDone.
template <typename Message>
class RawWriter final : public grpc::ServerWriteReactor<Message> {
 public:
  RawWriter(Message message, uint64_t messages, bool hint)
      : hint_(hint), message_(std::move(message)), messages_(messages) {
    Next();
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      this->Finish(grpc::Status(grpc::StatusCode::CANCELLED, "write failed"));
      return;
    }
    Next();
  }
  void OnDone() override { delete this; }

 private:
  void Next() {
    if (sent_ == messages_) {
      this->Finish(grpc::Status::OK);
      return;
    }
    ++sent_;
    grpc::WriteOptions options;
    // Never on the first write (DESIGN.md section 8), nor on the last, which
    // nothing would flush.
    if (hint_ && sent_ > 1 && sent_ < messages_) options.set_buffer_hint();
    this->StartWrite(&message_, options);
  }

  const bool hint_;
  const Message message_;
  const uint64_t messages_;
  uint64_t sent_ = 0;
};

uint32_t PerMessage(const RawStreamRequest& request) {
  return request.per_message() == 0 ? 1 : request.per_message();
}

uint64_t Messages(const RawStreamRequest& request) {
  return (request.count() + PerMessage(request) - 1) / PerMessage(request);
}

class RawService final : public RawStream::CallbackService {
 public:
  grpc::ServerWriteReactor<v1::NotificationBatch>* Stream(
      grpc::CallbackServerContext* /*context*/,
      const RawStreamRequest* request) override {
    // mapinotify's wire shape: Delivered {sequence, connection, the
    // notification, ends_batch}.
    v1::NotificationBatch batch;
    for (uint32_t i = 0; i < PerMessage(*request); ++i) {
      v1::Delivered* d = batch.add_notifications();
      d->set_sequence(1000000 + i);
      d->add_connections(1);
      *d->mutable_notification() = ObjectModified(i, MonotonicNanos());
      d->set_ends_batch(true);
    }
    return new RawWriter<v1::NotificationBatch>(
        std::move(batch), Messages(*request), request->buffer_hint());
  }

  grpc::ServerWriteReactor<RawChunk>* StreamOpaque(
      grpc::CallbackServerContext* /*context*/,
      const RawStreamRequest* request) override {
    const std::string payload =
        ObjectModified(1, MonotonicNanos()).SerializeAsString();
    RawChunk chunk;
    for (uint32_t i = 0; i < PerMessage(*request); ++i) {
      chunk.add_notifications(payload);
    }
    return new RawWriter<RawChunk>(std::move(chunk), Messages(*request),
                                   request->buffer_hint());
  }
};

size_t CountOf(const v1::NotificationBatch& m) {
  return static_cast<size_t>(m.notifications_size());
}
size_t CountOf(const RawChunk& m) {
  return static_cast<size_t>(m.notifications_size());
}

// Reads one stream, counting notifications and timing them from the first
// message to the last.
template <typename Message>
class RawReader final : public grpc::ClientReadReactor<Message> {
 public:
  // Starts the call; `start` is the stub's async method.
  template <typename Start>
  RawReader(RawStreamRequest request, Start start)
      : request_(std::move(request)) {
    start(&context_, &request_, this);
    this->StartRead(&message_);
    this->StartCall();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // OnDone follows.
    const int64_t now = MonotonicNanos();
    const uint64_t n = CountOf(message_);
    if (received_ == 0) {
      first_ns_ = now;
      first_count_ = n;
    }
    last_ns_ = now;
    received_ += n;
    this->StartRead(&message_);
  }
  void OnDone(const grpc::Status& status) override {
    status_ = status;
    done_.Notify();
  }

  // Blocks until the call ended and prints the result. The rate excludes
  // the first message (its arrival is the start).
  void Report() {
    done_.WaitForNotification();
    const double seconds = static_cast<double>(last_ns_ - first_ns_) / 1e9;
    const double rate =
        seconds > 0 ? static_cast<double>(received_ - first_count_) / seconds
                    : 0;
    std::printf("result received=%llu rate=%.0f ok=%d\n",
                static_cast<unsigned long long>(received_), rate,
                status_.ok() ? 1 : 0);
    if (!status_.ok()) {
      std::fprintf(stderr, "raw_client: %s\n", status_.error_message().c_str());
    }
    std::fflush(stdout);
  }

 private:
  grpc::ClientContext context_;
  RawStreamRequest request_;
  Message message_;
  // Written by gRPC's callbacks, read after done_.
  uint64_t received_ = 0;
  uint64_t first_count_ = 0;
  int64_t first_ns_ = 0;
  int64_t last_ns_ = 0;
  grpc::Status status_;
  absl::Notification done_;
};

}  // namespace

std::unique_ptr<grpc::Server> StartLoopbackServer(grpc::Service* service,
                                                  const char* role) {
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                           &port);
  builder.RegisterService(service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::fprintf(stderr, "%s: cannot listen\n", role);
    return nullptr;
  }
  std::printf("ready port=%d\n", port);
  std::fflush(stdout);
  return server;
}

int RunRawServer() {
  RawService service;
  std::unique_ptr<grpc::Server> server =
      StartLoopbackServer(&service, "raw_server");
  if (server == nullptr) return 1;
  std::string line;
  while (std::getline(std::cin, line)) {
  }
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  server->Wait();
  return 0;
}

int RunRawClient() {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(4 << 20);
  std::shared_ptr<grpc::Channel> channel = grpc::CreateCustomChannel(
      absl::GetFlag(FLAGS_target), grpc::InsecureChannelCredentials(), args);
  std::unique_ptr<RawStream::Stub> stub = RawStream::NewStub(channel);
  RawStreamRequest request;
  request.set_count(absl::GetFlag(FLAGS_raw_count));
  request.set_per_message(absl::GetFlag(FLAGS_per_message));
  request.set_buffer_hint(absl::GetFlag(FLAGS_buffer_hint));
  RawStream::Stub::async_interface* async = stub->async();
  if (absl::GetFlag(FLAGS_opaque)) {
    RawReader<RawChunk> reader(
        std::move(request), [async](auto* context, auto* req, auto* reactor) {
          async->StreamOpaque(context, req, reactor);
        });
    reader.Report();
  } else {
    RawReader<v1::NotificationBatch> reader(
        std::move(request), [async](auto* context, auto* req, auto* reactor) {
          async->Stream(context, req, reactor);
        });
    reader.Report();
  }
  return 0;
}

}  // namespace mapinotify::bench
