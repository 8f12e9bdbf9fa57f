// bench/workloads/blocking.cc — goroutines that hold or give up threads.
//
//   LockOSThreadPingPong  unbuffered ping-pong between two goroutines that
//                         are each wired to their own thread, so every
//                         hand-off is a thread wake-up (op = round trip)
//   Syscall               ping-pong over two pipes: each side blocks in
//                         read(2) inside gmp::Syscall, so its P must be handed
//                         off for the other side to run (op = round trip)
#include <unistd.h>

#include <cstdint>

#include "bench/common/bench_main.h"
#include "bench/workloads/counters.h"
#include "runtime/gmp.h"

namespace gmplab_bench {
namespace {

void BM_LockOSThreadPingPong(benchmark::State& state, int procs) {
  gmp::Run(
      [&] {
        gmp::Chan<int> ping, pong;
        gmp::WaitGroup wg;
        wg.Add(1);
        gmp::Go([&] {
          gmp::LockOSThread();
          while (auto v = ping.Recv()) pong.Send(*v);
          gmp::UnlockOSThread();
          wg.Done();
        });
        gmp::LockOSThread();
        StatsDelta delta;
        for (auto _ : state) {
          ping.Send(1);
          pong.Recv();
        }
        delta.Report(state);
        gmp::UnlockOSThread();
        ping.Close();
        wg.Wait();
      },
      ProcsOptions(procs));
}

// ReadByte blocks in read(2) with the P released.
bool ReadByte(int fd) {
  char c;
  return gmp::Syscall([&] { return read(fd, &c, 1); }) == 1;
}

bool WriteByte(int fd) {
  char c = 'x';
  return gmp::Syscall([&] { return write(fd, &c, 1); }) == 1;
}

void BM_Syscall(benchmark::State& state, int procs) {
  int to_partner[2], to_main[2];
  if (pipe(to_partner) != 0 || pipe(to_main) != 0) {
    state.SkipWithError("pipe failed");
    return;
  }
  gmp::Run(
      [&] {
        gmp::WaitGroup wg;
        wg.Add(1);
        gmp::Go([&] {
          // The partner echoes until it reads EOF.
          while (ReadByte(to_partner[0])) WriteByte(to_main[1]);
          wg.Done();
        });
        StatsDelta delta;
        for (auto _ : state) {
          WriteByte(to_partner[1]);
          ReadByte(to_main[0]);
        }
        delta.Report(state);
        close(to_partner[1]);
        wg.Wait();
      },
      ProcsOptions(procs));
  close(to_partner[0]);
  close(to_main[0]);
  close(to_main[1]);
}

void Register(const BenchConfig& config) {
  for (int p : config.procs) {
    Setup(benchmark::RegisterBenchmark(BenchName("LockOSThreadPingPong", p).c_str(),
                                       BM_LockOSThreadPingPong, p));
    Setup(benchmark::RegisterBenchmark(BenchName("Syscall", p).c_str(), BM_Syscall, p));
  }
}
GMPLAB_BENCH_REGISTER(Register);

}  // namespace
}  // namespace gmplab_bench
