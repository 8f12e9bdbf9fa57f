// bench/workloads/select.cc — gmp::Select, in the shapes of Go's own select
// benchmarks (runtime/chan_test.go) and a fan-in with a timeout.
//
//   SelectUncontended     one worker per proc, each with two private
//                         one-slot channels: every op is a select that
//                         receives from whichever holds the token and
//                         passes it to the other.
//   SelectSyncContended   one worker per proc, each fed by a helper
//                         goroutine over three unbuffered channels: the
//                         helper selects over three sends, the worker over
//                         three receives; op = one value handed over.
//   SelectAsyncContended  one worker per proc, all sharing two channels with
//                         procs slots each: the SelectUncontended op on
//                         shared channels.
//   SelectNonblock        one worker per proc: op = four selects with a
//                         default case (receive and send, on unbuffered and
//                         on one-slot channels), none of which can proceed.
//   SelectProdCons        a producer and a consumer per proc on one channel
//                         of 128 slots; each send and receive is a select
//                         that also waits on a timer channel and a stop
//                         channel that never fire; ~100 multiplications of
//                         local work per op on each side.
//   SelectTimeoutFanIn    four producers, each sending on its own
//                         unbuffered channel; a collector receives with a
//                         select over the four and a 1-hour gmp::After
//                         timeout: op = one value collected.
#include <cstdint>
#include <optional>

#include "bench/common/bench_main.h"
#include "bench/workloads/counters.h"
#include "runtime/gmp.h"

namespace gmplab_bench {
namespace {

// LocalWork models a little computation the optimiser cannot drop.
int LocalWork(int foo) {
  for (int i = 0; i < 100; ++i) {
    foo *= 2;
    benchmark::DoNotOptimize(foo);
    foo /= 2;
  }
  return foo;
}

// RunWorkers runs `body(share)` in one goroutine per proc, the shares of
// `n` ops adding up to n, and waits for all of them.
template <class F>
void RunWorkers(int procs, int64_t n, F body) {
  gmp::WaitGroup wg;
  wg.Add(procs);
  for (int w = 0; w < procs; ++w) {
    const int64_t share = n / procs + (w < n % procs ? 1 : 0);
    gmp::Go([&, share] {
      body(share);
      wg.Done();
    });
  }
  wg.Wait();
}

void Measure(benchmark::State& state, int procs,
             void (*batch)(int procs, int64_t n)) {
  gmp::Run(
      [&] {
        StatsDelta delta;
        const int64_t n = state.max_iterations;
        while (state.KeepRunningBatch(n)) batch(procs, n);
        delta.Report(state);
      },
      ProcsOptions(procs));
}

// PassToken puts a token in `a`, then `share` times selects over receives
// from `a` and `b` and passes the token it got to the other channel.
void PassToken(gmp::Chan<int>& a, gmp::Chan<int>& b, int64_t share) {
  a.Send(0);
  std::optional<int> va, vb;
  for (int64_t i = 0; i < share; ++i) {
    if (gmp::Select({gmp::RecvCase(a, va), gmp::RecvCase(b, vb)}) == 0) {
      b.Send(0);
    } else {
      a.Send(0);
    }
  }
}

void Uncontended(int procs, int64_t n) {
  RunWorkers(procs, n, [](int64_t share) {
    gmp::Chan<int> a(1), b(1);
    PassToken(a, b, share);
  });
}

void SyncContended(int procs, int64_t n) {
  RunWorkers(procs, n, [](int64_t share) {
    gmp::Chan<int> c[3];
    gmp::Chan<bool> done;
    gmp::WaitGroup helper;
    helper.Add(1);
    gmp::Go([&] {
      std::optional<bool> stop;
      for (;;) {
        int x = 0, y = 0, z = 0;
        if (gmp::Select({gmp::SendCase(c[0], x), gmp::SendCase(c[1], y),
                         gmp::SendCase(c[2], z), gmp::RecvCase(done, stop)}) ==
            3) {
          break;
        }
      }
      helper.Done();
    });
    std::optional<int> v[3];
    for (int64_t i = 0; i < share; ++i) {
      gmp::Select({gmp::RecvCase(c[0], v[0]), gmp::RecvCase(c[1], v[1]),
                   gmp::RecvCase(c[2], v[2])});
    }
    done.Close();
    helper.Wait();
  });
}

void AsyncContended(int procs, int64_t n) {
  gmp::Chan<int> a(procs), b(procs);
  // Each worker leaves its token behind: the channels are drained once all
  // workers are done.
  RunWorkers(procs, n, [&](int64_t share) { PassToken(a, b, share); });
  while (a.TryRecv() || b.TryRecv()) {
  }
}

void Nonblock(int procs, int64_t n) {
  RunWorkers(procs, n, [](int64_t share) {
    gmp::Chan<int> recv0, send0, recv1(1), send1(1);
    send1.Send(0);  // full: a send cannot proceed
    std::optional<int> v;
    int x = 0;
    for (int64_t i = 0; i < share; ++i) {
      gmp::TrySelect({gmp::RecvCase(recv0, v)});
      gmp::TrySelect({gmp::SendCase(send0, x)});
      gmp::TrySelect({gmp::RecvCase(recv1, v)});
      gmp::TrySelect({gmp::SendCase(send1, x)});
    }
  });
}

void ProdCons(int procs, int64_t n) {
  gmp::Chan<int> c(128);
  gmp::Chan<bool> stop;  // never closed while measuring
  gmp::WaitGroup consumers;
  consumers.Add(procs);
  for (int w = 0; w < procs; ++w) {
    gmp::Go([&] {
      auto timer = gmp::After(absl::Hours(1));
      std::optional<int> v;
      std::optional<absl::Time> t;
      std::optional<bool> s;
      int foo = 0;
      for (;;) {
        if (gmp::Select({gmp::RecvCase(c, v), gmp::RecvCase(*timer, t),
                         gmp::RecvCase(stop, s)}) == 0 &&
            *v == 0) {
          break;
        }
        foo = LocalWork(foo);
      }
      benchmark::DoNotOptimize(foo);
      consumers.Done();
    });
  }
  RunWorkers(procs, n, [&](int64_t share) {
    auto timer = gmp::After(absl::Hours(1));
    std::optional<absl::Time> t;
    std::optional<bool> s;
    int foo = 0;
    for (int64_t i = 0; i < share; ++i) {
      foo = LocalWork(foo);
      int one = 1;
      gmp::Select({gmp::SendCase(c, one), gmp::RecvCase(*timer, t),
                   gmp::RecvCase(stop, s)});
    }
    benchmark::DoNotOptimize(foo);
    c.Send(0);  // one end marker per producer, one consumer each
  });
  consumers.Wait();
}

// kFanIn is SelectTimeoutFanIn's number of producers, fixed so that Go's
// side is a plain select statement at every procs value.
constexpr int kFanIn = 4;

void TimeoutFanIn(int procs, int64_t n) {
  gmp::Chan<int64_t> in[kFanIn];
  for (int w = 0; w < kFanIn; ++w) {
    const int64_t share = n / kFanIn + (w < n % kFanIn ? 1 : 0);
    gmp::Go([c = &in[w], share] {
      for (int64_t i = 0; i < share; ++i) c->Send(i);
    });
  }
  auto timeout = gmp::After(absl::Hours(1));
  std::optional<int64_t> v[kFanIn];
  std::optional<absl::Time> t;
  for (int64_t i = 0; i < n; ++i) {
    gmp::Select({gmp::RecvCase(in[0], v[0]), gmp::RecvCase(in[1], v[1]),
                 gmp::RecvCase(in[2], v[2]), gmp::RecvCase(in[3], v[3]),
                 gmp::RecvCase(*timeout, t)});
  }
}

void BM_SelectUncontended(benchmark::State& s, int p) {
  Measure(s, p, Uncontended);
}
void BM_SelectSyncContended(benchmark::State& s, int p) {
  Measure(s, p, SyncContended);
}
void BM_SelectAsyncContended(benchmark::State& s, int p) {
  Measure(s, p, AsyncContended);
}
void BM_SelectNonblock(benchmark::State& s, int p) { Measure(s, p, Nonblock); }
void BM_SelectProdCons(benchmark::State& s, int p) { Measure(s, p, ProdCons); }
void BM_SelectTimeoutFanIn(benchmark::State& s, int p) {
  Measure(s, p, TimeoutFanIn);
}

void Register(const BenchConfig& config) {
  struct Workload {
    const char* name;
    void (*fn)(benchmark::State&, int);
  };
  const Workload workloads[] = {
      {"SelectUncontended", BM_SelectUncontended},
      {"SelectSyncContended", BM_SelectSyncContended},
      {"SelectAsyncContended", BM_SelectAsyncContended},
      {"SelectNonblock", BM_SelectNonblock},
      {"SelectProdCons", BM_SelectProdCons},
      {"SelectTimeoutFanIn", BM_SelectTimeoutFanIn},
  };
  for (int p : config.procs) {
    for (const Workload& w : workloads) {
      Setup(
          benchmark::RegisterBenchmark(BenchName(w.name, p).c_str(), w.fn, p));
    }
  }
}
GMPLAB_BENCH_REGISTER(Register);

}  // namespace
}  // namespace gmplab_bench
