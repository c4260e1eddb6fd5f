# mapinotify_server: the gRPC services and the in-process Server; the only
# server code that includes grpcpp.
add_library(mapinotify_server STATIC
  service/caller.cc
  service/grpc_status.cc
  service/long_operations.cc
  service/notifications_service.cc
  service/operation_reactor.cc
  service/operation_runner.cc
  service/request_checks.cc
  service/server.cc
  service/store_service.cc
  service/table_service.cc)
add_library(mapinotify::server ALIAS mapinotify_server)
target_include_directories(mapinotify_server PUBLIC
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>)
target_link_libraries(mapinotify_server
  PUBLIC mapinotify_hub mapinotify_store mapinotify_grpc_proto mapinotify_common
         gRPC::grpc++ gRPC::grpc++_reflection absl::status absl::statusor
         absl::synchronization absl::time absl::strings)
mapinotify_warnings(mapinotify_server)

add_executable(mapinotifyd mapinotifyd.cc)
target_link_libraries(mapinotifyd PRIVATE mapinotify_server absl::flags
                                          absl::flags_parse absl::flags_usage
                                          ${MAPINOTIFY_MALLOC_LIBRARIES})
mapinotify_warnings(mapinotifyd)
