#include "bench/table.h"

#include <grpcpp/grpcpp.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "bench/payload.h"
#include "bench/stats.h"

namespace mapinotify::bench {

namespace {

long RssMib(long kib) { return (kib + 512) / 1024; }

std::string Fmt(double v) {
  if (v >= 100) return absl::StrFormat("%.0f", v);
  if (v >= 10) return absl::StrFormat("%.1f", v);
  return absl::StrFormat("%.2f", v);
}

std::string FirstLine(const std::string& path, const std::string& prefix) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) {
      const size_t colon = line.find(':');
      return colon == std::string::npos ? line : line.substr(colon + 2);
    }
  }
  return "unknown";
}

}  // namespace

std::string Grouped(double v) {
  std::string digits = absl::StrFormat("%.0f", v);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

void PrintHeader(int argc, char** argv) {
  utsname u{};
  uname(&u);
  std::string load = FirstLine("/proc/loadavg", "");
  std::vector<std::string> args(argv, argv + argc);
  std::printf("## mapinotify_bench\n\n");
  std::printf("- Command: `%s`\n", absl::StrJoin(args, " ").c_str());
  std::printf("- Date: %s\n", absl::FormatTime("%Y-%m-%d %H:%M UTC",
                                               absl::Now(), absl::UTCTimeZone())
                                  .c_str());
  std::printf(
      "- Machine: %ld CPUs (nproc), %s, %s %s\n", sysconf(_SC_NPROCESSORS_ONLN),
      FirstLine("/proc/cpuinfo", "model name").c_str(), u.sysname, u.release);
  std::printf("- Load average at start: %s\n", load.c_str());
  std::printf(
      "- gRPC %s (callback API), loopback 127.0.0.1; every role a "
      "separate process\n",
      grpc::Version().c_str());
  std::printf(
      "- Payload: fnevObjectModified OBJECT notification, %zu bytes "
      "serialized (bench/payload.h)\n\n",
      ObjectModified(1, MonotonicNanos()).ByteSizeLong());
  std::fflush(stdout);
}

// Runs every row; returns false when a measured row has no valid figure or
// a run lost notifications.
bool RunRows(std::vector<Row>& rows, int runs) {
  bool ok = true;
  for (int r = 0; r < runs; ++r) {
    for (Row& row : rows) {
      if (!row.run) continue;
      std::fprintf(stderr, "[bench] %s: run %d/%d\n", row.name.c_str(), r + 1,
                   runs);
      absl::StatusOr<Sample> s = row.run();
      if (!s.ok()) {
        std::fprintf(stderr, "[bench] %s: %s\n", row.name.c_str(),
                     s.status().ToString().c_str());
        row.errors.push_back(std::string(s.status().message()));
        ok = false;
        continue;
      }
      if (!s->valid()) ok = false;
      row.samples.push_back(*s);
      row.rounds.push_back(r);
    }
  }
  for (const Row& row : rows) {
    if (row.run && row.samples.empty()) ok = false;
  }
  return ok;
}

namespace {

// The row's figure over the reference's, per round where both have a valid
// sample.
std::vector<double> RoundRatios(const Row& row, const Row& reference) {
  std::vector<double> ratios;
  for (size_t i = 0; i < row.samples.size(); ++i) {
    if (!row.samples[i].valid()) continue;
    for (size_t j = 0; j < reference.samples.size(); ++j) {
      if (reference.rounds[j] == row.rounds[i] &&
          reference.samples[j].valid() && reference.samples[j].value > 0) {
        ratios.push_back(row.samples[i].value / reference.samples[j].value);
        break;
      }
    }
  }
  return ratios;
}

}  // namespace

void PrintTable(const std::vector<Row>& rows, int runs) {
  // The reference: the faster 64-per-message baseline.
  double reference = 0;
  const Row* reference_row = nullptr;
  auto median_of = [](const Row& row, double Sample::*field) {
    std::vector<double> v;
    for (const Sample& s : row.samples) {
      if (s.valid()) v.push_back(s.*field);
    }
    return Median(v);
  };
  for (const Row& row : rows) {
    if (!row.reference_candidate) continue;
    const double m = median_of(row, &Sample::value);
    if (m > reference) {
      reference = m;
      reference_row = &row;
    }
  }
  std::printf(
      "| Row | Median of %d | × ref | p50 µs | p99 µs | p99.9 µs | "
      "Server peak RSS | Client peak RSS | Notes |\n",
      runs);
  std::printf("|---|---:|---:|---:|---:|---:|---:|---:|---|\n");
  for (const Row& row : rows) {
    if (!row.run) {
      std::printf("| %s | not yet measured | | | | | | | needs %s |\n",
                  row.name.c_str(), row.not_yet.c_str());
      continue;
    }
    int valid = 0;
    uint64_t missing = 0, surplus = 0, resyncs = 0;
    int unfinished = 0;
    long server_rss = 0, client_rss = 0;
    int tcp = 0;
    std::vector<double> publish;
    for (const Sample& s : row.samples) {
      if (s.valid()) ++valid;
      missing += s.missing;
      surplus += s.surplus;
      resyncs += s.resyncs;
      unfinished += s.unfinished;
      server_rss = std::max(server_rss, s.server_rss_kib);
      client_rss = std::max(client_rss, s.client_rss_kib);
      tcp = std::max(tcp, s.tcp);
      if (s.publish_rate > 0) publish.push_back(s.publish_rate);
    }
    std::string note = row.note;
    auto add_note = [&note](const std::string& n) {
      note = note.empty() ? n : absl::StrCat(note, "; ", n);
    };
    if (valid < static_cast<int>(row.samples.size()) || !row.errors.empty()) {
      add_note(absl::StrCat("**",
                            row.samples.size() - valid + row.errors.size(),
                            " of ", runs, " runs INVALID**"));
    }
    if (missing > 0) add_note(absl::StrCat("**missing ", missing, "**"));
    if (surplus > 0) add_note(absl::StrCat("**surplus ", surplus, "**"));
    if (resyncs > 0) add_note(absl::StrCat("**resync signals ", resyncs, "**"));
    if (unfinished > 0) {
      add_note(absl::StrCat("**", unfinished, " connections never finished**"));
    }
    if (!row.errors.empty()) add_note(absl::StrCat("error: ", row.errors[0]));
    if (tcp > 0) add_note(absl::StrCat(tcp, " TCP connection(s)"));
    if (row.extra_note && valid > 0) {
      add_note(row.extra_note(median_of(row, &Sample::extra)));
    }
    if (row.extra2_note && valid > 0) {
      add_note(row.extra2_note(median_of(row, &Sample::extra2)));
    }
    const double server_cpu = median_of(row, &Sample::server_cpu_us);
    if (server_cpu > 0 && !row.latency) {
      add_note(absl::StrFormat("CPU µs/%s: server %.2f, client %.2f",
                               row.cpu_per, server_cpu,
                               median_of(row, &Sample::client_cpu_us)));
    }
    if (!publish.empty()) {
      add_note(
          absl::StrCat("publisher reached ", Grouped(Median(publish)), "/s"));
    }
    if (valid == 0) {
      std::printf("| %s | — | | | | | %ld MiB | %ld MiB | %s |\n",
                  row.name.c_str(), RssMib(server_rss), RssMib(client_rss),
                  note.c_str());
      continue;
    }
    const double value = median_of(row, &Sample::value);
    // A paced row's rate is the publisher's, not a capacity: no ratio.
    std::string ratio = "—";
    if (reference_row != nullptr && !row.latency && !row.no_ratio) {
      std::vector<double> ratios = RoundRatios(row, *reference_row);
      if (&row == reference_row) {
        ratio = "1.00 (ref)";
      } else if (!ratios.empty()) {
        ratio = absl::StrFormat("%.2f", Median(ratios));
        const auto [lo, hi] = std::minmax_element(ratios.begin(), ratios.end());
        note = absl::StrCat(
            note, absl::StrFormat("; × ref per round %.2f–%.2f", *lo, *hi));
      }
    }
    std::string p50 = "", p99 = "", p999 = "";
    if (row.latency) {
      p50 = Fmt(median_of(row, &Sample::p50));
      p99 = Fmt(median_of(row, &Sample::p99));
      p999 = Fmt(median_of(row, &Sample::p999));
    }
    std::printf("| %s | %s %s | %s | %s | %s | %s | %ld MiB | %ld MiB | %s |\n",
                row.name.c_str(), Grouped(value).c_str(), row.unit.c_str(),
                ratio.c_str(), p50.c_str(), p99.c_str(), p999.c_str(),
                RssMib(server_rss), RssMib(client_rss), note.c_str());
  }
  std::fflush(stdout);
}

}  // namespace mapinotify::bench
