#!/usr/bin/env bash
# Installs what mapinotify needs to build and test, from Debian 12's own
# packages. Idempotent: when every package is already installed it does not
# touch apt at all, so reruns take a fraction of a second.
#
# Usage: scripts/install-deps.sh        (as root, or as a user with sudo)
set -euo pipefail

# One line per need, so that a missing one is easy to spot.
PACKAGES=(
  cmake ninja-build pkg-config     # build system
  g++                              # the default compiler (libstdc++ too)
  clang libclang-rt-14-dev         # clang 14 + ASan/UBSan/TSan runtimes
  libgrpc++-dev protobuf-compiler-grpc   # gRPC 1.51 + grpc_cpp_plugin
  libprotobuf-dev protobuf-compiler      # Protobuf 3.21 + protoc
  libabsl-dev                      # Abseil 20220623
  libgtest-dev libgmock-dev        # GoogleTest 1.12
  libbenchmark-dev                 # Google Benchmark
  libgoogle-perftools-dev          # tcmalloc for mapinotifyd and the benchmark
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  if [[ "$status" != "installed" ]]; then
    missing+=("$pkg")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
  SUDO=(sudo)
fi

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y --no-install-recommends "${missing[@]}"
