// The store's long operations as the wire names them — CopyFolder,
// DeleteFolder, EmptyFolder, DeleteMessages, CopyMessages, SetReadFlags —
// each checked (request_checks.h) and then run on the store with an
// optional progress object. Shared by the unary Store RPCs (no progress)
// and RunOperation (operation_reactor.h). No gRPC types beyond the
// generated messages; stateless; thread-safe (the store is).
#ifndef MAPINOTIFY_SERVER_SERVICE_LONG_OPERATIONS_H_
#define MAPINOTIFY_SERVER_SERVICE_LONG_OPERATIONS_H_

#include "absl/status/statusor.h"
#include "mapinotify/mapi.h"
#include "mapinotify/notification.h"
#include "mapinotify/progress.h"
#include "mapinotify/v1/store.pb.h"
#include "server/store/store.h"

namespace mapinotify::server {

// What a long operation answers besides its status.
struct OperationOutcome {
  // S_OK or MAPI_W_PARTIAL_COMPLETION (skipped ids, or a cancel).
  SCODE warning = S_OK;
  // CopyFolder: the copy's (a move: the folder's own) entry id.
  EntryId entry_id;
};

// Each checks its request as store.proto documents (a failed check calls
// nothing on `progress`) and runs it on `store`, which reports to
// `progress` (may be null) under its lock: `progress` must not block.
absl::StatusOr<OperationOutcome> RunCopyFolder(
    store::Store& store, const v1::CopyFolderRequest& request,
    MapiProgress* progress);
absl::StatusOr<OperationOutcome> RunDeleteFolder(
    store::Store& store, const v1::DeleteFolderRequest& request,
    MapiProgress* progress);
absl::StatusOr<OperationOutcome> RunEmptyFolder(
    store::Store& store, const v1::EmptyFolderRequest& request,
    MapiProgress* progress);
absl::StatusOr<OperationOutcome> RunDeleteMessages(
    store::Store& store, const v1::DeleteMessagesRequest& request,
    MapiProgress* progress);
absl::StatusOr<OperationOutcome> RunCopyMessages(
    store::Store& store, const v1::CopyMessagesRequest& request,
    MapiProgress* progress);
absl::StatusOr<OperationOutcome> RunSetReadFlags(
    store::Store& store, const v1::SetReadFlagsRequest& request,
    MapiProgress* progress);

// The operation `start` names. MAPI_E_INVALID_PARAMETER when it names none.
absl::StatusOr<OperationOutcome> RunOperationStart(
    store::Store& store, const v1::OperationStart& start,
    MapiProgress* progress);

}  // namespace mapinotify::server

#endif  // MAPINOTIFY_SERVER_SERVICE_LONG_OPERATIONS_H_
