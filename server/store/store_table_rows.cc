// Store::Impl: the rows of table views — which objects are in a view's
// scope, their properties as the view sees them, the rows built from them —
// and the table notifications that keep every view in step with each
// operation.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "server/store/restriction.h"
#include "server/store/store_impl.h"

namespace mapinotify::server::store {
namespace {

// Appends `events` (one view's, in order) to `batch`, or one TABLE_CHANGED
// when there are more than Store::kTableChangedThreshold.
void AddViewEvents(Store::ViewId view, std::vector<RowEvent> events,
                   NotificationBatch* batch) {
  if (events.empty()) return;
  if (events.size() > Store::kTableChangedThreshold) {
    TableNotification changed;
    changed.table_event = TABLE_CHANGED;
    batch->Table(view, changed);
    return;
  }
  for (RowEvent& event : events) {
    TableNotification table;
    table.table_event = event.event;
    table.index_key = InstanceKey(event.key);
    if (event.prior.has_value()) table.prior_key = InstanceKey(*event.prior);
    table.row = std::move(event.columns);
    batch->Table(view, table);
  }
}

}  // namespace

PropValue InstanceKey(ObjectNumber number) {
  std::string bytes(8, '\0');
  for (int i = 7; i >= 0; --i, number >>= 8) {
    bytes[i] = static_cast<char>(number & 0xFF);
  }
  return PropValue{PR_INSTANCE_KEY, Binary{std::move(bytes)}};
}

const PropValue* RowProps::Find(ULONG tag) const {
  const auto typed = [tag](const PropValue& value) -> const PropValue* {
    const ULONG type = PROP_TYPE(tag);
    return type == PT_UNSPECIFIED || type == PROP_TYPE(value.tag) ? &value
                                                                  : nullptr;
  };
  if (PROP_ID(tag) == PROP_ID(PR_INSTANCE_KEY)) return typed(instance_key);
  if (depth.has_value() && PROP_ID(tag) == PROP_ID(PR_DEPTH)) {
    return typed(*depth);
  }
  return object->Find(tag);
}

Row ProjectColumns(const RowProps& props, const std::vector<ULONG>& columns) {
  Row row;
  row.reserve(columns.size());
  for (ULONG tag : columns) {
    if (tag == PR_NULL) {
      row.push_back(PropValue{});
      continue;
    }
    const PropValue* value = props.Find(tag);
    row.push_back(value != nullptr ? *value : NotFoundValue(tag));
  }
  return row;
}

int Store::Impl::ScopeDepthLocked(const TableViewState& view,
                                  ObjectNumber number) const {
  if (!view.hierarchy) {
    auto message = messages_.find(number);
    return message != messages_.end() && message->second.parent == view.folder
               ? 1
               : 0;
  }
  auto folder = folders_.find(number);
  if (folder == folders_.end() || number == view.folder) return 0;
  int depth = 1;
  for (ObjectNumber p = folder->second.parent; p != 0;
       p = FolderLocked(p).parent, ++depth) {
    if (p == view.folder) return depth;
    if (!view.convenient_depth) return 0;
  }
  return 0;
}

std::vector<std::pair<ObjectNumber, int>> Store::Impl::ScopeLocked(
    const TableViewState& view) const {
  std::vector<std::pair<ObjectNumber, int>> scope;
  const Folder& folder = FolderLocked(view.folder);
  if (!view.hierarchy) {
    for (ObjectNumber m : folder.messages) scope.emplace_back(m, 1);
    return scope;
  }
  std::vector<std::pair<ObjectNumber, int>> stack;
  for (ObjectNumber child : folder.subfolders) stack.emplace_back(child, 1);
  while (!stack.empty()) {
    const auto [number, depth] = stack.back();
    stack.pop_back();
    scope.emplace_back(number, depth);
    if (!view.convenient_depth) continue;
    for (ObjectNumber child : FolderLocked(number).subfolders) {
      stack.emplace_back(child, depth + 1);
    }
  }
  return scope;
}

RowProps Store::Impl::RowPropsLocked(const TableViewState& view,
                                     ObjectNumber number, int depth,
                                     PropsCache* cache) const {
  auto cached = cache->find(number);
  if (cached == cache->end()) {
    PropertyBag bag =
        view.hierarchy
            ? FolderViewLocked(number)
            : MessageViewLocked(number, messages_.at(number), /*saved=*/true);
    cached = cache->emplace(number, std::move(bag)).first;
  }
  RowProps props;
  props.object = &cached->second;
  props.instance_key = InstanceKey(number);
  if (view.hierarchy) props.depth = PropValue{PR_DEPTH, int32_t{depth}};
  return props;
}

std::optional<TableRow> Store::Impl::MakeRowLocked(const TableViewState& view,
                                                   const SortOrderSet& sort,
                                                   ObjectNumber number,
                                                   int depth,
                                                   PropsCache* cache) const {
  const RowProps props = RowPropsLocked(view, number, depth, cache);
  if (view.restriction.has_value() &&
      !MatchesRestriction(*view.restriction,
                          [&props](ULONG tag) { return props.Find(tag); })) {
    return std::nullopt;
  }
  TableRow row;
  row.key = number;
  row.sort_values.reserve(sort.size());
  for (const SortOrder& key : sort) {
    const PropValue* value = props.Find(key.tag);
    row.sort_values.push_back(value != nullptr ? std::optional(*value)
                                               : std::nullopt);
  }
  row.columns = ProjectColumns(props, view.columns);
  return row;
}

void Store::Impl::ReloadViewLocked(TableViewState* view, SortOrderSet sort) {
  PropsCache cache;
  std::vector<TableRow> rows;
  for (const auto& [number, depth] : ScopeLocked(*view)) {
    std::optional<TableRow> row =
        MakeRowLocked(*view, sort, number, depth, &cache);
    if (row.has_value()) rows.push_back(std::move(*row));
  }
  view->table.Reset(std::move(sort), std::move(rows));
}

void Store::Impl::AddTableEventsLocked(NotificationBatch* batch) {
  if (views_.empty() || batch->empty()) return;
  // The objects the operation touched, in the order its notifications name
  // them (deleted ones still decode to their numbers).
  std::vector<ObjectNumber> touched;
  absl::flat_hash_set<ObjectNumber> seen;
  const auto touch = [&](ObjectNumber number) {
    if (seen.insert(number).second) touched.push_back(number);
  };
  for (const PublishItem& item : batch->items()) {
    if (!item.notification.has_object()) continue;
    const v1::ObjectNotification& object = item.notification.object();
    for (const std::string* id : {&object.entry_id(), &object.parent_id(),
                                  &object.old_id(), &object.old_parent_id()}) {
      if (id->empty()) continue;
      absl::StatusOr<ObjectNumber> number = codec_.Decode(*id);
      if (number.ok()) touch(*number);
    }
    // A moved folder takes its subtree along: depths change, and a
    // CONVENIENT_DEPTH view gains or loses all of it.
    if (item.notification.event_type() == v1::fnevObjectMoved &&
        object.object_type() == MAPI_FOLDER) {
      absl::StatusOr<ObjectNumber> number = codec_.Decode(object.entry_id());
      if (number.ok() && folders_.count(*number) != 0) {
        for (ObjectNumber n : SubtreeLocked(*number)) touch(n);
      }
    }
  }
  if (touched.empty()) return;

  PropsCache cache;
  for (auto& [id, view] : views_) {
    if (view.folder_deleted) continue;
    std::vector<RowEvent> events;
    if (folders_.count(view.folder) == 0) {
      view.folder_deleted = true;
      while (view.table.size() > 0) {
        events.push_back(view.table.Remove(view.table.rows().front().key));
      }
    } else {
      for (ObjectNumber number : touched) {
        const int depth = ScopeDepthLocked(view, number);
        std::optional<TableRow> row;
        if (depth > 0) {
          row = MakeRowLocked(view, view.table.sort(), number, depth, &cache);
        }
        RowEvent event = row.has_value() ? view.table.Upsert(std::move(*row))
                                         : view.table.Remove(number);
        if (event.event != 0) events.push_back(std::move(event));
      }
    }
    AddViewEvents(id, std::move(events), batch);
  }
}

}  // namespace mapinotify::server::store
