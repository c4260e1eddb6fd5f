#include "server/hub/event.h"

#include <utility>

namespace mapinotify::server {
namespace {

// See Event::retained_bytes().
size_t RetainedBytes(size_t byte_size, const std::vector<TargetKey>& targets) {
  // An estimate, not a measurement: the Event and its control block, the
  // parsed protobuf objects (about twice the serialized size for an OBJECT
  // notification's strings and repeated fields), and the targets.
  size_t bytes = 256 + 2 * byte_size;
  for (const TargetKey& target : targets) {
    bytes += sizeof(TargetKey) + target.capacity();
  }
  return bytes;
}

}  // namespace

Event::Event(uint64_t sequence, v1::Notification notification,
             std::vector<TargetKey> targets)
    : sequence_(sequence),
      notification_(std::move(notification)),
      // ByteSizeLong() also writes the cached sizes of every sub-message now,
      // while this thread is the only one that can see the notification.
      byte_size_(notification_.ByteSizeLong()),
      targets_(std::move(targets)),
      retained_bytes_(RetainedBytes(byte_size_, targets_)) {}

std::shared_ptr<const Event> Event::Replacing(const Event& later,
                                              v1::Notification notification) {
  auto event = std::make_shared<Event>(later.sequence_, std::move(notification),
                                       later.targets_);
  event->operation_end_ = later.operation_end_;
  return event;
}

}  // namespace mapinotify::server
