// Store::Impl: folder operations (properties, create, copy / move, delete,
// empty).
//
// Progress (see progress_reporter.h for the algorithm; an item is a message
// or a folder; "S[k]" is a subobject level of k items, entered with
// SetLimits(its sub-range, flags cleared) and left with SetLimits(the
// parent's limits and flags) and the parent's Progress for it; TOP is
// MAPI_TOP_LEVEL):
//  - CopyFolder (copy): the top level is the folder's messages, then (with
//    COPY_SUBFOLDERS) its subfolders oldest first, each S[its messages +
//    its subfolders], recursively; the copy itself is created before the
//    first item. For F holding m1, m2 and S1 (holding m3 and S1a, which
//    holds m4, m5) and an empty S2, with default limits: GetFlags, GetMin,
//    GetMax, SetLimits(1, 1000, TOP), Progress(250, 1, 4), Progress(500, 2,
//    4), SetLimits(500, 750, 0), Progress(625, 0, 0), SetLimits(625, 750,
//    0), Progress(687, 0, 0), SetLimits(500, 750, 0), SetLimits(1, 1000,
//    TOP), Progress(750, 3, 4), SetLimits(750, 1000, 0), SetLimits(1, 1000,
//    TOP), Progress(1000, 4, 4).
//  - CopyFolder (FOLDER_MOVE): one item, the folder.
//  - DeleteFolder: the top level is the folder's subfolders newest first,
//    each S[its subfolders + its messages + itself] recursively, then its
//    messages, then the folder itself (the notification order).
//  - EmptyFolder: the top level is the folder's messages, then its
//    subfolders oldest first, each S[...] as in DeleteFolder.
// A cancel stops before the next item; the counters changes then also
// cover the folders left alive whose contents changed (innermost first),
// before the operation's usual ones.
#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/internal/status_macros.h"
#include "mapinotify/status.h"
#include "server/store/store_impl.h"

namespace mapinotify::server::store {
namespace {

absl::Status NameError(SCODE scode, const std::string& name) {
  if (scode == MAPI_E_STRING_TOO_LONG) {
    return MapiError(scode,
                     absl::StrCat("a folder name of ", name.size(),
                                  " bytes; the most is ", kMaxFolderNameBytes));
  }
  return MapiError(scode, "a folder name must not be empty");
}

// *warning (when given): MAPI_W_PARTIAL_COMPLETION after a cancel that left
// items undone, S_OK otherwise.
void SetWarning(bool partial, SCODE* warning) {
  if (warning != nullptr) {
    *warning = partial ? MAPI_W_PARTIAL_COMPLETION : S_OK;
  }
}

void SortUnique(std::vector<ULONG>* tags) {
  std::sort(tags->begin(), tags->end());
  tags->erase(std::unique(tags->begin(), tags->end()), tags->end());
}

}  // namespace

absl::StatusOr<std::vector<PropProblem>> Store::Impl::SetFolderProps(
    const EntryId& folder, const std::vector<PropValue>& values) {
  WriteLock lock(this);
  absl::StatusOr<ObjectNumber> number = FolderNumberLocked(folder);
  if (!number.ok()) return number.status();
  Folder& target = FolderLocked(*number);
  std::vector<PropProblem> problems;
  std::vector<ULONG> changed;
  for (size_t i = 0; i < values.size(); ++i) {
    const PropValue& value = values[i];
    SCODE scode = CheckSettable(value);
    if (scode == S_OK && value.tag == PR_DISPLAY_NAME) {
      const std::string& name = std::get<std::string>(value.value);
      scode = CheckFolderName(name);
      if (scode == S_OK && IsWellKnownFolder(*number) &&
          name != target.name()) {
        scode = MAPI_E_NO_ACCESS;
      }
      if (scode == S_OK && target.parent != 0 &&
          ChildNamedLocked(target.parent, name, *number) != 0) {
        scode = MAPI_E_COLLISION;
      }
    }
    if (scode == S_OK && value.tag == PR_COMMENT &&
        std::get<std::string>(value.value).size() > kMaxCommentBytes) {
      scode = MAPI_E_STRING_TOO_LONG;
    }
    if (scode != S_OK) {
      problems.push_back(
          PropProblem{static_cast<uint32_t>(i), value.tag, scode});
      continue;
    }
    if (target.props.Set(value)) changed.push_back(value.tag);
  }
  if (!changed.empty()) {
    SortUnique(&changed);
    target.modified = FileTimeNow();
    NotificationBatch batch;
    batch.ObjectModified(folder, MAPI_FOLDER, ParentIdLocked(*number), changed);
    PublishLocked(&batch);
  }
  return problems;
}

absl::StatusOr<std::vector<PropProblem>> Store::Impl::DeleteFolderProps(
    const EntryId& folder, const std::vector<ULONG>& tags) {
  WriteLock lock(this);
  absl::StatusOr<ObjectNumber> number = FolderNumberLocked(folder);
  if (!number.ok()) return number.status();
  Folder& target = FolderLocked(*number);
  std::vector<PropProblem> problems;
  std::vector<ULONG> changed;
  for (size_t i = 0; i < tags.size(); ++i) {
    SCODE scode = CheckRemovable(tags[i]);
    if (scode == S_OK && PROP_ID(tags[i]) == PROP_ID(PR_DISPLAY_NAME)) {
      scode = MAPI_E_INVALID_PARAMETER;  // A folder keeps its name.
    }
    if (scode != S_OK) {
      problems.push_back(PropProblem{static_cast<uint32_t>(i), tags[i], scode});
      continue;
    }
    if (std::optional<ULONG> removed = target.props.Erase(tags[i])) {
      changed.push_back(*removed);
    }
  }
  if (!changed.empty()) {
    SortUnique(&changed);
    target.modified = FileTimeNow();
    NotificationBatch batch;
    batch.ObjectModified(folder, MAPI_FOLDER, ParentIdLocked(*number), changed);
    PublishLocked(&batch);
  }
  return problems;
}

absl::StatusOr<EntryId> Store::Impl::CreateFolder(const EntryId& parent,
                                                  const std::string& name,
                                                  const std::string& comment,
                                                  ULONG flags) {
  if (absl::Status s = CheckFlags(flags, OPEN_IF_EXISTS, "CreateFolder");
      !s.ok()) {
    return s;
  }
  if (SCODE scode = CheckFolderName(name); scode != S_OK) {
    return NameError(scode, name);
  }
  if (comment.size() > kMaxCommentBytes) {
    return MapiError(MAPI_E_STRING_TOO_LONG,
                     absl::StrCat("a comment of ", comment.size(),
                                  " bytes; the most is ", kMaxCommentBytes));
  }
  WriteLock lock(this);
  absl::StatusOr<ObjectNumber> parent_number = FolderNumberLocked(parent);
  if (!parent_number.ok()) return parent_number.status();
  if (ObjectNumber existing = ChildNamedLocked(*parent_number, name, 0)) {
    if (flags & OPEN_IF_EXISTS) return codec_.Encode(existing);
    return MapiError(MAPI_E_COLLISION,
                     absl::StrCat("the parent already has a folder named \"",
                                  FolderLocked(existing).name(), "\""));
  }
  const FolderCounters before = CountersLocked(*parent_number);
  const ObjectNumber number = NewNumberLocked();
  Folder& folder = folders_[number];
  folder.parent = *parent_number;
  folder.folder_type = FOLDER_GENERIC;
  folder.props.Set(PropValue{PR_DISPLAY_NAME, name});
  if (!comment.empty()) folder.props.Set(PropValue{PR_COMMENT, comment});
  folder.created = folder.modified = FileTimeNow();
  FolderLocked(*parent_number).subfolders.insert(number);

  const EntryId id = codec_.Encode(number);
  NotificationBatch batch;
  batch.ObjectCreated(id, MAPI_FOLDER, parent);
  AddCountersChangeLocked(*parent_number, before, &batch);
  PublishLocked(&batch);
  return id;
}

absl::StatusOr<EntryId> Store::Impl::CopyFolder(const EntryId& source_parent,
                                                const EntryId& folder,
                                                const EntryId& dest_parent,
                                                const std::string& new_name,
                                                ULONG flags, SCODE* warning,
                                                MapiProgress* progress) {
  if (absl::Status s =
          CheckFlags(flags, FOLDER_MOVE | COPY_SUBFOLDERS, "CopyFolder");
      !s.ok()) {
    return s;
  }
  if (!new_name.empty()) {
    if (SCODE scode = CheckFolderName(new_name); scode != S_OK) {
      return NameError(scode, new_name);
    }
  }
  const bool move = (flags & FOLDER_MOVE) != 0;
  WriteLock lock(this);
  absl::StatusOr<ObjectNumber> source = FolderNumberLocked(source_parent);
  if (!source.ok()) return source.status();
  absl::StatusOr<ObjectNumber> number = FolderNumberLocked(folder);
  if (!number.ok()) return number.status();
  absl::StatusOr<ObjectNumber> dest = FolderNumberLocked(dest_parent);
  if (!dest.ok()) return dest.status();
  if (move && IsWellKnownFolder(*number)) {
    return MapiError(MAPI_E_NO_ACCESS, "a well-known folder cannot be moved");
  }
  if (FolderLocked(*number).parent != *source) {
    return MapiError(MAPI_E_NOT_FOUND,
                     "the folder is not a subfolder of the source folder");
  }
  if (InSubtreeLocked(*dest, *number)) {
    return MapiError(MAPI_E_FOLDER_CYCLE,
                     "the destination is the folder or inside its subtree");
  }
  const std::string name =
      new_name.empty() ? FolderLocked(*number).name() : new_name;
  if (ObjectNumber clash =
          ChildNamedLocked(*dest, name, move ? *number : ObjectNumber{0})) {
    return MapiError(MAPI_E_COLLISION,
                     absl::StrCat("the destination already has a folder "
                                  "named \"",
                                  FolderLocked(clash).name(), "\""));
  }

  NotificationBatch batch;
  const FolderCounters source_before = CountersLocked(*source);
  const FolderCounters dest_before = CountersLocked(*dest);
  ProgressReporter reporter(progress);
  if (!move) {
    const bool subfolders = (flags & COPY_SUBFOLDERS) != 0;
    reporter.Begin(CopyItemsLocked(*number, subfolders));
    ObjectNumber copy = 0;
    CopyTreeLocked(*number, *dest, name, subfolders, &reporter, &batch, &copy);
    AddCountersChangeLocked(*dest, dest_before, &batch);
    PublishLocked(&batch);
    SetWarning(reporter.incomplete(), warning);
    return codec_.Encode(copy);
  }
  reporter.Begin(1);
  Folder& moved = FolderLocked(*number);
  FolderLocked(*source).subfolders.erase(*number);
  FolderLocked(*dest).subfolders.insert(*number);
  moved.parent = *dest;
  if (moved.props.Set(PropValue{PR_DISPLAY_NAME, name})) {
    moved.modified = FileTimeNow();
  }
  batch.ObjectMoved(folder, MAPI_FOLDER, dest_parent, folder, source_parent);
  if (*source != *dest) {
    AddCountersChangeLocked(*source, source_before, &batch);
    AddCountersChangeLocked(*dest, dest_before, &batch);
  }
  reporter.ItemDone();  // The only item: a cancel leaves nothing undone.
  PublishLocked(&batch);
  SetWarning(false, warning);
  return folder;
}

absl::Status Store::Impl::DeleteFolder(const EntryId& parent,
                                       const EntryId& folder, ULONG flags,
                                       SCODE* warning, MapiProgress* progress) {
  MAPINOTIFY_RETURN_IF_ERROR(
      CheckFlags(flags, DEL_FOLDERS | DEL_MESSAGES, "DeleteFolder"));
  WriteLock lock(this);
  absl::StatusOr<ObjectNumber> parent_number = FolderNumberLocked(parent);
  if (!parent_number.ok()) return parent_number.status();
  absl::StatusOr<ObjectNumber> number = FolderNumberLocked(folder);
  if (!number.ok()) return number.status();
  if (IsWellKnownFolder(*number)) {
    return MapiError(MAPI_E_NO_ACCESS, "a well-known folder cannot be deleted");
  }
  const Folder& target = FolderLocked(*number);
  if (target.parent != *parent_number) {
    return MapiError(MAPI_E_NOT_FOUND,
                     "the folder is not a subfolder of the parent given");
  }
  if (!target.subfolders.empty() && (flags & DEL_FOLDERS) == 0) {
    return MapiError(MAPI_E_HAS_FOLDERS,
                     absl::StrCat("the folder has ", target.subfolders.size(),
                                  " subfolders (DEL_FOLDERS not set)"));
  }
  if ((flags & DEL_MESSAGES) == 0) {
    for (ObjectNumber n : SubtreeLocked(*number)) {
      if (!FolderLocked(n).messages.empty()) {
        return MapiError(MAPI_E_HAS_MESSAGES,
                         n == *number
                             ? "the folder has messages (DEL_MESSAGES not set)"
                             : "a subfolder has messages (DEL_MESSAGES not "
                               "set)");
      }
    }
  }
  const FolderCounters before = CountersLocked(*parent_number);
  NotificationBatch batch;
  ProgressReporter reporter(progress);
  reporter.Begin(DeleteItemsLocked(*number));
  std::vector<CountersBefore> survivors;
  DeleteTreeLocked(*number, &reporter, &batch, &survivors);
  for (const auto& [n, counters] : survivors) {
    AddCountersChangeLocked(n, counters, &batch);
  }
  AddCountersChangeLocked(*parent_number, before, &batch);
  PublishLocked(&batch);
  SetWarning(reporter.incomplete(), warning);
  return absl::OkStatus();
}

absl::Status Store::Impl::EmptyFolder(const EntryId& folder, ULONG flags,
                                      SCODE* warning, MapiProgress* progress) {
  MAPINOTIFY_RETURN_IF_ERROR(CheckFlags(flags, DEL_ASSOCIATED, "EmptyFolder"));
  WriteLock lock(this);
  absl::StatusOr<ObjectNumber> number = FolderNumberLocked(folder);
  if (!number.ok()) return number.status();
  for (ObjectNumber n : SubtreeLocked(*number)) {
    if (n != *number && IsWellKnownFolder(n)) {
      return MapiError(MAPI_E_NO_ACCESS,
                       "the folder holds a well-known folder, which cannot "
                       "be deleted");
    }
  }
  const FolderCounters before = CountersLocked(*number);
  NotificationBatch batch;
  const Folder& target = FolderLocked(*number);
  const std::vector<ObjectNumber> messages(target.messages.begin(),
                                           target.messages.end());
  const std::vector<ObjectNumber> subfolders(target.subfolders.begin(),
                                             target.subfolders.end());
  ProgressReporter reporter(progress);
  reporter.Begin(messages.size() + subfolders.size());
  std::vector<CountersBefore> survivors;
  bool going = true;
  for (size_t i = 0; going && i < messages.size(); ++i) {
    DeleteMessageLocked(messages[i], &batch);
    going = reporter.ItemDone();
  }
  for (size_t i = 0; going && i < subfolders.size(); ++i) {
    reporter.EnterSubobject(DeleteItemsLocked(subfolders[i]));
    going = DeleteTreeLocked(subfolders[i], &reporter, &batch, &survivors) &&
            reporter.LeaveSubobject();
  }
  for (const auto& [n, counters] : survivors) {
    AddCountersChangeLocked(n, counters, &batch);
  }
  AddCountersChangeLocked(*number, before, &batch);
  PublishLocked(&batch);
  SetWarning(reporter.incomplete(), warning);
  return absl::OkStatus();
}

}  // namespace mapinotify::server::store
