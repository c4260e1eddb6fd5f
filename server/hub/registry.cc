#include "server/hub/registry.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace mapinotify::server {

Registry::~Registry() = default;

bool Registry::AddStream(std::shared_ptr<Outbox> outbox) {
  const Outbox* key = outbox.get();
  auto stream = std::make_unique<Stream>();
  stream->outbox = std::move(outbox);
  return streams_.emplace(key, std::move(stream)).second;
}

bool Registry::HasStream(const Outbox* stream) const {
  return streams_.contains(stream);
}

std::shared_ptr<Outbox> Registry::RemoveStream(const Outbox* stream) {
  auto it = streams_.find(stream);
  if (it == streams_.end()) return nullptr;
  std::unique_ptr<Stream> removed = std::move(it->second);
  streams_.erase(it);
  for (auto& [connection, registration] : removed->connections) {
    Unindex(registration.get());
  }
  registration_count_ -= removed->connections.size();
  return std::move(removed->outbox);
}

void Registry::ClearRegistrations() {
  for (auto& [key, stream] : streams_) stream->connections.clear();
  by_target_.clear();
  store_wide_.clear();
  registration_count_ = 0;
}

Registry::RegistrationList* Registry::ListFor(const TargetKey& target) {
  if (GetTargetKind(target) == TargetKind::kStore) return &store_wide_;
  return &by_target_[target];
}

absl::Status Registry::Add(const Outbox* stream, uint64_t connection,
                           const TargetKey& target, uint32_t event_mask,
                           uint64_t since) {
  auto it = streams_.find(stream);
  if (it == streams_.end()) {
    return absl::FailedPreconditionError("stream is closed");
  }
  Stream* s = it->second.get();
  auto [slot, inserted] = s->connections.try_emplace(connection);
  if (!inserted) {
    return absl::AlreadyExistsError(
        absl::StrCat("connection ", connection, " is already advised"));
  }
  RegistrationList* list = ListFor(target);
  slot->second = std::make_unique<Registration>(
      Registration{s, connection, event_mask, target, list->size(), since});
  list->push_back(slot->second.get());
  ++registration_count_;
  return absl::OkStatus();
}

absl::Status Registry::Remove(const Outbox* stream, uint64_t connection) {
  auto it = streams_.find(stream);
  if (it == streams_.end()) {
    return absl::FailedPreconditionError("stream is closed");
  }
  auto& connections = it->second->connections;
  auto found = connections.find(connection);
  if (found == connections.end()) {
    return absl::NotFoundError(
        absl::StrCat("connection ", connection, " is not advised"));
  }
  Unindex(found->second.get());
  connections.erase(found);
  --registration_count_;
  return absl::OkStatus();
}

void Registry::Unindex(Registration* registration) {
  const bool store_wide =
      GetTargetKind(registration->target) == TargetKind::kStore;
  auto bucket = by_target_.end();
  RegistrationList* list = &store_wide_;
  if (!store_wide) {
    bucket = by_target_.find(registration->target);
    list = &bucket->second;
  }
  // Swap-remove: O(1), the moved registration learns its new slot.
  Registration* last = list->back();
  (*list)[registration->slot] = last;
  last->slot = registration->slot;
  list->pop_back();
  if (!store_wide && list->empty()) by_target_.erase(bucket);
}

void Registry::CollectFrom(const RegistrationList& list, uint32_t event_type,
                           std::vector<Match>* out) {
  for (const Registration* r : list) {
    if ((r->mask & event_type) == 0) continue;
    Stream* stream = r->stream;
    if (stream->match_generation != collect_generation_) {
      stream->match_generation = collect_generation_;
      stream->match_index = out->size();
      // emplace_back + assignment rather than Match{..., {}}: g++ 12 reports
      // a false maybe-uninitialized on a braced empty InlinedVector.
      out->emplace_back();
      out->back().outbox = &r->stream->outbox;
    }
    (*out)[stream->match_index].connections.push_back(r->connection);
  }
}

void Registry::RaiseSince(const Outbox* stream, uint64_t floor) {
  auto it = streams_.find(stream);
  if (it == streams_.end()) return;
  for (auto& [connection, r] : it->second->connections) {
    r->since = std::max(r->since, floor);
  }
}

void Registry::SetSince(const Outbox* stream, uint64_t connection,
                        uint64_t since) {
  auto it = streams_.find(stream);
  if (it == streams_.end()) return;
  auto r = it->second->connections.find(connection);
  if (r != it->second->connections.end()) r->second->since = since;
}

void Registry::CollectStream(const Outbox* stream, const Event& event,
                             ConnectionList* out) const {
  auto it = streams_.find(stream);
  if (it == streams_.end()) return;
  for (const auto& [connection, r] : it->second->connections) {
    if (r->since < event.sequence() &&
        Matches(r->target, r->mask, event.event_type(), event.targets())) {
      out->push_back(connection);
    }
  }
  std::sort(out->begin(), out->end());
}

bool Registry::Matches(const TargetKey& target, uint32_t event_mask,
                       uint32_t event_type,
                       absl::Span<const TargetKey> targets) {
  if ((event_mask & event_type) == 0) return false;
  if (GetTargetKind(target) == TargetKind::kStore) return true;
  return std::find(targets.begin(), targets.end(), target) != targets.end();
}

void Registry::Collect(absl::Span<const TargetKey> targets, uint32_t event_type,
                       std::vector<Match>* out) {
  ++collect_generation_;
  const size_t first = out->size();
  CollectFrom(store_wide_, event_type, out);
  for (size_t i = 0; i < targets.size(); ++i) {
    const TargetKey& target = targets[i];
    if (GetTargetKind(target) == TargetKind::kStore) continue;
    if (std::find(targets.begin(), targets.begin() + i, target) !=
        targets.begin() + i) {
      continue;  // A duplicate key would list its connections twice.
    }
    auto bucket = by_target_.find(target);
    if (bucket != by_target_.end())
      CollectFrom(bucket->second, event_type, out);
  }
  for (size_t i = first; i < out->size(); ++i) {
    ConnectionList& connections = (*out)[i].connections;
    std::sort(connections.begin(), connections.end());
  }
}

}  // namespace mapinotify::server
