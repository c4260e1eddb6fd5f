// Target keys: what an advise connection watches, as a hashable string.
//
// A key names one of three kinds of target:
//   - the store (StoreTargetKey): a registration on it matches EVERY
//     published notification (a store-wide watch);
//   - one object by entry id (EntryTargetKey): matches the notifications
//     whose target list contains that key;
//   - one table view by view id (TableTargetKey): likewise.
// A published notification names the keys it concerns (for example a
// folder-created event concerns the parent folder's entry id); the store key
// in a notification's target list is allowed and changes nothing.
//
// Keys are plain values; all functions here are thread-safe.
#ifndef MAPINOTIFY_SERVER_HUB_TARGET_KEY_H_
#define MAPINOTIFY_SERVER_HUB_TARGET_KEY_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace mapinotify::v1 {
class Target;
}  // namespace mapinotify::v1

namespace mapinotify::server {

// An encoded target: one tag byte ('s', 'e' or 't') followed by the entry id
// bytes (entry) or the 8-byte big-endian view id (table). Treat as opaque;
// build with the functions below.
using TargetKey = std::string;

enum class TargetKind { kMalformed, kStore, kEntry, kTable };

// The key of the whole-store target.
TargetKey StoreTargetKey();
// The key of the object `entry_id` (opaque bytes; may be empty, which
// DefaultTargetValidator rejects).
TargetKey EntryTargetKey(absl::string_view entry_id);
// The key of table view `view`.
TargetKey TableTargetKey(uint64_t view);

// The kind of `key`; kMalformed when it was not built by the functions above.
TargetKind GetTargetKind(absl::string_view key);
// The entry id of an entry key. REQUIRES: GetTargetKind(key) == kEntry.
absl::string_view TargetEntryId(absl::string_view key);
// The view id of a table key. REQUIRES: GetTargetKind(key) == kTable.
uint64_t TargetTableView(absl::string_view key);
// Human-readable form for error messages and logs ("store",
// "entry 0a1b...", "table view 7", "malformed target").
std::string DescribeTargetKey(absl::string_view key);

// The key for a wire Target. InvalidArgument when no kind is set. The store
// kind maps to StoreTargetKey() whatever its store_entry_id (the service
// checks that id against the store it serves). Does not check that the
// target exists: see TargetValidator.
absl::StatusOr<TargetKey> TargetKeyFromProto(const v1::Target& target);

// Decides whether a target may be advised: OK, NotFound (no such object or
// table view) or InvalidArgument (malformed). Called by Hub::Advise without
// any hub lock held, possibly from several threads at once.
using TargetValidator = std::function<absl::Status(const TargetKey&)>;

// The validator a Hub uses when none is given: accepts the store key and any
// entry key with a non-empty entry id; NotFound for table keys (the hub alone
// knows no table views); InvalidArgument for an empty entry id or a malformed
// key.
absl::Status DefaultTargetValidator(const TargetKey& key);

}  // namespace mapinotify::server

#endif  // MAPINOTIFY_SERVER_HUB_TARGET_KEY_H_
