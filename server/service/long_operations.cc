#include "server/service/long_operations.h"

#include <utility>
#include <vector>

#include "common/internal/status_macros.h"
#include "mapinotify/status.h"
#include "server/service/request_checks.h"

namespace mapinotify::server {
namespace {

// The flags each call defines (store.proto; the same sets
// server/store/store.h takes). Checked here so that the wire contract holds
// whatever the store does with them.
constexpr ULONG kCopyFolderFlags = FOLDER_MOVE | COPY_SUBFOLDERS;
constexpr ULONG kDeleteFolderFlags = DEL_FOLDERS | DEL_MESSAGES;
constexpr ULONG kEmptyFolderFlags = DEL_ASSOCIATED;
constexpr ULONG kDeleteMessagesFlags = MESSAGE_DIALOG;
constexpr ULONG kCopyMessagesFlags = MESSAGE_MOVE | MESSAGE_DIALOG;
constexpr ULONG kSetReadFlagsFlags =
    SUPPRESS_RECEIPT | MESSAGE_DIALOG | CLEAR_READ_FLAG;

}  // namespace

absl::StatusOr<OperationOutcome> RunCopyFolder(
    store::Store& store, const v1::CopyFolderRequest& request,
    MapiProgress* progress) {
  MAPINOTIFY_RETURN_IF_ERROR(
      CheckEntryId(request.source_parent_id(), "source_parent_id"));
  MAPINOTIFY_RETURN_IF_ERROR(CheckEntryId(request.folder_id(), "folder_id"));
  MAPINOTIFY_RETURN_IF_ERROR(
      CheckEntryId(request.dest_parent_id(), "dest_parent_id"));
  MAPINOTIFY_RETURN_IF_ERROR(
      CheckName(request.new_name(), "new_name", /*allow_empty=*/true));
  MAPINOTIFY_RETURN_IF_ERROR(
      CheckFlags(request.flags(), kCopyFolderFlags, "CopyFolder"));
  OperationOutcome outcome;
  MAPINOTIFY_ASSIGN_OR_RETURN(
      outcome.entry_id,
      store.CopyFolder(request.source_parent_id(), request.folder_id(),
                       request.dest_parent_id(), request.new_name(),
                       request.flags(), &outcome.warning, progress));
  return outcome;
}

absl::StatusOr<OperationOutcome> RunDeleteFolder(
    store::Store& store, const v1::DeleteFolderRequest& request,
    MapiProgress* progress) {
  MAPINOTIFY_RETURN_IF_ERROR(CheckEntryId(request.parent_id(), "parent_id"));
  MAPINOTIFY_RETURN_IF_ERROR(CheckEntryId(request.folder_id(), "folder_id"));
  MAPINOTIFY_RETURN_IF_ERROR(
      CheckFlags(request.flags(), kDeleteFolderFlags, "DeleteFolder"));
  OperationOutcome outcome;
  MAPINOTIFY_RETURN_IF_ERROR(
      store.DeleteFolder(request.parent_id(), request.folder_id(),
                         request.flags(), &outcome.warning, progress));
  return outcome;
}

absl::StatusOr<OperationOutcome> RunEmptyFolder(
    store::Store& store, const v1::EmptyFolderRequest& request,
    MapiProgress* progress) {
  MAPINOTIFY_RETURN_IF_ERROR(CheckEntryId(request.folder_id(), "folder_id"));
  MAPINOTIFY_RETURN_IF_ERROR(
      CheckFlags(request.flags(), kEmptyFolderFlags, "EmptyFolder"));
  OperationOutcome outcome;
  MAPINOTIFY_RETURN_IF_ERROR(store.EmptyFolder(
      request.folder_id(), request.flags(), &outcome.warning, progress));
  return outcome;
}

absl::StatusOr<OperationOutcome> RunDeleteMessages(
    store::Store& store, const v1::DeleteMessagesRequest& request,
    MapiProgress* progress) {
  MAPINOTIFY_RETURN_IF_ERROR(CheckEntryId(request.folder_id(), "folder_id"));
  std::vector<EntryId> messages;
  MAPINOTIFY_ASSIGN_OR_RETURN(
      messages, EntryIdsFrom(request.message_ids(), "message_ids"));
  MAPINOTIFY_RETURN_IF_ERROR(
      CheckFlags(request.flags(), kDeleteMessagesFlags, "DeleteMessages"));
  OperationOutcome outcome;
  MAPINOTIFY_RETURN_IF_ERROR(store.DeleteMessages(request.folder_id(), messages,
                                                  request.flags(),
                                                  &outcome.warning, progress));
  return outcome;
}

absl::StatusOr<OperationOutcome> RunCopyMessages(
    store::Store& store, const v1::CopyMessagesRequest& request,
    MapiProgress* progress) {
  MAPINOTIFY_RETURN_IF_ERROR(
      CheckEntryId(request.source_folder_id(), "source_folder_id"));
  MAPINOTIFY_RETURN_IF_ERROR(
      CheckEntryId(request.dest_folder_id(), "dest_folder_id"));
  std::vector<EntryId> messages;
  MAPINOTIFY_ASSIGN_OR_RETURN(
      messages, EntryIdsFrom(request.message_ids(), "message_ids"));
  MAPINOTIFY_RETURN_IF_ERROR(
      CheckFlags(request.flags(), kCopyMessagesFlags, "CopyMessages"));
  OperationOutcome outcome;
  MAPINOTIFY_RETURN_IF_ERROR(store.CopyMessages(
      request.source_folder_id(), messages, request.dest_folder_id(),
      request.flags(), &outcome.warning, progress));
  return outcome;
}

absl::StatusOr<OperationOutcome> RunSetReadFlags(
    store::Store& store, const v1::SetReadFlagsRequest& request,
    MapiProgress* progress) {
  MAPINOTIFY_RETURN_IF_ERROR(CheckEntryId(request.folder_id(), "folder_id"));
  std::vector<EntryId> messages;
  MAPINOTIFY_ASSIGN_OR_RETURN(
      messages, EntryIdsFrom(request.message_ids(), "message_ids"));
  MAPINOTIFY_RETURN_IF_ERROR(
      CheckFlags(request.flags(), kSetReadFlagsFlags, "SetReadFlags"));
  OperationOutcome outcome;
  MAPINOTIFY_RETURN_IF_ERROR(store.SetReadFlags(request.folder_id(), messages,
                                                request.flags(),
                                                &outcome.warning, progress));
  return outcome;
}

absl::StatusOr<OperationOutcome> RunOperationStart(
    store::Store& store, const v1::OperationStart& start,
    MapiProgress* progress) {
  switch (start.operation_case()) {
    case v1::OperationStart::kCopyFolder:
      return RunCopyFolder(store, start.copy_folder(), progress);
    case v1::OperationStart::kDeleteFolder:
      return RunDeleteFolder(store, start.delete_folder(), progress);
    case v1::OperationStart::kEmptyFolder:
      return RunEmptyFolder(store, start.empty_folder(), progress);
    case v1::OperationStart::kDeleteMessages:
      return RunDeleteMessages(store, start.delete_messages(), progress);
    case v1::OperationStart::kCopyMessages:
      return RunCopyMessages(store, start.copy_messages(), progress);
    case v1::OperationStart::kSetReadFlags:
      return RunSetReadFlags(store, start.set_read_flags(), progress);
    case v1::OperationStart::OPERATION_NOT_SET:
      break;
  }
  return MapiError(MAPI_E_INVALID_PARAMETER,
                   "RunOperation: the start names no operation");
}

}  // namespace mapinotify::server
