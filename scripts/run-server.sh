#!/usr/bin/env bash
# Runs mapinotifyd in the foreground on 127.0.0.1:50051 (Ctrl-C stops it).
#
# Installs the dependencies (scripts/install-deps.sh), builds the server
# (g++, Release, in build/release; warnings are not errors here: scripts/test.sh
# enforces -Werror, a compiler-version false positive must not stop the
# server from running) and execs it. Arguments are passed on to
# mapinotifyd, after the default --address (a later flag wins), e.g.
#   scripts/run-server.sh --address=0.0.0.0:50051
# Environment: JOBS (default 2) sets the build parallelism.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BUILD=build/release

"$ROOT/scripts/install-deps.sh"
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_COMPILER=g++ -DMAPINOTIFY_SANITIZE= -DBUILD_TESTING=OFF \
  -DMAPINOTIFY_WERROR=OFF
cmake --build "$BUILD" -j "${JOBS:-2}" --target mapinotifyd

server="$BUILD/server/mapinotifyd"
if [[ ! -x "$server" ]]; then
  # Fallback should the target's output directory ever change.
  server=$(find "$BUILD" -type f -name mapinotifyd -perm -u+x | head -n 1)
fi
if [[ -z "$server" || ! -x "$server" ]]; then
  echo "run-server: mapinotifyd not found under $BUILD" >&2
  exit 1
fi
echo "run-server: starting $server on 127.0.0.1:50051"
exec "$server" --address=127.0.0.1:50051 "$@"
