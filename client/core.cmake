# mapinotify::client_core — MessageLoop, the notification dispatcher and
# ThisThreadAdviseSink. No gRPC: its tests also run under TSan.
add_library(mapinotify_client_core STATIC
  ${CMAKE_CURRENT_LIST_DIR}/loop_core.cc
  ${CMAKE_CURRENT_LIST_DIR}/message_loop.cc
  ${CMAKE_CURRENT_LIST_DIR}/dispatcher.cc
  ${CMAKE_CURRENT_LIST_DIR}/notification_thread.cc
  ${CMAKE_CURRENT_LIST_DIR}/this_thread_sink.cc
  ${CMAKE_CURRENT_LIST_DIR}/thread_progress.cc
  ${CMAKE_CURRENT_LIST_DIR}/table_mirror_state.cc)
add_library(mapinotify::client_core ALIAS mapinotify_client_core)
target_include_directories(mapinotify_client_core
  PUBLIC $<BUILD_INTERFACE:${CMAKE_CURRENT_LIST_DIR}/include>
         $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
  PRIVATE ${PROJECT_SOURCE_DIR})
target_link_libraries(mapinotify_client_core
  PUBLIC mapinotify_common absl::synchronization absl::status absl::statusor
         absl::time absl::flat_hash_map absl::inlined_vector absl::span
         Threads::Threads)
set_target_properties(mapinotify_client_core PROPERTIES
  POSITION_INDEPENDENT_CODE ON)
mapinotify_warnings(mapinotify_client_core)
