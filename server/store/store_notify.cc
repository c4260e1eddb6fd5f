#include "server/store/store_notify.h"

#include <algorithm>
#include <utility>

#include "common/internal/proto_convert.h"
#include "server/hub/target_key.h"

namespace mapinotify::server::store {
namespace {

// Adds the entry key of each non-empty id, once.
std::vector<TargetKey> EntryTargets(std::initializer_list<const EntryId*> ids) {
  std::vector<TargetKey> targets;
  for (const EntryId* id : ids) {
    if (id->empty()) continue;
    TargetKey key = EntryTargetKey(*id);
    if (std::find(targets.begin(), targets.end(), key) == targets.end()) {
      targets.push_back(std::move(key));
    }
  }
  return targets;
}

// `value` on the wire; PT_ERROR MAPI_E_CORRUPT_DATA when it cannot travel.
void ValueToProto(const PropValue& value, v1::PropValue* proto) {
  if (!internal::ToProto(value, proto).ok()) {
    proto->Clear();
    proto->set_tag(CHANGE_PROP_TYPE(value.tag, PT_ERROR));
    proto->set_err(MAPI_E_CORRUPT_DATA);
  }
}

}  // namespace

void NotificationBatch::ObjectCreated(const EntryId& entry_id,
                                      ULONG object_type,
                                      const EntryId& parent_id) {
  AddObject(fnevObjectCreated, entry_id, object_type, parent_id, {}, {}, {});
}

void NotificationBatch::ObjectDeleted(const EntryId& entry_id,
                                      ULONG object_type,
                                      const EntryId& parent_id) {
  AddObject(fnevObjectDeleted, entry_id, object_type, parent_id, {}, {}, {});
}

void NotificationBatch::ObjectModified(const EntryId& entry_id,
                                       ULONG object_type,
                                       const EntryId& parent_id,
                                       const std::vector<ULONG>& prop_tags) {
  AddObject(fnevObjectModified, entry_id, object_type, parent_id, {}, {},
            prop_tags);
}

void NotificationBatch::ObjectMoved(const EntryId& entry_id, ULONG object_type,
                                    const EntryId& parent_id,
                                    const EntryId& old_id,
                                    const EntryId& old_parent_id) {
  AddObject(fnevObjectMoved, entry_id, object_type, parent_id, old_id,
            old_parent_id, {});
}

void NotificationBatch::ObjectCopied(const EntryId& entry_id, ULONG object_type,
                                     const EntryId& parent_id,
                                     const EntryId& old_id,
                                     const EntryId& old_parent_id) {
  AddObject(fnevObjectCopied, entry_id, object_type, parent_id, old_id,
            old_parent_id, {});
}

void NotificationBatch::NewMail(const EntryId& entry_id,
                                const EntryId& parent_id,
                                const std::string& message_class,
                                ULONG message_flags) {
  PublishItem item;
  item.notification.set_event_type(v1::fnevNewMail);
  v1::NewMailNotification* mail = item.notification.mutable_new_mail();
  mail->set_entry_id(entry_id);
  mail->set_parent_id(parent_id);
  mail->set_message_class(message_class);
  mail->set_message_flags(message_flags);
  item.targets = EntryTargets({&entry_id, &parent_id});
  item.targets.insert(item.targets.begin(), StoreTargetKey());
  items_.push_back(std::move(item));
}

void NotificationBatch::Table(uint64_t view, const TableNotification& table) {
  PublishItem item;
  item.notification.set_event_type(v1::fnevTableModified);
  v1::TableNotification* out = item.notification.mutable_table();
  out->set_table_event(static_cast<v1::TableEvent>(table.table_event));
  out->set_hresult(table.hresult);
  if (table.index_key.tag != PR_NULL) {
    ValueToProto(table.index_key, out->mutable_index_key());
  }
  if (table.table_event == TABLE_ROW_ADDED ||
      table.table_event == TABLE_ROW_MODIFIED) {
    ValueToProto(table.prior_key, out->mutable_prior_key());
    v1::Row* row = out->mutable_row();
    for (const PropValue& value : table.row) {
      ValueToProto(value, row->add_props());
    }
  }
  item.targets.push_back(TableTargetKey(view));
  items_.push_back(std::move(item));
}

std::vector<PublishItem> NotificationBatch::Take() {
  std::vector<PublishItem> items = std::move(items_);
  items_.clear();
  return items;
}

void NotificationBatch::AddObject(ULONG event_type, const EntryId& entry_id,
                                  ULONG object_type, const EntryId& parent_id,
                                  const EntryId& old_id,
                                  const EntryId& old_parent_id,
                                  const std::vector<ULONG>& prop_tags) {
  PublishItem item;
  item.notification.set_event_type(static_cast<v1::EventType>(event_type));
  v1::ObjectNotification* object = item.notification.mutable_object();
  object->set_entry_id(entry_id);
  object->set_object_type(object_type);
  object->set_parent_id(parent_id);
  object->set_old_id(old_id);
  object->set_old_parent_id(old_parent_id);
  for (ULONG tag : prop_tags) object->add_prop_tags(tag);
  item.targets = EntryTargets({&entry_id, &parent_id, &old_id, &old_parent_id});
  items_.push_back(std::move(item));
}

}  // namespace mapinotify::server::store
