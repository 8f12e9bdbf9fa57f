// fuzz/program.cc — decoding and running fuzz programs (see program.h).
#include "fuzz/program.h"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "fuzz/check.h"
#include "fuzz/monitor.h"
#include "runtime/gmp.h"
#include "runtime/stw.h"
#include "runtime/trace.h"

namespace gmp_fuzz {
namespace {

// Size limits keep one input in the millisecond range even under TSan.
constexpr int kMaxNodes = 40;  // goroutines besides main
constexpr int kMaxStepsTotal = 160;
constexpr int kMaxStepsPerNode = 10;
constexpr int kMaxDepth = 4;
constexpr int kMaxLockDepth = 3;
constexpr int kMaxChoices = 64;
constexpr uint32_t kMaxSleepUs = 200;
constexpr uint32_t kMaxWork = 2000;
constexpr int kMutexes = 2;
constexpr int kMaxResize = 8;  // Resize sets GOMAXPROCS to 1..8

// IsResizeQuotient says whether a CheckWorld step whose op byte b has
// quotient q = b / (number of ops) is a Resize. The quotients are those no
// input of fuzz/corpus/<target>/ used for a CheckWorld step when Resize was
// added (checked with a decoder mirror over the whole corpus), so existing
// inputs, the regress-* ones included, decode to the same programs as
// before. spawn_lock (6 ops): q 12..20, bytes 77, 83, ..., 125; block (12
// ops): q 9, 10, 11, 13, 14, 16, bytes 113, 125, 137, 161, 173, 197.
bool IsResizeQuotient(bool blocking, int q) {
  if (!blocking) return q >= 12 && q <= 20;
  return q == 9 || q == 10 || q == 11 || q == 13 || q == 14 || q == 16;
}

// IsExtQuotient says whether a CheckWorld step with quotient q is an Ext
// step: q 4 and 19 in block (bytes 53 and 233; 2 and 6 are still free), 33
// and 37 in spawn_lock (bytes 203 and 227), which no corpus input used for
// a CheckWorld step when Ext was added.
bool IsExtQuotient(bool blocking, int q) {
  return blocking ? (q == 4 || q == 19) : (q == 33 || q == 37);
}

// IsExitPollersQuotient says whether a CheckWorld step with quotient q is
// an ExitPollers step: q 6 in block (byte 77), which no corpus input used
// for a CheckWorld step when the step was added (the GMP_FUZZ_PRINT output
// of both replay corpora stayed the same). spawn_lock has none.
bool IsExitPollersQuotient(bool blocking, int q) { return blocking && q == 6; }

// IsSelectQuotient says whether a CheckWorld step with quotient q is a
// Select step: q 2 in block (byte 29), which no corpus input used for a
// CheckWorld step when the step was added (the GMP_FUZZ_PRINT output of
// both replay corpora stayed the same). spawn_lock has none.
bool IsSelectQuotient(bool blocking, int q) { return blocking && q == 2; }

// Ext parameters.
constexpr uint32_t kExtKinds = 6;  // the kinds an IsExtQuotient byte picks
constexpr uint32_t kBlockOps = 5;  // none, Gosched, channel, Mutex, Sleep
constexpr uint32_t kMaxErrno = 133;
constexpr uint32_t kMaxExtraRuns = 2;
constexpr uint32_t kMaxExitPollers = 4;
constexpr uint32_t kMaxLockExit = 4;
constexpr uint32_t kMaxLockExitRounds = 8;
constexpr uint32_t kMaxSelectChans = 4;
constexpr uint32_t kMaxSleeps = 4;
constexpr uint32_t kSleepUs[] = {0, 1, 20, 200, 1000, 3000};
constexpr int64_t kSleepLatenessUs = 2000000;  // 2 s

// Counters over the whole process, for GMP_FUZZ_STATS.
std::atomic<int64_t> g_programs{0};
std::atomic<int64_t> g_resizes{0};          // Resize steps run
std::atomic<int64_t> g_resizes_changed{0};  // ... that changed the size

// ---------------------------------------------------------------------------
// The hang watchdog. Every valid program terminates (program.h), so one
// that runs for many seconds is hung, or starved by the machine. libFuzzer's
// own -timeout only shows the main thread, waiting in gmp::Run; this
// watchdog fires first and explains the hang: it prints the program and the
// scheduler's state (gmp::internal::RequestSchedDump: every P, M and
// goroutine) and fails the invariant "program finishes within N s", so a
// campaign records a crash with that log.
//
// N is $GMP_FUZZ_WATCHDOG_S (seconds, fractions allowed; 0 turns the
// watchdog off), 6 by default: below the campaigns' -timeout of 10 s. A tiny
// N (0.001) makes it fire on an ordinary run, to see its report. One thread,
// started at the first run, serves every run of the process; arming and
// disarming cost a mutex and a notify.
class Watchdog {
 public:
  // Get returns the process's watchdog (never destroyed: its thread may
  // still wait when the process exits).
  static Watchdog& Get() {
    static Watchdog* w = new Watchdog();
    return *w;
  }

  // Arm starts the clock for one run of `p`, which must stay alive until
  // Disarm. The thread calling RunProgram, outside gmp::Run.
  void Arm(const Program& p) {
    if (seconds_ <= 0) return;
    std::lock_guard<std::mutex> l(mu_);
    if (!thread_started_) {
      std::thread([this] { Loop(); }).detach();
      thread_started_ = true;
    }
    program_ = &p;
    deadline_ = std::chrono::steady_clock::now() +
                std::chrono::duration_cast<std::chrono::nanoseconds>(
                    std::chrono::duration<double>(seconds_));
    ++run_;
    cv_.notify_one();
  }

  // Disarm stops the clock. Same thread, after gmp::Run returned.
  void Disarm() {
    if (seconds_ <= 0) return;
    std::lock_guard<std::mutex> l(mu_);
    program_ = nullptr;
    cv_.notify_one();
  }

 private:
  Watchdog() {
    const char* e = std::getenv("GMP_FUZZ_WATCHDOG_S");
    seconds_ = e != nullptr && e[0] != '\0' ? std::atof(e) : 6;
  }

  void Loop() {
    std::unique_lock<std::mutex> l(mu_);
    for (;;) {
      cv_.wait(l, [this] { return program_ != nullptr; });
      const uint64_t run = run_;
      bool done = cv_.wait_until(l, deadline_, [this, run] {
        return program_ == nullptr || run_ != run;
      });
      if (done) continue;
      Fire(*program_);  // does not return
    }
  }

  [[noreturn]] void Fire(const Program& p) {
    std::fprintf(stderr,
                 "\ngmp_fuzz watchdog: the program has run for %g s "
                 "($GMP_FUZZ_WATCHDOG_S); it is:\n%s\n",
                 seconds_, DescribeProgram(p).c_str());
    std::fflush(stderr);
    if (!gmp::internal::RequestSchedDump()) {
      std::fputs("gmp_fuzz watchdog: no scheduler dump within 5 s\n", stderr);
    }
    char name[64];
    std::snprintf(name, sizeof(name), "program finishes within %g s", seconds_);
    Fail(name, "procs %d, %zu goroutines, still running after %g s", p.procs,
         p.nodes.size(), seconds_);
  }

  double seconds_ = 6;
  std::mutex mu_;
  std::condition_variable cv_;
  bool thread_started_ = false;
  const Program* program_ = nullptr;  // armed while not null
  uint64_t run_ = 0;                  // bumped by every Arm
  std::chrono::steady_clock::time_point deadline_;
};

// ---------------------------------------------------------------------------
// Decoding. Structure comes from the end of the input (ConsumeIntegral*),
// steering bytes from its front (ConsumeBytes), as FuzzedDataProvider does.

class Decoder {
 public:
  Decoder(FuzzedDataProvider& in, Program& p) : in_(in), p_(p) {}

  int NewNode(Role role, int depth) {
    int idx = static_cast<int>(p_.nodes.size());
    p_.nodes.emplace_back();
    p_.nodes[idx].role = role;
    std::vector<Step> steps;
    int lock = 0;
    int n = in_.ConsumeIntegralInRange<int>(0, kMaxStepsPerNode);
    for (int i = 0; i < n && steps_left_ > 0 && in_.remaining_bytes() > 0;
         ++i) {
      --steps_left_;
      Step s;
      int last = p_.blocking ? static_cast<int>(Op::kTryChan)
                             : static_cast<int>(Op::kCheckWorld);
      // Exactly what ConsumeIntegralInRange<int>(0, last) did before Resize
      // existed (one byte, modulo last + 1), keeping the quotient.
      const int op_byte = in_.ConsumeIntegral<uint8_t>();
      s.op = static_cast<Op>(op_byte % (last + 1));
      switch (s.op) {
        case Op::kLockThread:
          if (lock == kMaxLockDepth) s.op = Op::kUnlockThread;
          break;
        case Op::kUnlockThread:
          if (lock == 0) s.op = Op::kLockThread;
          break;
        case Op::kWork:
          s.arg = in_.ConsumeIntegralInRange<uint32_t>(0, kMaxWork);
          break;
        case Op::kSpawn:
          if (depth >= kMaxDepth || nodes_left_ < 1) {
            s.op = Op::kGosched;
          } else {
            --nodes_left_;
            s.target = NewNode(Role::kChild, depth + 1);
          }
          break;
        case Op::kSleep:
        case Op::kSyscall:
          s.arg = in_.ConsumeIntegralInRange<uint32_t>(0, kMaxSleepUs);
          break;
        case Op::kMutex:
        case Op::kTryMutex: {
          s.target = in_.ConsumeIntegralInRange<int>(0, kMutexes - 1);
          uint32_t inner = in_.ConsumeIntegralInRange<uint32_t>(0, 3);
          uint32_t count = in_.ConsumeIntegralInRange<uint32_t>(1, 3);
          uint32_t param = in_.ConsumeIntegralInRange<uint32_t>(0, 100);
          s.arg = inner | count << 8 | param << 16;
          break;
        }
        case Op::kChanGroup:
          if (depth >= kMaxDepth || nodes_left_ < 2) {
            s.op = Op::kGosched;
          } else {
            s.target = NewGroup(depth);
          }
          break;
        case Op::kTryChan:
          s.arg = in_.ConsumeIntegralInRange<uint32_t>(0, 4);
          break;
        case Op::kCheckWorld:
          if (IsResizeQuotient(p_.blocking, op_byte / (last + 1))) {
            s.op = Op::kResize;
            s.arg = in_.ConsumeIntegralInRange<uint32_t>(
                1, static_cast<uint32_t>(ResizeBound(p_.procs)));
          } else if (IsExtQuotient(p_.blocking, op_byte / (last + 1))) {
            s.op = Op::kExt;
            DecodeExt(&s);
          } else if (IsExitPollersQuotient(p_.blocking, op_byte / (last + 1))) {
            s.op = Op::kExt;
            s.target = static_cast<int32_t>(Ext::kExitPollers);
            uint32_t mask = in_.ConsumeIntegralInRange<uint32_t>(1, 7);
            uint32_t n =
                in_.ConsumeIntegralInRange<uint32_t>(1, kMaxExitPollers);
            uint32_t extra =
                in_.ConsumeIntegralInRange<uint32_t>(0, kMaxExtraRuns);
            s.arg = mask | n << 4 | extra << 8;
            p_.runs = std::max(p_.runs, 1 + static_cast<int>(extra));
          } else if (IsSelectQuotient(p_.blocking, op_byte / (last + 1))) {
            s.op = Op::kExt;
            s.target = static_cast<int32_t>(Ext::kSelect);
            DecodeSelect(&s);
          }
          break;
        case Op::kGosched:
        case Op::kResize:  // never an op byte of its own
        case Op::kExt:
          break;
      }
      if (s.op == Op::kLockThread) ++lock;
      if (s.op == Op::kUnlockThread) --lock;
      steps.push_back(s);
    }
    bool exit_locked = false;
    if (lock > 0 && role != Role::kMain) exit_locked = in_.ConsumeBool();
    if (!exit_locked) {
      for (; lock > 0; --lock) steps.push_back(Step{Op::kUnlockThread});
    }
    p_.nodes[idx].steps = std::move(steps);
    p_.nodes[idx].exit_locked = exit_locked;
    return idx;
  }

 private:
  // DecodeSelect reads a Select step's parameters (layout in program.h).
  void DecodeSelect(Step* s) {
    const uint32_t k = in_.ConsumeIntegralInRange<uint32_t>(2, kMaxSelectChans);
    uint32_t caps = 0;
    for (uint32_t i = 0; i < k; ++i) {
      caps |= in_.ConsumeIntegralInRange<uint32_t>(0, 2) << (2 * i);
    }
    const uint32_t nsel = in_.ConsumeIntegralInRange<uint32_t>(1, 3);
    const uint32_t nprod = in_.ConsumeIntegralInRange<uint32_t>(1, 3);
    const uint32_t per = in_.ConsumeIntegralInRange<uint32_t>(1, 16);
    const uint32_t flags = in_.ConsumeIntegralInRange<uint32_t>(0, 15);
    s->arg = (k - 2) | caps << 2 | (nsel - 1) << 10 | (nprod - 1) << 12 |
             (per - 1) << 14 | flags << 18;
  }

  // DecodeExt reads an Ext step. spawn_lock, which uses nothing but the
  // scheduler, has only Throw and Errno (errno set by the goroutine), with
  // no blocking call but Gosched.
  void DecodeExt(Step* s) {
    if (!p_.blocking) {
      const bool is_throw = in_.ConsumeBool();
      s->target = static_cast<int32_t>(is_throw ? Ext::kThrow : Ext::kErrno);
      if (is_throw) {
        uint32_t op = in_.ConsumeIntegralInRange<uint32_t>(0, 1);
        uint32_t flags = in_.ConsumeIntegralInRange<uint32_t>(0, 3);
        uint32_t value = in_.ConsumeIntegral<uint16_t>();
        s->arg = op | flags << 3 | value << 16;
      } else {
        uint32_t err = in_.ConsumeIntegralInRange<uint32_t>(1, kMaxErrno);
        uint32_t count = in_.ConsumeIntegralInRange<uint32_t>(1, 3);
        s->arg = 2 | err << 8 | count << 16 | 1 << 20;
      }
      return;
    }
    const uint32_t kind =
        in_.ConsumeIntegralInRange<uint32_t>(0, kExtKinds - 1);
    s->target = static_cast<int32_t>(kind);
    switch (static_cast<Ext>(kind)) {
      case Ext::kThrow: {
        uint32_t op = in_.ConsumeIntegralInRange<uint32_t>(0, kBlockOps - 1);
        uint32_t flags = in_.ConsumeIntegralInRange<uint32_t>(0, 3);
        uint32_t value = in_.ConsumeIntegral<uint16_t>();
        s->arg = op | flags << 3 | value << 16;
        break;
      }
      case Ext::kErrno: {
        uint32_t source = in_.ConsumeIntegralInRange<uint32_t>(0, 2);
        uint32_t err = in_.ConsumeIntegralInRange<uint32_t>(1, kMaxErrno);
        uint32_t count = in_.ConsumeIntegralInRange<uint32_t>(0, 3);
        uint32_t op = in_.ConsumeIntegralInRange<uint32_t>(1, kBlockOps - 1);
        s->arg = source | err << 8 | count << 16 | op << 20;
        break;
      }
      case Ext::kPoller: {
        uint32_t mask = in_.ConsumeIntegralInRange<uint32_t>(1, 15);
        uint32_t extra = in_.ConsumeIntegralInRange<uint32_t>(0, kMaxExtraRuns);
        s->arg = mask | extra << 8;
        p_.runs = std::max(p_.runs, 1 + static_cast<int>(extra));
        break;
      }
      case Ext::kLockExit: {
        uint32_t n = in_.ConsumeIntegralInRange<uint32_t>(1, kMaxLockExit);
        uint32_t rounds =
            in_.ConsumeIntegralInRange<uint32_t>(1, kMaxLockExitRounds);
        s->arg = n | rounds << 8;
        break;
      }
      case Ext::kForeign: {
        uint32_t extra = in_.ConsumeIntegralInRange<uint32_t>(0, kMaxExtraRuns);
        s->arg = extra;
        p_.runs = std::max(p_.runs, 1 + static_cast<int>(extra));
        p_.foreign = true;
        break;
      }
      case Ext::kExitPollers:  // never from this kind byte (range above)
      case Ext::kSelect:
        break;
      case Ext::kSleeps: {
        uint32_t count = in_.ConsumeIntegralInRange<uint32_t>(1, kMaxSleeps);
        s->arg = count;
        for (uint32_t i = 0; i < count; ++i) {
          uint32_t d =
              in_.ConsumeIntegralInRange<uint32_t>(0, std::size(kSleepUs) - 1);
          s->arg |= d << (8 + 3 * i);
        }
        break;
      }
    }
  }

  int NewGroup(int depth) {
    int gidx = static_cast<int>(p_.groups.size());
    p_.groups.emplace_back();
    ChanGroup g;
    g.cap = in_.ConsumeIntegralInRange<uint32_t>(0, 4);
    int np = in_.ConsumeIntegralInRange<int>(1, 3);
    int nc = in_.ConsumeIntegralInRange<int>(1, 3);
    if (np + nc > nodes_left_) np = nc = 1;
    nodes_left_ -= np + nc;
    for (int i = 0; i < np; ++i) {
      uint32_t sends = in_.ConsumeIntegralInRange<uint32_t>(0, 8);
      int id = NewNode(Role::kProducer, depth + 1);
      p_.nodes[id].group = gidx;
      p_.nodes[id].index = static_cast<uint32_t>(i);
      p_.nodes[id].sends = sends;
      g.producers.push_back(id);
      g.total += sends;
      if (sends > g.max_sends) g.max_sends = sends;
    }
    for (int i = 0; i < nc; ++i) {
      int id = NewNode(Role::kConsumer, depth + 1);
      p_.nodes[id].group = gidx;
      g.consumers.push_back(id);
    }
    p_.groups[gidx] = std::move(g);
    return gidx;
  }

  FuzzedDataProvider& in_;
  Program& p_;
  int nodes_left_ = kMaxNodes;
  int steps_left_ = kMaxStepsTotal;
};

// ---------------------------------------------------------------------------
// Running.

// Ctx is the state one run shares between its goroutines. It lives on the
// stack of RunProgram, which outlives gmp::Run; every goroutine touches it
// for the last time just before it signals its joiner.
struct Ctx {
  explicit Ctx(const Program& prog)
      : p(prog),
        started(new std::atomic<int>[prog.nodes.size()]()),
        finished(new std::atomic<int>[prog.nodes.size()]()) {
    for (const ChanGroup& g : p.groups) {
      size_t n = g.producers.size() * (g.max_sends + 1);
      seen.emplace_back(new std::atomic<uint8_t>[n]());
      received.emplace_back(new std::atomic<uint32_t>(0));
    }
  }

  const Program& p;
  std::unique_ptr<std::atomic<int>[]> started;   // per node
  std::unique_ptr<std::atomic<int>[]> finished;  // per node
  std::atomic<int> done{0};                      // nodes finished
  std::atomic<int> syscalls{0};                  // Syscall steps run
  gmp::Mutex mu[kMutexes];
  std::atomic<int> holders[kMutexes] = {};
  std::vector<std::unique_ptr<std::atomic<uint8_t>[]>> seen;  // per group
  std::vector<std::unique_ptr<std::atomic<uint32_t>>> received;
  // Resize bookkeeping: each Resize step to n that returned prev adds 1 to
  // sizes[prev] and -1 to sizes[n]. The sizes form one chain from procs to
  // the final GOMAXPROCS, so at the end sizes[final] + 1 and sizes[procs] -
  // 1 leave every entry 0.
  std::atomic<int> sizes[kMaxResize + 1] = {};
  // What Poller steps poll: never waited on, so pollers never block.
  gmp::Chan<uint64_t> poll_ch{1};
  gmp::Mutex poll_mu;
  // Set by main just before it returns (ExitPollers stop yielding then).
  std::atomic<bool> main_returning{false};
};

// FuzzException is what Throw steps throw.
struct FuzzException {
  uint64_t value;
};

// Goroutine is the running state of one Node.
class Goroutine {
 public:
  Goroutine(Ctx& ctx, int id) : ctx_(ctx), id_(id), node_(ctx.p.nodes[id]) {}

  // Run executes the node. `joiner` (may be null) is signalled last.
  void Run(gmp::WaitGroup* joiner, gmp::Chan<uint64_t>* ch) {
    goid_ = gmp::GoroutineId();
    int prev = ctx_.started[id_].fetch_add(1);
    FUZZ_CHECK(prev == 0, "every G ran exactly once",
               "node %d (goroutine %lld) started %d times", id_,
               (long long)goid_, prev + 1);
    if (node_.role == Role::kMain) {
      // Main's first action: no Resize step can have run yet, so procs is
      // still the size here and for the probe (which runs no other step).
      FUZZ_CHECK(gmp::GOMAXPROCS() == ctx_.p.procs, "GOMAXPROCS is procs",
                 "GOMAXPROCS() = %d, Options.procs = %d", gmp::GOMAXPROCS(),
                 ctx_.p.procs);
      if (ctx_.p.parallel_probe && ctx_.p.procs >= 2) ParallelProbe();
    }
    size_t next = 0;  // next step to run
    if (node_.role == Role::kProducer) {
      for (uint32_t k = 0; k < node_.sends; ++k) {
        ch->Send(static_cast<uint64_t>(node_.index) << 32 | k);
        if (next < node_.steps.size()) Exec(node_.steps[next++]);
      }
    } else if (node_.role == Role::kConsumer) {
      Consume(ch, &next);
    }
    for (; next < node_.steps.size(); ++next) Exec(node_.steps[next]);
    if (ctx_.p.blocking) children_.Wait();
    if (node_.role == Role::kMain && !ctx_.p.blocking) {
      // Join every goroutine with nothing but the scheduler.
      int want = static_cast<int>(ctx_.p.nodes.size()) - 1;
      while (ctx_.done.load() < want) gmp::Gosched();
    }
    if (node_.role == Role::kMain) {  // all others are done
      CheckWorld();
      CheckSizes();
    }
    FUZZ_CHECK(node_.exit_locked == (lock_depth_ > 0), "locks balance",
               "node %d ends with lock depth %d", id_, lock_depth_);
    ctx_.finished[id_].fetch_add(1);
    ctx_.done.fetch_add(1);
    if (node_.role == Role::kMain) ctx_.main_returning.store(true);
    if (joiner != nullptr) joiner->Done();  // the last touch of ctx_
  }

 private:
  void Consume(gmp::Chan<uint64_t>* ch, size_t* next) {
    const ChanGroup& g = ctx_.p.groups[node_.group];
    std::vector<int64_t> last(g.producers.size(), -1);
    while (std::optional<uint64_t> v = ch->Recv()) {
      uint64_t from = *v >> 32;
      int64_t seq = static_cast<int64_t>(*v & 0xffffffffu);
      FUZZ_CHECK(from < g.producers.size() &&
                     seq < ctx_.p.nodes[g.producers[from]].sends,
                 "channel delivers what was sent",
                 "group %d received value %llx", node_.group,
                 (unsigned long long)*v);
      FUZZ_CHECK(seq > last[from], "channel FIFO per sender",
                 "group %d: from producer %llu got %lld after %lld",
                 node_.group, (unsigned long long)from, (long long)seq,
                 (long long)last[from]);
      last[from] = seq;
      uint8_t dup =
          ctx_.seen[node_.group][from * (g.max_sends + 1) + seq].fetch_add(1);
      FUZZ_CHECK(dup == 0, "every sent value received exactly once",
                 "group %d: value %llu/%lld received twice", node_.group,
                 (unsigned long long)from, (long long)seq);
      ctx_.received[node_.group]->fetch_add(1);
      if (*next < node_.steps.size()) Exec(node_.steps[(*next)++]);
    }
  }

  // ParallelProbe spawns a partner and spins until it ran, making no
  // runtime call meanwhile: only another M, woken for the idle P, can run
  // it. Main only, before it starts anything else.
  static void ParallelProbe() {
    static const bool spins =
        gmp::ReadStats().variant.find("NoSpin") == std::string::npos;
    if (!spins) return;
    std::atomic<bool> ran{false};
    gmp::Go([&ran] { ran.store(true); });
    while (!ran.load()) __builtin_ia32_pause();
  }

  void CheckThread() {
    if (lock_depth_ == 0) return;
    int64_t tid = CurrentTid();
    FUZZ_CHECK(tid == locked_tid_, "locked G on its thread",
               "node %d (goroutine %lld) locked to thread %lld now runs on "
               "thread %lld",
               id_, (long long)goid_, (long long)locked_tid_, (long long)tid);
  }

  static void Work(uint32_t n) {
    volatile uint32_t sink = 0;
    for (uint32_t i = 0; i < n; ++i) sink = sink + i;
  }

  void Syscall(uint32_t us) {
    ctx_.syscalls.fetch_add(1);
    int r = gmp::Syscall([us] {
      if (us == 0) return ::sched_yield();
      return ::usleep(us);
    });
    (void)r;
  }

  // Inner runs the body of a Mutex section: nothing that waits on another
  // goroutine.
  void Inner(uint32_t arg) {
    uint32_t op = arg & 0xff, count = (arg >> 8) & 0xff, param = arg >> 16;
    for (uint32_t i = 0; i < count; ++i) {
      switch (op) {
        case 0:
          gmp::Gosched();
          break;
        case 1:
          gmp::Sleep(absl::Microseconds(param));
          break;
        case 2:
          Syscall(param);
          break;
        default:
          Work(param * 20);
          break;
      }
      CheckThread();
    }
  }

  void Section(int m, uint32_t arg) {
    int h = ctx_.holders[m].fetch_add(1);
    FUZZ_CHECK(h == 0, "Mutex excludes", "mutex %d held by %d goroutines", m,
               h + 1);
    Inner(arg);
    ctx_.holders[m].fetch_sub(1);
  }

  void TryChan(uint32_t cap) {
    gmp::Chan<uint32_t> c(cap);
    for (uint32_t i = 0; i <= cap; ++i) {
      uint32_t v = i;
      bool ok = c.TrySend(v);
      FUZZ_CHECK(ok == (i < cap), "TrySend fills the buffer",
                 "cap %u: TrySend #%u returned %d", cap, i, ok);
    }
    FUZZ_CHECK(c.Len() == cap, "channel Len", "Len %zu, cap %u", c.Len(), cap);
    for (uint32_t i = 0; i < cap; ++i) {
      std::optional<uint32_t> v = c.TryRecv();
      FUZZ_CHECK(v.has_value() && *v == i, "channel FIFO per sender",
                 "cap %u: TryRecv #%u got %d/%u", cap, i, v.has_value(),
                 v.value_or(0));
    }
    FUZZ_CHECK(!c.TryRecv().has_value(), "TryRecv on empty channel",
               "cap %u: got a value from an empty channel", cap);
  }

  void RunGroup(int gidx) {
    const ChanGroup& g = ctx_.p.groups[gidx];
    gmp::Chan<uint64_t> ch(g.cap);
    gmp::WaitGroup producers, consumers;
    producers.Add(static_cast<int>(g.producers.size()));
    consumers.Add(static_cast<int>(g.consumers.size()));
    Ctx* ctx = &ctx_;
    for (int id : g.producers) {
      gmp::Go([ctx, id, &producers, &ch] {
        Goroutine(*ctx, id).Run(&producers, &ch);
      });
    }
    for (int id : g.consumers) {
      gmp::Go([ctx, id, &consumers, &ch] {
        Goroutine(*ctx, id).Run(&consumers, &ch);
      });
    }
    producers.Wait();
    CheckThread();
    ch.Close();
    consumers.Wait();
    CheckThread();
    uint32_t got = ctx_.received[gidx]->load();
    FUZZ_CHECK(got == g.total, "every sent value received exactly once",
               "group %d: %u values sent, %u received", gidx, g.total, got);
  }

  // CheckWorld stops the world and checks the scheduler's invariants. Two
  // goroutines may do so at once: the second waits its turn (this is what
  // found F1-F3 in fuzz/FINDINGS.md).
  void CheckWorld() {
    std::string broken = gmp::internal::CheckSchedInvariants();
    FUZZ_CHECK(broken.empty(), "scheduler invariants with the world stopped",
               "%s", broken.c_str());
  }

  // Resize sets GOMAXPROCS to n (1..kMaxResize) and checks the previous
  // size it returns. Other goroutines may resize meanwhile, so the size
  // after the call is not checked here (see CheckSizes).
  void Resize(uint32_t n) {
    int prev = gmp::GOMAXPROCS(static_cast<int>(n));
    FUZZ_CHECK(prev >= 1 && prev <= kMaxResize,
               "GOMAXPROCS returns the previous size",
               "node %d: GOMAXPROCS(%u) returned %d", id_, n, prev);
    ctx_.sizes[prev].fetch_add(1);
    ctx_.sizes[n].fetch_sub(1);
    g_resizes.fetch_add(1, std::memory_order_relaxed);
    if (prev != static_cast<int>(n)) {
      g_resizes_changed.fetch_add(1, std::memory_order_relaxed);
    }
  }

  // CheckSizes checks, on main after every other goroutine finished, that
  // the sizes the Resize steps saw chain from procs to GOMAXPROCS() now: no
  // resize lost or applied twice.
  void CheckSizes() {
    int now = gmp::GOMAXPROCS();
    FUZZ_CHECK(now >= 1 && now <= kMaxResize,
               "GOMAXPROCS returns the previous size",
               "GOMAXPROCS() = %d at main's end", now);
    int sizes[kMaxResize + 1];
    for (int i = 0; i <= kMaxResize; ++i) sizes[i] = ctx_.sizes[i].load();
    ++sizes[now];
    --sizes[ctx_.p.procs];
    for (int i = 0; i <= kMaxResize; ++i) {
      FUZZ_CHECK(sizes[i] == 0, "GOMAXPROCS returns the previous size",
                 "procs %d, GOMAXPROCS() = %d at main's end, but size %d "
                 "was left %d more times than set",
                 ctx_.p.procs, now, i, sizes[i]);
    }
  }

  void Exec(const Step& s) {
    switch (s.op) {
      case Op::kGosched:
        gmp::Gosched();
        break;
      case Op::kLockThread:
        gmp::LockOSThread();
        if (++lock_depth_ == 1) locked_tid_ = NoteLocked(goid_);
        break;
      case Op::kUnlockThread:
        CheckThread();
        if (lock_depth_ == 1) NoteUnlocking(goid_);
        gmp::UnlockOSThread();
        if (--lock_depth_ == 0) locked_tid_ = 0;
        break;
      case Op::kWork:
        Work(s.arg);
        break;
      case Op::kSpawn: {
        Ctx* ctx = &ctx_;
        int id = s.target;
        if (ctx_.p.blocking) {
          children_.Add(1);
          gmp::WaitGroup* wg = &children_;
          gmp::Go([ctx, id, wg] { Goroutine(*ctx, id).Run(wg, nullptr); });
        } else {
          gmp::Go([ctx, id] { Goroutine(*ctx, id).Run(nullptr, nullptr); });
        }
        break;
      }
      case Op::kCheckWorld:
        CheckWorld();
        break;
      case Op::kSleep:
        gmp::Sleep(absl::Microseconds(s.arg));
        break;
      case Op::kSyscall:
        Syscall(s.arg);
        break;
      case Op::kMutex:
        ctx_.mu[s.target].Lock();
        Section(s.target, s.arg);
        ctx_.mu[s.target].Unlock();
        break;
      case Op::kTryMutex:
        if (ctx_.mu[s.target].TryLock()) {
          Section(s.target, s.arg);
          ctx_.mu[s.target].Unlock();
        }
        break;
      case Op::kChanGroup:
        RunGroup(s.target);
        break;
      case Op::kTryChan:
        TryChan(s.arg);
        break;
      case Op::kResize:
        Resize(s.arg);
        break;
      case Op::kExt:
        ExecExt(s);
        break;
    }
    CheckThread();
  }

  // Block runs one blocking runtime call that waits on no goroutine of the
  // program: 0 nothing, 1 Gosched, 2 a receive from a helper goroutine
  // (joined with the children), 3 a Mutex section around a Gosched, 4 a
  // Sleep.
  void Block(uint32_t op) {
    switch (op) {
      case 0:
        break;
      case 1:
        gmp::Gosched();
        break;
      case 2: {
        auto c = std::make_shared<gmp::Chan<uint64_t>>(0);
        children_.Add(1);
        gmp::WaitGroup* wg = &children_;
        gmp::Go([c, wg] {
          gmp::Gosched();
          c->Send(7);
          wg->Done();
        });
        std::optional<uint64_t> v = c->Recv();
        FUZZ_CHECK(v.has_value() && *v == 7, "channel delivers what was sent",
                   "node %d: helper channel gave %d/%llu", id_, v.has_value(),
                   (unsigned long long)v.value_or(0));
        break;
      }
      case 3:
        ctx_.mu[kMutexes - 1].Lock();
        Section(kMutexes - 1, 0 | 1 << 8);  // one Gosched
        ctx_.mu[kMutexes - 1].Unlock();
        break;
      default:
        gmp::Sleep(absl::Microseconds(20));
        break;
    }
    CheckThread();
  }

  void ExecExt(const Step& s) {
    switch (static_cast<Ext>(s.target)) {
      case Ext::kThrow:
        Throw(s.arg & 7, (s.arg & 8) != 0, (s.arg & 16) != 0, s.arg >> 16);
        break;
      case Ext::kErrno:
        Errno(s.arg & 0xff, (s.arg >> 8) & 0xff, (s.arg >> 16) & 0xf,
              s.arg >> 20);
        break;
      case Ext::kPoller:
        StartPoller(s.arg & 0xff);
        break;
      case Ext::kLockExit:
        LockExit(s.arg & 0xff, s.arg >> 8);
        break;
      case Ext::kForeign: {
        int n = gmp::NumGoroutine();
        FUZZ_CHECK(n >= 1, "NumGoroutine counts the caller",
                   "node %d: NumGoroutine() = %d", id_, n);
        break;
      }
      case Ext::kSleeps:
        Sleeps(s.arg);
        break;
      case Ext::kExitPollers:
        StartExitPollers(s.arg & 7, (s.arg >> 4) & 7);
        break;
      case Ext::kSelect:
        SelectStep(s.arg);
        break;
    }
  }

  // SelectStep runs a Select step (layout in program.h) and joins every
  // goroutine it started.
  void SelectStep(uint32_t arg) {
    const uint32_t k = (arg & 3) + 2;
    const uint32_t nsel = ((arg >> 10) & 3) + 1;
    const uint32_t nprod = ((arg >> 12) & 3) + 1;
    const uint32_t per = ((arg >> 14) & 15) + 1;
    const uint32_t flags = arg >> 18;
    const bool timer = flags & 1, nonblocking = flags & 2,
               send_mode = flags & 4;
    std::vector<std::unique_ptr<gmp::Chan<uint32_t>>> ch;
    for (uint32_t i = 0; i < k; ++i) {
      ch.push_back(
          std::make_unique<gmp::Chan<uint32_t>>((arg >> (2 + 2 * i)) & 3));
    }
    // Values are numbered 0..total-1 by whoever sends them.
    const uint32_t senders = send_mode ? nsel : nprod;
    const uint32_t total = senders * per;
    auto seen = std::make_unique<std::atomic<int>[]>(total);
    const int id = id_;
    // Receive: a select over every channel still open (a closed one becomes
    // an absent case), plus the timer case until it fired; with `may_poll`
    // and the TrySelect flag, TrySelect and a Gosched when nothing is ready.
    // (In send mode the receivers always block, or polling senders and
    // receivers could miss each other forever on unbuffered channels.)
    auto receiver = [&, id](bool may_poll) {
      std::vector<bool> open(k, true);
      uint32_t left = k;
      auto after = timer ? gmp::After(absl::Microseconds(50)) : nullptr;
      bool timer_fired = false;
      while (left > 0) {
        std::vector<std::optional<uint32_t>> v(k);
        std::optional<absl::Time> t;
        std::vector<gmp::SelectCase> cases(k + 1);
        for (uint32_t i = 0; i < k; ++i) {
          if (open[i]) cases[i] = gmp::RecvCase(*ch[i], v[i]);
        }
        if (after != nullptr && !timer_fired)
          cases[k] = gmp::RecvCase(*after, t);
        const int n = static_cast<int>(cases.size());
        int f = may_poll && nonblocking ? gmp::TrySelect(cases.data(), n)
                                        : gmp::Select(cases.data(), n);
        if (f == gmp::kSelectDefault) {
          gmp::Gosched();
          continue;
        }
        FUZZ_CHECK(
            f >= 0 && f < n &&
                (f < static_cast<int>(k) ? open[f]
                                         : after != nullptr && !timer_fired),
            "Select fires one of its cases", "node %d: case %d of %d", id, f,
            n);
        for (uint32_t i = 0; i < k; ++i) {
          FUZZ_CHECK(static_cast<int>(i) == f || !v[i].has_value(),
                     "Select fills only the slot of the case that fired",
                     "node %d: case %d fired, slot %u holds %u", id, f, i,
                     v[i].value_or(0));
        }
        if (f == static_cast<int>(k)) {
          FUZZ_CHECK(t.has_value(), "a timer case receives the time", "node %d",
                     id);
          timer_fired = true;
          continue;
        }
        if (!v[f].has_value()) {  // closed and drained
          open[f] = false;
          --left;
          continue;
        }
        FUZZ_CHECK(*v[f] < total, "Select receives a value that was sent",
                   "node %d: %u of %u", id, *v[f], total);
        seen[*v[f]].fetch_add(1);
      }
    };
    // Send: value numbers base..base+per-1, each on a select over every
    // channel (send mode) or on one channel (plain producers).
    auto sender = [&, id](uint32_t base, bool selecting) {
      auto after =
          timer && selecting ? gmp::After(absl::Microseconds(50)) : nullptr;
      bool timer_fired = false;
      for (uint32_t i = 0; i < per;) {
        const uint32_t v = base + i;
        if (!selecting) {
          ch[(base / per + i) % k]->Send(v);
          ++i;
          continue;
        }
        std::vector<uint32_t> copies(k, v);
        std::optional<absl::Time> t;
        std::vector<gmp::SelectCase> cases(k + 1);
        for (uint32_t c = 0; c < k; ++c)
          cases[c] = gmp::SendCase(*ch[c], copies[c]);
        if (after != nullptr && !timer_fired)
          cases[k] = gmp::RecvCase(*after, t);
        const int n = static_cast<int>(cases.size());
        const int f = nonblocking ? gmp::TrySelect(cases.data(), n)
                                  : gmp::Select(cases.data(), n);
        if (f == gmp::kSelectDefault) {
          gmp::Gosched();
          continue;
        }
        if (f == static_cast<int>(k)) {
          FUZZ_CHECK(!timer_fired && t.has_value(),
                     "a timer case fires once, with the time", "node %d", id);
          timer_fired = true;
          continue;
        }
        FUZZ_CHECK(f >= 0 && f < static_cast<int>(k),
                   "Select fires one of its cases",
                   "node %d: send case %d of %d", id, f, n);
        ++i;
      }
    };
    gmp::WaitGroup senders_done, receivers_done;
    senders_done.Add(static_cast<int>(senders));
    const uint32_t receivers = send_mode ? nprod : nsel;
    receivers_done.Add(static_cast<int>(receivers));
    for (uint32_t r = 0; r < receivers; ++r) {
      gmp::Go([&] {
        receiver(!send_mode);
        receivers_done.Done();
      });
    }
    for (uint32_t s = 0; s < senders; ++s) {
      gmp::Go([&, s] {
        sender(s * per, send_mode);
        senders_done.Done();
      });
    }
    senders_done.Wait();
    // Close while receivers may still be selecting (or parked in Select).
    for (auto& c : ch) c->Close();
    receivers_done.Wait();
    int dup = 0, lost = 0;
    for (uint32_t i = 0; i < total; ++i) {
      const int n = seen[i].load();
      dup += n > 1;
      lost += n == 0;
    }
    FUZZ_CHECK(dup == 0 && lost == 0,
               "every value sent through Select received exactly once",
               "node %d: %d of %u values received twice, %d never", id_, dup,
               total, lost);
    if (flags & 8) SelectFairness();
    CheckThread();
  }

  // SelectFairness: two channels that always hold a value; 64 selects over
  // both must pick each at least 8 times (a fair choice fails that with
  // probability about 4e-11).
  void SelectFairness() {
    constexpr int kRounds = 64;
    gmp::Chan<uint32_t> a(kRounds), b(kRounds);
    for (int i = 0; i < kRounds; ++i) {
      a.Send(0);
      b.Send(1);
    }
    int count[2] = {};
    for (int i = 0; i < kRounds; ++i) {
      std::optional<uint32_t> va, vb;
      const int f = gmp::Select({gmp::RecvCase(a, va), gmp::RecvCase(b, vb)});
      ++count[f];
    }
    FUZZ_CHECK(count[0] >= 8 && count[1] >= 8,
               "Select chooses fairly among ready cases",
               "node %d: %d and %d of %d rounds", id_, count[0], count[1],
               kRounds);
  }

  // UnwindGuard blocks in its destructor, which runs while the exception
  // unwinds the stack: std::uncaught_exceptions() is 1 there, before and
  // after the blocking call.
  struct UnwindGuard {
    Goroutine* g;
    uint32_t op;
    uint64_t value;
    bool armed;
    ~UnwindGuard() {
      if (!armed) return;
      int n = std::uncaught_exceptions();
      FUZZ_CHECK(n == 1, "std::uncaught_exceptions() during unwinding",
                 "node %d, exception %llx: %d in a destructor before "
                 "blocking, want 1",
                 g->id_, (unsigned long long)value, n);
      g->Block(op);
      n = std::uncaught_exceptions();
      FUZZ_CHECK(n == 1, "std::uncaught_exceptions() during unwinding",
                 "node %d, exception %llx: %d in a destructor after "
                 "blocking op %u, want 1",
                 g->id_, (unsigned long long)value, n, op);
    }
  };

  // Throw throws a FuzzException with a value unique to this step, blocks
  // (op, see Block) while unwinding (with `dtor`) and in the handler, and
  // checks that the exception state followed the goroutine across threads.
  void Throw(uint32_t op, bool rethrow, bool dtor, uint32_t value) {
    const uint64_t v = static_cast<uint64_t>(goid_) << 32 |
                       static_cast<uint64_t>(++throws_) << 16 | value;
    bool caught = false;
    try {
      UnwindGuard guard{this, op, v, dtor};
      throw FuzzException{v};
    } catch (const FuzzException& e) {
      caught = true;
      int n = std::uncaught_exceptions();
      FUZZ_CHECK(n == 0, "std::uncaught_exceptions() in a handler",
                 "node %d, exception %llx: %d before blocking, want 0", id_,
                 (unsigned long long)v, n);
      std::exception_ptr cur = std::current_exception();
      FUZZ_CHECK(cur != nullptr, "std::current_exception() in a handler",
                 "node %d, exception %llx: null before blocking", id_,
                 (unsigned long long)v);
      Block(op);
      FUZZ_CHECK(e.value == v, "a caught exception keeps its value",
                 "node %d: caught %llx, after blocking op %u it reads %llx",
                 id_, (unsigned long long)v, op, (unsigned long long)e.value);
      n = std::uncaught_exceptions();
      FUZZ_CHECK(n == 0, "std::uncaught_exceptions() in a handler",
                 "node %d, exception %llx: %d after blocking op %u, want 0",
                 id_, (unsigned long long)v, n, op);
      std::exception_ptr now = std::current_exception();
      FUZZ_CHECK(now == cur, "std::current_exception() in a handler",
                 "node %d, exception %llx: after blocking op %u it is %s", id_,
                 (unsigned long long)v, op,
                 now == nullptr ? "null" : "another exception");
      if (rethrow) {
        try {
          throw;
        } catch (const FuzzException& e2) {
          FUZZ_CHECK(&e2 == &e && e2.value == v,
                     "throw; rethrows the caught exception",
                     "node %d: rethrew %llx at %p, caught %llx at %p", id_,
                     (unsigned long long)e2.value, (const void*)&e2,
                     (unsigned long long)v, (const void*)&e);
          Block(op);
          FUZZ_CHECK(e2.value == v && std::current_exception() == cur,
                     "std::current_exception() in a handler",
                     "node %d, rethrown exception %llx: after blocking op %u "
                     "the handler sees %llx",
                     id_, (unsigned long long)v, op,
                     (unsigned long long)e2.value);
        } catch (...) {
          Fail("throw; rethrows the caught exception",
               "node %d: rethrowing %llx threw something else", id_,
               (unsigned long long)v);
        }
      }
    }
    FUZZ_CHECK(caught, "a thrown exception is caught", "node %d: %llx", id_,
               (unsigned long long)v);
    int n = std::uncaught_exceptions();
    bool none = std::current_exception() == nullptr;
    FUZZ_CHECK(n == 0 && none, "no exception after the handler",
               "node %d, exception %llx: uncaught_exceptions() = %d, "
               "current_exception() %s",
               id_, (unsigned long long)v, n, none ? "null" : "not null");
  }

  // Errno sets errno (source 0: read(-1) in a Syscall, EBADF; 1: a Syscall
  // that sets `err`; 2: the goroutine itself) and checks it after the
  // Syscall and after `count` blocking calls (op, see Block).
  void Errno(uint32_t source, uint32_t err, uint32_t count, uint32_t op) {
    int want = static_cast<int>(err);
    if (source == 0) {
      want = EBADF;
      ctx_.syscalls.fetch_add(1);
      char buf[1];
      ssize_t r = gmp::Syscall([&buf] { return ::read(-1, buf, 1); });
      int got = errno;
      FUZZ_CHECK(r == -1 && got == want, "errno after Syscall",
                 "node %d: read(-1) returned %zd, errno %d, want -1 and "
                 "EBADF (%d)",
                 id_, r, got, want);
    } else if (source == 1) {
      ctx_.syscalls.fetch_add(1);
      int r = gmp::Syscall([want] {
        errno = want;
        return -1;
      });
      int got = errno;
      FUZZ_CHECK(r == -1 && got == want, "errno after Syscall",
                 "node %d: the call set errno %d, after Syscall it is %d", id_,
                 want, got);
    } else {
      errno = want;
    }
    for (uint32_t i = 0; i < count; ++i) {
      Block(op);
      int got = errno;
      FUZZ_CHECK(got == want, "errno survives a blocking call",
                 "node %d: errno %d before blocking op %u (#%u), %d after", id_,
                 want, op, i + 1, got);
    }
  }

  // StartPoller starts a goroutine that polls forever, with a Gosched
  // every round or (mask & 8 clear) with nothing but TryRecv, TrySend and
  // TryLock; gmp::Run must still return when main does (and reclaim it).
  void StartPoller(uint32_t mask) {
    Ctx* ctx = &ctx_;
    gmp::Go([ctx, mask] {
      for (uint64_t i = 0;; ++i) {
        if (mask & 1) (void)ctx->poll_ch.TryRecv();
        if (mask & 2) {
          uint64_t v = i;
          (void)ctx->poll_ch.TrySend(v);
        }
        if ((mask & 4) && ctx->poll_mu.TryLock()) ctx->poll_mu.Unlock();
        if (mask & 8) gmp::Gosched();
      }
    });
  }

  // StartExitPollers starts n goroutines that poll forever: with a Gosched
  // every round, so that they keep passing from M to M, until main begins to
  // return, then with nothing but TryRecv, TrySend and TryLock (mask). Those
  // in the middle of a hand-off when main returns resume after it; gmp::Run
  // must still return (every runtime call is an exit point).
  void StartExitPollers(uint32_t mask, uint32_t n) {
    Ctx* ctx = &ctx_;
    for (uint32_t k = 0; k < n; ++k) {
      gmp::Go([ctx, mask] {
        for (uint64_t i = 0;; ++i) {
          if (mask & 1) (void)ctx->poll_ch.TryRecv();
          if (mask & 2) {
            uint64_t v = i;
            (void)ctx->poll_ch.TrySend(v);
          }
          if ((mask & 4) && ctx->poll_mu.TryLock()) ctx->poll_mu.Unlock();
          if (!ctx->main_returning.load()) gmp::Gosched();
        }
      });
    }
  }

  // LockExit runs `rounds` rounds of n goroutines that exit with their
  // thread locked; each round is joined before the next starts.
  void LockExit(uint32_t n, uint32_t rounds) {
    for (uint32_t r = 0; r < rounds; ++r) {
      gmp::WaitGroup wg;
      wg.Add(static_cast<int>(n));
      for (uint32_t i = 0; i < n; ++i) {
        gmp::Go([&wg] {
          gmp::LockOSThread();
          NoteLocked(gmp::GoroutineId());
          gmp::Gosched();
          wg.Done();
        });
      }
      wg.Wait();
      CheckThread();
    }
  }

  // Sleeps sleeps each duration of `arg` and checks it lasted at least that
  // long and at most kSleepLatenessUs more.
  void Sleeps(uint32_t arg) {
    uint32_t count = arg & 0xff;
    for (uint32_t i = 0; i < count; ++i) {
      int64_t d = kSleepUs[(arg >> (8 + 3 * i)) & 7];
      auto t0 = std::chrono::steady_clock::now();
      gmp::Sleep(absl::Microseconds(d));
      int64_t us = std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::steady_clock::now() - t0)
                       .count();
      FUZZ_CHECK(us >= d, "Sleep lasts at least its duration",
                 "node %d: Sleep(%lld us) returned after %lld us", id_,
                 (long long)d, (long long)us);
      FUZZ_CHECK(us <= d + kSleepLatenessUs, "Sleep wakes up in time",
                 "node %d: Sleep(%lld us) returned after %lld us (bound: "
                 "%lld us late)",
                 id_, (long long)d, (long long)us, (long long)kSleepLatenessUs);
      CheckThread();
    }
  }

  Ctx& ctx_;
  const int id_;
  const Node& node_;
  int64_t goid_ = 0;
  int lock_depth_ = 0;
  int64_t locked_tid_ = 0;
  uint32_t throws_ = 0;      // Throw steps run, for unique values
  gmp::WaitGroup children_;  // children started by Spawn (blocking op set)
};

const char* OpName(Op op) {
  switch (op) {
    case Op::kGosched:
      return "Gosched";
    case Op::kLockThread:
      return "LockOSThread";
    case Op::kUnlockThread:
      return "UnlockOSThread";
    case Op::kWork:
      return "Work";
    case Op::kSpawn:
      return "Go";
    case Op::kCheckWorld:
      return "CheckWorld";
    case Op::kSleep:
      return "Sleep";
    case Op::kSyscall:
      return "Syscall";
    case Op::kMutex:
      return "Mutex";
    case Op::kTryMutex:
      return "TryMutex";
    case Op::kChanGroup:
      return "ChanGroup";
    case Op::kTryChan:
      return "TryChan";
    case Op::kResize:
      return "Resize";
    case Op::kExt:
      return "Ext";
  }
  return "?";
}

const char* ExtName(int kind) {
  static const char* kNames[] = {"Throw",   "Errno",  "Poller",      "LockExit",
                                 "Foreign", "Sleeps", "ExitPollers", "Select"};
  return kind >= 0 && kind < static_cast<int>(std::size(kNames)) ? kNames[kind]
                                                                 : "?";
}

void DescribeNode(const Program& p, int id, int indent, std::string* out) {
  const Node& n = p.nodes[id];
  static const char* kRoles[] = {"main", "child", "producer", "consumer"};
  std::string pad(indent * 2, ' ');
  char line[160];
  std::snprintf(line, sizeof(line), "%snode %d (%s%s", pad.c_str(), id,
                kRoles[static_cast<int>(n.role)],
                n.exit_locked ? ", exits locked" : "");
  *out += line;
  if (n.role == Role::kProducer) {
    std::snprintf(line, sizeof(line), ", sends %u", n.sends);
    *out += line;
  }
  *out += ")\n";
  for (const Step& s : n.steps) {
    if (s.op == Op::kExt) {
      std::snprintf(line, sizeof(line), "%s  Ext %s arg=%#x\n", pad.c_str(),
                    ExtName(s.target), s.arg);
    } else {
      std::snprintf(line, sizeof(line), "%s  %s arg=%u target=%d\n",
                    pad.c_str(), OpName(s.op), s.arg, s.target);
    }
    *out += line;
    if (s.op == Op::kSpawn) DescribeNode(p, s.target, indent + 2, out);
    if (s.op == Op::kChanGroup) {
      const ChanGroup& g = p.groups[s.target];
      std::snprintf(line, sizeof(line), "%s    group %d: cap %u, %u values\n",
                    pad.c_str(), s.target, g.cap, g.total);
      *out += line;
      for (int c : g.producers) DescribeNode(p, c, indent + 3, out);
      for (int c : g.consumers) DescribeNode(p, c, indent + 3, out);
    }
  }
}

void RunOnce(const Program& p);

// NeedsThread says whether goroutine `n` may hold an M of its own besides
// the Ms that run Ps: it locks its thread or enters a Syscall.
bool NeedsThread(const Node& n) {
  if (n.exit_locked) return true;
  for (const Step& s : n.steps) {
    if (s.op == Op::kLockThread || s.op == Op::kSyscall) return true;
    if ((s.op == Op::kMutex || s.op == Op::kTryMutex) && (s.arg & 0xff) == 2) {
      return true;
    }
    if (s.op == Op::kExt && static_cast<Ext>(s.target) == Ext::kErrno &&
        (s.arg & 0xff) < 2) {
      return true;
    }
  }
  return false;
}

// ThreadCap is the $GMP_MAXTHREADS a program with LockExit steps runs
// under (0: none): the most Ps it can have, one M per goroutine that may
// hold one of its own, the LockExit goroutines of all steps at once, and a
// margin. A runtime that reclaims the threads of locked exits never needs
// more; one that does not runs out after a few rounds.
int ThreadCap(const Program& p) {
  int max_procs = p.procs;
  int own = 1;  // main's thread
  int lock_exits = 0;
  for (const Node& n : p.nodes) {
    if (NeedsThread(n)) ++own;
    for (const Step& s : n.steps) {
      if (s.op == Op::kResize) {
        max_procs = std::max(max_procs, static_cast<int>(s.arg));
      }
      if (s.op == Op::kExt && static_cast<Ext>(s.target) == Ext::kLockExit) {
        lock_exits += static_cast<int>(s.arg & 0xff);
      }
    }
  }
  if (lock_exits == 0) return 0;
  return max_procs + own + lock_exits + 6;
}

// QueryLoop calls what a foreign thread may call at any time until `stop`,
// and once more after it.
void QueryLoop(const std::atomic<bool>& stop) {
  for (bool last = false; !last;) {
    last = stop.load();
    int n = gmp::GOMAXPROCS();
    FUZZ_CHECK(n >= 1 && n <= 1024, "GOMAXPROCS() from a foreign thread",
               "GOMAXPROCS() = %d", n);
    int g = gmp::NumGoroutine();
    FUZZ_CHECK(g >= 0, "NumGoroutine() from a foreign thread",
               "NumGoroutine() = %d", g);
    gmp::Stats st = gmp::ReadStats();
    FUZZ_CHECK(st.spawned >= 0 && st.completed >= 0 && st.reclaimed >= 0,
               "ReadStats() from a foreign thread",
               "spawned %lld, completed %lld, reclaimed %lld",
               (long long)st.spawned, (long long)st.completed,
               (long long)st.reclaimed);
    std::this_thread::yield();
  }
}

}  // namespace

Program DecodeProgram(FuzzedDataProvider& in, bool blocking) {
  Program p;
  p.blocking = blocking;
  p.procs = in.ConsumeIntegralInRange<int>(1, 8);
  size_t nchoices = in.ConsumeIntegralInRange<size_t>(0, kMaxChoices);
  p.choices = in.ConsumeBytes<uint8_t>(nchoices);
  p.parallel_probe = in.ConsumeBool();
  Decoder(in, p).NewNode(Role::kMain, 0);
  p.thread_cap = ThreadCap(p);
  return p;
}

void RunProgram(const Program& p) {
  // Foreign steps: a plain thread queries the runtime from before the first
  // Run until after the last, so also while each Run starts and ends.
  // The environment changes while no other thread of ours may read it
  // (GOMAXPROCS() outside a Run reads $GMP_MAXPROCS).
  std::string cap = std::to_string(p.thread_cap);
  if (p.thread_cap > 0) ::setenv("GMP_MAXTHREADS", cap.c_str(), 1);
  std::atomic<bool> stop{false};
  std::thread foreign;
  if (p.foreign) foreign = std::thread([&stop] { QueryLoop(stop); });
  for (int r = 0; r < p.runs; ++r) RunOnce(p);
  if (p.foreign) {
    stop.store(true);
    foreign.join();
  }
  if (p.thread_cap > 0) ::unsetenv("GMP_MAXTHREADS");
}

namespace {

void RunOnce(const Program& p) {
  Ctx ctx(p);
  BeginRun(p.choices);
  gmp::Options options;
  options.procs = p.procs;
  Watchdog::Get().Arm(p);
  gmp::Run([&ctx] { Goroutine(ctx, 0).Run(nullptr, nullptr); }, options);
  Watchdog::Get().Disarm();
  EndRun();

  for (size_t i = 0; i < p.nodes.size(); ++i) {
    FUZZ_CHECK(ctx.started[i].load() == 1 && ctx.finished[i].load() == 1,
               "every G ran exactly once",
               "node %zu started %d times, finished %d times", i,
               ctx.started[i].load(), ctx.finished[i].load());
  }
  gmp::Stats st = gmp::ReadStats();
  FUZZ_CHECK(st.spawned == st.completed + st.reclaimed, "counters balance",
             "spawned %lld != completed %lld + reclaimed %lld",
             (long long)st.spawned, (long long)st.completed,
             (long long)st.reclaimed);
  FUZZ_CHECK(st.spawned >= static_cast<int64_t>(p.nodes.size()),
             "counters balance", "spawned %lld < %zu goroutines started",
             (long long)st.spawned, p.nodes.size());
  FUZZ_CHECK(st.syscalls >= ctx.syscalls.load(), "counters balance",
             "syscalls %lld < %d Syscall calls made", (long long)st.syscalls,
             ctx.syscalls.load());
  FUZZ_CHECK(st.steals <= st.stolen_gs, "counters balance",
             "steals %lld > goroutines stolen %lld", (long long)st.steals,
             (long long)st.stolen_gs);
}

}  // namespace

std::string DescribeProgram(const Program& p) {
  std::string out = "procs " + std::to_string(p.procs) + ", " +
                    std::to_string(p.choices.size()) + " steering bytes, " +
                    (p.parallel_probe ? "parallel probe, " : "") +
                    std::to_string(p.nodes.size()) + " goroutines";
  if (p.runs != 1) out += ", " + std::to_string(p.runs) + " runs";
  if (p.foreign) out += ", foreign querier";
  if (p.thread_cap > 0) {
    out += ", thread cap " + std::to_string(p.thread_cap);
  }
  out += "\n";
  if (!p.nodes.empty()) DescribeNode(p, 0, 0, &out);
  return out;
}

int FuzzOneProgram(const uint8_t* data, size_t size, bool blocking) {
  FuzzedDataProvider in(data, size);
  Program p = DecodeProgram(in, blocking);
  static const bool print = [] {
    const char* e = std::getenv("GMP_FUZZ_PRINT");
    return e != nullptr && e[0] == '1';
  }();
  if (print) std::fputs(DescribeProgram(p).c_str(), stderr);
  RunProgram(p);
  static const bool stats = [] {
    const char* e = std::getenv("GMP_FUZZ_STATS");
    return e != nullptr && e[0] == '1';
  }();
  int64_t runs = g_programs.fetch_add(1) + 1;
  if (stats &&
      (runs % 1000 == 0 || (runs <= 512 && (runs & (runs - 1)) == 0))) {
    std::fprintf(stderr,
                 "gmp_fuzz stats: %lld programs, %lld Resize steps, %lld "
                 "changed GOMAXPROCS\n",
                 (long long)runs, (long long)g_resizes.load(),
                 (long long)g_resizes_changed.load());
  }
  return 0;
}

int ResizeBound(int procs) {
  return procs * 2 < kMaxResize ? procs * 2 : kMaxResize;
}

}  // namespace gmp_fuzz
