"""Per-variant benchmark binaries (filled in by the benchmark suite)."""

def gmp_variant_benchmarks(name, lib, tags = []):
    pass
