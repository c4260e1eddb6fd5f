# mapinotify::store — the built-in provider: an in-memory MAPI message store
# that publishes its notifications to the hub. No gRPC (the Store service in
# server/service maps the wire onto it).
add_library(mapinotify_store STATIC
  ${CMAKE_CURRENT_LIST_DIR}/case_fold.cc
  ${CMAKE_CURRENT_LIST_DIR}/entry_id.cc
  ${CMAKE_CURRENT_LIST_DIR}/open_contexts.cc
  ${CMAKE_CURRENT_LIST_DIR}/progress_reporter.cc
  ${CMAKE_CURRENT_LIST_DIR}/property_bag.cc
  ${CMAKE_CURRENT_LIST_DIR}/restriction.cc
  ${CMAKE_CURRENT_LIST_DIR}/store.cc
  ${CMAKE_CURRENT_LIST_DIR}/store_folders.cc
  ${CMAKE_CURRENT_LIST_DIR}/store_message_ops.cc
  ${CMAKE_CURRENT_LIST_DIR}/store_messages.cc
  ${CMAKE_CURRENT_LIST_DIR}/store_notify.cc
  ${CMAKE_CURRENT_LIST_DIR}/store_objects.cc
  ${CMAKE_CURRENT_LIST_DIR}/store_props.cc
  ${CMAKE_CURRENT_LIST_DIR}/store_subtree.cc
  ${CMAKE_CURRENT_LIST_DIR}/store_table_rows.cc
  ${CMAKE_CURRENT_LIST_DIR}/store_tables.cc
  ${CMAKE_CURRENT_LIST_DIR}/store_tree.cc
  ${CMAKE_CURRENT_LIST_DIR}/table_view.cc)
add_library(mapinotify::store ALIAS mapinotify_store)
target_link_libraries(mapinotify_store
  PUBLIC mapinotify_hub
         mapinotify_common
         absl::base
         absl::core_headers
         absl::flat_hash_map
         absl::flat_hash_set
         absl::function_ref
         absl::status
         absl::statusor
         absl::strings
         absl::synchronization
  PRIVATE absl::random_random
          absl::str_format
          absl::time)
set_target_properties(mapinotify_store PROPERTIES POSITION_INDEPENDENT_CODE ON)
mapinotify_warnings(mapinotify_store)
