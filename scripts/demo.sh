#!/usr/bin/env bash
# demo.sh: the main job: checks the spec, verifies its formal model, and shows the wire examples decoded.
set -euo pipefail
build=${1:?usage: demo.sh BUILD_DIR}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

echo "== spec: requirement ids"
python3 "$root/spec/tools/spec_ids.py" check
echo
echo "== spec: formal model (spin, exhaustive)"
"$root/spec/model/check.sh" "$build/spec/model"
echo
echo "== wire: every example of the spec, decoded by protoc, protobuf-c and nanopb"
(cd "$build" && ctest --output-on-failure -R 'protocol/')
