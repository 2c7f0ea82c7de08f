#!/usr/bin/env bash
# demo.sh: the main job: the conformance suite against the reference implementations, then a parent and a child at work.
set -euo pipefail
build=${1:?usage: demo.sh BUILD_DIR}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
reports=$build/conformance-reports
status=0

section() { printf '\n== %s\n' "$*"; }

section "spec: requirement ids, and what the conformance suite covers"
python3 "$root/spec/tools/spec_ids.py" check
python3 "$root/spec/tools/spec_ids.py" coverage "$root/conformance/cases"

section "conformance: the C child SDK (cord-child-testee) as a child"
"$root/conformance/run" --strict --binding all --child "$build/sdk/child/testee/cord-child-testee" \
  --report "$reports/child-sdk" | tail -n 2 || status=1

section "conformance: the C parent SDK (cord-parent-testee) as a parent"
"$root/conformance/run" --strict --binding all --parent "$build/conformance/cord-parent-testee" \
  --report "$reports/parent-sdk" | tail -n 2 || status=1

if command -v node >/dev/null; then
  section "conformance: real Node.js on the json binding, as a child and as a parent"
  "$root/conformance/run" --binding node-json --child "node $root/conformance/testees/node_child_testee.js" \
    --xfail "$root/conformance/xfail/node-child.txt" --report "$reports/node-child" | tail -n 2 || status=1
  "$root/conformance/run" --binding node-json --parent "node $root/conformance/testees/node_parent_testee.js" \
    --xfail "$root/conformance/xfail/node-parent.txt" --report "$reports/node-parent" | tail -n 2 || status=1
fi

section "demo: the cord command talks to the C child SDK's echo child, frames decoded"
printf '{"hello":"child"}\n[1,2,3]\n' | "$build/sdk/c/cord" run --frames -- "$build/sdk/child/examples/cord-child-echo" 2>&1

section "demo: a pool of 4 workers (the same echo child) takes 10,000 jobs"
"$build/sdk/c/worker_pool" 4 10000 "$build/sdk/child/examples/cord-child-echo"

section "reports"
for r in "$reports"/*/index.html; do echo "  $r"; done
echo "Test your own child:  conformance/run --child './your-child --args'"
echo "Test your own parent: conformance/run --parent './your-parent-testee'"
exit $status
