#include "bench/proc.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

namespace mapinotify::bench {

namespace {

absl::Status ErrnoError(absl::string_view what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

// Milliseconds left until `deadline` for poll(), at least 0.
int MillisLeft(absl::Time deadline) {
  const int64_t ms = absl::ToInt64Milliseconds(deadline - absl::Now());
  return ms < 0 ? 0 : static_cast<int>(ms > 1 << 30 ? 1 << 30 : ms);
}

double CpuSeconds(const rusage& usage) {
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) /
             1e6;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Child>> Child::Spawn(
    const std::vector<std::string>& args) {
  // O_CLOEXEC everywhere: a child must not inherit another child's pipe
  // ends, or that child would never see EOF on its stdin.
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0) return ErrnoError("pipe2");
  if (pipe2(out, O_CLOEXEC) != 0) {
    close(in[0]);
    close(in[1]);
    return ErrnoError("pipe2");
  }
  std::vector<std::string> argv_storage;
  argv_storage.push_back("mapinotify_bench");
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);

  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) return ErrnoError("fork");
  if (pid == 0) {
    // The child: only async-signal-safe calls until exec.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    dup2(in[0], STDIN_FILENO);
    dup2(out[1], STDOUT_FILENO);
    execv("/proc/self/exe", argv.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  std::unique_ptr<Child> child(new Child());
  child->pid_ = pid;
  child->stdin_fd_ = in[1];
  child->stdout_fd_ = out[0];
  child->pidfd_ = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  signal(SIGPIPE, SIG_IGN);  // A dead child's stdin is an error, not a kill.
  return child;
}

Child::~Child() {
  if (!reaped_ && pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  CloseStdin();
  if (stdout_fd_ >= 0) close(stdout_fd_);
  if (pidfd_ >= 0) close(pidfd_);
}

absl::StatusOr<std::string> Child::ReadLine(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    const size_t nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    pollfd p{stdout_fd_, POLLIN, 0};
    const int ready = poll(&p, 1, MillisLeft(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return ErrnoError("poll");
    if (ready == 0) {
      return absl::DeadlineExceededError(
          absl::StrCat("child ", pid_, " wrote no line in time"));
    }
    char chunk[4096];
    const ssize_t n = read(stdout_fd_, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("read");
    if (n == 0) {
      return absl::OutOfRangeError(
          absl::StrCat("child ", pid_, " closed its output"));
    }
    buffer_.append(chunk, static_cast<size_t>(n));
  }
}

absl::StatusOr<std::string> Child::Expect(absl::string_view word,
                                          absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    absl::StatusOr<std::string> line = ReadLine(deadline - absl::Now());
    if (!line.ok()) {
      return absl::Status(
          line.status().code(),
          absl::StrCat(line.status().message(), " (waiting for '", word, "')"));
    }
    const absl::string_view first =
        absl::string_view(*line).substr(0, line->find(' '));
    if (first == word) return line;
    std::fprintf(stderr, "[child %d] %s\n", static_cast<int>(pid_),
                 line->c_str());
  }
}

absl::Status Child::WriteLine(absl::string_view line) {
  std::string data = absl::StrCat(line, "\n");
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = write(stdin_fd_, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("write to child");
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

void Child::CloseStdin() {
  if (stdin_fd_ >= 0) close(stdin_fd_);
  stdin_fd_ = -1;
}

absl::StatusOr<ChildExit> Child::Wait(absl::Duration timeout) {
  absl::Status late;
  if (pidfd_ >= 0) {
    const absl::Time deadline = absl::Now() + timeout;
    while (true) {
      pollfd p{pidfd_, POLLIN, 0};
      const int ready = poll(&p, 1, MillisLeft(deadline));
      if (ready < 0 && errno == EINTR) continue;
      if (ready == 0) {
        late = absl::DeadlineExceededError(
            absl::StrCat("child ", pid_, " did not exit in time; killed"));
        kill(pid_, SIGKILL);
      }
      break;
    }
  }
  int status = 0;
  rusage usage{};
  while (wait4(pid_, &status, 0, &usage) < 0) {
    if (errno != EINTR) return ErrnoError("wait4");
  }
  reaped_ = true;
  if (!late.ok()) return late;
  ChildExit exit;
  exit.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  exit.max_rss_kib = usage.ru_maxrss;
  exit.cpu_seconds = CpuSeconds(usage);
  return exit;
}

absl::flat_hash_map<std::string, std::string> ParseFields(
    absl::string_view line) {
  absl::flat_hash_map<std::string, std::string> fields;
  for (absl::string_view word : absl::StrSplit(line, ' ', absl::SkipEmpty())) {
    const size_t eq = word.find('=');
    if (eq == absl::string_view::npos) continue;
    fields[std::string(word.substr(0, eq))] = std::string(word.substr(eq + 1));
  }
  return fields;
}

uint64_t FieldOr(const absl::flat_hash_map<std::string, std::string>& fields,
                 const std::string& key, uint64_t fallback) {
  auto it = fields.find(key);
  uint64_t v = fallback;
  if (it != fields.end() && !absl::SimpleAtoi(it->second, &v)) v = fallback;
  return v;
}

void SleepUntil(int64_t deadline_ns) {
  timespec ts;
  ts.tv_sec = deadline_ns / 1000000000;
  ts.tv_nsec = deadline_ns % 1000000000;
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) != 0) {
  }
}

absl::StatusOr<int> PortOf(const std::string& ready_line) {
  auto fields = ParseFields(ready_line);
  int port = 0;
  if (!absl::SimpleAtoi(fields["port"], &port) || port <= 0) {
    return absl::InternalError(absl::StrCat("bad ready line: ", ready_line));
  }
  return port;
}

absl::StatusOr<ChildExit> StopServer(Child& server) {
  server.CloseStdin();
  absl::StatusOr<ChildExit> exit = server.Wait(absl::Seconds(30));
  if (!exit.ok()) return exit.status();
  if (exit->exit_code != 0) {
    return absl::InternalError(
        absl::StrCat("server exited with ", exit->exit_code));
  }
  return *exit;
}

double SelfCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return CpuSeconds(usage);
}

}  // namespace mapinotify::bench
