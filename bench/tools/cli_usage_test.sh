#!/bin/bash
# bench/tools/cli_usage_test.sh — the command lines (run_report.py,
# run_bench.py, report.py, compare.py) reject bad flags with their usage and
# exit 2, and answer --help with their generated usage (//bench:cli_usage_test;
# the unit tests are the py_tests beside it).
set -euo pipefail
PY=/usr/bin/python3
DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ -n "${TEST_SRCDIR:-}" && -d "${TEST_SRCDIR}/gmplab/bench/tools" ]]; then
  DIR="${TEST_SRCDIR}/gmplab/bench/tools"
fi
cd "$DIR"
export MPLCONFIGDIR="${TEST_TMPDIR:-$(mktemp -d)}"

expect_usage_error() {
  local out rc=0
  out="$("$PY" "$@" 2>&1)" || rc=$?
  if [[ $rc -ne 2 ]]; then
    echo "FAIL: '$*' exited $rc, want 2; output:"; echo "$out"; exit 1
  fi
  if ! grep -q "usage:" <<<"$out"; then
    echo "FAIL: '$*' printed no usage:"; echo "$out"; exit 1
  fi
}
expect_usage_error run_report.py --procs=0
expect_usage_error run_report.py --procs=1,x
expect_usage_error run_report.py --peers=erlang
expect_usage_error run_report.py --workloads=Nope
expect_usage_error run_report.py --bogus-flag
expect_usage_error run_report.py --timeout 0
expect_usage_error run_report.py --blocks 0
expect_usage_error run_report.py --compare onlyone
expect_usage_error run_bench.py --procs=,
expect_usage_error run_bench.py --bogus-flag
expect_usage_error run_bench.py --peer=erlang
expect_usage_error report.py --bogus-flag samples.json
expect_usage_error report.py
expect_usage_error compare.py onlyone

# expect_help SCRIPT — `SCRIPT --help` prints its generated usage and exits 0.
expect_help() {
  local out rc=0
  out="$("$PY" "$1" --help 2>&1)" || rc=$?
  if [[ $rc -ne 0 ]] || ! grep -q "^usage: " <<<"$out"; then
    echo "FAIL: '$1 --help' exited $rc; output:"; echo "$out"; exit 1
  fi
}
expect_help run_report.py
expect_help run_bench.py
expect_help report.py
expect_help compare.py
echo "PASS"
