#!/bin/bash
# tools/run_py_test.sh MODULE — runs one Python unittest module of tools/
# with Debian's /usr/bin/python3, from the runfiles tree under `bazel test`
# or from a checkout.
set -euo pipefail
dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ -n "${TEST_SRCDIR:-}" && -d "$TEST_SRCDIR/${TEST_WORKSPACE:-gmplab}/tools" ]]; then
  dir="$TEST_SRCDIR/${TEST_WORKSPACE:-gmplab}/tools"
fi
cd "$dir"
export PYTHONDONTWRITEBYTECODE=1
exec /usr/bin/python3 -m unittest -v "$1"
