#include "tests/integration/tcp_proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace mapinotify::testing {

namespace {

void SetNonBlocking(int fd) {
  const int flags = fcntl(fd, F_GETFL, 0);
  fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

void SetNoDelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

// Closes with a reset instead of a FIN: buffered bytes are dropped and the
// peer's next read or write fails.
void AbortiveClose(int fd) {
  if (fd < 0) return;
  linger l{};
  l.l_onoff = 1;
  l.l_linger = 0;
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  close(fd);
}

sockaddr_in Loopback(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  return addr;
}

}  // namespace

// One proxied connection. Owned by the proxy's thread. Side 0 is the client
// (accepted) socket, side 1 the upstream one; pipe d carries the bytes read
// from side d to side 1 - d.
struct TcpProxy::Connection {
  struct Pipe {
    std::vector<char> buffer;  // buffer_bytes long; [head, tail) pending.
    size_t head = 0;
    size_t tail = 0;
    bool eof = false;        // Side d sent FIN.
    bool shut_down = false;  // FIN passed on to side 1 - d.
    size_t pending() const { return tail - head; }
  };
  int fd[2] = {-1, -1};
  Pipe pipe[2];
  bool failed = false;

  bool Finished() const { return pipe[0].shut_down && pipe[1].shut_down; }
};

absl::StatusOr<std::unique_ptr<TcpProxy>> TcpProxy::Start(int upstream_port,
                                                          Options options) {
  if (options.buffer_bytes == 0) options.buffer_bytes = 1;
  std::unique_ptr<TcpProxy> proxy(new TcpProxy(upstream_port, options));
  proxy->listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (proxy->listen_fd_ < 0) {
    return absl::UnavailableError(
        absl::StrCat("TcpProxy: socket: ", std::strerror(errno)));
  }
  sockaddr_in addr = Loopback(0);
  if (bind(proxy->listen_fd_, reinterpret_cast<sockaddr*>(&addr),
           sizeof addr) != 0 ||
      listen(proxy->listen_fd_, 128) != 0) {
    return absl::UnavailableError(
        absl::StrCat("TcpProxy: bind/listen: ", std::strerror(errno)));
  }
  socklen_t len = sizeof addr;
  if (getsockname(proxy->listen_fd_, reinterpret_cast<sockaddr*>(&addr),
                  &len) != 0) {
    return absl::UnavailableError(
        absl::StrCat("TcpProxy: getsockname: ", std::strerror(errno)));
  }
  proxy->port_ = ntohs(addr.sin_port);
  SetNonBlocking(proxy->listen_fd_);
  proxy->wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (proxy->wake_fd_ < 0) {
    return absl::UnavailableError(
        absl::StrCat("TcpProxy: eventfd: ", std::strerror(errno)));
  }
  TcpProxy* self = proxy.get();
  proxy->thread_ = std::thread([self] { self->Run(); });
  return proxy;
}

TcpProxy::~TcpProxy() {
  if (thread_.joinable()) {
    {
      absl::MutexLock lock(&mu_);
      stop_ = true;
    }
    Wake();
    thread_.join();
  }
  if (listen_fd_ >= 0) close(listen_fd_);
  if (wake_fd_ >= 0) close(wake_fd_);
}

std::string TcpProxy::target() const {
  return absl::StrCat("127.0.0.1:", port_);
}

void TcpProxy::CutAll() {
  {
    absl::MutexLock lock(&mu_);
    ++cut_requested_;
  }
  PostAndWait();
}

void TcpProxy::SetBlackhole(bool on) {
  {
    absl::MutexLock lock(&mu_);
    blackhole_ = on;
  }
  PostAndWait();
}

uint64_t TcpProxy::accepted() const {
  absl::MutexLock lock(&mu_);
  return accepted_;
}

size_t TcpProxy::live() const {
  absl::MutexLock lock(&mu_);
  return live_;
}

uint64_t TcpProxy::bytes_forwarded(Direction direction) const {
  absl::MutexLock lock(&mu_);
  return bytes_[static_cast<int>(direction)];
}

bool TcpProxy::WaitForAccepted(uint64_t n, absl::Duration timeout) {
  struct Args {
    TcpProxy* proxy;
    uint64_t n;
  } args{this, n};
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithTimeout(
      absl::Condition(
          +[](Args* a) ABSL_EXCLUSIVE_LOCKS_REQUIRED(a->proxy->mu_) {
            return a->proxy->accepted_ >= a->n;
          },
          &args),
      timeout);
}

bool TcpProxy::WaitForBytes(Direction direction, uint64_t n,
                            absl::Duration timeout) {
  struct Args {
    TcpProxy* proxy;
    int d;
    uint64_t n;
  } args{this, static_cast<int>(direction), n};
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithTimeout(
      absl::Condition(
          +[](Args* a) ABSL_EXCLUSIVE_LOCKS_REQUIRED(a->proxy->mu_) {
            return a->proxy->bytes_[a->d] >= a->n;
          },
          &args),
      timeout);
}

void TcpProxy::PostAndWait() {
  uint64_t seq;
  {
    absl::MutexLock lock(&mu_);
    seq = ++command_seq_;
  }
  Wake();
  struct Args {
    TcpProxy* proxy;
    uint64_t seq;
  } args{this, seq};
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](Args* a) ABSL_EXCLUSIVE_LOCKS_REQUIRED(a->proxy->mu_) {
        return a->proxy->applied_seq_ >= a->seq;
      },
      &args));
}

void TcpProxy::Wake() {
  const uint64_t one = 1;
  // A full counter (never in practice) still leaves the fd readable.
  ssize_t ignored = write(wake_fd_, &one, sizeof one);
  (void)ignored;
}

void TcpProxy::Run() {
  // Everything below is owned by this thread.
  std::vector<std::unique_ptr<Connection>> connections;
  uint64_t cut_seen = 0;
  uint64_t accepted = 0;
  uint64_t bytes[2] = {0, 0};

  auto abort_connection = [](Connection& c) {
    AbortiveClose(c.fd[0]);
    AbortiveClose(c.fd[1]);
    c.fd[0] = c.fd[1] = -1;
    c.failed = true;
  };

  // Moves what can be moved on `c` without blocking. Marks it failed on an
  // error (both sides are then reset).
  auto pump = [&](Connection& c) {
    for (int d = 0; d < 2 && !c.failed; ++d) {
      Connection::Pipe& p = c.pipe[d];
      const int from = c.fd[d];
      const int to = c.fd[1 - d];
      // Read while there is room (compacting first if the tail is at the
      // end), then write what is pending.
      if (!p.eof) {
        if (p.tail == p.buffer.size() && p.head > 0) {
          std::memmove(p.buffer.data(), p.buffer.data() + p.head, p.pending());
          p.tail -= p.head;
          p.head = 0;
        }
        if (p.tail < p.buffer.size()) {
          const ssize_t n =
              recv(from, p.buffer.data() + p.tail, p.buffer.size() - p.tail, 0);
          if (n > 0) {
            p.tail += static_cast<size_t>(n);
          } else if (n == 0) {
            p.eof = true;
          } else if (errno != EAGAIN && errno != EWOULDBLOCK &&
                     errno != EINTR) {
            abort_connection(c);
            return;
          }
        }
      }
      while (p.pending() > 0) {
        const ssize_t n =
            send(to, p.buffer.data() + p.head, p.pending(), MSG_NOSIGNAL);
        if (n > 0) {
          p.head += static_cast<size_t>(n);
          bytes[d] += static_cast<uint64_t>(n);
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
                             errno == EINTR)) {
          break;
        } else {
          abort_connection(c);
          return;
        }
      }
      if (p.pending() == 0) p.head = p.tail = 0;
      if (p.eof && p.pending() == 0 && !p.shut_down) {
        shutdown(to, SHUT_WR);
        p.shut_down = true;
      }
    }
  };

  auto accept_all = [&] {
    for (;;) {
      const int client =
          accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (client < 0) return;  // EAGAIN, or an error the next poll repeats.
      ++accepted;
      const int upstream = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in addr = Loopback(upstream_port_);
      // A blocking connect: on loopback it completes (or is refused) at
      // once.
      if (upstream < 0 || connect(upstream, reinterpret_cast<sockaddr*>(&addr),
                                  sizeof addr) != 0) {
        AbortiveClose(client);
        if (upstream >= 0) close(upstream);
        continue;
      }
      SetNonBlocking(upstream);
      SetNoDelay(client);
      SetNoDelay(upstream);
      auto c = std::make_unique<Connection>();
      c->fd[0] = client;
      c->fd[1] = upstream;
      for (Connection::Pipe& p : c->pipe) {
        p.buffer.resize(options_.buffer_bytes);
      }
      connections.push_back(std::move(c));
    }
  };

  std::vector<pollfd> fds;
  // fds index of each connection's side 0 (side 1 follows).
  std::vector<size_t> first;
  for (;;) {
    bool stop;
    bool blackhole;
    uint64_t cut;
    uint64_t seq;
    {
      absl::MutexLock lock(&mu_);
      stop = stop_;
      blackhole = blackhole_;
      cut = cut_requested_;
      seq = command_seq_;
    }
    if (stop) break;
    if (cut != cut_seen) {
      for (auto& c : connections) abort_connection(*c);
      connections.clear();
      cut_seen = cut;
    }
    // Drop connections that ended (cleanly or not).
    for (auto it = connections.begin(); it != connections.end();) {
      Connection& c = **it;
      if (c.failed) {
        it = connections.erase(it);
      } else if (c.Finished()) {
        close(c.fd[0]);
        close(c.fd[1]);
        it = connections.erase(it);
      } else {
        ++it;
      }
    }
    {
      absl::MutexLock lock(&mu_);
      applied_seq_ = seq;
      accepted_ = accepted;
      live_ = connections.size();
      bytes_[0] = bytes[0];
      bytes_[1] = bytes[1];
    }

    fds.clear();
    first.clear();
    fds.push_back(pollfd{wake_fd_, POLLIN, 0});
    fds.push_back(pollfd{listen_fd_, POLLIN, 0});
    if (!blackhole) {
      for (auto& c : connections) {
        short events[2] = {0, 0};
        for (int d = 0; d < 2; ++d) {
          const Connection::Pipe& p = c->pipe[d];
          if (!p.eof && p.pending() < p.buffer.size()) events[d] |= POLLIN;
          if (p.pending() > 0) events[1 - d] |= POLLOUT;
        }
        first.push_back(fds.size());
        for (int side = 0; side < 2; ++side) {
          // A socket with nothing to wait for is left out entirely, so that
          // a hang-up it reports cannot spin this loop.
          fds.push_back(
              pollfd{events[side] != 0 ? c->fd[side] : -1, events[side], 0});
        }
      }
    }
    if (poll(fds.data(), fds.size(), -1) < 0) continue;  // EINTR.
    if (fds[0].revents != 0) {
      uint64_t drained;
      ssize_t ignored = read(wake_fd_, &drained, sizeof drained);
      (void)ignored;
    }
    if (fds[1].revents != 0) accept_all();
    for (size_t i = 0; i < first.size(); ++i) {
      if (fds[first[i]].revents != 0 || fds[first[i] + 1].revents != 0) {
        pump(*connections[i]);
      }
    }
  }
  for (auto& c : connections) {
    if (!c->failed) {
      close(c->fd[0]);
      close(c->fd[1]);
    }
  }
}

}  // namespace mapinotify::testing
