// Errors of the Store service: through the C++ client every failure comes
// back as its MAPI SCODE (rehydrated from the status details), and on the
// raw generated stub — as a non-C++ or hostile client would call — every
// malformed request gets a clear error with its SCODE while the server goes
// on serving.
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "mapinotify/session.h"
#include "mapinotify/status.h"
#include "mapinotify/store.h"
#include "mapinotify/v1/mapi.pb.h"
#include "mapinotify/v1/store.grpc.pb.h"
#include "tests/integration/store_test_util.h"

namespace mapinotify::testing {
namespace {

void ExpectError(const absl::Status& status, absl::StatusCode code,
                 SCODE scode) {
  EXPECT_EQ(status.code(), code) << status;
  EXPECT_EQ(ScodeOf(status), scode) << status;
  EXPECT_FALSE(status.message().empty());
}

TEST(StoreErrors, EachFailureCarriesItsMapiCode) {
  StoreFixture f = OpenStoreFixture();
  ASSERT_NE(f.store, nullptr);
  MsgStore& store = *f.store;
  const EntryId ipm = store.ipm_subtree_id();

  auto a = store.CreateFolder(ipm, "Dup", "", 0);
  ASSERT_TRUE(a.ok()) << a.status();
  // MAPI_E_COLLISION, case-insensitive; OPEN_IF_EXISTS returns the folder.
  ExpectError(store.CreateFolder(ipm, "dup", "", 0).status(),
              absl::StatusCode::kAlreadyExists, MAPI_E_COLLISION);
  auto again = store.CreateFolder(ipm, "DUP", "", OPEN_IF_EXISTS);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, *a);
  ExpectError(store.CreateFolder(ipm, "x", "", 0x80).status(),
              absl::StatusCode::kInvalidArgument, MAPI_E_UNKNOWN_FLAGS);

  // MAPI_E_HAS_FOLDERS / MAPI_E_HAS_MESSAGES without DEL_FOLDERS /
  // DEL_MESSAGES; with them the delete goes through.
  ASSERT_TRUE(store.CreateFolder(*a, "child", "", 0).ok());
  ExpectError(store.DeleteFolder(ipm, *a, 0),
              absl::StatusCode::kFailedPrecondition, MAPI_E_HAS_FOLDERS);
  auto with_mail = store.CreateFolder(ipm, "WithMail", "", 0);
  ASSERT_TRUE(with_mail.ok());
  auto m = store.CreateMessage(*with_mail, 0);
  ASSERT_TRUE(m.ok());
  auto message_id = (*m)->SaveChanges(KEEP_OPEN_READWRITE);
  ASSERT_TRUE(message_id.ok()) << message_id.status();
  ExpectError(store.DeleteFolder(ipm, *with_mail, 0),
              absl::StatusCode::kFailedPrecondition, MAPI_E_HAS_MESSAGES);
  ASSERT_TRUE(store.DeleteFolder(ipm, *a, DEL_FOLDERS).ok());

  // MAPI_E_NOT_FOUND for a deleted object; MAPI_E_INVALID_ENTRYID for bytes
  // that are no entry id of this store.
  ExpectError(store.GetProps(*a, {}).status(), absl::StatusCode::kNotFound,
              MAPI_E_NOT_FOUND);
  ExpectError(store.GetProps("garbage", {}).status(),
              absl::StatusCode::kInvalidArgument, MAPI_E_INVALID_ENTRYID);
  ExpectError(store.GetProps("", {}).status(),
              absl::StatusCode::kInvalidArgument, MAPI_E_INVALID_ENTRYID);
  ExpectError(store.OpenMessage(*a, 0).status(), absl::StatusCode::kNotFound,
              MAPI_E_NOT_FOUND);

  // A message deleted under an open handle: MAPI_E_OBJECT_DELETED.
  ASSERT_TRUE(store.DeleteFolder(ipm, *with_mail, DEL_MESSAGES).ok());
  ExpectError((*m)->SaveChanges(KEEP_OPEN_READWRITE).status(),
              absl::StatusCode::kFailedPrecondition, MAPI_E_OBJECT_DELETED);

  // A read-only open cannot write: MAPI_E_NO_ACCESS.
  auto mail = store.DeliverNewMail({{PR_SUBJECT, std::string("r/o")}});
  ASSERT_TRUE(mail.ok()) << mail.status();
  auto read_only = store.OpenMessage(*mail, 0);
  ASSERT_TRUE(read_only.ok()) << read_only.status();
  ExpectError(
      (*read_only)->SetProps({{PR_SUBJECT, std::string("no")}}).status(),
      absl::StatusCode::kPermissionDenied, MAPI_E_NO_ACCESS);

  // Well-known folders stay: MAPI_E_NO_ACCESS.
  ExpectError(
      store.DeleteFolder(ipm, store.inbox_id(), DEL_FOLDERS | DEL_MESSAGES),
      absl::StatusCode::kPermissionDenied, MAPI_E_NO_ACCESS);
  // A folder moved into its own subtree: MAPI_E_FOLDER_CYCLE.
  auto outer = store.CreateFolder(ipm, "Outer", "", 0);
  ASSERT_TRUE(outer.ok());
  auto inner = store.CreateFolder(*outer, "Inner", "", 0);
  ASSERT_TRUE(inner.ok());
  ExpectError(store.CopyFolder(ipm, *outer, *inner, "", FOLDER_MOVE).status(),
              absl::StatusCode::kFailedPrecondition, MAPI_E_FOLDER_CYCLE);
}

// The raw stub, with hand-made caller metadata.
class StoreBadInput : public ::testing::Test {
 protected:
  static constexpr char kSession[] = "00112233445566778899aabbccddeeff";

  void SetUp() override {
    server_ = StartServer();
    channel_ = grpc::CreateChannel(server_->target(),
                                   grpc::InsecureChannelCredentials());
    stub_ = v1::Store::NewStub(channel_);
  }

  static void Identify(grpc::ClientContext* context,
                       const std::string& session = kSession,
                       const std::string& thread = "1") {
    context->AddMetadata("mapinotify-session", session);
    context->AddMetadata("mapinotify-thread", thread);
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

  grpc::Status GetInfo(v1::GetStoreInfoResponse* info,
                       const std::string& session = kSession,
                       const std::string& thread = "1") {
    grpc::ClientContext context;
    Identify(&context, session, thread);
    return stub_->GetStoreInfo(&context, v1::GetStoreInfoRequest(), info);
  }

  std::unique_ptr<server::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Store::Stub> stub_;
};

TEST_F(StoreBadInput, CallerMetadataIsRequiredAndChecked) {
  {
    grpc::ClientContext context;  // No metadata at all.
    v1::GetStoreInfoResponse info;
    ExpectWireError(
        stub_->GetStoreInfo(&context, v1::GetStoreInfoRequest(), &info),
        grpc::StatusCode::INVALID_ARGUMENT, MAPI_E_INVALID_PARAMETER);
  }
  {
    grpc::ClientContext context;  // A session but no thread.
    context.AddMetadata("mapinotify-session", kSession);
    v1::GetStoreInfoResponse info;
    ExpectWireError(
        stub_->GetStoreInfo(&context, v1::GetStoreInfoRequest(), &info),
        grpc::StatusCode::INVALID_ARGUMENT, MAPI_E_INVALID_PARAMETER);
  }
  v1::GetStoreInfoResponse info;
  for (const char* session : {"", "short", "00112233445566778899aabbccddeefg",
                              "00112233445566778899aabbccddeeff00"}) {
    ExpectWireError(GetInfo(&info, session), grpc::StatusCode::INVALID_ARGUMENT,
                    MAPI_E_INVALID_PARAMETER);
  }
  for (const char* thread :
       {"", "0", "-1", "abc", "1x", "+5", "123456789012345678901"}) {
    SCOPED_TRACE(thread);
    ExpectWireError(GetInfo(&info, kSession, thread),
                    grpc::StatusCode::INVALID_ARGUMENT,
                    MAPI_E_INVALID_PARAMETER);
  }
  ASSERT_TRUE(GetInfo(&info).ok());
  EXPECT_EQ(info.store_entry_id(), server_->store()->store_entry_id());
  EXPECT_EQ(info.inbox_id(), server_->store()->inbox_id());
}

TEST_F(StoreBadInput, MalformedRequestsGetClearErrorsAndTheServerGoesOn) {
  v1::GetStoreInfoResponse info;
  ASSERT_TRUE(GetInfo(&info).ok());

  auto get_props = [&](const v1::GetPropsRequest& request) {
    grpc::ClientContext context;
    Identify(&context);
    v1::GetPropsResponse response;
    return stub_->GetProps(&context, request, &response);
  };
  v1::GetPropsRequest request;
  // No object named.
  ExpectWireError(get_props(request), grpc::StatusCode::INVALID_ARGUMENT,
                  MAPI_E_INVALID_PARAMETER);
  // A garbage, an empty and an oversized entry id.
  request.mutable_object()->set_entry_id("garbage");
  ExpectWireError(get_props(request), grpc::StatusCode::INVALID_ARGUMENT,
                  MAPI_E_INVALID_ENTRYID);
  request.mutable_object()->set_entry_id("");
  ExpectWireError(get_props(request), grpc::StatusCode::INVALID_ARGUMENT,
                  MAPI_E_INVALID_ENTRYID);
  request.mutable_object()->set_entry_id(std::string(5000, 'e'));
  ExpectWireError(get_props(request), grpc::StatusCode::INVALID_ARGUMENT,
                  MAPI_E_INVALID_ENTRYID);
  // An unknown handle.
  request.mutable_object()->set_handle(987654321);
  ExpectWireError(get_props(request), grpc::StatusCode::NOT_FOUND,
                  MAPI_E_NOT_FOUND);
  // Too many tags.
  request.mutable_object()->set_entry_id(info.inbox_id());
  for (int i = 0; i < 4097; ++i) request.add_tags(PR_SUBJECT);
  ExpectWireError(get_props(request), grpc::StatusCode::RESOURCE_EXHAUSTED,
                  MAPI_E_TOO_BIG);

  // A value whose case disagrees with its tag.
  {
    grpc::ClientContext context;
    Identify(&context);
    v1::SetPropsRequest set;
    set.mutable_object()->set_entry_id(info.inbox_id());
    v1::PropValue* value = set.add_values();
    value->set_tag(PR_COMMENT);  // PT_UNICODE ...
    value->set_l(5);             // ... carrying a PT_LONG.
    v1::SetPropsResponse response;
    ExpectWireError(stub_->SetProps(&context, set, &response),
                    grpc::StatusCode::INVALID_ARGUMENT,
                    MAPI_E_INVALID_PARAMETER);
  }
  // Unknown flag bits.
  {
    grpc::ClientContext context;
    Identify(&context);
    v1::DeleteFolderRequest del;
    del.set_parent_id(info.ipm_subtree_id());
    del.set_folder_id(info.inbox_id());
    del.set_flags(0x100);
    v1::DeleteFolderResponse response;
    ExpectWireError(stub_->DeleteFolder(&context, del, &response),
                    grpc::StatusCode::INVALID_ARGUMENT, MAPI_E_UNKNOWN_FLAGS);
  }
  // An empty folder name; a missing message list.
  {
    grpc::ClientContext context;
    Identify(&context);
    v1::CreateFolderRequest create;
    create.set_parent_id(info.ipm_subtree_id());
    v1::CreateFolderResponse response;
    ExpectWireError(stub_->CreateFolder(&context, create, &response),
                    grpc::StatusCode::INVALID_ARGUMENT,
                    MAPI_E_INVALID_PARAMETER);
  }
  {
    grpc::ClientContext context;
    Identify(&context);
    v1::DeleteMessagesRequest del;
    del.set_folder_id(info.inbox_id());
    v1::DeleteMessagesResponse response;
    ExpectWireError(stub_->DeleteMessages(&context, del, &response),
                    grpc::StatusCode::INVALID_ARGUMENT,
                    MAPI_E_INVALID_PARAMETER);
  }

  // A handle belongs to its session: another session's is unknown.
  uint64_t handle = 0;
  {
    grpc::ClientContext context;
    Identify(&context);
    v1::CreateMessageRequest create;
    create.set_folder_id(info.inbox_id());
    v1::CreateMessageResponse response;
    ASSERT_TRUE(stub_->CreateMessage(&context, create, &response).ok());
    handle = response.handle();
  }
  {
    grpc::ClientContext context;
    Identify(&context, "ffeeddccbbaa99887766554433221100");
    v1::ReleaseRequest release;
    release.set_handle(handle);
    v1::ReleaseResponse response;
    ExpectWireError(stub_->Release(&context, release, &response),
                    grpc::StatusCode::NOT_FOUND, MAPI_E_NOT_FOUND);
  }
  {
    grpc::ClientContext context;
    Identify(&context, kSession, "42");  // Any thread of the owning session.
    v1::ReleaseRequest release;
    release.set_handle(handle);
    v1::ReleaseResponse response;
    EXPECT_TRUE(stub_->Release(&context, release, &response).ok());
  }

  // The server is unharmed: a real session works end to end.
  auto session = Session::Open(server_->target());
  ASSERT_TRUE(session.ok()) << session.status();
  auto store = (*session)->OpenMsgStore();
  ASSERT_TRUE(store.ok()) << store.status();
  auto folder = (*store)->CreateFolder((*store)->ipm_subtree_id(), "ok", "", 0);
  EXPECT_TRUE(folder.ok()) << folder.status();
}

}  // namespace
}  // namespace mapinotify::testing
