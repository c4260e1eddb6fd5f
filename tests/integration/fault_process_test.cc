// Faults with a server in another process (issue 6):
//   - mapinotifyd is killed (SIGKILL) and restarted on the same port: every
//     sink gets the resync signal exactly once (the new server has a new
//     epoch and an empty history) and live delivery resumes within the
//     reconnect backoff bound;
//   - a client stops reading while the server publishes: the server's memory
//     stays within its configured bounds plus a fixed margin, and when the
//     client reads again it gets every notification or the resync signal,
//     never a silent gap.
// The server is this executable re-run in a role (fault_server_role.h).
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bench/proc.h"
#include "gtest/gtest.h"
#include "mapinotify/session.h"
#include "mapinotify/v1/notifications.grpc.pb.h"
#include "tests/integration/delivery_checker.h"
#include "tests/integration/fault_server_role.h"
#include "tests/integration/state_recorder.h"

namespace mapinotify::testing {
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kAddressSanitizer = true;
#else
constexpr bool kAddressSanitizer = false;
#endif
#else
constexpr bool kAddressSanitizer = false;
#endif

using bench::Child;
using bench::ParseFields;

// A server role process and what its ready line said.
struct ServerProcess {
  std::unique_ptr<Child> child;
  int port = 0;
  uint64_t epoch = 0;
};

ServerProcess StartServerProcess(std::vector<std::string> args) {
  args.insert(args.begin(), "--fault_role=server");
  ServerProcess p;
  auto child = Child::Spawn(args);
  EXPECT_TRUE(child.ok()) << child.status();
  if (!child.ok()) return p;
  auto ready = (*child)->Expect("ready", absl::Seconds(30));
  EXPECT_TRUE(ready.ok()) << ready.status();
  if (!ready.ok()) return p;
  const auto fields = ParseFields(*ready);
  EXPECT_TRUE(absl::SimpleAtoi(fields.at("port"), &p.port));
  EXPECT_TRUE(absl::SimpleAtoi(fields.at("epoch"), &p.epoch));
  p.child = *std::move(child);
  return p;
}

// Sends `publish count=<n> rate=<r>`; returns the sequences published.
std::vector<uint64_t> Publish(Child& server, uint64_t count, uint64_t rate) {
  std::vector<uint64_t> out;
  EXPECT_TRUE(
      server.WriteLine(absl::StrCat("publish count=", count, " rate=", rate))
          .ok());
  auto line = server.Expect("published", absl::Seconds(120));
  EXPECT_TRUE(line.ok()) << line.status();
  if (!line.ok()) return out;
  const auto fields = ParseFields(*line);
  uint64_t first = 0, last = 0;
  EXPECT_TRUE(absl::SimpleAtoi(fields.at("first"), &first));
  EXPECT_TRUE(absl::SimpleAtoi(fields.at("last"), &last));
  for (uint64_t s = first; s <= last && last != 0; ++s) out.push_back(s);
  return out;
}

// The server role's memory (VmRSS and VmHWM in KiB) and its log of the
// resyncs it sent.
struct ServerState {
  long rss_kib = 0;
  long hwm_kib = 0;
  uint64_t resyncs = 0;  // Catch-ups past retention + resumes refused.
};

ServerState QueryServer(Child& server) {
  ServerState state;
  EXPECT_TRUE(server.WriteLine("rss").ok());
  auto line = server.Expect("rss", absl::Seconds(30));
  EXPECT_TRUE(line.ok()) << line.status();
  if (!line.ok()) return state;
  const auto fields = ParseFields(*line);
  uint64_t catch_up = 0, resume = 0;
  EXPECT_TRUE(absl::SimpleAtoi(fields.at("kib"), &state.rss_kib));
  EXPECT_TRUE(absl::SimpleAtoi(fields.at("hwm_kib"), &state.hwm_kib));
  EXPECT_TRUE(absl::SimpleAtoi(fields.at("catch_up_resyncs"), &catch_up));
  EXPECT_TRUE(absl::SimpleAtoi(fields.at("resume_resyncs"), &resume));
  state.resyncs = catch_up + resume;
  return state;
}

std::string Describe(const DeliveryChecker::Report& r) {
  return absl::StrCat(
      "delivered ", r.delivered, ", resyncs ", r.resyncs, ", duplicates ",
      r.duplicates, ", unexpected ", r.unexpected, ", silent gaps ",
      r.silent_gaps, ", missing ", r.missing_tail,
      "; first problem: ", r.problems.empty() ? "none" : r.problems[0]);
}

TEST(FaultProcess, KilledServerRestartedOnTheSamePortResyncsEachSinkOnce) {
  ServerProcess first = StartServerProcess({"--port=0"});
  ASSERT_NE(first.child, nullptr);
  const std::string address = absl::StrCat("127.0.0.1:", first.port);

  auto states = std::make_shared<StateRecorder>();
  SessionOptions options;
  options.reconnect.initial_backoff = absl::Milliseconds(20);
  options.reconnect.max_backoff = absl::Milliseconds(200);
  options.reconnect.jitter = 0.2;
  options.state_sink = states;
  auto session = Session::Open(address, options);
  ASSERT_TRUE(session.ok()) << session.status();
  auto modified = std::make_shared<DeliveryChecker>();
  auto everything = std::make_shared<DeliveryChecker>();
  ASSERT_TRUE((*session)
                  ->Advise(AdviseTarget::Store(), fnevObjectModified, modified)
                  .ok());
  ASSERT_TRUE((*session)
                  ->Advise(AdviseTarget::Store(), kAllEventTypes, everything)
                  .ok());

  const std::vector<uint64_t> before = Publish(*first.child, 1000, 0);
  ASSERT_EQ(before.size(), 1000u);
  ASSERT_TRUE(modified->WaitForSequence(before.back()));
  ASSERT_TRUE(everything->WaitForSequence(before.back()));

  ASSERT_EQ(kill(first.child->pid(), SIGKILL), 0);
  ASSERT_TRUE(first.child->Wait(absl::Seconds(30)).ok());
  ASSERT_TRUE(states->WaitFor(SessionState::kReconnecting, absl::Seconds(30)));

  ServerProcess second =
      StartServerProcess({absl::StrCat("--port=", first.port)});
  ASSERT_NE(second.child, nullptr);
  const absl::Time restarted = absl::Now();
  EXPECT_NE(second.epoch, first.epoch);
  ASSERT_TRUE(states->WaitForConnected(1, absl::Seconds(30)));
  const absl::Duration to_connected = absl::Now() - restarted;
  ASSERT_TRUE(modified->WaitForResyncs(1));
  ASSERT_TRUE(everything->WaitForResyncs(1));

  const std::vector<uint64_t> after = Publish(*second.child, 500, 0);
  ASSERT_TRUE(modified->WaitForSequence(after.back()));
  ASSERT_TRUE(everything->WaitForSequence(after.back()));
  std::printf("restart to connected: %s (backoff cap 200 ms, jitter 0.2)\n",
              absl::FormatDuration(to_connected).c_str());
  // The bound: the longest delay (the cap with its jitter) plus one
  // attempt's round trips; generous for a loaded machine.
  EXPECT_LT(to_connected, absl::Milliseconds(240) + absl::Seconds(3));

  for (const auto& checker : {modified, everything}) {
    const DeliveryChecker::Report r = checker->CheckSegments(
        std::vector<std::vector<uint64_t>>{before, after});
    EXPECT_TRUE(r.Ok(/*resyncs_justified=*/1)) << Describe(r);
  }
  EXPECT_EQ((*session)->epoch(), second.epoch);
  EXPECT_EQ((*session)->stats().resyncs_delivered, 2u);
  bench::StopServer(*second.child).IgnoreError();
}

// A raw Subscribe stream (the stub, no library) that advises the whole store
// and then reads only when told to: the server must hold its memory for it
// within bounds.
class RawReader {
 public:
  explicit RawReader(const std::string& address) {
    grpc::ChannelArguments args;
    // A small window: the server's writes stall after a few KiB.
    args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
    args.SetInt(GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, 4 << 20);
    channel_ = grpc::CreateCustomChannel(
        address, grpc::InsecureChannelCredentials(), args);
    stub_ = v1::Notifications::NewStub(channel_);
    stream_ = stub_->Subscribe(&context_);
    v1::SubscribeRequest advise;
    advise.mutable_advise()->set_connection(1);
    advise.mutable_advise()->mutable_target()->mutable_store();
    advise.mutable_advise()->set_event_mask(fnevObjectModified);
    ok_ = stream_->Write(advise);
    // hello, advised.
    v1::SubscribeResponse r;
    ok_ = ok_ && stream_->Read(&r) && r.has_hello();
    ok_ = ok_ && stream_->Read(&r) && r.has_advised() &&
          r.advised().status().code() == 0;
  }
  ~RawReader() { context_.TryCancel(); }
  bool ok() const { return ok_; }

  // Reads until a delivery with sequence >= `last` or a resync covering it;
  // records the deliveries and resyncs in `log` (0 = resync).
  bool ReadThrough(uint64_t last, std::vector<uint64_t>* log) {
    v1::SubscribeResponse r;
    while (stream_->Read(&r)) {
      if (r.has_resync()) {
        log->push_back(0);
        if (r.resync().resume_sequence() >= last) return true;
      }
      for (const v1::Delivered& d : r.batch().notifications()) {
        log->push_back(d.sequence());
        if (d.sequence() >= last) return true;
      }
    }
    return false;
  }

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Notifications::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<
      grpc::ClientReaderWriter<v1::SubscribeRequest, v1::SubscribeResponse>>
      stream_;
  bool ok_ = false;
};

uint64_t EnvOr(const char* name, uint64_t otherwise) {
  const char* value = std::getenv(name);
  uint64_t n = 0;
  return value != nullptr && absl::SimpleAtoi(value, &n) ? n : otherwise;
}

// A reader stalls for `seconds` while `count` notifications are published at
// an even rate, then reads again. Its outbox (20,000 items, 8 MiB) always
// overflows; whether it then catches up from the retention log or gets the
// resync depends on the log's bounds. Checks the server's memory and the
// reader's deliveries; returns the reader's report.
DeliveryChecker::Report StallThenRead(uint64_t seconds, uint64_t count,
                                      uint64_t retention_events,
                                      uint64_t retention_bytes) {
  constexpr uint64_t kOutboxItems = 20000;
  constexpr uint64_t kOutboxBytes = 8 << 20;
  ServerProcess server = StartServerProcess(
      {"--port=0", absl::StrCat("--outbox_items=", kOutboxItems),
       absl::StrCat("--outbox_bytes=", kOutboxBytes),
       absl::StrCat("--retention_events=", retention_events),
       absl::StrCat("--retention_bytes=", retention_bytes)});
  DeliveryChecker::Report r;
  if (server.child == nullptr) return r;
  const std::string address = absl::StrCat("127.0.0.1:", server.port);

  // A healthy session reading everything, and the stalled reader.
  auto session = Session::Open(address);
  EXPECT_TRUE(session.ok()) << session.status();
  if (!session.ok()) return r;
  auto healthy = std::make_shared<DeliveryChecker>();
  EXPECT_TRUE((*session)
                  ->Advise(AdviseTarget::Store(), fnevObjectModified, healthy)
                  .ok());
  RawReader stalled(address);
  EXPECT_TRUE(stalled.ok());

  const long rss_before = QueryServer(*server.child).rss_kib;
  const std::vector<uint64_t> published =
      Publish(*server.child, count, count / seconds);
  EXPECT_EQ(published.size(), count);
  if (published.size() != count) return r;
  EXPECT_TRUE(healthy->WaitForSequence(published.back()));
  const ServerState after = QueryServer(*server.child);
  const long rss_after = after.rss_kib, hwm_after = after.hwm_kib;

  // The server's bound for this stall: the stalled outbox, the retention
  // log and a fixed margin for everything else (gRPC buffers, allocator).
  const long bound_kib =
      static_cast<long>((kOutboxBytes + retention_bytes) / 1024) + 64 * 1024;
  std::printf(
      "stalled %llu s while %llu were published: server RSS %ld -> %ld KiB, "
      "peak %ld KiB (growth %ld KiB; bound %ld KiB)\n",
      static_cast<unsigned long long>(seconds),
      static_cast<unsigned long long>(count), rss_before, rss_after, hwm_after,
      hwm_after - rss_before, bound_kib);
  // AddressSanitizer's quarantine holds freed memory (up to 256 MiB) and
  // its shadow memory adds more: the bound is a figure of real builds.
  if (!kAddressSanitizer) {
    EXPECT_LT(hwm_after - rss_before, bound_kib);
  }

  // Reading again: every notification, or the resync signal where some
  // were dropped, never a silent gap.
  std::vector<uint64_t> log;
  EXPECT_TRUE(stalled.ReadThrough(published.back(), &log));
  {
    // Reuse the checker's rules on the raw log.
    DeliveryChecker check;
    std::vector<Delivery> items;
    for (uint64_t s : log) items.push_back(Delivery{s, nullptr});
    check.OnNotify(NotificationBatch(1, std::move(items)));
    r = check.Check(published);
  }
  std::printf(
      "the stalled reader then got %llu notifications and %llu "
      "resync(s), %llu covered by them\n",
      static_cast<unsigned long long>(r.delivered),
      static_cast<unsigned long long>(r.resyncs),
      static_cast<unsigned long long>(r.covered));
  EXPECT_EQ(r.duplicates, 0u) << Describe(r);
  EXPECT_EQ(r.unexpected, 0u) << Describe(r);
  EXPECT_EQ(r.silent_gaps, 0u) << Describe(r);
  EXPECT_EQ(r.missing_tail, 0u) << Describe(r);
  // Every resync the reader got is one the server logged (the healthy
  // session got none).
  EXPECT_EQ(r.resyncs, QueryServer(*server.child).resyncs);
  const DeliveryChecker::Report h = healthy->Check(published);
  EXPECT_TRUE(h.Ok(0)) << Describe(h);
  bench::StopServer(*server.child).IgnoreError();
  return r;
}

// MAPINOTIFY_STALL_SECONDS and MAPINOTIFY_STALL_COUNT scale it (the issue's
// figure: 60 s and 1,000,000; CI runs 8 s and 160,000 at the same rate).
// The retention log (50,000 events, 32 MiB) cannot cover the stall: the
// reader gets what its queue held, then the resync signal, then live.
TEST(FaultProcess, StalledReaderPastRetentionGetsTheResyncAndMemoryStays) {
  const DeliveryChecker::Report r =
      StallThenRead(EnvOr("MAPINOTIFY_STALL_SECONDS", 8),
                    EnvOr("MAPINOTIFY_STALL_COUNT", 160000), 50000, 32 << 20);
  EXPECT_EQ(r.resyncs, 1u) << "the log was meant to be too small";
}

// The retention log covers the stall: the reader catches up from it on its
// own cursor and gets every notification, with no resync.
TEST(FaultProcess, StalledReaderWithinRetentionCatchesUpWithoutLoss) {
  const DeliveryChecker::Report r = StallThenRead(4, 80000, 100000, 128 << 20);
  EXPECT_EQ(r.resyncs, 0u);
  EXPECT_EQ(r.delivered, 80000u);
}

}  // namespace
}  // namespace mapinotify::testing

int main(int argc, char** argv) {
  int exit_code = 0;
  if (mapinotify::testing::MaybeRunFaultRole(argc, argv, &exit_code)) {
    return exit_code;
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
