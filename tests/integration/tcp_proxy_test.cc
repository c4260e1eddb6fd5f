// TcpProxy over plain sockets: an echo server behind the proxy, and a client
// that checks forwarding (with buffers far smaller than the data), a cut in
// the middle of a message, and blackholing. Waits are on events (bytes
// arriving, a connection ending, the proxy's counters); the only time-based
// waits are the short windows that prove something does NOT happen while
// blackholed, and they are marked as such.
#include "tests/integration/tcp_proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace mapinotify::testing {
namespace {

constexpr absl::Duration kBound = absl::Seconds(10);  // Failure bound only.
// How long "nothing happens" is watched for while blackholed.
constexpr absl::Duration kQuietWindow = absl::Milliseconds(200);

sockaddr_in Loopback(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  return addr;
}

// A blocking TCP echo server on 127.0.0.1:<free port>, one thread per
// connection. Counts bytes received and connections ended. Thread-safe.
class EchoServer {
 public:
  EchoServer() {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr = Loopback(0);
    bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    listen(listen_fd_, 16);
    socklen_t len = sizeof addr;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { Accept(); });
  }
  ~EchoServer() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
      for (int fd : fds_) shutdown(fd, SHUT_RDWR);
    }
    shutdown(listen_fd_, SHUT_RDWR);
    acceptor_.join();
    close(listen_fd_);
    std::vector<std::thread> threads;
    std::vector<int> fds;
    {
      absl::MutexLock lock(&mu_);
      threads.swap(threads_);
      fds.swap(fds_);
    }
    for (std::thread& t : threads) t.join();
    for (int fd : fds) close(fd);
  }

  int port() const { return port_; }
  uint64_t received() const {
    absl::MutexLock lock(&mu_);
    return received_;
  }
  int ended() const {
    absl::MutexLock lock(&mu_);
    return ended_;
  }
  bool WaitForEnded(int n) {
    struct Args {
      EchoServer* server;
      int n;
    } args{this, n};
    absl::MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(
        absl::Condition(
            +[](Args* a) ABSL_EXCLUSIVE_LOCKS_REQUIRED(a->server->mu_) {
              return a->server->ended_ >= a->n;
            },
            &args),
        kBound);
  }

 private:
  void Accept() {
    for (;;) {
      const int fd = accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) return;  // Shut down.
      absl::MutexLock lock(&mu_);
      if (stopping_) {
        close(fd);
        return;
      }
      fds_.push_back(fd);
      threads_.emplace_back([this, fd] { Echo(fd); });
    }
  }
  void Echo(int fd) {
    char buffer[4096];
    for (;;) {
      const ssize_t n = recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) break;  // EOF, reset, or shut down by the destructor.
      {
        absl::MutexLock lock(&mu_);
        received_ += static_cast<uint64_t>(n);
      }
      if (send(fd, buffer, static_cast<size_t>(n), MSG_NOSIGNAL) != n) break;
    }
    // Pass the end on (the fd itself stays open until the destructor, so
    // that it is never reused while the destructor may shut it down).
    shutdown(fd, SHUT_WR);
    absl::MutexLock lock(&mu_);
    ++ended_;
  }

  int listen_fd_ = -1;
  int port_ = 0;
  std::thread acceptor_;
  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<int> fds_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(mu_);
  uint64_t received_ ABSL_GUARDED_BY(mu_) = 0;
  int ended_ ABSL_GUARDED_BY(mu_) = 0;
};

// A blocking client socket connected to `port`; -1 on failure.
int Connect(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr = Loopback(port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

bool SendAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n =
        send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// Reads exactly `n` bytes, waiting at most kBound for each piece.
std::string RecvExactly(int fd, size_t n) {
  std::string out;
  char buffer[65536];
  while (out.size() < n) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(kBound))) <= 0) {
      break;
    }
    const ssize_t got =
        recv(fd, buffer, std::min(sizeof buffer, n - out.size()), 0);
    if (got <= 0) break;
    out.append(buffer, static_cast<size_t>(got));
  }
  return out;
}

// What the next read on `fd` sees within `timeout`: "timeout", "eof",
// "reset" (or another errno name), or "data".
std::string NextEvent(int fd, absl::Duration timeout) {
  pollfd p{fd, POLLIN, 0};
  const int ready =
      poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
  if (ready == 0) return "timeout";
  char c;
  const ssize_t n = recv(fd, &c, 1, 0);
  if (n > 0) return "data";
  if (n == 0) return "eof";
  return errno == ECONNRESET ? "reset" : std::strerror(errno);
}

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7) % 26);
  return s;
}

TEST(TcpProxy, ForwardsBothWaysThroughSmallBoundedBuffers) {
  EchoServer echo;
  TcpProxy::Options options;
  options.buffer_bytes = 4096;  // 256 times smaller than the data.
  auto proxy = TcpProxy::Start(echo.port(), options);
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  const int fd = Connect((*proxy)->port());
  ASSERT_GE(fd, 0);

  const std::string data = Pattern(1 << 20);
  // The echo answers while the client is still sending: write from another
  // thread, read here.
  bool sent = false;
  std::thread writer([&] { sent = SendAll(fd, data); });
  const std::string back = RecvExactly(fd, data.size());
  writer.join();
  ASSERT_TRUE(sent);
  EXPECT_TRUE(back == data) << "echoed " << back.size() << " bytes";
  EXPECT_EQ((*proxy)->accepted(), 1u);
  // The proxy publishes its counters just after its writes, so the client
  // can have the bytes a moment before the counter says so.
  ASSERT_TRUE((*proxy)->WaitForBytes(TcpProxy::Direction::kServerToClient,
                                     data.size(), kBound));
  EXPECT_EQ((*proxy)->bytes_forwarded(TcpProxy::Direction::kClientToServer),
            data.size());
  EXPECT_EQ((*proxy)->bytes_forwarded(TcpProxy::Direction::kServerToClient),
            data.size());

  // An orderly close travels through: the echo sees EOF and closes, and the
  // client then sees EOF too.
  shutdown(fd, SHUT_WR);
  ASSERT_TRUE(echo.WaitForEnded(1));
  EXPECT_EQ(NextEvent(fd, kBound), "eof");
  close(fd);
}

TEST(TcpProxy, CutAllResetsBothSidesInTheMiddleOfAMessage) {
  EchoServer echo;
  auto proxy = TcpProxy::Start(echo.port());
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  const int fd = Connect((*proxy)->port());
  ASSERT_GE(fd, 0);

  // The first 1000 bytes of what the client announces as a 4000-byte
  // message; their echo proves they crossed.
  const std::string half = Pattern(1000);
  ASSERT_TRUE(SendAll(fd, half));
  ASSERT_EQ(RecvExactly(fd, half.size()), half);

  (*proxy)->CutAll();
  // Both endpoints learn at once, and nothing more crossed.
  EXPECT_EQ(NextEvent(fd, kBound), "reset");
  ASSERT_TRUE(echo.WaitForEnded(1));
  EXPECT_EQ(echo.received(), half.size());
  EXPECT_EQ((*proxy)->live(), 0u);
  close(fd);

  // The proxy goes on forwarding new connections.
  const int again = Connect((*proxy)->port());
  ASSERT_GE(again, 0);
  ASSERT_TRUE(SendAll(again, "again"));
  EXPECT_EQ(RecvExactly(again, 5), "again");
  EXPECT_EQ((*proxy)->accepted(), 2u);
  close(again);
}

TEST(TcpProxy, BlackholeHoldsBytesAndClosesThenResumes) {
  EchoServer echo;
  auto proxy = TcpProxy::Start(echo.port());
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  const int a = Connect((*proxy)->port());
  const int b = Connect((*proxy)->port());
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  ASSERT_TRUE(SendAll(a, "1"));
  ASSERT_EQ(RecvExactly(a, 1), "1");
  ASSERT_TRUE(SendAll(b, "2"));
  ASSERT_EQ(RecvExactly(b, 1), "2");

  (*proxy)->SetBlackhole(true);
  // `a` sends and waits for an echo that cannot come; `b` goes away; a third
  // connection arrives. None of it reaches the echo server, and neither
  // side's socket is closed. (A negative result: watched for kQuietWindow.)
  ASSERT_TRUE(SendAll(a, "hello"));
  close(b);
  const int c = Connect((*proxy)->port());
  ASSERT_GE(c, 0);
  ASSERT_TRUE((*proxy)->WaitForAccepted(3, kBound));
  ASSERT_TRUE(SendAll(c, "3"));
  EXPECT_EQ(NextEvent(a, kQuietWindow), "timeout");
  EXPECT_EQ(NextEvent(c, absl::ZeroDuration()), "timeout");
  EXPECT_EQ(echo.received(), 2u);
  EXPECT_EQ(echo.ended(), 0);
  EXPECT_EQ((*proxy)->live(), 3u);

  (*proxy)->SetBlackhole(false);
  // Everything held is now delivered, once and in order, and `b`'s close
  // reaches the echo server.
  EXPECT_EQ(RecvExactly(a, 5), "hello");
  EXPECT_EQ(RecvExactly(c, 1), "3");
  ASSERT_TRUE(echo.WaitForEnded(1));
  EXPECT_EQ(echo.received(), 8u);

  // A cut works while blackholed too.
  (*proxy)->SetBlackhole(true);
  (*proxy)->CutAll();
  EXPECT_EQ(NextEvent(a, kBound), "reset");
  EXPECT_EQ(NextEvent(c, kBound), "reset");
  close(a);
  close(c);
}

}  // namespace
}  // namespace mapinotify::testing
