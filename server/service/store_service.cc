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

namespace mapinotify::server {
namespace {

// The flags each call defines (store.proto; the same sets server/store/store.h
// takes). Checked here so that the wire contract holds whatever the store
// does with them.
constexpr ULONG kCreateFolderFlags = OPEN_IF_EXISTS;
constexpr ULONG kCopyFolderFlags = FOLDER_MOVE | COPY_SUBFOLDERS;
constexpr ULONG kDeleteFolderFlags = DEL_FOLDERS | DEL_MESSAGES;
constexpr ULONG kEmptyFolderFlags = DEL_ASSOCIATED;
constexpr ULONG kCreateMessageFlags =
    MAPI_DEFERRED_ERRORS | MAPINOTIFY_THREAD_AWARE;
constexpr ULONG kOpenMessageFlags = MAPI_MODIFY | MAPI_BEST_ACCESS |
                                    MAPI_DEFERRED_ERRORS |
                                    MAPINOTIFY_THREAD_AWARE;
constexpr ULONG kSaveChangesFlags = KEEP_OPEN_READONLY | KEEP_OPEN_READWRITE |
                                    FORCE_SAVE | MAPI_DEFERRED_ERRORS;
constexpr ULONG kDeleteMessagesFlags = MESSAGE_DIALOG;
constexpr ULONG kCopyMessagesFlags = MESSAGE_MOVE | MESSAGE_DIALOG;
constexpr ULONG kSetReadFlagsFlags =
    SUPPRESS_RECEIPT | MESSAGE_DIALOG | CLEAR_READ_FLAG;
constexpr ULONG kOpenContentsTableFlags = MAPI_DEFERRED_ERRORS;
constexpr ULONG kOpenHierarchyTableFlags =
    CONVENIENT_DEPTH | MAPI_DEFERRED_ERRORS;

absl::Status CheckEntryId(const std::string& id, absl::string_view field) {
  if (id.empty()) {
    return MapiError(MAPI_E_INVALID_ENTRYID,
                     absl::StrCat(field, ": empty entry id"));
  }
  if (id.size() > StoreService::kMaxEntryIdBytes) {
    return MapiError(
        MAPI_E_INVALID_ENTRYID,
        absl::StrCat(field, ": entry id of ", id.size(), " bytes exceeds ",
                     StoreService::kMaxEntryIdBytes));
  }
  return absl::OkStatus();
}

absl::Status CheckFlags(uint32_t flags, ULONG allowed, absl::string_view call) {
  if ((flags & ~allowed) != 0) {
    return MapiError(
        MAPI_E_UNKNOWN_FLAGS,
        absl::StrCat(call, ": unknown flags 0x", absl::Hex(flags & ~allowed),
                     " (defined: 0x", absl::Hex(allowed), ")"));
  }
  return absl::OkStatus();
}

absl::Status CheckCount(size_t count, size_t max, absl::string_view field) {
  if (count > max) {
    return MapiError(MAPI_E_TOO_BIG,
                     absl::StrCat(field, ": ", count, " items exceed ", max));
  }
  return absl::OkStatus();
}

absl::Status CheckName(const std::string& name, absl::string_view field,
                       bool allow_empty) {
  if (name.empty() && !allow_empty) {
    return MapiError(MAPI_E_INVALID_PARAMETER,
                     absl::StrCat(field, ": empty folder name"));
  }
  if (name.size() > StoreService::kMaxNameBytes) {
    return MapiError(MAPI_E_STRING_TOO_LONG,
                     absl::StrCat(field, ": ", name.size(), " bytes exceed ",
                                  StoreService::kMaxNameBytes));
  }
  return absl::OkStatus();
}

template <typename Repeated>
absl::StatusOr<std::vector<EntryId>> EntryIdsFrom(const Repeated& ids,
                                                  absl::string_view field) {
  MAPINOTIFY_RETURN_IF_ERROR(CheckCount(static_cast<size_t>(ids.size()),
                                        StoreService::kMaxEntryIds, field));
  std::vector<EntryId> out;
  out.reserve(static_cast<size_t>(ids.size()));
  for (int i = 0; i < ids.size(); ++i) {
    MAPINOTIFY_RETURN_IF_ERROR(
        CheckEntryId(ids.Get(i), absl::StrCat(field, "[", i, "]")));
    out.push_back(ids.Get(i));
  }
  return out;
}

template <typename Repeated>
absl::StatusOr<std::vector<ULONG>> TagsFrom(const Repeated& tags,
                                            absl::string_view field) {
  MAPINOTIFY_RETURN_IF_ERROR(CheckCount(static_cast<size_t>(tags.size()),
                                        StoreService::kMaxProps, field));
  return std::vector<ULONG>(tags.begin(), tags.end());
}

template <typename Repeated>
absl::StatusOr<std::vector<PropValue>> PropsFrom(const Repeated& values,
                                                 absl::string_view field) {
  MAPINOTIFY_RETURN_IF_ERROR(CheckCount(static_cast<size_t>(values.size()),
                                        StoreService::kMaxProps, field));
  std::vector<PropValue> out;
  out.reserve(static_cast<size_t>(values.size()));
  for (int i = 0; i < values.size(); ++i) {
    absl::StatusOr<PropValue> value = internal::FromProto(values.Get(i));
    if (!value.ok()) {
      return MapiError(
          ScodeOf(value.status()),
          absl::StrCat(field, "[", i, "]: ", value.status().message()));
    }
    out.push_back(*std::move(value));
  }
  return out;
}

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

StoreService::StoreService(store::Store* store) : store_(store) {}

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
        MAPINOTIFY_ASSIGN_OR_RETURN(tags, TagsFrom(request->tags(), "tags"));
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
        MAPINOTIFY_ASSIGN_OR_RETURN(tags, TagsFrom(request->tags(), "tags"));
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
    MAPINOTIFY_RETURN_IF_ERROR(
        CheckEntryId(request->source_parent_id(), "source_parent_id"));
    MAPINOTIFY_RETURN_IF_ERROR(CheckEntryId(request->folder_id(), "folder_id"));
    MAPINOTIFY_RETURN_IF_ERROR(
        CheckEntryId(request->dest_parent_id(), "dest_parent_id"));
    MAPINOTIFY_RETURN_IF_ERROR(
        CheckName(request->new_name(), "new_name", /*allow_empty=*/true));
    MAPINOTIFY_RETURN_IF_ERROR(
        CheckFlags(request->flags(), kCopyFolderFlags, "CopyFolder"));
    EntryId id;
    MAPINOTIFY_ASSIGN_OR_RETURN(
        id, store_->CopyFolder(request->source_parent_id(),
                               request->folder_id(), request->dest_parent_id(),
                               request->new_name(), request->flags()));
    response->set_entry_id(std::move(id));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* StoreService::DeleteFolder(
    grpc::CallbackServerContext* context,
    const v1::DeleteFolderRequest* request,
    v1::DeleteFolderResponse* /*response*/) {
  return RunWithCaller(context, [&](const store::CallContext&) -> absl::Status {
    MAPINOTIFY_RETURN_IF_ERROR(CheckEntryId(request->parent_id(), "parent_id"));
    MAPINOTIFY_RETURN_IF_ERROR(CheckEntryId(request->folder_id(), "folder_id"));
    MAPINOTIFY_RETURN_IF_ERROR(
        CheckFlags(request->flags(), kDeleteFolderFlags, "DeleteFolder"));
    return store_->DeleteFolder(request->parent_id(), request->folder_id(),
                                request->flags());
  });
}

grpc::ServerUnaryReactor* StoreService::EmptyFolder(
    grpc::CallbackServerContext* context, const v1::EmptyFolderRequest* request,
    v1::EmptyFolderResponse* /*response*/) {
  return RunWithCaller(context, [&](const store::CallContext&) -> absl::Status {
    MAPINOTIFY_RETURN_IF_ERROR(CheckEntryId(request->folder_id(), "folder_id"));
    MAPINOTIFY_RETURN_IF_ERROR(
        CheckFlags(request->flags(), kEmptyFolderFlags, "EmptyFolder"));
    return store_->EmptyFolder(request->folder_id(), request->flags());
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
    MAPINOTIFY_RETURN_IF_ERROR(CheckEntryId(request->folder_id(), "folder_id"));
    std::vector<EntryId> messages;
    MAPINOTIFY_ASSIGN_OR_RETURN(
        messages, EntryIdsFrom(request->message_ids(), "message_ids"));
    MAPINOTIFY_RETURN_IF_ERROR(
        CheckFlags(request->flags(), kDeleteMessagesFlags, "DeleteMessages"));
    SCODE warning = S_OK;
    MAPINOTIFY_RETURN_IF_ERROR(store_->DeleteMessages(
        request->folder_id(), messages, request->flags(), &warning));
    response->set_warning(warning);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* StoreService::CopyMessages(
    grpc::CallbackServerContext* context,
    const v1::CopyMessagesRequest* request,
    v1::CopyMessagesResponse* response) {
  return RunWithCaller(context, [&](const store::CallContext&) -> absl::Status {
    MAPINOTIFY_RETURN_IF_ERROR(
        CheckEntryId(request->source_folder_id(), "source_folder_id"));
    MAPINOTIFY_RETURN_IF_ERROR(
        CheckEntryId(request->dest_folder_id(), "dest_folder_id"));
    std::vector<EntryId> messages;
    MAPINOTIFY_ASSIGN_OR_RETURN(
        messages, EntryIdsFrom(request->message_ids(), "message_ids"));
    MAPINOTIFY_RETURN_IF_ERROR(
        CheckFlags(request->flags(), kCopyMessagesFlags, "CopyMessages"));
    SCODE warning = S_OK;
    MAPINOTIFY_RETURN_IF_ERROR(store_->CopyMessages(
        request->source_folder_id(), messages, request->dest_folder_id(),
        request->flags(), &warning));
    response->set_warning(warning);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* StoreService::SetReadFlags(
    grpc::CallbackServerContext* context,
    const v1::SetReadFlagsRequest* request,
    v1::SetReadFlagsResponse* response) {
  return RunWithCaller(context, [&](const store::CallContext&) -> absl::Status {
    MAPINOTIFY_RETURN_IF_ERROR(CheckEntryId(request->folder_id(), "folder_id"));
    std::vector<EntryId> messages;
    MAPINOTIFY_ASSIGN_OR_RETURN(
        messages, EntryIdsFrom(request->message_ids(), "message_ids"));
    MAPINOTIFY_RETURN_IF_ERROR(
        CheckFlags(request->flags(), kSetReadFlagsFlags, "SetReadFlags"));
    SCODE warning = S_OK;
    MAPINOTIFY_RETURN_IF_ERROR(store_->SetReadFlags(
        request->folder_id(), messages, request->flags(), &warning));
    response->set_warning(warning);
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

}  // namespace mapinotify::server
