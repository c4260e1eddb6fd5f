// TableMirror (mapinotify/table_mirror.h): a MirrorState fed by an advise
// sink, reloading through Table::QueryAllRows.
//
// Locking: mu_ guards the state. It is never held across a server call or
// while on_change runs. A load's snapshot replaces the state only when it is
// at least as new as what the state already shows, so a load racing with
// the sink (the first load in Create, while the sink may already reload)
// never moves the copy backwards.
#include "mapinotify/table_mirror.h"

#include <memory>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "client/table_mirror_state.h"
#include "mapinotify/session.h"
#include "mapinotify/table.h"

namespace mapinotify {

class TableMirror::Impl {
 public:
  Impl(Table* table, Options options)
      : table_(table), options_(std::move(options)) {}

  // Reads the view and installs the snapshot if it is not older than the
  // state. Returns the load's status (also kept for status()).
  absl::Status Load() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::StatusOr<TableSnapshot> snapshot =
        table_->QueryAllRows(options_.max_rows);
    absl::MutexLock lock(&mu_);
    if (!snapshot.ok()) {
      status_ = snapshot.status();
      return status_;
    }
    if (state_.loaded() && snapshot->sequence < state_.sequence()) {
      return absl::OkStatus();  // A newer load or notification got there.
    }
    status_ = state_.Load(std::move(snapshot->columns),
                          std::move(snapshot->rows), snapshot->sequence);
    if (status_.ok()) ++loads_;
    return status_;
  }

  // The sink's work: applies `batch` in order, reloading where asked.
  void OnBatch(const NotificationBatch& batch) ABSL_LOCKS_EXCLUDED(mu_) {
    for (size_t i = 0; i < batch.size(); ++i) {
      internal::MirrorState::Outcome outcome;
      {
        absl::MutexLock lock(&mu_);
        outcome = state_.Apply(batch.sequence(i), batch[i]);
      }
      // The snapshot is at least as new as this notification, so the rest
      // of the batch is skipped where the snapshot already shows it.
      if (outcome == internal::MirrorState::Outcome::kNeedsReload) {
        Load().IgnoreError();  // Kept in status(); the next one retries.
      }
    }
    if (options_.on_change) options_.on_change();
  }

  std::vector<Row> rows() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return state_.rows();
  }
  std::vector<ULONG> columns() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return state_.columns();
  }
  uint64_t loads() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return loads_;
  }
  uint64_t sequence() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return state_.sequence();
  }
  uint64_t inconsistencies() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return state_.inconsistencies();
  }
  absl::Status status() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return status_;
  }

  Session* session = nullptr;
  ConnectionId connection = 0;

 private:
  Table* const table_;
  const Options options_;

  mutable absl::Mutex mu_;
  internal::MirrorState state_ ABSL_GUARDED_BY(mu_);
  uint64_t loads_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
};

namespace {

// Calls the mirror; valid until Unadvise of its connection returns (the
// session's fence), which ~TableMirror does before the Impl goes away.
class MirrorSink : public AdviseSink {
 public:
  explicit MirrorSink(TableMirror::Impl* impl) : impl_(impl) {}
  void OnNotify(const NotificationBatch& batch) override {
    impl_->OnBatch(batch);
  }

 private:
  TableMirror::Impl* const impl_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<TableMirror>> TableMirror::Create(
    Session* session, Table* table, Options options) {
  if (session == nullptr || table == nullptr) {
    return absl::InvalidArgumentError("TableMirror: null session or table");
  }
  auto impl = std::make_shared<Impl>(table, std::move(options));
  // Advise first, then load: every change after the load's snapshot is
  // then sure to arrive as a notification.
  absl::StatusOr<ConnectionId> connection = session->Advise(
      AdviseTarget::TableView(table->view_id()), fnevTableModified,
      std::make_shared<MirrorSink>(impl.get()));
  if (!connection.ok()) return connection.status();
  impl->session = session;
  impl->connection = *connection;
  std::unique_ptr<TableMirror> mirror(new TableMirror(impl));
  absl::Status loaded = impl->Load();
  if (!loaded.ok()) return loaded;  // ~TableMirror unadvises.
  return mirror;
}

TableMirror::TableMirror(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

TableMirror::~TableMirror() {
  impl_->session->Unadvise(impl_->connection).IgnoreError();
}

std::vector<Row> TableMirror::rows() const { return impl_->rows(); }
std::vector<ULONG> TableMirror::columns() const { return impl_->columns(); }
uint64_t TableMirror::loads() const { return impl_->loads(); }
uint64_t TableMirror::sequence() const { return impl_->sequence(); }
uint64_t TableMirror::inconsistencies() const {
  return impl_->inconsistencies();
}
absl::Status TableMirror::status() const { return impl_->status(); }

}  // namespace mapinotify
