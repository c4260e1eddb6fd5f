#include "client/this_thread_sink.h"

#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "client/notification_thread.h"
#include "gtest/gtest.h"
#include "mapinotify/advise_sink.h"
#include "mapinotify/message_loop.h"

namespace mapinotify {
namespace {

const absl::Duration kTimeout = absl::Seconds(60);

// Records the thread and the sequences of each call. Thread-safe.
class ThreadRecordingSink : public AdviseSink {
 public:
  void OnNotify(const NotificationBatch& batch) override {
    absl::MutexLock lock(&mu_);
    threads_.push_back(std::this_thread::get_id());
    std::vector<uint64_t> seqs;
    for (size_t i = 0; i < batch.size(); ++i) {
      seqs.push_back(batch.sequence(i));
      if (batch[i].event_type != fnevNewMail) bad_payload_ = true;
    }
    sequences_.push_back(std::move(seqs));
  }
  bool WaitForCalls(size_t n) {
    absl::MutexLock lock(&mu_);
    auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return threads_.size() >= n;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), kTimeout);
  }
  std::vector<std::thread::id> threads() const {
    absl::MutexLock lock(&mu_);
    return threads_;
  }
  std::vector<std::vector<uint64_t>> sequences() const {
    absl::MutexLock lock(&mu_);
    return sequences_;
  }
  bool bad_payload() const {
    absl::MutexLock lock(&mu_);
    return bad_payload_;
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<std::thread::id> threads_ ABSL_GUARDED_BY(mu_);
  std::vector<std::vector<uint64_t>> sequences_ ABSL_GUARDED_BY(mu_);
  bool bad_payload_ ABSL_GUARDED_BY(mu_) = false;
};

NotificationBatch NewMailBatch(ConnectionId c, uint64_t first, size_t n) {
  std::vector<Delivery> items;
  for (uint64_t s = first; s < first + n; ++s) {
    auto note = std::make_shared<Notification>();
    note->event_type = fnevNewMail;
    note->info = NewMailNotification{"entry", "inbox", 0, "IPM.Note", 0};
    items.push_back(Delivery{s, std::move(note)});
  }
  return NotificationBatch(c, std::move(items));
}

TEST(ThisThreadAdviseSinkTest, FailsOnThreadWithoutLoop) {
  ASSERT_EQ(MessageLoop::Current(), nullptr);
  auto wrapped = ThisThreadAdviseSink(std::make_shared<ThreadRecordingSink>());
  EXPECT_EQ(wrapped.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(ThisThreadAdviseSinkTest, RejectsNullSink) {
  MessageLoop loop;
  EXPECT_EQ(ThisThreadAdviseSink(nullptr).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ThisThreadAdviseSinkTest, DirectCallRunsOnWrappingThread) {
  internal::NotificationThread wrapping_thread;
  auto sink = std::make_shared<ThreadRecordingSink>();
  std::shared_ptr<AdviseSink> wrapped;
  absl::Notification made;
  ASSERT_TRUE(wrapping_thread.core()
                  ->PostTask([&] {
                    auto w = ThisThreadAdviseSink(sink);
                    ASSERT_TRUE(w.ok());
                    wrapped = *w;
                    made.Notify();
                  })
                  .ok());
  ASSERT_TRUE(made.WaitForNotificationWithTimeout(kTimeout));
  ASSERT_NE(wrapped, sink);

  // Called on this thread: runs on the wrapping thread, in order, each
  // batch whole.
  wrapped->OnNotify(NewMailBatch(1, 1, 3));
  wrapped->OnNotify(NewMailBatch(1, 4, 1));
  ASSERT_TRUE(sink->WaitForCalls(2));
  for (std::thread::id id : sink->threads()) {
    EXPECT_EQ(id, wrapping_thread.thread_id());
  }
  EXPECT_EQ(sink->sequences(),
            (std::vector<std::vector<uint64_t>>{{1, 2, 3}, {4}}));
  EXPECT_FALSE(sink->bad_payload());
}

TEST(ThisThreadAdviseSinkTest, WrappingAWrapperRetargetsToThisThread) {
  auto sink = std::make_shared<ThreadRecordingSink>();
  std::shared_ptr<AdviseSink> first;
  std::thread other([&] {
    MessageLoop loop;
    auto w = ThisThreadAdviseSink(sink);
    ASSERT_TRUE(w.ok());
    first = *w;
  });
  other.join();
  MessageLoop loop;
  auto rewrapped = ThisThreadAdviseSink(first);
  ASSERT_TRUE(rewrapped.ok());
  const auto* wrapper = internal::ThisThreadSink::From(rewrapped->get());
  ASSERT_NE(wrapper, nullptr);
  EXPECT_EQ(wrapper->inner(), sink);
  EXPECT_EQ(wrapper->loop(), loop.core());
  (*rewrapped)->OnNotify(NewMailBatch(2, 9, 1));
  EXPECT_TRUE(sink->threads().empty());  // Not run by the caller.
  EXPECT_EQ(loop.RunUntilIdle(), 1u);
  ASSERT_EQ(sink->threads().size(), 1u);
  EXPECT_EQ(sink->threads()[0], std::this_thread::get_id());
}

TEST(ThisThreadAdviseSinkTest, DirectCallDropsWhenLoopIsFullOrGone) {
  auto sink = std::make_shared<ThreadRecordingSink>();
  std::shared_ptr<AdviseSink> wrapped;
  {
    MessageLoop loop(MessageLoop::Options{1});
    auto w = ThisThreadAdviseSink(sink);
    ASSERT_TRUE(w.ok());
    wrapped = *w;
    wrapped->OnNotify(NewMailBatch(1, 1, 1));
    wrapped->OnNotify(NewMailBatch(1, 2, 1));  // Full: dropped.
    EXPECT_EQ(internal::ThisThreadSink::From(wrapped.get())->dropped(), 1u);
    EXPECT_EQ(loop.RunUntilIdle(), 1u);
  }
  wrapped->OnNotify(NewMailBatch(1, 3, 1));  // Loop destroyed: dropped.
  EXPECT_EQ(internal::ThisThreadSink::From(wrapped.get())->dropped(), 2u);
  EXPECT_EQ(sink->sequences(), (std::vector<std::vector<uint64_t>>{{1}}));
}

}  // namespace
}  // namespace mapinotify
