#include "server/hub/event.h"

#include <utility>

namespace mapinotify::server {

Event::Event(uint64_t sequence, v1::Notification notification)
    : sequence_(sequence),
      notification_(std::move(notification)),
      // ByteSizeLong() also writes the cached sizes of every sub-message now,
      // while this thread is the only one that can see the notification.
      byte_size_(notification_.ByteSizeLong()) {}

}  // namespace mapinotify::server
