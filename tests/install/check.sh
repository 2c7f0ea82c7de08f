#!/usr/bin/env bash
# check.sh: installs Cord into a scratch prefix with the documented commands, and builds programs against it with pkg-config and find_package().
set -euo pipefail
build=$(cd "${1:?usage: check.sh BUILD_DIR}" && pwd)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# The README's commands, verbatim (scripts/install-and-link.sh), on the
# smallest parent (consumer/main.c) and the echo child.
cp "$here/consumer/main.c" "$scratch/parent.c"
cp "$root/sdk/child/examples/echo/echo.c" "$scratch/child.c"
out=$(cd "$scratch" && prefix="$scratch/prefix" build="$build" bash -euo pipefail "$root/scripts/install-and-link.sh" | tail -n 1)
[ "$out" = '{"installed":true}' ] || { echo "the documented commands printed: $out"; exit 1; }
for f in cord.h cord_errors.h cord_child.h cord_child_config.h cord.pb.h; do
  [ -f "$scratch/prefix/include/cord/$f" ] || { echo "not installed: include/cord/$f"; exit 1; }
done
# Only the SDKs' own symbols leave the shared library.
if nm -D --defined-only "$scratch/prefix/lib/libcord.so" | awk '{print $3}' | grep -v '^cord_[a-z]' | grep -v '^CORD_1.0$'; then
  echo "libcord.so exports more than its API"; exit 1
fi

# CMake packages: find_package(cord) and find_package(cord-child).
cmake -S "$here/consumer" -B "$scratch/cmake" -DCMAKE_PREFIX_PATH="$scratch/prefix" >/dev/null
cmake --build "$scratch/cmake" >/dev/null
out=$(LD_LIBRARY_PATH="$scratch/prefix/lib" "$scratch/cmake/consumer" "$scratch/cmake/child")
[ "$out" = '{"installed":true}' ] || { echo "the find_package consumers printed: $out"; exit 1; }
echo "installed, and used through pkg-config and find_package: ok"
