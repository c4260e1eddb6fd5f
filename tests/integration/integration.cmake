# Integration tests: a real mapinotifyd (in-process Server on 127.0.0.1:0, or
# the mapinotifyd binary as a second process) and real clients over gRPC.
add_library(mapinotify_integration_util STATIC integration/test_util.cc
                                               integration/tcp_proxy.cc
                                               integration/delivery_checker.cc)
target_include_directories(mapinotify_integration_util PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(mapinotify_integration_util
  PUBLIC mapinotify_server mapinotify_store mapinotify_client
         absl::synchronization)
mapinotify_warnings(mapinotify_integration_util)

foreach(t thread_matrix notification_thread order unadvise reentrancy
          overflow bad_input
          health_reflection shutdown store_matrix store_props store_threads
          store_errors store_slow_subscriber store_stress
          table_views table_threads table_notify table_mirror
          operation_wire operation_progress tcp_proxy keepalive
          reconnect fault_cut fragment)
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/integration/${t}_test.cc)
    mapinotify_add_test(${t}_test
      SOURCES integration/${t}_test.cc
      LIBS mapinotify_integration_util
      LABELS integration)
  endif()
endforeach()

# Faults with the server in a second process: this test executable re-runs
# itself as the server (integration/fault_server_role.h), driven through
# bench/proc.h's Child.
mapinotify_add_test(fault_process_test
  SOURCES integration/fault_process_test.cc
          integration/fault_server_role.cc
          ${PROJECT_SOURCE_DIR}/bench/proc.cc
  LIBS mapinotify_integration_util
  LABELS integration)

# Client stubs of the standard health and reflection services (test-only).
add_library(mapinotify_test_proto STATIC)
set(MAPINOTIFY_TEST_PROTOS
  ${CMAKE_CURRENT_SOURCE_DIR}/proto/grpc/health/v1/health.proto
  ${CMAKE_CURRENT_SOURCE_DIR}/proto/grpc/reflection/v1alpha/reflection.proto)
set(MAPINOTIFY_TEST_PROTO_OUT ${CMAKE_CURRENT_BINARY_DIR}/gen)
file(MAKE_DIRECTORY ${MAPINOTIFY_TEST_PROTO_OUT})
target_sources(mapinotify_test_proto PRIVATE ${MAPINOTIFY_TEST_PROTOS})
protobuf_generate(TARGET mapinotify_test_proto LANGUAGE cpp
  IMPORT_DIRS ${CMAKE_CURRENT_SOURCE_DIR}/proto
  PROTOC_OUT_DIR ${MAPINOTIFY_TEST_PROTO_OUT})
protobuf_generate(TARGET mapinotify_test_proto LANGUAGE grpc
  GENERATE_EXTENSIONS .grpc.pb.h .grpc.pb.cc
  PLUGIN protoc-gen-grpc=$<TARGET_FILE:gRPC::grpc_cpp_plugin>
  IMPORT_DIRS ${CMAKE_CURRENT_SOURCE_DIR}/proto
  PROTOC_OUT_DIR ${MAPINOTIFY_TEST_PROTO_OUT})
# protobuf_generate names the files by their path relative to tests/.
target_include_directories(mapinotify_test_proto PUBLIC ${MAPINOTIFY_TEST_PROTO_OUT})
target_link_libraries(mapinotify_test_proto PUBLIC protobuf::libprotobuf gRPC::grpc++)
if(TARGET health_reflection_test)
  target_link_libraries(health_reflection_test PRIVATE mapinotify_test_proto)
endif()
if(TARGET shutdown_test)
  target_link_libraries(shutdown_test PRIVATE mapinotify_test_proto)
  target_compile_definitions(shutdown_test PRIVATE
    MAPINOTIFYD_PATH="$<TARGET_FILE:mapinotifyd>")
  add_dependencies(shutdown_test mapinotifyd)
endif()
