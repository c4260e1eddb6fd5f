# ThreadSanitizer support for the tests.
#
# mapinotify_tsan_shim: linked into every test binary by mapinotify_add_test.
# - In the TSan build (MAPINOTIFY_SANITIZE=thread) it is an OBJECT library
#   holding absl_tsan_shim.cc, which annotates Debian's uninstrumented
#   absl::Mutex / CondVar / Notification for TSan (see that file). An OBJECT
#   library, not a STATIC one: its object file must always be linked in, even
#   when the shared libabsl that defines the same symbols comes first on the
#   link line (a static archive member would then never be pulled in).
#   -rdynamic exports the interposing definitions from the executable, so that
#   calls made inside libabsl (e.g. Notification -> Mutex::LockWhen) reach
#   them too.
# - Otherwise it is an empty INTERFACE library.
#
# tsan_shim_test (TSan build only, label "tsan") proves the shim: guarded
# counters, Await, CondVar and Notification hand-offs must be race-free.
if(MAPINOTIFY_SANITIZE STREQUAL "thread")
  add_library(mapinotify_tsan_shim OBJECT
    ${CMAKE_CURRENT_LIST_DIR}/absl_tsan_shim.cc)
  # Not mapinotify_warnings(): its -Wthread-safety would flag the
  # re-definitions of Mutex::Lock & co., which by design call through a
  # function pointer.
  target_compile_options(mapinotify_tsan_shim PRIVATE -Wall -Wextra)
  if(MAPINOTIFY_WERROR)
    target_compile_options(mapinotify_tsan_shim PRIVATE -Werror)
  endif()
  target_link_libraries(mapinotify_tsan_shim
    PUBLIC absl::synchronization absl::time ${CMAKE_DL_LIBS})
  target_link_options(mapinotify_tsan_shim INTERFACE -rdynamic)

  add_executable(tsan_shim_test ${CMAKE_CURRENT_LIST_DIR}/tsan_shim_test.cc)
  mapinotify_warnings(tsan_shim_test)
  target_link_libraries(tsan_shim_test PRIVATE
    mapinotify_tsan_shim absl::synchronization absl::time
    GTest::gtest GTest::gtest_main Threads::Threads)
  add_test(NAME tsan_shim_test COMMAND tsan_shim_test)
  set_tests_properties(tsan_shim_test PROPERTIES TIMEOUT 300 LABELS "tsan;unit")
else()
  # Empty outside the TSan build.
  add_library(mapinotify_tsan_shim INTERFACE)
endif()
