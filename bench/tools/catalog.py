"""bench/tools/catalog.py — the workloads and peers a report knows about.

Each workload has one name everywhere (gmplab binaries, peers, Go files) and a
procs mode:
  sweep    run at every --procs value
  one      always on one proc (Go's GOMAXPROCS(1) benchmarks)
  default  on the hardware threads only (MillionParked), one process per
           repetition so every repetition starts cold
"""

WORKLOADS = [
    ("CreateGoroutines", "sweep"),
    ("CreateGoroutinesParallel", "sweep"),
    ("CreateGoroutinesSingle", "sweep"),
    ("Gosched", "one"),
    ("PingPongUnbuffered", "sweep"),
    ("PingPongBuffered", "sweep"),
    ("PingPongHog", "one"),
    ("WakeupParallelSpinning", "sweep"),
    ("Fib", "sweep"),
    ("SkewedLoad", "sweep"),
    ("LockOSThreadPingPong", "sweep"),
    ("Syscall", "sweep"),
    ("WakeupLatency", "sweep"),
    ("SpawnPark", "sweep"),
    ("MillionParked", "default"),
] + [(w, "sweep") for w in (
    "SelectUncontended", "SelectSyncContended", "SelectAsyncContended",
    "SelectNonblock", "SelectProdCons", "SelectTimeoutFanIn")]
WORKLOAD_NAMES = [w for w, _ in WORKLOADS]
MODE = dict(WORKLOADS)

# Workloads whose processes report a latency distribution (counters p50_ns,
# p90_ns, p99_ns, p999_ns, max_ns, and raw samples in GMPLAB_LATENCY_OUT).
LATENCY = ["WakeupLatency"]


def procs_for(workload, procs):
    """The procs values a workload runs at, given the report's list."""
    mode = MODE.get(workload, "sweep")
    if mode == "one":
        return [1]
    if workload == "WakeupParallelSpinning":
        return [p for p in procs if p >= 2]
    return list(procs)

# The workloads the headline table sets go_default beside Go on.
HEADLINE = [
    "CreateGoroutines", "CreateGoroutinesParallel", "CreateGoroutinesSingle",
    "Gosched", "PingPongUnbuffered", "PingPongBuffered", "PingPongHog",
    "LockOSThreadPingPong", "Syscall", "WakeupParallelSpinning", "Fib",
    "WakeupLatency", "SpawnPark", "MillionParked",
    "SelectUncontended", "SelectSyncContended", "SelectAsyncContended",
    "SelectNonblock", "SelectProdCons", "SelectTimeoutFanIn",
]

PEERS = ["go", "tokio", "boost_fiber", "tbb", "thread"]

# The floor (//bench:floor_bench): the unavoidable part of the workloads
# whose cost is mostly not the scheduler's, done on plain threads with no
# scheduler. It runs in the blocks of these workloads only; the report
# measures every system's time above it.
FLOOR = "floor"
FLOOR_WORKLOADS = ["WakeupParallelSpinning", "Syscall", "MillionParked"]
FLOOR_DESCRIPTIONS = {
    "WakeupParallelSpinning": "the workload's spins on two threads, each hand-over a store "
                              "the other thread polls (no sleep, no wake-up): "
                              "2 × (delay + 5 µs) and two cache-line transfers per op; a "
                              "waiter sleeps on a futex only after 50 µs of polling (ten "
                              "times its wait), when the machine took its partner's CPU",
    "Syscall": "the same pipe round trip (a write(2) and a blocking read(2) per side) on two "
               "threads sharing one CPU, the kernel's cheapest wake-up, at every procs value",
    "MillionParked": "one mmap and one write per fresh 4 KiB page (huge pages off), one page "
                     "per goroutine, split over procs threads; spawn s = the whole op",
}


def floor_runs(workload):
    """Whether the floor system runs `workload` (a top-level name)."""
    return workload.split("/")[0] in FLOOR_WORKLOADS

PEER_DESCRIPTIONS = {
    "go": "Go's own runtime (Debian golang-go), bench/go/sched_test.go via go test -c",
    "tokio": "Tokio 1.24's multi-thread runtime (Debian librust-tokio-dev), worker_threads = procs, "
             "bench/tokio built with /usr/bin/cargo --offline --release",
    "boost_fiber": "Boost.Fiber algo::work_stealing on procs threads (//bench:boost_fiber_bench)",
    "tbb": "oneTBB task_group in a task_arena(procs) (//bench:tbb_bench)",
    "thread": "std::thread, one thread per task, at most 256 alive (//bench:thread_bench)",
}

_NO_YIELD = "TBB tasks run to completion: no yield, park or hand-off; blocking stalls a worker"
SELECT_WORKLOADS = ["SelectUncontended", "SelectSyncContended", "SelectAsyncContended",
                    "SelectNonblock", "SelectProdCons", "SelectTimeoutFanIn"]
_SELECT_NOT_PORTED = {
    "tbb": "no channels, and a TBB task cannot wait on several things at once",
    "boost_fiber": "Boost.Fiber's channels have no select (when_any works on futures, "
                   "not channel operations); not ported",
    "thread": "the standard library has no select over queues; not ported",
    "tokio": "not ported yet: tokio::select! (tokio-macros 1.7 is in Debian) would be the "
             "equivalent",
}
# Cells a peer leaves empty, and why.
NOT_IN_PEER = {
    "go": {},
    "tbb": {
        "Gosched": _NO_YIELD,
        "PingPongUnbuffered": _NO_YIELD + " (no channels)",
        "PingPongBuffered": _NO_YIELD + " (no channels)",
        "PingPongHog": _NO_YIELD,
        "WakeupParallelSpinning": _NO_YIELD,
        "LockOSThreadPingPong": _NO_YIELD,
        "Syscall": _NO_YIELD,
        "WakeupLatency": "a TBB task cannot park, so there is nothing to wake",
        "SpawnPark": "a TBB task cannot park",
        "MillionParked": "a TBB task cannot park",
    },
    "boost_fiber": {
        "PingPongHog": "no preemption: a hog fiber owns its thread forever",
        "LockOSThreadPingPong": "work_stealing cannot pin a fiber to a thread",
        "Syscall": "no hand-off: a blocking read stops the thread and all fibers "
                   "queued on it (deadlocks on one proc)",
        "SpawnPark": "not ported: 100,000 parked fibers hold 32 KiB stacks each (3.2 GB)",
        "MillionParked": "a million 32 KiB fiber stacks (>= 32 GB) do not fit here",
    },
    "tokio": {
        "PingPongHog": "no preemption: a task that never awaits owns its worker (the coop "
                       "budget only throttles Tokio's own resources)",
        "LockOSThreadPingPong": "a task cannot be pinned to a worker thread",
        "Syscall": "no hand-off of a blocked worker: spawn_blocking moves the call to a separate "
                   "thread pool (a queue hop and a JoinHandle, not Go's P hand-off), and "
                   "block_in_place, the closer analogue, hands the worker's core to a "
                   "blocking-pool thread on every call; neither is the cell gmplab measures",
    },
    "thread": {
        "SpawnPark": "100,000 OS threads parked at once exceed the thread limit",
        "MillionParked": "a million OS threads exceed the thread and mapping limits",
    },
}

# Notes on cells that exist but differ from gmplab's workload.
PEER_NOTES = {
    ("thread", "LockOSThreadPingPong"): "same code as PingPongUnbuffered: each task owns its thread",
    ("thread", "WakeupLatency"): "an OS futex wake-up through a mutex+condvar rendezvous",
    ("thread", "PingPongHog"): "10,000 ops per repetition (OS time slices make each op slow)",
    ("boost_fiber", "PingPongBuffered"): "capacity 2, Boost's minimum",
    ("tokio", "PingPongUnbuffered"): "mpsc capacity 1: Tokio has no rendezvous channel "
                                     "(same code as PingPongBuffered)",
    ("tokio", "WakeupParallelSpinning"): "mpsc capacity 1 instead of unbuffered channels",
    ("tokio", "WakeupLatency"): "mpsc capacity 1 instead of unbuffered channels",
    ("tokio", "Gosched"): "tokio::task::yield_now (1.24 defers the waker until the worker "
                          "would park)",
    ("tokio", "Fib"): "spawn + JoinHandle per fork; the inline branch is a boxed future",
    ("tokio", "SpawnPark"): "tasks park in Semaphore::acquire; release closes the semaphore",
    ("tokio", "MillionParked"): "tasks park in Semaphore::acquire; release closes the semaphore",
    ("tokio", "*"): "stackless tasks: a task is a heap-allocated state machine, no stack",
    ("boost_fiber", "*"): "idle workers spin (suspend=false)",
    ("thread", "*"): "procs = CPUs in the affinity mask (capped at the machine's CPUs)",
}


for _peer, _why in _SELECT_NOT_PORTED.items():
    for _w in SELECT_WORKLOADS:
        NOT_IN_PEER[_peer][_w] = _why


def peer_supports(peer, workload):
    """Returns (True, None) or (False, reason)."""
    reason = NOT_IN_PEER.get(peer, {}).get(workload)
    return (reason is None), reason
