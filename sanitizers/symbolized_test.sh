#!/bin/bash
# sanitizers/symbolized_test.sh PROBE — checks that a sanitizer report from
# this build names the buggy function and its file:line, i.e. that the
# sanitizer found llvm-symbolizer (external_symbolizer_path in .bazelrc's
# TSAN_OPTIONS / ASAN_OPTIONS). Without it reports show `<null>` frames.
#
# Under --config=tsan it runs a data race; under --config=asan a heap
# overflow; in other configs the probe has no sanitizer and the test passes
# after saying so. The sanitizer options come from the test environment, so
# the check covers what .bazelrc sets; only halt_on_error/exitcode are added
# so that the report is written and the run goes on.
set -uo pipefail
probe="$1"
out="${TEST_TMPDIR:-$(mktemp -d)}"
which=$("$probe" which)
case "$which" in
  tsan)
    mode=race
    func=GmplabProbeRacyIncrement
    export TSAN_OPTIONS="${TSAN_OPTIONS:-}:halt_on_error=0:exitcode=0"
    echo "TSAN_OPTIONS=$TSAN_OPTIONS"
    ;;
  asan)
    mode=overflow
    func=GmplabProbeOverflowRead
    export ASAN_OPTIONS="${ASAN_OPTIONS:-}:abort_on_error=0"
    echo "ASAN_OPTIONS=$ASAN_OPTIONS"
    ;;
  none)
    echo "SKIP: the probe is built without TSan or ASan; this test checks" \
         "symbolized reports under --config=tsan and --config=asan"
    exit 0
    ;;
  *) echo "FAIL: probe which printed '$which'"; exit 1 ;;
esac

fail() { echo "FAIL: $*"; exit 1; }
# A machine may have some llvm-symbolizer on PATH, a fresh one has none: the
# options must name the one gmplab installs (./harness setup: llvm-19).
opts=$([[ $which == tsan ]] && echo "$TSAN_OPTIONS" || echo "$ASAN_OPTIONS")
sym=$(tr ':' '\n' <<<"$opts" | sed -n 's/^external_symbolizer_path=//p' | tail -1)
[[ -n $sym ]] || fail "the ${which^^}_OPTIONS set no external_symbolizer_path (see .bazelrc)"
[[ -x $sym ]] || fail "external_symbolizer_path=$sym is not an executable (./harness setup installs llvm-19)"

"$probe" "$mode" >"$out/stdout" 2>"$out/report"
rc=$?
cat "$out/report"
line=$(sed -n 's/^bug_line=//p' "$out/stdout" | head -1)
[[ -n $line ]] || fail "the probe printed no bug_line (rc $rc)"
grep -qE "WARNING: ThreadSanitizer: data race|ERROR: AddressSanitizer: heap-buffer-overflow" \
  "$out/report" || fail "no $which report (probe exit status $rc)"
# Unsymbolized, the frame reads `#0 <null> <null> (probe+0x...)`. (Frames in
# system libraries without debug info stay <null> either way.)
grep -qE "#[0-9]+ .*$func.*probe\.cc:$line(:|\b)" "$out/report" ||
  fail "no frame names $func at probe.cc:$line: the report is not symbolized"
echo "PASS: the $which report names $func at probe.cc:$line"
