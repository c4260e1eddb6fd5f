#include "server/hub/hub.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/random/random.h"
#include "absl/strings/str_format.h"
#include "mapinotify/mapi.h"
#include "mapinotify/status.h"
#include "server/hub/coalesce.h"

namespace mapinotify::server {
namespace {

// Every outbox of a hub with a retention log catches up from it.
Outbox::Options OutboxOptions(const Hub::Options& options) {
  Outbox::Options outbox = options.outbox;
  outbox.catch_up = options.retention.max_events > 0;
  return outbox;
}

uint64_t RandomEpoch() {
  absl::BitGen gen;
  uint64_t epoch = 0;
  while (epoch == 0) epoch = absl::Uniform<uint64_t>(gen);
  return epoch;
}

v1::SubscribeResponse UnadvisedResponse(uint64_t connection,
                                        const absl::Status& status) {
  v1::SubscribeResponse response;
  v1::Unadvised* unadvised = response.mutable_unadvised();
  unadvised->set_connection(connection);
  *unadvised->mutable_status() = ToConnectionStatus(status);
  return response;
}

}  // namespace

v1::SubscribeResponse AdvisedResponse(uint64_t connection,
                                      const absl::Status& status,
                                      uint64_t sequence) {
  v1::SubscribeResponse response;
  v1::Advised* advised = response.mutable_advised();
  advised->set_connection(connection);
  *advised->mutable_status() = ToConnectionStatus(status);
  if (status.ok()) advised->set_sequence(sequence);
  return response;
}

v1::ConnectionStatus ToConnectionStatus(const absl::Status& status) {
  v1::ConnectionStatus wire;
  wire.set_code(static_cast<int32_t>(status.code()));
  wire.set_message(std::string(status.message()));
  wire.set_scode(ScodeOf(status));
  return wire;
}

Hub::Hub(Options options)
    : outbox_options_(OutboxOptions(options)),
      retention_(options.retention),
      epoch_(options.epoch != 0 ? options.epoch : RandomEpoch()),
      validator_(options.validator ? std::move(options.validator)
                                   : TargetValidator(DefaultTargetValidator)),
      waker_(options.inline_wakes) {}

Hub::~Hub() = default;

uint64_t Hub::last_sequence() const {
  absl::MutexLock lock(&mu_);
  return last_sequence_;
}

void Hub::Wakes::Run() {
  if (outboxes_.empty()) return;  // Nothing owed: the hub may be gone.
  if (waker_ != nullptr) {
    waker_->Run(&outboxes_);
    return;
  }
  std::vector<std::shared_ptr<Outbox>> outboxes;
  outboxes.swap(outboxes_);
  for (const std::shared_ptr<Outbox>& outbox : outboxes) outbox->Wake();
}

std::shared_ptr<Outbox> Hub::OpenStream(std::function<void()> wake) {
  auto outbox = std::make_shared<Outbox>(outbox_options_, std::move(wake));
  v1::SubscribeResponse hello;
  hello.mutable_hello()->set_epoch(epoch_);
  absl::MutexLock lock(&mu_);
  hello.mutable_hello()->set_sequence(last_sequence_);
  // The first push of an idle outbox is always "wake due"; by contract the
  // caller starts writing itself, so the wake is deliberately not sent.
  (void)outbox->PushControl(std::move(hello));
  registry_.AddStream(outbox);
  return outbox;
}

absl::Status Hub::Advise(Outbox* stream, uint64_t connection,
                         const TargetKey& target, uint32_t event_mask,
                         const ResumeFrom* resume) {
  absl::Status status;
  if (connection == 0) {
    status = absl::InvalidArgumentError("connection number 0 is invalid");
  } else if (event_mask == 0) {
    status = absl::InvalidArgumentError("empty event mask");
  } else if ((event_mask & ~kKnownEventMask) != 0) {
    status = absl::InvalidArgumentError(absl::StrFormat(
        "event mask has unknown bits 0x%08x", event_mask & ~kKnownEventMask));
  } else {
    status = validator_(target);  // Without the hub lock.
  }
  bool wake = false;
  {
    absl::MutexLock lock(&mu_);
    if (!registry_.HasStream(stream)) {
      return absl::FailedPreconditionError("stream is closed");
    }
    if (status.ok() && sealed_) {
      status = absl::UnavailableError("the server is shutting down");
    }
    if (status.ok()) {
      status =
          registry_.Add(stream, connection, target, event_mask, last_sequence_);
    }
    // Under the hub lock: no delivery for the connection can precede it.
    wake = stream->PushControl(
        AdvisedResponse(connection, status, last_sequence_));
    if (status.ok() && resume != nullptr) {
      wake =
          ResumeLocked(stream, connection, target, event_mask, *resume) || wake;
    }
  }
  if (wake) stream->Wake();
  return status;
}

bool Hub::ResumeLocked(Outbox* stream, uint64_t connection,
                       const TargetKey& target, uint32_t event_mask,
                       const ResumeFrom& resume) {
  std::string why;
  if (resume.epoch != epoch_) {
    why = absl::StrFormat(
        "the server restarted without its history (epoch %016x, the "
        "connection's was %016x)",
        epoch_, resume.epoch);
  } else if (resume.after > last_sequence_) {
    why = absl::StrFormat(
        "the resume point %d is ahead of the server's last sequence %d",
        resume.after, last_sequence_);
  } else if (resume.after < retained_after_) {
    why = absl::StrFormat(
        "the resume point %d fell out of the retention log (it keeps the "
        "notifications after %d)",
        resume.after, retained_after_);
  }
  if (!why.empty()) {
    ++resumes_resynced_;
    v1::SubscribeResponse response;
    v1::Resync* resync = response.mutable_resync();
    resync->add_connections(connection);
    resync->set_reason(std::move(why));
    resync->set_resume_sequence(last_sequence_);
    return stream->PushControl(std::move(response));
  }
  // The matches, each with ends_batch on the last of its operation.
  std::vector<Outbox::Replayed> replay;
  const size_t first = static_cast<size_t>(resume.after - retained_after_);
  for (size_t i = first; i < retained_.size(); ++i) {
    const EventPtr& event = retained_[i];
    if (!Registry::Matches(target, event_mask, event->event_type(),
                           event->targets())) {
      continue;
    }
    if (!replay.empty()) {
      replay.back().ends_batch =
          replay.back().event->operation_end() != event->operation_end();
    }
    replay.push_back(Outbox::Replayed{event, true});
  }
  bool wake = false;
  if (replay.empty() || stream->PushReplay(replay, connection, &wake)) {
    ++resumes_replayed_;
    replayed_deliveries_ += replay.size();
    return wake;
  }
  // Too many for the queue now (or the stream is catching up): the refills
  // queue them from the log on the stream's cursor, rewound to the resume
  // point; the other registrations start past what they already got. (A
  // hub that retains events gives every outbox a cursor: Options::
  // catch_up.)
  uint64_t floor = 0;
  wake = stream->Rewind(resume.after + 1, last_sequence_, connection, &floor);
  registry_.RaiseSince(stream, floor);
  registry_.SetSince(stream, connection, resume.after);
  ++resumes_replayed_;
  ++replays_through_cursor_;
  return wake;
}

absl::Status Hub::Unadvise(Outbox* stream, uint64_t connection) {
  absl::Status status;
  bool wake = false;
  {
    absl::MutexLock lock(&mu_);
    if (!registry_.HasStream(stream)) {
      return absl::FailedPreconditionError("stream is closed");
    }
    status = registry_.Remove(stream, connection);
    wake = stream->PushControl(UnadvisedResponse(connection, status));
  }
  if (wake) stream->Wake();
  return status;
}

void Hub::CloseStream(Outbox* stream) {
  {
    absl::MutexLock lock(&mu_);
    registry_.RemoveStream(stream);
  }
  stream->Close();
}

uint64_t Hub::Publish(std::vector<PublishItem> items) {
  Wakes wakes;
  const uint64_t last = PublishDeferred(std::move(items), &wakes);
  wakes.Run();
  return last;
}

uint64_t Hub::PublishDeferred(std::vector<PublishItem> items, Wakes* wakes) {
  if (items.empty()) return last_sequence();
  // Built (and sized) before taking the lock; numbered inside it.
  // Inline for the common small operation: no allocation for the lists.
  EventList events;
  events.reserve(items.size());
  for (PublishItem& item : items) {
    events.push_back(std::make_shared<Event>(0, std::move(item.notification),
                                             std::move(item.targets)));
  }
  wakes->waker_ = &waker_;
  std::vector<std::shared_ptr<Outbox>>& wake = wakes->outboxes_;
  // begins[i]: index in matches_ of event i's first match; then the end.
  absl::InlinedVector<size_t, 8> begins;
  begins.reserve(events.size() + 1);
  uint64_t last = 0;
  EvictedList evicted;
  {
    absl::MutexLock lock(&mu_);
    // Numbering and queuing in one critical section: every stream sees the
    // events in sequence order, whatever other publishers do.
    matches_.clear();
    const uint64_t operation_end = last_sequence_ + events.size();
    for (size_t i = 0; i < events.size(); ++i) {
      events[i]->set_sequence(++last_sequence_, operation_end);
      begins.push_back(matches_.size());
      registry_.Collect(events[i]->targets(), events[i]->event_type(),
                        &matches_);
    }
    begins.push_back(matches_.size());
    last = last_sequence_;
    // The last match of each stream in this call gets ends_batch.
    absl::flat_hash_map<const Outbox*, size_t> last_match;
    if (events.size() > 1) {
      for (size_t m = 0; m < matches_.size(); ++m) {
        last_match[matches_[m].outbox->get()] = m;
      }
    }
    for (size_t i = 0; i < events.size(); ++i) {
      const EventPtr event = events[i];
      for (size_t m = begins[i]; m < begins[i + 1]; ++m) {
        Registry::Match& match = matches_[m];
        Outbox* outbox = match.outbox->get();
        const bool ends_batch = events.size() == 1 || last_match[outbox] == m;
        if (outbox->PushDelivery(event, std::move(match.connections),
                                 ends_batch)) {
          wake.push_back(*match.outbox);
        }
      }
    }
    matches_.clear();
    RetainLocked(events, &evicted);
  }
  return last;  // `evicted` is released here, without the lock.
}

void Hub::RetainLocked(const EventList& events, EvictedList* evicted) {
  for (const std::shared_ptr<Event>& event : events) {
    retained_.push_back(event);
    retained_bytes_ += event->retained_bytes();
  }
  while (!retained_.empty() && (retained_.size() > retention_.max_events ||
                                retained_bytes_ > retention_.max_bytes)) {
    retained_bytes_ -= retained_.front()->retained_bytes();
    retained_after_ = retained_.front()->sequence();
    evicted->push_back(std::move(retained_.front()));
    retained_.pop_front();
  }
}

size_t Hub::SendProgressMarks(bool all_streams) {
  std::vector<std::shared_ptr<Outbox>> wake;
  size_t marks = 0;
  {
    absl::MutexLock lock(&mu_);
    const uint64_t sequence = last_sequence_;
    registry_.ForEachStream(
        [&](const std::shared_ptr<Outbox>& outbox, size_t registrations)
            ABSL_NO_THREAD_SAFETY_ANALYSIS {
              if (registrations == 0 && !all_streams) return;
              bool accepted = false;
              if (outbox->PushProgressMark(sequence, &accepted)) {
                wake.push_back(outbox);
              }
              if (accepted) ++marks;
            });
    progress_marks_ += marks;
  }
  waker_.Run(&wake);
  return marks;
}

void Hub::Refill(Outbox* stream) {
  absl::MutexLock lock(&mu_);
  uint64_t next = 0;
  bool exact = false;  // A replay: every event, none coalesced.
  if (!registry_.HasStream(stream) || !stream->RefillCursor(&next, &exact)) {
    return;
  }
  ++refills_;
  if (next <= retained_after_) {
    ++catch_up_resyncs_;
    stream->EndCatchUp(
        absl::StrFormat("the stream fell behind past the retention log: it "
                        "needed sequence %d, the oldest kept is %d",
                        next, retained_after_ + 1),
        last_sequence_);
    return;
  }
  // Half the bounds: the refill never overflows the outbox it refills.
  const Outbox::Options& bounds = stream->options();
  const size_t max_items = std::max<size_t>(1, bounds.max_items / 2);
  const size_t max_bytes = std::max<size_t>(1, bounds.max_bytes / 2);
  // The window: the stream's matches from the cursor on, within the bounds.
  std::vector<WindowItem> window;
  size_t bytes = 0;
  size_t i = static_cast<size_t>(next - retained_after_ - 1);
  const size_t end = std::min(retained_.size(), i + kRefillScan);
  ConnectionList connections;
  for (; i < end && bytes < max_bytes; ++i) {
    if (window.size() >= max_items) {
      if (exact) break;
      // Full: coalesce, and go on scanning only if that freed a quarter
      // (so that a window is coalesced O(1) times per item it keeps).
      coalesced_ += Coalesce(&window);
      bytes = 0;
      for (const WindowItem& item : window) bytes += item.event->byte_size();
      if (window.size() > max_items - std::max<size_t>(1, max_items / 4)) {
        break;
      }
    }
    const EventPtr& event = retained_[i];
    connections.clear();
    registry_.CollectStream(stream, *event, &connections);
    if (connections.empty()) continue;
    bytes += event->byte_size();
    window.push_back(WindowItem{event, connections});
  }
  // Does the operation of the window's last match go on past the window?
  bool more = false;
  if (!window.empty()) {
    const uint64_t operation = window.back().event->operation_end();
    for (size_t j = i;
         j < retained_.size() && retained_[j]->operation_end() == operation;
         ++j) {
      connections.clear();
      registry_.CollectStream(stream, *retained_[j], &connections);
      if (!connections.empty()) {
        more = true;
        break;
      }
    }
  }
  if (!exact) coalesced_ += Coalesce(&window);
  // ends_batch on the last delivery of each operation (after coalescing).
  for (size_t k = 0; k < window.size(); ++k) {
    const bool ends_batch = k + 1 < window.size()
                                ? window[k + 1].event->operation_end() !=
                                      window[k].event->operation_end()
                                : !more;
    stream->RefillDelivery(std::move(window[k].event),
                           std::move(window[k].connections), ends_batch);
  }
  refilled_deliveries_ += window.size();
  if (i >= retained_.size()) {
    stream->EndCatchUp("", 0);  // Caught up: live from here, in order.
  } else {
    stream->AdvanceCursor(retained_[i]->sequence());
  }
}

void Hub::Seal() {
  std::vector<std::shared_ptr<Outbox>> wake;
  {
    absl::MutexLock lock(&mu_);
    if (sealed_) return;
    sealed_ = true;
    registry_.ForEachStream([&](const std::shared_ptr<Outbox>& outbox, size_t)
                                ABSL_NO_THREAD_SAFETY_ANALYSIS {
                                  if (outbox->PushFinalMark(last_sequence_))
                                    wake.push_back(outbox);
                                });
    registry_.ClearRegistrations();
  }
  for (const std::shared_ptr<Outbox>& outbox : wake) outbox->Wake();
}

Hub::Stats Hub::GetStats() const {
  absl::MutexLock lock(&mu_);
  Stats stats;
  stats.streams = registry_.stream_count();
  stats.registrations = registry_.registration_count();
  stats.last_sequence = last_sequence_;
  stats.retained_events = retained_.size();
  stats.retained_bytes = retained_bytes_;
  stats.retained_after = retained_after_;
  stats.resumes_replayed = resumes_replayed_;
  stats.replayed_deliveries = replayed_deliveries_;
  stats.resumes_resynced = resumes_resynced_;
  stats.replays_through_cursor = replays_through_cursor_;
  stats.progress_marks = progress_marks_;
  stats.refills = refills_;
  stats.refilled_deliveries = refilled_deliveries_;
  stats.catch_up_resyncs = catch_up_resyncs_;
  stats.coalesced = coalesced_;
  return stats;
}

}  // namespace mapinotify::server
