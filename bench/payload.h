// The notifications the benchmark publishes, and the clock it stamps them
// with. All functions are thread-safe.
//
// Every row carries the same ~120-byte fnevObjectModified OBJECT
// notification (122 bytes serialized): the entry id of message `index` in the
// benchmark folder, the folder's entry id as parent, MAPI_MESSAGE, and four
// changed property tags. Entry ids are 46-byte MAPI long-term ids: 4 flag
// bytes, a 16-byte provider UID, then provider data. The message id's last 8
// bytes hold the publish time (CLOCK_MONOTONIC nanoseconds, big-endian), so
// a client on the same machine can measure publish-to-OnNotify latency
// without any field the wire does not already have; its 8 bytes before that
// hold `index`, so that no two notifications of a run are alike (a hub that
// coalesces ObjectModified per entry id could not merge them).
//
// A run ends with an fnevExtended notification with event code
// kEndMarkerCode, published after the measured ones on the same target, so
// that a client knows (by the per-connection order guarantee) that nothing
// more is coming.
#ifndef MAPINOTIFY_BENCH_PAYLOAD_H_
#define MAPINOTIFY_BENCH_PAYLOAD_H_

#include <cstdint>
#include <string>

#include "mapinotify/notification.h"
#include "mapinotify/v1/notification.pb.h"

namespace mapinotify::bench {

// fnevExtended event code of the end-of-run marker.
inline constexpr uint32_t kEndMarkerCode = 0x424e4348;  // "BNCH"

// CLOCK_MONOTONIC in nanoseconds: comparable across processes on one machine.
int64_t MonotonicNanos();

// The entry id of the folder every row publishes to and advises on.
std::string FolderEntryId();

// The event mask every advise on that folder uses: the measured
// notifications and the end marker.
inline constexpr ULONG kFolderEventMask = fnevObjectModified | fnevExtended;

// fnevObjectModified on message `index` of the folder, stamped `stamp_ns`.
v1::Notification ObjectModified(uint64_t index, int64_t stamp_ns);

// The end-of-run marker.
v1::Notification EndMarker();

// The publish stamp of a delivered ObjectModified(...), or -1 for any other
// notification.
int64_t StampOf(const Notification& n);

// True for the delivered end-of-run marker.
bool IsEndMarker(const Notification& n);

// The same two on the wire message, for the raw baselines' readers.
int64_t StampOf(const v1::Notification& n);
bool IsEndMarker(const v1::Notification& n);

}  // namespace mapinotify::bench

#endif  // MAPINOTIFY_BENCH_PAYLOAD_H_
