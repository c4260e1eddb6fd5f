# mapinotify::hub — subscriptions, sequence numbers and per-stream outbound
# queues. No gRPC: links only the generated messages, protobuf and Abseil.
add_library(mapinotify_hub STATIC
  ${CMAKE_CURRENT_LIST_DIR}/coalesce.cc
  ${CMAKE_CURRENT_LIST_DIR}/event.cc
  ${CMAKE_CURRENT_LIST_DIR}/hub.cc
  ${CMAKE_CURRENT_LIST_DIR}/outbox.cc
  ${CMAKE_CURRENT_LIST_DIR}/progress_marker.cc
  ${CMAKE_CURRENT_LIST_DIR}/registry.cc
  ${CMAKE_CURRENT_LIST_DIR}/target_key.cc
  ${CMAKE_CURRENT_LIST_DIR}/waker.cc)
add_library(mapinotify::hub ALIAS mapinotify_hub)
# Headers are included as "server/hub/hub.h".
target_include_directories(mapinotify_hub PUBLIC
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>)
target_link_libraries(mapinotify_hub
  PUBLIC mapinotify_proto
         mapinotify_common
         absl::base
         absl::core_headers
         absl::flat_hash_map
         absl::flat_hash_set
         absl::inlined_vector
         absl::span
         absl::status
         absl::statusor
         absl::strings
         absl::synchronization
  PRIVATE absl::random_random
          absl::str_format)
set_target_properties(mapinotify_hub PROPERTIES POSITION_INDEPENDENT_CODE ON)
mapinotify_warnings(mapinotify_hub)
