// Test helpers for the store's unit tests (header-only, not part of the
// library): a Hub with a Store publishing into it and one subscriber stream
// drained by hand, and builders / checks for the notifications the store
// publishes.
#ifndef MAPINOTIFY_SERVER_STORE_STORE_TESTING_H_
#define MAPINOTIFY_SERVER_STORE_STORE_TESTING_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "mapinotify/mapi.h"
#include "mapinotify/notification.h"
#include "mapinotify/status.h"
#include "server/hub/hub.h"
#include "server/hub/hub_testing.h"
#include "server/store/store.h"

namespace mapinotify::server::store::testing {

// Connection 1 of every harness: the whole store, every event type.
inline constexpr uint64_t kStoreWide = 1;

// A Hub, a Store publishing into it, and one stream with a store-wide
// registration (connection kStoreWide), written on the test thread.
class StoreHarness {
 public:
  explicit StoreHarness(Store::Options options = Store::Options())
      : hub(HubOptions()),
        store(WithHub(std::move(options), &hub)),
        writer(/*threaded=*/false) {
    box = hub.OpenStream(writer.WakeCallback());
    writer.Attach(box);
    EXPECT_TRUE(Advise(kStoreWide, StoreTargetKey(), kAllEventTypes).ok());
    Take();  // hello, advised
  }

  absl::Status Advise(uint64_t connection, const TargetKey& target,
                      uint32_t mask) {
    return hub.Advise(box.get(), connection, target, mask);
  }
  // Advises `connection` on entry `entry_id` and drops the answer.
  void AdviseEntry(uint64_t connection, const EntryId& entry_id,
                   uint32_t mask = kAllEventTypes) {
    ASSERT_TRUE(Advise(connection, EntryTargetKey(entry_id), mask).ok());
    Take();
  }

  // The deliveries written since the last call (control responses dropped).
  std::vector<v1::Delivered> Take() {
    writer.DrainNow();
    std::vector<v1::SubscribeResponse> all = writer.responses();
    std::vector<v1::SubscribeResponse> fresh(all.begin() + seen_, all.end());
    seen_ = all.size();
    return server::testing::Deliveries(fresh);
  }

  Hub hub;
  Store store;
  server::testing::RecordingWriter writer;
  std::shared_ptr<Outbox> box;

 private:
  static Hub::Options HubOptions() {
    Hub::Options options;
    options.epoch = 7;
    return options;
  }
  static Store::Options WithHub(Store::Options options, Hub* hub) {
    options.hub = hub;
    return options;
  }
  size_t seen_ = 0;
};

// The OBJECT notification the store should publish.
inline v1::Notification Object(ULONG event_type, const EntryId& entry_id,
                               ULONG object_type, const EntryId& parent_id,
                               const EntryId& old_id = "",
                               const EntryId& old_parent_id = "",
                               std::vector<ULONG> prop_tags = {}) {
  v1::Notification n;
  n.set_event_type(static_cast<v1::EventType>(event_type));
  v1::ObjectNotification* o = n.mutable_object();
  o->set_entry_id(entry_id);
  o->set_object_type(object_type);
  o->set_parent_id(parent_id);
  o->set_old_id(old_id);
  o->set_old_parent_id(old_parent_id);
  for (ULONG tag : prop_tags) o->add_prop_tags(tag);
  return n;
}
inline v1::Notification Modified(const EntryId& entry_id, ULONG object_type,
                                 const EntryId& parent_id,
                                 std::vector<ULONG> prop_tags) {
  return Object(fnevObjectModified, entry_id, object_type, parent_id, "", "",
                std::move(prop_tags));
}
inline v1::Notification NewMail(const EntryId& entry_id,
                                const EntryId& parent_id,
                                const std::string& message_class,
                                ULONG message_flags) {
  v1::Notification n;
  n.set_event_type(v1::fnevNewMail);
  v1::NewMailNotification* m = n.mutable_new_mail();
  m->set_entry_id(entry_id);
  m->set_parent_id(parent_id);
  m->set_message_class(message_class);
  m->set_message_flags(message_flags);
  return n;
}

// One expected delivery: the notification and the connections it matches.
struct Want {
  v1::Notification notification;
  std::vector<uint64_t> connections = {kStoreWide};
};

// Checks that `got` is exactly one operation's batch: `want` in order (the
// whole payload and the matching connections), consecutive sequence
// numbers, ends_batch on the last delivery only.
inline void ExpectBatch(const std::vector<v1::Delivered>& got,
                        const std::vector<Want>& want) {
  ASSERT_EQ(got.size(), want.size()) << [&] {
    std::string all;
    for (const v1::Delivered& d : got) all += d.ShortDebugString() + "\n";
    return all;
  }();
  for (size_t i = 0; i < got.size(); ++i) {
    SCOPED_TRACE(::testing::Message() << "delivery " << i);
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
        got[i].notification(), want[i].notification))
        << "got:  " << got[i].notification().ShortDebugString()
        << "\nwant: " << want[i].notification.ShortDebugString();
    EXPECT_EQ(std::vector<uint64_t>(got[i].connections().begin(),
                                    got[i].connections().end()),
              want[i].connections);
    EXPECT_EQ(got[i].ends_batch(), i + 1 == got.size());
    if (i > 0) {
      EXPECT_EQ(got[i].sequence(), got[i - 1].sequence() + 1);
    }
  }
}

// The value of `tag` in `values` (by exact tag); PR_NULL-tagged when absent.
inline PropValue FindValue(const std::vector<PropValue>& values, ULONG tag) {
  for (const PropValue& v : values) {
    if (v.tag == tag) return v;
  }
  return PropValue{};
}

// Reads one property of a saved object; fails the test on error.
inline PropValue Prop(const Store& store, const EntryId& id, ULONG tag) {
  absl::StatusOr<std::vector<PropValue>> values = store.GetProps(id, {tag});
  EXPECT_TRUE(values.ok()) << values.status();
  if (!values.ok() || values->size() != 1) return PropValue{};
  return (*values)[0];
}
inline int32_t LongProp(const Store& store, const EntryId& id, ULONG tag) {
  const PropValue v = Prop(store, id, tag);
  const int32_t* value = std::get_if<int32_t>(&v.value);
  EXPECT_NE(value, nullptr) << "tag " << std::hex << tag;
  return value == nullptr ? -1 : *value;
}

inline std::string Hex(const std::string& bytes) {
  return absl::BytesToHexString(bytes);
}

}  // namespace mapinotify::server::store::testing

#endif  // MAPINOTIFY_SERVER_STORE_STORE_TESTING_H_
