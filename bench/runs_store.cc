// The Store rows' runs (runs.h): the built-in message store driven through
// the client library while other sessions watch it.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "bench/proc.h"
#include "bench/runs.h"

namespace mapinotify::bench {

namespace {

// A server role with a store of `messages` saved messages in folder
// "bench source" and an empty "bench dest".
struct StoreServer {
  std::unique_ptr<Child> child;
  int port = 0;
  std::string source, dest;  // Entry ids in hex.
};

absl::StatusOr<StoreServer> StartStoreServer(uint64_t messages) {
  StoreServer out;
  auto server = Child::Spawn({"--role=server"});
  if (!server.ok()) return server.status();
  out.child = *std::move(server);
  auto ready = out.child->Expect("ready", kStartTimeout);
  if (!ready.ok()) return ready.status();
  auto port = PortOf(*ready);
  if (!port.ok()) return port.status();
  out.port = *port;
  absl::Status sent =
      out.child->WriteLine(absl::StrCat("populate count=", messages));
  if (!sent.ok()) return sent;
  // The in-process store saves well over 10k messages/s.
  auto populated = out.child->Expect(
      "populated", absl::Seconds(60) + absl::Seconds(messages / 10000.0));
  if (!populated.ok()) return populated.status();
  auto f = ParseFields(*populated);
  if (f["ok"] != "1" || f["source"].empty() || f["dest"].empty()) {
    return absl::InternalError(absl::StrCat("populate failed: ", *populated));
  }
  out.source = f["source"];
  out.dest = f["dest"];
  return out;
}

absl::StatusOr<double> ServerCpu(Child& server) {
  absl::Status sent = server.WriteLine("cpu");
  if (!sent.ok()) return sent;
  auto line = server.Expect("cpu", absl::Seconds(30));
  if (!line.ok()) return line.status();
  double seconds = 0;
  if (!absl::SimpleAtod(ParseFields(*line)["seconds"], &seconds)) {
    return absl::InternalError(absl::StrCat("bad cpu line: ", *line));
  }
  return seconds;
}

// The store client's "result" line, common fields.
struct StoreResult {
  double server_cpu0 = 0;  // The server's CPU seconds before "go".
  uint64_t done = 0;
  double seconds = 0, cpu = 0;
  int64_t last_ns = 0;
  absl::flat_hash_map<std::string, std::string> fields;
};

// Tells a store client that printed "opened" to go, and reads its result.
absl::StatusOr<StoreResult> Go(Child& client, Child& server, int deadline_s) {
  auto opened = client.Expect("opened", absl::Seconds(deadline_s));
  if (!opened.ok()) return opened.status();
  auto cpu0 = ServerCpu(server);
  if (!cpu0.ok()) return cpu0.status();
  absl::Status sent = client.WriteLine("go");
  if (!sent.ok()) return sent;
  auto line = client.Expect("result", absl::Seconds(deadline_s));
  if (!line.ok()) return line.status();
  StoreResult r;
  r.server_cpu0 = *cpu0;
  r.fields = ParseFields(*line);
  if (r.fields["ok"] != "1") {
    return absl::InternalError(
        absl::StrCat("store client failed (its stderr says why): ", *line));
  }
  if (!absl::SimpleAtoi(r.fields["done"], &r.done) ||
      !absl::SimpleAtod(r.fields["seconds"], &r.seconds) ||
      !absl::SimpleAtod(r.fields["cpu"], &r.cpu) ||
      !absl::SimpleAtoi(r.fields["last_ns"], &r.last_ns) || r.seconds <= 0) {
    return absl::InternalError(absl::StrCat("bad result line: ", *line));
  }
  return r;
}

}  // namespace

absl::StatusOr<Sample> RunStoreSave(uint64_t ops, int watchers) {
  auto server = StartStoreServer(0);
  if (!server.ok()) return server.status();
  const std::string target = absl::StrCat("--target=127.0.0.1:", server->port);
  // A deadline only turns a hang into an error: 500 ops/s is a slow path.
  const int deadline_s = 60 + static_cast<int>(ops / 500);
  auto watcher = Child::Spawn({"--role=watchers", target,
                               absl::StrCat("--sessions=", watchers),
                               absl::StrCat("--folder=", server->source),
                               absl::StrCat("--expect=", ops),
                               absl::StrCat("--max_queued=", ops + 1024),
                               absl::StrCat("--deadline_s=", deadline_s)});
  if (!watcher.ok()) return watcher.status();
  auto advised = (*watcher)->Expect("advised", absl::Seconds(60));
  if (!advised.ok()) return advised.status();

  auto client = Child::Spawn({"--role=store_client", target, "--store_op=save",
                              absl::StrCat("--folder=", server->source),
                              absl::StrCat("--ops=", ops),
                              absl::StrCat("--deadline_s=", deadline_s)});
  if (!client.ok()) return client.status();
  auto result = Go(**client, *server->child, deadline_s);
  if (!result.ok()) return result.status();
  auto client_exit = (*client)->Wait(absl::Seconds(30));
  if (!client_exit.ok()) return client_exit.status();

  // Every created event was published before its SaveChanges returned: the
  // marker follows them on each connection.
  absl::Status sent =
      server->child->WriteLine(absl::StrCat("mark folder=", server->source));
  if (!sent.ok()) return sent;
  auto marked = server->child->Expect("marked", absl::Seconds(30));
  if (!marked.ok()) return marked.status();
  auto watched = (*watcher)->Expect("result", absl::Seconds(deadline_s));
  if (!watched.ok()) return watched.status();
  auto w = ParseFields(*watched);
  Sample s;
  uint64_t received = 0;
  int64_t watcher_last = 0;
  if (!absl::SimpleAtoi(w["received"], &received) ||
      !absl::SimpleAtoi(w["missing"], &s.missing) ||
      !absl::SimpleAtoi(w["surplus"], &s.surplus) ||
      !absl::SimpleAtoi(w["resyncs"], &s.resyncs) ||
      !absl::SimpleAtoi(w["unfinished"], &s.unfinished) ||
      !absl::SimpleAtoi(w["last_ns"], &watcher_last) ||
      !absl::SimpleAtoi(w["tcp"], &s.tcp)) {
    return absl::InternalError(absl::StrCat("bad watcher result: ", *watched));
  }
  auto watcher_exit = (*watcher)->Wait(absl::Seconds(30));
  if (!watcher_exit.ok()) return watcher_exit.status();
  // The server's CPU from "go" until the watchers had everything.
  auto server_cpu1 = ServerCpu(*server->child);
  if (!server_cpu1.ok()) return server_cpu1.status();
  const double server_cpu = *server_cpu1 - result->server_cpu0;
  auto server_exit = StopServer(*server->child);
  if (!server_exit.ok()) return server_exit.status();

  if (result->done < ops) s.missing += ops - result->done;
  s.value = static_cast<double>(result->done) / result->seconds;
  s.extra = static_cast<double>(watcher_last - result->last_ns) / 1e6;
  double first_rate = 0, last_rate = 0;
  if (absl::SimpleAtod(result->fields["first_rate"], &first_rate) &&
      absl::SimpleAtod(result->fields["last_rate"], &last_rate) &&
      first_rate > 0) {
    s.extra2 = last_rate / first_rate;
  }
  s.server_rss_kib = server_exit->max_rss_kib;
  s.client_rss_kib =
      std::max(client_exit->max_rss_kib, watcher_exit->max_rss_kib);
  if (result->done > 0) {
    const double n = static_cast<double>(result->done);
    s.server_cpu_us = server_cpu * 1e6 / n;
    s.client_cpu_us = (result->cpu + watcher_exit->cpu_seconds) * 1e6 / n;
  }
  return s;
}

namespace {

absl::StatusOr<Sample> RunCopyOnce(uint64_t messages, bool progress) {
  auto server = StartStoreServer(messages);
  if (!server.ok()) return server.status();
  const int deadline_s = 60 + static_cast<int>(messages / 2000);
  auto client = Child::Spawn(
      {"--role=store_client", absl::StrCat("--target=127.0.0.1:", server->port),
       "--store_op=copy", absl::StrCat("--folder=", server->source),
       absl::StrCat("--dest=", server->dest), absl::StrCat("--ops=", messages),
       absl::StrCat("--progress=", progress ? "true" : "false"),
       absl::StrCat("--deadline_s=", deadline_s)});
  if (!client.ok()) return client.status();
  auto result = Go(**client, *server->child, deadline_s);
  if (!result.ok()) return result.status();
  auto server_cpu1 = ServerCpu(*server->child);
  if (!server_cpu1.ok()) return server_cpu1.status();
  const double server_cpu = *server_cpu1 - result->server_cpu0;
  auto client_exit = (*client)->Wait(absl::Seconds(30));
  if (!client_exit.ok()) return client_exit.status();
  auto server_exit = StopServer(*server->child);
  if (!server_exit.ok()) return server_exit.status();

  auto& f = result->fields;
  int64_t count = 0, warning = 0;
  uint64_t calls = 0;
  if (!absl::SimpleAtoi(f["count"], &count) ||
      !absl::SimpleAtoi(f["warning"], &warning) ||
      !absl::SimpleAtoi(f["progress_calls"], &calls)) {
    return absl::InternalError("bad copy result line");
  }
  if (warning != 0) {
    return absl::InternalError(absl::StrCat("CopyFolder warned ", warning));
  }
  Sample s;
  const uint64_t copied = count < 0 ? 0 : static_cast<uint64_t>(count);
  s.missing = copied >= messages ? 0 : messages - copied;
  s.surplus = copied > messages ? copied - messages : 0;
  // The store client checked each progress object's last call (its stderr
  // says what was wrong).
  if (progress && f["progress_ok"] != "1") s.unfinished = 1;
  s.value = static_cast<double>(result->done) / result->seconds;
  s.extra2 = static_cast<double>(calls);
  s.server_rss_kib = server_exit->max_rss_kib;
  s.client_rss_kib = client_exit->max_rss_kib;
  if (result->done > 0) {
    s.server_cpu_us = server_cpu * 1e6 / static_cast<double>(result->done);
    s.client_cpu_us = result->cpu * 1e6 / static_cast<double>(result->done);
  }
  return s;
}

}  // namespace

absl::StatusOr<CopyResult> RunStoreCopy(uint64_t messages, bool none_first) {
  CopyResult out;
  for (bool progress : {!none_first, none_first}) {
    auto s = RunCopyOnce(messages, progress);
    if (!s.ok()) return s.status();
    (progress ? out.progress : out.none) = *s;
  }
  out.progress.extra =
      out.none.value > 0 ? out.progress.value / out.none.value : 0;
  return out;
}

}  // namespace mapinotify::bench
