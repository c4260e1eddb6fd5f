#include "client/internal/store_client.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/internal/caller.h"
#include "client/internal/grpc_status.h"
#include "client/internal/operation_call.h"
#include "client/loop_core.h"
#include "common/internal/proto_convert.h"
#include "common/internal/status_macros.h"
#include "mapinotify/status.h"

namespace mapinotify {
namespace internal {
namespace {

template <typename Repeated>
absl::Status PropsToWire(const std::vector<PropValue>& values, Repeated* out) {
  out->Reserve(static_cast<int>(values.size()));
  for (size_t i = 0; i < values.size(); ++i) {
    absl::Status converted = ToProto(values[i], out->Add());
    if (!converted.ok()) {
      return MapiError(MAPI_E_INVALID_PARAMETER,
                       absl::StrCat("value ", i, ": ", converted.message()));
    }
  }
  return absl::OkStatus();
}

// A server answer this client cannot read is corrupt data, not the
// caller's mistake.
template <typename Repeated>
absl::StatusOr<std::vector<PropValue>> PropsFromWire(const Repeated& values) {
  std::vector<PropValue> out;
  out.reserve(static_cast<size_t>(values.size()));
  for (const v1::PropValue& wire : values) {
    absl::StatusOr<PropValue> value = FromProto(wire);
    if (!value.ok()) {
      return MapiError(MAPI_E_CORRUPT_DATA,
                       absl::StrCat("unreadable property from the server: ",
                                    value.status().message()));
    }
    out.push_back(*std::move(value));
  }
  return out;
}

template <typename Repeated>
std::vector<PropProblem> ProblemsFromWire(const Repeated& problems) {
  std::vector<PropProblem> out;
  out.reserve(static_cast<size_t>(problems.size()));
  for (const v1::PropProblem& p : problems) {
    out.push_back(PropProblem{p.index(), p.tag(), p.scode()});
  }
  return out;
}

template <typename Repeated>
void IdsToWire(const std::vector<EntryId>& ids, Repeated* out) {
  out->Reserve(static_cast<int>(ids.size()));
  for (const EntryId& id : ids) *out->Add() = id;
}

// The six long operations' requests, shared by the unary calls and
// RunOperation.
v1::CopyFolderRequest CopyFolderRequestOf(const EntryId& source_parent,
                                          const EntryId& folder,
                                          const EntryId& dest_parent,
                                          const std::string& new_name,
                                          ULONG flags) {
  v1::CopyFolderRequest request;
  request.set_source_parent_id(source_parent);
  request.set_folder_id(folder);
  request.set_dest_parent_id(dest_parent);
  request.set_new_name(new_name);
  request.set_flags(flags);
  return request;
}

v1::DeleteFolderRequest DeleteFolderRequestOf(const EntryId& parent,
                                              const EntryId& folder,
                                              ULONG flags) {
  v1::DeleteFolderRequest request;
  request.set_parent_id(parent);
  request.set_folder_id(folder);
  request.set_flags(flags);
  return request;
}

v1::EmptyFolderRequest EmptyFolderRequestOf(const EntryId& folder,
                                            ULONG flags) {
  v1::EmptyFolderRequest request;
  request.set_folder_id(folder);
  request.set_flags(flags);
  return request;
}

v1::DeleteMessagesRequest DeleteMessagesRequestOf(
    const EntryId& folder, const std::vector<EntryId>& messages, ULONG flags) {
  v1::DeleteMessagesRequest request;
  request.set_folder_id(folder);
  IdsToWire(messages, request.mutable_message_ids());
  request.set_flags(flags);
  return request;
}

v1::CopyMessagesRequest CopyMessagesRequestOf(
    const EntryId& source, const std::vector<EntryId>& messages,
    const EntryId& dest, ULONG flags) {
  v1::CopyMessagesRequest request;
  request.set_source_folder_id(source);
  IdsToWire(messages, request.mutable_message_ids());
  request.set_dest_folder_id(dest);
  request.set_flags(flags);
  return request;
}

v1::SetReadFlagsRequest SetReadFlagsRequestOf(
    const EntryId& folder, const std::vector<EntryId>& messages, ULONG flags) {
  v1::SetReadFlagsRequest request;
  request.set_folder_id(folder);
  IdsToWire(messages, request.mutable_message_ids());
  request.set_flags(flags);
  return request;
}

v1::OperationStart StartOf(const LongOperation& op) {
  v1::OperationStart start;
  switch (op.kind) {
    case LongOperation::Kind::kCopyFolder:
      *start.mutable_copy_folder() = CopyFolderRequestOf(
          op.parent, op.folder, op.dest, op.new_name, op.flags);
      break;
    case LongOperation::Kind::kDeleteFolder:
      *start.mutable_delete_folder() =
          DeleteFolderRequestOf(op.parent, op.folder, op.flags);
      break;
    case LongOperation::Kind::kEmptyFolder:
      *start.mutable_empty_folder() = EmptyFolderRequestOf(op.folder, op.flags);
      break;
    case LongOperation::Kind::kDeleteMessages:
      *start.mutable_delete_messages() =
          DeleteMessagesRequestOf(op.folder, op.messages, op.flags);
      break;
    case LongOperation::Kind::kCopyMessages:
      *start.mutable_copy_messages() =
          CopyMessagesRequestOf(op.folder, op.messages, op.dest, op.flags);
      break;
    case LongOperation::Kind::kSetReadFlags:
      *start.mutable_set_read_flags() =
          SetReadFlagsRequestOf(op.folder, op.messages, op.flags);
      break;
  }
  // A kind outside the enum leaves no operation set: the server refuses it
  // with MAPI_E_INVALID_PARAMETER.
  return start;
}

// Sets `*warning` (when given) from a finished long operation.
absl::Status FinishLong(const OperationResult& result, SCODE* warning) {
  MAPINOTIFY_RETURN_IF_ERROR(result.status);
  if (warning != nullptr) *warning = result.warning;
  return absl::OkStatus();
}

}  // namespace

StoreClient::StoreClient(std::shared_ptr<grpc::Channel> channel,
                         std::string session_id, absl::Duration call_timeout)
    : channel_(std::move(channel)),
      stub_(v1::Store::NewStub(channel_)),
      table_stub_(v1::Table::NewStub(channel_)),
      session_id_(std::move(session_id)),
      call_timeout_(call_timeout) {}

absl::Status StoreClient::EndOfSession() {
  return MapiError(MAPI_E_END_OF_SESSION, "the session has been closed");
}

void StoreClient::Prepare(grpc::ClientContext* context) const {
  AddCallerMetadata(session_id_, context);
  context->set_deadline(absl::ToChronoTime(absl::Now() + call_timeout_));
}

absl::Status StoreClient::Finish(const grpc::Status& status) {
  return FromGrpcStatus(status);
}

OperationResult StoreClient::RunOperation(v1::OperationStart start,
                                          MapiProgress& progress) const {
  if (closed()) {
    OperationResult ended;
    ended.status = EndOfSession();
    return ended;
  }
  // Read as a provider reads its progress object, on the calling thread,
  // before the call goes out.
  v1::ProgressLimits* limits = start.mutable_progress();
  limits->set_flags(progress.GetFlags());
  limits->set_min(progress.GetMin());
  limits->set_max(progress.GetMax());
  auto state = std::make_shared<OperationState>();
  auto context = std::make_unique<grpc::ClientContext>();
  Prepare(context.get());
  OperationCall::Start(stub_.get(), std::move(context), std::move(start),
                       state);
  return state->Wait(&progress);
}

absl::StatusOr<std::shared_ptr<Operation>> StoreClient::StartOperation(
    v1::OperationStart start, std::shared_ptr<MapiProgress> progress,
    MessageLoop& loop, OperationCallback done) const {
  if (!done) {
    return absl::InvalidArgumentError("MsgStore::Start: empty callback");
  }
  if (closed()) return EndOfSession();
  const std::shared_ptr<LoopCore>& core = loop.core();
  if (core == nullptr || core->is_shut_down()) {
    return absl::FailedPreconditionError(
        "MsgStore::Start: the loop has been destroyed");
  }
  if (progress != nullptr) {
    // On the calling thread, before the call goes out, as the blocking
    // forms do (the progress object is not in use by anyone else yet).
    v1::ProgressLimits* limits = start.mutable_progress();
    limits->set_flags(progress->GetFlags());
    limits->set_min(progress->GetMin());
    limits->set_max(progress->GetMax());
  }
  auto state = std::make_shared<OperationState>(core, std::move(progress),
                                                std::move(done));
  auto context = std::make_unique<grpc::ClientContext>();
  Prepare(context.get());
  OperationCall::Start(stub_.get(), std::move(context), std::move(start),
                       state);
  return std::shared_ptr<Operation>(std::move(state));
}

absl::StatusOr<std::unique_ptr<MsgStore>> StoreClient::OpenMsgStore(
    const std::shared_ptr<StoreClient>& client) {
  v1::GetStoreInfoResponse info;
  MAPINOTIFY_RETURN_IF_ERROR(client->Call(&v1::Store::Stub::GetStoreInfo,
                                          v1::GetStoreInfoRequest(), &info));
  MsgStore::WellKnown ids{info.store_entry_id(),  info.root_folder_id(),
                          info.ipm_subtree_id(),  info.inbox_id(),
                          info.outbox_id(),       info.sent_items_id(),
                          info.deleted_items_id()};
  return std::unique_ptr<MsgStore>(new MsgStore(client, std::move(ids)));
}

std::unique_ptr<Message> StoreClient::MakeMessage(
    const std::shared_ptr<StoreClient>& client, uint64_t handle,
    EntryId entry_id) {
  return std::unique_ptr<Message>(
      new Message(client, handle, std::move(entry_id)));
}

std::unique_ptr<Table> StoreClient::MakeTable(
    const std::shared_ptr<StoreClient>& client, uint64_t view) {
  return std::unique_ptr<Table>(new Table(client, view));
}

}  // namespace internal

// --- Message ---------------------------------------------------------------

Message::Message(std::shared_ptr<internal::StoreClient> client, uint64_t handle,
                 EntryId entry_id)
    : client_(std::move(client)),
      handle_(handle),
      entry_id_(std::move(entry_id)) {}

Message::~Message() {
  bool release;
  {
    absl::MutexLock lock(&mu_);
    release = !released_;
    released_ = true;
  }
  // After the session closed the server has released the handle already;
  // a failure here has nobody to report to (the handle is gone either way
  // when the session ends).
  if (release && !client_->closed()) {
    v1::ReleaseRequest request;
    request.set_handle(handle_);
    v1::ReleaseResponse response;
    client_->Call(&v1::Store::Stub::Release, request, &response).IgnoreError();
  }
}

absl::Status Message::CheckOpen() const {
  absl::MutexLock lock(&mu_);
  if (released_) {
    return MapiError(
        MAPI_E_INVALID_OBJECT,
        absl::StrCat("message handle ", handle_, " has been released"));
  }
  return absl::OkStatus();
}

EntryId Message::entry_id() const {
  absl::MutexLock lock(&mu_);
  return entry_id_;
}

absl::StatusOr<std::vector<PropValue>> Message::GetProps(
    const std::vector<ULONG>& tags) const {
  MAPINOTIFY_RETURN_IF_ERROR(CheckOpen());
  v1::GetPropsRequest request;
  request.mutable_object()->set_handle(handle_);
  request.mutable_tags()->Add(tags.begin(), tags.end());
  v1::GetPropsResponse response;
  MAPINOTIFY_RETURN_IF_ERROR(
      client_->Call(&v1::Store::Stub::GetProps, request, &response));
  return internal::PropsFromWire(response.values());
}

absl::StatusOr<std::vector<PropProblem>> Message::SetProps(
    const std::vector<PropValue>& values) {
  MAPINOTIFY_RETURN_IF_ERROR(CheckOpen());
  v1::SetPropsRequest request;
  request.mutable_object()->set_handle(handle_);
  MAPINOTIFY_RETURN_IF_ERROR(
      internal::PropsToWire(values, request.mutable_values()));
  v1::SetPropsResponse response;
  MAPINOTIFY_RETURN_IF_ERROR(
      client_->Call(&v1::Store::Stub::SetProps, request, &response));
  return internal::ProblemsFromWire(response.problems());
}

absl::StatusOr<std::vector<PropProblem>> Message::DeleteProps(
    const std::vector<ULONG>& tags) {
  MAPINOTIFY_RETURN_IF_ERROR(CheckOpen());
  v1::DeletePropsRequest request;
  request.mutable_object()->set_handle(handle_);
  request.mutable_tags()->Add(tags.begin(), tags.end());
  v1::DeletePropsResponse response;
  MAPINOTIFY_RETURN_IF_ERROR(
      client_->Call(&v1::Store::Stub::DeleteProps, request, &response));
  return internal::ProblemsFromWire(response.problems());
}

absl::StatusOr<EntryId> Message::SaveChanges(ULONG flags) {
  MAPINOTIFY_RETURN_IF_ERROR(CheckOpen());
  v1::SaveChangesRequest request;
  request.set_handle(handle_);
  request.set_flags(flags);
  v1::SaveChangesResponse response;
  MAPINOTIFY_RETURN_IF_ERROR(
      client_->Call(&v1::Store::Stub::SaveChanges, request, &response));
  absl::MutexLock lock(&mu_);
  entry_id_ = response.entry_id();
  // Without KEEP_OPEN_* the server released the handle with the save.
  if ((flags & (KEEP_OPEN_READONLY | KEEP_OPEN_READWRITE)) == 0) {
    released_ = true;
  }
  return entry_id_;
}

absl::Status Message::Release() {
  {
    absl::MutexLock lock(&mu_);
    if (released_) return absl::OkStatus();
    released_ = true;
  }
  v1::ReleaseRequest request;
  request.set_handle(handle_);
  v1::ReleaseResponse response;
  return client_->Call(&v1::Store::Stub::Release, request, &response);
}

// --- MsgStore --------------------------------------------------------------

MsgStore::MsgStore(std::shared_ptr<internal::StoreClient> client, WellKnown ids)
    : client_(std::move(client)),
      entry_id_(std::move(ids.store)),
      root_folder_id_(std::move(ids.root)),
      ipm_subtree_id_(std::move(ids.ipm_subtree)),
      inbox_id_(std::move(ids.inbox)),
      outbox_id_(std::move(ids.outbox)),
      sent_items_id_(std::move(ids.sent_items)),
      deleted_items_id_(std::move(ids.deleted_items)) {}

MsgStore::~MsgStore() = default;

absl::StatusOr<std::vector<PropValue>> MsgStore::GetProps(
    const EntryId& entry_id, const std::vector<ULONG>& tags) const {
  v1::GetPropsRequest request;
  request.mutable_object()->set_entry_id(entry_id);
  request.mutable_tags()->Add(tags.begin(), tags.end());
  v1::GetPropsResponse response;
  MAPINOTIFY_RETURN_IF_ERROR(
      client_->Call(&v1::Store::Stub::GetProps, request, &response));
  return internal::PropsFromWire(response.values());
}

absl::StatusOr<std::vector<PropProblem>> MsgStore::SetProps(
    const EntryId& folder, const std::vector<PropValue>& values) {
  v1::SetPropsRequest request;
  request.mutable_object()->set_entry_id(folder);
  MAPINOTIFY_RETURN_IF_ERROR(
      internal::PropsToWire(values, request.mutable_values()));
  v1::SetPropsResponse response;
  MAPINOTIFY_RETURN_IF_ERROR(
      client_->Call(&v1::Store::Stub::SetProps, request, &response));
  return internal::ProblemsFromWire(response.problems());
}

absl::StatusOr<std::vector<PropProblem>> MsgStore::DeleteProps(
    const EntryId& folder, const std::vector<ULONG>& tags) {
  v1::DeletePropsRequest request;
  request.mutable_object()->set_entry_id(folder);
  request.mutable_tags()->Add(tags.begin(), tags.end());
  v1::DeletePropsResponse response;
  MAPINOTIFY_RETURN_IF_ERROR(
      client_->Call(&v1::Store::Stub::DeleteProps, request, &response));
  return internal::ProblemsFromWire(response.problems());
}

absl::StatusOr<EntryId> MsgStore::CreateFolder(const EntryId& parent,
                                               const std::string& name,
                                               const std::string& comment,
                                               ULONG flags) {
  v1::CreateFolderRequest request;
  request.set_parent_id(parent);
  request.set_name(name);
  request.set_comment(comment);
  request.set_flags(flags);
  v1::CreateFolderResponse response;
  MAPINOTIFY_RETURN_IF_ERROR(
      client_->Call(&v1::Store::Stub::CreateFolder, request, &response));
  return response.entry_id();
}

absl::StatusOr<EntryId> MsgStore::CopyFolder(const EntryId& source_parent,
                                             const EntryId& folder,
                                             const EntryId& dest_parent,
                                             const std::string& new_name,
                                             ULONG flags, SCODE* warning,
                                             MapiProgress* progress) {
  v1::CopyFolderRequest request = internal::CopyFolderRequestOf(
      source_parent, folder, dest_parent, new_name, flags);
  if (progress != nullptr) {
    v1::OperationStart start;
    *start.mutable_copy_folder() = std::move(request);
    OperationResult result = client_->RunOperation(std::move(start), *progress);
    MAPINOTIFY_RETURN_IF_ERROR(internal::FinishLong(result, warning));
    return std::move(result.entry_id);
  }
  v1::CopyFolderResponse response;
  MAPINOTIFY_RETURN_IF_ERROR(
      client_->Call(&v1::Store::Stub::CopyFolder, request, &response));
  // Without a cancel a folder copy leaves nothing undone.
  if (warning != nullptr) *warning = S_OK;
  return response.entry_id();
}

absl::Status MsgStore::DeleteFolder(const EntryId& parent,
                                    const EntryId& folder, ULONG flags,
                                    SCODE* warning, MapiProgress* progress) {
  v1::DeleteFolderRequest request =
      internal::DeleteFolderRequestOf(parent, folder, flags);
  if (progress != nullptr) {
    v1::OperationStart start;
    *start.mutable_delete_folder() = std::move(request);
    return internal::FinishLong(
        client_->RunOperation(std::move(start), *progress), warning);
  }
  v1::DeleteFolderResponse response;
  MAPINOTIFY_RETURN_IF_ERROR(
      client_->Call(&v1::Store::Stub::DeleteFolder, request, &response));
  if (warning != nullptr) *warning = S_OK;
  return absl::OkStatus();
}

absl::Status MsgStore::EmptyFolder(const EntryId& folder, ULONG flags,
                                   SCODE* warning, MapiProgress* progress) {
  v1::EmptyFolderRequest request =
      internal::EmptyFolderRequestOf(folder, flags);
  if (progress != nullptr) {
    v1::OperationStart start;
    *start.mutable_empty_folder() = std::move(request);
    return internal::FinishLong(
        client_->RunOperation(std::move(start), *progress), warning);
  }
  v1::EmptyFolderResponse response;
  MAPINOTIFY_RETURN_IF_ERROR(
      client_->Call(&v1::Store::Stub::EmptyFolder, request, &response));
  if (warning != nullptr) *warning = S_OK;
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Message>> MsgStore::CreateMessage(
    const EntryId& folder, ULONG flags) {
  v1::CreateMessageRequest request;
  request.set_folder_id(folder);
  request.set_flags(flags);
  v1::CreateMessageResponse response;
  MAPINOTIFY_RETURN_IF_ERROR(
      client_->Call(&v1::Store::Stub::CreateMessage, request, &response));
  return internal::StoreClient::MakeMessage(client_, response.handle(),
                                            EntryId());
}

absl::StatusOr<std::unique_ptr<Message>> MsgStore::OpenMessage(
    const EntryId& entry_id, ULONG flags) {
  v1::OpenMessageRequest request;
  request.set_entry_id(entry_id);
  request.set_flags(flags);
  v1::OpenMessageResponse response;
  MAPINOTIFY_RETURN_IF_ERROR(
      client_->Call(&v1::Store::Stub::OpenMessage, request, &response));
  return internal::StoreClient::MakeMessage(client_, response.handle(),
                                            entry_id);
}

absl::Status MsgStore::DeleteMessages(const EntryId& folder,
                                      const std::vector<EntryId>& messages,
                                      ULONG flags, SCODE* warning,
                                      MapiProgress* progress) {
  v1::DeleteMessagesRequest request =
      internal::DeleteMessagesRequestOf(folder, messages, flags);
  if (progress != nullptr) {
    v1::OperationStart start;
    *start.mutable_delete_messages() = std::move(request);
    return internal::FinishLong(
        client_->RunOperation(std::move(start), *progress), warning);
  }
  v1::DeleteMessagesResponse response;
  MAPINOTIFY_RETURN_IF_ERROR(
      client_->Call(&v1::Store::Stub::DeleteMessages, request, &response));
  if (warning != nullptr) *warning = response.warning();
  return absl::OkStatus();
}

absl::Status MsgStore::CopyMessages(const EntryId& source,
                                    const std::vector<EntryId>& messages,
                                    const EntryId& dest, ULONG flags,
                                    SCODE* warning, MapiProgress* progress) {
  v1::CopyMessagesRequest request =
      internal::CopyMessagesRequestOf(source, messages, dest, flags);
  if (progress != nullptr) {
    v1::OperationStart start;
    *start.mutable_copy_messages() = std::move(request);
    return internal::FinishLong(
        client_->RunOperation(std::move(start), *progress), warning);
  }
  v1::CopyMessagesResponse response;
  MAPINOTIFY_RETURN_IF_ERROR(
      client_->Call(&v1::Store::Stub::CopyMessages, request, &response));
  if (warning != nullptr) *warning = response.warning();
  return absl::OkStatus();
}

absl::Status MsgStore::SetReadFlags(const EntryId& folder,
                                    const std::vector<EntryId>& messages,
                                    ULONG flags, SCODE* warning,
                                    MapiProgress* progress) {
  v1::SetReadFlagsRequest request =
      internal::SetReadFlagsRequestOf(folder, messages, flags);
  if (progress != nullptr) {
    v1::OperationStart start;
    *start.mutable_set_read_flags() = std::move(request);
    return internal::FinishLong(
        client_->RunOperation(std::move(start), *progress), warning);
  }
  v1::SetReadFlagsResponse response;
  MAPINOTIFY_RETURN_IF_ERROR(
      client_->Call(&v1::Store::Stub::SetReadFlags, request, &response));
  if (warning != nullptr) *warning = response.warning();
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<Operation>> MsgStore::Start(
    LongOperation operation, std::shared_ptr<MapiProgress> progress,
    MessageLoop& loop, OperationCallback done) {
  return client_->StartOperation(internal::StartOf(operation),
                                 std::move(progress), loop, std::move(done));
}

absl::StatusOr<EntryId> MsgStore::DeliverNewMail(
    const std::vector<PropValue>& props) {
  v1::DeliverNewMailRequest request;
  MAPINOTIFY_RETURN_IF_ERROR(
      internal::PropsToWire(props, request.mutable_props()));
  v1::DeliverNewMailResponse response;
  MAPINOTIFY_RETURN_IF_ERROR(
      client_->Call(&v1::Store::Stub::DeliverNewMail, request, &response));
  return response.entry_id();
}

absl::StatusOr<std::unique_ptr<Table>> MsgStore::OpenContentsTable(
    const EntryId& folder, ULONG flags) {
  v1::OpenContentsTableRequest request;
  request.set_folder_id(folder);
  request.set_flags(flags);
  v1::OpenContentsTableResponse response;
  MAPINOTIFY_RETURN_IF_ERROR(
      client_->Call(&v1::Store::Stub::OpenContentsTable, request, &response));
  return internal::StoreClient::MakeTable(client_, response.view_id());
}

absl::StatusOr<std::unique_ptr<Table>> MsgStore::OpenHierarchyTable(
    const EntryId& folder, ULONG flags) {
  v1::OpenHierarchyTableRequest request;
  request.set_folder_id(folder);
  request.set_flags(flags);
  v1::OpenHierarchyTableResponse response;
  MAPINOTIFY_RETURN_IF_ERROR(
      client_->Call(&v1::Store::Stub::OpenHierarchyTable, request, &response));
  return internal::StoreClient::MakeTable(client_, response.view_id());
}

}  // namespace mapinotify
