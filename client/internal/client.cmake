# mapinotify_client: the session over gRPC. Only client/internal/* includes
# grpcpp; the public headers (client/include/mapinotify) never do.
add_library(mapinotify_client STATIC
  operation.cc
  session.cc
  table.cc
  table_mirror.cc
  internal/caller.cc
  internal/grpc_status.cc
  internal/operation_call.cc
  internal/session_impl.cc
  internal/session_reconnect.cc
  internal/store_client.cc
  internal/table_client.cc
  internal/subscribe_stream.cc)
add_library(mapinotify::client ALIAS mapinotify_client)
target_include_directories(mapinotify_client
  PUBLIC $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
         $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
  PRIVATE ${PROJECT_SOURCE_DIR})
target_link_libraries(mapinotify_client
  PUBLIC mapinotify_client_core mapinotify_common absl::status absl::statusor
         absl::synchronization absl::time
  PRIVATE mapinotify_grpc_proto gRPC::grpc++ absl::random_random
          absl::strings)
mapinotify_warnings(mapinotify_client)
