# server_unit: the hub and its outbound queues (no gRPC; also run under TSan).
mapinotify_add_test(server_outbox_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/outbox_test.cc
  LIBS mapinotify::hub
  LABELS unit tsan)
mapinotify_add_test(server_hub_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/hub_test.cc
  LIBS mapinotify::hub
  LABELS unit tsan)
mapinotify_add_test(server_hub_concurrency_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/hub_concurrency_test.cc
  LIBS mapinotify::hub
  LABELS unit tsan)
mapinotify_add_test(server_registry_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/registry_test.cc
  LIBS mapinotify::hub
  LABELS unit tsan)
# The long operations' threads (server/service/operation_runner.cc has no
# gRPC, so it is compiled in here and runs under TSan too).
mapinotify_add_test(server_operation_runner_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/operation_runner_test.cc
          ${PROJECT_SOURCE_DIR}/server/service/operation_runner.cc
  LIBS mapinotify::common absl::synchronization absl::status absl::strings
  LABELS unit tsan)
# Retention, replay, progress marks and the shutdown seal (issue 6).
mapinotify_add_test(server_hub_resume_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/hub_resume_test.cc
  LIBS mapinotify::hub
  LABELS unit tsan)
mapinotify_add_test(server_coalesce_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/coalesce_test.cc
  LIBS mapinotify::hub
  LABELS unit tsan)
# Wakes of many streams run on the hub's Waker thread, not the publisher's.
mapinotify_add_test(server_waker_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/waker_test.cc
  LIBS mapinotify::hub
  LABELS unit tsan)
