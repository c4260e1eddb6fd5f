#include "server/service/store_service.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/internal/proto_convert.h"
#include "common/internal/status_macros.h"
#include "mapinotify/mapi.h"
#include "mapinotify/status.h"
#include "server/service/caller.h"
#include "server/service/grpc_status.h"
#include "server/service/long_operations.h"
#include "server/service/operation_reactor.h"
#include "server/service/request_checks.h"

namespace mapinotify::server {
namespace {

// The flags each call defines (store.proto; the same sets server/store/store.h
// takes). Checked here so that the wire contract holds whatever the store
// does with them.
constexpr ULONG kCreateFolderFlags = OPEN_IF_EXISTS;
constexpr ULONG kCreateMessageFlags =
    MAPI_DEFERRED_ERRORS | MAPINOTIFY_THREAD_AWARE;
constexpr ULONG kOpenMessageFlags = MAPI_MODIFY | MAPI_BEST_ACCESS |
                                    MAPI_DEFERRED_ERRORS |
                                    MAPINOTIFY_THREAD_AWARE;
constexpr ULONG kSaveChangesFlags = KEEP_OPEN_READONLY | KEEP_OPEN_READWRITE |
                                    FORCE_SAVE | MAPI_DEFERRED_ERRORS;
constexpr ULONG kOpenContentsTableFlags = MAPI_DEFERRED_ERRORS;
constexpr ULONG kOpenHierarchyTableFlags =
    CONVENIENT_DEPTH | MAPI_DEFERRED_ERRORS;

template <typename Repeated>
absl::Status PropsTo(const std::vector<PropValue>& values, Repeated* out) {
  out->Reserve(static_cast<int>(values.size()));
  for (const PropValue& value : values) {
    // A value the store made is well-formed; a failure here is a server bug,
    // reported as such rather than sent half-converted.
    absl::Status converted = internal::ToProto(value, out->Add());
    if (!converted.ok()) {
      return MapiError(
          MAPI_E_CALL_FAILED,
          absl::StrCat("cannot send property 0x", absl::Hex(value.tag), ": ",
                       converted.message()));
    }
  }
  return absl::OkStatus();
}

template <typename Repeated>
void ProblemsTo(const std::vector<store::PropProblem>& problems,
                Repeated* out) {
  for (const store::PropProblem& p : problems) {
    v1::PropProblem* wire = out->Add();
    wire->set_index(p.index);
    wire->set_tag(p.tag);
    wire->set_scode(p.scode);
  }
}

absl::Status CheckObject(const v1::ObjectRef& object) {
  switch (object.kind_case()) {
    case v1::ObjectRef::kEntryId:
      return CheckEntryId(object.entry_id(), "object.entry_id");
    case v1::ObjectRef::kHandle:
      return absl::OkStatus();
    case v1::ObjectRef::KIND_NOT_SET:
      break;
  }
  return MapiError(MAPI_E_INVALID_PARAMETER,
                   "object names neither an entry id nor a handle");
}

}  // namespace

StoreService::StoreService(store::Store* store,
                           OperationRunner::Options operations)
    : store_(store), runner_(operations) {}

StoreService::~StoreService() = default;

grpc::ServerUnaryReactor* StoreService::GetStoreInfo(
    grpc::CallbackServerContext* context,
    const v1::GetStoreInfoRequest* /*request*/,
    v1::GetStoreInfoResponse* response) {
  return RunWithCaller(context, [&](const store::CallContext&) {
    response->set_store_entry_id(store_->store_entry_id());
    response->set_root_folder_id(store_->root_folder_id());
    response->set_ipm_subtree_id(store_->ipm_subtree_id());
    response->set_inbox_id(store_->inbox_id());
    response->set_outbox_id(store_->outbox_id());
    response->set_sent_items_id(store_->sent_items_id());
    response->set_deleted_items_id(store_->deleted_items_id());
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* StoreService::GetProps(
    grpc::CallbackServerContext* context, const v1::GetPropsRequest* request,
    v1::GetPropsResponse* response) {
  return RunWithCaller(
      context, [&](const store::CallContext& caller) -> absl::Status {
        MAPINOTIFY_RETURN_IF_ERROR(CheckObject(request->object()));
        std::vector<ULONG> tags;
        MAPINOTIFY_ASSIGN_OR_RETURN(
            tags, TagsFrom(request->tags(), kMaxProps, "tags"));
        std::vector<PropValue> values;
        if (request->object().has_handle()) {
          MAPINOTIFY_ASSIGN_OR_RETURN(
              values, store_->GetMessageProps(
                          caller, request->object().handle(), tags));
        } else {
          MAPINOTIFY_ASSIGN_OR_RETURN(
              values, store_->GetProps(request->object().entry_id(), tags));
        }
        return PropsTo(values, response->mutable_values());
      });
}

grpc::ServerUnaryReactor* StoreService::SetProps(
    grpc::CallbackServerContext* context, const v1::SetPropsRequest* request,
    v1::SetPropsResponse* response) {
  return RunWithCaller(
      context, [&](const store::CallContext& caller) -> absl::Status {
        MAPINOTIFY_RETURN_IF_ERROR(CheckObject(request->object()));
        std::vector<PropValue> values;
        MAPINOTIFY_ASSIGN_OR_RETURN(values,
                                    PropsFrom(request->values(), "values"));
        std::vector<store::PropProblem> problems;
        if (request->object().has_handle()) {
          MAPINOTIFY_ASSIGN_OR_RETURN(
              problems, store_->SetMessageProps(
                            caller, request->object().handle(), values));
        } else {
          MAPINOTIFY_ASSIGN_OR_RETURN(
              problems,
              store_->SetFolderProps(request->object().entry_id(), values));
        }
        ProblemsTo(problems, response->mutable_problems());
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* StoreService::DeleteProps(
    grpc::CallbackServerContext* context, const v1::DeletePropsRequest* request,
    v1::DeletePropsResponse* response) {
  return RunWithCaller(
      context, [&](const store::CallContext& caller) -> absl::Status {
        MAPINOTIFY_RETURN_IF_ERROR(CheckObject(request->object()));
        std::vector<ULONG> tags;
        MAPINOTIFY_ASSIGN_OR_RETURN(
            tags, TagsFrom(request->tags(), kMaxProps, "tags"));
        std::vector<store::PropProblem> problems;
        if (request->object().has_handle()) {
          MAPINOTIFY_ASSIGN_OR_RETURN(
              problems, store_->DeleteMessageProps(
                            caller, request->object().handle(), tags));
        } else {
          MAPINOTIFY_ASSIGN_OR_RETURN(
              problems,
              store_->DeleteFolderProps(request->object().entry_id(), tags));
        }
        ProblemsTo(problems, response->mutable_problems());
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* StoreService::CreateFolder(
    grpc::CallbackServerContext* context,
    const v1::CreateFolderRequest* request,
    v1::CreateFolderResponse* response) {
  return RunWithCaller(context, [&](const store::CallContext&) -> absl::Status {
    MAPINOTIFY_RETURN_IF_ERROR(CheckEntryId(request->parent_id(), "parent_id"));
    MAPINOTIFY_RETURN_IF_ERROR(
        CheckName(request->name(), "name", /*allow_empty=*/false));
    if (request->comment().size() > kMaxCommentBytes) {
      return MapiError(MAPI_E_STRING_TOO_LONG,
                       absl::StrCat("comment: ", request->comment().size(),
                                    " bytes exceed ", kMaxCommentBytes));
    }
    MAPINOTIFY_RETURN_IF_ERROR(
        CheckFlags(request->flags(), kCreateFolderFlags, "CreateFolder"));
    EntryId id;
    MAPINOTIFY_ASSIGN_OR_RETURN(
        id, store_->CreateFolder(request->parent_id(), request->name(),
                                 request->comment(), request->flags()));
    response->set_entry_id(std::move(id));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* StoreService::CopyFolder(
    grpc::CallbackServerContext* context, const v1::CopyFolderRequest* request,
    v1::CopyFolderResponse* response) {
  return RunWithCaller(context, [&](const store::CallContext&) -> absl::Status {
    absl::StatusOr<OperationOutcome> outcome =
        RunCopyFolder(*store_, *request, /*progress=*/nullptr);
    if (!outcome.ok()) return outcome.status();
    response->set_entry_id(std::move(outcome->entry_id));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* StoreService::DeleteFolder(
    grpc::CallbackServerContext* context,
    const v1::DeleteFolderRequest* request,
    v1::DeleteFolderResponse* /*response*/) {
  return RunWithCaller(context, [&](const store::CallContext&) -> absl::Status {
    return RunDeleteFolder(*store_, *request, /*progress=*/nullptr).status();
  });
}

grpc::ServerUnaryReactor* StoreService::EmptyFolder(
    grpc::CallbackServerContext* context, const v1::EmptyFolderRequest* request,
    v1::EmptyFolderResponse* /*response*/) {
  return RunWithCaller(context, [&](const store::CallContext&) -> absl::Status {
    return RunEmptyFolder(*store_, *request, /*progress=*/nullptr).status();
  });
}

grpc::ServerUnaryReactor* StoreService::CreateMessage(
    grpc::CallbackServerContext* context,
    const v1::CreateMessageRequest* request,
    v1::CreateMessageResponse* response) {
  return RunWithCaller(
      context, [&](const store::CallContext& caller) -> absl::Status {
        MAPINOTIFY_RETURN_IF_ERROR(
            CheckEntryId(request->folder_id(), "folder_id"));
        MAPINOTIFY_RETURN_IF_ERROR(
            CheckFlags(request->flags(), kCreateMessageFlags, "CreateMessage"));
        store::Handle handle = 0;
        MAPINOTIFY_ASSIGN_OR_RETURN(
            handle, store_->CreateMessage(caller, request->folder_id(),
                                          request->flags()));
        response->set_handle(handle);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* StoreService::OpenMessage(
    grpc::CallbackServerContext* context, const v1::OpenMessageRequest* request,
    v1::OpenMessageResponse* response) {
  return RunWithCaller(
      context, [&](const store::CallContext& caller) -> absl::Status {
        MAPINOTIFY_RETURN_IF_ERROR(
            CheckEntryId(request->entry_id(), "entry_id"));
        MAPINOTIFY_RETURN_IF_ERROR(
            CheckFlags(request->flags(), kOpenMessageFlags, "OpenMessage"));
        store::Handle handle = 0;
        MAPINOTIFY_ASSIGN_OR_RETURN(
            handle,
            store_->OpenMessage(caller, request->entry_id(), request->flags()));
        response->set_handle(handle);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* StoreService::SaveChanges(
    grpc::CallbackServerContext* context, const v1::SaveChangesRequest* request,
    v1::SaveChangesResponse* response) {
  return RunWithCaller(
      context, [&](const store::CallContext& caller) -> absl::Status {
        MAPINOTIFY_RETURN_IF_ERROR(
            CheckFlags(request->flags(), kSaveChangesFlags, "SaveChanges"));
        EntryId id;
        MAPINOTIFY_ASSIGN_OR_RETURN(
            id,
            store_->SaveChanges(caller, request->handle(), request->flags()));
        response->set_entry_id(std::move(id));
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* StoreService::Release(
    grpc::CallbackServerContext* context, const v1::ReleaseRequest* request,
    v1::ReleaseResponse* /*response*/) {
  return RunWithCaller(context, [&](const store::CallContext& caller) {
    return store_->Release(caller, request->handle());
  });
}

grpc::ServerUnaryReactor* StoreService::DeleteMessages(
    grpc::CallbackServerContext* context,
    const v1::DeleteMessagesRequest* request,
    v1::DeleteMessagesResponse* response) {
  return RunWithCaller(context, [&](const store::CallContext&) -> absl::Status {
    absl::StatusOr<OperationOutcome> outcome =
        RunDeleteMessages(*store_, *request, /*progress=*/nullptr);
    if (!outcome.ok()) return outcome.status();
    response->set_warning(outcome->warning);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* StoreService::CopyMessages(
    grpc::CallbackServerContext* context,
    const v1::CopyMessagesRequest* request,
    v1::CopyMessagesResponse* response) {
  return RunWithCaller(context, [&](const store::CallContext&) -> absl::Status {
    absl::StatusOr<OperationOutcome> outcome =
        RunCopyMessages(*store_, *request, /*progress=*/nullptr);
    if (!outcome.ok()) return outcome.status();
    response->set_warning(outcome->warning);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* StoreService::SetReadFlags(
    grpc::CallbackServerContext* context,
    const v1::SetReadFlagsRequest* request,
    v1::SetReadFlagsResponse* response) {
  return RunWithCaller(context, [&](const store::CallContext&) -> absl::Status {
    absl::StatusOr<OperationOutcome> outcome =
        RunSetReadFlags(*store_, *request, /*progress=*/nullptr);
    if (!outcome.ok()) return outcome.status();
    response->set_warning(outcome->warning);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* StoreService::DeliverNewMail(
    grpc::CallbackServerContext* context,
    const v1::DeliverNewMailRequest* request,
    v1::DeliverNewMailResponse* response) {
  return RunWithCaller(context, [&](const store::CallContext&) -> absl::Status {
    std::vector<PropValue> props;
    MAPINOTIFY_ASSIGN_OR_RETURN(props, PropsFrom(request->props(), "props"));
    EntryId id;
    MAPINOTIFY_ASSIGN_OR_RETURN(id, store_->DeliverNewMail(props));
    response->set_entry_id(std::move(id));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* StoreService::OpenContentsTable(
    grpc::CallbackServerContext* context,
    const v1::OpenContentsTableRequest* request,
    v1::OpenContentsTableResponse* response) {
  return RunWithCaller(
      context, [&](const store::CallContext& caller) -> absl::Status {
        MAPINOTIFY_RETURN_IF_ERROR(
            CheckEntryId(request->folder_id(), "folder_id"));
        MAPINOTIFY_RETURN_IF_ERROR(CheckFlags(
            request->flags(), kOpenContentsTableFlags, "OpenContentsTable"));
        store::Store::ViewId view = 0;
        MAPINOTIFY_ASSIGN_OR_RETURN(
            view, store_->OpenContentsTable(caller, request->folder_id(),
                                            request->flags()));
        response->set_view_id(view);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* StoreService::OpenHierarchyTable(
    grpc::CallbackServerContext* context,
    const v1::OpenHierarchyTableRequest* request,
    v1::OpenHierarchyTableResponse* response) {
  return RunWithCaller(
      context, [&](const store::CallContext& caller) -> absl::Status {
        MAPINOTIFY_RETURN_IF_ERROR(
            CheckEntryId(request->folder_id(), "folder_id"));
        MAPINOTIFY_RETURN_IF_ERROR(CheckFlags(
            request->flags(), kOpenHierarchyTableFlags, "OpenHierarchyTable"));
        store::Store::ViewId view = 0;
        MAPINOTIFY_ASSIGN_OR_RETURN(
            view, store_->OpenHierarchyTable(caller, request->folder_id(),
                                             request->flags()));
        response->set_view_id(view);
        return absl::OkStatus();
      });
}

grpc::ServerBidiReactor<v1::OperationRequest, v1::OperationResponse>*
StoreService::RunOperation(grpc::CallbackServerContext* context) {
  return OperationReactor::Start(context, store_, &runner_);
}

}  // namespace mapinotify::server
