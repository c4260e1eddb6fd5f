#include "client/table_mirror_state.h"

#include <algorithm>
#include <iterator>
#include <utility>
#include <variant>

#include "mapinotify/mapi.h"
#include "mapinotify/status.h"

namespace mapinotify::internal {

absl::Status MirrorState::Load(std::vector<ULONG> columns,
                               std::vector<Row> rows, uint64_t sequence) {
  const auto key_it =
      std::find(columns.begin(), columns.end(), PR_INSTANCE_KEY);
  if (key_it == columns.end()) {
    return MapiError(MAPI_E_INVALID_PARAMETER,
                     "the view's columns lack PR_INSTANCE_KEY");
  }
  const size_t key_column = static_cast<size_t>(key_it - columns.begin());
  RowList list;
  absl::flat_hash_map<std::string, RowList::iterator> index;
  index.reserve(rows.size());
  for (Row& row : rows) {
    if (row.size() != columns.size()) {
      return MapiError(MAPI_E_INVALID_PARAMETER,
                       "a row is not as wide as the view's columns");
    }
    const auto* key = std::get_if<Binary>(&row[key_column].value);
    if (row[key_column].tag != PR_INSTANCE_KEY || key == nullptr) {
      return MapiError(MAPI_E_INVALID_PARAMETER,
                       "a row lacks its PR_INSTANCE_KEY");
    }
    std::string bytes = key->bytes;
    list.push_back(std::move(row));
    if (!index.emplace(std::move(bytes), std::prev(list.end())).second) {
      return MapiError(MAPI_E_INVALID_PARAMETER,
                       "two rows share one PR_INSTANCE_KEY");
    }
  }
  columns_ = std::move(columns);
  key_column_ = key_column;
  rows_ = std::move(list);
  index_ = std::move(index);
  sequence_ = sequence;
  loaded_ = true;
  return absl::OkStatus();
}

const std::string* MirrorState::KeyOf(const Row& row) const {
  if (key_column_ >= row.size()) return nullptr;
  const auto* key = std::get_if<Binary>(&row[key_column_].value);
  return key == nullptr ? nullptr : &key->bytes;
}

bool MirrorState::InsertAfter(const PropValue& prior, const std::string& key,
                              Row row) {
  RowList::iterator position;
  if (prior.tag == PR_NULL) {
    position = rows_.begin();
  } else {
    const auto* prior_key = std::get_if<Binary>(&prior.value);
    if (prior_key == nullptr) return false;
    auto it = index_.find(prior_key->bytes);
    if (it == index_.end()) return false;
    position = std::next(it->second);
  }
  index_[key] = rows_.insert(position, std::move(row));
  return true;
}

MirrorState::Outcome MirrorState::Apply(uint64_t sequence,
                                        const Notification& notification) {
  const TableNotification* table = notification.table();
  if (table == nullptr) {
    if (sequence == 0) return Outcome::kNeedsReload;  // A resync signal.
    sequence_ = std::max(sequence_, sequence);
    return Outcome::kApplied;
  }
  if (!loaded_ || sequence == 0) return Outcome::kNeedsReload;
  if (sequence <= sequence_) return Outcome::kSkipped;

  switch (table->table_event) {
    case TABLE_ROW_ADDED:
    case TABLE_ROW_MODIFIED: {
      const auto* key = std::get_if<Binary>(&table->index_key.value);
      if (key == nullptr || table->row.size() != columns_.size()) {
        return Inconsistent();
      }
      const std::string* row_key = KeyOf(table->row);
      if (row_key == nullptr || *row_key != key->bytes) return Inconsistent();
      auto existing = index_.find(key->bytes);
      const bool added = table->table_event == TABLE_ROW_ADDED;
      if (added != (existing == index_.end())) return Inconsistent();
      // The prior must be known before anything moves (a row is never its
      // own prior).
      if (table->prior_key.tag != PR_NULL) {
        const auto* prior = std::get_if<Binary>(&table->prior_key.value);
        if (prior == nullptr || prior->bytes == key->bytes ||
            index_.find(prior->bytes) == index_.end()) {
          return Inconsistent();
        }
      }
      if (!added) {
        rows_.erase(existing->second);
        index_.erase(existing);
      }
      InsertAfter(table->prior_key, key->bytes, table->row);
      break;
    }
    case TABLE_ROW_DELETED: {
      const auto* key = std::get_if<Binary>(&table->index_key.value);
      if (key == nullptr) return Inconsistent();
      auto existing = index_.find(key->bytes);
      if (existing == index_.end()) return Inconsistent();
      rows_.erase(existing->second);
      index_.erase(existing);
      break;
    }
    case TABLE_CHANGED:
    case TABLE_RELOAD:
    case TABLE_SORT_DONE:
    case TABLE_RESTRICT_DONE:
    case TABLE_SETCOL_DONE:
    case TABLE_ERROR:
      return Outcome::kNeedsReload;
    default:
      return Inconsistent();  // An event this library does not know.
  }
  sequence_ = sequence;
  return Outcome::kApplied;
}

std::vector<Row> MirrorState::rows() const {
  return std::vector<Row>(rows_.begin(), rows_.end());
}

}  // namespace mapinotify::internal
