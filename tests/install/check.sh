#!/usr/bin/env bash
# check.sh: installs Cord into a scratch prefix and builds programs against it with find_package(cord) and pkg-config.
set -euo pipefail
build=${1:?usage: check.sh BUILD_DIR CHILD_PROGRAM...}
shift
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

cmake --install "$build" --prefix "$scratch/prefix" >/dev/null

# CMake package.
cmake -S "$here/consumer" -B "$scratch/cmake" -DCMAKE_PREFIX_PATH="$scratch/prefix" >/dev/null
cmake --build "$scratch/cmake" >/dev/null
out=$("$scratch/cmake/consumer" "$@")
[ "$out" = '{"installed":true}' ] || { echo "find_package consumer printed: $out"; exit 1; }

# pkg-config.
export PKG_CONFIG_PATH="$scratch/prefix/lib/pkgconfig"
cc -o "$scratch/pc" "$here/consumer/main.c" $(pkg-config --cflags cord) $(pkg-config --libs --static cord)
out=$("$scratch/pc" "$@")
[ "$out" = '{"installed":true}' ] || { echo "pkg-config consumer printed: $out"; exit 1; }

if pkg-config --exists cord-child; then
  pkg-config --cflags --libs cord-child >/dev/null
fi
echo "installed and used through find_package(cord) and pkg-config cord: ok"
