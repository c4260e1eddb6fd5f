// The benchmark's table: its rows, running them, and printing the header
// and the Markdown table. Driver thread only.
#ifndef MAPINOTIFY_BENCH_TABLE_H_
#define MAPINOTIFY_BENCH_TABLE_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/runs.h"

namespace mapinotify::bench {

// One row: how to run it once, and what its runs gave.
struct Row {
  std::string name;
  std::string unit;      // Of value: "notif/s", "deliveries/s".
  bool latency = false;  // Print p50/p99/p99.9.
  std::function<absl::StatusOr<Sample>()> run;  // Empty: not yet measured.
  std::string not_yet;                          // Why it is not measured.
  std::string note;
  bool reference_candidate = false;  // A 64-per-message baseline.
  bool no_ratio = false;             // Its unit is not notifications/s.
  // Describe the medians of Sample::extra / extra2 in the notes, when set.
  std::function<std::string(double)> extra_note;
  std::function<std::string(double)> extra2_note;
  // What the CPU figures of the notes are per.
  std::string cpu_per = "notification";
  // Filled by the driver: the valid and invalid samples, and for each the
  // round (0 .. runs-1) it came from.
  std::vector<Sample> samples;
  std::vector<int> rounds;
  std::vector<std::string> errors;
};

// `v` rounded, with thousands separators ("1,234,567").
std::string Grouped(double v);

// The header: command line, date, machine, load, gRPC version, payload.
void PrintHeader(int argc, char** argv);

// Runs every measured row `runs` times, in rounds: each round runs every
// row once, in order, so that every row's runs spread over the whole
// benchmark and meet the same drift of the machine (progress on stderr).
// A row whose run consumes a sample its predecessor's run left (the stall,
// scale and store pairs) still runs right after it. False when a measured
// row has no valid figure or a run lost notifications.
bool RunRows(std::vector<Row>& rows, int runs);

// The Markdown table: medians of the valid runs; × ref, the median over
// rounds of the row's figure over the reference's in the same round (the
// reference: the faster 64-per-message baseline by median), with the range
// of those per-round ratios in the notes; peak RSS; notes.
void PrintTable(const std::vector<Row>& rows, int runs);

}  // namespace mapinotify::bench

#endif  // MAPINOTIFY_BENCH_TABLE_H_
