// Store::Impl: the subtree walks behind CopyFolder, DeleteFolder and
// EmptyFolder, one item (a message or a folder) at a time, each subfolder a
// subobject level of the progress reporter. Both walks are iterative (an
// explicit stack), so a deep tree cannot overflow the thread's stack.
#include <utility>
#include <vector>

#include "server/store/store_impl.h"

namespace mapinotify::server::store {

size_t Store::Impl::DeleteItemsLocked(ObjectNumber folder) const {
  const Folder& f = FolderLocked(folder);
  return f.subfolders.size() + f.messages.size() + 1;
}

bool Store::Impl::DeleteTreeLocked(ObjectNumber root,
                                   ProgressReporter* reporter,
                                   NotificationBatch* batch,
                                   std::vector<CountersBefore>* survivors) {
  struct Frame {
    ObjectNumber folder;
    FolderCounters before;
    std::vector<ObjectNumber> children;  // Newest first: deletion order.
    size_t next = 0;
  };
  std::vector<Frame> stack;
  const Folder& top = FolderLocked(root);
  stack.push_back(Frame{root,
                        CountersLocked(root),
                        {top.subfolders.rbegin(), top.subfolders.rend()}});
  bool going = true;
  while (going && !stack.empty()) {
    Frame& frame = stack.back();
    if (frame.next < frame.children.size()) {
      const ObjectNumber child = frame.children[frame.next++];
      reporter->EnterSubobject(DeleteItemsLocked(child));
      const Folder& f = FolderLocked(child);
      stack.push_back(Frame{child,
                            CountersLocked(child),
                            {f.subfolders.rbegin(), f.subfolders.rend()}});
      continue;
    }
    const ObjectNumber number = frame.folder;
    const Folder& folder = FolderLocked(number);
    const std::vector<ObjectNumber> messages(folder.messages.begin(),
                                             folder.messages.end());
    for (ObjectNumber m : messages) {
      DeleteMessageLocked(m, batch);
      if (!reporter->ItemDone()) {
        going = false;
        break;
      }
    }
    if (!going) break;
    // The folder itself, empty by now.
    const ObjectNumber parent = folder.parent;
    batch->ObjectDeleted(codec_.Encode(number), MAPI_FOLDER,
                         codec_.Encode(parent));
    FolderLocked(parent).subfolders.erase(number);
    folders_.erase(number);
    stack.pop_back();
    going = reporter->ItemDone();
    if (going && !stack.empty()) going = reporter->LeaveSubobject();
  }
  if (going) return true;
  for (auto it = stack.rbegin(); it != stack.rend(); ++it) {
    survivors->emplace_back(it->folder, it->before);
  }
  return false;
}

size_t Store::Impl::CopyItemsLocked(ObjectNumber folder,
                                    bool subfolders) const {
  const Folder& f = FolderLocked(folder);
  return f.messages.size() + (subfolders ? f.subfolders.size() : 0);
}

ObjectNumber Store::Impl::NewFolderCopyLocked(ObjectNumber source,
                                              ObjectNumber parent,
                                              const std::string* name, bool top,
                                              FileTime now,
                                              NotificationBatch* batch) {
  const ObjectNumber number = NewNumberLocked();
  const Folder& original = FolderLocked(source);
  Folder& copy = folders_[number];
  copy.parent = parent;
  copy.folder_type = FOLDER_GENERIC;
  copy.props = original.props;
  if (name != nullptr) copy.props.Set(PropValue{PR_DISPLAY_NAME, *name});
  copy.created = copy.modified = now;
  FolderLocked(parent).subfolders.insert(number);
  const EntryId copy_id = codec_.Encode(number);
  if (top) {
    batch->ObjectCopied(copy_id, MAPI_FOLDER, codec_.Encode(parent),
                        codec_.Encode(source), ParentIdLocked(source));
  } else {
    batch->ObjectCreated(copy_id, MAPI_FOLDER, codec_.Encode(parent));
  }
  return number;
}

bool Store::Impl::CopyFolderMessagesLocked(ObjectNumber source,
                                           ObjectNumber copy,
                                           ProgressReporter* reporter,
                                           NotificationBatch* batch) {
  const Folder& original = FolderLocked(source);
  const EntryId copy_id = codec_.Encode(copy);
  for (ObjectNumber m : original.messages) {
    const ObjectNumber message = NewNumberLocked();
    Message duplicate = messages_.at(m);
    duplicate.parent = copy;
    AddMessageLocked(message, std::move(duplicate));
    batch->ObjectCreated(codec_.Encode(message), MAPI_MESSAGE, copy_id);
    if (!reporter->ItemDone()) return false;
  }
  return true;
}

bool Store::Impl::CopyTreeLocked(ObjectNumber folder, ObjectNumber dest_parent,
                                 const std::string& name, bool subfolders,
                                 ProgressReporter* reporter,
                                 NotificationBatch* batch, ObjectNumber* copy) {
  struct Frame {
    ObjectNumber copy;
    std::vector<ObjectNumber> children;  // Oldest first.
    size_t next = 0;
  };
  const FileTime now = FileTimeNow();
  auto children = [subfolders](const Folder& f) {
    return subfolders ? std::vector<ObjectNumber>(f.subfolders.begin(),
                                                  f.subfolders.end())
                      : std::vector<ObjectNumber>();
  };
  *copy =
      NewFolderCopyLocked(folder, dest_parent, &name, /*top=*/true, now, batch);
  std::vector<Frame> stack;
  stack.push_back(Frame{*copy, children(FolderLocked(folder))});
  bool going = CopyFolderMessagesLocked(folder, *copy, reporter, batch);
  while (going && !stack.empty()) {
    Frame& frame = stack.back();
    if (frame.next < frame.children.size()) {
      const ObjectNumber source = frame.children[frame.next++];
      const ObjectNumber parent = frame.copy;
      reporter->EnterSubobject(CopyItemsLocked(source, subfolders));
      const ObjectNumber number = NewFolderCopyLocked(
          source, parent, nullptr, /*top=*/false, now, batch);
      stack.push_back(Frame{number, children(FolderLocked(source))});
      going = CopyFolderMessagesLocked(source, number, reporter, batch);
      continue;
    }
    stack.pop_back();
    if (!stack.empty()) going = reporter->LeaveSubobject();
  }
  return going;
}

}  // namespace mapinotify::server::store
