#include "server/store/table_view.h"

#include <algorithm>
#include <utility>
#include <variant>

#include "mapinotify/status.h"
#include "server/store/restriction.h"

namespace mapinotify::server::store {

namespace {

// The content bytes of a value on the wire, plus kWireBytesPerElement for
// each element of a multi-valued one (see RowByteSize).
struct WireContent {
  size_t operator()(const std::string& s) const { return s.size(); }
  size_t operator()(const Binary& b) const { return b.bytes.size(); }
  size_t operator()(const Guid&) const { return 16; }
  template <typename T>
  size_t operator()(const std::vector<T>& values) const {
    size_t total = 0;
    for (const T& v : values) total += kWireBytesPerElement + (*this)(v);
    return total;
  }
  // Scalars: kWireBytesPerValue already covers a 10-byte varint.
  template <typename T>
  size_t operator()(const T&) const {
    return 0;
  }
};

}  // namespace

size_t RowByteSize(const Row& row) {
  size_t total = 0;
  for (const PropValue& value : row) {
    total += kWireBytesPerValue + std::visit(WireContent(), value.value);
  }
  return total;
}

namespace {

// Whether position `p` moves one further when a row is inserted at
// `position` among `size` rows: when the row it points at is now one
// further. The end (p == size) points at no row, so a row inserted at the
// end lands under it.
bool ShiftsOnInsert(size_t p, size_t position, size_t size) {
  return p > position || (p == position && p < size);
}

}  // namespace

TableView::TableView(SortOrderSet sort) : sort_(std::move(sort)) {}

bool TableView::Before(const std::vector<std::optional<PropValue>>& a_values,
                       uint64_t a_key,
                       const std::vector<std::optional<PropValue>>& b_values,
                       uint64_t b_key) const {
  for (size_t k = 0; k < sort_.size(); ++k) {
    const std::optional<PropValue>& a = a_values[k];
    const std::optional<PropValue>& b = b_values[k];
    int c = 0;
    if (!a.has_value() || !b.has_value()) {
      c = static_cast<int>(a.has_value()) - static_cast<int>(b.has_value());
    } else {
      c = CompareValues(*a, *b);
    }
    if (sort_[k].order == TABLE_SORT_DESCEND) c = -c;
    if (c != 0) return c < 0;
  }
  return a_key < b_key;
}

size_t TableView::LowerBound(
    const std::vector<std::optional<PropValue>>& values, uint64_t key) const {
  const auto it = std::lower_bound(
      rows_.begin(), rows_.end(), key, [&](const TableRow& row, uint64_t k) {
        return Before(row.sort_values, row.key, values, k);
      });
  return static_cast<size_t>(it - rows_.begin());
}

std::optional<uint64_t> TableView::KeyBefore(size_t position) const {
  if (position == 0) return std::nullopt;
  return rows_[position - 1].key;
}

void TableView::Reset(SortOrderSet sort, std::vector<TableRow> rows) {
  sort_ = std::move(sort);
  rows_ = std::move(rows);
  std::sort(rows_.begin(), rows_.end(),
            [this](const TableRow& a, const TableRow& b) {
              return Before(a.sort_values, a.key, b.sort_values, b.key);
            });
  sort_values_.clear();
  for (const TableRow& row : rows_) sort_values_[row.key] = row.sort_values;
  cursor_ = 0;
  bookmarks_.clear();
}

void TableView::SetColumnValues(absl::FunctionRef<Row(uint64_t key)> columns) {
  for (TableRow& row : rows_) row.columns = columns(row.key);
}

RowEvent TableView::Upsert(TableRow row) {
  RowEvent event;
  event.key = row.key;
  auto known = sort_values_.find(row.key);
  if (known == sort_values_.end()) {
    const size_t position = LowerBound(row.sort_values, row.key);
    sort_values_.emplace(row.key, row.sort_values);
    event.event = TABLE_ROW_ADDED;
    event.prior = KeyBefore(position);
    event.columns = row.columns;
    const size_t old_size = rows_.size();
    rows_.insert(rows_.begin() + position, std::move(row));
    const auto shift = [position, old_size](size_t* p) {
      if (ShiftsOnInsert(*p, position, old_size)) ++*p;
    };
    shift(&cursor_);
    for (auto& [id, mark] : bookmarks_) shift(&mark.position);
    return event;
  }

  const size_t from = LowerBound(known->second, row.key);
  const std::optional<uint64_t> old_prior = KeyBefore(from);
  const bool columns_changed = rows_[from].columns != row.columns;
  known->second = row.sort_values;
  const bool stays =
      (from == 0 || Before(rows_[from - 1].sort_values, rows_[from - 1].key,
                           row.sort_values, row.key)) &&
      (from + 1 == rows_.size() ||
       Before(row.sort_values, row.key, rows_[from + 1].sort_values,
              rows_[from + 1].key));
  size_t to = from;
  if (!stays) {
    rows_.erase(rows_.begin() + from);
    to = LowerBound(row.sort_values, row.key);
    const size_t old_size = rows_.size();
    rows_.insert(rows_.begin() + to, TableRow());
    // Positions on the moved row follow it to `to`; the others see a
    // removal at `from`, then an insertion at `to`.
    const auto follow = [from, to, old_size](size_t* p) {
      if (*p == from) {
        *p = to;
        return;
      }
      if (*p > from) --*p;
      if (ShiftsOnInsert(*p, to, old_size)) ++*p;
    };
    follow(&cursor_);
    for (auto& [id, mark] : bookmarks_) follow(&mark.position);
  }
  event.prior = KeyBefore(to);
  rows_[to] = std::move(row);
  if (!columns_changed && event.prior == old_prior) return RowEvent();
  event.event = TABLE_ROW_MODIFIED;
  event.columns = rows_[to].columns;
  return event;
}

RowEvent TableView::Remove(uint64_t key) {
  auto known = sort_values_.find(key);
  if (known == sort_values_.end()) return RowEvent();
  const size_t position = LowerBound(known->second, key);
  rows_.erase(rows_.begin() + position);
  sort_values_.erase(known);
  // Positions after the row shift back; those on it now point at the row
  // that followed it.
  if (cursor_ > position) --cursor_;
  for (auto& [id, mark] : bookmarks_) {
    if (mark.position > position) {
      --mark.position;
    } else if (mark.position == position) {
      mark.moved = true;
    }
  }
  RowEvent event;
  event.event = TABLE_ROW_DELETED;
  event.key = key;
  return event;
}

std::vector<Row> TableView::QueryRows(int64_t count, bool advance,
                                      size_t max_rows, size_t max_bytes) {
  std::vector<Row> out;
  size_t bytes = 0;
  // Takes row `i` unless the byte budget is spent (the first row always).
  const auto take = [&](size_t i) {
    const size_t size = RowByteSize(rows_[i].columns);
    if (!out.empty() && bytes + size > max_bytes) return false;
    bytes += size;
    out.push_back(rows_[i].columns);
    return true;
  };
  if (count > 0) {
    const size_t want =
        std::min<uint64_t>(static_cast<uint64_t>(count), max_rows);
    const size_t end = std::min(rows_.size(), cursor_ + want);
    for (size_t i = cursor_; i < end && take(i);) ++i;
    if (advance) cursor_ += out.size();
    return out;
  }
  const size_t want = std::min<uint64_t>(
      std::min<uint64_t>(static_cast<uint64_t>(-count), max_rows), cursor_);
  for (size_t i = cursor_; i > cursor_ - want && take(i - 1);) --i;
  std::reverse(out.begin(), out.end());
  cursor_ -= out.size();
  return out;
}

absl::StatusOr<size_t> TableView::OriginPosition(BOOKMARK origin,
                                                 SCODE* warning) {
  if (warning != nullptr) *warning = S_OK;
  switch (origin) {
    case BOOKMARK_BEGINNING:
      return 0;
    case BOOKMARK_CURRENT:
      return cursor_;
    case BOOKMARK_END:
      return rows_.size();
    default:
      break;
  }
  auto it = bookmarks_.find(origin);
  if (it == bookmarks_.end()) {
    return MapiError(MAPI_E_INVALID_BOOKMARK,
                     "unknown bookmark (never created, freed, or discarded "
                     "by Restrict / SortTable)");
  }
  if (it->second.moved && warning != nullptr) {
    *warning = MAPI_W_POSITION_CHANGED;
  }
  it->second.moved = false;
  return it->second.position;
}

absl::StatusOr<LONG> TableView::SeekRow(BOOKMARK origin, LONG count,
                                        SCODE* warning) {
  absl::StatusOr<size_t> from = OriginPosition(origin, warning);
  if (!from.ok()) return from.status();
  const int64_t target =
      std::clamp<int64_t>(static_cast<int64_t>(*from) + count, 0,
                          static_cast<int64_t>(rows_.size()));
  cursor_ = static_cast<size_t>(target);
  return static_cast<LONG>(target - static_cast<int64_t>(*from));
}

absl::Status TableView::FindRow(BOOKMARK origin, bool backward,
                                absl::FunctionRef<bool(const TableRow&)> match,
                                SCODE* warning) {
  absl::StatusOr<size_t> from = OriginPosition(origin, warning);
  if (!from.ok()) return from.status();
  if (backward) {
    for (size_t i = *from; i > 0; --i) {
      if (match(rows_[i - 1])) {
        cursor_ = i - 1;
        return absl::OkStatus();
      }
    }
  } else {
    for (size_t i = *from; i < rows_.size(); ++i) {
      if (match(rows_[i])) {
        cursor_ = i;
        return absl::OkStatus();
      }
    }
  }
  return MapiError(MAPI_E_NOT_FOUND, "FindRow: no row matches");
}

TablePosition TableView::QueryPosition() const {
  TablePosition position;
  position.row = static_cast<ULONG>(cursor_);
  position.numerator = static_cast<ULONG>(cursor_);
  position.denominator = static_cast<ULONG>(rows_.size());
  return position;
}

absl::StatusOr<BOOKMARK> TableView::CreateBookmark(size_t max_bookmarks) {
  if (bookmarks_.size() >= max_bookmarks) {
    return MapiError(MAPI_E_UNABLE_TO_COMPLETE,
                     "the view already holds the most bookmarks it may");
  }
  while (next_bookmark_ <= BOOKMARK_END ||
         bookmarks_.contains(next_bookmark_)) {
    ++next_bookmark_;  // Only after 2^32 bookmarks.
  }
  const BOOKMARK bookmark = next_bookmark_++;
  bookmarks_[bookmark] = Mark{cursor_, false};
  return bookmark;
}

absl::Status TableView::FreeBookmark(BOOKMARK bookmark) {
  if (bookmark <= BOOKMARK_END) return absl::OkStatus();
  if (bookmarks_.erase(bookmark) == 0) {
    return MapiError(MAPI_E_INVALID_BOOKMARK, "FreeBookmark: unknown bookmark");
  }
  return absl::OkStatus();
}

}  // namespace mapinotify::server::store
