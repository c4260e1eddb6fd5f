// Store::Impl: operations on several saved messages of a folder (delete,
// copy / move, read flags) and new-mail delivery.
//
// Progress (progress_reporter.h): DeleteMessages, CopyMessages and
// SetReadFlags have one level whose items are the distinct entries of the
// list, in order (for SetReadFlags with an empty list: the folder's
// messages) — an entry skipped because it names no message of the folder,
// or one that needs no change, still counts as an item done. With default
// limits and 4 entries: GetFlags, GetMin, GetMax, SetLimits(1, 1000,
// MAPI_TOP_LEVEL), Progress(250, 1, 4), Progress(500, 2, 4), Progress(750,
// 3, 4), Progress(1000, 4, 4). A cancel stops before the next entry; the
// counters changes come at the end as usual.
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/internal/status_macros.h"
#include "mapinotify/status.h"
#include "server/store/store_impl.h"

namespace mapinotify::server::store {
namespace {

absl::Status CheckNonEmpty(const std::vector<EntryId>& messages,
                           const char* call) {
  if (!messages.empty()) return absl::OkStatus();
  return MapiError(MAPI_E_INVALID_PARAMETER,
                   absl::StrCat(call, ": the list of messages is empty"));
}

void SetWarning(bool partial, SCODE* warning) {
  if (warning != nullptr) {
    *warning = partial ? MAPI_W_PARTIAL_COMPLETION : S_OK;
  }
}

}  // namespace

absl::Status Store::Impl::DeleteMessages(const EntryId& folder,
                                         const std::vector<EntryId>& messages,
                                         ULONG flags, SCODE* warning,
                                         MapiProgress* progress) {
  MAPINOTIFY_RETURN_IF_ERROR(
      CheckFlags(flags, MESSAGE_DIALOG, "DeleteMessages"));
  MAPINOTIFY_RETURN_IF_ERROR(CheckNonEmpty(messages, "DeleteMessages"));
  WriteLock lock(this);
  MAPINOTIFY_ASSIGN_OR_RETURN(const ObjectNumber folder_number,
                              FolderNumberLocked(folder));
  MAPINOTIFY_ASSIGN_OR_RETURN(const std::vector<ObjectNumber> numbers,
                              DecodeListLocked(messages));
  const FolderCounters before = CountersLocked(folder_number);
  const Folder& source = FolderLocked(folder_number);
  NotificationBatch batch;
  bool partial = false;
  ProgressReporter reporter(progress);
  reporter.Begin(numbers.size());
  for (ObjectNumber number : numbers) {
    if (source.messages.count(number) == 0) {
      partial = true;
    } else {
      DeleteMessageLocked(number, &batch);
    }
    if (!reporter.ItemDone()) break;
  }
  AddCountersChangeLocked(folder_number, before, &batch);
  PublishLocked(&batch);
  SetWarning(partial || reporter.incomplete(), warning);
  return absl::OkStatus();
}

absl::Status Store::Impl::CopyMessages(const EntryId& source,
                                       const std::vector<EntryId>& messages,
                                       const EntryId& dest, ULONG flags,
                                       SCODE* warning, MapiProgress* progress) {
  MAPINOTIFY_RETURN_IF_ERROR(
      CheckFlags(flags, MESSAGE_MOVE | MESSAGE_DIALOG, "CopyMessages"));
  MAPINOTIFY_RETURN_IF_ERROR(CheckNonEmpty(messages, "CopyMessages"));
  const bool move = (flags & MESSAGE_MOVE) != 0;
  WriteLock lock(this);
  MAPINOTIFY_ASSIGN_OR_RETURN(const ObjectNumber source_number,
                              FolderNumberLocked(source));
  MAPINOTIFY_ASSIGN_OR_RETURN(const ObjectNumber dest_number,
                              FolderNumberLocked(dest));
  MAPINOTIFY_ASSIGN_OR_RETURN(const std::vector<ObjectNumber> numbers,
                              DecodeListLocked(messages));
  const FolderCounters source_before = CountersLocked(source_number);
  const FolderCounters dest_before = CountersLocked(dest_number);
  const Folder& from = FolderLocked(source_number);
  NotificationBatch batch;
  bool partial = false;
  ProgressReporter reporter(progress);
  reporter.Begin(numbers.size());
  for (ObjectNumber number : numbers) {
    if (from.messages.count(number) == 0) {
      partial = true;
    } else if (!move || source_number != dest_number) {
      // (A move into the source itself has nothing to do.)
      const ObjectNumber copy = NewNumberLocked();
      Message message = messages_.at(number);
      message.parent = dest_number;
      AddMessageLocked(copy, std::move(message));
      if (move) {
        EraseMessageLocked(number);
        batch.ObjectMoved(codec_.Encode(copy), MAPI_MESSAGE, dest,
                          codec_.Encode(number), source);
      } else {
        batch.ObjectCopied(codec_.Encode(copy), MAPI_MESSAGE, dest,
                           codec_.Encode(number), source);
      }
    }
    if (!reporter.ItemDone()) break;
  }
  if (source_number != dest_number) {
    AddCountersChangeLocked(source_number, source_before, &batch);
  }
  AddCountersChangeLocked(dest_number, dest_before, &batch);
  PublishLocked(&batch);
  SetWarning(partial || reporter.incomplete(), warning);
  return absl::OkStatus();
}

absl::Status Store::Impl::SetReadFlags(const EntryId& folder,
                                       const std::vector<EntryId>& messages,
                                       ULONG flags, SCODE* warning,
                                       MapiProgress* progress) {
  MAPINOTIFY_RETURN_IF_ERROR(
      CheckFlags(flags, CLEAR_READ_FLAG | SUPPRESS_RECEIPT | MESSAGE_DIALOG,
                 "SetReadFlags"));
  const bool clear = (flags & CLEAR_READ_FLAG) != 0;
  WriteLock lock(this);
  MAPINOTIFY_ASSIGN_OR_RETURN(const ObjectNumber folder_number,
                              FolderNumberLocked(folder));
  const Folder& target = FolderLocked(folder_number);
  std::vector<ObjectNumber> numbers;
  if (messages.empty()) {
    numbers.assign(target.messages.begin(), target.messages.end());
  } else {
    MAPINOTIFY_ASSIGN_OR_RETURN(numbers, DecodeListLocked(messages));
  }
  const FolderCounters before = CountersLocked(folder_number);
  NotificationBatch batch;
  bool partial = false;
  ProgressReporter reporter(progress);
  reporter.Begin(numbers.size());
  for (ObjectNumber number : numbers) {
    if (target.messages.count(number) == 0) {
      partial = true;
    } else {
      const ULONG old_flags = messages_.at(number).flags();
      const ULONG new_flags =
          clear ? (old_flags & ~MSGFLAG_READ) : (old_flags | MSGFLAG_READ);
      if (new_flags != old_flags) {
        ChangeMessagePropsLocked(
            number,
            {{PROP_ID(PR_MESSAGE_FLAGS),
              PropValue{PR_MESSAGE_FLAGS, static_cast<int32_t>(new_flags)}}});
        batch.ObjectModified(codec_.Encode(number), MAPI_MESSAGE, folder,
                             {PR_MESSAGE_FLAGS});
      }
    }
    if (!reporter.ItemDone()) break;
  }
  AddCountersChangeLocked(folder_number, before, &batch);
  PublishLocked(&batch);
  SetWarning(partial || reporter.incomplete(), warning);
  return absl::OkStatus();
}

absl::StatusOr<EntryId> Store::Impl::DeliverNewMail(
    const std::vector<PropValue>& props) {
  const FileTime now = FileTimeNow();
  Message message;
  message.parent = kInboxNumber;
  message.props.Set(PropValue{PR_MESSAGE_CLASS, std::string("IPM.Note")});
  message.props.Set(PropValue{PR_MESSAGE_FLAGS, int32_t{0}});
  message.props.Set(PropValue{PR_MESSAGE_DELIVERY_TIME, now});
  for (size_t i = 0; i < props.size(); ++i) {
    const SCODE scode = CheckSettable(props[i]);
    if (scode != S_OK) {
      return MapiError(
          scode, absl::StrFormat("DeliverNewMail: property %u (tag 0x%08X) "
                                 "cannot be set",
                                 i, props[i].tag));
    }
    message.props.Set(props[i]);
  }
  message.created = message.modified = now;
  const std::string message_class = message.message_class();
  const ULONG message_flags = message.flags();

  WriteLock lock(this);
  const FolderCounters before = CountersLocked(kInboxNumber);
  const ObjectNumber number = NewNumberLocked();
  AddMessageLocked(number, std::move(message));
  const EntryId id = codec_.Encode(number);
  NotificationBatch batch;
  batch.ObjectCreated(id, MAPI_MESSAGE, inbox_id_);
  AddCountersChangeLocked(kInboxNumber, before, &batch);
  batch.NewMail(id, inbox_id_, message_class, message_flags);
  PublishLocked(&batch);
  return id;
}

}  // namespace mapinotify::server::store
