#include "mapinotify/session.h"

#include <utility>

#include "client/internal/session_impl.h"

namespace mapinotify {

absl::StatusOr<std::unique_ptr<Session>> Session::Open(
    const std::string& address, SessionOptions options,
    absl::Duration connect_timeout) {
  absl::StatusOr<std::unique_ptr<Impl>> impl =
      Impl::Open(address, std::move(options), connect_timeout);
  if (!impl.ok()) return impl.status();
  return std::unique_ptr<Session>(new Session(*std::move(impl)));
}

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Session::~Session() = default;

absl::StatusOr<ConnectionId> Session::Advise(const AdviseTarget& target,
                                             ULONG event_mask,
                                             std::shared_ptr<AdviseSink> sink) {
  return impl_->Advise(target, event_mask, std::move(sink));
}

absl::Status Session::Unadvise(ConnectionId connection) {
  return impl_->Unadvise(connection);
}

absl::StatusOr<std::unique_ptr<MsgStore>> Session::OpenMsgStore() {
  return impl_->OpenMsgStore();
}

uint64_t Session::epoch() const { return impl_->epoch(); }

SessionState Session::state() const { return impl_->state(); }

SessionStats Session::stats() const { return impl_->stats(); }

}  // namespace mapinotify
