// Folder counters under random operations: the store keeps each folder's
// unread count incrementally (every change of a folder's messages or of a
// saved message's PR_MESSAGE_FLAGS adjusts it), so after every operation of
// a long random sequence each folder's PR_CONTENT_COUNT / PR_CONTENT_UNREAD
// must equal what its messages' own PR_MESSAGE_FLAGS say, counted here from
// ListMessages and GetProps. The sequence mixes new and existing saves
// (several handles open at once, some outliving their message or folder),
// SetReadFlags, DeliverNewMail, copies and moves of messages and folders,
// deletes, EmptyFolder, and cancels (a progress object answering
// MAPI_E_USER_CANCEL part way). A hierarchy view of the whole tree must
// show the same counters in its rows.
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "mapinotify/mapi.h"
#include "mapinotify/status.h"
#include "server/store/store.h"
#include "tests/unit/store_progress_testing.h"

namespace mapinotify::server::store {
namespace {

using testing::RecordingProgress;

constexpr ULONG kTableColumns[] = {PR_ENTRYID, PR_CONTENT_COUNT,
                                   PR_CONTENT_UNREAD};

// The counters a folder should report, counted from its messages.
struct Expected {
  int32_t count = 0;
  int32_t unread = 0;
};

class RandomCountersRun {
 public:
  explicit RandomCountersRun(uint32_t seed)
      : rng_(seed), store_(Store::Options()) {}

  void Run(int operations) {
    view_ = store_
                .OpenHierarchyTable(caller_, store_.root_folder_id(),
                                    CONVENIENT_DEPTH)
                .value();
    ASSERT_TRUE(
        store_
            .SetColumns(caller_, view_,
                        {std::begin(kTableColumns), std::end(kTableColumns)}, 0)
            .ok());
    // A few folders to start with (more come from CreateFolder / copies).
    for (int i = 0; i < 3; ++i) CreateFolder();
    for (int i = 0; i < operations; ++i) {
      const std::string what = RandomOperation();
      SCOPED_TRACE(absl::StrCat("operation ", i, ": ", what));
      CheckCounters();
      if (::testing::Test::HasFailure()) return;
    }
  }

 private:
  const CallContext caller_{"session-random", 1};

  // --- Random choices.
  size_t Uniform(size_t n) {
    return std::uniform_int_distribution<size_t>(0, n - 1)(rng_);
  }
  bool Chance(double p) { return std::bernoulli_distribution(p)(rng_); }
  template <typename T>
  const T& Pick(const std::vector<T>& items) {
    return items[Uniform(items.size())];
  }
  // PR_MESSAGE_FLAGS values: with or without MSGFLAG_READ, alone or with
  // other bits.
  int32_t RandomFlags() {
    ULONG flags = Chance(0.5) ? MSGFLAG_READ : 0;
    if (Chance(0.3)) flags |= MSGFLAG_UNSENT;
    if (Chance(0.2)) flags |= MSGFLAG_UNMODIFIED | MSGFLAG_HASATTACH;
    return static_cast<int32_t>(flags);
  }
  // A progress object for a long operation: none, one that lets it finish,
  // or one that cancels it part way.
  MapiProgress* RandomProgress(std::string* what) {
    const int kind = static_cast<int>(Uniform(4));
    if (kind == 0) return nullptr;
    progress_.emplace();
    if (kind >= 2) {
      const double at = std::uniform_real_distribution<double>(0, 1)(rng_);
      progress_->CancelAtFraction(at);
      absl::StrAppend(what, " cancel@", at);
    }
    return &*progress_;
  }

  // --- The tree as the store lists it.
  std::vector<EntryId> Folders() {
    std::vector<EntryId> order;
    std::vector<EntryId> stack = {store_.root_folder_id()};
    while (!stack.empty()) {
      const EntryId folder = stack.back();
      stack.pop_back();
      order.push_back(folder);
      const std::vector<EntryId> children =
          store_.ListSubfolders(folder).value();
      stack.insert(stack.end(), children.rbegin(), children.rend());
    }
    return order;
  }
  // The folders a client may delete or move (not the well-known ones).
  std::vector<EntryId> UserFolders() {
    std::vector<EntryId> out;
    for (const EntryId& f : Folders()) {
      if (f != store_.root_folder_id() && f != store_.ipm_subtree_id() &&
          f != store_.inbox_id() && f != store_.outbox_id() &&
          f != store_.sent_items_id() && f != store_.deleted_items_id()) {
        out.push_back(f);
      }
    }
    return out;
  }
  // A folder for messages: usually a user folder or the Inbox.
  EntryId MessageFolder() {
    const std::vector<EntryId> user = UserFolders();
    if (user.empty() || Chance(0.2)) {
      return Chance(0.5) ? store_.inbox_id() : Pick(Folders());
    }
    return Pick(user);
  }
  // A folder to take messages from: usually one that has some.
  EntryId SourceFolder() {
    std::vector<EntryId> full;
    for (const EntryId& f : Folders()) {
      if (!Messages(f).empty()) full.push_back(f);
    }
    return full.empty() || Chance(0.1) ? MessageFolder() : Pick(full);
  }
  std::vector<EntryId> Messages(const EntryId& folder) {
    return store_.ListMessages(folder).value();
  }
  std::vector<EntryId> AllMessages() {
    std::vector<EntryId> all;
    for (const EntryId& f : Folders()) {
      for (const EntryId& m : Messages(f)) all.push_back(m);
    }
    return all;
  }
  // A random part of `folder`'s messages, sometimes with a message of
  // another folder, a repeat, or a deleted id (each skipped by the store).
  std::vector<EntryId> RandomList(const EntryId& folder) {
    std::vector<EntryId> list;
    for (const EntryId& m : Messages(folder)) {
      if (Chance(0.4)) list.push_back(m);
    }
    if (Chance(0.15)) {
      const std::vector<EntryId> all = AllMessages();
      if (!all.empty()) list.push_back(Pick(all));
    }
    if (!list.empty() && Chance(0.1)) list.push_back(list.front());
    if (!deleted_.empty() && Chance(0.1)) list.push_back(Pick(deleted_));
    return list;
  }

  // --- Operations. Each returns a description for the trace; failures the
  // store reports (a cycle, a deleted object ...) are part of the game.
  std::string CreateFolder() {
    const EntryId parent =
        Chance(0.6) ? store_.ipm_subtree_id() : Pick(Folders());
    const std::string name = absl::StrCat("F", next_name_++);
    const absl::StatusOr<EntryId> made =
        store_.CreateFolder(parent, name, "", 0);
    return absl::StrCat("CreateFolder ", name, " ", made.ok());
  }

  // Sets random properties on an open handle: PR_MESSAGE_FLAGS (or its
  // deletion), sometimes only a subject.
  std::string Edit(Handle handle) {
    std::vector<PropValue> values = {
        {PR_SUBJECT, absl::StrCat("s", next_name_++)}};
    std::string what = "subject";
    const int kind = static_cast<int>(Uniform(5));
    if (kind <= 2) {
      const int32_t flags = RandomFlags();
      values.push_back({PR_MESSAGE_FLAGS, flags});
      what = absl::StrCat("flags ", flags);
    } else if (kind == 3) {
      (void)store_.DeleteMessageProps(caller_, handle, {PR_MESSAGE_FLAGS});
      what = "no flags";
    }
    (void)store_.SetMessageProps(caller_, handle, values);
    return what;
  }

  std::string SaveNew() {
    const EntryId folder = MessageFolder();
    const Handle handle = store_.CreateMessage(caller_, folder, 0).value();
    std::string what = "default flags";
    if (Chance(0.8)) what = Edit(handle);
    const absl::StatusOr<EntryId> saved =
        store_.SaveChanges(caller_, handle, 0);
    return absl::StrCat("SaveNew (", what, ") ", saved.ok());
  }

  std::string SaveExisting() {
    const std::vector<EntryId> all = AllMessages();
    if (all.empty()) return SaveNew();
    const Handle handle =
        store_.OpenMessage(caller_, Pick(all), MAPI_MODIFY).value();
    const std::string what = Edit(handle);
    if (Chance(0.1)) {
      (void)store_.Release(caller_, handle);  // Changes dropped.
      return absl::StrCat("Edit+Release (", what, ")");
    }
    const absl::StatusOr<EntryId> saved =
        store_.SaveChanges(caller_, handle, 0);
    return absl::StrCat("SaveExisting (", what, ") ", saved.ok());
  }

  // Handles kept open across operations: saved later, after their message
  // (or a draft's folder) may have changed or gone.
  std::string OpenIntoPool() {
    if (pool_.size() >= 6) return PoolSave();
    const std::vector<EntryId> all = AllMessages();
    Handle handle = 0;
    if (all.empty() || Chance(0.4)) {
      handle = store_.CreateMessage(caller_, MessageFolder(), 0).value();
    } else {
      handle = store_.OpenMessage(caller_, Pick(all), MAPI_MODIFY).value();
    }
    const std::string what = Edit(handle);
    pool_.push_back(handle);
    return absl::StrCat("OpenIntoPool (", what, ")");
  }
  std::string PoolSave() {
    if (pool_.empty()) return OpenIntoPool();
    const size_t i = Uniform(pool_.size());
    const Handle handle = pool_[i];
    std::string what;
    if (Chance(0.5)) what = Edit(handle);
    const bool keep = Chance(0.4);
    const absl::StatusOr<EntryId> saved =
        store_.SaveChanges(caller_, handle, keep ? KEEP_OPEN_READWRITE : 0);
    if (!keep || !saved.ok()) {
      (void)store_.Release(caller_, handle);
      pool_.erase(pool_.begin() + static_cast<ptrdiff_t>(i));
    }
    return absl::StrCat("PoolSave (", what, ") keep=", keep, " ",
                        saved.ok() ? "ok" : saved.status().ToString());
  }

  std::string SetReadFlags() {
    const EntryId folder = SourceFolder();
    const std::vector<EntryId> list =
        Chance(0.3) ? std::vector<EntryId>() : RandomList(folder);
    const bool clear = Chance(0.5);
    std::string what =
        absl::StrCat("SetReadFlags ", list.size(), clear ? " clear" : " set");
    MapiProgress* progress = RandomProgress(&what);
    (void)store_.SetReadFlags(folder, list, clear ? CLEAR_READ_FLAG : 0,
                              nullptr, progress);
    return what;
  }

  std::string DeliverNewMail() {
    std::vector<PropValue> props = {
        {PR_SUBJECT, absl::StrCat("mail", next_name_++)}};
    std::string what = "DeliverNewMail unread";
    if (Chance(0.5)) {
      const int32_t flags = RandomFlags();
      props.push_back({PR_MESSAGE_FLAGS, flags});
      what = absl::StrCat("DeliverNewMail flags ", flags);
    }
    (void)store_.DeliverNewMail(props).value();
    return what;
  }

  std::string CopyMessages() {
    const EntryId source = SourceFolder();
    const EntryId dest = Chance(0.1) ? source : MessageFolder();
    const std::vector<EntryId> list = RandomList(source);
    if (list.empty()) return "CopyMessages (nothing)";
    const bool move = Chance(0.5);
    std::string what =
        absl::StrCat(move ? "MoveMessages " : "CopyMessages ", list.size());
    MapiProgress* progress = RandomProgress(&what);
    const std::vector<EntryId> moved = move ? Messages(source) : list;
    (void)store_.CopyMessages(source, list, dest, move ? MESSAGE_MOVE : 0,
                              nullptr, progress);
    if (move && source != dest) Remember(moved);
    return what;
  }

  std::string DeleteMessages() {
    const EntryId folder = SourceFolder();
    const std::vector<EntryId> list = RandomList(folder);
    if (list.empty()) return "DeleteMessages (nothing)";
    std::string what = absl::StrCat("DeleteMessages ", list.size());
    MapiProgress* progress = RandomProgress(&what);
    (void)store_.DeleteMessages(folder, list, 0, nullptr, progress);
    Remember(list);
    return what;
  }

  std::string CopyFolder() {
    const std::vector<EntryId> user = UserFolders();
    if (user.empty()) return CreateFolder();
    const EntryId folder = Pick(user);
    const EntryId parent = ParentOf(folder);
    const EntryId dest =
        Chance(0.5) ? store_.ipm_subtree_id() : Pick(Folders());
    const int kind = static_cast<int>(Uniform(3));
    const ULONG flags = kind == 0   ? FOLDER_MOVE
                        : kind == 1 ? COPY_SUBFOLDERS
                                    : 0;
    std::string what = absl::StrCat(kind == 0   ? "MoveFolder"
                                    : kind == 1 ? "CopyFolder+sub"
                                                : "CopyFolder");
    MapiProgress* progress = RandomProgress(&what);
    const absl::StatusOr<EntryId> copy =
        store_.CopyFolder(parent, folder, dest, absl::StrCat("C", next_name_++),
                          flags, nullptr, progress);
    return absl::StrCat(what, " ", copy.ok() ? "ok" : copy.status().ToString());
  }

  std::string DeleteFolder() {
    const std::vector<EntryId> user = UserFolders();
    if (user.empty()) return CreateFolder();
    const EntryId folder = Pick(user);
    const EntryId parent = ParentOf(folder);
    std::string what = "DeleteFolder";
    MapiProgress* progress = RandomProgress(&what);
    const std::vector<EntryId> before = AllMessages();
    (void)store_.DeleteFolder(parent, folder, DEL_FOLDERS | DEL_MESSAGES,
                              nullptr, progress);
    Remember(before);
    return what;
  }

  std::string EmptyFolder() {
    const std::vector<EntryId> user = UserFolders();
    const EntryId folder =
        user.empty() || Chance(0.2) ? store_.inbox_id() : Pick(user);
    std::string what = "EmptyFolder";
    MapiProgress* progress = RandomProgress(&what);
    const std::vector<EntryId> before = AllMessages();
    (void)store_.EmptyFolder(folder, 0, nullptr, progress);
    Remember(before);
    return what;
  }

  // Keeps a few ids that may now be gone, for lists naming deleted ids.
  void Remember(const std::vector<EntryId>& ids) {
    for (const EntryId& id : ids) {
      if (store_.Exists(id).ok()) continue;
      if (deleted_.size() < 64) {
        deleted_.push_back(id);
      } else {
        deleted_[Uniform(deleted_.size())] = id;
      }
    }
  }

  std::string RandomOperation() {
    // Keep the store small enough for the full check after each operation:
    // past ~120 messages, emptying and deleting win more often.
    const size_t messages = AllMessages().size();
    const int dice = static_cast<int>(Uniform(100));
    if (messages > 120 && dice < 15) {
      return Chance(0.5) ? EmptyFolder() : DeleteFolder();
    }
    if (dice < 20) return SaveNew();
    if (dice < 32) return SaveExisting();
    if (dice < 40) return OpenIntoPool();
    if (dice < 48) return PoolSave();
    if (dice < 58) return SetReadFlags();
    if (dice < 64) return DeliverNewMail();
    if (dice < 74) return CopyMessages();
    if (dice < 80) return DeleteMessages();
    if (dice < 86) return CopyFolder();
    if (dice < 90) return DeleteFolder();
    if (dice < 93) return EmptyFolder();
    return CreateFolder();
  }

  // --- The check: the counters every folder reports (GetProps and the
  // hierarchy view's row) against a count from its messages' own flags.
  void CheckCounters() {
    std::vector<std::pair<EntryId, Expected>> folders;
    for (const EntryId& folder : Folders()) {
      Expected expected;
      for (const EntryId& m : Messages(folder)) {
        const PropValue flags =
            store_.GetProps(m, {PR_MESSAGE_FLAGS}).value()[0];
        const int32_t* value = std::get_if<int32_t>(&flags.value);
        ++expected.count;
        // No PR_MESSAGE_FLAGS (PT_ERROR in its slot) counts as unread.
        if (value == nullptr ||
            (static_cast<ULONG>(*value) & MSGFLAG_READ) == 0) {
          ++expected.unread;
        }
      }
      folders.emplace_back(folder, expected);
    }
    for (const auto& [folder, expected] : folders) {
      const std::vector<PropValue> got =
          store_.GetProps(folder, {PR_CONTENT_COUNT, PR_CONTENT_UNREAD})
              .value();
      ASSERT_EQ(std::get<int32_t>(got[0].value), expected.count)
          << "PR_CONTENT_COUNT of folder " << FolderName(folder);
      ASSERT_EQ(std::get<int32_t>(got[1].value), expected.unread)
          << "PR_CONTENT_UNREAD of folder " << FolderName(folder);
    }
    // The hierarchy view (every folder but the root).
    const Store::TableSnapshot snapshot =
        store_.QueryAllRows(caller_, view_, 100000, 1 << 30).value();
    ASSERT_EQ(snapshot.rows.size() + 1, folders.size());
    for (const Row& row : snapshot.rows) {
      const EntryId id = std::get<Binary>(row[0].value).bytes;
      for (const auto& [folder, expected] : folders) {
        if (folder != id) continue;
        ASSERT_EQ(std::get<int32_t>(row[1].value), expected.count)
            << "view row PR_CONTENT_COUNT of " << FolderName(folder);
        ASSERT_EQ(std::get<int32_t>(row[2].value), expected.unread)
            << "view row PR_CONTENT_UNREAD of " << FolderName(folder);
      }
    }
    ASSERT_TRUE(store_.CheckConsistency().ok()) << store_.CheckConsistency();
  }

  EntryId ParentOf(const EntryId& folder) {
    const PropValue parent =
        store_.GetProps(folder, {PR_PARENT_ENTRYID}).value()[0];
    return std::get<Binary>(parent.value).bytes;
  }

  std::string FolderName(const EntryId& folder) {
    const PropValue name =
        store_.GetProps(folder, {PR_DISPLAY_NAME}).value()[0];
    const std::string* text = std::get_if<std::string>(&name.value);
    return text != nullptr ? *text : "(root)";
  }

  std::mt19937 rng_;
  Store store_;
  Store::ViewId view_ = 0;
  std::optional<RecordingProgress> progress_;
  std::vector<Handle> pool_;
  std::vector<EntryId> deleted_;
  int next_name_ = 0;
};

// 4 x 1000 operations, each followed by the full check. Fixed seeds: a
// failure names its seed and operation (and describes the operation); more
// seeds or operations search further.
TEST(StoreCountersTest, RandomOperationsKeepCountersExact) {
  for (uint32_t seed : {1u, 2u, 3u, 4u}) {
    SCOPED_TRACE(absl::StrCat("seed ", seed));
    RandomCountersRun run(seed);
    run.Run(1000);
    if (HasFailure()) return;
  }
}

}  // namespace
}  // namespace mapinotify::server::store
