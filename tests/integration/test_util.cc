#include "tests/integration/test_util.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/hub/target_key.h"

namespace mapinotify::testing {

namespace store = server::store;

std::unique_ptr<server::Server> StartServer(server::ServerOptions options) {
  options.address = "127.0.0.1:0";
  auto server = server::Server::Start(std::move(options));
  if (!server.ok()) {
    std::fprintf(stderr, "cannot start the test server: %s\n",
                 server.status().ToString().c_str());
    std::abort();
  }
  return *std::move(server);
}

EntryId MakeFolder(server::Server* server, const std::string& name) {
  store::Store* store = server->store();
  absl::StatusOr<EntryId> id = store->CreateFolder(
      store->ipm_subtree_id(), name, /*comment=*/"", OPEN_IF_EXISTS);
  if (!id.ok()) {
    std::fprintf(stderr, "MakeFolder(%s): %s\n", name.c_str(),
                 id.status().ToString().c_str());
    std::abort();
  }
  return *std::move(id);
}

server::PublishItem ObjectModified(const std::string& folder, uint64_t index) {
  server::PublishItem item;
  item.notification.set_event_type(v1::fnevObjectModified);
  v1::ObjectNotification* object = item.notification.mutable_object();
  object->set_entry_id(absl::StrCat("msg-", index));
  object->set_object_type(MAPI_MESSAGE);
  object->set_parent_id(folder);
  object->add_prop_tags(PR_SUBJECT);
  item.targets.push_back(server::EntryTargetKey(folder));
  return item;
}

uint64_t PublishMany(server::Hub* hub, const std::string& folder,
                     uint64_t count, uint64_t first_index) {
  uint64_t last = 0;
  for (uint64_t i = 0; i < count; ++i) {
    std::vector<server::PublishItem> items;
    items.push_back(ObjectModified(folder, first_index + i));
    last = hub->Publish(std::move(items));
  }
  return last;
}

void RecordingSink::OnNotify(const NotificationBatch& batch) {
  MessageLoop* quit = nullptr;
  {
    absl::MutexLock lock(&mu_);
    ++calls_;
    for (size_t i = 0; i < batch.size(); ++i) {
      seen_.push_back(Seen{batch.connection(), batch.sequence(i),
                           std::this_thread::get_id(),
                           batch.items()[i].notification, batch.size()});
    }
    if (quit_loop_ != nullptr && seen_.size() >= quit_at_) {
      quit = quit_loop_;
      quit_loop_ = nullptr;
    }
  }
  if (quit != nullptr) quit->Quit();
  if (hook_) hook_(batch);
}

void RecordingSink::QuitLoopAt(MessageLoop* loop, size_t n) {
  MessageLoop* quit = nullptr;
  {
    absl::MutexLock lock(&mu_);
    if (seen_.size() >= n) {
      quit = loop;
    } else {
      quit_loop_ = loop;
      quit_at_ = n;
    }
  }
  if (quit != nullptr) quit->Quit();
}

bool PumpUntilCount(MessageLoop& loop, RecordingSink& sink, size_t n,
                    absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  sink.QuitLoopAt(&loop, n);
  while (sink.count() < n && absl::Now() < deadline) {
    loop.RunFor(deadline - absl::Now());
  }
  return sink.count() >= n;
}

bool RecordingSink::WaitForCount(size_t n, absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  struct Args {
    RecordingSink* sink;
    size_t n;
  } args{this, n};
  return mu_.AwaitWithTimeout(
      absl::Condition(
          +[](Args* a) ABSL_EXCLUSIVE_LOCKS_REQUIRED(a->sink->mu_) {
            return a->sink->seen_.size() >= a->n;
          },
          &args),
      timeout);
}

size_t RecordingSink::count() const {
  absl::MutexLock lock(&mu_);
  return seen_.size();
}

size_t RecordingSink::calls() const {
  absl::MutexLock lock(&mu_);
  return calls_;
}

std::vector<Seen> RecordingSink::seen() const {
  absl::MutexLock lock(&mu_);
  return seen_;
}

void CountingSink::OnNotify(const NotificationBatch& batch) {
  absl::MutexLock lock(&mu_);
  count_ += batch.size();
}

bool CountingSink::WaitForCount(uint64_t n, absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  struct Args {
    CountingSink* sink;
    uint64_t n;
  } args{this, n};
  return mu_.AwaitWithTimeout(
      absl::Condition(
          +[](Args* a) ABSL_EXCLUSIVE_LOCKS_REQUIRED(a->sink->mu_) {
            return a->sink->count_ >= a->n;
          },
          &args),
      timeout);
}

uint64_t CountingSink::count() const {
  absl::MutexLock lock(&mu_);
  return count_;
}

LoopThread::LoopThread() {
  thread_ = std::thread([this] {
    MessageLoop loop;
    loop_ = &loop;
    id_ = std::this_thread::get_id();
    ready_.Notify();
    loop.Run();
  });
  ready_.WaitForNotification();
}

LoopThread::~LoopThread() {
  loop_->Quit();
  thread_.join();
}

void LoopThread::RunSync(std::function<void()> fn) {
  absl::Notification done;
  absl::Status posted = loop_->PostTask([&] {
    fn();
    done.Notify();
  });
  if (!posted.ok()) {
    std::fprintf(stderr, "LoopThread::RunSync: %s\n",
                 posted.ToString().c_str());
    std::abort();
  }
  done.WaitForNotification();
}

bool IsLostSignal(const Notification& n) {
  return n.event_type == fnevCriticalError && n.error() != nullptr &&
         n.error()->scode == MAPI_E_NOTIFICATIONS_LOST;
}

size_t CurrentRssBytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long size = 0, resident = 0;
  const int read = std::fscanf(f, "%lu %lu", &size, &resident);
  std::fclose(f);
  if (read != 2) return 0;
  return static_cast<size_t>(resident) *
         static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

}  // namespace mapinotify::testing
