#!/bin/bash
# bench/smoke_test.sh BENCH_BINARY — runs every workload of a benchmark binary
# once at tiny sizes and fails if the binary fails, reports an error, or
# misses a workload. Used by //variants:<variant>_bench_smoke_test.
set -euo pipefail
bin="$1"
out="${TEST_TMPDIR:-$(mktemp -d)}/smoke.json"
"$bin" --describe | grep -q "runq=" || { echo "FAIL: --describe printed no policy"; exit 1; }
timeout 240 "$bin" --procs=1,2 --million=2000 --hog_ops=200 \
  --benchmark_min_time=0.0001 --benchmark_out="$out" --benchmark_out_format=json \
  --benchmark_format=console
if grep -q '"error_occurred": true' "$out"; then
  echo "FAIL: a workload reported an error"; grep -B3 -A3 error_message "$out"; exit 1
fi
for w in CreateGoroutines/ CreateGoroutinesParallel/ CreateGoroutinesSingle/ Gosched/ \
         PingPongUnbuffered/ PingPongBuffered/ PingPongHog/ WakeupParallelSpinning/ \
         Fib/ SkewedLoad/ LockOSThreadPingPong/ Syscall/ MillionParked/ WakeupLatency/ SpawnPark/; do
  grep -q "\"name\": \"$w" "$out" || { echo "FAIL: no result for $w"; exit 1; }
done
grep -q '"p999_ns"' "$out" || { echo "FAIL: WakeupLatency reported no p999_ns"; exit 1; }
grep -q '"gmplab_policy"' "$out" || { echo "FAIL: no gmplab_policy in the JSON context"; exit 1; }
echo PASS
