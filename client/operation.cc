#include "mapinotify/operation.h"

#include <utility>

namespace mapinotify {

LongOperation LongOperation::CopyFolder(EntryId source_parent, EntryId folder,
                                        EntryId dest_parent,
                                        std::string new_name, ULONG flags) {
  LongOperation op;
  op.kind = Kind::kCopyFolder;
  op.parent = std::move(source_parent);
  op.folder = std::move(folder);
  op.dest = std::move(dest_parent);
  op.new_name = std::move(new_name);
  op.flags = flags;
  return op;
}

LongOperation LongOperation::DeleteFolder(EntryId parent, EntryId folder,
                                          ULONG flags) {
  LongOperation op;
  op.kind = Kind::kDeleteFolder;
  op.parent = std::move(parent);
  op.folder = std::move(folder);
  op.flags = flags;
  return op;
}

LongOperation LongOperation::EmptyFolder(EntryId folder, ULONG flags) {
  LongOperation op;
  op.kind = Kind::kEmptyFolder;
  op.folder = std::move(folder);
  op.flags = flags;
  return op;
}

LongOperation LongOperation::DeleteMessages(EntryId folder,
                                            std::vector<EntryId> messages,
                                            ULONG flags) {
  LongOperation op;
  op.kind = Kind::kDeleteMessages;
  op.folder = std::move(folder);
  op.messages = std::move(messages);
  op.flags = flags;
  return op;
}

LongOperation LongOperation::CopyMessages(EntryId source,
                                          std::vector<EntryId> messages,
                                          EntryId dest, ULONG flags) {
  LongOperation op;
  op.kind = Kind::kCopyMessages;
  op.folder = std::move(source);
  op.messages = std::move(messages);
  op.dest = std::move(dest);
  op.flags = flags;
  return op;
}

LongOperation LongOperation::SetReadFlags(EntryId folder,
                                          std::vector<EntryId> messages,
                                          ULONG flags) {
  LongOperation op;
  op.kind = Kind::kSetReadFlags;
  op.folder = std::move(folder);
  op.messages = std::move(messages);
  op.flags = flags;
  return op;
}

}  // namespace mapinotify
