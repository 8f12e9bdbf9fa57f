"""Per-variant fuzz targets: libFuzzer binaries and corpus replay tests.

gmp_variant (variants/variant.bzl) calls gmp_variant_fuzzers once per
variant. For every target T in FUZZ_TARGETS it declares, in //variants:

  <variant>_fuzz_<T>_lib     the target (LLVMFuzzerTestOneInput) compiled
                             against the variant's runtime
  <variant>_fuzz_<T>         the libFuzzer binary; tagged manual + fuzz, so
                             only `--config=fuzz` (libFuzzer + TSan) or
                             `--config=fuzz-asan` (libFuzzer + ASan/UBSan)
                             builds ask for it:
                               bazel build --config=fuzz //variants:go_default_fuzz_block
  <variant>_fuzz_<T>_replay  a cc_test that runs the target on every input of
                             fuzz/corpus/<T>/ through fuzz/replay_main.cc,
                             with any compiler and in every config, so
                             `bazel test //...` replays every corpus for
                             every variant.

Canary variants pass tags containing "manual"; every target keeps them, so
`bazel test //...` never builds a canary's replay test.
"""

# The fuzz targets: name -> source in fuzz/.
FUZZ_TARGETS = {
    "spawn_lock": "spawn_lock_fuzzer.cc",
    "block": "block_fuzzer.cc",
    "runq": "runq_fuzzer.cc",
}

# Targets whose source reads a GMP_* policy define; the others use only the
# public API and are compiled once, in fuzz/BUILD.bazel.
PER_VARIANT_TARGETS = ["runq"]

def gmp_variant_fuzzers(name, lib, tags = [], copts = []):
    """Declares the fuzz targets and corpus replay tests of one variant.

    Args:
      name: the variant's name, e.g. "go_default".
      lib: the variant's runtime library label, e.g. ":go_default".
      tags: tags of the variant ("manual" and "canary" for canaries).
      copts: extra compiler options of the per-variant targets' sources
        (gmp_variant's forced_include).
    """
    for target, src in FUZZ_TARGETS.items():
        base = "%s_fuzz_%s" % (name, target)
        if target in PER_VARIANT_TARGETS:
            # Reads the variant's policies (e.g. the run-queue capacity):
            # compiled once per variant.
            native.cc_library(
                name = base + "_lib",
                srcs = ["//fuzz:" + src],
                copts = copts,
                deps = [
                    "//fuzz:support",
                    lib,
                    "//fuzz:fuzzed_data_provider",
                ],
                # libFuzzer's main, not ours, calls LLVMFuzzerTestOneInput.
                alwayslink = True,
                tags = tags,
            )
        else:
            # Public API only: compiled once (//fuzz:<target>_target) and
            # linked against this variant's runtime.
            native.cc_library(
                name = base + "_lib",
                deps = [
                    "//fuzz:%s_target" % target,
                    lib,
                ],
                tags = tags,
            )
        native.cc_binary(
            name = base,
            deps = [":" + base + "_lib"],
            linkopts = ["-fsanitize=fuzzer"],
            tags = tags + ["manual", "fuzz"],
        )
        native.cc_test(
            name = base + "_replay",
            deps = [
                ":" + base + "_lib",
                "//fuzz:replay_main",
            ],
            data = ["//fuzz:corpus_" + target],
            args = ["fuzz/corpus/" + target],
            # Worker processes sharing the inputs (fuzz/replay_main.cc): a
            # replay waits in its programs' sleeps much of the time. The
            # hang watchdog (fuzz/program.cc) gets 30 s a run instead of a
            # campaign's 6: a replay shares the machine with other tests, and
            # the test's own timeout still catches a real hang.
            env = {"GMP_REPLAY_JOBS": "3", "GMP_FUZZ_WATCHDOG_S": "30"},
            size = "small",
            timeout = "moderate",
            tags = tags + ["fuzz_replay"],
        )
