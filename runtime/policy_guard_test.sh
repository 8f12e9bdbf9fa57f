#!/bin/bash
# runtime/policy_guard_test.sh — code compiled once for every variant cannot
# include a policy-dependent header (runtime/policy/variant_guard.h).
#
# For each policy header, and for each runtime header that includes one,
# compiles a one-line file that includes it: without GMP_VARIANT_NAME (as
# code that depends on //runtime:headers only is compiled) it must fail with
# the guard's message; with it (as a variant compiles) it must compile. The
# policy-free headers (gmp.h and the sync layer) must compile without it.
set -uo pipefail
root="${TEST_SRCDIR:-}/${TEST_WORKSPACE:-gmplab}"
[[ -n "${TEST_SRCDIR:-}" && -d "$root/runtime" ]] || root="$(cd "$(dirname "$0")/.." && pwd)"
cxx="$(command -v clang++-19 || command -v clang++ || true)"
if [[ -z "$cxx" ]]; then
  echo "policy_guard_test: no clang++-19 (./harness setup installs it)" >&2
  exit 1
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
fails=0
compile() {  # compile HEADER [flags...]; prints the compiler's output
  local header="$1"
  shift
  printf '#include "%s"\n' "$header" > "$tmp/t.cc"
  "$cxx" -std=c++20 -fsyntax-only -I"$root" "$@" "$tmp/t.cc" > "$tmp/out" 2>&1
}
cd "$root" || exit 1
# The policy headers are the ones runtime/BUILD.bazel gives only to the
# variant builders (POLICY_HDRS); every other header must compile anywhere.
mapfile -t listed < <(sed -n '/^POLICY_HDRS = /,/^]/p' runtime/BUILD.bazel |
                      grep -o '"[a-z_]*\.h"' | tr -d '"' | sed 's|^|runtime/|')
if [[ ${#listed[@]} -lt 5 ]]; then
  echo "FAIL runtime/BUILD.bazel: no POLICY_HDRS list found"
  exit 1
fi
guarded=(runtime/policy/*.h "${listed[@]}")
checked=0
for h in "${guarded[@]}"; do
  h="${h#"$root"/}"
  [[ "$h" == runtime/policy/variant_guard.h ]] && continue
  [[ -f "$root/$h" ]] || { echo "FAIL $h: missing"; fails=$((fails + 1)); continue; }
  checked=$((checked + 1))
  if compile "$h"; then
    echo "FAIL $h: compiles without a variant (an ODR hazard)"
    fails=$((fails + 1))
  elif ! grep -q "policy header in code compiled once" "$tmp/out"; then
    echo "FAIL $h: fails without a variant, but not with the guard's message:"
    head -5 "$tmp/out"
    fails=$((fails + 1))
  elif ! compile "$h" '-DGMP_VARIANT_NAME="t"'; then
    echo "FAIL $h: does not compile inside a variant:"
    head -5 "$tmp/out"
    fails=$((fails + 1))
  else
    echo "ok   $h: refused outside a variant, compiles inside one"
  fi
done
for h in runtime/*.h; do
  [[ " ${guarded[*]} " == *" $h "* ]] && continue
  checked=$((checked + 1))
  if compile "$h"; then
    echo "ok   $h: policy-free, compiles outside a variant"
  else
    echo "FAIL $h: should be policy-free but does not compile outside a variant:"
    head -5 "$tmp/out"
    fails=$((fails + 1))
  fi
done
echo "policy_guard_test: $checked headers, $fails failed"
[[ $fails -eq 0 && $checked -ge 30 ]]
