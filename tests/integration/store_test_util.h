// Helpers of the Store integration tests: a server plus a session and its
// MsgStore, a reader that takes a sink's notifications group by group, and
// payload checks that compare every field of a notification.
#ifndef MAPINOTIFY_TESTS_INTEGRATION_STORE_TEST_UTIL_H_
#define MAPINOTIFY_TESTS_INTEGRATION_STORE_TEST_UTIL_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "mapinotify/session.h"
#include "mapinotify/status.h"
#include "mapinotify/store.h"
#include "tests/integration/test_util.h"

namespace mapinotify::testing {

// A real server on 127.0.0.1, one session on it and the session's MsgStore.
struct StoreFixture {
  std::unique_ptr<server::Server> server;
  std::unique_ptr<Session> session;
  std::unique_ptr<MsgStore> store;
};

inline StoreFixture OpenStoreFixture(
    SessionOptions options = {}, server::ServerOptions server_options = {}) {
  StoreFixture f;
  f.server = StartServer(std::move(server_options));
  auto session = Session::Open(f.server->target(), options);
  EXPECT_TRUE(session.ok()) << session.status();
  if (!session.ok()) return f;
  f.session = *std::move(session);
  auto store = f.session->OpenMsgStore();
  EXPECT_TRUE(store.ok()) << store.status();
  if (store.ok()) f.store = *std::move(store);
  return f;
}

// Takes a RecordingSink's notifications in arrival order, `n` at a time.
class SinkReader {
 public:
  explicit SinkReader(std::shared_ptr<RecordingSink> sink)
      : sink_(std::move(sink)) {}

  // The next `n` notifications, waiting for them (a test failure and an
  // empty vector on timeout).
  std::vector<Seen> Next(size_t n) {
    if (!sink_->WaitForCount(consumed_ + n, absl::Seconds(30))) {
      ADD_FAILURE() << "waited for " << n << " notifications after "
                    << consumed_ << ", have " << sink_->count();
      return {};
    }
    std::vector<Seen> all = sink_->seen();
    std::vector<Seen> out(all.begin() + static_cast<long>(consumed_),
                          all.begin() + static_cast<long>(consumed_ + n));
    consumed_ += n;
    return out;
  }
  // Everything received and not yet taken (no wait).
  size_t unread() const { return sink_->count() - consumed_; }

 private:
  std::shared_ptr<RecordingSink> sink_;
  size_t consumed_ = 0;
};

// An OBJECT notification as a test expects it, whole.
struct ObjectEvent {
  ULONG event_type = 0;
  EntryId entry_id;
  ULONG object_type = 0;
  EntryId parent_id;
  EntryId old_id;
  EntryId old_parent_id;
  std::vector<ULONG> prop_tags;
};

inline std::string Hexed(const std::string& bytes) {
  std::string out;
  for (unsigned char c : bytes)
    absl::StrAppend(&out, absl::Hex(c, absl::kZeroPad2));
  return out;
}

// Checks every field of `seen` against `want`.
inline void ExpectObject(const Seen& seen, const ObjectEvent& want) {
  ASSERT_NE(seen.notification, nullptr);
  const Notification& n = *seen.notification;
  EXPECT_EQ(n.event_type, want.event_type);
  const ObjectNotification* o = n.object();
  ASSERT_NE(o, nullptr) << "event 0x" << std::hex << n.event_type;
  EXPECT_EQ(Hexed(o->entry_id), Hexed(want.entry_id)) << "entry_id";
  EXPECT_EQ(o->object_type, want.object_type);
  EXPECT_EQ(Hexed(o->parent_id), Hexed(want.parent_id)) << "parent_id";
  EXPECT_EQ(Hexed(o->old_id), Hexed(want.old_id)) << "old_id";
  EXPECT_EQ(Hexed(o->old_parent_id), Hexed(want.old_parent_id))
      << "old_parent_id";
  EXPECT_EQ(o->prop_tags, want.prop_tags);
}

// Checks a group of notifications (one operation) against `want`, in order
// (ascending sequence numbers), and that they came in one OnNotify call.
inline void ExpectObjects(const std::vector<Seen>& seen,
                          const std::vector<ObjectEvent>& want) {
  ASSERT_EQ(seen.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE(absl::StrCat("notification ", i));
    ExpectObject(seen[i], want[i]);
    EXPECT_EQ(seen[i].batch_size, want.size());
    EXPECT_EQ(seen[i].connection, seen[0].connection);
    if (i > 0) {
      EXPECT_GT(seen[i].sequence, seen[i - 1].sequence);
    }
  }
}

// A sink advised on `target` for `mask` through `session`.
inline std::shared_ptr<RecordingSink> AdviseRecording(
    Session& session, const AdviseTarget& target, ULONG mask) {
  auto sink = std::make_shared<RecordingSink>();
  auto c = session.Advise(target, mask, sink);
  EXPECT_TRUE(c.ok()) << c.status();
  return sink;
}

// Every fnev* bit the store publishes.
inline constexpr ULONG kStoreEvents = fnevNewMail | fnevObjectCreated |
                                      fnevObjectDeleted | fnevObjectModified |
                                      fnevObjectMoved | fnevObjectCopied;

}  // namespace mapinotify::testing

#endif  // MAPINOTIFY_TESTS_INTEGRATION_STORE_TEST_UTIL_H_
