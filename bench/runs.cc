#include "bench/runs.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "bench/proc.h"
#include "bench/stats.h"

namespace mapinotify::bench {

// `streams` spread over at most `processes` clients.
std::vector<int> Spread(int streams, int processes) {
  processes = std::max(1, std::min(processes, streams));
  std::vector<int> out(processes, streams / processes);
  for (int i = 0; i < streams % processes; ++i) ++out[i];
  return out;
}

// --- Baseline: bare gRPC stream ------------------------------------------

absl::StatusOr<Sample> RunRaw(uint64_t count, uint32_t per_message, bool hint,
                              bool opaque) {
  auto server = Child::Spawn({"--role=raw_server"});
  if (!server.ok()) return server.status();
  auto ready = (*server)->Expect("ready", kStartTimeout);
  if (!ready.ok()) return ready.status();
  auto port = PortOf(*ready);
  if (!port.ok()) return port.status();
  auto client = Child::Spawn(
      {"--role=raw_client", absl::StrCat("--target=127.0.0.1:", *port),
       absl::StrCat("--raw_count=", count),
       absl::StrCat("--per_message=", per_message),
       absl::StrCat("--buffer_hint=", hint ? "true" : "false"),
       absl::StrCat("--opaque=", opaque ? "true" : "false")});
  if (!client.ok()) return client.status();
  auto result = (*client)->Expect(
      "result", absl::Seconds(60) + absl::Seconds(count / 20000.0));
  if (!result.ok()) return result.status();
  auto client_exit = (*client)->Wait(absl::Seconds(30));
  if (!client_exit.ok()) return client_exit.status();
  auto server_rss = StopServer(**server);
  if (!server_rss.ok()) return server_rss.status();
  auto fields = ParseFields(*result);
  Sample s;
  uint64_t received = 0;
  if (fields["ok"] != "1" || !absl::SimpleAtod(fields["rate"], &s.value) ||
      !absl::SimpleAtoi(fields["received"], &received)) {
    return absl::InternalError(absl::StrCat("raw stream failed: ", *result));
  }
  s.missing = received >= count ? 0 : count - received;
  s.server_rss_kib = server_rss->max_rss_kib;
  s.client_rss_kib = client_exit->max_rss_kib;
  if (received > 0) {
    s.server_cpu_us = server_rss->cpu_seconds * 1e6 / received;
    s.client_cpu_us = client_exit->cpu_seconds * 1e6 / received;
  }
  return s;
}

// --- mapinotify: one server, clients, one publish --------------------------

namespace {

struct Setup {
  uint64_t outbox_items = 65536;
  uint64_t outbox_bytes = uint64_t{64} << 20;
  std::string model = "notify";
  std::vector<int> sessions_per_client = {1};
  uint64_t count = 0;  // Published (per connection: expected).
  uint64_t per_call = 1;
  uint64_t rate = 0;  // 0: unpaced.
  uint64_t max_queued = 65536;
  bool record_latency = false;
  // Issue 6: a stalled role advised on the folder too, before anything is
  // published; and notifications published before the clients advise.
  bool stalled = false;
  uint64_t prefill = 0;
  // The bare gRPC fan-out baseline's roles instead of mapinotify's (they
  // take only the publish and the client counts; `model` is ignored).
  bool raw_fanout = false;
  // mapinotify's server, its streams read by the generated stub instead of
  // the client library (the stub_fanout_client role; `model` is ignored).
  bool stub_fanout = false;
  // Connections per session (mapinotify), or connection ids per
  // notification of each call (raw_fanout).
  int connections = 1;
};

struct Outcome {
  Sample sample;
  uint64_t received = 0;
  int64_t first_ns = 0, last_ns = 0;
  Histogram histogram;
};

absl::StatusOr<Outcome> RunMapinotify(const Setup& setup) {
  auto server = Child::Spawn(
      {setup.raw_fanout ? "--role=raw_fanout_server" : "--role=server",
       absl::StrCat("--outbox_items=", setup.outbox_items),
       absl::StrCat("--outbox_bytes=", setup.outbox_bytes)});
  if (!server.ok()) return server.status();
  auto ready = (*server)->Expect("ready", kStartTimeout);
  if (!ready.ok()) return ready.status();
  auto port = PortOf(*ready);
  if (!port.ok()) return port.status();

  // Paced runs last count/rate unless the publisher falls behind (it does
  // with 1,000 streams: allow 20x); unpaced ones are bounded by a slow path
  // of 10k/s. The deadline only turns a hang into an error.
  const double publish_s =
      setup.rate > 0 ? 20.0 * static_cast<double>(setup.count) / setup.rate
                     : static_cast<double>(setup.count) / 10000.0;
  const int deadline_s = 60 + static_cast<int>(publish_s);
  std::unique_ptr<Child> stalled;
  if (setup.stalled) {
    auto child = Child::Spawn(
        {"--role=stalled", absl::StrCat("--target=127.0.0.1:", *port)});
    if (!child.ok()) return child.status();
    auto advised = (*child)->Expect("advised", absl::Seconds(120));
    if (!advised.ok()) return advised.status();
    stalled = *std::move(child);
  }
  if (setup.prefill > 0) {
    absl::Status sent = (*server)->WriteLine(
        absl::StrCat("publish count=", setup.prefill, " per_call=1 rate=0"));
    if (!sent.ok()) return sent;
    auto prefilled = (*server)->Expect("published", absl::Seconds(120));
    if (!prefilled.ok()) return prefilled.status();
  }
  std::vector<std::unique_ptr<Child>> clients;
  for (int sessions : setup.sessions_per_client) {
    auto client =
        Child::Spawn({setup.raw_fanout    ? "--role=raw_fanout_client"
                      : setup.stub_fanout ? "--role=stub_fanout_client"
                                          : "--role=client",
                      absl::StrCat("--target=127.0.0.1:", *port),
                      absl::StrCat("--model=", setup.model),
                      absl::StrCat("--sessions=", sessions),
                      absl::StrCat("--expect=", setup.count),
                      absl::StrCat("--max_queued=", setup.max_queued),
                      absl::StrCat("--record_latency=",
                                   setup.record_latency ? "true" : "false"),
                      absl::StrCat("--deadline_s=", deadline_s),
                      absl::StrCat("--connections=", setup.connections)});
    if (!client.ok()) return client.status();
    clients.push_back(*std::move(client));
  }
  for (auto& client : clients) {
    auto advised = client->Expect("advised", absl::Seconds(120));
    if (!advised.ok()) return advised.status();
  }
  absl::Status sent = (*server)->WriteLine(
      absl::StrCat("publish count=", setup.count, " per_call=", setup.per_call,
                   " rate=", setup.rate));
  if (!sent.ok()) return sent;
  auto published = (*server)->Expect("published", absl::Seconds(deadline_s));
  if (!published.ok()) return published.status();

  Outcome out;
  double client_cpu_seconds = 0;
  double publish_seconds = 0;
  if (absl::SimpleAtod(ParseFields(*published)["seconds"], &publish_seconds) &&
      publish_seconds > 0) {
    out.sample.publish_rate =
        static_cast<double>(setup.count) / publish_seconds;
  }
  for (auto& client : clients) {
    auto result = client->Expect("result", absl::Seconds(deadline_s + 60));
    if (!result.ok()) return result.status();
    auto f = ParseFields(*result);
    uint64_t received = 0, missing = 0, resyncs = 0;
    int unfinished = 0, tcp = 0;
    int64_t first = 0, last = 0;
    if (!absl::SimpleAtoi(f["received"], &received) ||
        !absl::SimpleAtoi(f["missing"], &missing) ||
        !absl::SimpleAtoi(f["resyncs"], &resyncs) ||
        !absl::SimpleAtoi(f["unfinished"], &unfinished) ||
        !absl::SimpleAtoi(f["first_ns"], &first) ||
        !absl::SimpleAtoi(f["last_ns"], &last) ||
        !absl::SimpleAtoi(f["tcp"], &tcp) ||
        !out.histogram.MergeSerialized(f["hist"])) {
      return absl::InternalError(absl::StrCat("bad result line: ", *result));
    }
    out.received += received;
    out.sample.missing += missing;
    out.sample.resyncs += resyncs;
    out.sample.unfinished += unfinished;
    out.sample.tcp += tcp;
    if (first != 0 && (out.first_ns == 0 || first < out.first_ns)) {
      out.first_ns = first;
    }
    out.last_ns = std::max(out.last_ns, last);
    auto exit = client->Wait(absl::Seconds(60));
    if (!exit.ok()) return exit.status();
    out.sample.client_rss_kib =
        std::max(out.sample.client_rss_kib, exit->max_rss_kib);
    client_cpu_seconds += exit->cpu_seconds;
  }
  // Before the server stops: a stream that does not read would hold its
  // shutdown until the deadline.
  if (stalled != nullptr) {
    stalled->CloseStdin();
    auto exit = stalled->Wait(absl::Seconds(30));
    if (!exit.ok()) return exit.status();
    if (exit->exit_code != 0) {
      return absl::InternalError(
          absl::StrCat("the stalled role exited with ", exit->exit_code));
    }
  }
  auto server_rss = StopServer(**server);
  if (!server_rss.ok()) return server_rss.status();
  out.sample.server_rss_kib = server_rss->max_rss_kib;
  if (out.received > 0) {
    out.sample.server_cpu_us = server_rss->cpu_seconds * 1e6 / out.received;
    out.sample.client_cpu_us = client_cpu_seconds * 1e6 / out.received;
  }
  if (out.last_ns > out.first_ns) {
    out.sample.value = static_cast<double>(out.received) * 1e9 /
                       static_cast<double>(out.last_ns - out.first_ns);
  }
  out.sample.p50 = out.histogram.Quantile(0.50) / 1e3;
  out.sample.p99 = out.histogram.Quantile(0.99) / 1e3;
  out.sample.p999 = out.histogram.Quantile(0.999) / 1e3;
  return out;
}

}  // namespace

absl::StatusOr<Sample> RunThroughput(const std::string& model, uint64_t count,
                                     uint64_t per_call) {
  Setup setup;
  setup.model = model;
  setup.count = count;
  setup.per_call = per_call;
  // Nothing may overflow: the whole run fits both sides' queues.
  setup.outbox_items = count + 1024;
  setup.outbox_bytes = count * 1024 + (uint64_t{64} << 20);
  setup.max_queued = count + 1024;
  auto out = RunMapinotify(setup);
  if (!out.ok()) return out.status();
  return out->sample;
}

absl::StatusOr<Sample> RunPaced(const std::string& model,
                                std::vector<int> sessions, uint64_t rate,
                                double seconds, int connections) {
  Setup setup;
  setup.model = model;
  setup.raw_fanout = model == "raw";
  setup.stub_fanout = model == "stub";
  setup.connections = connections;
  setup.sessions_per_client = std::move(sessions);
  setup.rate = rate;
  setup.count = std::max<uint64_t>(1, static_cast<uint64_t>(rate * seconds));
  setup.record_latency = true;
  auto out = RunMapinotify(setup);
  if (!out.ok()) return out.status();
  return out->sample;
}

absl::StatusOr<StallPair> RunStall(uint64_t count, uint64_t rate,
                                   bool without_first) {
  Setup setup;
  setup.model = "notify";
  setup.count = count;
  setup.rate = rate;
  setup.record_latency = rate > 0;
  setup.prefill = kStallPrefill;  // Above setup.outbox_items.
  // The client's own queue is not what is measured: as in RunThroughput it
  // holds a whole run. The server keeps its defaults.
  setup.max_queued = std::max<uint64_t>(setup.max_queued, count + 1024);
  StallPair out;
  for (int i = 0; i < 2; ++i) {
    setup.stalled = (i == 0) != without_first;
    auto run = RunMapinotify(setup);
    if (!run.ok()) return run.status();
    (setup.stalled ? out.with : out.without) = run->sample;
  }
  return out;
}

// --- Scale: many idle advise connections ------------------------------------

namespace {

absl::StatusOr<std::pair<long, uint64_t>> ServerRss(Child& server) {
  absl::Status sent = server.WriteLine("rss");
  if (!sent.ok()) return sent;
  auto line = server.Expect("rss", absl::Seconds(30));
  if (!line.ok()) return line.status();
  auto f = ParseFields(*line);
  long kib = 0;
  uint64_t registrations = 0;
  if (!absl::SimpleAtoi(f["kib"], &kib) ||
      !absl::SimpleAtoi(f["registrations"], &registrations)) {
    return absl::InternalError(absl::StrCat("bad rss line: ", *line));
  }
  return std::make_pair(kib, registrations);
}

absl::StatusOr<double> PublishRate(Child& server, uint64_t count) {
  absl::Status sent = server.WriteLine(
      absl::StrCat("publish count=", count, " per_call=1 rate=0"));
  if (!sent.ok()) return sent;
  auto line = server.Expect("published", absl::Seconds(120));
  if (!line.ok()) return line.status();
  double seconds = 0;
  if (!absl::SimpleAtod(ParseFields(*line)["seconds"], &seconds) ||
      seconds <= 0) {
    return absl::InternalError(absl::StrCat("bad published line: ", *line));
  }
  return static_cast<double>(count) / seconds;
}

}  // namespace

// Publishes to the benchmark folder (advised by nobody) before and after
// `connections` registrations on other targets, spread over `streams`
// sessions in 4 client processes, and measures the server's RSS at each
// step.
absl::StatusOr<ScaleResult> RunScale(int streams, int connections,
                                     uint64_t publish_count) {
  auto server = Child::Spawn({"--role=server"});
  if (!server.ok()) return server.status();
  auto ready = (*server)->Expect("ready", kStartTimeout);
  if (!ready.ok()) return ready.status();
  auto port = PortOf(*ready);
  if (!port.ok()) return port.status();
  auto rss0 = ServerRss(**server);
  if (!rss0.ok()) return rss0.status();
  auto rate_none = PublishRate(**server, publish_count);
  if (!rate_none.ok()) return rate_none.status();
  auto rss_before_streams = ServerRss(**server);
  if (!rss_before_streams.ok()) return rss_before_streams.status();

  const int per_session = std::max(1, connections / std::max(1, streams));
  std::vector<std::unique_ptr<Child>> clients;
  for (int sessions : Spread(streams, 4)) {
    auto client = Child::Spawn({"--role=client",
                                absl::StrCat("--target=127.0.0.1:", *port),
                                absl::StrCat("--sessions=", sessions),
                                absl::StrCat("--advises=", per_session)});
    if (!client.ok()) return client.status();
    clients.push_back(*std::move(client));
  }
  for (auto& client : clients) {
    auto opened = client->Expect("opened", absl::Seconds(300));
    if (!opened.ok()) return opened.status();
  }
  auto rss1 = ServerRss(**server);
  if (!rss1.ok()) return rss1.status();
  for (auto& client : clients) {
    absl::Status sent = client->WriteLine("advise");
    if (!sent.ok()) return sent;
  }
  for (auto& client : clients) {
    auto advised = client->Expect("advised", absl::Seconds(600));
    if (!advised.ok()) return advised.status();
  }
  auto rss2 = ServerRss(**server);
  if (!rss2.ok()) return rss2.status();
  const uint64_t registered = rss2->second;
  auto rate_many = PublishRate(**server, publish_count);
  if (!rate_many.ok()) return rate_many.status();

  ScaleResult out;
  for (auto& client : clients) {
    client->CloseStdin();
    auto exit = client->Wait(absl::Seconds(120));
    if (!exit.ok()) return exit.status();
    out.memory.client_rss_kib =
        std::max(out.memory.client_rss_kib, exit->max_rss_kib);
  }
  auto server_rss = StopServer(**server);
  if (!server_rss.ok()) return server_rss.status();
  out.memory.server_rss_kib = server_rss->max_rss_kib;
  const uint64_t wanted =
      static_cast<uint64_t>(per_session) * static_cast<uint64_t>(streams);
  out.memory.missing = registered >= wanted ? 0 : wanted - registered;
  out.memory.value = static_cast<double>(rss2->first - rss1->first) * 1024.0 /
                     static_cast<double>(std::max<uint64_t>(1, registered));
  out.memory.extra =
      static_cast<double>(rss1->first - rss_before_streams->first) /
      static_cast<double>(streams);
  out.publish = out.memory;
  out.publish.value = *rate_many;
  out.publish.extra = *rate_none;
  return out;
}

}  // namespace mapinotify::bench
