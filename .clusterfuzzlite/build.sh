#!/bin/bash -eu
# .clusterfuzzlite/build.sh — builds gmplab's fuzzers the OSS-Fuzz way.
#
# Inputs (set by OSS-Fuzz / ClusterFuzzLite, or by fuzz/tools/check_build_sh.sh):
#   CC, CXX            the compilers (clang)
#   CFLAGS, CXXFLAGS   sanitizer and coverage flags, e.g.
#                      -fsanitize=address,undefined -fsanitize=fuzzer-no-link
#   LIB_FUZZING_ENGINE the fuzzing engine to link, e.g. -fsanitize=fuzzer
#   OUT                where the fuzzers, seed corpora and dictionaries go
#   SRC                (optional) the directory holding gmplab's checkout
#
# No Bazel: the runtime's sources (runtime/*.cc, runtime/*.S, not tests) are
# compiled directly as the go_default variant, which is no policy define at
# all (every default lives in runtime/policy/*.h), plus GMP_FUZZ_HOOKS; each
# fuzz/<target>_fuzzer.cc is linked with them and $LIB_FUZZING_ENGINE into
# $OUT/<target>. Next to each fuzzer: <target>_seed_corpus.zip and
# <target>.dict. Abseil comes from pkg-config.

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ -n "${GMPLAB_SRC:-}" ]; then
  root="$GMPLAB_SRC"
elif [ -f "$here/../runtime/gmp.h" ]; then
  root="$(cd "$here/.." && pwd)"
else
  root="${SRC:-/src}/gmplab"
fi
: "${OUT:?set OUT to the output directory}"
CC="${CC:-clang}"
CXX="${CXX:-clang++}"
CFLAGS="${CFLAGS:-}"
CXXFLAGS="${CXXFLAGS:-}"
LIB_FUZZING_ENGINE="${LIB_FUZZING_ENGINE:--fsanitize=fuzzer}"

targets="spawn_lock block runq"
absl_mods="absl_time absl_strings absl_synchronization absl_base"
absl_cflags="$(pkg-config --cflags $absl_mods)"
absl_libs="$(pkg-config --libs $absl_mods)"

# go_default is every policy at its header's default, so no policy define
# here (//tools:policy_defaults_test keeps it so); only its name, without
# which the policy headers refuse to compile (runtime/policy/variant_guard.h).
defines=(
  '-DGMP_VARIANT_NAME="go_default"'
  -DGMP_FUZZ_HOOKS=1
)

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
objs=()
jobs="$(nproc 2>/dev/null || echo 2)"

compile() {  # compile SRC OBJ [extra flags...]
  local src="$1" obj="$2"
  shift 2
  case "$src" in
    *.S) $CC $CFLAGS "${defines[@]}" -I"$root" -c "$src" -o "$obj" ;;
    *) $CXX $CXXFLAGS -std=c++20 -g "${defines[@]}" -I"$root" $absl_cflags \
         "$@" -c "$src" -o "$obj" ;;
  esac
}

echo "build.sh: compiling the runtime (go_default) from $root"
pids=()
for src in "$root"/runtime/*.cc "$root"/runtime/*.S \
           "$root"/fuzz/check.cc "$root"/fuzz/monitor.cc "$root"/fuzz/program.cc; do
  case "$src" in *_test.cc) continue ;; esac
  name="$(echo "${src#$root/}" | tr '/.' '__')"
  obj="$work/$name.o"
  objs+=("$obj")
  compile "$src" "$obj" &
  pids+=($!)
  if [ "${#pids[@]}" -ge "$jobs" ]; then
    wait "${pids[0]}"
    pids=("${pids[@]:1}")
  fi
done
for p in "${pids[@]}"; do wait "$p"; done

for t in $targets; do
  echo "build.sh: linking $OUT/$t"
  compile "$root/fuzz/${t}_fuzzer.cc" "$work/${t}_fuzzer.o"
  $CXX $CXXFLAGS "$work/${t}_fuzzer.o" "${objs[@]}" $LIB_FUZZING_ENGINE \
    $absl_libs -lpthread -ldl -o "$OUT/$t"
  rm -f "$OUT/${t}_seed_corpus.zip"
  (cd "$root/fuzz/corpus/$t" && zip -q -j "$OUT/${t}_seed_corpus.zip" ./*)
  cp "$root/fuzz/$t.dict" "$OUT/$t.dict"
done
echo "build.sh: done: $(cd "$OUT" && ls | tr '\n' ' ')"
