"""Per-variant fuzz targets (filled in by the fuzz suite)."""

def gmp_variant_fuzzers(name, lib, tags = []):
    pass
