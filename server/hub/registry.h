// Registry: the hub's index of advise registrations, by stream and by target.
//
// Matching costs O(targets of the notification + registrations on those
// targets + store-wide registrations), never O(all registrations):
// registrations are indexed by TargetKey, and store-wide ones are kept in a
// list of their own.
//
// Thread-compatible: the Hub calls it under its lock.
#ifndef MAPINOTIFY_SERVER_HUB_REGISTRY_H_
#define MAPINOTIFY_SERVER_HUB_REGISTRY_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/types/span.h"
#include "server/hub/outbox.h"
#include "server/hub/target_key.h"

namespace mapinotify::server {

class Registry {
 public:
  // The connections of one stream that one notification matches.
  struct Match {
    // The stream's outbox; points into the registry (valid until the stream
    // is removed).
    const std::shared_ptr<Outbox>* outbox;
    // Ascending, no duplicates.
    ConnectionList connections;
  };

  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;
  ~Registry();

  // Adds a stream with no registrations. Returns false if already present.
  bool AddStream(std::shared_ptr<Outbox> outbox);
  // Whether `stream` was added and not removed.
  bool HasStream(const Outbox* stream) const;
  // Removes `stream` and all its registrations; returns its outbox (null if
  // unknown).
  std::shared_ptr<Outbox> RemoveStream(const Outbox* stream);

  // Removes every registration of every stream; the streams stay.
  void ClearRegistrations();

  // Registers `connection` of `stream` on `target` for `event_mask`;
  // `since`: the last sequence published before it (CollectStream never
  // matches it with an event at or before that).
  // FailedPrecondition for an unknown stream; AlreadyExists when the
  // connection is already live on the stream. No other validation.
  absl::Status Add(const Outbox* stream, uint64_t connection,
                   const TargetKey& target, uint32_t event_mask,
                   uint64_t since = 0);
  // Replay through a stream's catch-up cursor (Hub::Advise with a resume):
  // RaiseSince raises the start of every registration of `stream` to at
  // least `floor` (everything through it was queued for them); SetSince
  // sets `connection`'s start (its resume point). No-op for an unknown
  // stream or connection.
  void RaiseSince(const Outbox* stream, uint64_t floor);
  void SetSince(const Outbox* stream, uint64_t connection, uint64_t since);
  // Unregisters it. FailedPrecondition for an unknown stream; NotFound for a
  // connection that is not live on the stream.
  absl::Status Remove(const Outbox* stream, uint64_t connection);

  // Appends to `*out` one Match per stream with at least one registration
  // that matches a notification of `event_type` concerning `targets`: every
  // store-wide registration, and those on a key in `targets`, whose mask has
  // a bit of `event_type`. Duplicate keys in `targets` are harmless.
  void Collect(absl::Span<const TargetKey> targets, uint32_t event_type,
               std::vector<Match>* out);

  // Whether a registration on `target` for `event_mask` matches a
  // notification of `event_type` concerning `targets` (the rule Collect
  // applies).
  static bool Matches(const TargetKey& target, uint32_t event_mask,
                      uint32_t event_type, absl::Span<const TargetKey> targets);

  // The connections of `stream` that `event` matches (ascending), among
  // those registered before it was published: for a stream catching up
  // from the retention log. O(registrations of the stream).
  void CollectStream(const Outbox* stream, const Event& event,
                     ConnectionList* out) const;

  // Calls fn(outbox, registration count) for every stream.
  template <typename Fn>
  void ForEachStream(Fn&& fn) const {
    for (const auto& [key, stream] : streams_) {
      fn(stream->outbox, stream->connections.size());
    }
  }

  // Live registrations over all streams.
  size_t registration_count() const { return registration_count_; }
  size_t stream_count() const { return streams_.size(); }

 private:
  struct Stream;
  struct Registration {
    Stream* stream;
    uint64_t connection;
    uint32_t mask;
    TargetKey target;
    size_t slot;  // Position in its index list.
    uint64_t since;
  };
  using RegistrationList = std::vector<Registration*>;
  struct Stream {
    std::shared_ptr<Outbox> outbox;
    absl::flat_hash_map<uint64_t, std::unique_ptr<Registration>> connections;
    // Collect's scratch: the index of this stream's Match in its output,
    // valid while match_generation equals the registry's collect_generation_.
    uint64_t match_generation = 0;
    size_t match_index = 0;
  };

  RegistrationList* ListFor(const TargetKey& target);
  void Unindex(Registration* registration);
  void CollectFrom(const RegistrationList& list, uint32_t event_type,
                   std::vector<Match>* out);

  absl::flat_hash_map<const Outbox*, std::unique_ptr<Stream>> streams_;
  absl::flat_hash_map<TargetKey, RegistrationList> by_target_;
  RegistrationList store_wide_;
  size_t registration_count_ = 0;
  // Numbers Collect calls (see Stream::match_generation): finding a
  // stream's Match costs no hash lookup.
  uint64_t collect_generation_ = 0;
};

}  // namespace mapinotify::server

#endif  // MAPINOTIFY_SERVER_HUB_REGISTRY_H_
