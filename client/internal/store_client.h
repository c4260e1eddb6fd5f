// StoreClient: the wire end of MsgStore, Message and Table — the session's
// channel, the Store and Table stubs, the caller metadata and the
// conversions between the wire and the library's value types. Internal; the
// contracts are in mapinotify/store.h and mapinotify/table.h.
#ifndef MAPINOTIFY_CLIENT_INTERNAL_STORE_CLIENT_H_
#define MAPINOTIFY_CLIENT_INTERNAL_STORE_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "mapinotify/message_loop.h"
#include "mapinotify/operation.h"
#include "mapinotify/progress.h"
#include "mapinotify/store.h"
#include "mapinotify/table.h"
#include "mapinotify/v1/store.grpc.pb.h"
#include "mapinotify/v1/table.grpc.pb.h"

namespace mapinotify::internal {

// Thread-safe: the stubs are, and the only mutable state is atomic. Shared
// (std::shared_ptr) by the session, its MsgStores and their Messages and
// Tables, so that any of them may outlive the others.
class StoreClient {
 public:
  // Calls go over `channel` as session `session_id`, each with
  // `call_timeout`.
  StoreClient(std::shared_ptr<grpc::Channel> channel, std::string session_id,
              absl::Duration call_timeout);

  // GetStoreInfo, then a MsgStore on this client.
  static absl::StatusOr<std::unique_ptr<MsgStore>> OpenMsgStore(
      const std::shared_ptr<StoreClient>& client);
  // A Message for `handle` (CreateMessage / OpenMessage answers).
  static std::unique_ptr<Message> MakeMessage(
      const std::shared_ptr<StoreClient>& client, uint64_t handle,
      EntryId entry_id);
  // A Table for `view` (OpenContentsTable / OpenHierarchyTable answers).
  static std::unique_ptr<Table> MakeTable(
      const std::shared_ptr<StoreClient>& client, uint64_t view);

  // The session ended: every later call fails with Unavailable
  // (MAPI_E_END_OF_SESSION). Calls in flight complete.
  void Close() { closed_.store(true, std::memory_order_release); }
  bool closed() const { return closed_.load(std::memory_order_acquire); }

  // One unary call of the Store stub, tagged with the session and the
  // calling thread; the answer's status rehydrated (FromGrpcStatus).
  template <typename Request, typename Response>
  absl::Status Call(grpc::Status (v1::Store::Stub::*method)(
                        grpc::ClientContext*, const Request&, Response*),
                    const Request& request, Response* response) const {
    if (closed()) return EndOfSession();
    grpc::ClientContext context;
    Prepare(&context);
    return Finish((stub_.get()->*method)(&context, request, response));
  }
  // The same for the Table stub.
  template <typename Request, typename Response>
  absl::Status Call(grpc::Status (v1::Table::Stub::*method)(
                        grpc::ClientContext*, const Request&, Response*),
                    const Request& request, Response* response) const {
    if (closed()) return EndOfSession();
    grpc::ClientContext context;
    Prepare(&context);
    return Finish((table_stub_.get()->*method)(&context, request, response));
  }

  // RunOperation of `start` with a progress object, blocking: reads
  // `progress`'s flags and limits, then calls it on the calling thread as
  // the server reports, and returns the outcome after the last call
  // (mapinotify/store.h, "Long operations").
  OperationResult RunOperation(v1::OperationStart start,
                               MapiProgress& progress) const;
  // MsgStore::Start: RunOperation of `start` delivering to `loop`.
  // InvalidArgument for an empty `done`, Unavailable (MAPI_E_END_OF_SESSION)
  // once closed, FailedPrecondition for a destroyed loop.
  absl::StatusOr<std::shared_ptr<Operation>> StartOperation(
      v1::OperationStart start, std::shared_ptr<MapiProgress> progress,
      MessageLoop& loop, OperationCallback done) const;

 private:
  static absl::Status EndOfSession();
  // Caller metadata and deadline.
  void Prepare(grpc::ClientContext* context) const;
  static absl::Status Finish(const grpc::Status& status);

  // Constant after construction.
  const std::shared_ptr<grpc::Channel> channel_;
  const std::unique_ptr<v1::Store::Stub> stub_;
  const std::unique_ptr<v1::Table::Stub> table_stub_;
  const std::string session_id_;
  const absl::Duration call_timeout_;

  // Set once by Close; read by every call (no other state depends on it).
  std::atomic<bool> closed_{false};
};

}  // namespace mapinotify::internal

#endif  // MAPINOTIFY_CLIENT_INTERNAL_STORE_CLIENT_H_
