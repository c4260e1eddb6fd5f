// Bad input on the wire: every malformed request gets a clear answer with its
// MAPI code, and the stream and its other connections keep working. Uses the
// raw generated stub, as a non-C++ or hostile client would.
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "mapinotify/session.h"
#include "mapinotify/status.h"
#include "mapinotify/v1/mapi.pb.h"
#include "mapinotify/v1/notifications.grpc.pb.h"
#include "tests/integration/test_util.h"

namespace mapinotify::testing {
namespace {

namespace store = server::store;

using Stream =
    grpc::ClientReaderWriter<v1::SubscribeRequest, v1::SubscribeResponse>;

class BadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = StartServer();
    inbox_ = server_->store()->inbox_id();
    channel_ = grpc::CreateChannel(server_->target(),
                                   grpc::InsecureChannelCredentials());
    stub_ = v1::Notifications::NewStub(channel_);
    stream_ = stub_->Subscribe(&context_);
    v1::SubscribeResponse hello;
    ASSERT_TRUE(stream_->Read(&hello));
    ASSERT_TRUE(hello.has_hello());
    EXPECT_EQ(hello.hello().epoch(), server_->hub()->epoch());
  }

  v1::SubscribeResponse Advise(uint64_t connection, v1::Target target,
                               uint32_t mask, uint32_t options = 0) {
    v1::SubscribeRequest request;
    request.mutable_advise()->set_connection(connection);
    *request.mutable_advise()->mutable_target() = std::move(target);
    request.mutable_advise()->set_event_mask(mask);
    request.mutable_advise()->set_options(options);
    EXPECT_TRUE(stream_->Write(request));
    v1::SubscribeResponse response;
    EXPECT_TRUE(stream_->Read(&response));
    return response;
  }

  static v1::Target Entry(const std::string& id) {
    v1::Target t;
    t.set_entry_id(id);
    return t;
  }

  // Expects an Advised answer for `connection` with `code` and `scode`.
  static void ExpectRefused(const v1::SubscribeResponse& r, uint64_t connection,
                            grpc::StatusCode code, SCODE scode) {
    ASSERT_TRUE(r.has_advised()) << r.DebugString();
    EXPECT_EQ(r.advised().connection(), connection);
    EXPECT_EQ(r.advised().status().code(), code) << r.DebugString();
    EXPECT_EQ(r.advised().status().scode(), scode) << r.DebugString();
    EXPECT_FALSE(r.advised().status().message().empty());
  }

  std::unique_ptr<server::Server> server_;
  EntryId inbox_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Notifications::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<Stream> stream_;
};

TEST_F(BadInput, EachBadAdviseIsAnsweredAndTheStreamGoesOn) {
  // A good connection first; it must survive everything below.
  v1::SubscribeResponse ok = Advise(1, Entry(inbox_), fnevObjectModified);
  ASSERT_TRUE(ok.has_advised());
  EXPECT_EQ(ok.advised().status().code(), 0);

  ExpectRefused(Advise(0, Entry(inbox_), fnevObjectModified), 0,
                grpc::StatusCode::INVALID_ARGUMENT, MAPI_E_INVALID_PARAMETER);
  ExpectRefused(Advise(1, Entry(inbox_), fnevObjectModified), 1,
                grpc::StatusCode::ALREADY_EXISTS, MAPI_E_COLLISION);
  v1::Target view;
  view.set_table_view(999);
  ExpectRefused(Advise(2, view, fnevTableModified), 2,
                grpc::StatusCode::NOT_FOUND, MAPI_E_NOT_FOUND);
  v1::Target other_store;
  other_store.mutable_store()->set_store_entry_id("no-such-store");
  ExpectRefused(Advise(3, other_store, fnevNewMail), 3,
                grpc::StatusCode::NOT_FOUND, MAPI_E_NOT_FOUND);
  ExpectRefused(Advise(4, v1::Target(), fnevNewMail), 4,
                grpc::StatusCode::INVALID_ARGUMENT, MAPI_E_INVALID_PARAMETER);
  ExpectRefused(Advise(5, Entry(""), fnevNewMail), 5,
                grpc::StatusCode::INVALID_ARGUMENT, MAPI_E_INVALID_ENTRYID);
  ExpectRefused(Advise(6, Entry(std::string(5000, 'x')), fnevNewMail), 6,
                grpc::StatusCode::INVALID_ARGUMENT, MAPI_E_INVALID_ENTRYID);
  ExpectRefused(Advise(7, Entry(inbox_), 0), 7,
                grpc::StatusCode::INVALID_ARGUMENT, MAPI_E_INVALID_PARAMETER);
  ExpectRefused(Advise(8, Entry(inbox_), 0x400), 8,
                grpc::StatusCode::INVALID_ARGUMENT, MAPI_E_INVALID_PARAMETER);
  ExpectRefused(Advise(9, Entry(inbox_), fnevNewMail, /*options=*/1), 9,
                grpc::StatusCode::INVALID_ARGUMENT, MAPI_E_UNKNOWN_FLAGS);
  // An entry id of the store's form whose object is gone: NotFound.
  store::Store* store = server_->store();
  auto gone = store->CreateFolder(store->ipm_subtree_id(), "gone", "", 0);
  ASSERT_TRUE(gone.ok()) << gone.status();
  ASSERT_TRUE(store->DeleteFolder(store->ipm_subtree_id(), *gone, 0).ok());
  ExpectRefused(Advise(10, Entry(*gone), fnevObjectModified), 10,
                grpc::StatusCode::NOT_FOUND, MAPI_E_NOT_FOUND);
  // Bytes that are no entry id of this store.
  ExpectRefused(Advise(11, Entry("no-such-entry"), fnevObjectModified), 11,
                grpc::StatusCode::INVALID_ARGUMENT, MAPI_E_INVALID_ENTRYID);

  v1::SubscribeRequest unadvise;
  unadvise.mutable_unadvise()->set_connection(77);
  ASSERT_TRUE(stream_->Write(unadvise));
  v1::SubscribeResponse unadvised;
  ASSERT_TRUE(stream_->Read(&unadvised));
  ASSERT_TRUE(unadvised.has_unadvised()) << unadvised.DebugString();
  EXPECT_EQ(unadvised.unadvised().connection(), 77u);
  EXPECT_EQ(unadvised.unadvised().status().code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(unadvised.unadvised().status().scode(), MAPI_E_NOT_FOUND);

  // Connection 1 still works.
  const uint64_t seq = PublishMany(server_->hub(), inbox_, 1);
  v1::SubscribeResponse batch;
  ASSERT_TRUE(stream_->Read(&batch));
  ASSERT_TRUE(batch.has_batch()) << batch.DebugString();
  ASSERT_EQ(batch.batch().notifications_size(), 1);
  const v1::Delivered& d = batch.batch().notifications(0);
  EXPECT_EQ(d.sequence(), seq);
  EXPECT_EQ(d.connections_size(), 1);
  EXPECT_EQ(d.connections(0), 1u);
  EXPECT_TRUE(d.ends_batch());
  EXPECT_EQ(d.notification().object().entry_id(), "msg-0");
}

TEST_F(BadInput, RequestNamingNoOperationEndsTheStreamWithInvalidArgument) {
  ASSERT_TRUE(stream_->Write(v1::SubscribeRequest()));
  v1::SubscribeResponse r;
  while (stream_->Read(&r)) {
  }
  grpc::Status status = stream_->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  v1::MapiError details;
  ASSERT_TRUE(details.ParseFromString(status.error_details()));
  EXPECT_EQ(details.scode(), MAPI_E_INVALID_PARAMETER);
  // The server is unharmed: a new session works.
  auto session = Session::Open(server_->target());
  ASSERT_TRUE(session.ok()) << session.status();
}

TEST_F(BadInput, ResumeAfterTheFirstRequestEndsTheStream) {
  ASSERT_TRUE(Advise(1, Entry(inbox_), fnevNewMail).has_advised());
  v1::SubscribeRequest resume;
  resume.mutable_resume()->set_epoch(1);
  ASSERT_TRUE(stream_->Write(resume));
  v1::SubscribeResponse r;
  while (stream_->Read(&r)) {
  }
  EXPECT_EQ(stream_->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(BadInput, OversizedMessageIsRefusedAndOtherStreamsGoOn) {
  // 2 MiB, over the 1 MiB limit: gRPC refuses it and ends this stream.
  v1::SubscribeRequest huge;
  huge.mutable_advise()->set_connection(1);
  huge.mutable_advise()->mutable_target()->set_entry_id(
      std::string(2 << 20, 'x'));
  huge.mutable_advise()->set_event_mask(fnevNewMail);
  stream_->Write(huge);
  v1::SubscribeResponse r;
  while (stream_->Read(&r)) {
  }
  EXPECT_EQ(stream_->Finish().error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  auto session = Session::Open(server_->target());
  ASSERT_TRUE(session.ok()) << session.status();
  auto sink = std::make_shared<RecordingSink>();
  ASSERT_TRUE(
      (*session)->Advise(AdviseTarget::Store(), fnevNewMail, sink).ok());
}

TEST(BadInputSubscribe, MalformedSessionMetadataIsRefused) {
  auto server = StartServer();
  auto channel =
      grpc::CreateChannel(server->target(), grpc::InsecureChannelCredentials());
  auto stub = v1::Notifications::NewStub(channel);
  for (const char* bad : {"", "xyz", "0123456789abcdef0123456789abcdeg",
                          "0123456789abcdef0123456789abcdef0"}) {
    grpc::ClientContext context;
    context.AddMetadata("mapinotify-session", bad);
    auto stream = stub->Subscribe(&context);
    v1::SubscribeResponse r;
    EXPECT_FALSE(stream->Read(&r)) << "'" << bad << "': " << r.DebugString();
    grpc::Status status = stream->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << bad;
    v1::MapiError details;
    ASSERT_TRUE(details.ParseFromString(status.error_details()));
    EXPECT_EQ(details.scode(), MAPI_E_INVALID_PARAMETER);
  }
  // Well-formed metadata (any case) is served.
  grpc::ClientContext context;
  context.AddMetadata("mapinotify-session", "0123456789ABCDEF0123456789abcdef");
  auto stream = stub->Subscribe(&context);
  v1::SubscribeResponse hello;
  ASSERT_TRUE(stream->Read(&hello));
  EXPECT_TRUE(hello.has_hello());
  context.TryCancel();
}

TEST(BadInputSession, AdviseErrorsRehydrateTheirMapiCodes) {
  auto server = StartServer();
  auto session = Session::Open(server->target());
  ASSERT_TRUE(session.ok()) << session.status();
  auto sink = std::make_shared<RecordingSink>();

  auto empty_mask = (*session)->Advise(AdviseTarget::Store(), 0, sink);
  EXPECT_EQ(empty_mask.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ScodeOf(empty_mask.status()), MAPI_E_INVALID_PARAMETER);

  auto no_view =
      (*session)->Advise(AdviseTarget::TableView(42), fnevTableModified, sink);
  EXPECT_EQ(no_view.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ScodeOf(no_view.status()), MAPI_E_NOT_FOUND);

  auto null_sink =
      (*session)->Advise(AdviseTarget::Store(), fnevNewMail, nullptr);
  EXPECT_EQ(null_sink.status().code(), absl::StatusCode::kInvalidArgument);

  // The session is unharmed.
  const EntryId inbox = server->store()->inbox_id();
  auto good =
      (*session)->Advise(AdviseTarget::Entry(inbox), fnevObjectModified, sink);
  ASSERT_TRUE(good.ok()) << good.status();
  PublishMany(server->hub(), inbox, 3);
  ASSERT_TRUE(sink->WaitForCount(3));
}

}  // namespace
}  // namespace mapinotify::testing
