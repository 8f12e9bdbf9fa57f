#!/bin/bash
# fuzz/tools/cli_usage_test.sh — the campaign runner refuses bad flags with
# exit 2 before it builds anything, and every fuzz tool answers --help with
# its generated usage (//fuzz:cli_usage_test; the unit tests are
# //fuzz:campaign_test).
set -euo pipefail
PY=/usr/bin/python3
DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ -n "${TEST_SRCDIR:-}" && -d "${TEST_SRCDIR}/gmplab/fuzz/tools" ]]; then
  DIR="${TEST_SRCDIR}/gmplab/fuzz/tools"
fi
cd "$DIR"

expect_usage_error() {
  local out rc=0
  out="$(GMPLAB_BAZEL=/bin/false "$PY" campaign.py "$@" 2>&1)" || rc=$?
  if [[ $rc -ne 2 ]]; then
    echo "FAIL: 'campaign.py $*' exited $rc, want 2; output:"; echo "$out"; exit 1
  fi
  if ! grep -q "error:" <<<"$out"; then
    echo "FAIL: 'campaign.py $*' printed no error:"; echo "$out"; exit 1
  fi
}
expect_usage_error --all-variants --variant=go_default
expect_usage_error --replays=-3
expect_usage_error --time=0
expect_usage_error --target=nope
expect_usage_error --bogus-flag

# expect_help SCRIPT — `SCRIPT --help` prints its generated usage and exits 0.
expect_help() {
  local out rc=0
  out="$(GMPLAB_BAZEL=/bin/false "$PY" "$1" --help 2>&1)" || rc=$?
  if [[ $rc -ne 0 ]] || ! grep -q "^usage: " <<<"$out"; then
    echo "FAIL: '$1 --help' exited $rc; output:"; echo "$out"; exit 1
  fi
}
expect_help campaign.py
expect_help make_seeds.py
expect_help throughput.py
echo "PASS"
