// Store.RunOperation on the raw generated stub, as a non-C++ or hostile
// client would call it: the protocol (start, progress batches, result,
// cancel), every malformed stream getting a clear error with its SCODE, a
// client that does not read never holding up the operation, and the bound
// on long operations in flight. The server is real (127.0.0.1), its store is
// also driven directly to set up and to check.
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "mapinotify/mapi.h"
#include "mapinotify/progress.h"
#include "mapinotify/session.h"
#include "mapinotify/store.h"
#include "mapinotify/v1/mapi.pb.h"
#include "mapinotify/v1/store.grpc.pb.h"
#include "server/store/store.h"
#include "tests/integration/test_util.h"

namespace mapinotify::testing {
namespace {

using Stream =
    grpc::ClientReaderWriter<v1::OperationRequest, v1::OperationResponse>;

constexpr char kSession[] = "00112233445566778899aabbccddeeff";
const server::store::CallContext kCaller{kSession, 1};

// A progress object for a direct store call that holds the store: its
// first Progress (made under the store's lock) signals `held` and waits for
// `release`.
class Holding : public BasicProgress {
 public:
  Holding(absl::Notification* held, absl::Notification* release)
      : held_(held), release_(release) {}
  SCODE OnProgress(ULONG, ULONG, ULONG) override {
    if (!held_->HasBeenNotified()) {
      held_->Notify();
      release_->WaitForNotification();
    }
    return S_OK;
  }

 private:
  absl::Notification* held_;
  absl::Notification* release_;
};

// What one call brought back.
struct Outcome {
  std::vector<v1::ProgressCall> calls;  // Every progress call, in order.
  size_t progress_messages = 0;
  bool has_result = false;
  v1::OperationResult result;
  grpc::Status status;
};

class OperationWire : public ::testing::Test {
 protected:
  void SetUp() override { Start({}); }

  void Start(server::ServerOptions options) {
    server_ = StartServer(std::move(options));
    channel_ = grpc::CreateChannel(server_->target(),
                                   grpc::InsecureChannelCredentials());
    stub_ = v1::Store::NewStub(channel_);
  }

  server::store::Store& store() { return *server_->store(); }

  // A new folder under the IPM subtree holding `n` saved messages.
  EntryId FolderWith(const std::string& name, size_t n,
                     std::vector<EntryId>* ids = nullptr) {
    auto folder = store().CreateFolder(store().ipm_subtree_id(), name, "", 0);
    EXPECT_TRUE(folder.ok()) << folder.status();
    for (size_t i = 0; i < n; ++i) {
      auto handle = store().CreateMessage(kCaller, *folder, 0);
      EXPECT_TRUE(handle.ok()) << handle.status();
      auto id = store().SaveChanges(kCaller, *handle, 0);
      EXPECT_TRUE(id.ok()) << id.status();
      if (ids != nullptr) ids->push_back(*id);
    }
    return *folder;
  }

  size_t Count(const EntryId& folder) {
    auto messages = store().ListMessages(folder);
    EXPECT_TRUE(messages.ok()) << messages.status();
    return messages.ok() ? messages->size() : 0;
  }

  std::unique_ptr<Stream> Open(grpc::ClientContext* context,
                               bool identify = true) {
    if (identify) {
      context->AddMetadata("mapinotify-session", kSession);
      context->AddMetadata("mapinotify-thread", "1");
    }
    return stub_->RunOperation(context);
  }

  static v1::OperationRequest CopyStart(const EntryId& source,
                                        const std::vector<EntryId>& ids,
                                        const EntryId& dest, bool progress,
                                        ULONG flags = 0) {
    v1::OperationRequest request;
    v1::CopyMessagesRequest* copy =
        request.mutable_start()->mutable_copy_messages();
    copy->set_source_folder_id(source);
    for (const EntryId& id : ids) copy->add_message_ids(id);
    copy->set_dest_folder_id(dest);
    copy->set_flags(flags);
    if (progress) {
      v1::ProgressLimits* limits = request.mutable_start()->mutable_progress();
      limits->set_flags(MAPI_TOP_LEVEL);
      limits->set_min(1);
      limits->set_max(1000);
    }
    return request;
  }

  static v1::OperationRequest Cancel() {
    v1::OperationRequest request;
    request.mutable_cancel();
    return request;
  }

  // Reads to the end of the stream.
  static Outcome ReadAll(Stream& stream) {
    Outcome out;
    v1::OperationResponse response;
    while (stream.Read(&response)) {
      if (response.has_progress()) {
        EXPECT_FALSE(out.has_result) << "progress after the result";
        EXPECT_GT(response.progress().calls_size(), 0);
        EXPECT_LE(response.progress().calls_size(), 16);
        ++out.progress_messages;
        for (const v1::ProgressCall& call : response.progress().calls()) {
          out.calls.push_back(call);
        }
      } else {
        EXPECT_TRUE(response.has_result());
        EXPECT_FALSE(out.has_result) << "two results";
        out.has_result = true;
        out.result = response.result();
      }
    }
    out.status = stream.Finish();
    return out;
  }

  static void ExpectWireError(const grpc::Status& status, grpc::StatusCode code,
                              SCODE scode) {
    EXPECT_EQ(status.error_code(), code) << status.error_message();
    EXPECT_FALSE(status.error_message().empty());
    v1::MapiError details;
    ASSERT_TRUE(details.ParseFromString(status.error_details()))
        << status.error_message();
    EXPECT_EQ(details.scode(), scode) << status.error_message();
  }

  // The Progress values of `calls`, in order.
  static std::vector<v1::ProgressValueCall> Values(
      const std::vector<v1::ProgressCall>& calls) {
    std::vector<v1::ProgressValueCall> out;
    for (const v1::ProgressCall& call : calls) {
      if (call.has_progress()) out.push_back(call.progress());
    }
    return out;
  }

  std::unique_ptr<server::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Store::Stub> stub_;
};

TEST_F(OperationWire, ProgressThenResultThenOk) {
  std::vector<EntryId> ids;
  EntryId source = FolderWith("Source", 50, &ids);
  EntryId dest = FolderWith("Dest", 0);
  grpc::ClientContext context;
  auto stream = Open(&context);
  ASSERT_TRUE(stream->Write(CopyStart(source, ids, dest, /*progress=*/true)));
  Outcome out = ReadAll(*stream);
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  ASSERT_TRUE(out.has_result);
  EXPECT_EQ(out.result.warning(), S_OK);
  EXPECT_EQ(Count(dest), 50u);
  // The store's first call is the global SetLimits; the values rise to
  // exactly the maximum, the last one "50 of 50".
  ASSERT_FALSE(out.calls.empty());
  ASSERT_TRUE(out.calls.front().has_set_limits());
  EXPECT_EQ(out.calls.front().set_limits().min(), 1u);
  EXPECT_EQ(out.calls.front().set_limits().max(), 1000u);
  EXPECT_EQ(out.calls.front().set_limits().flags(), MAPI_TOP_LEVEL);
  std::vector<v1::ProgressValueCall> values = Values(out.calls);
  ASSERT_FALSE(values.empty());
  for (size_t i = 1; i < values.size(); ++i) {
    EXPECT_GE(values[i].value(), values[i - 1].value());
    EXPECT_GT(values[i].count(), values[i - 1].count());
  }
  EXPECT_EQ(values.back().value(), 1000u);
  EXPECT_EQ(values.back().count(), 50u);
  EXPECT_EQ(values.back().total(), 50u);
}

TEST_F(OperationWire, WithoutProgressLimitsNoProgressIsSent) {
  std::vector<EntryId> ids;
  EntryId source = FolderWith("Source", 20, &ids);
  EntryId dest = FolderWith("Dest", 0);
  grpc::ClientContext context;
  auto stream = Open(&context);
  ASSERT_TRUE(stream->Write(
      CopyStart(source, ids, dest, /*progress=*/false, MESSAGE_MOVE)));
  Outcome out = ReadAll(*stream);
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  ASSERT_TRUE(out.has_result);
  EXPECT_EQ(out.progress_messages, 0u);
  EXPECT_EQ(Count(dest), 20u);
  EXPECT_EQ(Count(source), 0u);
}

TEST_F(OperationWire, CopyFolderAnswersTheCopysEntryId) {
  EntryId folder = FolderWith("Original", 3);
  EntryId dest = FolderWith("Parent", 0);
  v1::OperationRequest request;
  v1::CopyFolderRequest* copy = request.mutable_start()->mutable_copy_folder();
  copy->set_source_parent_id(store().ipm_subtree_id());
  copy->set_folder_id(folder);
  copy->set_dest_parent_id(dest);
  copy->set_new_name("Copy");
  grpc::ClientContext context;
  auto stream = Open(&context);
  ASSERT_TRUE(stream->Write(request));
  Outcome out = ReadAll(*stream);
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  ASSERT_TRUE(out.has_result);
  EXPECT_FALSE(out.result.entry_id().empty());
  EXPECT_EQ(Count(out.result.entry_id()), 3u);
}

TEST_F(OperationWire, CancelStopsAtTheNextItemWithPartialCompletion) {
  std::vector<EntryId> ids;
  EntryId source = FolderWith("Source", 2000, &ids);
  EntryId dest = FolderWith("Dest", 0);
  // The store is held (a direct call whose progress object waits inside its
  // first Progress) until the cancel has been sent, so the cancel reaches
  // the operation long before its end, whatever the machine's speed.
  absl::Notification held, cancel_sent;
  Holding holding(&held, &cancel_sent);
  std::vector<EntryId> one;
  EntryId other = FolderWith("Other", 1, &one);
  std::thread holder([&] {
    EXPECT_TRUE(store().SetReadFlags(other, one, 0, nullptr, &holding).ok());
  });
  held.WaitForNotification();

  grpc::ClientContext context;
  auto stream = Open(&context);
  ASSERT_TRUE(stream->Write(CopyStart(source, ids, dest, /*progress=*/true)));
  ASSERT_TRUE(stream->Write(Cancel()));
  ASSERT_TRUE(stream->Write(Cancel()));  // A repeat changes nothing.
  cancel_sent.Notify();
  holder.join();
  Outcome out = ReadAll(*stream);
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  ASSERT_TRUE(out.has_result);
  EXPECT_EQ(out.result.warning(), MAPI_W_PARTIAL_COMPLETION);
  size_t done = Count(dest);
  // The server may have started before the cancel was read (one item at
  // least is done before the first Progress answers); it cannot have
  // finished.
  EXPECT_GE(done, 1u);
  EXPECT_LT(done, 2000u);
  EXPECT_EQ(Count(source), 2000u);
  // The last value sent is the one that answered the cancel: below max,
  // "done of N".
  std::vector<v1::ProgressValueCall> values = Values(out.calls);
  ASSERT_FALSE(values.empty());
  EXPECT_LT(values.back().value(), 1000u);
  EXPECT_EQ(values.back().count(), done);
  EXPECT_EQ(values.back().total(), 2000u);
}

TEST_F(OperationWire, AClientThatDoesNotReadNeverHoldsUpTheOperation) {
  std::vector<EntryId> ids;
  EntryId source = FolderWith("Source", 5000, &ids);
  EntryId dest = FolderWith("Dest", 0);
  // A watcher on the destination sees the operation's notifications.
  auto session = Session::Open(server_->target());
  ASSERT_TRUE(session.ok()) << session.status();
  auto watcher = std::make_shared<RecordingSink>();
  ASSERT_TRUE((*session)
                  ->Advise(AdviseTarget::Entry(dest), fnevObjectCopied, watcher)
                  .ok());
  // A channel whose receive window stays small (no BDP probing), so the
  // unread stream's flow control stops the server's writes early on.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 1024);
  stub_ = v1::Store::NewStub(grpc::CreateCustomChannel(
      server_->target(), grpc::InsecureChannelCredentials(), args));
  grpc::ClientContext context;
  auto stream = Open(&context);
  ASSERT_TRUE(stream->Write(CopyStart(source, ids, dest, /*progress=*/true)));
  // Nothing is read from the stream, and yet the operation completes: all
  // 5,000 copies are published while the client reads no progress.
  ASSERT_TRUE(watcher->WaitForCount(5000));
  EXPECT_EQ(Count(dest), 5000u);
  Outcome out = ReadAll(*stream);
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  ASSERT_TRUE(out.has_result);
  std::vector<v1::ProgressValueCall> values = Values(out.calls);
  ASSERT_FALSE(values.empty());
  EXPECT_EQ(values.back().value(), 1000u);
  EXPECT_EQ(values.back().count(), 5000u);
  EXPECT_LT(values.size(), 5000u);  // Coalesced while the writes waited.
  std::printf(
      "5000 items: %zu progress calls in %zu messages reached the "
      "client\n",
      values.size(), out.progress_messages);
}

TEST_F(OperationWire, AnExpiredDeadlineLeavesAConsistentNotifiedStore) {
  std::vector<EntryId> ids;
  EntryId source = FolderWith("Source", 200, &ids);
  EntryId dest = FolderWith("Dest", 0);
  auto watching = Session::Open(server_->target());
  ASSERT_TRUE(watching.ok()) << watching.status();
  auto watcher = std::make_shared<RecordingSink>();
  ASSERT_TRUE((*watching)
                  ->Advise(AdviseTarget::Entry(dest), fnevObjectCopied, watcher)
                  .ok());
  // The store is held, so the operation cannot start before the client's
  // deadline has passed.
  absl::Notification held, release;
  Holding holding(&held, &release);
  std::vector<EntryId> one;
  EntryId other = FolderWith("Other", 1, &one);
  std::thread holder([&] {
    EXPECT_TRUE(store().SetReadFlags(other, one, 0, nullptr, &holding).ok());
  });
  held.WaitForNotification();
  SessionOptions options;
  options.store_call_timeout = absl::Milliseconds(500);
  auto session = Session::Open(server_->target(), options);
  ASSERT_TRUE(session.ok()) << session.status();
  auto client = (*session)->OpenMsgStore();
  ASSERT_TRUE(client.ok()) << client.status();
  BasicProgress progress;
  SCODE warning = S_OK;
  absl::Status copied =
      (*client)->CopyMessages(source, ids, dest, 0, &warning, &progress);
  EXPECT_EQ(copied.code(), absl::StatusCode::kDeadlineExceeded) << copied;
  release.Notify();
  holder.join();
  // The operation then runs. The server sees the expired deadline on its
  // own clock, racing with the store's release: once it has, Progress
  // answers MAPI_E_USER_CANCEL and the copy stops after the item in hand;
  // if the copy got the store first it completes. Either way what it did
  // is consistent and published in one batch (so once the watcher has it
  // the operation is over), and nothing is published twice.
  ASSERT_TRUE(watcher->WaitForCount(1));
  EXPECT_EQ(Count(dest), watcher->count());
  EXPECT_EQ(Count(source), 200u);
  std::printf("deadline expired: the server copied %zu of 200\n", Count(dest));
}

TEST_F(OperationWire, BadStreamsGetClearErrors) {
  {  // No caller metadata.
    grpc::ClientContext context;
    auto stream = Open(&context, /*identify=*/false);
    Outcome out = ReadAll(*stream);
    ExpectWireError(out.status, grpc::StatusCode::INVALID_ARGUMENT,
                    MAPI_E_INVALID_PARAMETER);
  }
  {  // A cancel first.
    grpc::ClientContext context;
    auto stream = Open(&context);
    ASSERT_TRUE(stream->Write(Cancel()));
    Outcome out = ReadAll(*stream);
    ExpectWireError(out.status, grpc::StatusCode::INVALID_ARGUMENT,
                    MAPI_E_INVALID_PARAMETER);
  }
  {  // An empty message first.
    grpc::ClientContext context;
    auto stream = Open(&context);
    ASSERT_TRUE(stream->Write(v1::OperationRequest()));
    Outcome out = ReadAll(*stream);
    ExpectWireError(out.status, grpc::StatusCode::INVALID_ARGUMENT,
                    MAPI_E_INVALID_PARAMETER);
  }
  {  // Half-closed before the start.
    grpc::ClientContext context;
    auto stream = Open(&context);
    ASSERT_TRUE(stream->WritesDone());
    Outcome out = ReadAll(*stream);
    ExpectWireError(out.status, grpc::StatusCode::INVALID_ARGUMENT,
                    MAPI_E_INVALID_PARAMETER);
  }
  {  // A start naming no operation.
    grpc::ClientContext context;
    auto stream = Open(&context);
    v1::OperationRequest request;
    request.mutable_start()->mutable_progress()->set_max(10);
    ASSERT_TRUE(stream->Write(request));
    Outcome out = ReadAll(*stream);
    ExpectWireError(out.status, grpc::StatusCode::INVALID_ARGUMENT,
                    MAPI_E_INVALID_PARAMETER);
  }
  std::vector<EntryId> ids;
  EntryId source = FolderWith("Source", 5, &ids);
  {  // Bad ids and flags: the unary call's errors, and no progress at all.
    grpc::ClientContext context;
    auto stream = Open(&context);
    ASSERT_TRUE(stream->Write(
        CopyStart(source, {ids[0], ""}, source, /*progress=*/true)));
    Outcome out = ReadAll(*stream);
    ExpectWireError(out.status, grpc::StatusCode::INVALID_ARGUMENT,
                    MAPI_E_INVALID_ENTRYID);
    EXPECT_EQ(out.progress_messages, 0u);
    EXPECT_FALSE(out.has_result);
  }
  {
    grpc::ClientContext context;
    auto stream = Open(&context);
    ASSERT_TRUE(stream->Write(
        CopyStart(source, ids, source, /*progress=*/true, 0x100)));
    Outcome out = ReadAll(*stream);
    ExpectWireError(out.status, grpc::StatusCode::INVALID_ARGUMENT,
                    MAPI_E_UNKNOWN_FLAGS);
    EXPECT_EQ(out.progress_messages, 0u);
  }
  {  // A well-formed id of nothing: NOT_FOUND.
    grpc::ClientContext context;
    auto stream = Open(&context);
    v1::OperationRequest request;
    request.mutable_start()->mutable_empty_folder()->set_folder_id(ids[0]);
    ASSERT_TRUE(stream->Write(request));
    Outcome out = ReadAll(*stream);
    EXPECT_FALSE(out.status.ok());
    EXPECT_EQ(out.progress_messages, 0u);
  }
  EXPECT_EQ(Count(source), 5u);  // Nothing above changed anything.
}

TEST_F(OperationWire, ASecondStartCancelsAndFailsTheCall) {
  std::vector<EntryId> ids;
  EntryId source = FolderWith("Source", 100, &ids);
  EntryId dest = FolderWith("Dest", 0);
  grpc::ClientContext context;
  auto stream = Open(&context);
  ASSERT_TRUE(stream->Write(CopyStart(source, ids, dest, /*progress=*/true)));
  // The second start may reach the server after the operation ended (then
  // the call is complete already) or while it runs (then it is cancelled):
  // either way what it did is in the store and the call ends cleanly.
  stream->Write(CopyStart(source, ids, dest, /*progress=*/true));
  Outcome out = ReadAll(*stream);
  if (out.status.ok()) {
    ASSERT_TRUE(out.has_result);
    EXPECT_EQ(Count(dest), 100u);
  } else {
    ExpectWireError(out.status, grpc::StatusCode::INVALID_ARGUMENT,
                    MAPI_E_INVALID_PARAMETER);
    EXPECT_FALSE(out.has_result);
    EXPECT_LE(Count(dest), 100u);
  }
  EXPECT_EQ(Count(source), 100u);
}

TEST_F(OperationWire, OperationsBeyondTheBoundAreRefused) {
  server::ServerOptions options;
  options.operations.threads = 1;
  options.operations.max_operations = 1;
  Start(std::move(options));
  std::vector<EntryId> ids;
  EntryId source = FolderWith("Source", 3, &ids);
  EntryId dest = FolderWith("Dest", 0);
  // Hold the store so that an accepted operation cannot end.
  absl::Notification held, release;
  Holding holding(&held, &release);
  std::thread holder([&] {
    EXPECT_TRUE(store().SetReadFlags(source, {}, 0, nullptr, &holding).ok());
  });
  held.WaitForNotification();

  // Two operations: one is accepted (and waits for the store), so the other
  // is refused — and it is the first to end.
  absl::Mutex mu;
  std::vector<grpc::Status> ended;
  auto run = [&] {
    grpc::ClientContext context;
    auto stream = Open(&context);
    stream->Write(CopyStart(source, ids, dest, /*progress=*/true));
    Outcome out = ReadAll(*stream);
    absl::MutexLock lock(&mu);
    ended.push_back(out.status);
  };
  std::thread a(run), b(run);
  {
    absl::MutexLock lock(&mu);
    mu.Await(absl::Condition(
        +[](std::vector<grpc::Status>* v) { return !v->empty(); }, &ended));
    ExpectWireError(ended[0], grpc::StatusCode::RESOURCE_EXHAUSTED,
                    MAPI_E_NOT_ENOUGH_RESOURCES);
  }
  release.Notify();
  a.join();
  b.join();
  holder.join();
  ASSERT_EQ(ended.size(), 2u);
  EXPECT_TRUE(ended[1].ok()) << ended[1].error_message();
  EXPECT_EQ(Count(dest), 3u);
}

}  // namespace
}  // namespace mapinotify::testing
