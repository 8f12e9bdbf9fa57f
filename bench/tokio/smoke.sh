#!/bin/bash
# bench/tokio/smoke.sh — the Tokio peer's manual check (CI installs no cargo,
# so this is not a Bazel test): builds bench/tokio offline with Debian's
# cargo, runs every workload once at tiny sizes the way runner.py does, and
# checks that parse.parse_gbench_json reads each output with the right names,
# positive times, the latency counters and GMPLAB_LATENCY_OUT line, and
# MillionParked's counters; then that bad flags are refused. A few seconds
# after the build.
#
#   bench/tokio/smoke.sh              # build into bench/tokio/target
#   TOKIO_BENCH=/path/tokio_bench bench/tokio/smoke.sh   # an already built binary
set -euo pipefail
DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TOOLS="$DIR/../tools"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
BIN=${TOKIO_BENCH:-}
if [[ -z $BIN ]]; then
  [[ -x /usr/bin/cargo ]] || { echo "smoke: /usr/bin/cargo missing (apt-get install cargo rustc librust-tokio-dev)"; exit 1; }
  (cd "$DIR" && CARGO_HOME="$TMP/cargo-home" /usr/bin/cargo build --offline --release --quiet)
  BIN="$DIR/target/release/tokio_bench"
fi
"$BIN" --describe | grep -q "Tokio 1\." || { echo "FAIL: --describe"; exit 1; }

WORKLOADS=(CreateGoroutines CreateGoroutinesParallel CreateGoroutinesSingle Gosched
           PingPongUnbuffered PingPongBuffered WakeupParallelSpinning Fib SkewedLoad
           WakeupLatency SpawnPark MillionParked)
for w in "${WORKLOADS[@]}"; do
  procs=1,2
  [[ $w == Gosched ]] && procs=1
  GMPLAB_LATENCY_OUT="$TMP/$w.jsonl" timeout 120 "$BIN" "--benchmark_filter=^$w(/|\$)" \
    --procs=$procs --benchmark_min_time=0.002 --benchmark_repetitions=1 --million=2000 \
    --benchmark_out="$TMP/$w.json" --benchmark_out_format=json --benchmark_format=console \
    >"$TMP/$w.out" 2>&1 || { echo "FAIL: $w exited $?"; cat "$TMP/$w.out"; exit 1; }
done

/usr/bin/python3 - "$TMP" "$TOOLS" <<'EOF'
import json, os, sys
tmp, tools = sys.argv[1], sys.argv[2]
sys.path.insert(0, tools)
import parse
want = {
    "CreateGoroutines": [1, 2], "CreateGoroutinesParallel": [1, 2],
    "CreateGoroutinesSingle": [1, 2], "Gosched": [1], "PingPongUnbuffered": [1, 2],
    "PingPongBuffered": [1, 2], "WakeupParallelSpinning/delay_us:0": [2],
    "WakeupParallelSpinning/delay_us:5": [2], "WakeupParallelSpinning/delay_us:50": [2],
    "Fib": [1, 2], "SkewedLoad": [1, 2], "WakeupLatency": [1, 2],
    "MillionParked": [os.cpu_count()],
}
got = {}
for f in sorted(os.listdir(tmp)):
    if f.endswith(".json"):
        samples, errors, ctx = parse.parse_gbench_json(open(os.path.join(tmp, f)).read(), "tokio")
        assert not errors, (f, errors)
        assert ctx.get("gmplab_system") == "tokio", ctx
        for s in samples:
            assert s["real_ns"] > 0 and s["cpu_ns"] > 0, s
            got.setdefault(s["workload"], []).append(s["procs"])
            if s["workload"] == "WakeupLatency":
                for k in ("p50_ns", "p90_ns", "p99_ns", "p999_ns", "max_ns"):
                    assert s["counters"].get(k, 0) > 0, (k, s)
            if s["workload"] == "MillionParked":
                c = s["counters"]
                assert c["goroutines"] == 2000 and c["spawn_s"] > 0 and c["rss_mb"] > 0, c
for w, p in want.items():
    assert sorted(got.get(w, [])) == p, (w, got.get(w))
lines = [json.loads(l) for l in open(os.path.join(tmp, "WakeupLatency.jsonl"))]
assert sorted(l["procs"] for l in lines) == [1, 2], lines
assert all(l["workload"] == "WakeupLatency" and len(l["samples_ns"]) == min(l["iterations"], 20000)
           for l in lines)
print("smoke: %d benchmarks parsed" % sum(len(v) for v in got.values()))
EOF

for bad in --bogus --procs=0 --benchmark_out_format=csv "--benchmark_filter=a.*b" --million=0; do
  if "$BIN" "$bad" >/dev/null 2>&1; then echo "FAIL: $bad accepted"; exit 1; fi
done
echo PASS
