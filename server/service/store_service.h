// The gRPC Store service (proto/mapinotify/v1/store.proto): maps each unary
// RPC onto server::store::Store, validating every request field first.
#ifndef MAPINOTIFY_SERVER_SERVICE_STORE_SERVICE_H_
#define MAPINOTIFY_SERVER_SERVICE_STORE_SERVICE_H_

#include <cstddef>

#include "mapinotify/v1/store.grpc.pb.h"
#include "server/service/operation_runner.h"
#include "server/service/request_checks.h"
#include "server/store/store.h"

namespace mapinotify::server {

// Thread-safe (the store is; the service holds no state of its own besides
// RunOperation's threads). Each unary call runs inline on the gRPC thread
// that received it (the store's work is in memory and short) and finishes
// with the store's status: the MAPI SCODE
// travels in error_details (server/service/grpc_status.h). Bad input —
// missing or malformed caller metadata, a missing or oversized entry id, an
// unknown flag bit, an oversized list, a value that disagrees with its tag —
// is refused before the store sees it, with the SCODE store.proto documents.
class StoreService final : public v1::Store::CallbackService {
 public:
  // Request limits (see store.proto).
  static constexpr size_t kMaxEntryIdBytes = server::kMaxEntryIdBytes;
  static constexpr size_t kMaxProps = server::kMaxProps;
  static constexpr size_t kMaxEntryIds = server::kMaxEntryIds;
  static constexpr size_t kMaxNameBytes = server::kMaxNameBytes;
  static constexpr size_t kMaxCommentBytes = server::kMaxCommentBytes;

  // `store` must outlive the service. RunOperation's long operations run on
  // `operations`' threads (server/service/operation_runner.h); the gRPC
  // server must be shut down before the service is destroyed.
  explicit StoreService(store::Store* store,
                        OperationRunner::Options operations = {});
  ~StoreService() override;
  StoreService(const StoreService&) = delete;
  StoreService& operator=(const StoreService&) = delete;

  grpc::ServerUnaryReactor* GetStoreInfo(
      grpc::CallbackServerContext* context,
      const v1::GetStoreInfoRequest* request,
      v1::GetStoreInfoResponse* response) override;
  grpc::ServerUnaryReactor* GetProps(grpc::CallbackServerContext* context,
                                     const v1::GetPropsRequest* request,
                                     v1::GetPropsResponse* response) override;
  grpc::ServerUnaryReactor* SetProps(grpc::CallbackServerContext* context,
                                     const v1::SetPropsRequest* request,
                                     v1::SetPropsResponse* response) override;
  grpc::ServerUnaryReactor* DeleteProps(
      grpc::CallbackServerContext* context,
      const v1::DeletePropsRequest* request,
      v1::DeletePropsResponse* response) override;
  grpc::ServerUnaryReactor* CreateFolder(
      grpc::CallbackServerContext* context,
      const v1::CreateFolderRequest* request,
      v1::CreateFolderResponse* response) override;
  grpc::ServerUnaryReactor* CopyFolder(
      grpc::CallbackServerContext* context,
      const v1::CopyFolderRequest* request,
      v1::CopyFolderResponse* response) override;
  grpc::ServerUnaryReactor* DeleteFolder(
      grpc::CallbackServerContext* context,
      const v1::DeleteFolderRequest* request,
      v1::DeleteFolderResponse* response) override;
  grpc::ServerUnaryReactor* EmptyFolder(
      grpc::CallbackServerContext* context,
      const v1::EmptyFolderRequest* request,
      v1::EmptyFolderResponse* response) override;
  grpc::ServerUnaryReactor* CreateMessage(
      grpc::CallbackServerContext* context,
      const v1::CreateMessageRequest* request,
      v1::CreateMessageResponse* response) override;
  grpc::ServerUnaryReactor* OpenMessage(
      grpc::CallbackServerContext* context,
      const v1::OpenMessageRequest* request,
      v1::OpenMessageResponse* response) override;
  grpc::ServerUnaryReactor* SaveChanges(
      grpc::CallbackServerContext* context,
      const v1::SaveChangesRequest* request,
      v1::SaveChangesResponse* response) override;
  grpc::ServerUnaryReactor* Release(grpc::CallbackServerContext* context,
                                    const v1::ReleaseRequest* request,
                                    v1::ReleaseResponse* response) override;
  grpc::ServerUnaryReactor* DeleteMessages(
      grpc::CallbackServerContext* context,
      const v1::DeleteMessagesRequest* request,
      v1::DeleteMessagesResponse* response) override;
  grpc::ServerUnaryReactor* CopyMessages(
      grpc::CallbackServerContext* context,
      const v1::CopyMessagesRequest* request,
      v1::CopyMessagesResponse* response) override;
  grpc::ServerUnaryReactor* SetReadFlags(
      grpc::CallbackServerContext* context,
      const v1::SetReadFlagsRequest* request,
      v1::SetReadFlagsResponse* response) override;
  grpc::ServerUnaryReactor* DeliverNewMail(
      grpc::CallbackServerContext* context,
      const v1::DeliverNewMailRequest* request,
      v1::DeliverNewMailResponse* response) override;
  grpc::ServerUnaryReactor* OpenContentsTable(
      grpc::CallbackServerContext* context,
      const v1::OpenContentsTableRequest* request,
      v1::OpenContentsTableResponse* response) override;
  grpc::ServerUnaryReactor* OpenHierarchyTable(
      grpc::CallbackServerContext* context,
      const v1::OpenHierarchyTableRequest* request,
      v1::OpenHierarchyTableResponse* response) override;
  // A long operation with progress and cancel (operation_reactor.h).
  grpc::ServerBidiReactor<v1::OperationRequest, v1::OperationResponse>*
  RunOperation(grpc::CallbackServerContext* context) override;

 private:
  // Constant after construction.
  store::Store* const store_;
  // Joined in the destructor, after every call is done.
  OperationRunner runner_;
};

}  // namespace mapinotify::server

#endif  // MAPINOTIFY_SERVER_SERVICE_STORE_SERVICE_H_
