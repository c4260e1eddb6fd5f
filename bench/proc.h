// Child processes of the benchmark: this executable re-run in a role
// (--role=...), with its stdin and stdout on pipes and its stderr shared.
// The driver talks to a role in lines: it writes commands to the child's
// stdin and reads "ready ..." / "advised" / "result ..." lines from its
// stdout; closing the child's stdin tells a server role to exit. Every read
// and wait has a timeout, which only turns a hung child into an error.
#ifndef MAPINOTIFY_BENCH_PROC_H_
#define MAPINOTIFY_BENCH_PROC_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace mapinotify::bench {

// How a child ended.
struct ChildExit {
  int exit_code = -1;      // -1 when killed by a signal.
  long max_rss_kib = 0;    // Peak resident set (wait4's ru_maxrss).
  double cpu_seconds = 0;  // User + system CPU time of all its threads.
};

// One child process. Owned by one thread. Destroying a child that is still
// running kills it (SIGKILL) and reaps it. Children also die with the driver
// (PR_SET_PDEATHSIG).
class Child {
 public:
  // Runs /proc/self/exe with `args` as argv[1...]. Internal on fork/pipe
  // failure.
  static absl::StatusOr<std::unique_ptr<Child>> Spawn(
      const std::vector<std::string>& args);
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }

  // The next line of the child's stdout, without the newline.
  // DeadlineExceeded after `timeout`; OutOfRange when the child closed its
  // stdout first.
  absl::StatusOr<std::string> ReadLine(absl::Duration timeout);
  // Reads lines until one whose first word is `word`, and returns it; any
  // other line is copied to stderr. Errors as ReadLine, for the whole wait.
  absl::StatusOr<std::string> Expect(absl::string_view word,
                                     absl::Duration timeout);
  // Writes `line` and a newline to the child's stdin.
  absl::Status WriteLine(absl::string_view line);
  // Closes the child's stdin (the child sees EOF). Idempotent.
  void CloseStdin();
  // Waits for the child to exit and reaps it. After `timeout` it is killed
  // and DeadlineExceeded returned. Call at most once.
  absl::StatusOr<ChildExit> Wait(absl::Duration timeout);

 private:
  Child() = default;

  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  int pidfd_ = -1;
  bool reaped_ = false;
  std::string buffer_;  // Read from stdout, not yet returned.
};

// The "key=value" words of a line (other words are ignored).
absl::flat_hash_map<std::string, std::string> ParseFields(
    absl::string_view line);

// The unsigned value of field `key` (from ParseFields), or `fallback` when
// it is missing or not a number.
uint64_t FieldOr(const absl::flat_hash_map<std::string, std::string>& fields,
                 const std::string& key, uint64_t fallback);

// Sleeps until CLOCK_MONOTONIC reaches `deadline_ns` (a paced publisher's
// clock, as MonotonicNanos() reads it).
void SleepUntil(int64_t deadline_ns);

// How long a server role may take to print its "ready" line.
inline constexpr absl::Duration kStartTimeout = absl::Seconds(30);

// The port of a server role's "ready port=<p>" line; Internal when it has
// none.
absl::StatusOr<int> PortOf(const std::string& ready_line);

// Closes a server role's stdin and reaps it. Internal when it exited with a
// nonzero code; DeadlineExceeded (it is killed) after 30 s.
absl::StatusOr<ChildExit> StopServer(Child& server);

// User + system CPU time of this process (all its threads) so far.
double SelfCpuSeconds();

}  // namespace mapinotify::bench

#endif  // MAPINOTIFY_BENCH_PROC_H_
