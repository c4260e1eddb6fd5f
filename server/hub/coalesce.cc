#include "server/hub/coalesce.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "server/hub/target_key.h"

namespace mapinotify::server {
namespace {

bool IsObject(const Event& e) { return e.notification().has_object(); }

bool IsObjectModified(const Event& e) {
  return e.notification().event_type() == v1::fnevObjectModified && IsObject(e);
}

// The view a table notification is about (its table target), or "".
TargetKey ViewOf(const Event& e) {
  if (!e.notification().has_table()) return {};
  for (const TargetKey& target : e.targets()) {
    if (GetTargetKind(target) == TargetKind::kTable) return target;
  }
  return {};
}

bool IsRowEvent(const Event& e) {
  if (!e.notification().has_table()) return false;
  const v1::TableEvent t = e.notification().table().table_event();
  return t == v1::TABLE_ROW_ADDED || t == v1::TABLE_ROW_MODIFIED ||
         t == v1::TABLE_ROW_DELETED;
}

bool IsRowModified(const Event& e) {
  return e.notification().has_table() &&
         e.notification().table().table_event() == v1::TABLE_ROW_MODIFIED;
}

std::string RowKey(const Event& e) {
  return e.notification().table().index_key().SerializeAsString();
}

// `later` with the union of its and `earlier`'s property tags.
v1::Notification MergedTags(const v1::Notification& earlier,
                            const v1::Notification& later) {
  v1::Notification merged = later;
  auto* tags = merged.mutable_object()->mutable_prop_tags();
  for (uint32_t tag : earlier.object().prop_tags()) {
    if (std::find(tags->begin(), tags->end(), tag) == tags->end()) {
      tags->Add(tag);
    }
  }
  return merged;
}

}  // namespace

size_t Coalesce(std::vector<WindowItem>* window) {
  std::vector<WindowItem>& items = *window;
  std::vector<bool> dropped(items.size(), false);
  // The latest item about an entry id / of a view, by index.
  absl::flat_hash_map<std::string, size_t> last_about_entry;
  absl::flat_hash_map<TargetKey, size_t> last_of_view;
  size_t left_out = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    const Event& e = *items[i].event;
    if (IsObject(e)) {
      // Copies: items[i].event (and `e`) may be replaced below.
      const std::string entry_id = e.notification().object().entry_id();
      const std::string old_id = e.notification().object().old_id();
      if (IsObjectModified(e)) {
        auto it = last_about_entry.find(entry_id);
        if (it != last_about_entry.end() && !dropped[it->second] &&
            IsObjectModified(*items[it->second].event) &&
            items[it->second].connections == items[i].connections) {
          WindowItem& earlier = items[it->second];
          items[i].event = Event::Replacing(
              e, MergedTags(earlier.event->notification(), e.notification()));
          dropped[it->second] = true;
          ++left_out;
        }
      }
      last_about_entry[entry_id] = i;
      if (!old_id.empty()) last_about_entry[old_id] = i;
      continue;
    }
    const TargetKey view = ViewOf(e);
    if (view.empty()) continue;
    if (IsRowModified(e)) {
      auto it = last_of_view.find(view);
      if (it != last_of_view.end() && !dropped[it->second] &&
          IsRowModified(*items[it->second].event) &&
          RowKey(*items[it->second].event) == RowKey(e) &&
          items[it->second].connections == items[i].connections) {
        dropped[it->second] = true;
        ++left_out;
      }
    }
    last_of_view[view] = i;
  }
  // Many row events of one view (same connections): one TABLE_CHANGED.
  absl::flat_hash_map<std::string, std::vector<size_t>> rows_of_view;
  for (size_t i = 0; i < items.size(); ++i) {
    if (dropped[i] || !IsRowEvent(*items[i].event)) continue;
    std::string key = ViewOf(*items[i].event);
    for (uint64_t c : items[i].connections) absl::StrAppend(&key, ",", c);
    rows_of_view[key].push_back(i);
  }
  for (const auto& [key, indexes] : rows_of_view) {
    if (indexes.size() <= kRowEventsPerView) continue;
    for (size_t k = 0; k + 1 < indexes.size(); ++k) dropped[indexes[k]] = true;
    left_out += indexes.size() - 1;
    WindowItem& last = items[indexes.back()];
    v1::Notification changed;
    changed.set_event_type(v1::fnevTableModified);
    changed.mutable_table()->set_table_event(v1::TABLE_CHANGED);
    last.event = Event::Replacing(*last.event, std::move(changed));
  }
  if (left_out == 0) return 0;
  size_t kept = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    if (!dropped[i]) items[kept++] = std::move(items[i]);
  }
  items.resize(kept);
  return left_out;
}

}  // namespace mapinotify::server
