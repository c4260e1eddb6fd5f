// store_session: a short session against mapinotifyd's built-in store —
// creates a folder, watches it, saves a message in it and prints the
// notifications that the save produced (fnevObjectCreated for the message,
// fnevObjectModified for the folder's PR_CONTENT_COUNT).
//
//   store_session [--address=127.0.0.1:50051]
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "mapinotify/advise_sink.h"
#include "mapinotify/session.h"
#include "mapinotify/status.h"
#include "mapinotify/store.h"

ABSL_FLAG(std::string, address, "127.0.0.1:50051", "mapinotifyd to use");

namespace {

// Prints each notification (on the library's notification thread) and
// counts them.
class PrintingSink : public mapinotify::AdviseSink {
 public:
  void OnNotify(const mapinotify::NotificationBatch& batch) override {
    for (size_t i = 0; i < batch.size(); ++i) {
      const mapinotify::Notification& n = batch[i];
      std::printf("seq %llu event 0x%x",
                  static_cast<unsigned long long>(batch.sequence(i)),
                  n.event_type);
      if (const mapinotify::ObjectNotification* o = n.object()) {
        std::printf(" object type %u, %zu changed tags", o->object_type,
                    o->prop_tags.size());
      }
      std::printf("\n");
    }
    absl::MutexLock lock(&mu_);
    count_ += batch.size();
  }

  // Waits until `n` notifications were printed; false after `timeout`.
  bool WaitFor(size_t n, absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto enough = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return count_ >= n;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), timeout);
  }

 private:
  absl::Mutex mu_;
  size_t count_ ABSL_GUARDED_BY(mu_) = 0;
};

int Fail(const char* what, const absl::Status& status) {
  std::fprintf(stderr, "%s: %s (scode 0x%08x)\n", what,
               status.ToString().c_str(),
               static_cast<unsigned>(mapinotify::ScodeOf(status)));
  return EXIT_FAILURE;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  using namespace mapinotify;  // MAPI names read as in MAPI code.

  auto session = Session::Open(absl::GetFlag(FLAGS_address));
  if (!session.ok()) return Fail("Session::Open", session.status());
  auto store = (*session)->OpenMsgStore();
  if (!store.ok()) return Fail("OpenMsgStore", store.status());

  auto folder = (*store)->CreateFolder((*store)->ipm_subtree_id(), "Demo",
                                       "made by store_session", OPEN_IF_EXISTS);
  if (!folder.ok()) return Fail("CreateFolder", folder.status());

  auto sink = std::make_shared<PrintingSink>();
  auto connection =
      (*session)->Advise(AdviseTarget::Entry(*folder),
                         fnevObjectCreated | fnevObjectModified, sink);
  if (!connection.ok()) return Fail("Advise", connection.status());

  auto message = (*store)->CreateMessage(*folder, 0);
  if (!message.ok()) return Fail("CreateMessage", message.status());
  auto problems = (*message)->SetProps(
      {{PR_SUBJECT, std::string("hello from mapinotify")}});
  if (!problems.ok()) return Fail("SetProps", problems.status());
  auto saved = (*message)->SaveChanges(KEEP_OPEN_READWRITE);
  if (!saved.ok()) return Fail("SaveChanges", saved.status());

  // The save's two notifications: the message created, the folder's count.
  if (!sink->WaitFor(2, absl::Seconds(10))) {
    std::fprintf(stderr, "the notifications did not arrive\n");
    return EXIT_FAILURE;
  }
  return EXIT_SUCCESS;
}
