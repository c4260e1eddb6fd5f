// Fragmenting (issue 6): no message on the wire exceeds the server's
// --max_message_bytes (1 MiB); an operation whose notifications do not fit
// in one message is split across several and reassembled by the client, so
// the sink gets it in ONE OnNotify call, never a part; a single notification
// too large for any message is replaced by the resync signal, and the stream
// goes on.
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "mapinotify/session.h"
#include "mapinotify/v1/notifications.grpc.pb.h"
#include "server/hub/hub_testing.h"
#include "tests/integration/test_util.h"

namespace mapinotify::testing {
namespace {

constexpr size_t kLimit = size_t{1} << 20;

// One operation of `count` ObjectModified notifications on the store, each
// about `bytes` large (a long entry id).
uint64_t PublishOperation(server::Hub* hub, int count, size_t bytes,
                          char fill) {
  std::vector<server::PublishItem> items;
  for (int i = 0; i < count; ++i) {
    items.push_back(server::PublishItem{
        server::testing::ObjectNotification(v1::fnevObjectModified,
                                            std::string(bytes, fill)),
        {}});
  }
  return hub->Publish(std::move(items));
}

TEST(Fragment, BigOperationIsSplitOnTheWireAndDeliveredWhole) {
  auto server = StartServer();  // max_message_bytes: 1 MiB.

  // What crosses the wire, seen by a raw stream.
  auto channel =
      grpc::CreateChannel(server->target(), grpc::InsecureChannelCredentials());
  auto stub = v1::Notifications::NewStub(channel);
  grpc::ClientContext context;
  auto raw = stub->Subscribe(&context);
  v1::SubscribeRequest advise;
  advise.mutable_advise()->set_connection(1);
  advise.mutable_advise()->mutable_target()->mutable_store();
  advise.mutable_advise()->set_event_mask(fnevObjectModified);
  ASSERT_TRUE(raw->Write(advise));
  v1::SubscribeResponse r;
  ASSERT_TRUE(raw->Read(&r) && r.has_hello());
  ASSERT_TRUE(raw->Read(&r) && r.has_advised());

  // And what a sink gets.
  auto session = Session::Open(server->target());
  ASSERT_TRUE(session.ok()) << session.status();
  auto sink = std::make_shared<RecordingSink>();
  ASSERT_TRUE(
      (*session)->Advise(AdviseTarget::Store(), fnevObjectModified, sink).ok());

  // 60 notifications of ~40 KiB: 2.4 MiB in one operation.
  constexpr int kCount = 60;
  const uint64_t last = PublishOperation(server->hub(), kCount, 40 << 10, 'a');

  int messages = 0, seen = 0;
  size_t largest = 0;
  while (seen < kCount && raw->Read(&r)) {
    ++messages;
    largest = std::max(largest, r.ByteSizeLong());
    for (const v1::Delivered& d : r.batch().notifications()) {
      ++seen;
      EXPECT_EQ(d.ends_batch(), d.sequence() == last) << d.sequence();
    }
  }
  ASSERT_EQ(seen, kCount);
  EXPECT_GE(messages, 3);
  EXPECT_LE(largest, kLimit);

  ASSERT_TRUE(sink->WaitForCount(kCount));
  EXPECT_EQ(sink->calls(), 1u) << "the operation was not delivered whole";
  EXPECT_EQ(sink->seen().back().sequence, last);
  context.TryCancel();
}

TEST(Fragment, NotificationLargerThanAnyMessageBecomesTheResyncSignal) {
  auto server = StartServer();
  auto session = Session::Open(server->target());
  ASSERT_TRUE(session.ok()) << session.status();
  auto sink = std::make_shared<RecordingSink>();
  ASSERT_TRUE(
      (*session)->Advise(AdviseTarget::Store(), fnevObjectModified, sink).ok());

  PublishOperation(server->hub(), 1, kLimit + 1000, 'h');  // Too large.
  const uint64_t after = PublishOperation(server->hub(), 1, 100, 's');
  ASSERT_TRUE(sink->WaitForCount(2));
  const std::vector<Seen> seen = sink->seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_TRUE(IsLostSignal(*seen[0].notification));
  EXPECT_EQ(seen[1].sequence, after);
  EXPECT_EQ((*session)->stats().reconnects, 0u) << "the stream broke";
}

}  // namespace
}  // namespace mapinotify::testing
