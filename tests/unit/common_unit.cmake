# common_unit: status mapping and wire conversion (no sockets, no gRPC).
mapinotify_add_test(common_status_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/status_test.cc
  LIBS mapinotify_common
  LABELS unit)
mapinotify_add_test(common_proto_convert_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/proto_convert_test.cc
  LIBS mapinotify_common mapinotify_proto
  LABELS unit)
