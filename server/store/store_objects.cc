#include "server/store/store_objects.h"

#include <algorithm>
#include <initializer_list>

namespace mapinotify::server::store {
namespace {

const std::string& StringProp(const PropertyBag& props, ULONG tag) {
  static const std::string* const kEmpty = new std::string();
  const PropValue* value = props.Find(tag);
  return value == nullptr ? *kEmpty : std::get<std::string>(value->value);
}

bool HasId(std::initializer_list<ULONG> tags, ULONG tag) {
  return std::any_of(tags.begin(), tags.end(),
                     [tag](ULONG t) { return PROP_ID(t) == PROP_ID(tag); });
}

}  // namespace

const std::string& Folder::name() const {
  return StringProp(props, PR_DISPLAY_NAME);
}

ULONG Message::flags() const {
  const PropValue* value = props.Find(PR_MESSAGE_FLAGS);
  return value == nullptr ? 0
                          : static_cast<ULONG>(std::get<int32_t>(value->value));
}

const std::string& Message::message_class() const {
  return StringProp(props, PR_MESSAGE_CLASS);
}

std::vector<ULONG> FolderCounters::Changed(const FolderCounters& before,
                                           const FolderCounters& after) {
  std::vector<ULONG> tags;
  if (before.content_count != after.content_count) {
    tags.push_back(PR_CONTENT_COUNT);
  }
  if (before.content_unread != after.content_unread) {
    tags.push_back(PR_CONTENT_UNREAD);
  }
  if (before.subfolders != after.subfolders) tags.push_back(PR_SUBFOLDERS);
  if (before.child_count != after.child_count) {
    tags.push_back(PR_FOLDER_CHILD_COUNT);
  }
  return tags;
}

bool IsComputedProp(ULONG tag) {
  return HasId({PR_ENTRYID, PR_PARENT_ENTRYID, PR_RECORD_KEY, PR_INSTANCE_KEY,
                PR_OBJECT_TYPE, PR_STORE_ENTRYID, PR_STORE_RECORD_KEY,
                PR_FOLDER_TYPE, PR_CONTENT_COUNT, PR_CONTENT_UNREAD,
                PR_SUBFOLDERS, PR_FOLDER_CHILD_COUNT, PR_DEPTH, PR_MESSAGE_SIZE,
                PR_CREATION_TIME, PR_LAST_MODIFICATION_TIME},
               tag);
}

SCODE CheckFixedType(ULONG tag) {
  for (ULONG fixed :
       {PR_DISPLAY_NAME, PR_COMMENT, PR_MESSAGE_CLASS, PR_MESSAGE_FLAGS}) {
    if (PROP_ID(tag) == PROP_ID(fixed) && tag != fixed) {
      return MAPI_E_INVALID_TYPE;
    }
  }
  return S_OK;
}

SCODE CheckSettable(const PropValue& value) {
  if (IsComputedProp(value.tag)) return MAPI_E_COMPUTED;
  const SCODE scode = CheckStorable(value);
  return scode != S_OK ? scode : CheckFixedType(value.tag);
}

SCODE CheckRemovable(ULONG tag) {
  return IsComputedProp(tag) ? MAPI_E_COMPUTED : CheckDeletable(tag);
}

}  // namespace mapinotify::server::store
