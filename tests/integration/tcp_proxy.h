// TcpProxy: a TCP proxy on 127.0.0.1 that sits between a client and a server
// in fault tests and can cut or blackhole every connection on command.
#ifndef MAPINOTIFY_TESTS_INTEGRATION_TCP_PROXY_H_
#define MAPINOTIFY_TESTS_INTEGRATION_TCP_PROXY_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace mapinotify::testing {

// Listens on 127.0.0.1:<free port>; every connection it accepts is forwarded
// to 127.0.0.1:<upstream port> over a connection of its own. One thread (the
// proxy's) owns every socket and moves the bytes with poll(); the test-facing
// methods below only post commands to it and wait until it has applied them.
//
// Memory is bounded: each connection buffers at most `buffer_bytes` per
// direction, and a side is not read while its buffer is full (backpressure
// reaches the sender through TCP flow control).
//
// An orderly close (FIN) of one side is passed on to the other once the bytes
// before it are delivered; an error on either side (reset, refused upstream)
// aborts both sides.
//
// Thread-safe: any method may be called from any thread. Destroying the proxy
// closes every socket and joins its thread; it must not be destroyed while
// another thread is inside one of its methods.
class TcpProxy {
 public:
  struct Options {
    // Bytes buffered per connection and direction.
    size_t buffer_bytes = 64 << 10;
  };
  enum class Direction { kClientToServer = 0, kServerToClient = 1 };

  // Starts forwarding to 127.0.0.1:`upstream_port`. Unavailable when the
  // listening socket, the wake-up fd or the thread cannot be created.
  static absl::StatusOr<std::unique_ptr<TcpProxy>> Start(int upstream_port,
                                                         Options options);
  static absl::StatusOr<std::unique_ptr<TcpProxy>> Start(int upstream_port) {
    return Start(upstream_port, Options());
  }
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  // The port the proxy listens on, and "127.0.0.1:<port>" for clients.
  int port() const { return port_; }
  std::string target() const;

  // Closes every live connection now, both sides, whatever is in flight
  // (buffered bytes are discarded, so a message can be cut in the middle):
  // each endpoint sees a reset (abortive close, SO_LINGER 0). Connections
  // accepted later are forwarded normally (unless blackholed). Returns once
  // the sockets are closed. Works in blackhole mode too.
  void CutAll() ABSL_LOCKS_EXCLUDED(mu_);

  // `on`: stop moving bytes in both directions, and stop watching the
  // connections at all (no read, no write, no close, even when an endpoint
  // closes or resets), while keeping every socket open — to each endpoint the
  // other one looks like a dead host behind a half-open connection.
  // Connections accepted while blackholed are connected upstream and held
  // the same way. `off`: forwarding resumes where it stopped (nothing is
  // lost; what an endpoint did meanwhile is then seen). Returns once the
  // proxy has applied it: after SetBlackhole(true) returns, no further byte
  // is forwarded.
  void SetBlackhole(bool on) ABSL_LOCKS_EXCLUDED(mu_);

  // Connections accepted so far (including cut and closed ones).
  uint64_t accepted() const ABSL_LOCKS_EXCLUDED(mu_);
  // Connections open now (both sides).
  size_t live() const ABSL_LOCKS_EXCLUDED(mu_);
  // Bytes written to the receiving side in `direction` so far, over all
  // connections.
  uint64_t bytes_forwarded(Direction direction) const ABSL_LOCKS_EXCLUDED(mu_);

  // Wait until accepted() >= n / bytes_forwarded(direction) >= n; false when
  // `timeout` passes first.
  bool WaitForAccepted(uint64_t n, absl::Duration timeout)
      ABSL_LOCKS_EXCLUDED(mu_);
  bool WaitForBytes(Direction direction, uint64_t n, absl::Duration timeout)
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Connection;

  TcpProxy(int upstream_port, Options options)
      : upstream_port_(upstream_port), options_(options) {}

  // Posts a command: bumps command_seq_ under mu_ (the caller has already
  // changed the state it is about), wakes the thread, waits until it has
  // applied everything up to that command.
  void PostAndWait() ABSL_LOCKS_EXCLUDED(mu_);
  void Wake();

  // The proxy's thread.
  void Run();

  // Constant after construction.
  const int upstream_port_;
  const Options options_;
  int listen_fd_ = -1;
  int wake_fd_ = -1;  // eventfd: written by commands, read by the thread.
  int port_ = 0;
  std::thread thread_;

  mutable absl::Mutex mu_;
  // Commands (written by the test-facing methods).
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool blackhole_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t cut_requested_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t command_seq_ ABSL_GUARDED_BY(mu_) = 0;
  // What the thread has done (written by the thread).
  uint64_t applied_seq_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t accepted_ ABSL_GUARDED_BY(mu_) = 0;
  size_t live_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t bytes_[2] ABSL_GUARDED_BY(mu_) = {0, 0};
};

}  // namespace mapinotify::testing

#endif  // MAPINOTIFY_TESTS_INTEGRATION_TCP_PROXY_H_
