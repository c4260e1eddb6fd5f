// Open-message contexts: what CreateMessage / OpenMessage hand out as a
// Handle, with the pending (unsaved) changes of each context.
//
// A context belongs to one client session. Opened normally, every thread of
// that session shares its one set of pending changes; opened thread-aware,
// each client thread of the session has its own (keyed by
// CallContext::thread). Handles are never reused.
//
// Thread-compatible: the Store keeps its OpenContexts under its mutex.
#ifndef MAPINOTIFY_SERVER_STORE_OPEN_CONTEXTS_H_
#define MAPINOTIFY_SERVER_STORE_OPEN_CONTEXTS_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "server/store/entry_id.h"
#include "server/store/property_bag.h"
#include "server/store/store.h"
#include "server/store/store_objects.h"

namespace mapinotify::server::store {

// One open message.
struct OpenMessageContext {
  // The owning session.
  std::string session;
  // The message's object number (allocated by CreateMessage even though the
  // message exists in the store only once saved).
  ObjectNumber message = 0;
  // An unsaved new message: its values so far (defaults) and the folder it
  // will be saved in. Reset by the first SaveChanges.
  std::optional<Message> draft;
  bool writable = false;
  bool thread_aware = false;

  // The pending changes of `thread` (all threads share one unless
  // thread_aware); nullptr when there are none.
  const PendingChanges* FindPending(uint64_t thread) const;
  // The same, created empty when missing.
  PendingChanges& MutablePending(uint64_t thread);
  // Drops the pending changes of `thread`.
  void ClearPending(uint64_t thread);

 private:
  uint64_t Key(uint64_t thread) const { return thread_aware ? thread : 0; }
  absl::flat_hash_map<uint64_t, PendingChanges> pending_;
};

class OpenContexts {
 public:
  explicit OpenContexts(size_t max_per_session)
      : max_per_session_(max_per_session) {}

  // Adds `context` (its session set) under a new handle. ResourceExhausted
  // (MAPI_E_NOT_ENOUGH_RESOURCES) when its session already holds
  // max_per_session handles.
  absl::StatusOr<Handle> Add(OpenMessageContext context);

  // The context of `handle` when `caller.session` owns it; NotFound
  // (MAPI_E_NOT_FOUND) for an unknown handle or one of another session (the
  // same answer, so that a session learns nothing about another's handles).
  // The pointer is valid until the next Add or Remove*.
  absl::StatusOr<OpenMessageContext*> Find(const CallContext& caller,
                                           Handle handle);
  absl::StatusOr<const OpenMessageContext*> Find(const CallContext& caller,
                                                 Handle handle) const;

  // Removes `handle` if `caller.session` owns it (see Find).
  absl::Status Remove(const CallContext& caller, Handle handle);

  // Removes every handle of `session`.
  void RemoveSession(const std::string& session);

  // Handles held by `session`.
  size_t CountForSession(const std::string& session) const;

 private:
  const size_t max_per_session_;
  Handle next_handle_ = 1;
  // std::unordered_map: Find's pointers stay valid across rehashing.
  std::unordered_map<Handle, OpenMessageContext> open_;
  absl::flat_hash_map<std::string, absl::flat_hash_set<Handle>> by_session_;
};

}  // namespace mapinotify::server::store

#endif  // MAPINOTIFY_SERVER_STORE_OPEN_CONTEXTS_H_
