#!/bin/sh
# pip_install.sh: runs the README's install commands verbatim in a fresh folder, then uses the installed package.
# usage: pip_install.sh SDK_DIR WORK_DIR PYTHON CHILD_TESTEE
set -eu
sdk=$1 work=$2 python=$3 testee=$4
rm -rf "$work"
mkdir -p "$work/sdk"
ln -s "$sdk" "$work/sdk/python"
cd "$work"
# The commands as a fresh Debian 12 runs them: its python3 is Debian's.
PATH=$(dirname "$python"):$PATH
export PATH
unset PYTHONPATH || true
sed -n '/^<!-- install -->$/,/^```$/p' "$sdk/README.md" | sed '1,2d;$d' > install.sh
test -s install.sh
echo "running:"; cat install.sh
sh -eu install.sh
# The venv's cord is the installed copy, not the source tree's.
.venv/bin/python - "$testee" <<'PY'
import os, sys
import cord
assert "site-packages" in cord.__file__, cord.__file__
proc = cord.spawn([sys.argv[1]])
reply = proc.request({"from": "an installed cord"}).result(timeout=60)
assert reply.data == {"from": "an installed cord"}, reply.data
print("installed cord at", os.path.dirname(cord.__file__), "talked to the C child:", proc.close())
PY
