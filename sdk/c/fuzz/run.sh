#!/bin/sh
# run.sh: runs one of the parent SDK's fuzzers for a while: run.sh BUILD_DIR json|v8 SECONDS
#
# The working corpus grows in BUILD_DIR/sdk/c/fuzz/NAME-corpus, seeded from
# this folder's corpus/NAME; a crash is kept as BUILD_DIR/sdk/c/fuzz/crash-NAME-*.
# Both harnesses ask Node.js (found on PATH) to judge every input.
set -eu
build=$(cd "$1" && pwd)
name=$2
secs=$3
here=$(cd "$(dirname "$0")" && pwd)
out=$build/sdk/c/fuzz
mkdir -p "$out/$name-corpus"
case $name in
  json)
    max_len=32768
    if command -v node >/dev/null 2>&1; then
      CORD_FUZZ_NODE=$(command -v node)
      CORD_FUZZ_ORACLE=$here/json_oracle.js
      export CORD_FUZZ_NODE CORD_FUZZ_ORACLE
    fi ;;
  v8)
    max_len=8192
    if command -v node >/dev/null 2>&1; then
      CORD_FUZZ_NODE=$(command -v node)
      CORD_FUZZ_V8_ORACLE=$here/v8_oracle.js
      export CORD_FUZZ_NODE CORD_FUZZ_V8_ORACLE
    fi ;;
  *) echo "run.sh: no fuzzer named $name" >&2; exit 2 ;;
esac
exec "$out/fuzz_$name" -max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 -max_len="$max_len" \
  -print_final_stats=1 -artifact_prefix="$out/crash-$name-" "$out/$name-corpus" "$here/corpus/$name"
