// mapinotify_bench: end-to-end figures of mapinotify against a bare gRPC
// stream measured in the same run (issue 7). The driver (this file) re-runs
// this executable in roles (roles.h) as separate processes on 127.0.0.1,
// coordinates them through their stdin / stdout (proc.h), and prints one
// Markdown table: each row the median of --runs runs, its ratio to the
// baseline, and the peak RSS of the server and client processes.
//
//   mapinotify_bench                 full run (a few minutes)
//   mapinotify_bench --smoke         every row once with tiny counts (CI)
//   mapinotify_bench --rows=raw,e2e  only some groups (--help lists them)
//   mapinotify_bench --rows=stall    issue 6: one stalled stream's effect
#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "bench/roles.h"
#include "bench/runs.h"
#include "bench/stats.h"
#include "bench/table.h"

// The driver.
ABSL_FLAG(int, runs, 3, "Runs per row; each row prints their median.");
ABSL_FLAG(uint64_t, count, 1000000,
          "Notifications per end-to-end throughput run (the raw baseline "
          "sends count/4 one per message and 2*count 64 per message).");
ABSL_FLAG(double, latency_seconds, 3, "Duration of each latency run.");
ABSL_FLAG(uint64_t, latency_rate, 10000, "Publish rate of the latency rows.");
ABSL_FLAG(double, fanout_seconds, 3, "Duration of each fan-out run.");
ABSL_FLAG(std::string, fanout_streams, "1,100,1000", "Fan-out stream counts.");
ABSL_FLAG(std::string, fanout_rates, "10000,1000,1000",
          "Publish rate (notifications/s) for each fan-out stream count.");
ABSL_FLAG(int, fanout_clients, 4,
          "Client processes the fan-out streams "
          "are spread over.");
ABSL_FLAG(std::string, fanout_model, "init",
          "Threading model of the fan-out clients: notify, init or wrapped.");
ABSL_FLAG(uint64_t, store_ops, 5000,
          "Store SaveChanges row: new messages saved per run.");
ABSL_FLAG(int, store_watchers, 4,
          "Store SaveChanges row: sessions watching the folder.");
ABSL_FLAG(uint64_t, copy_messages, 50000,
          "Store CopyFolder rows: messages copied per run.");
ABSL_FLAG(uint64_t, stall_count, 200000,
          "Stall throughput rows: notifications per run (after a prefill "
          "that puts the stalled stream past its 65,536-item outbox).");
ABSL_FLAG(std::string, rows, "raw,e2e,latency,stall,fanout,scale,store",
          "Row groups to run, comma-separated: raw (bare gRPC baseline), e2e "
          "(end-to-end throughput), latency, stall (issue 6: without and "
          "with one stalled stream), fanout, scale, store (the message store "
          "through the client library).");
ABSL_FLAG(bool, smoke, false,
          "One run per row with tiny counts; exit 0 only if every row "
          "produced a figure and no run lost a notification.");
// The roles.
ABSL_FLAG(std::string, role, "", "Internal: the role of a child process.");
ABSL_FLAG(std::string, target, "", "Internal: host:port to dial.");
ABSL_FLAG(uint64_t, raw_count, 0, "Internal: raw_client notifications.");
ABSL_FLAG(uint32_t, per_message, 1, "Internal: raw_client per message.");
ABSL_FLAG(bool, buffer_hint, false, "Internal: raw_client buffer_hint.");
ABSL_FLAG(bool, opaque, false, "Internal: raw_client reads StreamOpaque.");
ABSL_FLAG(uint64_t, outbox_items, 65536, "Internal: server outbox items.");
ABSL_FLAG(uint64_t, outbox_bytes, uint64_t{64} << 20,
          "Internal: server outbox bytes.");
ABSL_FLAG(std::string, model, "notify", "Internal: client threading model.");
ABSL_FLAG(int, sessions, 1, "Internal: client sessions.");
ABSL_FLAG(int, connections, 1, "Internal: client advises per session.");
ABSL_FLAG(uint64_t, expect, 0, "Internal: notifications per connection.");
ABSL_FLAG(bool, record_latency, false, "Internal: client latency histogram.");
ABSL_FLAG(uint64_t, max_queued, 65536, "Internal: client queue bound.");
ABSL_FLAG(int, deadline_s, 120, "Internal: client gives up after this.");
ABSL_FLAG(int, advises, 0, "Internal: scale client, advises per session.");
ABSL_FLAG(int, scale_streams, 1000, "Scale rows: idle streams (sessions).");
ABSL_FLAG(int, scale_connections, 100000,
          "Scale rows: advise connections over those streams.");
ABSL_FLAG(std::string, store_op, "save", "Internal: store_client save|copy.");
ABSL_FLAG(std::string, folder, "", "Internal: store roles' folder (hex).");
ABSL_FLAG(std::string, dest, "", "Internal: store_client copy dest (hex).");
ABSL_FLAG(uint64_t, ops, 0, "Internal: store_client saves or messages.");
ABSL_FLAG(bool, progress, false, "Internal: store_client copy progress.");

namespace mapinotify::bench {
namespace {

// The median of `field` over the valid samples of `row`; 0 when none.
double MedianOf(const Row& row, double Sample::*field) {
  std::vector<double> v;
  for (const Sample& s : row.samples) {
    if (s.valid()) v.push_back(s.*field);
  }
  return Median(v);
}

// "<ratio of the medians>x (per run a, b, c)" of `field`, rows[with] over
// rows[without]; the per-run ratios pair the two runs made back to back.
// Sets *ratio to the ratio of the medians (0 when either has none).
std::string RatioText(const Row& without, const Row& with,
                      double Sample::*field, double* ratio) {
  const double base = MedianOf(without, field);
  *ratio = base > 0 ? MedianOf(with, field) / base : 0;
  std::vector<std::string> per_run;
  for (size_t i = 0; i < without.samples.size() && i < with.samples.size();
       ++i) {
    const Sample& a = without.samples[i];
    const Sample& b = with.samples[i];
    if (a.valid() && b.valid() && a.*field > 0) {
      per_run.push_back(absl::StrFormat("%.2f", b.*field / a.*field));
    }
  }
  return absl::StrFormat(
      "%.2fx (per run %s)", *ratio,
      per_run.empty() ? "none" : absl::StrJoin(per_run, ", "));
}

// Issue 6's figures: with / without a stalled stream for the throughput
// pairs (delivered and publisher rates) and the latency pairs (p99). Adds
// each to the "with" row's notes and returns a paragraph for after the
// table; empty when no pair ran.
std::string StallRatios(
    std::vector<Row>& rows,
    const std::vector<std::pair<size_t, size_t>>& throughput,
    const std::vector<std::pair<size_t, size_t>>& latency) {
  std::vector<std::string> parts;
  // Issue 6's criterion covers what the other streams receive; the
  // publisher's own rate is judged (and flagged) apart.
  bool within = true;
  bool publisher_within = true;
  for (const auto& [a, b] : throughput) {
    double rate = 0, publisher = 0;
    const std::string text = RatioText(rows[a], rows[b], &Sample::value, &rate);
    const std::string publisher_text =
        RatioText(rows[a], rows[b], &Sample::publish_rate, &publisher);
    within = within && rate >= 0.5;
    publisher_within = publisher_within && publisher >= 0.5;
    rows[b].note = absl::StrCat(rows[b].note, "; with/without: throughput ",
                                text, ", publisher ", publisher_text);
    parts.push_back(absl::StrCat("throughput with/without ", text,
                                 ", publisher with/without ", publisher_text));
  }
  for (const auto& [a, b] : latency) {
    double p99 = 0, p50 = 0;
    const std::string text = RatioText(rows[a], rows[b], &Sample::p99, &p99);
    const std::string p50_text =
        RatioText(rows[a], rows[b], &Sample::p50, &p50);
    within = within && p99 > 0 && p99 <= 2;
    rows[b].note = absl::StrCat(rows[b].note, "; with/without: p99 ", text,
                                ", p50 ", p50_text);
    parts.push_back(absl::StrCat("p99 latency with/without ", text,
                                 ", p50 with/without ", p50_text));
  }
  if (parts.empty()) return "";
  return absl::StrCat(
      "Stalled stream (issue 6: the other streams' throughput and p99 "
      "latency within 2x of a run without it): ",
      absl::StrJoin(parts, "; "),
      " — ratios of the medians; the other streams: ",
      within ? "within 2x" : "**NOT within 2x**",
      "; the publisher's own rate: ",
      publisher_within ? "within 2x."
                       : "**below half** (not in issue 6's criterion).");
}

int RunDriver(int argc, char** argv) {
  const bool smoke = absl::GetFlag(FLAGS_smoke);
  const int runs = smoke ? 1 : std::max(1, absl::GetFlag(FLAGS_runs));
  const uint64_t count = smoke ? 20000 : absl::GetFlag(FLAGS_count);
  const double latency_s = smoke ? 0.3 : absl::GetFlag(FLAGS_latency_seconds);
  const uint64_t latency_rate = absl::GetFlag(FLAGS_latency_rate);
  const double fanout_s = smoke ? 0.3 : absl::GetFlag(FLAGS_fanout_seconds);
  const int fanout_clients = absl::GetFlag(FLAGS_fanout_clients);
  const std::string fanout_model = absl::GetFlag(FLAGS_fanout_model);
  const std::vector<std::string> groups =
      absl::StrSplit(absl::GetFlag(FLAGS_rows), ',');
  auto want = [&groups](const std::string& g) {
    return std::find(groups.begin(), groups.end(), g) != groups.end();
  };

  PrintHeader(argc, argv);
  std::vector<Row> rows;
  const uint64_t raw1 = std::max<uint64_t>(count / 4, 1000);
  const uint64_t raw64 = count * 2;
  if (want("raw")) {
    for (uint32_t per : {1u, 64u}) {
      for (bool hint : {false, true}) {
        Row row;
        row.name =
            absl::StrCat("Baseline: bare gRPC stream of v1.NotificationBatch, ",
                         per, per == 1 ? " notification" : " notifications",
                         "/message", hint ? ", buffer_hint" : "");
        row.unit = "notif/s";
        const uint64_t n = per == 1 ? raw1 : raw64;
        row.note = absl::StrCat(Grouped(n), " notifications");
        row.reference_candidate = per == 64;
        row.run = [=] { return RunRaw(n, per, hint, false); };
        rows.push_back(std::move(row));
      }
    }
    Row row;
    row.name =
        "Transport only: 64 notifications/message as opaque bytes, not "
        "parsed, buffer_hint";
    row.unit = "notif/s";
    row.note = absl::StrCat(Grouped(raw64), " notifications");
    row.run = [=] { return RunRaw(raw64, 64, true, true); };
    rows.push_back(std::move(row));
  }
  struct Model {
    const char* flag;
    const char* name;
  };
  const Model models[] = {{"notify", "kNotificationThread"},
                          {"init", "kInitThread (main thread pumps its loop)"},
                          {"wrapped", "ThisThreadAdviseSink on a LoopThread"}};
  if (want("e2e")) {
    for (const Model& m : models) {
      Row row;
      row.name = absl::StrCat("End-to-end throughput, ", m.name);
      row.unit = "notif/s";
      row.note = absl::StrCat(Grouped(count), " notifications, 1 per Publish");
      const std::string flag = m.flag;
      row.run = [=] { return RunThroughput(flag, count, 1); };
      rows.push_back(std::move(row));
      if (flag == "notify") {
        Row batched;
        batched.name =
            "End-to-end throughput, kNotificationThread, 64 per Publish";
        batched.unit = "notif/s";
        batched.note = absl::StrCat(Grouped(count), " notifications");
        batched.run = [=] { return RunThroughput(flag, count, 64); };
        rows.push_back(std::move(batched));
      }
    }
  }
  if (want("latency")) {
    for (const Model& m : models) {
      Row row;
      row.name =
          absl::StrCat("Latency at ", Grouped(latency_rate), "/s, ", m.name);
      row.unit = "notif/s";
      row.latency = true;
      row.note = absl::StrCat(latency_s, " s");
      const std::string flag = m.flag;
      row.run = [=] { return RunPaced(flag, {1}, latency_rate, latency_s); };
      rows.push_back(std::move(row));
    }
  }
  // Issue 6's pairs: {the row without a stalled stream, the row with one}.
  std::vector<std::pair<size_t, size_t>> stall_throughput, stall_latency;
  if (want("stall")) {
    const uint64_t stall_count =
        smoke ? 20000 : absl::GetFlag(FLAGS_stall_count);
    const uint64_t stall_paced =
        std::max<uint64_t>(1, static_cast<uint64_t>(latency_rate * latency_s));
    struct Pair {
      std::string name;
      bool latency;
      uint64_t count;
      uint64_t rate;
      std::string note;
      std::vector<std::pair<size_t, size_t>>* index;
    };
    const Pair pairs[] = {
        {"Stall: end-to-end throughput, kNotificationThread, 1 per Publish",
         false, stall_count, 0,
         absl::StrCat(Grouped(stall_count), " notifications"),
         &stall_throughput},
        {absl::StrCat("Stall: latency at ", Grouped(latency_rate),
                      "/s, kNotificationThread"),
         true, stall_paced, latency_rate, absl::StrCat(latency_s, " s"),
         &stall_latency}};
    for (const Pair& p : pairs) {
      // One run measures both rows back to back, the order alternating
      // between runs, so that they compare equal loads: the first row's
      // runs leave the second row's samples here.
      auto pending = std::make_shared<std::vector<Sample>>();
      auto run_index = std::make_shared<int>(0);
      const std::string prefill = absl::StrCat("after ", Grouped(kStallPrefill),
                                               " unseen prefill notifications");
      Row without;
      without.name = absl::StrCat(p.name, ", no stalled stream");
      without.unit = "notif/s";
      without.latency = p.latency;
      without.note = absl::StrCat(p.note, " ", prefill);
      const uint64_t count = p.count, rate = p.rate;
      without.run = [=]() -> absl::StatusOr<Sample> {
        auto out = RunStall(count, rate, (*run_index)++ % 2 == 0);
        if (!out.ok()) return out.status();
        pending->push_back(out->with);
        return out->without;
      };
      p.index->emplace_back(rows.size(), rows.size() + 1);
      rows.push_back(std::move(without));
      Row with;
      with.name = absl::StrCat(p.name, ", one stalled stream");
      with.unit = "notif/s";
      with.latency = p.latency;
      with.note = absl::StrCat(
          "the same, and a stream on the same folder that never reads (its "
          "outbox past its 65,536-item bound before the measured publish)");
      with.run = [pending]() -> absl::StatusOr<Sample> {
        if (pending->empty()) {
          return absl::FailedPreconditionError(
              "the run without a stalled stream failed");
        }
        Sample s = pending->front();
        pending->erase(pending->begin());
        return s;
      };
      rows.push_back(std::move(with));
    }
  }
  if (want("fanout")) {
    const std::vector<std::string> streams =
        absl::StrSplit(absl::GetFlag(FLAGS_fanout_streams), ',');
    const std::vector<std::string> rates =
        absl::StrSplit(absl::GetFlag(FLAGS_fanout_rates), ',');
    for (size_t i = 0; i < streams.size() && i < rates.size(); ++i) {
      int n = 0;
      uint64_t rate = 0;
      if (!absl::SimpleAtoi(streams[i], &n) ||
          !absl::SimpleAtoi(rates[i], &rate) || n <= 0 || rate == 0) {
        std::fprintf(stderr, "bad --fanout_streams / --fanout_rates\n");
        return 2;
      }
      const std::vector<int> spread = Spread(n, fanout_clients);
      Row raw;
      raw.name = absl::StrCat("Baseline fan-out: bare gRPC, ", Grouped(n),
                              " stream(s) at ", Grouped(rate), " notif/s");
      raw.unit = "deliveries/s";
      raw.latency = true;
      raw.note = absl::StrCat(spread.size(),
                              " client process(es), one write in flight per "
                              "stream, what queued meanwhile as one batch, ",
                              fanout_s, " s");
      raw.run = [=] { return RunPaced("raw", spread, rate, fanout_s); };
      rows.push_back(std::move(raw));
      Row row;
      row.name = absl::StrCat("Fan-out: ", Grouped(n), " stream(s) at ",
                              Grouped(rate), " notif/s");
      row.unit = "deliveries/s";
      row.latency = true;
      row.note = absl::StrCat(spread.size(), " client process(es), ",
                              fanout_model, " model, ", fanout_s, " s");
      row.run = [=] { return RunPaced(fanout_model, spread, rate, fanout_s); };
      rows.push_back(std::move(row));
      if (n > static_cast<int>(spread.size())) {
        // The same server and streams, read by the generated stub alone:
        // what is left of the latency without the client library.
        Row stub;
        stub.name = absl::StrCat("Fan-out: ", Grouped(n), " stream(s) at ",
                                 Grouped(rate),
                                 " notif/s, read by the generated stub "
                                 "(no client library)");
        stub.unit = "deliveries/s";
        stub.latency = true;
        stub.note = absl::StrCat(spread.size(),
                                 " client process(es), each stream a "
                                 "Subscribe call that parses and counts, ",
                                 fanout_s, " s");
        stub.run = [=] { return RunPaced("stub", spread, rate, fanout_s); };
        rows.push_back(std::move(stub));
      }
      if (n > static_cast<int>(spread.size()) && n % spread.size() == 0) {
        // The same connections, one stream per client process: a session
        // per process with many connections (each its own sink), and bare
        // gRPC doing the same (each notification sent once per process with
        // its connection ids).
        const int per = n / static_cast<int>(spread.size());
        const std::vector<int> one(spread.size(), 1);
        Row shared_raw;
        shared_raw.name =
            absl::StrCat("Baseline fan-out: bare gRPC, ", Grouped(n),
                         " connections on one stream per client process, at ",
                         Grouped(rate), " notif/s");
        shared_raw.unit = "deliveries/s";
        shared_raw.latency = true;
        shared_raw.note = absl::StrCat(
            spread.size(), " client process(es), each notification written ",
            "once per stream with ", per, " connection ids and counted once ",
            "per id, ", fanout_s, " s");
        shared_raw.run = [=] {
          return RunPaced("raw", one, rate, fanout_s, per);
        };
        rows.push_back(std::move(shared_raw));
        Row shared;
        shared.name = absl::StrCat(
            "Fan-out: ", Grouped(n), " connections in one session per ",
            "client process, at ", Grouped(rate), " notif/s");
        shared.unit = "deliveries/s";
        shared.latency = true;
        shared.note =
            absl::StrCat(spread.size(), " client process(es), ", per,
                         " connections per session, each its own sink, ",
                         fanout_model, " model, ", fanout_s, " s");
        shared.run = [=] {
          return RunPaced(fanout_model, one, rate, fanout_s, per);
        };
        rows.push_back(std::move(shared));
      }
    }
  }
  if (want("scale")) {
    const int streams = smoke ? 10 : absl::GetFlag(FLAGS_scale_streams);
    const int connections =
        smoke ? 1000 : absl::GetFlag(FLAGS_scale_connections);
    const uint64_t publishes = smoke ? 20000 : count;
    // One scale run yields both rows: the first row's runs leave the second
    // row's samples here, which its runs then take in order.
    auto pending = std::make_shared<std::vector<Sample>>();
    Row memory;
    memory.name = absl::StrCat(
        "Scale: server memory per idle advise connection (",
        Grouped(connections), " over ", Grouped(streams), " streams)");
    memory.unit = "B/connection";
    memory.no_ratio = true;
    memory.extra_note = [](double kib) {
      return absl::StrFormat("%.1f KiB per idle stream (RSS delta)", kib);
    };
    memory.run = [=]() -> absl::StatusOr<Sample> {
      auto out = RunScale(streams, connections, publishes);
      if (!out.ok()) return out.status();
      pending->push_back(out->publish);
      return out->memory;
    };
    rows.push_back(std::move(memory));
    Row publish;
    publish.name =
        absl::StrCat("Scale: Hub::Publish to one target, ",
                     Grouped(connections), " registrations on other targets");
    publish.unit = "publishes/s";
    publish.no_ratio = true;
    publish.extra_note = [](double none) {
      return absl::StrCat(Grouped(none), "/s with none (target: within 0.8x)");
    };
    publish.note = absl::StrCat(Grouped(publishes),
                                " publishes, nobody advised on that target");
    publish.run = [pending]() -> absl::StatusOr<Sample> {
      if (pending->empty()) {
        return absl::FailedPreconditionError("the memory row's run failed");
      }
      Sample s = pending->front();
      pending->erase(pending->begin());
      return s;
    };
    rows.push_back(std::move(publish));
  }
  if (want("store")) {
    const uint64_t ops = smoke ? 500 : absl::GetFlag(FLAGS_store_ops);
    const int watchers = absl::GetFlag(FLAGS_store_watchers);
    Row save;
    save.name = absl::StrCat("Store: SaveChanges of a new message, ", watchers,
                             " advise connections watching");
    save.unit = "ops/s";
    save.no_ratio = true;
    save.cpu_per = "op";
    save.note = absl::StrCat(
        Grouped(ops),
        " x (CreateMessage, SetProps, SaveChanges), 1 client thread; each "
        "watcher must get exactly ",
        Grouped(ops), " fnevObjectCreated");
    save.extra_note = [](double ms) {
      return absl::StrFormat(
          "watchers' last OnNotify %+.1f ms from the last SaveChanges "
          "returning",
          ms);
    };
    save.extra2_note = [](double ratio) {
      return absl::StrFormat(
          "last tenth of the saves at %.2fx the first tenth's rate", ratio);
    };
    save.run = [=] { return RunStoreSave(ops, watchers); };
    rows.push_back(std::move(save));

    const uint64_t messages = smoke ? 2000 : absl::GetFlag(FLAGS_copy_messages);
    // One run copies without and with progress back to back (the order
    // alternating between runs), so that the ratio compares equal loads:
    // the first row's runs leave the second row's samples here.
    auto pending = std::make_shared<std::vector<Sample>>();
    auto run_index = std::make_shared<int>(0);
    Row none;
    none.name = absl::StrCat("Store: CopyFolder of ", Grouped(messages),
                             " messages over the wire, no progress object");
    none.unit = "items/s";
    none.no_ratio = true;
    none.cpu_per = "item";
    none.note = "one blocking MsgStore::CopyFolder (one operation)";
    none.run = [=]() -> absl::StatusOr<Sample> {
      auto out = RunStoreCopy(messages, (*run_index)++ % 2 == 0);
      if (!out.ok()) return out.status();
      pending->push_back(out->progress);
      return out->none;
    };
    rows.push_back(std::move(none));
    Row progress;
    progress.name = absl::StrCat("Store: CopyFolder of ", Grouped(messages),
                                 " messages over the wire, progress object");
    progress.unit = "items/s";
    progress.no_ratio = true;
    progress.cpu_per = "item";
    progress.note = "the same with a recording BasicProgress";
    progress.extra_note = [](double ratio) {
      return absl::StrFormat(
          "%.2fx the rate without progress = %.2fx its time (median of "
          "per-run ratios; issue 5: at most 1.10x the time)",
          ratio, ratio > 0 ? 1 / ratio : 0);
    };
    progress.extra2_note = [](double calls) {
      return absl::StrCat(Grouped(calls), " Progress calls delivered");
    };
    progress.run = [pending]() -> absl::StatusOr<Sample> {
      if (pending->empty()) {
        return absl::FailedPreconditionError(
            "the no-progress row's run failed");
      }
      Sample s = pending->front();
      pending->erase(pending->begin());
      return s;
    };
    rows.push_back(std::move(progress));
  }

  const bool ok = RunRows(rows, runs);
  const std::string stall = StallRatios(rows, stall_throughput, stall_latency);
  PrintTable(rows, runs);
  if (!stall.empty()) std::printf("\n%s\n", stall.c_str());
  std::printf(
      "\nFigures are medians of %d run(s) on a shared 2-core machine; absolute "
      "values drift between runs, ratios less so. Runs go in rounds (each "
      "round runs every row once, in this order), so that every row's runs "
      "spread over the whole benchmark. × ref: the median over rounds of the "
      "row's figure over the same round's faster 64-per-message "
      "v1.NotificationBatch baseline (by median), the range of those ratios "
      "in the notes (paced rows have none: their rate is the publisher's). "
      "Throughput: notifications counted in "
      "the client's sinks over the time from the first OnNotify to the end "
      "marker's (published after the measured ones; the sinks read the "
      "clock only there and, in latency rows, once per call). Latency: "
      "publish time (CLOCK_MONOTONIC, carried in the message entry id) to "
      "OnNotify entry, in the client process. Peak RSS: "
      "wait4 ru_maxrss, the largest over runs (client: the largest client "
      "process). \"publisher reached\": what the server's publishing thread "
      "achieved, including building the notifications. CPU µs/notification: "
      "user + system time of each whole process (every thread, startup "
      "included) over the notifications delivered; on 2 cores the rate "
      "cannot exceed about 2e6 / (server + client) per second. Store rows: "
      "operations timed in the store client (first call to last return); "
      "no × ref (their unit is not notifications); CPU per op / item over "
      "the measured section only (server: its CPU from the client's start "
      "until the watchers had everything; client: the store client's own, "
      "plus the whole watcher process for SaveChanges). Stall rows "
      "(issue 6): one run measures the pair back to back, each in fresh "
      "processes, the order alternating between runs; the stalled stream "
      "is a raw Notifications client (the generated stub) advised on the "
      "same folder with the same mask, which reads its answer and never "
      "again, its HTTP/2 window kept at 64 KiB (no BDP probing).\n",
      runs);
  std::fflush(stdout);
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace mapinotify::bench

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "end-to-end figures of mapinotify against a bare gRPC stream "
      "(issue 7).\n  mapinotify_bench [--smoke] [--runs=N] "
      "[--rows=raw,e2e,latency,stall,fanout,scale,store]");
  // --help lists this file's flags (absl's default looks for a file named
  // after the program).
  absl::FlagsUsageConfig usage;
  usage.contains_help_flags = [](absl::string_view path) {
    return absl::EndsWith(path, "bench/main.cc");
  };
  usage.contains_helpshort_flags = usage.contains_help_flags;
  absl::SetFlagsUsageConfig(usage);
  absl::ParseCommandLine(argc, argv);
  // Every role is a release program: Abseil's lock-order checking (on in
  // Debian's build, about 30 ns per lock) off, as in mapinotifyd and as
  // README advises applications.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  const std::string role = absl::GetFlag(FLAGS_role);
  if (role.empty()) return mapinotify::bench::RunDriver(argc, argv);
  if (role == "raw_server") return mapinotify::bench::RunRawServer();
  if (role == "raw_client") return mapinotify::bench::RunRawClient();
  if (role == "raw_fanout_server") {
    return mapinotify::bench::RunRawFanoutServer();
  }
  if (role == "raw_fanout_client") {
    return mapinotify::bench::RunRawFanoutClient();
  }
  if (role == "stub_fanout_client") {
    return mapinotify::bench::RunStubFanoutClient();
  }
  if (role == "server") return mapinotify::bench::RunServer();
  if (role == "client") return mapinotify::bench::RunClient();
  if (role == "watchers") return mapinotify::bench::RunWatchers();
  if (role == "store_client") return mapinotify::bench::RunStoreClient();
  if (role == "stalled") return mapinotify::bench::RunStalled();
  std::fprintf(stderr, "unknown --role=%s\n", role.c_str());
  return 2;
}
