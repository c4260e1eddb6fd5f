// The caller identity the client sends as gRPC metadata on every Store call
// and on the Subscribe stream (see proto/mapinotify/v1/store.proto):
//   mapinotify-session: the session's random 128-bit id, 32 hex digits;
//   mapinotify-thread:  the calling OS thread's id, a nonzero decimal number.
// Internal; thread-safe.
#ifndef MAPINOTIFY_CLIENT_INTERNAL_CALLER_H_
#define MAPINOTIFY_CLIENT_INTERNAL_CALLER_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <string>

namespace mapinotify::internal {

inline constexpr char kSessionMetadataKey[] = "mapinotify-session";
inline constexpr char kThreadMetadataKey[] = "mapinotify-thread";

// A new random session id: 32 lowercase hex digits.
std::string NewSessionId();

// The calling OS thread's id: assigned on the thread's first call (1, 2, 3
// ... in order of first use, process-wide), then constant for the thread.
uint64_t CurrentThreadTag();

// Adds both metadata entries for the calling thread to `context`.
void AddCallerMetadata(const std::string& session_id,
                       grpc::ClientContext* context);

}  // namespace mapinotify::internal

#endif  // MAPINOTIFY_CLIENT_INTERNAL_CALLER_H_
