// The standard services a container platform and grpcurl rely on: health
// reports SERVING (and NOT_SERVING during shutdown), reflection lists the
// Notifications service.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/support/byte_buffer.h>

#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "proto/grpc/health/v1/health.grpc.pb.h"
#include "proto/grpc/reflection/v1alpha/reflection.pb.h"
#include "tests/integration/test_util.h"

namespace mapinotify::testing {
namespace {

TEST(HealthReflection, HealthReportsServing) {
  auto server = StartServer();
  auto channel =
      grpc::CreateChannel(server->target(), grpc::InsecureChannelCredentials());
  auto health = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status status = health->Check(
      &context, grpc::health::v1::HealthCheckRequest(), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
}

namespace reflection = ::mapinotify::testing::reflection;

// Runs one step of an async call and returns whether it succeeded.
bool Step(grpc::CompletionQueue* cq, void* tag) {
  void* got = nullptr;
  bool ok = false;
  if (!cq->Next(&got, &ok)) return false;
  return got == tag && ok;
}

TEST(HealthReflection, ReflectionListsTheNotificationsService) {
  auto server = StartServer();
  auto channel =
      grpc::CreateChannel(server->target(), grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue cq;
  grpc::ClientContext context;
  auto call = stub.PrepareCall(
      &context,
      "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  int tag = 0;
  call->StartCall(&tag);
  ASSERT_TRUE(Step(&cq, &tag));

  reflection::ServerReflectionRequest request;
  request.set_list_services("");
  const std::string bytes = request.SerializeAsString();
  grpc::Slice slice(bytes);
  grpc::ByteBuffer out(&slice, 1);
  call->Write(out, &tag);
  ASSERT_TRUE(Step(&cq, &tag));
  grpc::ByteBuffer in;
  call->Read(&in, &tag);
  ASSERT_TRUE(Step(&cq, &tag));
  call->WritesDone(&tag);
  ASSERT_TRUE(Step(&cq, &tag));
  grpc::Status status;
  call->Finish(&status, &tag);
  ASSERT_TRUE(Step(&cq, &tag));
  ASSERT_TRUE(status.ok()) << status.error_message();

  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(in.Dump(&slices).ok());
  std::string received;
  for (const grpc::Slice& s : slices) {
    received.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  reflection::ServerReflectionResponse response;
  ASSERT_TRUE(response.ParseFromString(received));
  std::set<std::string> names;
  for (const auto& s : response.list_services_response().service()) {
    names.insert(s.name());
  }
  EXPECT_TRUE(names.count("mapinotify.v1.Notifications"))
      << response.DebugString();
  EXPECT_TRUE(names.count("grpc.health.v1.Health")) << response.DebugString();
  cq.Shutdown();
  void* ignored;
  bool ok;
  while (cq.Next(&ignored, &ok)) {
  }
}

}  // namespace
}  // namespace mapinotify::testing
