// Event: one published notification with its sequence number, immutable and
// shared (std::shared_ptr<const Event>) by every stream that delivers it. It
// is never copied per subscriber: outboxes lend its v1::Notification to the
// outgoing message (see Outbox::TakeWrite).
#ifndef MAPINOTIFY_SERVER_HUB_EVENT_H_
#define MAPINOTIFY_SERVER_HUB_EVENT_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "mapinotify/v1/notifications.pb.h"
#include "server/hub/target_key.h"

namespace mapinotify::server {

class Hub;

// An immutable notification. Thread-safe: every method is const and several
// threads may serialize notification() at once, because the constructor
// computes the protobuf cached sizes before the Event can be shared (later
// ByteSizeLong calls store the same values into protobuf's atomic caches).
class Event {
 public:
  // Takes `notification` (moved) and computes its serialized size once.
  // `targets`: what the notification concerns (PublishItem::targets), kept
  // so that the retention log can match it against a registration later.
  Event(uint64_t sequence, v1::Notification notification,
        std::vector<TargetKey> targets = {});

  // A new event standing for `later` (same sequence, operation and
  // targets) with `notification` instead: a coalesced notification
  // (coalesce.h).
  static std::shared_ptr<const Event> Replacing(const Event& later,
                                                v1::Notification notification);

  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  // Server-wide sequence number, monotonic within the hub's epoch.
  uint64_t sequence() const { return sequence_; }
  // The notification. Valid as long as the Event.
  const v1::Notification& notification() const { return notification_; }
  // notification().ByteSizeLong(), computed at construction.
  size_t byte_size() const { return byte_size_; }
  // The targets it concerns (store-wide registrations match it whatever
  // they are).
  const std::vector<TargetKey>& targets() const { return targets_; }
  // The sequence of the last event of the Publish call this one came from:
  // events with equal values are one operation (delivered in one OnNotify).
  uint64_t operation_end() const { return operation_end_; }
  // Memory the event holds, as the retention log counts it: the serialized
  // size plus its targets and a fixed overhead for the objects around it.
  // Computed once, at construction (the hub adds and subtracts it under its
  // lock for every event it retains and evicts).
  size_t retained_bytes() const { return retained_bytes_; }
  // The event-type bit (the EventType enum value as uint32; fnevExtended is
  // 0x80000000) that registrations' masks are tested against.
  uint32_t event_type() const {
    return static_cast<uint32_t>(notification_.event_type());
  }

 private:
  // The hub builds events before it holds its lock and numbers them inside.
  friend class Hub;
  void set_sequence(uint64_t sequence, uint64_t operation_end) {
    sequence_ = sequence;
    operation_end_ = operation_end;
  }

  // Set once, before the Event is shared.
  uint64_t sequence_;
  uint64_t operation_end_ = 0;
  const v1::Notification notification_;
  const size_t byte_size_;
  const std::vector<TargetKey> targets_;
  const size_t retained_bytes_;
};

using EventPtr = std::shared_ptr<const Event>;

}  // namespace mapinotify::server

#endif  // MAPINOTIFY_SERVER_HUB_EVENT_H_
