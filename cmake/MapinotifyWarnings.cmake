# mapinotify_warnings(<target>): the warning set for our own code (never for
# generated code). With clang, -Wthread-safety checks the ABSL_GUARDED_BY /
# ABSL_EXCLUSIVE_LOCKS_REQUIRED annotations and is always an error.
function(mapinotify_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra)
  if(MAPINOTIFY_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    target_compile_options(${target} PRIVATE -Wthread-safety
                                             -Werror=thread-safety)
  endif()
endfunction()
