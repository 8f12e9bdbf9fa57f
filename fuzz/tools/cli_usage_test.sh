#!/bin/bash
# fuzz/tools/cli_usage_test.sh — the campaign runner refuses bad flags with
# exit 2 before it builds anything (//fuzz:cli_usage_test; its unit tests are
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
echo "PASS"
