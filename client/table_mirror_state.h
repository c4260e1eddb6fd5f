// MirrorState: the rows of a TableMirror and the rules that keep them equal
// to the view from table notifications (mapinotify/table_mirror.h). No I/O
// and no threads: the owner loads snapshots and feeds notifications in
// delivery order, and reloads when Apply asks for it.
//
// Thread-compatible.
#ifndef MAPINOTIFY_CLIENT_TABLE_MIRROR_STATE_H_
#define MAPINOTIFY_CLIENT_TABLE_MIRROR_STATE_H_

#include <cstddef>
#include <cstdint>
#include <list>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "mapinotify/notification.h"

namespace mapinotify::internal {

class MirrorState {
 public:
  enum class Outcome {
    kApplied,      // The copy changed (or stayed) as the notification says.
    kSkipped,      // Already shown by the last load (sequence at or below).
    kNeedsReload,  // Read the view again: asked for, or did not fit.
  };

  // Replaces the copy with a snapshot of the view taken at `sequence`.
  // InvalidArgument (MAPI_E_INVALID_PARAMETER) when `columns` lacks
  // PR_INSTANCE_KEY or a row is not as wide as `columns` or lacks a binary
  // instance key, or two rows share one; the copy is then unchanged.
  absl::Status Load(std::vector<ULONG> columns, std::vector<Row> rows,
                    uint64_t sequence);

  // Applies one delivered notification (`sequence` 0: the library's resync
  // signal). Before the first Load every notification needs a reload.
  //   sequence != 0 and <= sequence(): kSkipped.
  //   TABLE_ROW_ADDED: inserts the row right after `prior_key` (first when
  //     its tag is PR_NULL). TABLE_ROW_MODIFIED: removes the row and inserts
  //     it likewise. TABLE_ROW_DELETED: removes it.
  //   TABLE_CHANGED, TABLE_RELOAD, TABLE_SORT_DONE, TABLE_RESTRICT_DONE,
  //     TABLE_SETCOL_DONE, TABLE_ERROR, the resync signal: kNeedsReload.
  //   A row event that does not fit (see TableMirror::inconsistencies):
  //     kNeedsReload, counted, the copy unchanged.
  //   Anything else (not a table notification): kApplied, no change.
  // The mirror's sequence becomes max(sequence(), `sequence`) unless the
  // outcome is kNeedsReload.
  Outcome Apply(uint64_t sequence, const Notification& notification);

  bool loaded() const { return loaded_; }
  uint64_t sequence() const { return sequence_; }
  const std::vector<ULONG>& columns() const { return columns_; }
  std::vector<Row> rows() const;
  size_t size() const { return rows_.size(); }
  uint64_t inconsistencies() const { return inconsistencies_; }

 private:
  using RowList = std::list<Row>;

  // The instance key of `row` (its key column), or nullptr when that column
  // is not a PT_BINARY value.
  const std::string* KeyOf(const Row& row) const;
  // Inserts `row` (keyed `key`) after the row keyed by `prior`, or first
  // when `prior` is PR_NULL. False when `prior` is unknown.
  bool InsertAfter(const PropValue& prior, const std::string& key, Row row);
  Outcome Inconsistent() {
    ++inconsistencies_;
    return Outcome::kNeedsReload;
  }

  bool loaded_ = false;
  uint64_t sequence_ = 0;
  std::vector<ULONG> columns_;
  size_t key_column_ = 0;
  RowList rows_;
  absl::flat_hash_map<std::string, RowList::iterator> index_;
  uint64_t inconsistencies_ = 0;
};

}  // namespace mapinotify::internal

#endif  // MAPINOTIFY_CLIENT_TABLE_MIRROR_STATE_H_
