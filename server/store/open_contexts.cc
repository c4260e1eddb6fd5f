#include "server/store/open_contexts.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "mapinotify/status.h"

namespace mapinotify::server::store {
namespace {

absl::Status NoSuchHandle(Handle handle) {
  return MapiError(MAPI_E_NOT_FOUND, absl::StrCat("no open message ", handle,
                                                  " in this session"));
}

}  // namespace

const PendingChanges* OpenMessageContext::FindPending(uint64_t thread) const {
  auto it = pending_.find(Key(thread));
  return it == pending_.end() ? nullptr : &it->second;
}

PendingChanges& OpenMessageContext::MutablePending(uint64_t thread) {
  return pending_[Key(thread)];
}

void OpenMessageContext::ClearPending(uint64_t thread) {
  pending_.erase(Key(thread));
}

absl::StatusOr<Handle> OpenContexts::Add(OpenMessageContext context) {
  absl::flat_hash_set<Handle>& handles = by_session_[context.session];
  if (handles.size() >= max_per_session_) {
    const size_t held = handles.size();
    if (held == 0) by_session_.erase(context.session);
    return MapiError(MAPI_E_NOT_ENOUGH_RESOURCES,
                     absl::StrCat("the session already holds ", held,
                                  " open messages (the most allowed)"));
  }
  const Handle handle = next_handle_++;
  handles.insert(handle);
  open_.emplace(handle, std::move(context));
  return handle;
}

absl::StatusOr<OpenMessageContext*> OpenContexts::Find(
    const CallContext& caller, Handle handle) {
  auto it = open_.find(handle);
  if (it == open_.end() || it->second.session != caller.session) {
    return NoSuchHandle(handle);
  }
  return &it->second;
}

absl::StatusOr<const OpenMessageContext*> OpenContexts::Find(
    const CallContext& caller, Handle handle) const {
  auto it = open_.find(handle);
  if (it == open_.end() || it->second.session != caller.session) {
    return NoSuchHandle(handle);
  }
  return &it->second;
}

absl::Status OpenContexts::Remove(const CallContext& caller, Handle handle) {
  auto it = open_.find(handle);
  if (it == open_.end() || it->second.session != caller.session) {
    return NoSuchHandle(handle);
  }
  auto session = by_session_.find(caller.session);
  if (session != by_session_.end()) {
    session->second.erase(handle);
    if (session->second.empty()) by_session_.erase(session);
  }
  open_.erase(it);
  return absl::OkStatus();
}

void OpenContexts::RemoveSession(const std::string& session) {
  auto it = by_session_.find(session);
  if (it == by_session_.end()) return;
  for (Handle handle : it->second) open_.erase(handle);
  by_session_.erase(it);
}

size_t OpenContexts::CountForSession(const std::string& session) const {
  auto it = by_session_.find(session);
  return it == by_session_.end() ? 0 : it->second.size();
}

}  // namespace mapinotify::server::store
