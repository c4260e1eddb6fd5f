// Test helpers for the store's table tests (header-only): a Hub whose
// validator knows the store's table views, a Store publishing into it and
// one stream drained by hand; helpers to create messages, to read table
// notifications back as MAPI values, and instance keys.
#ifndef MAPINOTIFY_TESTS_UNIT_STORE_TABLES_TESTING_H_
#define MAPINOTIFY_TESTS_UNIT_STORE_TABLES_TESTING_H_

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/internal/proto_convert.h"
#include "gtest/gtest.h"
#include "mapinotify/mapi.h"
#include "mapinotify/notification.h"
#include "mapinotify/status.h"
#include "server/hub/hub.h"
#include "server/hub/hub_testing.h"
#include "server/hub/target_key.h"
#include "server/store/store.h"
#include "server/store/store_testing.h"

namespace mapinotify::server::store::testing {

// A Hub that accepts advises on the store's table views, a Store publishing
// into it, and one stream with a store-wide registration (connection
// kStoreWide) that the test thread drains by the writer protocol, each
// message serialized and parsed as on the wire. Thread-compatible.
class TableHarness {
 public:
  explicit TableHarness(Store::Options options = Store::Options())
      : hub(HubOptions(this)), store(WithHub(std::move(options), &hub)) {
    // Take() drains whatever is queued; a wake needs no action.
    box = hub.OpenStream([] {});
    EXPECT_TRUE(Advise(kStoreWide, StoreTargetKey(), kAllEventTypes).ok());
    Take();
  }
  ~TableHarness() { hub.CloseStream(box.get()); }

  absl::Status Advise(uint64_t connection, const TargetKey& target,
                      uint32_t mask) {
    return hub.Advise(box.get(), connection, target, mask);
  }
  // Advises `connection` on table view `view` for fnevTableModified.
  void AdviseView(uint64_t connection, Store::ViewId view) {
    ASSERT_TRUE(
        Advise(connection, TableTargetKey(view), fnevTableModified).ok());
  }
  absl::Status Unadvise(uint64_t connection) {
    return hub.Unadvise(box.get(), connection);
  }

  // The deliveries queued since the last call, in order (control
  // responses dropped).
  std::vector<v1::Delivered> Take() {
    std::vector<v1::Delivered> out;
    v1::SubscribeResponse message;
    bool ready = box->TakeWrite(&message);
    while (ready) {
      const std::string wire = message.SerializeAsString();
      const bool more = box->FinishWrite(&message);
      v1::SubscribeResponse read;
      EXPECT_TRUE(read.ParseFromString(wire));
      for (const v1::Delivered& d : read.batch().notifications()) {
        out.push_back(d);
      }
      ready = more && box->TakeWrite(&message);
    }
    return out;
  }

  Hub hub;
  Store store;
  std::shared_ptr<Outbox> box;

 private:
  static Hub::Options HubOptions(TableHarness* self) {
    Hub::Options options;
    options.epoch = 7;
    options.validator = [self](const TargetKey& key) {
      if (GetTargetKind(key) == TargetKind::kTable) {
        return self->store.TableExists(TargetTableView(key));
      }
      return DefaultTargetValidator(key);
    };
    return options;
  }
  static Store::Options WithHub(Store::Options options, Hub* hub) {
    options.hub = hub;
    return options;
  }
};

// PR_INSTANCE_KEY of the row of the object `id`: its object number, which
// is the last 8 bytes of the store's entry ids (server/store/entry_id.h).
inline PropValue InstanceKeyOf(const EntryId& id) {
  return PropValue{PR_INSTANCE_KEY, Binary{id.substr(id.size() - 8)}};
}

// Creates and saves a message in `folder` with `props`; fails the test on
// error.
inline EntryId NewMessage(Store& store, const CallContext& caller,
                          const EntryId& folder,
                          const std::vector<PropValue>& props) {
  absl::StatusOr<Handle> h = store.CreateMessage(caller, folder, 0);
  EXPECT_TRUE(h.ok()) << h.status();
  if (!h.ok()) return "";
  absl::StatusOr<std::vector<PropProblem>> problems =
      store.SetMessageProps(caller, *h, props);
  EXPECT_TRUE(problems.ok() && problems->empty());
  absl::StatusOr<EntryId> id = store.SaveChanges(caller, *h, 0);
  EXPECT_TRUE(id.ok()) << id.status();
  return id.ok() ? *id : "";
}

// Sets (and saves) `props` on the saved message `id`.
inline void SetProps(Store& store, const CallContext& caller, const EntryId& id,
                     const std::vector<PropValue>& props) {
  absl::StatusOr<Handle> h = store.OpenMessage(caller, id, MAPI_MODIFY);
  ASSERT_TRUE(h.ok()) << h.status();
  absl::StatusOr<std::vector<PropProblem>> problems =
      store.SetMessageProps(caller, *h, props);
  ASSERT_TRUE(problems.ok() && problems->empty());
  ASSERT_TRUE(store.SaveChanges(caller, *h, 0).ok());
}

// The table notification of a delivery, as MAPI values.
inline TableNotification TableOf(const v1::Delivered& d) {
  absl::StatusOr<Notification> n = internal::FromProto(d.notification());
  EXPECT_TRUE(n.ok()) << n.status();
  if (!n.ok() || n->table() == nullptr) {
    ADD_FAILURE() << "not a table notification: " << d.ShortDebugString();
    return TableNotification();
  }
  return *n->table();
}

// The deliveries of `all` that matched `connection`.
inline std::vector<v1::Delivered> For(const std::vector<v1::Delivered>& all,
                                      uint64_t connection) {
  std::vector<v1::Delivered> out;
  for (const v1::Delivered& d : all) {
    if (std::find(d.connections().begin(), d.connections().end(), connection) !=
        d.connections().end()) {
      out.push_back(d);
    }
  }
  return out;
}

// --- The fixture of the table unit tests: folder F under IPM_SUBTREE, the
// caller's views opened on demand, and small readers of rows.

inline const CallContext kCaller{"session-a", 1};
inline const CallContext kOther{"session-b", 1};
inline constexpr uint64_t kTableConnection = 50;
inline constexpr ULONG PR_RANK = PROP_TAG(PT_LONG, 0x6601);

// A saved message in `folder` with a subject, flags and `extra`.
inline EntryId Msg(Store& store, const EntryId& folder,
                   const std::string& subject, int32_t flags = MSGFLAG_READ,
                   std::vector<PropValue> extra = {}) {
  extra.push_back({PR_SUBJECT, subject});
  extra.push_back({PR_MESSAGE_FLAGS, flags});
  return NewMessage(store, kCaller, folder, extra);
}

// A PT_UNICODE value's text.
inline std::string Text(const PropValue& v) {
  const std::string* s = std::get_if<std::string>(&v.value);
  return s == nullptr ? "<not text>" : *s;
}

// Column `column` of each row, as text.
inline std::vector<std::string> Texts(const std::vector<Row>& rows,
                                      size_t column) {
  std::vector<std::string> out;
  for (const Row& row : rows) out.push_back(Text(row.at(column)));
  return out;
}

// Every row of the view (QueryAllRows), column `column` as text.
inline std::vector<std::string> AllTexts(Store& store, Store::ViewId view,
                                         size_t column,
                                         const CallContext& caller = kCaller) {
  absl::StatusOr<Store::TableSnapshot> all =
      store.QueryAllRows(caller, view, 100000, size_t{1} << 30);
  EXPECT_TRUE(all.ok()) << all.status();
  return all.ok() ? Texts(all->rows, column) : std::vector<std::string>{};
}

// The SCODE of a status.
inline SCODE Scode(const absl::Status& s) { return ScodeOf(s); }
template <typename T>
inline SCODE Scode(const absl::StatusOr<T>& s) {
  return ScodeOf(s.status());
}

// Each test: a TableHarness and folder F under IPM_SUBTREE.
class StoreTablesTest : public ::testing::Test {
 protected:
  StoreTablesTest() {
    folder_ =
        h_.store.CreateFolder(h_.store.ipm_subtree_id(), "F", "", 0).value();
  }

  Store::ViewId Contents(const EntryId& folder, ULONG flags = 0) {
    absl::StatusOr<Store::ViewId> view =
        h_.store.OpenContentsTable(kCaller, folder, flags);
    EXPECT_TRUE(view.ok()) << view.status();
    return view.value_or(0);
  }
  Store::ViewId Hierarchy(const EntryId& folder, ULONG flags = 0) {
    absl::StatusOr<Store::ViewId> view =
        h_.store.OpenHierarchyTable(kCaller, folder, flags);
    EXPECT_TRUE(view.ok()) << view.status();
    return view.value_or(0);
  }
  // The table notifications of the last operation (and checks that they
  // all come after its other notifications).
  std::vector<TableNotification> TableEvents(uint64_t connection) {
    const std::vector<v1::Delivered> all = h_.Take();
    bool in_tables = false;
    std::vector<TableNotification> out;
    for (const v1::Delivered& d : all) {
      const bool table = d.notification().event_type() == v1::fnevTableModified;
      EXPECT_TRUE(table || !in_tables) << "object notification after a "
                                          "table notification";
      in_tables = in_tables || table;
    }
    for (const v1::Delivered& d : For(all, connection)) {
      out.push_back(TableOf(d));
    }
    return out;
  }

  TableHarness h_;
  EntryId folder_;
};

}  // namespace mapinotify::server::store::testing

#endif  // MAPINOTIFY_TESTS_UNIT_STORE_TABLES_TESTING_H_
