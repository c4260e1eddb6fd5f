// A loop that is never pumped while 1,000,000 notifications are published:
// client memory stays within the configured bound, and once the loop runs the
// sink gets the resync signal instead of a silent gap, then live delivery.
#include <cstdio>
#include <memory>
#include <thread>

#include "gtest/gtest.h"
#include "mapinotify/session.h"
#include "tests/integration/test_util.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MAPINOTIFY_HAS_ASAN 1
#endif
#endif
#ifndef MAPINOTIFY_HAS_ASAN
#define MAPINOTIFY_HAS_ASAN 0
#endif

namespace mapinotify::testing {
namespace {

TEST(Overflow, NeverPumpedLoopStaysBoundedThenGetsTheResyncSignal) {
  constexpr uint64_t kFlood = 1000000;
  constexpr size_t kMaxQueued = 10000;
  constexpr size_t kMaxBytes = 1 << 20;
  server::ServerOptions server_options;
  // The server must not be the one that drops: this test is about the
  // client's bound.
  server_options.hub.outbox.max_items = 1 << 21;
  server_options.hub.outbox.max_bytes = size_t{1} << 30;
  auto server = StartServer(server_options);

  MessageLoop loop;  // Never pumped until the flood is in.
  SessionOptions options;
  options.threading_model = ThreadingModel::kInitThread;
  options.max_queued_notifications_per_connection = kMaxQueued;
  options.max_queued_bytes_per_connection = kMaxBytes;
  auto session = Session::Open(server->target(), options);
  ASSERT_TRUE(session.ok()) << session.status();
  auto sink = std::make_shared<RecordingSink>();
  const EntryId flooded = MakeFolder(server.get(), "flooded");
  const EntryId marker_folder = MakeFolder(server.get(), "marker");
  auto c = (*session)->Advise(AdviseTarget::Entry(flooded), fnevObjectModified,
                              sink);
  ASSERT_TRUE(c.ok()) << c.status();

  // A marker connection on a pumped thread: when its notification arrives,
  // the stream has carried (and the client has queued or dropped) the whole
  // flood before it.
  LoopThread pumped;
  auto marker = std::make_shared<RecordingSink>();
  std::shared_ptr<AdviseSink> wrapped_marker;
  pumped.RunSync([&] { wrapped_marker = *ThisThreadAdviseSink(marker); });
  auto m = (*session)->Advise(AdviseTarget::Entry(marker_folder),
                              fnevObjectModified, wrapped_marker);
  ASSERT_TRUE(m.ok()) << m.status();

  const size_t rss_before = CurrentRssBytes();
  PublishMany(server->hub(), flooded, kFlood);
  PublishMany(server->hub(), marker_folder, 1);
  ASSERT_TRUE(marker->WaitForCount(1, absl::Seconds(120)));
  const size_t rss_after = CurrentRssBytes();

  SessionStats stats = (*session)->stats();
  std::printf(
      "client queue high water: %zu notifications, %zu bytes; RSS "
      "%zu -> %zu KiB\n",
      stats.max_queued_notifications, stats.max_queued_bytes, rss_before / 1024,
      rss_after / 1024);
  EXPECT_LE(stats.max_queued_notifications, kMaxQueued);
  EXPECT_LE(stats.max_queued_bytes, kMaxBytes);
  EXPECT_GT(stats.max_queued_notifications, 0u);
  // Unbounded, a million notifications would hold hundreds of MiB; bounded,
  // the process grows by buffers only. (Not under ASan: its quarantine keeps
  // freed memory resident on purpose, so RSS measures ASan, not us.)
#if !defined(__SANITIZE_ADDRESS__) && !MAPINOTIFY_HAS_ASAN
  EXPECT_LT(rss_after, rss_before + (size_t{96} << 20));
#endif
  EXPECT_EQ(sink->count(), 0u);  // Nothing ran: the loop was not pumped.

  // Now pump: first the resync signal, alone, then live delivery.
  ASSERT_TRUE(PumpUntilCount(loop, *sink, 1));
  const uint64_t live_first = server->hub()->last_sequence() + 1;
  PublishMany(server->hub(), flooded, 5);
  ASSERT_TRUE(PumpUntilCount(loop, *sink, 6));
  std::vector<Seen> seen = sink->seen();
  ASSERT_EQ(seen.size(), 6u);
  EXPECT_TRUE(IsLostSignal(*seen[0].notification));
  EXPECT_EQ(seen[0].sequence, 0u);
  EXPECT_EQ(seen[0].connection, *c);
  for (size_t i = 1; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].sequence, live_first + i - 1);
    EXPECT_EQ(seen[i].notification->event_type, fnevObjectModified);
  }
  EXPECT_EQ((*session)->stats().resyncs_delivered, 1u);
}

}  // namespace
}  // namespace mapinotify::testing
