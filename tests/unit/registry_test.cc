// Registry (the hub's index) and TargetKey.
#include "server/hub/registry.h"

#include <memory>
#include <vector>

#include "gtest/gtest.h"
#include "mapinotify/v1/notifications.pb.h"
#include "server/hub/target_key.h"

namespace mapinotify::server {
namespace {

constexpr uint32_t kCreated = 0x4;
constexpr uint32_t kModified = 0x10;

std::shared_ptr<Outbox> NewOutbox() {
  return std::make_shared<Outbox>(Outbox::Options(), [] {});
}

// The connections `registry` collects per stream, streams in `order`.
std::vector<std::vector<uint64_t>> Collect(
    Registry& registry, const std::vector<TargetKey>& targets,
    uint32_t event_type, const std::vector<Outbox*>& order) {
  std::vector<Registry::Match> matches;
  registry.Collect(targets, event_type, &matches);
  std::vector<std::vector<uint64_t>> out(order.size());
  for (const Registry::Match& m : matches) {
    for (size_t i = 0; i < order.size(); ++i) {
      if (m.outbox->get() == order[i]) {
        EXPECT_TRUE(out[i].empty()) << "stream listed twice";
        out[i].assign(m.connections.begin(), m.connections.end());
      }
    }
  }
  return out;
}

TEST(TargetKeyTest, KindsRoundTripAndDescribe) {
  EXPECT_EQ(GetTargetKind(StoreTargetKey()), TargetKind::kStore);
  const TargetKey entry = EntryTargetKey(std::string("a\0b", 3));
  EXPECT_EQ(GetTargetKind(entry), TargetKind::kEntry);
  EXPECT_EQ(TargetEntryId(entry), std::string("a\0b", 3));
  const TargetKey table = TableTargetKey(0x0102030405060708u);
  EXPECT_EQ(GetTargetKind(table), TargetKind::kTable);
  EXPECT_EQ(TargetTableView(table), 0x0102030405060708u);
  EXPECT_NE(TableTargetKey(1), TableTargetKey(256));
  EXPECT_NE(EntryTargetKey(""), StoreTargetKey());
  EXPECT_EQ(GetTargetKind(""), TargetKind::kMalformed);
  EXPECT_EQ(GetTargetKind("t12"), TargetKind::kMalformed);
  EXPECT_EQ(DescribeTargetKey(EntryTargetKey("\x0a\x1b")), "entry 0a1b");
  EXPECT_EQ(DescribeTargetKey(TableTargetKey(7)), "table view 7");
}

TEST(TargetKeyTest, FromProtoAndDefaultValidator) {
  v1::Target target;
  EXPECT_EQ(TargetKeyFromProto(target).status().code(),
            absl::StatusCode::kInvalidArgument);
  target.mutable_store();
  EXPECT_EQ(*TargetKeyFromProto(target), StoreTargetKey());
  target.set_entry_id("E1");
  EXPECT_EQ(*TargetKeyFromProto(target), EntryTargetKey("E1"));
  target.set_table_view(9);
  EXPECT_EQ(*TargetKeyFromProto(target), TableTargetKey(9));

  EXPECT_TRUE(DefaultTargetValidator(StoreTargetKey()).ok());
  EXPECT_TRUE(DefaultTargetValidator(EntryTargetKey("E1")).ok());
  EXPECT_EQ(DefaultTargetValidator(EntryTargetKey("")).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DefaultTargetValidator(TableTargetKey(9)).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(DefaultTargetValidator("zz").code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(RegistryTest, CollectsPerStreamSortedWithoutDuplicates) {
  Registry registry;
  auto a = NewOutbox(), b = NewOutbox();
  ASSERT_TRUE(registry.AddStream(a));
  ASSERT_TRUE(registry.AddStream(b));
  EXPECT_FALSE(registry.AddStream(a));
  const TargetKey f = EntryTargetKey("F"), g = EntryTargetKey("G");
  ASSERT_TRUE(registry.Add(a.get(), 9, f, kCreated).ok());
  ASSERT_TRUE(registry.Add(a.get(), 3, StoreTargetKey(), kCreated).ok());
  ASSERT_TRUE(registry.Add(a.get(), 5, g, kCreated | kModified).ok());
  ASSERT_TRUE(registry.Add(b.get(), 3, f, kModified).ok());
  EXPECT_EQ(registry.Add(a.get(), 5, f, kCreated).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(registry.registration_count(), 4u);

  using V = std::vector<std::vector<uint64_t>>;
  EXPECT_EQ(Collect(registry, {f, StoreTargetKey(), g, f}, kCreated,
                    {a.get(), b.get()}),
            (V{{3, 5, 9}, {}}));
  EXPECT_EQ(Collect(registry, {f}, kModified, {a.get(), b.get()}),
            (V{{}, {3}}));
  EXPECT_EQ(Collect(registry, {}, kCreated, {a.get(), b.get()}), (V{{3}, {}}));
  EXPECT_EQ(Collect(registry, {f}, 0, {a.get(), b.get()}), (V{{}, {}}));
}

TEST(RegistryTest, RemoveKeepsTheIndexConsistent) {
  Registry registry;
  auto a = NewOutbox(), b = NewOutbox();
  registry.AddStream(a);
  registry.AddStream(b);
  const TargetKey f = EntryTargetKey("F");
  for (uint64_t c = 1; c <= 5; ++c) {
    ASSERT_TRUE(registry.Add(a.get(), c, f, kCreated).ok());
    ASSERT_TRUE(registry.Add(b.get(), c, StoreTargetKey(), kCreated).ok());
  }
  ASSERT_TRUE(registry.Remove(a.get(), 2).ok());  // Middle of the list.
  ASSERT_TRUE(registry.Remove(a.get(), 1).ok());  // Head.
  ASSERT_TRUE(registry.Remove(b.get(), 5).ok());  // Tail.
  EXPECT_EQ(registry.Remove(a.get(), 2).code(), absl::StatusCode::kNotFound);
  using V = std::vector<std::vector<uint64_t>>;
  EXPECT_EQ(Collect(registry, {f}, kCreated, {a.get(), b.get()}),
            (V{{3, 4, 5}, {1, 2, 3, 4}}));

  EXPECT_EQ(registry.RemoveStream(b.get()), b);
  EXPECT_EQ(registry.RemoveStream(b.get()), nullptr);
  EXPECT_FALSE(registry.HasStream(b.get()));
  EXPECT_EQ(registry.Add(b.get(), 1, f, kCreated).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(registry.registration_count(), 3u);
  EXPECT_EQ(Collect(registry, {f}, kCreated, {a.get(), b.get()}),
            (V{{3, 4, 5}, {}}));
  for (uint64_t c = 3; c <= 5; ++c)
    ASSERT_TRUE(registry.Remove(a.get(), c).ok());
  EXPECT_EQ(Collect(registry, {f}, kCreated, {a.get()}), (V{{}}));
  // Re-adding after the key's list emptied works.
  ASSERT_TRUE(registry.Add(a.get(), 3, f, kCreated).ok());
  EXPECT_EQ(Collect(registry, {f}, kCreated, {a.get()}), (V{{3}}));
}

}  // namespace
}  // namespace mapinotify::server
