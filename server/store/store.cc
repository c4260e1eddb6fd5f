// Store: construction of the tree and the public API, which forwards to
// Store::Impl (see store_impl.h for where each operation lives).
#include "server/store/store.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_format.h"
#include "mapinotify/status.h"
#include "server/hub/hub.h"
#include "server/store/store_impl.h"

namespace mapinotify::server::store {

absl::Status CheckFlags(ULONG flags, ULONG allowed, const char* call) {
  if ((flags & ~allowed) == 0) return absl::OkStatus();
  return MapiError(MAPI_E_UNKNOWN_FLAGS,
                   absl::StrFormat("%s: unknown flags 0x%08X (it takes 0x%08X)",
                                   call, flags & ~allowed, allowed));
}

SCODE CheckFolderName(const std::string& name) {
  if (name.empty()) return MAPI_E_INVALID_PARAMETER;
  if (name.size() > kMaxFolderNameBytes) return MAPI_E_STRING_TOO_LONG;
  return S_OK;
}

// --- Impl: construction.

Store::Impl::Impl(Options options)
    : codec_(RandomStoreGuid()),
      store_id_(codec_.Encode(kStoreNumber)),
      root_id_(codec_.Encode(kRootNumber)),
      ipm_subtree_id_(codec_.Encode(kIpmSubtreeNumber)),
      inbox_id_(codec_.Encode(kInboxNumber)),
      outbox_id_(codec_.Encode(kOutboxNumber)),
      sent_items_id_(codec_.Encode(kSentItemsNumber)),
      deleted_items_id_(codec_.Encode(kDeletedItemsNumber)),
      hub_(options.hub),
      display_name_(std::move(options.display_name)),
      max_views_per_session_(options.max_views_per_session),
      contexts_(options.max_handles_per_session) {
  const FileTime now = FileTimeNow();
  const auto add = [&](ObjectNumber number, ObjectNumber parent,
                       ULONG folder_type,
                       const char* name) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    // The constructor runs before the store is shared.
    Folder& folder = folders_[number];
    folder.parent = parent;
    folder.folder_type = folder_type;
    if (name[0] != '\0')
      folder.props.Set(PropValue{PR_DISPLAY_NAME, std::string(name)});
    folder.created = folder.modified = now;
    if (parent != 0) folders_[parent].subfolders.insert(number);
  };
  add(kRootNumber, 0, FOLDER_ROOT, "");
  add(kIpmSubtreeNumber, kRootNumber, FOLDER_GENERIC, "IPM_SUBTREE");
  add(kInboxNumber, kIpmSubtreeNumber, FOLDER_GENERIC, "Inbox");
  add(kOutboxNumber, kIpmSubtreeNumber, FOLDER_GENERIC, "Outbox");
  add(kSentItemsNumber, kIpmSubtreeNumber, FOLDER_GENERIC, "Sent Items");
  add(kDeletedItemsNumber, kIpmSubtreeNumber, FOLDER_GENERIC, "Deleted Items");
}

// --- Store: forwarding.

Store::Store(Options options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}
Store::~Store() = default;

const EntryId& Store::store_entry_id() const { return impl_->store_id_; }
const EntryId& Store::root_folder_id() const { return impl_->root_id_; }
const EntryId& Store::ipm_subtree_id() const { return impl_->ipm_subtree_id_; }
const EntryId& Store::inbox_id() const { return impl_->inbox_id_; }
const EntryId& Store::outbox_id() const { return impl_->outbox_id_; }
const EntryId& Store::sent_items_id() const { return impl_->sent_items_id_; }
const EntryId& Store::deleted_items_id() const {
  return impl_->deleted_items_id_;
}

absl::Status Store::Exists(const EntryId& entry_id) const {
  return impl_->Exists(entry_id);
}
absl::StatusOr<std::vector<PropValue>> Store::GetProps(
    const EntryId& entry_id, const std::vector<ULONG>& tags) const {
  return impl_->GetProps(entry_id, tags);
}
absl::StatusOr<std::vector<PropProblem>> Store::SetFolderProps(
    const EntryId& folder, const std::vector<PropValue>& values) {
  return impl_->SetFolderProps(folder, values);
}
absl::StatusOr<std::vector<PropProblem>> Store::DeleteFolderProps(
    const EntryId& folder, const std::vector<ULONG>& tags) {
  return impl_->DeleteFolderProps(folder, tags);
}
absl::StatusOr<EntryId> Store::CreateFolder(const EntryId& parent,
                                            const std::string& name,
                                            const std::string& comment,
                                            ULONG flags) {
  return impl_->CreateFolder(parent, name, comment, flags);
}
absl::StatusOr<EntryId> Store::CopyFolder(const EntryId& source_parent,
                                          const EntryId& folder,
                                          const EntryId& dest_parent,
                                          const std::string& new_name,
                                          ULONG flags, SCODE* warning,
                                          MapiProgress* progress) {
  return impl_->CopyFolder(source_parent, folder, dest_parent, new_name, flags,
                           warning, progress);
}
absl::Status Store::DeleteFolder(const EntryId& parent, const EntryId& folder,
                                 ULONG flags, SCODE* warning,
                                 MapiProgress* progress) {
  return impl_->DeleteFolder(parent, folder, flags, warning, progress);
}
absl::Status Store::EmptyFolder(const EntryId& folder, ULONG flags,
                                SCODE* warning, MapiProgress* progress) {
  return impl_->EmptyFolder(folder, flags, warning, progress);
}
absl::StatusOr<std::vector<EntryId>> Store::ListSubfolders(
    const EntryId& folder) const {
  return impl_->ListSubfolders(folder);
}
absl::StatusOr<std::vector<EntryId>> Store::ListMessages(
    const EntryId& folder) const {
  return impl_->ListMessages(folder);
}
absl::StatusOr<Handle> Store::CreateMessage(const CallContext& caller,
                                            const EntryId& folder,
                                            ULONG flags) {
  return impl_->CreateMessage(caller, folder, flags);
}
absl::StatusOr<Handle> Store::OpenMessage(const CallContext& caller,
                                          const EntryId& message, ULONG flags) {
  return impl_->OpenMessage(caller, message, flags);
}
absl::StatusOr<std::vector<PropProblem>> Store::SetMessageProps(
    const CallContext& caller, Handle handle,
    const std::vector<PropValue>& values) {
  return impl_->SetMessageProps(caller, handle, values);
}
absl::StatusOr<std::vector<PropProblem>> Store::DeleteMessageProps(
    const CallContext& caller, Handle handle, const std::vector<ULONG>& tags) {
  return impl_->DeleteMessageProps(caller, handle, tags);
}
absl::StatusOr<std::vector<PropValue>> Store::GetMessageProps(
    const CallContext& caller, Handle handle,
    const std::vector<ULONG>& tags) const {
  return impl_->GetMessageProps(caller, handle, tags);
}
absl::StatusOr<EntryId> Store::SaveChanges(const CallContext& caller,
                                           Handle handle, ULONG flags) {
  return impl_->SaveChanges(caller, handle, flags);
}
absl::Status Store::Release(const CallContext& caller, Handle handle) {
  return impl_->Release(caller, handle);
}
void Store::ReleaseSession(const std::string& session) {
  impl_->ReleaseSession(session);
}
absl::Status Store::DeleteMessages(const EntryId& folder,
                                   const std::vector<EntryId>& messages,
                                   ULONG flags, SCODE* warning,
                                   MapiProgress* progress) {
  return impl_->DeleteMessages(folder, messages, flags, warning, progress);
}
absl::Status Store::CopyMessages(const EntryId& source,
                                 const std::vector<EntryId>& messages,
                                 const EntryId& dest, ULONG flags,
                                 SCODE* warning, MapiProgress* progress) {
  return impl_->CopyMessages(source, messages, dest, flags, warning, progress);
}
absl::Status Store::SetReadFlags(const EntryId& folder,
                                 const std::vector<EntryId>& messages,
                                 ULONG flags, SCODE* warning,
                                 MapiProgress* progress) {
  return impl_->SetReadFlags(folder, messages, flags, warning, progress);
}
absl::StatusOr<EntryId> Store::DeliverNewMail(
    const std::vector<PropValue>& props) {
  return impl_->DeliverNewMail(props);
}
absl::StatusOr<Store::ViewId> Store::OpenContentsTable(
    const CallContext& caller, const EntryId& folder, ULONG flags) {
  return impl_->OpenTable(caller, folder, /*hierarchy=*/false, flags);
}
absl::StatusOr<Store::ViewId> Store::OpenHierarchyTable(
    const CallContext& caller, const EntryId& folder, ULONG flags) {
  return impl_->OpenTable(caller, folder, /*hierarchy=*/true, flags);
}
absl::Status Store::CloseTable(const CallContext& caller, ViewId view) {
  return impl_->CloseTable(caller, view);
}
absl::Status Store::TableExists(ViewId view) const {
  return impl_->TableExists(view);
}
absl::Status Store::SetColumns(const CallContext& caller, ViewId view,
                               const std::vector<ULONG>& columns, ULONG flags) {
  return impl_->SetColumns(caller, view, columns, flags);
}
absl::StatusOr<std::vector<ULONG>> Store::QueryColumns(
    const CallContext& caller, ViewId view, ULONG flags) const {
  return impl_->QueryColumns(caller, view, flags);
}
absl::StatusOr<ULONG> Store::GetRowCount(const CallContext& caller, ViewId view,
                                         ULONG flags) const {
  return impl_->GetRowCount(caller, view, flags);
}
absl::StatusOr<std::vector<Row>> Store::QueryRows(const CallContext& caller,
                                                  ViewId view, LONG count,
                                                  ULONG flags,
                                                  size_t max_bytes) {
  return impl_->QueryRows(caller, view, count, flags,
                          std::min(max_bytes, kMaxQueryRowsBytes));
}
absl::StatusOr<LONG> Store::SeekRow(const CallContext& caller, ViewId view,
                                    BOOKMARK origin, LONG count,
                                    SCODE* warning) {
  return impl_->SeekRow(caller, view, origin, count, warning);
}
absl::StatusOr<TablePosition> Store::QueryPosition(const CallContext& caller,
                                                   ViewId view) const {
  return impl_->QueryPosition(caller, view);
}
absl::StatusOr<BOOKMARK> Store::CreateBookmark(const CallContext& caller,
                                               ViewId view) {
  return impl_->CreateBookmark(caller, view);
}
absl::Status Store::FreeBookmark(const CallContext& caller, ViewId view,
                                 BOOKMARK bookmark) {
  return impl_->FreeBookmark(caller, view, bookmark);
}
absl::Status Store::FindRow(const CallContext& caller, ViewId view,
                            const Restriction& restriction, BOOKMARK origin,
                            ULONG flags, SCODE* warning) {
  return impl_->FindRow(caller, view, restriction, origin, flags, warning);
}
absl::Status Store::Restrict(const CallContext& caller, ViewId view,
                             const std::optional<Restriction>& restriction,
                             ULONG flags) {
  return impl_->Restrict(caller, view, restriction, flags);
}
absl::Status Store::SortTable(const CallContext& caller, ViewId view,
                              const SortOrderSet& sort, ULONG flags) {
  return impl_->SortTable(caller, view, sort, flags);
}
absl::StatusOr<SortOrderSet> Store::QuerySortOrder(const CallContext& caller,
                                                   ViewId view) const {
  return impl_->QuerySortOrder(caller, view);
}
absl::StatusOr<Store::TableSnapshot> Store::QueryAllRows(
    const CallContext& caller, ViewId view, size_t max_rows,
    size_t max_bytes) const {
  return impl_->QueryAllRows(caller, view, max_rows, max_bytes);
}
absl::Status Store::CheckConsistency() const {
  return impl_->CheckConsistency();
}

}  // namespace mapinotify::server::store
