#include "client/internal/caller.h"

#include <atomic>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"

namespace mapinotify::internal {

std::string NewSessionId() {
  // absl::BitGen is seeded from the OS's entropy source: two sessions (of
  // this or any other process) do not share an id.
  absl::BitGen gen;
  const uint64_t high = absl::Uniform<uint64_t>(gen);
  const uint64_t low = absl::Uniform<uint64_t>(gen);
  return absl::StrCat(absl::Hex(high, absl::kZeroPad16),
                      absl::Hex(low, absl::kZeroPad16));
}

uint64_t CurrentThreadTag() {
  // Relaxed: the counter only has to hand out distinct values.
  static std::atomic<uint64_t> next{1};
  thread_local const uint64_t tag =
      next.fetch_add(1, std::memory_order_relaxed);
  return tag;
}

void AddCallerMetadata(const std::string& session_id,
                       grpc::ClientContext* context) {
  context->AddMetadata(kSessionMetadataKey, session_id);
  context->AddMetadata(kThreadMetadataKey, absl::StrCat(CurrentThreadTag()));
}

}  // namespace mapinotify::internal
