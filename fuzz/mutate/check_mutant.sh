#!/bin/bash
# fuzz/mutate/check_mutant.sh — runs check_mutant.py (one mutant's check,
# //fuzz/mutate:<mutant>_check) with Debian's /usr/bin/python3 from the
# runfiles tree.
set -euo pipefail
dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ -n "${TEST_SRCDIR:-}" && -d "$TEST_SRCDIR/${TEST_WORKSPACE:-gmplab}/fuzz/mutate" ]]; then
  dir="$TEST_SRCDIR/${TEST_WORKSPACE:-gmplab}/fuzz/mutate"
fi
export PYTHONDONTWRITEBYTECODE=1
exec /usr/bin/python3 "$dir/check_mutant.py" "$@"
