# client_unit: the gRPC-free client core (MessageLoop, dispatcher,
# ThisThreadAdviseSink). Label tsan: the TSan build runs them too.
mapinotify_add_test(message_loop_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/message_loop_test.cc
  LIBS mapinotify_client_core
  LABELS unit tsan)
mapinotify_add_test(dispatcher_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/dispatcher_test.cc
  LIBS mapinotify_client_core absl::strings
  LABELS unit tsan)
mapinotify_add_test(this_thread_sink_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/this_thread_sink_test.cc
  LIBS mapinotify_client_core
  LABELS unit tsan)
mapinotify_add_test(table_mirror_state_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/table_mirror_state_test.cc
  LIBS mapinotify_client_core
  LABELS unit tsan)
mapinotify_add_test(thread_progress_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/thread_progress_test.cc
  LIBS mapinotify_client_core
  LABELS unit tsan)
mapinotify_add_test(backoff_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/backoff_test.cc
  LIBS mapinotify_client_core
  LABELS unit tsan)
mapinotify_add_test(state_notifier_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/state_notifier_test.cc
  LIBS mapinotify_client_core
  LABELS unit tsan)
mapinotify_add_test(shared_notification_thread_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/shared_notification_thread_test.cc
  LIBS mapinotify_client_core
  LABELS unit tsan)
