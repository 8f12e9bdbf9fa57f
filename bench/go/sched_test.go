// Package schedbench runs gmplab's benchmark workloads on Go's own runtime,
// so the report can put gmplab beside the scheduler it models. Each benchmark
// has the same name as its gmplab workload (bench/workloads/*.cc) and the same
// size; GOMAXPROCS comes from `go test -cpu`. CPU time is whole-process
// getrusage(RUSAGE_SELF), reported as cpu-ns/op.
//
//	GOFLAGS=-mod=mod GOPROXY=off go test -run '^$' -bench . -benchtime 50ms -count 10 -cpu 1,2,4
package schedbench

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// cpuNow returns the process's user+system CPU time in nanoseconds.
func cpuNow() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// minorFaults returns the process's minor page faults so far (pages the
// kernel made resident).
func minorFaults() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Minflt
}

// timed resets the benchmark timer, runs body and reports cpu-ns/op.
func timed(b *testing.B, body func()) {
	b.ResetTimer()
	c0 := cpuNow()
	body()
	b.StopTimer()
	if b.N > 0 {
		b.ReportMetric(float64(cpuNow()-c0)/float64(b.N), "cpu-ns/op")
	}
}

func BenchmarkCreateGoroutines(b *testing.B) { benchCreateChains(b, 1) }

func BenchmarkCreateGoroutinesParallel(b *testing.B) {
	benchCreateChains(b, runtime.GOMAXPROCS(0))
}

func benchCreateChains(b *testing.B, chains int) {
	done := make(chan bool)
	var link func(n int)
	link = func(n int) {
		if n == 0 {
			done <- true
			return
		}
		go link(n - 1)
	}
	timed(b, func() {
		for i := 0; i < chains; i++ {
			go link(b.N / chains)
		}
		for i := 0; i < chains; i++ {
			<-done
		}
	})
}

func BenchmarkCreateGoroutinesSingle(b *testing.B) {
	timed(b, func() {
		var wg sync.WaitGroup
		wg.Add(b.N)
		for i := 0; i < b.N; i++ {
			go func() { wg.Done() }()
		}
		wg.Wait()
	})
}

func pingPong(b *testing.B, capacity int) {
	ping, pong := make(chan int, capacity), make(chan int, capacity)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		for v := range ping {
			pong <- v
		}
		wg.Done()
	}()
	timed(b, func() {
		for i := 0; i < b.N; i++ {
			ping <- 1
			<-pong
		}
	})
	close(ping)
	wg.Wait()
}

func BenchmarkPingPongUnbuffered(b *testing.B) { pingPong(b, 0) }
func BenchmarkPingPongBuffered(b *testing.B)   { pingPong(b, 1) }

// onlyOneProc skips fixed one-proc workloads unless -cpu gave 1, so they are
// measured once (the report runs them with -cpu 1).
func onlyOneProc(b *testing.B) {
	if runtime.GOMAXPROCS(0) != 1 {
		b.Skip("runs on one proc only")
	}
}

func BenchmarkPingPongHog(b *testing.B) {
	onlyOneProc(b)
	stop, done := make(chan bool), make(chan bool)
	go func() { // the hog
		for {
			select {
			case <-stop:
				done <- true
				return
			default:
			}
		}
	}()
	ping, pong := make(chan bool), make(chan bool)
	go func() {
		for j := 0; j < b.N; j++ {
			pong <- <-ping
		}
		close(stop)
		done <- true
	}()
	go func() {
		for i := 0; i < b.N; i++ {
			ping <- <-pong
		}
		done <- true
	}()
	timed(b, func() {
		ping <- true
		<-stop
	})
	<-ping
	<-done
	<-done
	<-done
}

func BenchmarkGosched(b *testing.B) {
	onlyOneProc(b)
	timed(b, func() {
		var wg sync.WaitGroup
		wg.Add(2)
		for k := 0; k < 2; k++ {
			calls := b.N / 2
			if k == 0 {
				calls += b.N % 2
			}
			go func() {
				for i := 0; i < calls; i++ {
					runtime.Gosched()
				}
				wg.Done()
			}()
		}
		wg.Wait()
	})
}

func spinFor(d time.Duration) {
	if d <= 0 {
		return
	}
	end := time.Now().Add(d)
	for time.Now().Before(end) {
	}
}

func BenchmarkWakeupParallelSpinning(b *testing.B) {
	if runtime.GOMAXPROCS(0) < 2 {
		b.Skip("needs two procs")
	}
	const wakeDelay = 5 * time.Microsecond
	for _, us := range []int{0, 5, 50} {
		delay := time.Duration(us) * time.Microsecond
		b.Run("delay_us:"+strconv.Itoa(us), func(b *testing.B) {
			ping, pong, start := make(chan bool), make(chan bool), make(chan bool)
			var wg sync.WaitGroup
			wg.Add(2)
			go func() {
				<-start
				for i := 0; i < b.N; i++ {
					spinFor(delay + wakeDelay)
					ping <- true
					spinFor(delay)
					<-pong
				}
				wg.Done()
			}()
			go func() {
				for i := 0; i < b.N; i++ {
					spinFor(delay)
					<-ping
					spinFor(delay + wakeDelay)
					pong <- true
				}
				wg.Done()
			}()
			timed(b, func() {
				start <- true
				wg.Wait()
			})
		})
	}
}

// monoBase anchors monoNow; time.Since reads the monotonic clock.
var monoBase = time.Now()

// monoNow returns monotonic nanoseconds since the package started.
func monoNow() int64 { return int64(time.Since(monoBase)) }

// BenchmarkWakeupLatency is gmplab's WakeupLatency (see
// bench/workloads/wakeup_latency.cc): the receiver acks, then parks in a
// receive on an unbuffered channel; the sender takes the ack, spins a gap of
// 2-6 us (xorshift, as gmplab), reads the monotonic clock and sends the
// reading; the receiver reads the clock as soon as the receive returns. A
// sample is the difference: goready until the receiver runs. Reports the
// p50/p90/p99/p999/max of the samples; GMPLAB_LATENCY_OUT gets the raw samples.
func BenchmarkWakeupLatency(b *testing.B) {
	const gapMin, gapSpan = 2000, 4000 // ns
	data, ack := make(chan int64), make(chan bool)
	samples := make([]int64, b.N)
	done := make(chan bool)
	go func() {
		for i := 0; i < b.N; i++ {
			ack <- true
			sent := <-data
			samples[i] = monoNow() - sent
		}
		done <- true
	}()
	rng := uint64(0x9E3779B97F4A7C15)
	timed(b, func() {
		for i := 0; i < b.N; i++ {
			<-ack
			rng ^= rng << 13
			rng ^= rng >> 7
			rng ^= rng << 17
			spinFor(time.Duration(gapMin + rng%gapSpan))
			data <- monoNow()
		}
	})
	<-done
	reportLatencies(b, "WakeupLatency", samples)
}

// maxLatencySamplesOut caps the samples one run writes to GMPLAB_LATENCY_OUT.
const maxLatencySamplesOut = 20000

// reportLatencies reports the nearest-rank percentiles of samples (ns) as
// p50-ns, p90-ns, p99-ns, p999-ns and max-ns and, when GMPLAB_LATENCY_OUT
// names a file, queues the run's samples (all, or an even stride of at most
// maxLatencySamplesOut) as one JSON line, as gmplab's binaries write them:
//
//	{"workload":"WakeupLatency","procs":2,"iterations":N,"samples_ns":[...]}
func reportLatencies(b *testing.B, workload string, samples []int64) {
	if len(samples) == 0 {
		return
	}
	sorted := append([]int64(nil), samples...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	rank := func(q float64) float64 {
		k := int(float64(len(sorted))*q + 0.999999999)
		if k < 1 {
			k = 1
		}
		if k > len(sorted) {
			k = len(sorted)
		}
		return float64(sorted[k-1])
	}
	b.ReportMetric(rank(0.50), "p50-ns")
	b.ReportMetric(rank(0.90), "p90-ns")
	b.ReportMetric(rank(0.99), "p99-ns")
	b.ReportMetric(rank(0.999), "p999-ns")
	b.ReportMetric(float64(sorted[len(sorted)-1]), "max-ns")
	if os.Getenv("GMPLAB_LATENCY_OUT") == "" {
		return
	}
	procs := runtime.GOMAXPROCS(0)
	stride := (len(samples) + maxLatencySamplesOut - 1) / maxLatencySamplesOut
	line := []byte(fmt.Sprintf(`{"workload":%q,"procs":%d,"iterations":%d,"samples_ns":[`,
		workload, procs, len(samples)))
	for i := 0; i < len(samples); i += stride {
		if i > 0 {
			line = append(line, ',')
		}
		line = strconv.AppendInt(line, samples[i], 10)
	}
	line = append(line, "]}\n"...)
	latencyPending.add(workload+"-"+strconv.Itoa(procs), int64(len(samples)), line)
}

// latencyLog holds each benchmark's last run until it is known to be
// reported: Go calls a benchmark with growing b.N until the count is
// settled, and only the last call is reported. A call with no larger b.N
// than the pending one (the next -cpu or -count round) or the end of the
// process (TestMain) writes the pending line; a larger b.N drops it as a
// probe. A pending b.N = 1 run is a probe too unless -benchtime is 1x: Go
// makes one b.N = 1 call per benchmark before it sets GOMAXPROCS from -cpu,
// under whatever GOMAXPROCS was left.
type latencyLog struct {
	mu      sync.Mutex
	pending map[string]latencyRun
}

type latencyRun struct {
	n    int64
	line []byte
}

var latencyPending = latencyLog{pending: map[string]latencyRun{}}

func (l *latencyLog) add(key string, n int64, line []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if old, ok := l.pending[key]; ok && n <= old.n && (old.n > 1 || benchtimeOneX()) {
		writeLatencyLine(old.line)
	}
	l.pending[key] = latencyRun{n, line}
}

func (l *latencyLog) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	keys := make([]string, 0, len(l.pending))
	for k := range l.pending {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		writeLatencyLine(l.pending[k].line)
	}
	l.pending = map[string]latencyRun{}
}

// benchtimeOneX reports whether -benchtime is 1x (one call with b.N = 1).
func benchtimeOneX() bool {
	f := flag.Lookup("test.benchtime")
	return f != nil && f.Value.String() == "1x"
}

func writeLatencyLine(line []byte) {
	path := os.Getenv("GMPLAB_LATENCY_OUT")
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		fmt.Fprintf(os.Stderr, "gmplab: cannot append to GMPLAB_LATENCY_OUT=%s: %v\n", path, err)
		return
	}
	f.Write(line)
	f.Close()
}

// TestMain writes the last pending latency samples once every benchmark ran.
func TestMain(m *testing.M) {
	code := m.Run()
	latencyPending.flush()
	os.Exit(code)
}

const (
	fibN       = 20
	fibCutoff  = 2
	skewTasks  = 256
	skewUnit   = 2000
	skewEvery  = 16
	serialFibN = 6765
)

func serialFib(n int) int64 {
	if n < 2 {
		return int64(n)
	}
	return serialFib(n-1) + serialFib(n-2)
}

func fib(n int) int64 {
	if n < fibCutoff {
		return serialFib(n)
	}
	var x int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		x = fib(n - 1)
		wg.Done()
	}()
	y := fib(n - 2)
	wg.Wait()
	return x + y
}

func BenchmarkFib(b *testing.B) {
	timed(b, func() {
		for i := 0; i < b.N; i++ {
			if fib(fibN) != serialFibN {
				b.Fatal("wrong fib")
			}
		}
	})
}

// busyWork matches gmplab_bench::BusyWork (xorshift steps).
func busyWork(units int) uint64 {
	x := uint64(88172645463325252)
	for i := 0; i < units; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}

func skewUnits(i int) int {
	if i%skewEvery == 0 {
		return 16 * skewUnit
	}
	return skewUnit
}

func BenchmarkSkewedLoad(b *testing.B) {
	var sink uint64
	timed(b, func() {
		for n := 0; n < b.N; n++ {
			var wg sync.WaitGroup
			wg.Add(skewTasks)
			for i := 0; i < skewTasks; i++ {
				i := i
				go func() {
					atomic.AddUint64(&sink, busyWork(skewUnits(i)))
					wg.Done()
				}()
			}
			wg.Wait()
		}
	})
}

func BenchmarkLockOSThreadPingPong(b *testing.B) {
	ping, pong := make(chan int), make(chan int)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		runtime.LockOSThread()
		for v := range ping {
			pong <- v
		}
		runtime.UnlockOSThread()
		wg.Done()
	}()
	runtime.LockOSThread()
	timed(b, func() {
		for i := 0; i < b.N; i++ {
			ping <- 1
			<-pong
		}
	})
	runtime.UnlockOSThread()
	close(ping)
	wg.Wait()
}

// BenchmarkSyscall: ping-pong over two pipes, each side blocked in read(2)
// (Go's syscall.Read enters and exits the syscall state around it).
func BenchmarkSyscall(b *testing.B) {
	var toPartner, toMain [2]int
	if err := syscall.Pipe(toPartner[:]); err != nil {
		b.Fatal(err)
	}
	if err := syscall.Pipe(toMain[:]); err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		buf := make([]byte, 1)
		for {
			if n, _ := syscall.Read(toPartner[0], buf); n != 1 {
				break
			}
			syscall.Write(toMain[1], buf)
		}
		wg.Done()
	}()
	buf := make([]byte, 1)
	timed(b, func() {
		for i := 0; i < b.N; i++ {
			syscall.Write(toPartner[1], buf)
			syscall.Read(toMain[0], buf)
		}
	})
	syscall.Close(toPartner[1])
	wg.Wait()
	syscall.Close(toPartner[0])
	syscall.Close(toMain[0])
	syscall.Close(toMain[1])
}

// residentBytes reads the resident set from /proc/self/statm.
func residentBytes() int64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	var fields []string
	start := -1
	for i, c := range string(data) + " " {
		if c == ' ' || c == '\n' {
			if start >= 0 {
				fields = append(fields, string(data)[start:i])
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	if len(fields) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(fields[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// spawnParkBatch is gmplab's kSpawnParkBatch (bench/common/util.h).
const spawnParkBatch = 100000

// BenchmarkSpawnPark: op = one goroutine spawned that calls WaitGroup.Done,
// parks on an unbuffered channel until it is closed, then calls Done again;
// up to spawnParkBatch goroutines are parked at once.
func BenchmarkSpawnPark(b *testing.B) {
	var rssParked, faults0 int64
	var spawnNs, releaseNs time.Duration
	faults0 = minorFaults()
	timed(b, func() {
		for done := 0; done < b.N; {
			t0 := time.Now()
			batch := b.N - done
			if batch > spawnParkBatch {
				batch = spawnParkBatch
			}
			release := make(chan bool)
			var parked, finished sync.WaitGroup
			parked.Add(batch)
			finished.Add(batch)
			for i := 0; i < batch; i++ {
				go func() {
					parked.Done()
					<-release
					finished.Done()
				}()
			}
			parked.Wait()
			t1 := time.Now()
			if done+batch == b.N {
				rssParked = residentBytes()
			}
			t2 := time.Now()
			close(release)
			finished.Wait()
			t3 := time.Now()
			spawnNs += t1.Sub(t0)
			releaseNs += t3.Sub(t2)
			done += batch
		}
	})
	if b.N > 0 {
		n := float64(b.N)
		b.ReportMetric(float64(spawnNs.Nanoseconds())/n, "spawn_ns")
		b.ReportMetric(float64(releaseNs.Nanoseconds())/n, "release_ns")
		b.ReportMetric(float64(minorFaults()-faults0)/n, "faults")
	}
	b.ReportMetric(float64(rssParked)/(1<<20), "rss_parked_mb")
	b.ReportMetric(float64(residentBytes())/(1<<20), "rss_after_mb")
}

// BenchmarkMillionParked: run with -benchtime 1x. $GMPLAB_MILLION overrides
// the count (default 1,000,000).
func BenchmarkMillionParked(b *testing.B) {
	count := 1000000
	if s := os.Getenv("GMPLAB_MILLION"); s != "" {
		if v, err := strconv.Atoi(s); err == nil && v > 0 {
			count = v
		}
	}
	var spawn, release, rss, perG float64
	timed(b, func() {
		for n := 0; n < b.N; n++ {
			rssBefore := residentBytes()
			releaseCh := make(chan bool)
			var parked, finished sync.WaitGroup
			parked.Add(count)
			finished.Add(count)
			t0 := time.Now()
			for i := 0; i < count; i++ {
				go func() {
					parked.Done()
					<-releaseCh
					finished.Done()
				}()
			}
			parked.Wait()
			t1 := time.Now()
			r := residentBytes()
			close(releaseCh)
			finished.Wait()
			t2 := time.Now()
			spawn += t1.Sub(t0).Seconds()
			release += t2.Sub(t1).Seconds()
			rss += float64(r) / (1 << 20)
			perG += float64(r-rssBefore) / float64(count)
		}
	})
	n := float64(b.N)
	b.ReportMetric(float64(count), "goroutines")
	b.ReportMetric(spawn/n, "spawn_s")
	b.ReportMetric(release/n, "release_s")
	b.ReportMetric(rss/n, "rss_mb")
	b.ReportMetric(perG/n, "rss_bytes_per_g")
}

// The select workloads (bench/workloads/select.cc): the shapes of Go's own
// select benchmarks (runtime/chan_test.go) with gmplab's op counts, one
// worker per proc each doing its share of b.N, and a fan-in with a timeout.

// runWorkers runs body(share) in one goroutine per proc, the shares adding
// up to n, and waits for all of them.
func runWorkers(n int, body func(share int)) {
	procs := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	wg.Add(procs)
	for w := 0; w < procs; w++ {
		share := n / procs
		if w < n%procs {
			share++
		}
		go func() {
			body(share)
			wg.Done()
		}()
	}
	wg.Wait()
}

func localWork(foo int) int {
	for i := 0; i < 100; i++ {
		foo *= 2
		foo /= 2
	}
	return foo
}

var selectSink int

// passToken puts a token in x, then share times selects over receives from
// x and y and passes the token it got to the other channel.
func passToken(x, y chan int, share int) {
	x <- 0
	for i := 0; i < share; i++ {
		select {
		case <-x:
			y <- 0
		case <-y:
			x <- 0
		}
	}
}

func BenchmarkSelectUncontended(b *testing.B) {
	timed(b, func() {
		runWorkers(b.N, func(share int) {
			passToken(make(chan int, 1), make(chan int, 1), share)
		})
	})
}

func BenchmarkSelectSyncContended(b *testing.B) {
	timed(b, func() {
		runWorkers(b.N, func(share int) {
			c0, c1, c2 := make(chan int), make(chan int), make(chan int)
			done := make(chan bool)
			helperDone := make(chan bool)
			go func() {
				for {
					select {
					case c0 <- 0:
					case c1 <- 0:
					case c2 <- 0:
					case <-done:
						helperDone <- true
						return
					}
				}
			}()
			for i := 0; i < share; i++ {
				select {
				case <-c0:
				case <-c1:
				case <-c2:
				}
			}
			close(done)
			<-helperDone
		})
	})
}

func BenchmarkSelectAsyncContended(b *testing.B) {
	procs := runtime.GOMAXPROCS(0)
	timed(b, func() {
		x, y := make(chan int, procs), make(chan int, procs)
		runWorkers(b.N, func(share int) { passToken(x, y, share) })
	})
}

func BenchmarkSelectNonblock(b *testing.B) {
	timed(b, func() {
		runWorkers(b.N, func(share int) {
			recv0, send0 := make(chan int), make(chan int)
			recv1, send1 := make(chan int, 1), make(chan int, 1)
			send1 <- 0
			for i := 0; i < share; i++ {
				select {
				case <-recv0:
				default:
				}
				select {
				case send0 <- 0:
				default:
				}
				select {
				case <-recv1:
				default:
				}
				select {
				case send1 <- 0:
				default:
				}
			}
		})
	})
}

func BenchmarkSelectProdCons(b *testing.B) {
	procs := runtime.GOMAXPROCS(0)
	timed(b, func() {
		c := make(chan int, 128)
		stop := make(chan bool)
		var consumers sync.WaitGroup
		consumers.Add(procs)
		for w := 0; w < procs; w++ {
			go func() {
				timer := time.After(time.Hour)
				foo := 0
			loop:
				for {
					select {
					case v := <-c:
						if v == 0 {
							break loop
						}
					case <-timer:
					case <-stop:
					}
					foo = localWork(foo)
				}
				selectSink += foo & 0
				consumers.Done()
			}()
		}
		runWorkers(b.N, func(share int) {
			timer := time.After(time.Hour)
			foo := 0
			for i := 0; i < share; i++ {
				foo = localWork(foo)
				select {
				case c <- 1:
				case <-timer:
				case <-stop:
				}
			}
			c <- 0
			_ = foo
		})
		consumers.Wait()
	})
}

// fanIn is the number of producers of SelectTimeoutFanIn, fixed so that
// Go's select is a plain select statement at every procs value.
const fanIn = 4

func BenchmarkSelectTimeoutFanIn(b *testing.B) {
	timed(b, func() {
		var in [fanIn]chan int
		for w := range in {
			in[w] = make(chan int)
			share := b.N / fanIn
			if w < b.N%fanIn {
				share++
			}
			go func(c chan int, share int) {
				for i := 0; i < share; i++ {
					c <- i
				}
			}(in[w], share)
		}
		timeout := time.After(time.Hour)
		for i := 0; i < b.N; i++ {
			select {
			case <-in[0]:
			case <-in[1]:
			case <-in[2]:
			case <-in[3]:
			case <-timeout:
			}
		}
	})
}
