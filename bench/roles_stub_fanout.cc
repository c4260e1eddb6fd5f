// The stub fan-out client: mapinotify's server read by the generated stub
// alone, with no client library in between (no MAPI values, no dispatch to
// sinks, no thread hop), so that the fan-out rows can tell the server's
// part of the latency from the client library's and from the client
// processes' share of the machine.
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/synchronization/blocking_counter.h"
#include "bench/batch_tally.h"
#include "bench/payload.h"
#include "bench/roles.h"
#include "mapinotify/v1/notifications.grpc.pb.h"

namespace mapinotify::bench {

namespace {

// One Subscribe call that advises connection 1 on the benchmark folder with
// the client role's mask and then reads until the end marker: ready at the
// advise's answer.
class StubReader final
    : public TallyingReader<grpc::ClientBidiReactor<v1::SubscribeRequest,
                                                    v1::SubscribeResponse>> {
 public:
  StubReader(v1::Notifications::Stub* stub, absl::BlockingCounter* ready,
             absl::BlockingCounter* ended)
      : TallyingReader(ready, ended) {
    v1::AdviseRequest* advise = request_.mutable_advise();
    advise->set_connection(1);
    advise->mutable_target()->set_entry_id(FolderEntryId());
    advise->set_event_mask(kFolderEventMask);
    stub->async()->Subscribe(&context_, this);
    StartWrite(&request_);
    StartRead(&response_);
    StartCall();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // OnDone follows.
    if (response_.has_advised()) {
      tally_.Ready();
      if (response_.advised().status().code() != 0) {
        // Refused: nothing will come; the call ends unfinished.
        context_.TryCancel();
        return;
      }
    } else if (response_.has_batch()) {
      tally_.Add(response_.batch());
    }
    if (!tally_.ended()) StartRead(&response_);
  }

 private:
  v1::SubscribeRequest request_;
  v1::SubscribeResponse response_;
};

}  // namespace

int RunStubFanoutClient() {
  const std::string target = absl::GetFlag(FLAGS_target);
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(4 << 20);
  std::shared_ptr<grpc::Channel> channel = grpc::CreateCustomChannel(
      target, grpc::InsecureChannelCredentials(), args);
  std::unique_ptr<v1::Notifications::Stub> stub =
      v1::Notifications::NewStub(channel);
  return RunReaders<StubReader>(
      target, absl::GetFlag(FLAGS_sessions), absl::GetFlag(FLAGS_expect),
      [&](absl::BlockingCounter* ready, absl::BlockingCounter* ended) {
        return std::make_unique<StubReader>(stub.get(), ready, ended);
      });
}

}  // namespace mapinotify::bench
