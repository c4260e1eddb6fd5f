#!/usr/bin/env bash
# THE test command of mapinotify (README and .ci/run call it).
#
# Installs the dependencies (scripts/install-deps.sh), then configures,
# builds and runs ctest in up to three configurations, each in its own build
# directory under build/:
#
#   gcc   g++, RelWithDebInfo, -Wall -Wextra -Werror on our code; all tests.
#   asan  clang++, MAPINOTIFY_SANITIZE=address (ASan + UBSan); all tests.
#   tsan  clang++, MAPINOTIFY_SANITIZE=thread, MAPINOTIFY_GRPC=OFF; only the
#         tests labelled "tsan" (gRPC-free unit tests of the client's loop and
#         dispatch and of the server's hub, plus the Abseil TSan shim's own).
#
# Usage:
#   scripts/test.sh                      all three, in that order
#   scripts/test.sh gcc tsan             only those
#   scripts/test.sh gcc -- -R hub_test   extra ctest arguments after --
#
# Environment: JOBS (default 2) sets build and ctest parallelism. Sanitizer
# options set below can be extended through ASAN_OPTIONS, UBSAN_OPTIONS,
# LSAN_OPTIONS and TSAN_OPTIONS (the caller's settings come last and win).
#
# Exit status: 0 when every selected configuration built and passed, 1
# otherwise (all selected configurations run even after a failure, and a
# summary lists the failed ones), 2 on a usage error.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

JOBS=${JOBS:-2}
# Tests without their own TIMEOUT property get this many seconds.
TEST_TIMEOUT=${TEST_TIMEOUT:-600}

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
}

configs=()
ctest_extra=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    gcc | asan | tsan) configs+=("$1") ;;
    --) shift; ctest_extra=("$@"); break ;;
    -h | --help) usage; exit 0 ;;
    *) echo "test.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
if [[ ${#configs[@]} -eq 0 ]]; then
  configs=(gcc asan tsan)
fi

section() {
  printf '\n==== %s ====\n' "$*"
}

# Seconds since $1, as "Ns".
elapsed() {
  echo "$(($(date +%s) - $1))s"
}

# Sanitizer runtime options. halt_on_error: the first report fails the test.
# LeakSanitizer works in this environment (it needs no ptrace here), so leaks
# are errors; known third-party leaks, if any, go in scripts/lsan.supp.
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:check_initialization_order=1:strict_init_order=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export LSAN_OPTIONS="suppressions=$ROOT/scripts/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1${TSAN_OPTIONS:+:$TSAN_OPTIONS}"

# run_config <name>: configure, build and test one configuration. Returns
# nonzero on the first step that fails (called in an `if`, so set -e does
# not apply inside: every step checks its own status).
run_config() {
  local name=$1
  local dir="build/$name"
  local cmake_args=(-G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo)
  local ctest_args=(--output-on-failure -j "$JOBS" --timeout "$TEST_TIMEOUT")
  case "$name" in
    gcc)
      cmake_args+=(-DCMAKE_CXX_COMPILER=g++ -DMAPINOTIFY_SANITIZE=)
      ;;
    asan)
      cmake_args+=(-DCMAKE_CXX_COMPILER=clang++ -DMAPINOTIFY_SANITIZE=address)
      ;;
    tsan)
      cmake_args+=(-DCMAKE_CXX_COMPILER=clang++ -DMAPINOTIFY_SANITIZE=thread
                   -DMAPINOTIFY_GRPC=OFF)
      ctest_args+=(-L tsan)
      ;;
  esac

  local t
  section "$name: configure ($dir)"
  t=$(date +%s)
  cmake -S . -B "$dir" "${cmake_args[@]}" || return 1
  echo "-- $name: configure took $(elapsed "$t")"

  section "$name: build"
  t=$(date +%s)
  cmake --build "$dir" -j "$JOBS" || return 1
  echo "-- $name: build took $(elapsed "$t")"

  section "$name: test"
  t=$(date +%s)
  (cd "$dir" && ctest "${ctest_args[@]}" "${ctest_extra[@]}") || return 1
  echo "-- $name: tests took $(elapsed "$t")"
}

start=$(date +%s)
section "dependencies"
t=$(date +%s)
"$ROOT/scripts/install-deps.sh"
echo "-- dependencies took $(elapsed "$t")"

failed=()
passed=()
for name in "${configs[@]}"; do
  t=$(date +%s)
  if run_config "$name"; then
    passed+=("$name")
    echo "-- $name: PASSED in $(elapsed "$t")"
  else
    failed+=("$name")
    echo "-- $name: FAILED after $(elapsed "$t")" >&2
  fi
done

section "summary ($(elapsed "$start"))"
if [[ ${#passed[@]} -gt 0 ]]; then
  echo "passed: ${passed[*]}"
fi
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "all passed"
