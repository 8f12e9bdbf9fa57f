// fuzz/program.h — fuzz inputs decoded into small goroutine programs.
//
// A Program is a tree of goroutines. Each goroutine (a Node) runs a
// straight-line list of Steps: Gosched, LockOSThread, UnlockOSThread, a bit
// of CPU work, spawning a child (itself a Node with its own steps), and in
// the blocking op set also Sleep, Syscall, Mutex sections, channel groups
// (producers and consumers of one channel) and non-blocking channel use.
// Any goroutine may also stop the world and have the scheduler check its
// global invariants (run queues, free lists, counters), or change the number
// of Ps with gmp::GOMAXPROCS(n) (Resize, n in 1..min(8, 2 * procs)).
//
// Resize is decoded as a special CheckWorld step so that every input that
// existed before it decodes to the same program: the op byte of a step is
// reduced modulo the number of ops, and a CheckWorld byte whose quotient
// (byte / number of ops) is in a per-op-set set that no corpus input used
// then (kResizeQuotients in program.cc) becomes a Resize, which then reads
// one more byte for n.
//
// The extension steps (Ext: exceptions across blocking calls, errno,
// pollers left running, exits while locked under a thread cap, a foreign
// thread querying the runtime, sleeps checked for lateness) are decoded the
// same way (spawn_lock: Throw and Errno only): a CheckWorld byte whose
// quotient IsExtQuotient accepts (again none that a corpus input used then)
// becomes an Ext step, which reads its kind and parameters from the next
// bytes. ExitPollers, added later, has a CheckWorld quotient of its own.
//
// Programs are valid by construction, so every run must terminate:
//   * thread locks nest at most 3 deep and are balanced at a goroutine's
//     end, unless the goroutine deliberately exits while locked (never
//     main);
//   * a Mutex section holds no other lock and does nothing that waits on
//     another goroutine (only Gosched, Sleep, Syscall, work);
//   * a channel group's producers send a fixed number of values; its
//     consumers receive until the channel is closed, which the goroutine
//     that started the group does after every producer is done;
//   * children are joined: with a WaitGroup by their parent (blocking op
//     set), or by main spinning on Gosched until all have finished
//     (spawn_lock op set, which uses nothing but the scheduler).
// So waits form a tree and no cycle of waits can arise.
//
// With `parallel_probe` (and procs >= 2) main starts by spawning a partner
// and spinning, without any runtime call, until the partner has run. An idle
// P and a woken M must pick the partner up (Go's wakep protocol), so a lost
// wakeup hangs the program and libFuzzer reports a timeout. Variants whose
// Ms never spin (NoSpin) do not promise this and skip the probe.
//
// RunProgram runs a Program on a fresh gmp::Run with the Program's procs and
// checks the invariants listed in fuzz/README.md, aborting through
// FUZZ_CHECK with the invariant's name.
#ifndef GMPLAB_FUZZ_PROGRAM_H_
#define GMPLAB_FUZZ_PROGRAM_H_

#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <string>
#include <vector>

namespace gmp_fuzz {

enum class Op : uint8_t {
  // The spawn_lock op set: only the scheduler.
  kGosched,
  kLockThread,
  kUnlockThread,
  kWork,
  kSpawn,
  kCheckWorld,  // stop the world and check the scheduler's global invariants
  // The blocking op set adds these.
  kSleep,
  kSyscall,
  kMutex,
  kTryMutex,
  kChanGroup,
  kTryChan,
  // Not an op byte value of its own: a form of kCheckWorld (see above), in
  // both op sets.
  kResize,  // gmp::GOMAXPROCS(arg)
  // Also a form of kCheckWorld: one of the extension steps below
  // (Step::target), parameters packed in Step::arg; in the spawn_lock op set
  // only Throw and Errno, blocking with nothing but Gosched.
  kExt,
};

// The extension steps (see fuzz/README.md for their encoding).
enum class Ext : uint8_t {
  // throw inside try, optionally through a destructor that blocks during
  // unwinding; the handler blocks, then checks the exception's value,
  // std::current_exception(), std::uncaught_exceptions() and, optionally,
  // that `throw;` rethrows the same exception.
  // arg: block op | rethrow << 3 | destructor << 4 | value << 16.
  kThrow,
  // errno set by a Syscall (read(-1): EBADF, or a chosen value) or by the
  // goroutine itself, checked after the Syscall and after later blocking
  // calls. arg: source | errno << 8 | count << 16 | block op << 20.
  kErrno,
  // a goroutine polling with TrySend/TryRecv/TryLock forever (never
  // joined: still running when main returns); the program runs 1 + extra
  // times. arg: mask (1 TryRecv, 2 TrySend, 4 TryLock, 8 Gosched every
  // round, else no other runtime call) | extra << 8.
  kPoller,
  // rounds of n goroutines that exit with their thread locked, joined each
  // round; the program runs under a thread cap ($GMP_MAXTHREADS) derived
  // from what it needs at once. arg: n | rounds << 8.
  kLockExit,
  // a plain std::thread queries GOMAXPROCS(), NumGoroutine() and
  // ReadStats() from before the program's first Run until after its last;
  // the program runs 1 + extra times. arg: extra.
  kForeign,
  // sleeps of mixed lengths, each checked to last at least its duration
  // and at most 2 s more. arg: count | duration index i << (8 + 3 * i).
  kSleeps,
  // n goroutines that poll forever (never joined) with a Gosched every
  // round until main begins to return, then with nothing but TrySend/
  // TryRecv/TryLock: so some are in the middle of a hand-off between Ms
  // when main returns. The program runs 1 + extra times. Block only, from
  // its own CheckWorld quotient (IsExitPollersQuotient in program.cc).
  // arg: mask (1 TryRecv, 2 TrySend, 4 TryLock) | n << 4 | extra << 8.
  kExitPollers,
  // gmp::Select over k channels of mixed capacities: selectors receive (or,
  // in send mode, send) with Select or TrySelect + Gosched, optionally with
  // a timer case (gmp::After); plain producers (or, in send mode, selecting
  // consumers) on the other side; the channels are closed while selectors
  // may still wait. Checks every value received exactly once, one case
  // fired per call (only its slot filled), a timer case firing at most
  // once, and, optionally, fairness between two always-ready cases. Block
  // only, from its own CheckWorld quotient (IsSelectQuotient in
  // program.cc). arg: k - 2 | caps (2 bits per channel) << 2 | nsel - 1
  // << 10 | nprod - 1 << 12 | per - 1 << 14 | flags << 18 (1 timer case, 2
  // TrySelect, 4 send mode, 8 fairness).
  kSelect,
};

enum class Role : uint8_t { kMain, kChild, kProducer, kConsumer };

struct Step {
  Op op = Op::kGosched;
  uint32_t arg = 0;     // Sleep/Syscall: µs; Work: iterations; TryChan: cap;
                        // Resize: the new GOMAXPROCS;
                        // Mutex: inner op | count << 8 | param << 16
  int32_t target = -1;  // Spawn: node; ChanGroup: group; Mutex: which one;
                        // Ext: the Ext kind
};

struct Node {
  Role role = Role::kChild;
  std::vector<Step> steps;
  bool exit_locked = false;  // returns with its thread still locked
  int group = -1;            // producers and consumers: their group
  uint32_t index = 0;        // producers: index in the group
  uint32_t sends = 0;        // producers: how many values they send
};

struct ChanGroup {
  uint32_t cap = 0;
  std::vector<int> producers;
  std::vector<int> consumers;
  uint32_t max_sends = 0;
  uint32_t total = 0;  // values sent by all producers
};

struct Program {
  int procs = 1;
  bool blocking = false;         // the op set: false = spawn_lock, true = block
  std::vector<uint8_t> choices;  // steering bytes for the scheduler hooks
  bool parallel_probe = false;   // main first checks that a second P runs
  std::vector<Node> nodes;       // nodes[0] is main
  std::vector<ChanGroup> groups;
  int runs = 1;          // gmp::Runs of the program (Poller, Foreign steps)
  bool foreign = false;  // a Foreign step: a std::thread queries the runtime
  int thread_cap = 0;    // LockExit steps: $GMP_MAXTHREADS for its Runs
};

// DecodeProgram turns a fuzz input into a valid Program. `blocking` selects
// the op set. Any input decodes (an empty one to an empty main).
Program DecodeProgram(FuzzedDataProvider& in, bool blocking);

// RunProgram runs `p` on a fresh runtime and checks the invariants. Aborts
// with "fuzz invariant violated: <name>: ..." on a violation. Must be called
// outside gmp::Run.
void RunProgram(const Program& p);

// DescribeProgram renders `p` for people (the replay driver prints it when
// GMP_FUZZ_PRINT=1 is set).
std::string DescribeProgram(const Program& p);

// FuzzOneProgram is the body of the spawn_lock and block targets. With
// GMP_FUZZ_STATS=1 it prints a line of counters (programs run, Resize steps
// run, how many changed the number of Ps) to stderr after runs 1, 2, 4, ...,
// 512 and then every 1000th run.
int FuzzOneProgram(const uint8_t* data, size_t size, bool blocking);

// ResizeBound is the largest GOMAXPROCS a Resize step of a program with
// `procs` Ps may set: min(8, 2 * procs).
int ResizeBound(int procs);

}  // namespace gmp_fuzz

#endif  // GMPLAB_FUZZ_PROGRAM_H_
