# table_unit: the store's table views (no gRPC; also run under TSan).
foreach(name store_restriction table_view store_tables store_table_events
             store_tables_property)
  mapinotify_add_test(server_${name}_test
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/${name}_test.cc
    LIBS mapinotify::store
    LABELS unit tsan)
endforeach()
