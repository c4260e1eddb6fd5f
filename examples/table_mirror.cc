// table_mirror: a view of a folder, restricted and sorted, kept live on the
// client by a TableMirror — opens the contents table of a folder, shows
// only unread messages sorted by subject, loads a mirror of it, then saves
// messages through a second session and prints the mirror after each
// change, without ever re-reading the view (the loads count stays at 1).
//
//   table_mirror [--address=127.0.0.1:50051]
#include "mapinotify/table_mirror.h"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "mapinotify/session.h"
#include "mapinotify/status.h"
#include "mapinotify/store.h"
#include "mapinotify/table.h"

ABSL_FLAG(std::string, address, "127.0.0.1:50051", "mapinotifyd to use");

namespace {

int Fail(const char* what, const absl::Status& status) {
  std::fprintf(stderr, "%s: %s (scode 0x%08x)\n", what,
               status.ToString().c_str(),
               static_cast<unsigned>(mapinotify::ScodeOf(status)));
  return EXIT_FAILURE;
}

// Counts the mirror's changes so that main can wait for them.
class Changes {
 public:
  void Add() {
    absl::MutexLock lock(&mu_);
    ++count_;
  }
  bool WaitFor(int n, absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto enough = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return count_ >= n;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), timeout);
  }

 private:
  absl::Mutex mu_;
  int count_ ABSL_GUARDED_BY(mu_) = 0;
};

void Print(const mapinotify::TableMirror& mirror) {
  std::printf("  mirror (%llu load%s):\n",
              static_cast<unsigned long long>(mirror.loads()),
              mirror.loads() == 1 ? "" : "s");
  for (const mapinotify::Row& row : mirror.rows()) {
    // Columns: PR_INSTANCE_KEY, PR_SUBJECT, PR_MESSAGE_FLAGS.
    const auto* subject = std::get_if<std::string>(&row[1].value);
    std::printf("    %s\n", subject ? subject->c_str() : "(no subject)");
  }
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  using namespace mapinotify;  // MAPI names read as in MAPI code.

  // The watcher: its sinks (and so the mirror's) run on the library's
  // notification thread.
  auto watcher = Session::Open(absl::GetFlag(FLAGS_address));
  if (!watcher.ok()) return Fail("Session::Open", watcher.status());
  auto store = (*watcher)->OpenMsgStore();
  if (!store.ok()) return Fail("OpenMsgStore", store.status());
  auto folder = (*store)->CreateFolder((*store)->ipm_subtree_id(),
                                       "Mirror demo", "", OPEN_IF_EXISTS);
  if (!folder.ok()) return Fail("CreateFolder", folder.status());

  // A view: unread messages, by subject.
  auto table = (*store)->OpenContentsTable(*folder);
  if (!table.ok()) return Fail("OpenContentsTable", table.status());
  absl::Status status =
      (*table)->SetColumns({PR_INSTANCE_KEY, PR_SUBJECT, PR_MESSAGE_FLAGS});
  if (!status.ok()) return Fail("SetColumns", status);
  status = (*table)->Restrict(
      Restriction::Bitmask(BMR_EQZ, PR_MESSAGE_FLAGS, MSGFLAG_READ));
  if (!status.ok()) return Fail("Restrict", status);
  status = (*table)->SortTable({{PR_SUBJECT, TABLE_SORT_ASCEND}});
  if (!status.ok()) return Fail("SortTable", status);

  // The mirror: loaded once, then kept from table notifications.
  Changes changes;
  TableMirror::Options options;
  options.on_change = [&changes] { changes.Add(); };
  auto mirror = TableMirror::Create(watcher->get(), table->get(), options);
  if (!mirror.ok()) return Fail("TableMirror::Create", mirror.status());
  std::printf("loaded %zu rows\n", (*mirror)->rows().size());

  // Another session changes the folder.
  auto actor = Session::Open(absl::GetFlag(FLAGS_address));
  if (!actor.ok()) return Fail("Session::Open", actor.status());
  auto actor_store = (*actor)->OpenMsgStore();
  if (!actor_store.ok()) return Fail("OpenMsgStore", actor_store.status());
  int expected = 0;
  for (const char* subject : {"pear", "apple", "quince", "fig"}) {
    auto message = (*actor_store)->CreateMessage(*folder, 0);
    if (!message.ok()) return Fail("CreateMessage", message.status());
    // Unread, so that it is inside the view's restriction.
    auto problems = (*message)->SetProps(
        {{PR_SUBJECT, std::string(subject)}, {PR_MESSAGE_FLAGS, int32_t{0}}});
    if (!problems.ok()) return Fail("SetProps", problems.status());
    auto saved = (*message)->SaveChanges(0);
    if (!saved.ok()) return Fail("SaveChanges", saved.status());
    if (!changes.WaitFor(++expected, absl::Seconds(10))) {
      return Fail("waiting for the mirror", absl::DeadlineExceededError(""));
    }
    std::printf("saved '%s'\n", subject);
    Print(**mirror);
  }
  // Marking every message read empties the view (four rows leave it).
  status = (*actor_store)->SetReadFlags(*folder, {}, 0);
  if (!status.ok()) return Fail("SetReadFlags", status);
  if (!changes.WaitFor(++expected, absl::Seconds(10))) {
    return Fail("waiting for the mirror", absl::DeadlineExceededError(""));
  }
  std::printf("marked all read\n");
  Print(**mirror);
  return EXIT_SUCCESS;
}
