// Helpers of the table integration tests: saving messages, and reading rows
// by property.
#ifndef MAPINOTIFY_TESTS_INTEGRATION_TABLE_TEST_UTIL_H_
#define MAPINOTIFY_TESTS_INTEGRATION_TABLE_TEST_UTIL_H_

#include <string>
#include <variant>
#include <vector>

#include "gtest/gtest.h"
#include "mapinotify/mapi.h"
#include "mapinotify/notification.h"
#include "mapinotify/store.h"
#include "tests/integration/store_test_util.h"

namespace mapinotify::testing {

using Strings = std::vector<std::string>;

// Saves a new message with `props` in `folder` (every property applied);
// its entry id, or "" and a test failure.
inline EntryId SaveMessage(MsgStore& store, const EntryId& folder,
                           const std::vector<PropValue>& props) {
  auto m = store.CreateMessage(folder, 0);
  EXPECT_TRUE(m.ok()) << m.status();
  if (!m.ok()) return {};
  auto problems = (*m)->SetProps(props);
  EXPECT_TRUE(problems.ok()) << problems.status();
  if (problems.ok()) {
    EXPECT_TRUE(problems->empty());
  }
  auto id = (*m)->SaveChanges(0);
  EXPECT_TRUE(id.ok()) << id.status();
  return id.ok() ? *id : EntryId();
}
inline EntryId SaveMessage(MsgStore& store, const EntryId& folder,
                           const std::string& subject) {
  return SaveMessage(store, folder, {{PR_SUBJECT, subject}});
}

// The value of `tag` in `row`, or nullptr.
inline const PropValue* Find(const Row& row, ULONG tag) {
  for (const PropValue& v : row) {
    if (v.tag == tag) return &v;
  }
  return nullptr;
}

// PR_INSTANCE_KEY of `row`: every row has one, 8 bytes of PT_BINARY ("" and
// a test failure otherwise).
inline std::string KeyOf(const Row& row) {
  const PropValue* v = Find(row, PR_INSTANCE_KEY);
  if (v == nullptr) {
    ADD_FAILURE() << "row without PR_INSTANCE_KEY";
    return "";
  }
  const Binary* b = std::get_if<Binary>(&v->value);
  if (b == nullptr || b->bytes.size() != 8) {
    ADD_FAILURE() << "PR_INSTANCE_KEY is not 8 bytes of PT_BINARY";
    return "";
  }
  return b->bytes;
}

// The string `tag` has in `row`; "<missing>" or "<not a string>".
inline std::string StringOf(const Row& row, ULONG tag) {
  const PropValue* v = Find(row, tag);
  if (v == nullptr) return "<missing>";
  if (const auto* s = std::get_if<std::string>(&v->value)) return *s;
  return "<not a string>";
}

// A fixture with a session, its store and a fresh folder under the IPM
// subtree: SetUp of a table test calls OpenWithFolder(name).
class TableFixture : public ::testing::Test {
 protected:
  void OpenWithFolder(const std::string& name) {
    f_ = OpenStoreFixture();
    ASSERT_NE(f_.store, nullptr);
    store_ = f_.store.get();
    auto folder = store_->CreateFolder(store_->ipm_subtree_id(), name, "", 0);
    ASSERT_TRUE(folder.ok()) << folder.status();
    folder_ = *folder;
  }

  StoreFixture f_;
  MsgStore* store_ = nullptr;
  EntryId folder_;
};

}  // namespace mapinotify::testing

#endif  // MAPINOTIFY_TESTS_INTEGRATION_TABLE_TEST_UTIL_H_
