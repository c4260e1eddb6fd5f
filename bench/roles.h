// The roles this executable plays when the driver (main.cc) re-runs it:
// each is a whole process, configured by the flags below and talking to the
// driver in lines on stdin / stdout (see proc.h). Each returns the process
// exit code.
#ifndef MAPINOTIFY_BENCH_ROLES_H_
#define MAPINOTIFY_BENCH_ROLES_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/flags/declare.h"
#include "bench/stats.h"

// Flags of the roles (defined in main.cc).
ABSL_DECLARE_FLAG(std::string, target);     // host:port to dial.
ABSL_DECLARE_FLAG(uint64_t, raw_count);     // raw_client: notifications.
ABSL_DECLARE_FLAG(uint32_t, per_message);   // raw_client: per message.
ABSL_DECLARE_FLAG(bool, buffer_hint);       // raw_client: hint writes 2..n-1.
ABSL_DECLARE_FLAG(bool, opaque);            // raw_client: StreamOpaque.
ABSL_DECLARE_FLAG(uint64_t, outbox_items);  // server: Outbox::max_items.
ABSL_DECLARE_FLAG(uint64_t, outbox_bytes);  // server: Outbox::max_bytes.
ABSL_DECLARE_FLAG(std::string, model);      // client: notify|init|wrapped.
ABSL_DECLARE_FLAG(int, sessions);           // client: sessions.
ABSL_DECLARE_FLAG(int, connections);        // client: advises per session.
ABSL_DECLARE_FLAG(uint64_t, expect);        // client: per connection.
ABSL_DECLARE_FLAG(bool, record_latency);    // client: keep a histogram.
ABSL_DECLARE_FLAG(uint64_t, max_queued);    // client: per-connection bound.
ABSL_DECLARE_FLAG(int, deadline_s);         // client: give up after this.
ABSL_DECLARE_FLAG(int, advises);            // client: scale role, per session.
ABSL_DECLARE_FLAG(std::string, store_op);   // store_client: save|copy.
ABSL_DECLARE_FLAG(std::string, folder);     // store roles: entry id, hex.
ABSL_DECLARE_FLAG(std::string, dest);       // store_client copy: entry id, hex.
ABSL_DECLARE_FLAG(uint64_t, ops);           // store_client: saves / messages.
ABSL_DECLARE_FLAG(bool, progress);          // store_client: progress obj.

namespace grpc {
class Server;
class Service;
}  // namespace grpc

namespace mapinotify::bench {

// A bare gRPC callback-API server of bench/raw_stream.proto. Prints
// "ready port=<p>", serves until its stdin closes.
int RunRawServer();

// Reads one RawStream.Stream (StreamOpaque with --opaque) of --raw_count
// notifications from --target and
// prints "result received=<n> rate=<notifications/s> ok=<0|1>".
int RunRawClient();

// The fan-out baseline's server: a bare gRPC RawFanout service
// (bench/raw_stream.proto). Prints "ready port=<p>", then serves commands
// from stdin until EOF:
//   publish count=<n> rate=<per second, 0 = unpaced>
//     pushes n ObjectModified notifications to every stream subscribed now,
//     paced by the clock, then the end marker; answers
//     "published seconds=<s>".
int RunRawFanoutServer();

// --sessions RawFanout.Subscribe calls on one channel to --target, each
// asking for --connections connection ids per notification. Prints
// "advised" once every call has its first (empty) message, then waits for
// every call's end marker (or its end) and prints the client role's
// result line (resyncs always 0), counting each notification once per
// connection id, each connection expected to get --expect.
int RunRawFanoutClient();

// --sessions Notifications.Subscribe calls on one channel to --target
// (mapinotify's server), through the generated stub alone: each advises
// connection 1 on the benchmark folder with the client role's mask, then
// reads, counting and timing every notification as the client role's sink
// does. Prints "advised" once every call has its answer, then waits for
// every call's end marker (or its end) and prints the client role's result
// line (resyncs always 0), each call expected to get --expect.
int RunStubFanoutClient();

// mapinotifyd in-process (Server + Hub). Prints "ready port=<p>", then
// serves commands from stdin until EOF:
//   publish count=<n> per_call=<k> rate=<per second, 0 = unpaced>
//     publishes n ObjectModified notifications on the benchmark folder, k
//     per Hub::Publish call, paced by the clock when rate > 0, then the
//     end marker; answers "published seconds=<s>".
//   rss
//     answers "rss kib=<VmRSS> streams=<n> registrations=<n>".
//   populate count=<n>
//     creates folders "bench source" and "bench dest" in the store's IPM
//     subtree and n saved messages (PR_SUBJECT set) in the source, through
//     the in-process store; answers "populated ok=<0|1> source=<hex>
//     dest=<hex> seconds=<s>" (entry ids in hex).
//   mark folder=<hex>
//     publishes the end marker on that entry target; answers "marked".
//   cpu
//     answers "cpu seconds=<user + system CPU of the process so far>".
int RunServer();

// --sessions sessions of threading model --model, each advising
// --connections connections (each with its own sink) on the benchmark
// folder. Prints "advised" once all are live,
// then waits for every connection's end marker (or --deadline_s) and prints
//   result received=<sum> missing=<sum> resyncs=<sum> unfinished=<n>
//          first_ns=<t> last_ns=<t> tcp=<connections> hist=<Histogram>
// With --advises > 0, the scale role instead: prints "opened" once its
// sessions are open, advises --advises connections per session (each on its
// own target) when it reads a line, prints "advised", exits at EOF.
int RunClient();

// A raw Notifications client (the generated stub; the client library always
// reads): opens Subscribe on --target, advises connection 1 on the
// benchmark folder with the client role's mask (so it matches every
// notification the client role gets), reads the hello and the `advised`
// answer, prints "advised sequence=<s>", and never reads again, so that
// HTTP/2 flow control (its window kept at 64 KiB) stalls the server's
// writes to it. When its stdin closes it cancels the call and exits 0; 1
// when the advise failed.
int RunStalled();

// --sessions kNotificationThread sessions, each advising one connection on
// folder --folder for fnevObjectCreated (and the end marker). Prints
// "advised" once all are live, then waits for every connection's end
// marker (or --deadline_s) and prints
//   result received=<sum> missing=<sum> surplus=<sum> resyncs=<sum>
//          unfinished=<n> last_ns=<t> tcp=<connections>
// where each connection should receive --expect distinct fnevObjectCreated
// of messages in the folder; anything else (a duplicate, another event, an
// event after the marker) counts as surplus.
int RunWatchers();

// One session and its MsgStore on --target, one thread. Prints "opened"
// once ready, waits for a line on stdin, then:
//   --store_op=save: --ops times CreateMessage in --folder, SetProps
//     (PR_SUBJECT), SaveChanges(0);
//   --store_op=copy: copies --folder (a child of the IPM subtree holding
//     --ops messages) into --dest with one blocking CopyFolder, with a
//     recording progress object when --progress, and reads the copy's
//     PR_CONTENT_COUNT;
// and prints
//   result ok=<0|1> done=<ops or items done> seconds=<s> first_ns=<t>
//          last_ns=<t> cpu=<s>
// where seconds / cpu cover only the operations. Save adds first_rate= and
// last_rate=, the ops/s of the first and of the last tenth of the saves;
// copy adds calls=1 count=<the copy's PR_CONTENT_COUNT> warning=<its
// warning> progress_calls=<Progress calls the object got> progress_ok=<1
// when it ended at its maximum, item N of N, never going down>.
int RunStoreClient();

// Established TCP connections of this process to the port of `target`
// ("host:port"; shared by the client roles).
int CountTcpConnections(const std::string& target);

// The totals a client role prints as its "result" line, over its
// connections.
struct ClientResult {
  uint64_t received = 0, missing = 0, resyncs = 0;
  int unfinished = 0;
  int64_t first_ns = 0, last_ns = 0;  // Earliest first, latest last.
  Histogram histogram;

  // Adds a connection that received `received` of `expect` (first and last
  // 0: none).
  void Add(uint64_t received, uint64_t expect, uint64_t resyncs, bool ended,
           int64_t first, int64_t last, const Histogram& h);
  // Prints "result received=.. missing=.. resyncs=.. unfinished=..
  // first_ns=.. last_ns=.. tcp=<tcp> hist=.." and flushes stdout.
  void Print(int tcp) const;
};

// Starts a bare gRPC server with `service` on 127.0.0.1 (any port) and
// prints "ready port=<p>"; null (with an error on stderr naming `role`)
// when it cannot listen.
std::unique_ptr<grpc::Server> StartLoopbackServer(grpc::Service* service,
                                                  const char* role);

}  // namespace mapinotify::bench

#endif  // MAPINOTIFY_BENCH_ROLES_H_
