#!/bin/sh
# check_generated.sh: fails when a committed .pb.go differs from what Debian's protoc and protoc-gen-go make of its .proto now.
#
# Usage: check_generated.sh PROTOC PROTOC_GEN_GO SOURCE_ROOT OUT_DIR [update]
# With `update` it copies the fresh files over the committed ones instead:
# the way to regenerate them after a change to a .proto.
# The Go files are committed because `go build` never runs protoc: a Go
# program that imports the SDK needs them in the source tree. This check
# keeps them equal to a fresh generation.
set -eu
protoc=$1 plugin=$2 root=$3 out=$4 mode=${5:-check}
rm -rf "$out" && mkdir -p "$out/cordpb" "$out/jobpb"
"$protoc" --plugin=protoc-gen-go="$plugin" -I"$root/proto" --go_out="$out/cordpb" \
  --go_opt=paths=source_relative --go_opt='Mcord.proto=cord.dev/go/internal/cordpb;cordpb' cord.proto
"$protoc" --plugin=protoc-gen-go="$plugin" -I"$root/sdk/go/examples/worker" --go_out="$out/jobpb" \
  --go_opt=paths=source_relative --go_opt='Mjob.proto=cord.dev/go/examples/worker/jobpb;jobpb' job.proto
status=0
for pair in "cordpb/cord.pb.go:sdk/go/internal/cordpb/cord.pb.go" "jobpb/job.pb.go:sdk/go/examples/worker/jobpb/job.pb.go"; do
  fresh=$out/${pair%%:*} committed=$root/${pair#*:}
  if [ "$mode" = update ]; then
    cp "$fresh" "$committed" && echo "updated: ${pair#*:}"
  elif cmp -s "$fresh" "$committed"; then
    echo "fresh: ${pair#*:}"
  else
    echo "stale: ${pair#*:} differs from a fresh generation:"
    diff -u "$committed" "$fresh" | head -40
    status=1
  fi
done
exit $status
