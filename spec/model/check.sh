#!/usr/bin/env bash
# check.sh: verify the Cord protocol model (cord.pml) exhaustively with Spin, and fail unless every check passes (MODEL-1).
set -euo pipefail

# Usage: spec/model/check.sh [OUTPUT_DIR]
#
# OUTPUT_DIR (default: a new temporary directory) receives a copy of the
# model, the generated verifier and the logs.
#
# Two exhaustive searches of the whole state space run side by side:
#   safety       every assertion of the model, and no invalid end state (a
#                run that stops while a process has not terminated: a
#                deadlock), with every queue empty at the end (pan -q);
#   termination  no cycle at all (a non-progress-cycle search with no
#                progress labels, pan -l), so that every run of the model
#                ends.
# Neither uses bitstate hashing or hash compaction; -DCOLLAPSE compresses
# states without losing any. The script fails if either search reports an
# error, is cut short by the depth limit or the memory limit, or is not a
# full search.
#
# Extra -D options for spin can be given in CORD_MODEL_DEFINES, for example
# CORD_MODEL_DEFINES=-DAS_WRITTEN to check the spec exactly as written,
# which is expected to fail (see README.md).

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
model="$here/cord.pml"
out="${1:-$(mktemp -d)}"
defines="${CORD_MODEL_DEFINES:-}"

depth=100000      # far above the deepest run of the model (about 320 steps)
memlim=2048       # MiB per search; a search that needs more fails

for tool in spin gcc; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "check.sh: $tool is not installed" >&2
    exit 2
  fi
done

mkdir -p "$out"
out="$(cd "$out" && pwd)"
cp "$model" "$out/cord.pml"
cd "$out"

# shellcheck disable=SC2086  # $defines holds zero or more separate options
if ! spin $defines -a cord.pml >spin.log 2>&1; then
  cat spin.log >&2
  exit 1
fi

# search NAME GCC_FLAGS PAN_FLAGS: compile a verifier and run it; its output
# goes to pan-NAME.log and its wall-clock and CPU seconds to time-NAME.
search() {
  local name="$1" cflags="$2" pflags="$3"
  # shellcheck disable=SC2086
  if ! gcc -O2 $cflags -DCOLLAPSE -DMEMLIM=$memlim -o "pan-$name" pan.c \
      >"gcc-$name.log" 2>&1; then
    echo "compilation failed" >"pan-$name.log"
    cat "gcc-$name.log" >&2
    return 0
  fi
  rm -f cord.pml.trail "cord.pml.trail-$name"
  local TIMEFORMAT='%R %U %S'
  # shellcheck disable=SC2086
  { time "./pan-$name" -m$depth $pflags >"pan-$name.log" 2>&1 || true; } 2>"time-$name"
  # Each search writes its own trail, so that the two never overwrite
  # each other's.
  if [ -f cord.pml.trail ]; then mv cord.pml.trail "cord.pml.trail-$name"; fi
}

# The two searches use separate copies of the model, since each verifier
# writes its trail next to it.
mkdir -p safety termination
cp cord.pml pan.* safety/
cp cord.pml pan.* termination/
(cd safety && search safety "-DSAFETY" "-q") &
safety_pid=$!
(cd termination && search termination "-DNP" "-l") &
termination_pid=$!
wait "$safety_pid" "$termination_pid"

status=0

# report NAME: print the summary of one search, then anything that makes it
# fail.
report() {
  local name="$1" log="$1/pan-$1.log" problems=""
  local states depth_reached mem errors wall cpu
  states=$(awk '/states, stored/ {print $1; exit}' "$log")
  depth_reached=$(sed -n 's/.*depth reached \([0-9]*\).*/\1/p' "$log" | head -n1)
  errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' "$log" | head -n1)
  mem=$(awk '/total actual memory usage/ {print $1; exit}' "$log")
  read -r wall cpu < <(awk '{print $1, $2 + $3}' "$name/time-$name" 2>/dev/null || echo "0 0")
  printf '%-12s states stored: %s, depth reached: %s, errors: %s, memory: %s MB, time: %s s (%s s CPU)\n' \
    "$name" "${states:-?}" "${depth_reached:-?}" "${errors:-?}" "${mem:-?}" "$wall" "$cpu"

  if ! grep -q "^Full statespace search for:" "$log"; then
    problems+="  not a full state-space search"$'\n'
  fi
  if grep -q "max search depth too small" "$log"; then
    problems+="  the depth limit ($depth) was reached"$'\n'
  fi
  if grep -qiE "out of memory|reached -DMEMLIM|memory limit" "$log"; then
    problems+="  the memory limit ($memlim MiB) was reached"$'\n'
  fi
  if [ "${errors:-}" != 0 ]; then
    problems+="  the search found errors:"$'\n'
    problems+="$(grep -E "^pan:[0-9]" "$log" | sed 's/^/    /')"$'\n'
    problems+="  replay: cd $out/$name && cp cord.pml.trail-$name cord.pml.trail"
    problems+=" && spin $defines -t -p -g -l cord.pml"$'\n'
  fi
  if [ -n "$problems" ]; then
    printf '%s' "$problems" >&2
    status=1
  fi
}

report safety
report termination

if [ "$status" != 0 ]; then
  echo "FAIL: the model does not verify (logs in $out)" >&2
  exit 1
fi
echo "PASS: every check of spec/model/cord.pml holds (logs in $out)"
