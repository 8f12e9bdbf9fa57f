// fuzz/program.cc — decoding and running fuzz programs (see program.h).
#include "fuzz/program.h"

#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
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
          }
          break;
        case Op::kGosched:
        case Op::kResize:  // never an op byte of its own
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
    }
    CheckThread();
  }

  Ctx& ctx_;
  const int id_;
  const Node& node_;
  int64_t goid_ = 0;
  int lock_depth_ = 0;
  int64_t locked_tid_ = 0;
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
  }
  return "?";
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
    std::snprintf(line, sizeof(line), "%s  %s arg=%u target=%d\n", pad.c_str(),
                  OpName(s.op), s.arg, s.target);
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

}  // namespace

Program DecodeProgram(FuzzedDataProvider& in, bool blocking) {
  Program p;
  p.blocking = blocking;
  p.procs = in.ConsumeIntegralInRange<int>(1, 8);
  size_t nchoices = in.ConsumeIntegralInRange<size_t>(0, kMaxChoices);
  p.choices = in.ConsumeBytes<uint8_t>(nchoices);
  p.parallel_probe = in.ConsumeBool();
  Decoder(in, p).NewNode(Role::kMain, 0);
  return p;
}

void RunProgram(const Program& p) {
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

std::string DescribeProgram(const Program& p) {
  std::string out = "procs " + std::to_string(p.procs) + ", " +
                    std::to_string(p.choices.size()) + " steering bytes, " +
                    (p.parallel_probe ? "parallel probe, " : "") +
                    std::to_string(p.nodes.size()) + " goroutines\n";
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
