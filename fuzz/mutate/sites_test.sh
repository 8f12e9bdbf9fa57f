#!/bin/bash
# fuzz/mutate/sites_test.sh — //fuzz/mutate:sites_test: the scanner's and the
# runner's unit tests, including the check that sites.json and mutants.bzl
# match runtime/ (rerun `fuzz/mutate/sites.py write` when they do not) and
# that each survivor of the newest mutation report has an `// order:` comment.
set -euo pipefail
dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ -n "${TEST_SRCDIR:-}" && -d "$TEST_SRCDIR/${TEST_WORKSPACE:-gmplab}/fuzz/mutate" ]]; then
  dir="$TEST_SRCDIR/${TEST_WORKSPACE:-gmplab}/fuzz/mutate"
fi
cd "$dir"
export PYTHONDONTWRITEBYTECODE=1
exec /usr/bin/python3 -m unittest -v sites_test run_test groups_test
