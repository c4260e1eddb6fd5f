// watch: prints the notifications of a mapinotifyd store, delivered on the
// thread that opened the session (kInitThread), as a MAPI client that called
// MAPIInitialize with no flags would receive them.
//
//   watch [--address=127.0.0.1:50051] [--count=N]
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "mapinotify/advise_sink.h"
#include "mapinotify/message_loop.h"
#include "mapinotify/session.h"

ABSL_FLAG(std::string, address, "127.0.0.1:50051", "mapinotifyd to watch");
ABSL_FLAG(int, count, 0, "exit after this many notifications (0: never)");

namespace {

// Runs on the opening thread, inside loop.Run().
class PrintingSink : public mapinotify::AdviseSink {
 public:
  PrintingSink(mapinotify::MessageLoop* loop, int count)
      : loop_(loop), remaining_(count) {}

  void OnNotify(const mapinotify::NotificationBatch& batch) override {
    for (size_t i = 0; i < batch.size(); ++i) {
      const mapinotify::Notification& n = batch[i];
      std::printf("connection %llu seq %llu event 0x%x",
                  static_cast<unsigned long long>(batch.connection()),
                  static_cast<unsigned long long>(batch.sequence(i)),
                  n.event_type);
      if (const auto* object = n.object()) {
        std::printf(" object type %u, %zu changed tags", object->object_type,
                    object->prop_tags.size());
      } else if (const auto* error = n.error()) {
        std::printf(" scode 0x%08x %s", static_cast<unsigned>(error->scode),
                    error->error_text.c_str());
      }
      std::printf("\n");
      if (remaining_ > 0 && --remaining_ == 0) loop_->Quit();
    }
    std::fflush(stdout);
  }

 private:
  mapinotify::MessageLoop* const loop_;
  int remaining_;
};

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  mapinotify::MessageLoop loop;  // This thread's loop: sinks run here.
  mapinotify::SessionOptions options;
  options.threading_model = mapinotify::ThreadingModel::kInitThread;
  auto session =
      mapinotify::Session::Open(absl::GetFlag(FLAGS_address), options);
  if (!session.ok()) {
    std::fprintf(stderr, "watch: %s\n", session.status().ToString().c_str());
    return EXIT_FAILURE;
  }
  auto sink = std::make_shared<PrintingSink>(&loop, absl::GetFlag(FLAGS_count));
  auto connection = (*session)->Advise(
      mapinotify::AdviseTarget::Store(),
      mapinotify::fnevObjectCreated | mapinotify::fnevObjectModified |
          mapinotify::fnevObjectDeleted | mapinotify::fnevNewMail,
      sink);
  if (!connection.ok()) {
    std::fprintf(stderr, "watch: %s\n", connection.status().ToString().c_str());
    return EXIT_FAILURE;
  }
  loop.Run();  // Until the sink quits it.
  return EXIT_SUCCESS;
}
