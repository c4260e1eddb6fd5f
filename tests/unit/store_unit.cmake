# store_unit: the built-in store provider (no gRPC; also run under TSan).
foreach(name entry_id props folders messages message_ops targets concurrency
             progress progress_cancel counters)
  mapinotify_add_test(server_store_${name}_test
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/store_${name}_test.cc
    LIBS mapinotify::store
    LABELS unit tsan)
endforeach()
