// The driver's runs: each function starts the processes of one run of one
// table row (proc.h), drives them, reaps them, and returns the row's figure.
// Called from the driver's thread only.
#ifndef MAPINOTIFY_BENCH_RUNS_H_
#define MAPINOTIFY_BENCH_RUNS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace mapinotify::bench {

// One run of one row.
struct Sample {
  double value = 0;                   // The row's figure (notifications/s ...).
  double p50 = 0, p99 = 0, p999 = 0;  // Latency, microseconds.
  long server_rss_kib = 0;
  long client_rss_kib = 0;  // The largest client process.
  uint64_t missing = 0;     // Notifications that never reached a sink.
  uint64_t surplus = 0;     // Deliveries no run should produce (duplicates).
  uint64_t resyncs = 0;     // Resync signals seen by sinks.
  int unfinished = 0;       // Connections whose end marker never came.
  int tcp = 0;              // TCP connections the clients opened.
  double publish_rate = 0;  // What the publisher achieved.
  double extra = 0;         // A second figure some rows note.
  double extra2 = 0;        // A third one.
  // CPU time per notification delivered, whole processes (startup included),
  // microseconds; 0 when not measured.
  double server_cpu_us = 0;
  double client_cpu_us = 0;  // All client processes.
  bool valid() const {
    return missing == 0 && surplus == 0 && resyncs == 0 && unfinished == 0;
  }
};

// Baseline: a bare gRPC stream of `count` notifications, `per_message` per
// write, with buffer_hint on writes 2..n-1 when `hint`; as opaque bytes the
// client does not parse when `opaque`, else as v1.NotificationBatch.
absl::StatusOr<Sample> RunRaw(uint64_t count, uint32_t per_message, bool hint,
                              bool opaque);

// End-to-end throughput: one client with one connection of `model`
// (notify, init, wrapped); the server publishes `count`, `per_call` per
// Hub::Publish, as fast as it can, with queues large enough that nothing
// overflows.
absl::StatusOr<Sample> RunThroughput(const std::string& model, uint64_t count,
                                     uint64_t per_call);

// Paced publishing at `rate` per second for `seconds` to `connections`
// connections (each with its own sink) in each of sessions[i] sessions of
// client process i; latency recorded. `model` "raw": the bare gRPC fan-out
// baseline instead (the raw_fanout roles): sessions[i] Subscribe calls in
// client process i, each notification carrying `connections` connection
// ids (counted as that many deliveries). `model` "stub": mapinotify's
// server with sessions[i] generated-stub Subscribe calls in client process
// i (the stub_fanout_client role; `connections` ignored).
absl::StatusOr<Sample> RunPaced(const std::string& model,
                                std::vector<int> sessions, uint64_t rate,
                                double seconds, int connections = 1);

// Issue 6: one run of a row pair, the same load without and with a stalled
// stream (the stalled role: advised on the benchmark folder like the client,
// never reading), each in a fresh server and client, back to back.
struct StallPair {
  Sample without;
  Sample with;
};

// Both runs: one kNotificationThread client with one connection; the server
// with the default outbox bound (65,536 items per stream) and retention log.
// Before the client advises, the server publishes kStallPrefill
// notifications (one per Publish call, unpaced) that the client does not
// see: the stalled stream's outbox is past its bound before the measured
// publish starts, in both runs the same work for the hub. Then `count`
// notifications, one per Publish, at `rate` per second with latency
// recorded, or unpaced when `rate` is 0. The run without goes first when
// `without_first`.
inline constexpr uint64_t kStallPrefill = 65536 + 8192;
absl::StatusOr<StallPair> RunStall(uint64_t count, uint64_t rate,
                                   bool without_first);

// `streams` spread over at most `processes` clients.
std::vector<int> Spread(int streams, int processes);

struct ScaleResult {
  Sample memory;   // value: bytes per connection; extra: KiB per stream.
  Sample publish;  // value: publishes/s with the registrations; extra: without.
};

// Publishes `publish_count` to the benchmark folder (advised by nobody)
// before and after `connections` registrations on other targets, spread
// over `streams` sessions in 4 client processes, measuring the server's RSS
// at each step.
absl::StatusOr<ScaleResult> RunScale(int streams, int connections,
                                     uint64_t publish_count);

// Store SaveChanges: one store client process (one thread, one session)
// creates and saves `ops` new messages in one folder (CreateMessage,
// SetProps(PR_SUBJECT), SaveChanges) as fast as it can while `watchers`
// sessions in one watcher process watch the folder for fnevObjectCreated.
// value: ops/s in the store client; missing / surplus: watchers' created
// events short of / beyond `ops` each; extra: ms from the last SaveChanges
// returning to the watchers' last OnNotify; extra2: the ops/s of the last
// tenth of the saves over the first tenth's.
absl::StatusOr<Sample> RunStoreSave(uint64_t ops, int watchers);

struct CopyResult {
  Sample none;      // value: items/s without a progress object.
  Sample progress;  // With one; extra: its rate / `none`'s in this run;
                    // extra2: Progress calls the object received.
};

// Store CopyFolder: a folder of `messages` saved messages (made inside the
// server) copied into an empty folder by one blocking MsgStore::CopyFolder
// through the client library, once without and once
// with a progress object, each in a fresh server and client; the one
// without first when `none_first`.
absl::StatusOr<CopyResult> RunStoreCopy(uint64_t messages, bool none_first);

}  // namespace mapinotify::bench

#endif  // MAPINOTIFY_BENCH_RUNS_H_
