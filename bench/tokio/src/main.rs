//! bench/tokio — gmplab's scheduler workloads on Tokio's multi-thread runtime.
//!
//! A peer for `./harness report`, like bench/go/sched_test.go is for Go: the
//! same workload names, shapes and sizes as bench/workloads/*.cc (see the
//! table in bench/README.md), on `tokio::runtime::Builder::new_multi_thread()`
//! with `worker_threads = procs`, one runtime per (workload, procs).
//!
//! The binary speaks enough of Google Benchmark's command line and JSON output
//! for bench/tools/runner.py and parse.parse_gbench_json:
//!
//!   --benchmark_filter=^Name(/|$)   which workloads (a prefix match; see `Filter`)
//!   --procs=1,2,4                   worker-thread counts to sweep
//!   --benchmark_min_time=S          run each benchmark at least S seconds ("Nx": N iterations)
//!   --benchmark_repetitions=N       runs per benchmark (default 1)
//!   --benchmark_out=PATH --benchmark_out_format=json
//!   --benchmark_format=console|json (stdout)
//!   --million=N                     tasks in MillionParked (default 1,000,000)
//!   --hog_ops=N                     accepted for symmetry (no PingPongHog here)
//!   --benchmark_list_tests          print the benchmark names and exit
//!   --describe                      print one line saying what this binary measures
//!
//! Iterations are calibrated as Google Benchmark does: run with N = 1, then
//! grow N (by min_time * 1.4 / elapsed, or 10x while a run takes under a tenth
//! of min_time) until a run takes at least min_time; that last run is
//! reported. Times are wall time per op and whole-process CPU time per op
//! (CLOCK_PROCESS_CPUTIME_ID), both taken inside the driving task around the
//! timed ops, like gmplab's `UseRealTime` + `MeasureProcessCPUTime`.
//!
//! The driving code runs in a task spawned on the runtime (a worker thread),
//! as gmplab's benchmark body runs in a goroutine inside `gmp::Run` and Go's
//! in a goroutine; the main thread only waits in `block_on`.
//!
//! Tokio has no rendezvous (unbuffered) channel: PingPongUnbuffered,
//! WakeupParallelSpinning and WakeupLatency use `tokio::sync::mpsc` with
//! capacity 1, the same as PingPongBuffered.

use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, Notify, Semaphore};

// --- sizes shared with bench/common/util.h ------------------------------------

const FIB_N: i32 = 20;
const FIB_CUTOFF: i32 = 2;
const FIB_RESULT: i64 = 6765;
const SKEW_TASKS: usize = 256;
const SKEW_UNIT: u64 = 2000;
const SKEW_EVERY: usize = 16;
const WAKE_DELAY_NS: i64 = 5000;
const WAKEUP_DELAYS_US: [i64; 3] = [0, 5, 50];
const WAKE_GAP_MIN_NS: i64 = 2000;
const WAKE_GAP_SPAN_NS: u64 = 4000;
const LATENCY_MAX_SAMPLES_OUT: usize = 20000;
const SPAWN_PARK_BATCH: u64 = 100_000;
const MAX_ITERATIONS: u64 = 1_000_000_000;

fn serial_fib(n: i32) -> i64 {
    if n < 2 {
        n as i64
    } else {
        serial_fib(n - 1) + serial_fib(n - 2)
    }
}

fn busy_work(units: u64) -> u64 {
    let mut x: u64 = 88172645463325252;
    for _ in 0..units {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    x
}

fn skew_units(i: usize) -> u64 {
    if i % SKEW_EVERY == 0 {
        16 * SKEW_UNIT
    } else {
        SKEW_UNIT
    }
}

/// Busy-waits `ns` without yielding (Go's spinFor; gmplab's SpinFor).
fn spin_for(ns: i64) {
    if ns <= 0 {
        return;
    }
    let end = Instant::now() + Duration::from_nanos(ns as u64);
    while Instant::now() < end {}
}

fn clock_ns(clock: libc::clockid_t) -> i64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes into the timespec we own.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    ts.tv_sec as i64 * 1_000_000_000 + ts.tv_nsec as i64
}

/// CLOCK_MONOTONIC in ns (gmplab's MonotonicNs).
fn monotonic_ns() -> i64 {
    clock_ns(libc::CLOCK_MONOTONIC)
}

/// Whole-process CPU time (all threads) in ns.
fn process_cpu_ns() -> i64 {
    clock_ns(libc::CLOCK_PROCESS_CPUTIME_ID)
}

/// The resident set from /proc/self/statm, in bytes (0 when unreadable).
/// The process's minor page faults so far (pages the kernel made resident).
fn minor_faults() -> i64 {
    // SAFETY: getrusage writes only the struct it is given.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    ru.ru_minflt as i64
}

fn resident_bytes() -> i64 {
    let text = match std::fs::read_to_string("/proc/self/statm") {
        Ok(t) => t,
        Err(_) => return 0,
    };
    let pages: i64 = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    // SAFETY: sysconf has no preconditions.
    pages * unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as i64
}

fn wake_gap(rng: &mut u64) -> i64 {
    let mut x = *rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *rng = x;
    WAKE_GAP_MIN_NS + (x % WAKE_GAP_SPAN_NS) as i64
}

// --- what one run measures ------------------------------------------------------

/// The outcome of one run of `iters` ops.
#[derive(Default)]
struct RunResult {
    wall_ns: i64,
    cpu_ns: i64,
    counters: Vec<(&'static str, f64)>,
    latency_ns: Vec<i64>,
    error: Option<String>,
}

/// Times the ops of a run: wall clock and whole-process CPU.
struct Timer {
    wall: Instant,
    cpu: i64,
}

impl Timer {
    fn start() -> Timer {
        Timer { wall: Instant::now(), cpu: process_cpu_ns() }
    }
    fn stop(self) -> RunResult {
        let cpu = process_cpu_ns() - self.cpu;
        RunResult { wall_ns: self.wall.elapsed().as_nanos() as i64, cpu_ns: cpu, ..Default::default() }
    }
}

/// A Go-style WaitGroup: a counter and a Notify for the one waiter.
struct WaitGroup {
    count: AtomicI64,
    notify: Notify,
}

impl WaitGroup {
    fn new(n: i64) -> Arc<WaitGroup> {
        Arc::new(WaitGroup { count: AtomicI64::new(n), notify: Notify::new() })
    }
    fn done(&self) {
        if self.count.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.notify.notify_one(); // stores a permit if the waiter is not there yet
        }
    }
    async fn wait(&self) {
        while self.count.load(Ordering::Acquire) > 0 {
            self.notify.notified().await;
        }
    }
}

type BoxFut<T> = Pin<Box<dyn Future<Output = T> + Send>>;
type Body = fn(u64, usize, &Config) -> BoxFut<RunResult>;

// --- the workloads --------------------------------------------------------------

/// CreateGoroutines(Parallel): a chain of tasks, each spawning the next; the
/// last one signals. Op = one task of a chain.
fn chain_link(n: u64, done: mpsc::UnboundedSender<()>) {
    tokio::spawn(async move {
        if n == 0 {
            let _ = done.send(());
        } else {
            chain_link(n - 1, done);
        }
    });
}

async fn run_chains(n: u64, chains: usize) -> RunResult {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let t = Timer::start();
    for _ in 0..chains {
        chain_link(n / chains as u64, tx.clone());
    }
    for _ in 0..chains {
        rx.recv().await;
    }
    t.stop()
}

fn bm_create_goroutines(n: u64, _procs: usize, _c: &Config) -> BoxFut<RunResult> {
    Box::pin(run_chains(n, 1))
}

fn bm_create_goroutines_parallel(n: u64, procs: usize, _c: &Config) -> BoxFut<RunResult> {
    Box::pin(run_chains(n, procs))
}

/// CreateGoroutinesSingle: one task spawns n tasks that each call Done.
fn bm_create_goroutines_single(n: u64, _procs: usize, _c: &Config) -> BoxFut<RunResult> {
    Box::pin(async move {
        let t = Timer::start();
        let wg = WaitGroup::new(n as i64);
        for _ in 0..n {
            let wg = wg.clone();
            tokio::spawn(async move { wg.done() });
        }
        wg.wait().await;
        t.stop()
    })
}

/// Gosched: two tasks calling tokio::task::yield_now in turn on one worker.
/// Op = one yield.
fn bm_gosched(n: u64, _procs: usize, _c: &Config) -> BoxFut<RunResult> {
    Box::pin(async move {
        let t = Timer::start();
        let mut handles = Vec::new();
        for k in 0..2u64 {
            let calls = n / 2 + if k == 0 { n % 2 } else { 0 };
            handles.push(tokio::spawn(async move {
                for _ in 0..calls {
                    tokio::task::yield_now().await;
                }
            }));
        }
        for h in handles {
            h.await.expect("yielding task panicked");
        }
        t.stop()
    })
}

/// PingPong(Un)buffered: a round trip over two capacity-1 mpsc channels.
fn bm_ping_pong(n: u64, _procs: usize, _c: &Config) -> BoxFut<RunResult> {
    Box::pin(async move {
        let (ping_tx, mut ping_rx) = mpsc::channel::<i32>(1);
        let (pong_tx, mut pong_rx) = mpsc::channel::<i32>(1);
        let partner = tokio::spawn(async move {
            while let Some(v) = ping_rx.recv().await {
                if pong_tx.send(v).await.is_err() {
                    break;
                }
            }
        });
        let t = Timer::start();
        for _ in 0..n {
            ping_tx.send(1).await.expect("partner gone");
            pong_rx.recv().await.expect("partner gone");
        }
        let r = t.stop();
        drop(ping_tx);
        partner.await.expect("partner panicked");
        r
    })
}

/// WakeupParallelSpinning/delay_us:D: two tasks alternate as sender and
/// receiver, spinning `delay` (+5 us on the sending side) between.
fn wakeup_parallel(n: u64, delay_us: i64) -> BoxFut<RunResult> {
    Box::pin(async move {
        let delay = delay_us * 1000;
        let (ping_tx, mut ping_rx) = mpsc::channel::<bool>(1);
        let (pong_tx, mut pong_rx) = mpsc::channel::<bool>(1);
        let (start_tx, mut start_rx) = mpsc::channel::<bool>(1);
        let a = tokio::spawn(async move {
            start_rx.recv().await;
            for _ in 0..n {
                spin_for(delay + WAKE_DELAY_NS);
                ping_tx.send(true).await.expect("peer gone");
                spin_for(delay);
                pong_rx.recv().await.expect("peer gone");
            }
        });
        let b = tokio::spawn(async move {
            for _ in 0..n {
                spin_for(delay);
                ping_rx.recv().await.expect("peer gone");
                spin_for(delay + WAKE_DELAY_NS);
                pong_tx.send(true).await.expect("peer gone");
            }
        });
        let t = Timer::start();
        start_tx.send(true).await.expect("peer gone");
        a.await.expect("task panicked");
        b.await.expect("task panicked");
        t.stop()
    })
}

fn bm_wakeup_0(n: u64, _p: usize, _c: &Config) -> BoxFut<RunResult> {
    wakeup_parallel(n, WAKEUP_DELAYS_US[0])
}
fn bm_wakeup_5(n: u64, _p: usize, _c: &Config) -> BoxFut<RunResult> {
    wakeup_parallel(n, WAKEUP_DELAYS_US[1])
}
fn bm_wakeup_50(n: u64, _p: usize, _c: &Config) -> BoxFut<RunResult> {
    wakeup_parallel(n, WAKEUP_DELAYS_US[2])
}

/// Fib: fib(20) with a spawned task per fork, joined through its JoinHandle.
/// (The inline branch is a boxed future: async recursion needs the box.)
fn fib(n: i32) -> BoxFut<i64> {
    Box::pin(async move {
        if n < FIB_CUTOFF {
            return serial_fib(n);
        }
        let x = tokio::spawn(fib(n - 1));
        let y = fib(n - 2).await;
        x.await.expect("fib task panicked") + y
    })
}

fn bm_fib(n: u64, _procs: usize, _c: &Config) -> BoxFut<RunResult> {
    Box::pin(async move {
        let t = Timer::start();
        let mut wrong = false;
        for _ in 0..n {
            if fib(FIB_N).await != FIB_RESULT {
                wrong = true;
            }
        }
        let mut r = t.stop();
        if wrong {
            r.error = Some("wrong fib(20)".to_string());
        }
        r
    })
}

/// SkewedLoad: one task spawns 256 CPU-bound tasks, every 16th 16x longer.
fn bm_skewed_load(n: u64, _procs: usize, _c: &Config) -> BoxFut<RunResult> {
    Box::pin(async move {
        let sink = Arc::new(AtomicU64::new(0));
        let t = Timer::start();
        for _ in 0..n {
            let wg = WaitGroup::new(SKEW_TASKS as i64);
            for i in 0..SKEW_TASKS {
                let wg = wg.clone();
                let sink = sink.clone();
                tokio::spawn(async move {
                    sink.fetch_add(busy_work(skew_units(i)), Ordering::Relaxed);
                    wg.done();
                });
            }
            wg.wait().await;
        }
        let r = t.stop();
        if sink.load(Ordering::Relaxed) == 1 {
            eprintln!("(impossible sink value)");
        }
        r
    })
}

/// WakeupLatency: the receiver acks, then parks in recv on the data channel;
/// the sender takes the ack, spins 2-6 us, sends a CLOCK_MONOTONIC reading;
/// a sample is the receiver's reading when recv returns minus the sent one.
fn bm_wakeup_latency(n: u64, _procs: usize, _c: &Config) -> BoxFut<RunResult> {
    Box::pin(async move {
        let (data_tx, mut data_rx) = mpsc::channel::<i64>(1);
        let (ack_tx, mut ack_rx) = mpsc::channel::<bool>(1);
        let receiver = tokio::spawn(async move {
            let mut samples = Vec::with_capacity(n as usize);
            for _ in 0..n {
                ack_tx.send(true).await.expect("sender gone");
                let sent = data_rx.recv().await.expect("sender gone");
                samples.push(monotonic_ns() - sent);
            }
            samples
        });
        let mut rng: u64 = 0x9E3779B97F4A7C15;
        let t = Timer::start();
        for _ in 0..n {
            ack_rx.recv().await.expect("receiver gone");
            spin_for(wake_gap(&mut rng));
            data_tx.send(monotonic_ns()).await.expect("receiver gone");
        }
        let mut r = t.stop();
        r.latency_ns = receiver.await.expect("receiver panicked");
        r
    })
}

/// SpawnPark: op = one task spawned that calls done, parks on a semaphore
/// until it is closed, then calls done again; up to SPAWN_PARK_BATCH tasks
/// are parked at once.
fn bm_spawn_park(n: u64, _procs: usize, _c: &Config) -> BoxFut<RunResult> {
    Box::pin(async move {
        let mut rss_parked = 0;
        let (mut spawn_ns, mut release_ns) = (0i64, 0i64);
        let faults0 = minor_faults();
        let t = Timer::start();
        let mut done = 0;
        while done < n {
            let t0 = monotonic_ns();
            let batch = (n - done).min(SPAWN_PARK_BATCH);
            let release = Arc::new(Semaphore::new(0));
            let parked = WaitGroup::new(batch as i64);
            let finished = WaitGroup::new(batch as i64);
            for _ in 0..batch {
                let (release, parked, finished) = (release.clone(), parked.clone(), finished.clone());
                tokio::spawn(async move {
                    let acquire = release.acquire();
                    parked.done();
                    let _ = acquire.await; // Err once the semaphore is closed
                    finished.done();
                });
            }
            parked.wait().await;
            let t1 = monotonic_ns();
            if done + batch == n {
                rss_parked = resident_bytes();
            }
            let t2 = monotonic_ns();
            release.close();
            finished.wait().await;
            spawn_ns += t1 - t0;
            release_ns += monotonic_ns() - t2;
            done += batch;
        }
        let mut r = t.stop();
        let per_g = 1.0 / n.max(1) as f64;
        r.counters = vec![
            ("spawn_ns", spawn_ns as f64 * per_g),
            ("release_ns", release_ns as f64 * per_g),
            ("faults", (minor_faults() - faults0) as f64 * per_g),
            ("rss_parked_mb", rss_parked as f64 / (1 << 20) as f64),
            ("rss_after_mb", resident_bytes() as f64 / (1 << 20) as f64),
        ];
        r
    })
}

/// MillionParked: --million tasks that each park on one closed-at-the-end
/// semaphore (Tokio's nearest to parking on one channel that is then closed).
fn bm_million_parked(iters: u64, _procs: usize, c: &Config) -> BoxFut<RunResult> {
    let count = c.million;
    Box::pin(async move {
        let (mut spawn_s, mut release_s, mut rss_mb, mut per_g) = (0.0, 0.0, 0.0, 0.0);
        let t = Timer::start();
        for _ in 0..iters {
            let rss_before = resident_bytes();
            let release = Arc::new(Semaphore::new(0));
            let parked = WaitGroup::new(count as i64);
            let finished = WaitGroup::new(count as i64);
            let t0 = Instant::now();
            for _ in 0..count {
                let (release, parked, finished) = (release.clone(), parked.clone(), finished.clone());
                tokio::spawn(async move {
                    let acquire = release.acquire();
                    parked.done();
                    let _ = acquire.await; // Err once the semaphore is closed
                    finished.done();
                });
            }
            parked.wait().await;
            let t1 = Instant::now();
            let rss = resident_bytes();
            release.close();
            finished.wait().await;
            let t2 = Instant::now();
            spawn_s += (t1 - t0).as_secs_f64();
            release_s += (t2 - t1).as_secs_f64();
            rss_mb += rss as f64 / (1 << 20) as f64;
            per_g += (rss - rss_before) as f64 / count as f64;
        }
        let mut r = t.stop();
        let k = iters as f64;
        r.counters = vec![
            ("goroutines", count as f64),
            ("spawn_s", spawn_s / k),
            ("release_s", release_s / k),
            ("rss_mb", rss_mb / k),
            ("rss_bytes_per_g", per_g / k),
        ];
        r
    })
}

// --- registration ----------------------------------------------------------------

struct Bench {
    name: String,
    procs: usize,
    body: Body,
    fixed_iters: Option<u64>,
    latency: Option<&'static str>,
}

fn register(c: &Config) -> Vec<Bench> {
    let mut v = Vec::new();
    let mut add = |w: &str, p: usize, body: Body, fixed: Option<u64>, latency: Option<&'static str>| {
        v.push(Bench { name: format!("{}/procs:{}", w, p), procs: p, body, fixed_iters: fixed, latency });
    };
    for &p in &c.procs {
        add("CreateGoroutines", p, bm_create_goroutines, None, None);
        add("CreateGoroutinesParallel", p, bm_create_goroutines_parallel, None, None);
        add("CreateGoroutinesSingle", p, bm_create_goroutines_single, None, None);
        add("PingPongUnbuffered", p, bm_ping_pong, None, None);
        add("PingPongBuffered", p, bm_ping_pong, None, None);
        if p >= 2 {
            let bodies: [Body; 3] = [bm_wakeup_0, bm_wakeup_5, bm_wakeup_50];
            for (d, body) in WAKEUP_DELAYS_US.iter().zip(bodies.iter()) {
                add(&format!("WakeupParallelSpinning/delay_us:{}", d), p, *body, None, None);
            }
        }
        add("Fib", p, bm_fib, None, None);
        add("SkewedLoad", p, bm_skewed_load, None, None);
        add("WakeupLatency", p, bm_wakeup_latency, None, Some("WakeupLatency"));
        add("SpawnPark", p, bm_spawn_park, None, None);
    }
    add("Gosched", 1, bm_gosched, None, None);
    add("MillionParked", c.hardware_threads, bm_million_parked, Some(1), None);
    v
}

// --- flags -----------------------------------------------------------------------

struct Config {
    procs: Vec<usize>,
    million: u64,
    hardware_threads: usize,
    filter: Option<Filter>,
    min_time: f64,
    min_iters: Option<u64>,
    repetitions: u64,
    out: Option<String>,
    out_format: String,
    format: String,
    describe: bool,
    list: bool,
}

/// The subset of Google Benchmark's regex filter the runner uses: `^Name(/|$)`,
/// `^Name`, `Name$`, `Name` (a substring), `.`/`all`, with `\` escapes.
struct Filter {
    text: String,
    anchored: bool,
    boundary: bool,
    end: bool,
}

impl Filter {
    fn parse(f: &str) -> Result<Option<Filter>, String> {
        if f.is_empty() || f == "." || f == ".*" || f == "all" {
            return Ok(None);
        }
        let mut s = f;
        let anchored = s.starts_with('^');
        if anchored {
            s = &s[1..];
        }
        let mut boundary = false;
        let mut end = false;
        if let Some(rest) = s.strip_suffix("(/|$)") {
            s = rest;
            boundary = true;
        } else if let Some(rest) = s.strip_suffix('$') {
            s = rest;
            end = true;
        }
        let mut text = String::new();
        let mut chars = s.chars();
        while let Some(ch) = chars.next() {
            if ch == '\\' {
                match chars.next() {
                    Some(e) => text.push(e),
                    None => return Err(format!("bad --benchmark_filter '{}'", f)),
                }
            } else if "^$()|[]{}*+?.".contains(ch) {
                return Err(format!(
                    "--benchmark_filter '{}': only ^Name(/|$), ^Name, Name$ and plain names are supported",
                    f
                ));
            } else {
                text.push(ch);
            }
        }
        Ok(Some(Filter { text, anchored, boundary, end }))
    }

    fn matches(&self, name: &str) -> bool {
        let starts: Vec<usize> = if self.anchored {
            vec![0]
        } else {
            name.match_indices(self.text.as_str()).map(|(i, _)| i).collect()
        };
        starts.into_iter().any(|i| {
            if !name[i..].starts_with(self.text.as_str()) {
                return false;
            }
            let rest = &name[i + self.text.len()..];
            if self.boundary {
                rest.is_empty() || rest.starts_with('/')
            } else if self.end {
                rest.is_empty()
            } else {
                true
            }
        })
    }
}

const USAGE: &str = "usage: tokio_bench [--procs=1,2,4] [--million=N] [--hog_ops=N] [--describe] \
[--benchmark_filter=^Name(/|$)] [--benchmark_min_time=S|Nx] [--benchmark_repetitions=N] \
[--benchmark_out=PATH] [--benchmark_out_format=json] [--benchmark_format=console|json] \
[--benchmark_list_tests]";

fn default_procs(hw: usize) -> Vec<usize> {
    let mut v = Vec::new();
    let mut p = 1;
    while p <= 2 * hw {
        v.push(p);
        p *= 2;
    }
    if *v.last().unwrap() != 2 * hw {
        v.push(2 * hw);
    }
    v
}

fn parse_procs(s: &str) -> Result<Vec<usize>, String> {
    let mut v = Vec::new();
    for item in s.split(',') {
        match item.parse::<usize>() {
            Ok(p) if (1..=1024).contains(&p) => v.push(p),
            _ => return Err(format!("bad --procs list '{}' (want e.g. 1,2,4)", s)),
        }
    }
    Ok(v)
}

fn parse_args(args: &[String]) -> Result<Config, String> {
    let hw = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let mut c = Config {
        procs: default_procs(hw),
        million: 1_000_000,
        hardware_threads: hw,
        filter: None,
        min_time: 0.5,
        min_iters: None,
        repetitions: 1,
        out: None,
        out_format: "json".to_string(),
        format: "console".to_string(),
        describe: false,
        list: false,
    };
    for a in args {
        let (flag, value) = match a.find('=') {
            Some(i) => (&a[..i], Some(&a[i + 1..])),
            None => (a.as_str(), None),
        };
        let need = || value.ok_or_else(|| format!("{} needs a value ({}=...)", flag, flag));
        match flag {
            "--procs" => c.procs = parse_procs(need()?)?,
            "--million" => {
                c.million = need()?.parse().ok().filter(|&m| m >= 1).ok_or_else(|| format!("bad --million '{}'", a))?
            }
            "--hog_ops" => {
                need()?.parse::<u64>().ok().filter(|&m| m >= 1).ok_or_else(|| format!("bad --hog_ops '{}'", a))?;
            }
            "--benchmark_filter" => c.filter = Filter::parse(need()?)?,
            "--benchmark_min_time" => {
                let v = need()?;
                if let Some(n) = v.strip_suffix('x') {
                    c.min_iters = Some(n.parse().ok().filter(|&n| n >= 1).ok_or_else(|| format!("bad {}", a))?);
                } else {
                    let s = v.strip_suffix('s').unwrap_or(v);
                    c.min_time = s.parse().ok().filter(|&t: &f64| t > 0.0).ok_or_else(|| format!("bad {}", a))?;
                }
            }
            "--benchmark_repetitions" => {
                c.repetitions = need()?.parse().ok().filter(|&n| n >= 1).ok_or_else(|| format!("bad {}", a))?
            }
            "--benchmark_out" => c.out = Some(need()?.to_string()),
            "--benchmark_out_format" => {
                let v = need()?;
                if v != "json" {
                    return Err(format!("--benchmark_out_format={}: only json is supported", v));
                }
                c.out_format = v.to_string();
            }
            "--benchmark_format" => {
                let v = need()?;
                if v != "console" && v != "json" {
                    return Err(format!("--benchmark_format={}: only console and json are supported", v));
                }
                c.format = v.to_string();
            }
            "--benchmark_list_tests" => c.list = value.map(|v| v != "false").unwrap_or(true),
            "--describe" => c.describe = true,
            _ => return Err(format!("unknown flag '{}'", a)),
        }
    }
    Ok(c)
}

// --- running and reporting ---------------------------------------------------------

fn tokio_version() -> String {
    // Cargo.lock pins the exact Tokio this binary was built against.
    let lock = include_str!("../Cargo.lock");
    let mut lines = lock.lines();
    while let Some(l) = lines.next() {
        if l == "name = \"tokio\"" {
            if let Some(v) = lines.next() {
                return v.trim_start_matches("version = ").trim_matches('"').to_string();
            }
        }
    }
    "1.24".to_string()
}

fn describe() -> String {
    format!(
        "tokio: Tokio {} multi-thread runtime (Debian librust-tokio-dev), worker_threads = procs, \
         default scheduler settings (LIFO slot on, global queue interval 61, event interval 61), \
         no I/O or time driver; mpsc capacity 1 for every channel",
        tokio_version()
    )
}

fn json_str(s: &str) -> String {
    let mut o = String::from("\"");
    for ch in s.chars() {
        match ch {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

fn json_num(x: f64) -> String {
    if x.is_finite() {
        format!("{:e}", x)
    } else {
        "0".to_string()
    }
}

/// Streams Google Benchmark-style JSON: each finished benchmark is written and
/// flushed at once, so a crash keeps what ran (runner.salvage_gbench_json).
struct JsonOut {
    w: Box<dyn Write>,
    first: bool,
}

impl JsonOut {
    fn new(mut w: Box<dyn Write>, c: &Config) -> std::io::Result<JsonOut> {
        let date = std::process::Command::new("date").arg("-Iseconds").output().ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string()).unwrap_or_default();
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        let exe = std::env::args().next().unwrap_or_default();
        let procs: Vec<String> = c.procs.iter().map(|p| p.to_string()).collect();
        write!(
            w,
            "{{\n  \"context\": {{\n    \"date\": {},\n    \"host_name\": {},\n    \"executable\": {},\n    \
             \"num_cpus\": {},\n    \"library_build_type\": \"release\",\n    \"gmplab_system\": \"tokio\",\n    \
             \"gmplab_policy\": {},\n    \"gmplab_procs\": {},\n    \"gmplab_million\": \"{}\"\n  }},\n  \"benchmarks\": [",
            json_str(&date), json_str(host.trim()), json_str(&exe), c.hardware_threads,
            json_str(&describe()), json_str(&procs.join(",")), c.million
        )?;
        w.flush()?;
        Ok(JsonOut { w, first: true })
    }

    fn add(&mut self, family: usize, rep: u64, reps: u64, b: &Bench, iters: u64, r: &RunResult) -> std::io::Result<()> {
        let name = format!("{}/process_time/real_time", b.name);
        let mut s = format!(
            "{}\n    {{\n      \"name\": {},\n      \"family_index\": {},\n      \"per_family_instance_index\": 0,\n      \
             \"run_name\": {},\n      \"run_type\": \"iteration\",\n      \"repetitions\": {},\n      \
             \"repetition_index\": {},\n      \"threads\": 1,\n      \"iterations\": {}",
            if self.first { "" } else { "," }, json_str(&name), family, json_str(&name), reps, rep, iters
        );
        if let Some(e) = &r.error {
            s += &format!(",\n      \"error_occurred\": true,\n      \"error_message\": {}", json_str(e));
        }
        let per = iters.max(1) as f64;
        s += &format!(
            ",\n      \"real_time\": {},\n      \"cpu_time\": {},\n      \"time_unit\": \"ns\"",
            json_num(r.wall_ns as f64 / per), json_num(r.cpu_ns as f64 / per)
        );
        for (k, v) in &r.counters {
            s += &format!(",\n      {}: {}", json_str(k), json_num(*v));
        }
        s += "\n    }";
        self.first = false;
        self.w.write_all(s.as_bytes())?;
        self.w.flush()
    }

    fn finish(&mut self) -> std::io::Result<()> {
        self.w.write_all(b"\n  ]\n}\n")?;
        self.w.flush()
    }
}

/// Nearest-rank percentiles as counters, as bench/common/latency.h does.
fn latency_counters(samples: &[i64]) -> Vec<(&'static str, f64)> {
    if samples.is_empty() {
        return vec![];
    }
    let mut s = samples.to_vec();
    s.sort_unstable();
    let rank = |q: f64| {
        let k = (q * s.len() as f64).ceil() as usize;
        s[k.clamp(1, s.len()) - 1] as f64
    };
    vec![
        ("p50_ns", rank(0.50)),
        ("p90_ns", rank(0.90)),
        ("p99_ns", rank(0.99)),
        ("p999_ns", rank(0.999)),
        ("max_ns", *s.last().unwrap() as f64),
    ]
}

/// Appends a reported run's raw samples to $GMPLAB_LATENCY_OUT as one line.
fn write_latency_line(workload: &str, procs: usize, samples: &[i64]) {
    let path = match std::env::var("GMPLAB_LATENCY_OUT") {
        Ok(p) if !p.is_empty() => p,
        _ => return,
    };
    let n = samples.len();
    if n == 0 {
        return;
    }
    let stride = (n + LATENCY_MAX_SAMPLES_OUT - 1) / LATENCY_MAX_SAMPLES_OUT;
    let vals: Vec<String> = samples.iter().step_by(stride).map(|v| v.to_string()).collect();
    let line = format!(
        "{{\"workload\":\"{}\",\"procs\":{},\"iterations\":{},\"samples_ns\":[{}]}}\n",
        workload, procs, n, vals.join(",")
    );
    let f = std::fs::OpenOptions::new().append(true).create(true).open(&path);
    match f {
        Ok(mut f) => {
            let _ = f.write_all(line.as_bytes());
        }
        Err(e) => eprintln!("tokio_bench: cannot append to GMPLAB_LATENCY_OUT={}: {}", path, e),
    }
}

/// Runs one benchmark: calibrates the iterations on its own runtime, then
/// reports `repetitions` runs.
fn run_bench(c: &Config, b: &Bench, family: usize, out: &mut Vec<JsonOut>, console: bool) -> bool {
    let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(b.procs).build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tokio_bench: {}: cannot build the runtime: {}", b.name, e);
            return false;
        }
    };
    let run = |iters: u64| -> RunResult {
        let fut = (b.body)(iters, b.procs, c);
        rt.block_on(async move { tokio::spawn(fut).await.expect("benchmark task panicked") })
    };
    let mut ok = true;
    for rep in 0..c.repetitions {
        let mut iters = b.fixed_iters.or(c.min_iters).unwrap_or(1);
        let mut r;
        loop {
            r = run(iters);
            if b.fixed_iters.is_some() || c.min_iters.is_some() || r.error.is_some() {
                break;
            }
            let secs = r.wall_ns as f64 / 1e9;
            if secs >= c.min_time || iters >= MAX_ITERATIONS {
                break;
            }
            let mult = if secs / c.min_time > 0.1 { c.min_time * 1.4 / secs.max(1e-9) } else { 10.0 };
            let next = ((iters as f64 * mult) as u64).max(iters + 1);
            iters = next.min(MAX_ITERATIONS);
        }
        if let Some(w) = b.latency {
            r.counters.extend(latency_counters(&r.latency_ns));
            write_latency_line(w, b.procs, &r.latency_ns);
        }
        if r.error.is_some() {
            ok = false;
        }
        for o in out.iter_mut() {
            if let Err(e) = o.add(family, rep, c.repetitions, b, iters, &r) {
                eprintln!("tokio_bench: cannot write the JSON output: {}", e);
                ok = false;
            }
        }
        if console {
            let per = iters.max(1) as f64;
            let counters: Vec<String> = r.counters.iter().map(|(k, v)| format!("{}={:.4}", k, v)).collect();
            println!(
                "{:<60} {:>12.1} ns {:>12.1} ns {:>10} {}{}",
                format!("{}/process_time/real_time", b.name),
                r.wall_ns as f64 / per,
                r.cpu_ns as f64 / per,
                iters,
                counters.join(" "),
                r.error.as_ref().map(|e| format!(" ERROR: {}", e)).unwrap_or_default()
            );
        }
    }
    rt.shutdown_timeout(Duration::from_secs(5));
    ok
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{}", USAGE);
        return;
    }
    let c = match parse_args(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("tokio_bench: {}\n{}", e, USAGE);
            std::process::exit(2);
        }
    };
    if c.describe {
        println!("{}", describe());
        return;
    }
    let benches: Vec<Bench> = register(&c)
        .into_iter()
        .filter(|b| c.filter.as_ref().map(|f| f.matches(&b.name)).unwrap_or(true))
        .collect();
    if c.list {
        for b in &benches {
            println!("{}/process_time/real_time", b.name);
        }
        return;
    }
    if benches.is_empty() {
        eprintln!("tokio_bench: no benchmark matches the filter");
        std::process::exit(1);
    }
    let mut outs = Vec::new();
    let open = |w: Box<dyn Write>| match JsonOut::new(w, &c) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("tokio_bench: cannot write JSON: {}", e);
            std::process::exit(1);
        }
    };
    if let Some(path) = &c.out {
        match std::fs::File::create(path) {
            Ok(f) => outs.push(open(Box::new(f))),
            Err(e) => {
                eprintln!("tokio_bench: cannot create {}: {}", path, e);
                std::process::exit(1);
            }
        }
    }
    let console = c.format == "console";
    if !console {
        outs.push(open(Box::new(std::io::stdout())));
    } else {
        println!("{:<60} {:>15} {:>15} {:>10}", "Benchmark", "Time", "CPU", "Iterations");
    }
    let mut ok = true;
    for (i, b) in benches.iter().enumerate() {
        ok &= run_bench(&c, b, i, &mut outs, console);
    }
    for o in outs.iter_mut() {
        let _ = o.finish();
    }
    if !ok {
        std::process::exit(1);
    }
}
