// Shutdown: every stream ends with a status, sinks are told, and the server
// stops within its deadline even with a client that stopped reading. One
// test runs mapinotifyd as a second process and stops it with SIGTERM.
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "mapinotify/session.h"
#include "mapinotify/v1/notifications.grpc.pb.h"
#include "proto/grpc/health/v1/health.grpc.pb.h"
#include "tests/integration/test_util.h"

namespace mapinotify::testing {
namespace {

// Sessions here do not reconnect, so that the end of the stream is final
// and their sinks are told at once (a reconnecting session would wait for
// the server to come back; see fault_process_test).
SessionOptions NoReconnect() {
  SessionOptions options;
  options.reconnect.enabled = false;
  return options;
}

TEST(Shutdown, EndsEveryStreamAndTellsSinksEvenWithAStalledClient) {
  auto server = StartServer();
  auto session = Session::Open(server->target(), NoReconnect());
  ASSERT_TRUE(session.ok()) << session.status();
  auto sink = std::make_shared<RecordingSink>();
  const EntryId inbox = server->store()->inbox_id();
  auto c =
      (*session)->Advise(AdviseTarget::Entry(inbox), fnevObjectModified, sink);
  ASSERT_TRUE(c.ok()) << c.status();

  // A client that advises and then never reads again: its flow-control
  // window fills and the server's writes to it stall.
  auto channel =
      grpc::CreateChannel(server->target(), grpc::InsecureChannelCredentials());
  auto stub = v1::Notifications::NewStub(channel);
  grpc::ClientContext stalled_context;
  auto stalled = stub->Subscribe(&stalled_context);
  v1::SubscribeRequest advise;
  advise.mutable_advise()->set_connection(1);
  advise.mutable_advise()->mutable_target()->set_entry_id(inbox);
  advise.mutable_advise()->set_event_mask(fnevObjectModified);
  ASSERT_TRUE(stalled->Write(advise));
  PublishMany(server->hub(), inbox, 50000);
  ASSERT_TRUE(sink->WaitForCount(50000));

  const absl::Time start = absl::Now();
  server->Shutdown(start + absl::Seconds(2));
  server->Wait();
  const absl::Duration took = absl::Now() - start;
  std::printf("shutdown with a stalled client took %s\n",
              absl::FormatDuration(took).c_str());
  EXPECT_LT(took, absl::Seconds(10));

  // The live session's sink learns that its stream ended.
  ASSERT_TRUE(sink->WaitForCount(50001));
  EXPECT_TRUE(IsLostSignal(*sink->seen().back().notification));
  stalled_context.TryCancel();
}

#ifdef MAPINOTIFYD_PATH
// Starts mapinotifyd on a free port; returns its pid and port.
struct Child {
  pid_t pid = -1;
  int port = 0;
};

Child StartDaemon() {
  int out[2];
  if (pipe(out) != 0) return {};
  Child child;
  child.pid = fork();
  if (child.pid == 0) {
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    close(out[1]);
    execl(MAPINOTIFYD_PATH, MAPINOTIFYD_PATH, "--address=127.0.0.1:0",
          "--shutdown_grace=2s", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out[1]);
  // First line: "mapinotifyd listening on ... (port N)".
  FILE* f = fdopen(out[0], "r");
  char line[256] = {};
  if (f != nullptr && std::fgets(line, sizeof line, f) != nullptr) {
    std::string s(line);
    size_t at = s.find("(port ");
    if (at != std::string::npos) {
      if (!absl::SimpleAtoi(s.substr(at + 6, s.find(')', at) - at - 6),
                            &child.port)) {
        child.port = 0;
      }
    }
  }
  if (f != nullptr) fclose(f);
  return child;
}

// Reaps `pid`, waiting at most `timeout` (then kills it with SIGKILL and
// reaps it); returns whether it exited in time, with its wait status.
bool WaitForExit(pid_t pid, absl::Duration timeout, int* wstatus) {
  absl::Notification exited;
  std::thread waiter([&] {
    waitpid(pid, wstatus, 0);
    exited.Notify();
  });
  const bool in_time = exited.WaitForNotificationWithTimeout(timeout);
  if (!in_time) kill(pid, SIGKILL);
  waiter.join();
  return in_time;
}

TEST(Shutdown, DaemonStopsOnSigtermAndSinksAreTold) {
  Child daemon = StartDaemon();
  ASSERT_GT(daemon.pid, 0);
  ASSERT_GT(daemon.port, 0);
  auto session =
      Session::Open(absl::StrCat("127.0.0.1:", daemon.port), NoReconnect());
  ASSERT_TRUE(session.ok()) << session.status();
  auto sink = std::make_shared<RecordingSink>();
  auto c = (*session)->Advise(AdviseTarget::Store(), fnevNewMail, sink);
  ASSERT_TRUE(c.ok()) << c.status();

  ASSERT_EQ(kill(daemon.pid, SIGTERM), 0);
  int wstatus = 0;
  const bool in_time = WaitForExit(daemon.pid, absl::Seconds(20), &wstatus);
  ASSERT_TRUE(in_time) << "mapinotifyd did not exit after SIGTERM";
  ASSERT_TRUE(WIFEXITED(wstatus));
  EXPECT_EQ(WEXITSTATUS(wstatus), 0);
  ASSERT_TRUE(sink->WaitForCount(1));
  EXPECT_TRUE(IsLostSignal(*sink->seen()[0].notification));
}

// A raw Subscribe stream advised on the whole store.
struct RawStream {
  explicit RawStream(const std::shared_ptr<grpc::Channel>& channel)
      : stub(v1::Notifications::NewStub(channel)),
        stream(stub->Subscribe(&context)) {
    v1::SubscribeRequest advise;
    advise.mutable_advise()->set_connection(1);
    advise.mutable_advise()->mutable_target()->mutable_store();
    advise.mutable_advise()->set_event_mask(kAllEventTypes);
    v1::SubscribeResponse r;
    ok = stream->Write(advise) && stream->Read(&r) && r.has_hello() &&
         stream->Read(&r) && r.advised().status().code() == 0;
  }
  std::unique_ptr<v1::Notifications::Stub> stub;
  grpc::ClientContext context;
  std::unique_ptr<
      grpc::ClientReaderWriter<v1::SubscribeRequest, v1::SubscribeResponse>>
      stream;
  bool ok = false;
};

// SIGTERM (issue 6): health goes NOT_SERVING, a stream that reads gets
// everything, then a final progress mark covering it, then UNAVAILABLE; the
// process exits within its grace period although another client stalls.
TEST(Shutdown, SigtermSendsAFinalMarkAndExitsInTimeDespiteAStalledClient) {
  Child daemon = StartDaemon();
  ASSERT_GT(daemon.pid, 0);
  ASSERT_GT(daemon.port, 0);
  const std::string address = absl::StrCat("127.0.0.1:", daemon.port);
  auto channel =
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  // Separate channels: the stalled stream's connection window must not
  // stall the others.
  grpc::ChannelArguments own;
  own.SetInt("mapinotify.test.channel", 1);
  auto stalled_channel = grpc::CreateCustomChannel(
      address, grpc::InsecureChannelCredentials(), own);
  RawStream reader(channel);
  RawStream stalled(stalled_channel);
  ASSERT_TRUE(reader.ok);
  ASSERT_TRUE(stalled.ok);

  // Health, watched: SERVING now, NOT_SERVING once the shutdown begins.
  auto health = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext health_context;
  auto watch =
      health->Watch(&health_context, grpc::health::v1::HealthCheckRequest());
  grpc::health::v1::HealthCheckResponse status;
  ASSERT_TRUE(watch->Read(&status));
  EXPECT_EQ(status.status(), grpc::health::v1::HealthCheckResponse::SERVING);

  // Enough notifications to fill the stalled stream's window.
  auto session = Session::Open(address, NoReconnect());
  ASSERT_TRUE(session.ok()) << session.status();
  auto store = (*session)->OpenMsgStore();
  ASSERT_TRUE(store.ok()) << store.status();
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE((*store)->DeliverNewMail({}).ok());
  }

  ASSERT_EQ(kill(daemon.pid, SIGTERM), 0);
  const absl::Time start = absl::Now();
  ASSERT_TRUE(watch->Read(&status));
  EXPECT_EQ(status.status(),
            grpc::health::v1::HealthCheckResponse::NOT_SERVING);

  // The reader: deliveries, then the final mark (the last item), then the
  // status.
  uint64_t last_delivered = 0, mark = 0, after_mark = 0;
  v1::SubscribeResponse r;
  while (reader.stream->Read(&r)) {
    for (const v1::Delivered& d : r.batch().notifications()) {
      last_delivered = d.sequence();
      if (mark != 0) ++after_mark;
    }
    if (r.has_progress()) mark = r.progress().sequence();
  }
  const grpc::Status end = reader.stream->Finish();
  EXPECT_EQ(end.error_code(), grpc::StatusCode::UNAVAILABLE)
      << end.error_message();
  EXPECT_GT(last_delivered, 0u);
  EXPECT_GE(mark, last_delivered);
  EXPECT_EQ(after_mark, 0u);

  int wstatus = 0;
  const bool in_time = WaitForExit(daemon.pid, absl::Seconds(20), &wstatus);
  const absl::Duration took = absl::Now() - start;
  std::printf("SIGTERM to exit with a stalled client: %s (grace 2 s)\n",
              absl::FormatDuration(took).c_str());
  ASSERT_TRUE(in_time) << "mapinotifyd did not exit after SIGTERM";
  EXPECT_TRUE(WIFEXITED(wstatus));
  EXPECT_LT(took, absl::Seconds(2) + absl::Seconds(5));
  stalled.context.TryCancel();
  health_context.TryCancel();
}
#endif

}  // namespace
}  // namespace mapinotify::testing
