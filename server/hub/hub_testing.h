// Test helpers for the hub and outbox tests (header-only, not part of the
// library): notification builders and RecordingWriter, a stand-in for the
// gRPC reactor that drains an Outbox by the writer protocol.
#ifndef MAPINOTIFY_SERVER_HUB_HUB_TESTING_H_
#define MAPINOTIFY_SERVER_HUB_HUB_TESTING_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "mapinotify/v1/notifications.pb.h"
#include "server/hub/outbox.h"

namespace mapinotify::server::testing {

// An OBJECT notification of `type` about `entry_id` in `parent_id`.
inline v1::Notification ObjectNotification(v1::EventType type,
                                           std::string entry_id,
                                           std::string parent_id = "") {
  v1::Notification n;
  n.set_event_type(type);
  v1::ObjectNotification* object = n.mutable_object();
  object->set_entry_id(std::move(entry_id));
  object->set_parent_id(std::move(parent_id));
  object->set_object_type(5);         // MAPI_MESSAGE
  object->add_prop_tags(0x0037001F);  // PR_SUBJECT
  object->add_prop_tags(0x0E070003);  // PR_MESSAGE_FLAGS
  return n;
}

// Drains an Outbox like the gRPC reactor does and records every message as
// the peer would read it (serialized, then parsed). Thread-safe.
//
// Threaded mode: a thread of its own takes, "writes" and finishes messages
// whenever woken. Manual mode: DrainNow() does it on the calling thread.
class RecordingWriter {
 public:
  explicit RecordingWriter(bool threaded) : threaded_(threaded) {}
  ~RecordingWriter() {
    {
      absl::MutexLock lock(&mu_);
      stop_ = true;
    }
    if (thread_.joinable()) thread_.join();
  }

  // The `wake` callback for Hub::OpenStream / the Outbox constructor.
  std::function<void()> WakeCallback() {
    return [this] {
      absl::MutexLock lock(&mu_);
      ++wakes_;
      wake_pending_ = true;
    };
  }

  // For an outbox of a Hub with retention: what to call when the outbox is
  // behind and drained (Outbox::refill_due), as the gRPC reactor calls
  // Hub::Refill. Set before Attach.
  void SetRefill(std::function<void()> refill) { refill_ = std::move(refill); }

  // Starts writing `outbox` (the caller owes its first TakeWrite). In
  // threaded mode, `gate` (optional) must be notified before the writer
  // takes anything: a consumer that stalls until then.
  void Attach(std::shared_ptr<Outbox> outbox,
              absl::Notification* gate = nullptr) {
    {
      absl::MutexLock lock(&mu_);
      outbox_ = std::move(outbox);
      wake_pending_ = true;
    }
    if (threaded_) thread_ = std::thread([this, gate] { Run(gate); });
  }

  // Manual mode: writes until nothing is ready; returns the messages written.
  size_t DrainNow() {
    {
      absl::MutexLock lock(&mu_);
      wake_pending_ = false;
    }
    return WriteAll();
  }

  std::vector<v1::SubscribeResponse> responses() const {
    absl::MutexLock lock(&mu_);
    return responses_;
  }
  int wakes() const {
    absl::MutexLock lock(&mu_);
    return wakes_;
  }

  // Waits until `done(responses)` holds; false after `timeout`.
  bool WaitFor(const std::function<
                   bool(const std::vector<v1::SubscribeResponse>&)>& done,
               absl::Duration timeout = absl::Seconds(60)) const {
    absl::MutexLock lock(&mu_);
    const auto cond = [this, &done]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
      return done(responses_);
    };
    return mu_.AwaitWithTimeout(absl::Condition(&cond), timeout);
  }

 private:
  void Run(absl::Notification* gate) {
    if (gate != nullptr) gate->WaitForNotification();
    while (true) {
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(
            +[](RecordingWriter* w) ABSL_NO_THREAD_SAFETY_ANALYSIS {
              return w->wake_pending_ || w->stop_;
            },
            this));
        if (stop_) return;
        wake_pending_ = false;
      }
      WriteAll();
    }
  }

  size_t WriteAll() {
    std::shared_ptr<Outbox> outbox;
    {
      absl::MutexLock lock(&mu_);
      outbox = outbox_;
    }
    size_t written = 0;
    v1::SubscribeResponse out;
    for (;;) {
      if (!outbox->TakeWrite(&out)) {
        if (refill_ && outbox->refill_due()) {
          refill_();
          continue;
        }
        return written;
      }
      // What gRPC does with the message: serialize it.
      std::string wire = out.SerializeAsString();
      ++written;
      outbox->FinishWrite(&out);
      v1::SubscribeResponse read;
      read.ParseFromString(wire);
      absl::MutexLock lock(&mu_);
      responses_.push_back(std::move(read));
    }
  }

  const bool threaded_;
  std::function<void()> refill_;  // Set before the writer starts.
  mutable absl::Mutex mu_;
  std::shared_ptr<Outbox> outbox_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::SubscribeResponse> responses_ ABSL_GUARDED_BY(mu_);
  bool wake_pending_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  int wakes_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

// The deliveries of `responses`, in order.
inline std::vector<v1::Delivered> Deliveries(
    const std::vector<v1::SubscribeResponse>& responses) {
  std::vector<v1::Delivered> out;
  for (const v1::SubscribeResponse& r : responses) {
    for (const v1::Delivered& d : r.batch().notifications()) out.push_back(d);
  }
  return out;
}

// The control responses (everything but batches) of `responses`, in order.
inline std::vector<v1::SubscribeResponse> Controls(
    const std::vector<v1::SubscribeResponse>& responses) {
  std::vector<v1::SubscribeResponse> out;
  for (const v1::SubscribeResponse& r : responses) {
    if (!r.has_batch()) out.push_back(r);
  }
  return out;
}

}  // namespace mapinotify::server::testing

#endif  // MAPINOTIFY_SERVER_HUB_HUB_TESTING_H_
