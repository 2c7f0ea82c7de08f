#!/bin/sh
# run.sh: runs one of the parent SDK's fuzzers for a while: run.sh BUILD_DIR json|v8|parent SECONDS
#
# The working corpus grows in BUILD_DIR/sdk/c/fuzz/NAME-corpus, seeded from
# this folder's corpus/NAME; a crash is kept as BUILD_DIR/sdk/c/fuzz/crash-NAME-*.
# The json and v8 harnesses ask Node.js (found on PATH) to judge every input.
set -eu
build=$(cd "$1" && pwd)
name=$2
secs=$3
here=$(cd "$(dirname "$0")" && pwd)
out=$build/sdk/c/fuzz
mkdir -p "$out/$name-corpus"
case $name in
  json) max_len=32768 oracle=CORD_FUZZ_ORACLE ;;
  v8) max_len=8192 oracle=CORD_FUZZ_V8_ORACLE ;;
  parent) max_len=16384 oracle= ;;
  *) echo "run.sh: no fuzzer named $name" >&2; exit 2 ;;
esac
if [ -n "$oracle" ] && command -v node >/dev/null 2>&1; then
  CORD_FUZZ_NODE=$(command -v node)
  export CORD_FUZZ_NODE "$oracle=$here/${name}_oracle.js"
fi
exec "$out/fuzz_$name" -max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 -max_len="$max_len" \
  -print_final_stats=1 -artifact_prefix="$out/crash-$name-" "$out/$name-corpus" "$here/corpus/$name"
