// Event: one published notification with its sequence number, immutable and
// shared (std::shared_ptr<const Event>) by every stream that delivers it. It
// is never copied per subscriber: outboxes lend its v1::Notification to the
// outgoing message (see Outbox::TakeWrite).
#ifndef MAPINOTIFY_SERVER_HUB_EVENT_H_
#define MAPINOTIFY_SERVER_HUB_EVENT_H_

#include <cstddef>
#include <cstdint>
#include <memory>

#include "mapinotify/v1/notifications.pb.h"

namespace mapinotify::server {

class Hub;

// An immutable notification. Thread-safe: every method is const and several
// threads may serialize notification() at once, because the constructor
// computes the protobuf cached sizes before the Event can be shared (later
// ByteSizeLong calls store the same values into protobuf's atomic caches).
class Event {
 public:
  // Takes `notification` (moved) and computes its serialized size once.
  Event(uint64_t sequence, v1::Notification notification);

  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  // Server-wide sequence number, monotonic within the hub's epoch.
  uint64_t sequence() const { return sequence_; }
  // The notification. Valid as long as the Event.
  const v1::Notification& notification() const { return notification_; }
  // notification().ByteSizeLong(), computed at construction.
  size_t byte_size() const { return byte_size_; }
  // The event-type bit (the EventType enum value as uint32; fnevExtended is
  // 0x80000000) that registrations' masks are tested against.
  uint32_t event_type() const {
    return static_cast<uint32_t>(notification_.event_type());
  }

 private:
  // The hub builds events before it holds its lock and numbers them inside.
  friend class Hub;
  void set_sequence(uint64_t sequence) { sequence_ = sequence; }

  uint64_t sequence_;  // Set once, before the Event is shared.
  const v1::Notification notification_;
  const size_t byte_size_;
};

using EventPtr = std::shared_ptr<const Event>;

}  // namespace mapinotify::server

#endif  // MAPINOTIFY_SERVER_HUB_EVENT_H_
