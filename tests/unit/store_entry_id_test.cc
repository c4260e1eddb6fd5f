// Entry ids of the built-in store: layout, round trip, and the errors for
// malformed ids, ids of another store, and ids of objects that are gone.
#include <string>

#include "gtest/gtest.h"
#include "mapinotify/mapi.h"
#include "mapinotify/status.h"
#include "server/store/entry_id.h"
#include "server/store/store.h"

namespace mapinotify::server::store {
namespace {

Guid MakeGuid(uint8_t seed) {
  Guid guid;
  for (size_t i = 0; i < guid.bytes.size(); ++i) {
    guid.bytes[i] = static_cast<uint8_t>(seed + i);
  }
  return guid;
}

TEST(EntryIdCodecTest, RoundTripsAndHasTheDocumentedLayout) {
  const EntryIdCodec codec(MakeGuid(1));
  for (ObjectNumber n : {ObjectNumber{1}, ObjectNumber{0x1234},
                         ObjectNumber{0xFFFFFFFFFFFFFFFFull}}) {
    const EntryId id = codec.Encode(n);
    ASSERT_EQ(id.size(), kEntryIdSize);
    EXPECT_EQ(id.substr(0, 8), std::string("\0\0\0\0MNS1", 8));
    EXPECT_EQ(static_cast<uint8_t>(id[8]), 1);  // The GUID follows.
    absl::StatusOr<ObjectNumber> back = codec.Decode(id);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, n);
  }
  EXPECT_EQ(static_cast<uint8_t>(codec.Encode(0x0102).back()), 0x02);
  EXPECT_NE(codec.Encode(1), codec.Encode(2));
}

TEST(EntryIdCodecTest, MalformedAndForeignIdsAreInvalidEntryId) {
  const EntryIdCodec codec(MakeGuid(1));
  const EntryIdCodec other(MakeGuid(2));
  const EntryId good = codec.Encode(5);
  std::string bad_prefix = good;
  bad_prefix[4] = 'X';
  std::string flags_set = good;
  flags_set[0] = 1;
  const std::string cases[] = {
      "",                                                    // empty
      good.substr(0, kEntryIdSize - 1),                      // short
      good + "x",                                            // long
      bad_prefix,                                            // another provider
      flags_set,                                             // not long-term
      other.Encode(5),                                       // another store
      codec.Encode(1).substr(0, 24) + std::string(8, '\0'),  // number 0
  };
  for (const std::string& id : cases) {
    absl::StatusOr<ObjectNumber> n = codec.Decode(id);
    EXPECT_EQ(n.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(ScodeOf(n.status()), MAPI_E_INVALID_ENTRYID);
  }
}

TEST(EntryIdCodecTest, RandomStoreGuidsDiffer) {
  EXPECT_NE(RandomStoreGuid(), RandomStoreGuid());
}

TEST(StoreEntryIdTest, WellKnownIdsAreStableDistinctAndPerStore) {
  Store a{Store::Options()};
  Store b{Store::Options()};
  const EntryId ids[] = {
      a.store_entry_id(), a.root_folder_id(), a.ipm_subtree_id(),  a.inbox_id(),
      a.outbox_id(),      a.sent_items_id(),  a.deleted_items_id()};
  for (size_t i = 0; i < std::size(ids); ++i) {
    EXPECT_TRUE(a.Exists(ids[i]).ok()) << i;
    for (size_t j = i + 1; j < std::size(ids); ++j) EXPECT_NE(ids[i], ids[j]);
  }
  EXPECT_EQ(&a.inbox_id(), &a.inbox_id());
  EXPECT_EQ(a.inbox_id(), a.inbox_id());
  // Another store's ids are not ids of this store.
  EXPECT_EQ(ScodeOf(a.Exists(b.inbox_id())), MAPI_E_INVALID_ENTRYID);
  EXPECT_EQ(ScodeOf(a.Exists("garbage")), MAPI_E_INVALID_ENTRYID);
  EXPECT_EQ(ScodeOf(a.GetProps(b.inbox_id(), {}).status()),
            MAPI_E_INVALID_ENTRYID);
}

TEST(StoreEntryIdTest, GoneObjectsAreNotFound) {
  Store store{Store::Options()};
  absl::StatusOr<EntryId> folder =
      store.CreateFolder(store.ipm_subtree_id(), "Gone", "", 0);
  ASSERT_TRUE(folder.ok()) << folder.status();
  EXPECT_TRUE(store.Exists(*folder).ok());
  ASSERT_TRUE(store.DeleteFolder(store.ipm_subtree_id(), *folder, 0).ok());
  const absl::Status gone = store.Exists(*folder);
  EXPECT_EQ(gone.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ScodeOf(gone), MAPI_E_NOT_FOUND);
  EXPECT_EQ(ScodeOf(store.GetProps(*folder, {}).status()), MAPI_E_NOT_FOUND);
  // A well-formed id of an object never created is NotFound too.
  std::string never = *folder;
  never.back() = static_cast<char>(0x7F);
  never[kEntryIdSize - 2] = static_cast<char>(0x7F);
  EXPECT_EQ(ScodeOf(store.Exists(never)), MAPI_E_NOT_FOUND);
}

}  // namespace
}  // namespace mapinotify::server::store
