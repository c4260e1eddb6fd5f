// Coalescing of state-like notifications for a stream that fell behind
// (DESIGN.md section 4): when Hub::Refill queues a window of a slow stream's
// events from the retention log, it first merges the ones whose later
// occurrence makes the earlier one redundant, so that the stream catches up
// with fewer deliveries.
//
// Rules (each within one window and for the same connection list):
//   - fnevObjectModified of an entry followed by another fnevObjectModified
//     of the same entry, with no other event about that entry (as its
//     entry id or old id) in between: the earlier one is left out and the
//     later one carries the union of their property tags.
//   - TABLE_ROW_MODIFIED of a row of a view followed by another
//     TABLE_ROW_MODIFIED of the same row (instance key), with no other row
//     event of that view in between: the earlier one is left out (the later
//     row and position are the current ones). Row events are never merged
//     across another row event of the view: the mirror applies positions
//     relative to the rows before.
//   - Then, more than kRowEventsPerView row events (added / modified /
//     deleted) of one view in the window become one TABLE_CHANGED in the
//     place of the last of them: the table's reader reloads it (a reload
//     carries the view's sequence, so the later events it already contains
//     are skipped — see client/table_mirror_state.cc).
//   - Nothing else is merged: new mail, critical errors, extended, created,
//     deleted, moved, copied and search events, and the other table events,
//     always go through one by one.
// A left-out notification's sequence is not delivered; the resume point
// and order are unaffected (the kept one is the later).
#ifndef MAPINOTIFY_SERVER_HUB_COALESCE_H_
#define MAPINOTIFY_SERVER_HUB_COALESCE_H_

#include <cstddef>
#include <vector>

#include "server/hub/event.h"
#include "server/hub/outbox.h"

namespace mapinotify::server {

// One event of a refill window and the stream's connections it matches.
struct WindowItem {
  EventPtr event;
  ConnectionList connections;
};

inline constexpr size_t kRowEventsPerView = 32;

// Applies the rules above to `window` (in sequence order) in place; returns
// how many notifications were left out. A kept ObjectModified that absorbed
// tags is replaced by a new Event (Event::Replacing). The last item is never
// left out.
size_t Coalesce(std::vector<WindowItem>* window);

}  // namespace mapinotify::server

#endif  // MAPINOTIFY_SERVER_HUB_COALESCE_H_
