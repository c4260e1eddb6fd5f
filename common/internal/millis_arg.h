// A duration as gRPC's int-milliseconds channel arguments take it (keepalive
// times, ping intervals), shared by the server and the client. No gRPC.
#ifndef MAPINOTIFY_COMMON_INTERNAL_MILLIS_ARG_H_
#define MAPINOTIFY_COMMON_INTERNAL_MILLIS_ARG_H_

#include <algorithm>
#include <cstdint>
#include <limits>

#include "absl/time/time.h"

namespace mapinotify::internal {

// Infinite (or anything past INT_MAX ms) is INT_MAX, which gRPC reads as
// "never"; negative is 0.
inline int ToMillisArg(absl::Duration d) {
  if (d >= absl::Milliseconds(std::numeric_limits<int>::max())) {
    return std::numeric_limits<int>::max();
  }
  return static_cast<int>(std::max<int64_t>(0, absl::ToInt64Milliseconds(d)));
}

}  // namespace mapinotify::internal

#endif  // MAPINOTIFY_COMMON_INTERNAL_MILLIS_ARG_H_
