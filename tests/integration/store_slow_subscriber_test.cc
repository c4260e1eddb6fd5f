// A subscriber that never reads must not stall the store's writers: the
// store queues notifications under its lock but starts no gRPC write there,
// and a stream that cannot keep up drops (and is told so later) instead of
// pushing back on producers.
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "mapinotify/session.h"
#include "mapinotify/store.h"
#include "mapinotify/v1/notifications.grpc.pb.h"
#include "tests/integration/test_util.h"

namespace mapinotify::testing {
namespace {

constexpr int kWriters = 2;
constexpr int kMessagesPerWriter = 1000;

// Creates and saves kMessagesPerWriter messages from each of kWriters
// threads; returns how long it took. Every save must succeed.
absl::Duration RunWriters(MsgStore& store, const EntryId& folder) {
  const absl::Time start = absl::Now();
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&store, &folder] {
      for (int i = 0; i < kMessagesPerWriter; ++i) {
        auto message = store.CreateMessage(folder, 0);
        ASSERT_TRUE(message.ok()) << message.status();
        auto problems = (*message)->SetProps(
            {PropValue{PR_SUBJECT, std::string(100, 's')}});
        ASSERT_TRUE(problems.ok()) << problems.status();
        auto saved = (*message)->SaveChanges(0);
        ASSERT_TRUE(saved.ok()) << saved.status();
      }
    });
  }
  for (std::thread& t : writers) t.join();
  return absl::Now() - start;
}

TEST(StoreSlowSubscriber,
     WritersKeepTheirThroughputWhileASubscriberNeverReads) {
  server::ServerOptions options;
  options.hub.outbox.max_items = 256;  // The stalled stream overflows soon.
  auto server = StartServer(options);
  auto session = Session::Open(server->target());
  ASSERT_TRUE(session.ok()) << session.status();
  auto store = (*session)->OpenMsgStore();
  ASSERT_TRUE(store.ok()) << store.status();
  const EntryId inbox = (*store)->inbox_id();

  // A healthy watcher in both runs, so both pay for one live stream.
  auto watcher = std::make_shared<CountingSink>();
  ASSERT_TRUE((*session)
                  ->Advise(AdviseTarget::Store(),
                           fnevObjectCreated | fnevObjectModified, watcher)
                  .ok());

  // Baseline: a second subscriber of the same kind that does read, so both
  // runs pay for two live streams and differ only in the stall.
  auto other_session = Session::Open(server->target());
  ASSERT_TRUE(other_session.ok()) << other_session.status();
  auto reader = std::make_shared<CountingSink>();
  auto reading =
      (*other_session)->Advise(AdviseTarget::Store(), kAllEventTypes, reader);
  ASSERT_TRUE(reading.ok()) << reading.status();
  const absl::Duration alone = RunWriters(**store, inbox);
  ASSERT_TRUE((*other_session)->Unadvise(*reading).ok());

  // A raw client that advises on the whole store and then stops reading.
  auto channel =
      grpc::CreateChannel(server->target(), grpc::InsecureChannelCredentials());
  auto stub = v1::Notifications::NewStub(channel);
  grpc::ClientContext stalled_context;
  auto stalled = stub->Subscribe(&stalled_context);
  v1::SubscribeRequest advise;
  advise.mutable_advise()->set_connection(1);
  advise.mutable_advise()->mutable_target()->mutable_store();
  advise.mutable_advise()->set_event_mask(kAllEventTypes);
  ASSERT_TRUE(stalled->Write(advise));
  v1::SubscribeResponse response;
  ASSERT_TRUE(stalled->Read(&response));  // hello
  ASSERT_TRUE(stalled->Read(&response));  // advised
  ASSERT_TRUE(response.has_advised());
  ASSERT_EQ(response.advised().status().code(), 0);

  const absl::Duration with_stalled = RunWriters(**store, inbox);
  std::printf(
      "%d saves: %s with a subscriber that reads, %s with one that "
      "never reads\n",
      kWriters * kMessagesPerWriter, absl::FormatDuration(alone).c_str(),
      absl::FormatDuration(with_stalled).c_str());
  // A writer held up by the stalled stream would take far longer (or never
  // finish); the margin covers this shared 2-core machine's noise.
  EXPECT_LT(with_stalled, alone * 3 + absl::Seconds(1));

  // Nothing was silently lost on the stalled stream: once it reads again it
  // gets every notification up to the last one published, or the resync
  // signal for its connection where the server had to drop (which part of
  // the backlog sat in gRPC's flow-control window rather than the server's
  // queue depends on the transport).
  const uint64_t last = server->hub()->last_sequence();
  uint64_t highest = 0;
  bool resynced = false;
  while (!resynced && highest < last && stalled->Read(&response)) {
    if (response.has_resync()) {
      ASSERT_EQ(response.resync().connections_size(), 1);
      EXPECT_EQ(response.resync().connections(0), 1u);
      resynced = true;
    }
    for (const v1::Delivered& d : response.batch().notifications()) {
      EXPECT_GT(d.sequence(), highest);
      highest = d.sequence();
    }
  }
  std::printf("stalled stream: %s\n",
              resynced ? "got the resync signal"
                       : "got every notification once it read again");
  EXPECT_TRUE(resynced || highest == last);
  stalled_context.TryCancel();
}

}  // namespace
}  // namespace mapinotify::testing
