#!/usr/bin/env bash
# setup.sh: installs, by Debian package name, whatever Cord needs and this machine lacks.
#
# Runs as root on Debian 12. It asks apt only when a package is missing,
# so a second run costs a few dpkg queries and nothing else.
set -euo pipefail

packages=(
  build-essential        # gcc, make, libc headers
  cmake                  # the build
  pkg-config             # finds protobuf-c and Criterion
  protobuf-compiler      # protoc: schema compiler, and --decode for spec tests
  protobuf-c-compiler    # protoc-gen-c: parent SDK code
  libprotobuf-c-dev      # protobuf-c runtime (parent SDK)
  nanopb                 # protoc-gen-nanopb: child SDK code
  libnanopb-dev          # nanopb runtime (child SDK)
  libcriterion-dev       # unit tests
  spin                   # model checker for spec/model
  python3                # spec tools and the conformance runner
  python3-protobuf       # decoded views in the conformance runner; the Python SDK's codec
  python3-venv           # the Python SDK's pip install into a venv (PEP 668)
  valgrind               # memcheck tests
  golang-go              # Go 1.19: the Go child SDK (sdk/go), built offline in GOPATH mode
  golang-google-protobuf-dev  # google.golang.org/protobuf sources, the Go SDK's protobuf runtime
  protoc-gen-go          # checks that the Go SDK's committed .pb.go files match a fresh generation
  clang                  # builds the fuzzers (sdk/c/fuzz)
  libclang-rt-14-dev     # libFuzzer and the sanitizers' runtimes for clang
  gnuplot-nox            # the benchmark suite's latency plot (bench/)
  musl-tools             # musl-gcc: the tiny static child (bench/tiny/)
  dpkg-dev               # dpkg-source, which unpacks `apt-get source nanopb` for it
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

# Node.js is a real peer of the json binding and runs the Node.js SDK; any
# node on PATH (v18 or later) will do, otherwise Debian's package provides
# one. npm installs the Node.js SDK's packages from its lockfile (npm ci);
# Debian packages it apart from nodejs, other builds of node bring their own.
if ! command -v node >/dev/null 2>&1; then
  missing+=(nodejs)
fi
if ! command -v npm >/dev/null 2>&1; then
  missing+=(npm)
fi

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The tiny static child compiles nanopb's runtime from Debian's own source
# package (`apt-get source nanopb`, in the build tree). That needs deb-src
# entries for the Debian archive this machine already uses: each Debian
# entry gets its deb-src twin, in a file of its own, once.
if ! apt-cache showsrc nanopb 2>/dev/null | grep -q '^Package: nanopb$'; then
  echo "setup: enabling deb-src for the Debian archive, for apt-get source nanopb"
  if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
    # deb822 stanzas: those of type deb from a Debian archive, as deb-src.
    awk 'BEGIN { RS = ""; ORS = "\n\n" }
         /(^|\n)Types:([^\n]* )?deb( |\n|$)/ && /(^|\n)URIs:[^\n]*debian/ {
           sub(/(^|\n)Types:[^\n]*/, "\nTypes: deb-src"); sub(/^\n/, ""); print }' \
      /etc/apt/sources.list.d/debian.sources >/etc/apt/sources.list.d/cord-deb-src.sources
  fi
  if [[ -f /etc/apt/sources.list ]]; then
    sed -n 's|^deb \(\(\[[^]]*\] \)\{0,1\}[^ ]*debian[^ ]* .*\)$|deb-src \1|p' /etc/apt/sources.list \
      >/etc/apt/sources.list.d/cord-deb-src.list
  fi
  apt-get update -qq
fi
