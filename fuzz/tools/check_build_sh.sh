#!/bin/bash
# fuzz/tools/check_build_sh.sh — runs .clusterfuzzlite/build.sh the way
# OSS-Fuzz does (clang-19, ASan+UBSan, libFuzzer) into a temporary $OUT and
# checks what it produced: one executable fuzzer per target, which runs its
# own seed corpus cleanly and accepts its dictionary, with
# <target>_seed_corpus.zip holding every seed and <target>.dict beside it.
#
# Runs as the sh_test //fuzz:check_build_sh (from the runfiles tree) or by
# hand from a checkout:  fuzz/tools/check_build_sh.sh
set -euo pipefail

if [ -n "${TEST_SRCDIR:-}" ]; then
  root="$TEST_SRCDIR/${TEST_WORKSPACE:-gmplab}"
else
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
fi
tmp="$(mktemp -d "${TEST_TMPDIR:-/tmp}/check_build_sh.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

export CC=clang-19 CXX=clang++-19
export CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only \
-fsanitize=address,undefined -fno-sanitize-recover=all -fno-sanitize=vptr \
-fsanitize-address-use-after-scope -fsanitize=fuzzer-no-link"
export CXXFLAGS="$CFLAGS"
export LIB_FUZZING_ENGINE=-fsanitize=fuzzer
export OUT="$tmp/out" SRC="$tmp/src" GMPLAB_SRC="$root"
mkdir -p "$OUT" "$SRC"

fail() { echo "check_build_sh: FAIL: $*" >&2; exit 1; }

bash "$root/.clusterfuzzlite/build.sh" || fail "build.sh exited with $?"

export ASAN_OPTIONS=detect_leaks=1:detect_stack_use_after_return=0:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
for t in spawn_lock block runq; do
  [ -x "$OUT/$t" ] || fail "$OUT/$t missing or not executable"
  [ -s "$OUT/$t.dict" ] || fail "$OUT/$t.dict missing"
  zip="$OUT/${t}_seed_corpus.zip"
  [ -s "$zip" ] || fail "$zip missing"
  want="$(ls "$root/fuzz/corpus/$t" | wc -l)"
  seeds="$tmp/seeds_$t"
  mkdir -p "$seeds"
  unzip -q "$zip" -d "$seeds"
  got="$(ls "$seeds" | wc -l)"
  [ "$got" = "$want" ] || fail "$zip holds $got seeds, fuzz/corpus/$t has $want"
  # Replay every seed (libFuzzer runs each file given as an argument).
  "$OUT/$t" "$seeds"/* > "$tmp/$t.replay.log" 2>&1 ||
    { tail -40 "$tmp/$t.replay.log"; fail "$t crashed on its seed corpus"; }
  # A few mutations with the dictionary: a broken dictionary is an error.
  mkdir -p "$tmp/empty_$t"
  "$OUT/$t" -runs=50 -seed=1 -dict="$OUT/$t.dict" "$tmp/empty_$t" \
    > "$tmp/$t.dict.log" 2>&1 ||
    { tail -40 "$tmp/$t.dict.log"; fail "$t failed a short run with its dictionary"; }
  grep -q "Dictionary: [1-9][0-9]* entries" "$tmp/$t.dict.log" ||
    fail "$t did not load its dictionary"
  echo "check_build_sh: $t ok ($got seeds, $(grep -c '=' "$OUT/$t.dict") dictionary entries)"
done
echo "check_build_sh: PASS"
