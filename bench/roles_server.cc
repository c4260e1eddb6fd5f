// The server role: mapinotifyd in-process, its hub fed by a publisher that
// stands in for a provider.
#include <sys/prctl.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bench/payload.h"
#include "bench/proc.h"
#include "bench/roles.h"
#include "server/hub/hub.h"
#include "server/hub/target_key.h"
#include "server/service/server.h"
#include "server/store/store.h"

namespace mapinotify::bench {

namespace {

// Publishes `count` notifications, `per_call` per Hub::Publish, at `rate`
// per second (0: as fast as Publish returns), then the end marker. Each
// notification is stamped just before its Publish call. Pacing by the clock
// is the load generator's job, not synchronisation: when it falls behind, it
// publishes at once (no catch-up burst beyond the backlog).
double Publish(server::Hub* hub, uint64_t count, uint64_t per_call,
               uint64_t rate) {
  const server::TargetKey folder = server::EntryTargetKey(FolderEntryId());
  if (per_call == 0) per_call = 1;
  const int64_t start = MonotonicNanos();
  for (uint64_t i = 0; i < count;) {
    if (rate > 0) {
      SleepUntil(start + static_cast<int64_t>(i * 1000000000.0 /
                                              static_cast<double>(rate)));
    }
    const int64_t stamp = MonotonicNanos();
    std::vector<server::PublishItem> items;
    items.reserve(per_call);
    for (uint64_t k = 0; k < per_call && i < count; ++k, ++i) {
      items.push_back(server::PublishItem{ObjectModified(i, stamp), {folder}});
    }
    hub->Publish(std::move(items));
  }
  const int64_t end = MonotonicNanos();
  std::vector<server::PublishItem> marker;
  marker.push_back(server::PublishItem{EndMarker(), {folder}});
  hub->Publish(std::move(marker));
  return static_cast<double>(end - start) / 1e9;
}

// This process's resident set now, from /proc/self/status; 0 if unknown.
long VmRssKib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      long kib = 0;
      std::sscanf(line.c_str(), "VmRSS: %ld", &kib);
      return kib;
    }
  }
  return 0;
}

// Folders "bench source" (with `count` saved messages) and "bench dest" in
// the IPM subtree, made through the in-process store (no round trips);
// answers the "populated" line. Saves at most kSaved messages, then doubles
// the folder with CopyMessages into itself (a copy keeps every property):
// a few calls instead of `count` saves.
std::string Populate(server::store::Store* store, uint64_t count) {
  constexpr uint64_t kSaved = 256;
  const int64_t start = MonotonicNanos();
  absl::StatusOr<EntryId> source =
      store->CreateFolder(store->ipm_subtree_id(), "bench source", "", 0);
  if (!source.ok()) {
    return absl::StrCat("populated ok=0 ", source.status().ToString());
  }
  absl::StatusOr<EntryId> dest =
      store->CreateFolder(store->ipm_subtree_id(), "bench dest", "", 0);
  if (!dest.ok()) {
    return absl::StrCat("populated ok=0 ", dest.status().ToString());
  }
  const server::store::CallContext caller{"bench-populate", 1};
  for (uint64_t i = 0; i < count && i < kSaved; ++i) {
    absl::StatusOr<server::store::Handle> handle =
        store->CreateMessage(caller, *source, 0);
    if (!handle.ok()) {
      return absl::StrCat("populated ok=0 ", handle.status().ToString());
    }
    auto problems = store->SetMessageProps(
        caller, *handle,
        {PropValue{PR_SUBJECT, absl::StrCat("bench message ", i)}});
    if (!problems.ok() || !problems->empty()) {
      return absl::StrCat("populated ok=0 SetMessageProps failed at ", i);
    }
    absl::StatusOr<EntryId> saved = store->SaveChanges(caller, *handle, 0);
    if (!saved.ok()) {
      return absl::StrCat("populated ok=0 ", saved.status().ToString());
    }
  }
  while (true) {
    absl::StatusOr<std::vector<EntryId>> ids = store->ListMessages(*source);
    if (!ids.ok()) {
      return absl::StrCat("populated ok=0 ", ids.status().ToString());
    }
    if (ids->size() >= count) break;
    ids->resize(std::min<size_t>(ids->size(), count - ids->size()));
    absl::Status copied = store->CopyMessages(*source, *ids, *source, 0);
    if (!copied.ok()) {
      return absl::StrCat("populated ok=0 ", copied.ToString());
    }
  }
  return absl::StrCat("populated ok=1 source=", absl::BytesToHexString(*source),
                      " dest=", absl::BytesToHexString(*dest), " seconds=",
                      static_cast<double>(MonotonicNanos() - start) / 1e9);
}

// The end marker on the entry target of folder `hex`.
void Mark(server::Hub* hub, const std::string& hex) {
  std::vector<server::PublishItem> marker;
  marker.push_back(server::PublishItem{
      EndMarker(), {server::EntryTargetKey(absl::HexStringToBytes(hex))}});
  hub->Publish(std::move(marker));
}

}  // namespace

int RunServer() {
  // Paced publishing wakes every 100 us at 10k/s: ask for exact wake-ups.
  prctl(PR_SET_TIMERSLACK, 1UL);
  server::ServerOptions options;
  options.address = "127.0.0.1:0";
  // The publisher stands in for a provider: its folder ids need no store.
  options.hub.validator = server::DefaultTargetValidator;
  options.hub.outbox.max_items = absl::GetFlag(FLAGS_outbox_items);
  options.hub.outbox.max_bytes = absl::GetFlag(FLAGS_outbox_bytes);
  absl::StatusOr<std::unique_ptr<server::Server>> server =
      server::Server::Start(std::move(options));
  if (!server.ok()) {
    std::fprintf(stderr, "server: %s\n", server.status().ToString().c_str());
    return 1;
  }
  std::printf("ready port=%d\n", (*server)->port());
  std::fflush(stdout);

  std::string line;
  while (std::getline(std::cin, line)) {
    const auto fields = ParseFields(line);
    if (line.rfind("publish", 0) == 0) {
      const double seconds =
          Publish((*server)->hub(), FieldOr(fields, "count", 0),
                  FieldOr(fields, "per_call", 1), FieldOr(fields, "rate", 0));
      std::printf("published seconds=%.6f\n", seconds);
    } else if (line == "rss") {
      const server::Hub::Stats stats = (*server)->hub()->GetStats();
      std::printf("rss kib=%ld streams=%zu registrations=%zu\n", VmRssKib(),
                  stats.streams, stats.registrations);
    } else if (line.rfind("populate", 0) == 0) {
      const std::string answer =
          Populate((*server)->store(), FieldOr(fields, "count", 0));
      std::printf("%s\n", answer.c_str());
    } else if (line.rfind("mark", 0) == 0) {
      auto folder = fields.find("folder");
      Mark((*server)->hub(), folder == fields.end() ? "" : folder->second);
      std::printf("marked\n");
    } else if (line == "cpu") {
      std::printf("cpu seconds=%.6f\n", SelfCpuSeconds());
    } else {
      std::printf("error unknown command: %s\n", line.c_str());
    }
    std::fflush(stdout);
  }
  (*server)->Shutdown(absl::Now() + absl::Seconds(2));
  (*server)->Wait();
  return 0;
}

}  // namespace mapinotify::bench
