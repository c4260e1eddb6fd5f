#include "tests/integration/fault_server_role.h"

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "server/service/server.h"
#include "tests/integration/test_util.h"

namespace mapinotify::testing {
namespace {

absl::flat_hash_map<std::string, std::string> Fields(const std::string& line) {
  absl::flat_hash_map<std::string, std::string> out;
  for (absl::string_view word : absl::StrSplit(line, ' ', absl::SkipEmpty())) {
    while (!word.empty() && word.front() == '-') word.remove_prefix(1);
    const size_t eq = word.find('=');
    if (eq == absl::string_view::npos) continue;
    out[std::string(word.substr(0, eq))] = std::string(word.substr(eq + 1));
  }
  return out;
}

uint64_t Number(const absl::flat_hash_map<std::string, std::string>& fields,
                const std::string& key, uint64_t otherwise) {
  auto it = fields.find(key);
  uint64_t value = 0;
  if (it == fields.end() || !absl::SimpleAtoi(it->second, &value)) {
    return otherwise;
  }
  return value;
}

// VmRSS and VmHWM of this process, in KiB.
std::pair<long, long> Memory() {
  long rss = 0, hwm = 0;
  FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return {0, 0};
  char line[256];
  while (std::fgets(line, sizeof line, f) != nullptr) {
    std::sscanf(line, "VmRSS: %ld", &rss);
    std::sscanf(line, "VmHWM: %ld", &hwm);
  }
  std::fclose(f);
  return {rss, hwm};
}

int RunServer(const absl::flat_hash_map<std::string, std::string>& args) {
  server::ServerOptions options;
  options.address = absl::StrCat("127.0.0.1:", Number(args, "port", 0));
  options.hub.retention.max_events =
      Number(args, "retention_events", options.hub.retention.max_events);
  options.hub.retention.max_bytes =
      Number(args, "retention_bytes", options.hub.retention.max_bytes);
  options.hub.outbox.max_items =
      Number(args, "outbox_items", options.hub.outbox.max_items);
  options.hub.outbox.max_bytes =
      Number(args, "outbox_bytes", options.hub.outbox.max_bytes);
  auto server = server::Server::Start(options);
  if (!server.ok()) {
    std::fprintf(stderr, "fault server: %s\n",
                 server.status().ToString().c_str());
    return 1;
  }
  const EntryId folder = MakeFolder(server->get(), "fault");
  std::printf("ready port=%d epoch=%llu\n", (*server)->port(),
              static_cast<unsigned long long>((*server)->hub()->epoch()));
  std::fflush(stdout);
  uint64_t next_index = 0;
  std::string line;
  while (std::getline(std::cin, line)) {
    const auto fields = Fields(line);
    if (line.rfind("publish", 0) == 0) {
      const uint64_t count = Number(fields, "count", 0);
      const uint64_t rate = Number(fields, "rate", 0);
      const absl::Time start = absl::Now();
      uint64_t first = 0, last = 0;
      for (uint64_t i = 0; i < count; ++i) {
        if (rate > 0) {
          // Pacing a producer by the clock (a rate, not synchronisation).
          const absl::Time due =
              start + absl::Seconds(static_cast<double>(i) / rate);
          const absl::Duration wait = due - absl::Now();
          if (wait > absl::ZeroDuration()) absl::SleepFor(wait);
        }
        std::vector<server::PublishItem> items;
        items.push_back(ObjectModified(folder, next_index++));
        last = (*server)->hub()->Publish(std::move(items));
        if (i == 0) first = last;
      }
      std::printf("published first=%llu last=%llu seconds=%.3f\n",
                  static_cast<unsigned long long>(first),
                  static_cast<unsigned long long>(last),
                  absl::ToDoubleSeconds(absl::Now() - start));
    } else if (line.rfind("rss", 0) == 0) {
      const auto [rss, hwm] = Memory();
      const server::Hub::Stats hub = (*server)->hub()->GetStats();
      std::printf(
          "rss kib=%ld hwm_kib=%ld retained=%zu retained_bytes=%zu "
          "catch_up_resyncs=%llu resume_resyncs=%llu\n",
          rss, hwm, hub.retained_events, hub.retained_bytes,
          static_cast<unsigned long long>(hub.catch_up_resyncs),
          static_cast<unsigned long long>(hub.resumes_resynced));
    } else {
      std::printf("error unknown command\n");
    }
    std::fflush(stdout);
  }
  (*server)->Shutdown(absl::Now() + absl::Seconds(2));
  (*server)->Wait();
  return 0;
}

}  // namespace

bool MaybeRunFaultRole(int argc, char** argv, int* exit_code) {
  std::string joined;
  for (int i = 1; i < argc; ++i) absl::StrAppend(&joined, argv[i], " ");
  const auto args = Fields(joined);
  auto role = args.find("fault_role");
  if (role == args.end()) return false;
  if (role->second == "server") {
    *exit_code = RunServer(args);
  } else {
    std::fprintf(stderr, "unknown --fault_role=%s\n", role->second.c_str());
    *exit_code = 2;
  }
  return true;
}

}  // namespace mapinotify::testing
