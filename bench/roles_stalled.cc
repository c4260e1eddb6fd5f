// The stalled role (issue 6): a Notifications client that advises like the
// client role and then never reads, so that HTTP/2 flow control stalls the
// server's writes to its stream. It uses the generated stub, not the client
// library: the library always reads.
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "bench/payload.h"
#include "bench/roles.h"
#include "mapinotify/v1/notifications.grpc.pb.h"

namespace mapinotify::bench {

int RunStalled() {
  grpc::ChannelArguments args;
  // No BDP probing: the stream's receive window stays at HTTP/2's initial
  // 64 KiB instead of growing, so a few hundred notifications fill it and
  // the server's next write waits for a window update that never comes.
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  args.SetMaxReceiveMessageSize(4 << 20);
  std::shared_ptr<grpc::Channel> channel = grpc::CreateCustomChannel(
      absl::GetFlag(FLAGS_target), grpc::InsecureChannelCredentials(), args);
  std::unique_ptr<v1::Notifications::Stub> stub =
      v1::Notifications::NewStub(channel);
  grpc::ClientContext context;
  std::unique_ptr<
      grpc::ClientReaderWriter<v1::SubscribeRequest, v1::SubscribeResponse>>
      stream = stub->Subscribe(&context);

  // The client role's advise: connection 1 on the benchmark folder, same
  // mask, so this stream matches every notification the clients get.
  v1::SubscribeRequest request;
  v1::AdviseRequest* advise = request.mutable_advise();
  advise->set_connection(1);
  advise->mutable_target()->set_entry_id(FolderEntryId());
  advise->set_event_mask(kFolderEventMask);
  bool advised = false;
  if (stream->Write(request)) {
    // The hello comes first, then the answer (the hub queues nothing for a
    // connection before its answer).
    v1::SubscribeResponse response;
    while (stream->Read(&response)) {
      if (!response.has_advised()) continue;
      const v1::Advised& answer = response.advised();
      if (answer.connection() != 1 || answer.status().code() != 0) {
        std::fprintf(stderr, "stalled: advise refused: %s\n",
                     answer.ShortDebugString().c_str());
        break;
      }
      advised = true;
      std::printf("advised sequence=%llu\n",
                  static_cast<unsigned long long>(answer.sequence()));
      std::fflush(stdout);
      break;
    }
  }
  if (!advised) {
    context.TryCancel();
    const grpc::Status status = stream->Finish();
    std::fprintf(stderr, "stalled: no advise: %d %s\n",
                 static_cast<int>(status.error_code()),
                 status.error_message().c_str());
    return 1;
  }

  // Stalled: never read again, until the driver closes stdin.
  std::string line;
  while (std::getline(std::cin, line)) {
  }
  context.TryCancel();
  const grpc::Status status = stream->Finish();
  if (status.error_code() != grpc::StatusCode::CANCELLED) {
    // The server ended the stream on its own while it was stalled: that is
    // worth seeing, though it is not this role's failure.
    std::fprintf(stderr, "stalled: stream ended with %d %s\n",
                 static_cast<int>(status.error_code()),
                 status.error_message().c_str());
  }
  return 0;
}

}  // namespace mapinotify::bench
