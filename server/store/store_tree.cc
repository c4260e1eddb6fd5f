// Store::Impl: lookups in the folder tree, counters, the saved-message
// helpers that keep them, publishing, listings and the consistency check.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "mapinotify/status.h"
#include "server/hub/hub.h"
#include "server/store/store_impl.h"

namespace mapinotify::server::store {
namespace {

absl::Status Corrupt(const std::string& what) {
  return MapiError(MAPI_E_CORRUPT_STORE, what);
}

}  // namespace

// --- Impl: lookups.

absl::StatusOr<ObjectNumber> Store::Impl::FolderNumberLocked(
    const EntryId& entry_id) const {
  absl::StatusOr<ObjectNumber> number = codec_.Decode(entry_id);
  if (!number.ok()) return number.status();
  if (folders_.count(*number) != 0) return *number;
  if (messages_.count(*number) != 0) {
    return MapiError(MAPI_E_INVALID_PARAMETER,
                     "the entry id names a message, not a folder");
  }
  if (*number == kStoreNumber) {
    return MapiError(MAPI_E_INVALID_PARAMETER,
                     "the entry id names the store, not a folder");
  }
  return MapiError(MAPI_E_NOT_FOUND, "no such folder (deleted or never was)");
}

absl::StatusOr<ObjectNumber> Store::Impl::MessageNumberLocked(
    const EntryId& entry_id) const {
  absl::StatusOr<ObjectNumber> number = codec_.Decode(entry_id);
  if (!number.ok()) return number.status();
  if (messages_.count(*number) != 0) return *number;
  if (folders_.count(*number) != 0 || *number == kStoreNumber) {
    return MapiError(MAPI_E_INVALID_PARAMETER,
                     "the entry id names a folder or the store, not a message");
  }
  return MapiError(MAPI_E_NOT_FOUND,
                   "no such message (deleted, moved, or never saved)");
}

Folder& Store::Impl::FolderLocked(ObjectNumber number) {
  return folders_.at(number);
}

const Folder& Store::Impl::FolderLocked(ObjectNumber number) const {
  return folders_.at(number);
}

EntryId Store::Impl::ParentIdLocked(ObjectNumber folder) const {
  const ObjectNumber parent = FolderLocked(folder).parent;
  return codec_.Encode(parent == 0 ? folder : parent);
}

absl::StatusOr<std::vector<ObjectNumber>> Store::Impl::DecodeListLocked(
    const std::vector<EntryId>& ids) const {
  std::vector<ObjectNumber> numbers;
  numbers.reserve(ids.size());
  absl::flat_hash_set<ObjectNumber> seen;  // Linear time for long lists.
  seen.reserve(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    absl::StatusOr<ObjectNumber> number = codec_.Decode(ids[i]);
    if (!number.ok()) {
      return MapiError(ScodeOf(number.status()),
                       absl::StrCat("entry id ", i, " of the list: ",
                                    number.status().message()));
    }
    if (seen.insert(*number).second) numbers.push_back(*number);
  }
  return numbers;
}

ObjectNumber Store::Impl::ChildNamedLocked(ObjectNumber parent,
                                           const std::string& name,
                                           ObjectNumber except) const {
  for (ObjectNumber child : FolderLocked(parent).subfolders) {
    if (child != except &&
        absl::EqualsIgnoreCase(FolderLocked(child).name(), name)) {
      return child;
    }
  }
  return 0;
}

bool Store::Impl::InSubtreeLocked(ObjectNumber number,
                                  ObjectNumber root) const {
  while (number != 0) {
    if (number == root) return true;
    number = FolderLocked(number).parent;
  }
  return false;
}

std::vector<ObjectNumber> Store::Impl::SubtreeLocked(ObjectNumber root) const {
  std::vector<ObjectNumber> order;
  std::vector<ObjectNumber> stack = {root};
  while (!stack.empty()) {
    const ObjectNumber number = stack.back();
    stack.pop_back();
    order.push_back(number);
    const auto& children = FolderLocked(number).subfolders;
    stack.insert(stack.end(), children.rbegin(), children.rend());
  }
  return order;
}

FolderCounters Store::Impl::CountersLocked(ObjectNumber number) const {
  const Folder& folder = FolderLocked(number);
  FolderCounters counters;
  counters.content_count = static_cast<int32_t>(folder.messages.size());
  counters.content_unread = folder.unread;  // Kept by the message helpers.
  counters.subfolders = !folder.subfolders.empty();
  counters.child_count = static_cast<int32_t>(folder.subfolders.size());
  return counters;
}

// --- Impl: changes and notifications.

void Store::Impl::AddCountersChangeLocked(ObjectNumber folder,
                                          const FolderCounters& before,
                                          NotificationBatch* batch) const {
  const std::vector<ULONG> changed =
      FolderCounters::Changed(before, CountersLocked(folder));
  if (changed.empty()) return;
  batch->ObjectModified(codec_.Encode(folder), MAPI_FOLDER,
                        ParentIdLocked(folder), changed);
}

void Store::Impl::DeleteMessageLocked(ObjectNumber number,
                                      NotificationBatch* batch) {
  const ObjectNumber folder = messages_.at(number).parent;
  EraseMessageLocked(number);
  batch->ObjectDeleted(codec_.Encode(number), MAPI_MESSAGE,
                       codec_.Encode(folder));
}

// --- Impl: saved messages (the only code that changes Folder::unread).

void Store::Impl::AddMessageLocked(ObjectNumber number, Message message) {
  Folder& folder = FolderLocked(message.parent);
  const bool unread = message.unread();
  messages_.emplace(number, std::move(message));
  folder.messages.insert(number);
  if (unread) ++folder.unread;
}

void Store::Impl::EraseMessageLocked(ObjectNumber number) {
  auto it = messages_.find(number);
  Folder& folder = FolderLocked(it->second.parent);
  if (it->second.unread()) --folder.unread;
  folder.messages.erase(number);
  messages_.erase(it);
}

std::vector<ULONG> Store::Impl::ChangeMessagePropsLocked(
    ObjectNumber number, const PendingChanges& changes) {
  Message& message = messages_.at(number);
  const bool was_unread = message.unread();
  std::vector<ULONG> changed = ApplyPending(changes, &message.props);
  const bool unread = message.unread();
  if (unread != was_unread) {
    FolderLocked(message.parent).unread += unread ? 1 : -1;
  }
  return changed;
}

void Store::Impl::PublishLocked(NotificationBatch* batch) {
  AddTableEventsLocked(batch);
  if (hub_ == nullptr || batch->empty()) return;
  hub_->PublishDeferred(batch->Take(), &wakes_);
}

// --- Impl: listings and the consistency check.

absl::StatusOr<std::vector<EntryId>> Store::Impl::ListSubfolders(
    const EntryId& folder) const {
  absl::ReaderMutexLock lock(&mu_);
  absl::StatusOr<ObjectNumber> number = FolderNumberLocked(folder);
  if (!number.ok()) return number.status();
  std::vector<EntryId> ids;
  for (ObjectNumber n : FolderLocked(*number).subfolders) {
    ids.push_back(codec_.Encode(n));
  }
  return ids;
}

absl::StatusOr<std::vector<EntryId>> Store::Impl::ListMessages(
    const EntryId& folder) const {
  absl::ReaderMutexLock lock(&mu_);
  absl::StatusOr<ObjectNumber> number = FolderNumberLocked(folder);
  if (!number.ok()) return number.status();
  std::vector<EntryId> ids;
  for (ObjectNumber n : FolderLocked(*number).messages) {
    ids.push_back(codec_.Encode(n));
  }
  return ids;
}

absl::Status Store::Impl::CheckConsistency() const {
  absl::ReaderMutexLock lock(&mu_);
  for (ObjectNumber n = kRootNumber; n <= kDeletedItemsNumber; ++n) {
    if (folders_.count(n) == 0) {
      return Corrupt(absl::StrCat("well-known folder ", n, " is missing"));
    }
  }
  if (folders_.at(kRootNumber).parent != 0) {
    return Corrupt("the root folder has a parent");
  }
  size_t folders_seen = 0;
  size_t messages_seen = 0;
  std::vector<ObjectNumber> stack = {kRootNumber};
  while (!stack.empty()) {
    const ObjectNumber number = stack.back();
    stack.pop_back();
    ++folders_seen;
    if (folders_seen > folders_.size()) {
      return Corrupt("a folder is reachable twice (a cycle)");
    }
    const Folder& folder = folders_.at(number);
    for (ObjectNumber child : folder.subfolders) {
      auto it = folders_.find(child);
      if (it == folders_.end()) {
        return Corrupt(absl::StrCat("folder ", number, " lists missing ",
                                    "subfolder ", child));
      }
      if (it->second.parent != number) {
        return Corrupt(absl::StrCat("subfolder ", child, " of ", number,
                                    " names parent ", it->second.parent));
      }
      stack.push_back(child);
    }
    int32_t unread = 0;
    for (ObjectNumber m : folder.messages) {
      auto it = messages_.find(m);
      if (it == messages_.end()) {
        return Corrupt(
            absl::StrCat("folder ", number, " lists missing ", "message ", m));
      }
      if (it->second.parent != number) {
        return Corrupt(absl::StrCat("message ", m, " of ", number,
                                    " names parent ", it->second.parent));
      }
      if (it->second.unread()) ++unread;
      ++messages_seen;
    }
    if (unread != folder.unread) {
      return Corrupt(absl::StrCat("folder ", number, " counts ", folder.unread,
                                  " unread messages; it holds ", unread));
    }
  }
  if (folders_seen != folders_.size()) {
    return Corrupt(absl::StrCat(folders_.size() - folders_seen,
                                " folders are not reachable from the root"));
  }
  if (messages_seen != messages_.size()) {
    return Corrupt(absl::StrCat(messages_.size() - messages_seen,
                                " messages are in no folder"));
  }
  return absl::OkStatus();
}

}  // namespace mapinotify::server::store
