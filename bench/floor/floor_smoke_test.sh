#!/bin/bash
# bench/floor/floor_smoke_test.sh FLOOR_BINARY PARSE_PY — runs the floor
# binary at tiny sizes the way the report's runner does, reads its JSON with
# the runner's own parser (bench/tools/parse.py), and checks that every cell
# the report pairs with gmplab is there and that each floor does its
# unavoidable part: the WakeupParallelSpinning spins (an op can never take
# less than 2 * (delay + 5us)) and one fresh page per MillionParked
# "goroutine" (rss_bytes_per_g near 4096). No other timing is asserted.
# Used by //bench:floor_smoke_test.
set -euo pipefail
bin="$1"
tools="$(cd "$(dirname "$2")" && pwd)"
out="${TEST_TMPDIR:-$(mktemp -d)}/floor.json"
"$bin" --describe | grep -q "^floor:" || { echo "FAIL: --describe"; exit 1; }
timeout 120 "$bin" --procs=1,2 --million=4000 --benchmark_min_time=0.001 \
  --benchmark_repetitions=1 --benchmark_out="$out" --benchmark_out_format=json \
  --benchmark_format=console
/usr/bin/python3 - "$out" "$tools" <<'PY'
import sys
sys.path.insert(0, sys.argv[2])
import parse

with open(sys.argv[1]) as f:
    samples, errors, context = parse.parse_gbench_json(f.read(), "floor")
assert not errors, errors
assert context.get("gmplab_system") == "floor", context
cells = {(s["workload"], s["procs"]): s for s in samples}
want = [("WakeupParallelSpinning/delay_us:%d" % d, 2) for d in (0, 5, 50)]
want += [("Syscall", 1), ("Syscall", 2)]
for key in want:
    assert key in cells, "no %s/procs:%d in %s" % (key + (sorted(cells),))
assert not any(w.startswith("WakeupParallelSpinning") and p < 2 for w, p in cells), cells
for d in (0, 5, 50):
    s = cells[("WakeupParallelSpinning/delay_us:%d" % d, 2)]
    least = 2 * (d + 5) * 1000
    assert s["real_ns"] >= 0.99 * least, "delay_us:%d op %.0f ns < %d ns of spins" % (
        d, s["real_ns"], least)
assert cells[("Syscall", 1)]["real_ns"] > 0
mp = [s for s in samples if s["workload"] == "MillionParked"]
assert len(mp) == 1, mp
c = mp[0]["counters"]
assert c["goroutines"] == 4000, c
assert c["spawn_s"] > 0, c
assert "release_s" not in c, c
assert 0.9 * 4096 <= c["rss_bytes_per_g"] <= 1.5 * 4096, c
print("PASS")
PY
