// Store::Impl: open messages — create, open, pending changes, save,
// release (ReleaseSession also closes the session's table views).
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/internal/status_macros.h"
#include "mapinotify/status.h"
#include "server/store/store_impl.h"

namespace mapinotify::server::store {
namespace {

constexpr ULONG kCreateMessageFlags =
    MAPINOTIFY_THREAD_AWARE | MAPI_DEFERRED_ERRORS;
constexpr ULONG kOpenMessageFlags = MAPI_MODIFY | MAPI_BEST_ACCESS |
                                    MAPINOTIFY_THREAD_AWARE |
                                    MAPI_DEFERRED_ERRORS;
constexpr ULONG kSaveChangesFlags = KEEP_OPEN_READONLY | KEEP_OPEN_READWRITE |
                                    FORCE_SAVE | MAPI_DEFERRED_ERRORS;

absl::Status CheckSession(const CallContext& caller) {
  if (!caller.session.empty()) return absl::OkStatus();
  return MapiError(MAPI_E_INVALID_PARAMETER, "open messages need a session id");
}

}  // namespace

absl::Status Store::Impl::CheckAliveLocked(
    const OpenMessageContext& context) const {
  if (context.draft.has_value()) {
    if (folders_.count(context.draft->parent) == 0) {
      return MapiError(MAPI_E_OBJECT_DELETED,
                       "the folder of this unsaved message was deleted");
    }
  } else if (messages_.count(context.message) == 0) {
    return MapiError(MAPI_E_OBJECT_DELETED, "the message was deleted or moved");
  }
  return absl::OkStatus();
}

absl::StatusOr<Message> Store::Impl::OverlayLocked(
    const OpenMessageContext& context, uint64_t thread) const {
  MAPINOTIFY_RETURN_IF_ERROR(CheckAliveLocked(context));
  Message message = context.draft.has_value() ? *context.draft
                                              : messages_.at(context.message);
  if (const PendingChanges* pending = context.FindPending(thread)) {
    ApplyPending(*pending, &message.props);
  }
  return message;
}

absl::StatusOr<OpenMessageContext*> Store::Impl::WritableContextLocked(
    const CallContext& caller, Handle handle) {
  MAPINOTIFY_ASSIGN_OR_RETURN(OpenMessageContext * context,
                              contexts_.Find(caller, handle));
  if (!context->writable) {
    return MapiError(MAPI_E_NO_ACCESS,
                     "the message was opened read-only (no MAPI_MODIFY)");
  }
  MAPINOTIFY_RETURN_IF_ERROR(CheckAliveLocked(*context));
  return context;
}

absl::StatusOr<Handle> Store::Impl::CreateMessage(const CallContext& caller,
                                                  const EntryId& folder,
                                                  ULONG flags) {
  MAPINOTIFY_RETURN_IF_ERROR(
      CheckFlags(flags, kCreateMessageFlags, "CreateMessage"));
  MAPINOTIFY_RETURN_IF_ERROR(CheckSession(caller));
  WriteLock lock(this);
  MAPINOTIFY_ASSIGN_OR_RETURN(const ObjectNumber folder_number,
                              FolderNumberLocked(folder));
  OpenMessageContext context;
  context.session = caller.session;
  context.writable = true;
  context.thread_aware = (flags & MAPINOTIFY_THREAD_AWARE) != 0;
  Message draft;
  draft.parent = folder_number;
  draft.props.Set(PropValue{PR_MESSAGE_CLASS, std::string("IPM.Note")});
  draft.props.Set(PropValue{
      PR_MESSAGE_FLAGS, static_cast<int32_t>(MSGFLAG_READ | MSGFLAG_UNSENT)});
  context.draft = std::move(draft);
  // Numbers are never reused, so one a refused Add wastes is harmless.
  context.message = NewNumberLocked();
  return contexts_.Add(std::move(context));
}

absl::StatusOr<Handle> Store::Impl::OpenMessage(const CallContext& caller,
                                                const EntryId& message,
                                                ULONG flags) {
  MAPINOTIFY_RETURN_IF_ERROR(
      CheckFlags(flags, kOpenMessageFlags, "OpenMessage"));
  MAPINOTIFY_RETURN_IF_ERROR(CheckSession(caller));
  WriteLock lock(this);
  MAPINOTIFY_ASSIGN_OR_RETURN(const ObjectNumber number,
                              MessageNumberLocked(message));
  OpenMessageContext context;
  context.session = caller.session;
  context.message = number;
  context.writable = (flags & (MAPI_MODIFY | MAPI_BEST_ACCESS)) != 0;
  context.thread_aware = (flags & MAPINOTIFY_THREAD_AWARE) != 0;
  return contexts_.Add(std::move(context));
}

absl::StatusOr<std::vector<PropProblem>> Store::Impl::SetMessageProps(
    const CallContext& caller, Handle handle,
    const std::vector<PropValue>& values) {
  WriteLock lock(this);
  MAPINOTIFY_ASSIGN_OR_RETURN(OpenMessageContext * context,
                              WritableContextLocked(caller, handle));
  std::vector<PropProblem> problems;
  PendingChanges& pending = context->MutablePending(caller.thread);
  for (size_t i = 0; i < values.size(); ++i) {
    const SCODE scode = CheckSettable(values[i]);
    if (scode != S_OK) {
      problems.push_back(
          PropProblem{static_cast<uint32_t>(i), values[i].tag, scode});
      continue;
    }
    pending[PROP_ID(values[i].tag)] = values[i];
  }
  return problems;
}

absl::StatusOr<std::vector<PropProblem>> Store::Impl::DeleteMessageProps(
    const CallContext& caller, Handle handle, const std::vector<ULONG>& tags) {
  WriteLock lock(this);
  MAPINOTIFY_ASSIGN_OR_RETURN(OpenMessageContext * context,
                              WritableContextLocked(caller, handle));
  std::vector<PropProblem> problems;
  PendingChanges& pending = context->MutablePending(caller.thread);
  for (size_t i = 0; i < tags.size(); ++i) {
    const SCODE scode = CheckRemovable(tags[i]);
    if (scode != S_OK) {
      problems.push_back(PropProblem{static_cast<uint32_t>(i), tags[i], scode});
      continue;
    }
    pending[PROP_ID(tags[i])] = std::nullopt;
  }
  return problems;
}

absl::StatusOr<std::vector<PropValue>> Store::Impl::GetMessageProps(
    const CallContext& caller, Handle handle,
    const std::vector<ULONG>& tags) const {
  absl::ReaderMutexLock lock(&mu_);
  MAPINOTIFY_ASSIGN_OR_RETURN(const OpenMessageContext* context,
                              contexts_.Find(caller, handle));
  MAPINOTIFY_ASSIGN_OR_RETURN(const Message message,
                              OverlayLocked(*context, caller.thread));
  return SelectProps(MessageViewLocked(context->message, message,
                                       /*saved=*/!context->draft.has_value()),
                     tags);
}

absl::StatusOr<EntryId> Store::Impl::SaveChanges(const CallContext& caller,
                                                 Handle handle, ULONG flags) {
  MAPINOTIFY_RETURN_IF_ERROR(
      CheckFlags(flags, kSaveChangesFlags, "SaveChanges"));
  WriteLock lock(this);
  MAPINOTIFY_ASSIGN_OR_RETURN(OpenMessageContext * context,
                              WritableContextLocked(caller, handle));
  const EntryId id = codec_.Encode(context->message);
  NotificationBatch batch;
  if (context->draft.has_value()) {
    // First save: the message comes into existence.
    const ObjectNumber folder = context->draft->parent;
    const FolderCounters before = CountersLocked(folder);
    Message message = std::move(*context->draft);
    context->draft.reset();
    if (const PendingChanges* pending = context->FindPending(caller.thread)) {
      ApplyPending(*pending, &message.props);
    }
    message.created = message.modified = FileTimeNow();
    AddMessageLocked(context->message, std::move(message));
    batch.ObjectCreated(id, MAPI_MESSAGE, codec_.Encode(folder));
    AddCountersChangeLocked(folder, before, &batch);
  } else if (const PendingChanges* pending =
                 context->FindPending(caller.thread)) {
    Message& message = messages_.at(context->message);
    const FolderCounters before = CountersLocked(message.parent);
    const std::vector<ULONG> changed =
        ChangeMessagePropsLocked(context->message, *pending);
    if (!changed.empty()) {
      message.modified = FileTimeNow();
      batch.ObjectModified(id, MAPI_MESSAGE, codec_.Encode(message.parent),
                           changed);
      AddCountersChangeLocked(message.parent, before, &batch);
    }
  }
  context->ClearPending(caller.thread);
  PublishLocked(&batch);
  if (flags & KEEP_OPEN_READWRITE) {
    // Stays writable.
  } else if (flags & KEEP_OPEN_READONLY) {
    context->writable = false;
  } else {
    MAPINOTIFY_RETURN_IF_ERROR(contexts_.Remove(caller, handle));
  }
  return id;
}

absl::Status Store::Impl::Release(const CallContext& caller, Handle handle) {
  WriteLock lock(this);
  return contexts_.Remove(caller, handle);
}

void Store::Impl::ReleaseSession(const std::string& session) {
  WriteLock lock(this);
  contexts_.RemoveSession(session);
  CloseSessionViewsLocked(session);
}

}  // namespace mapinotify::server::store
