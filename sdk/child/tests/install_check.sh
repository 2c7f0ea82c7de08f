#!/usr/bin/env bash
# install_check.sh: installs Cord into a scratch prefix, builds a child against libcord-child with pkg-config, and runs it.
set -euo pipefail
build=${1:?usage: install_check.sh BUILD_DIR ECHO_SOURCE}
source=${2:?usage: install_check.sh BUILD_DIR ECHO_SOURCE}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

cmake --install "$build" --prefix "$scratch/prefix" >/dev/null
export PKG_CONFIG_PATH="$scratch/prefix/lib/pkgconfig"
for f in cord_child.h cord_child_config.h cord_errors.h cord.pb.h; do
  [ -f "$scratch/prefix/include/cord/$f" ] || { echo "not installed: include/cord/$f"; exit 1; }
done
[ -f "$scratch/prefix/lib/libcord-child.a" ] || { echo "not installed: lib/libcord-child.a"; exit 1; }
cc -std=c11 -Wall -Werror -o "$scratch/echo" "$source" $(pkg-config --cflags --libs cord-child)

# Without a parent: one line and status 64 (spec CHAN-7).
status=0
"$scratch/echo" 2>"$scratch/err" || status=$?
[ "$status" = 64 ] || { echo "without a parent the installed echo exited $status"; exit 1; }
grep -q "Cord parent" "$scratch/err" || { echo "unexpected message: $(cat "$scratch/err")"; exit 1; }

# Under an unmodified Node.js parent, when there is one.
if command -v node >/dev/null 2>&1; then
  out=$(node -e '
    const c = require("child_process").spawn(process.argv[1], [], { stdio: [0, 1, 2, "ipc"] });
    c.on("message", (m) => { console.log(JSON.stringify(m)); c.disconnect(); });
    c.on("exit", (code) => console.log("exit " + code));
    c.send({ installed: true });' "$scratch/echo")
  [ "$out" = $'{"installed":true}\nexit 0' ] || { echo "the installed echo under Node printed: $out"; exit 1; }
fi
echo "libcord-child installed and used through pkg-config cord-child: ok"
