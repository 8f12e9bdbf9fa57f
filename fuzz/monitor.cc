// fuzz/monitor.cc — steering hooks and execution invariants (see monitor.h).
#include "fuzz/monitor.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <utility>
#include <vector>

#include "fuzz/check.h"
#include "runtime/fuzz_hooks.h"

namespace gmp_fuzz {
namespace {

constexpr int kGSlots = 4096;  // live goids of one run fit in this window
constexpr int kMSlots = 256;
constexpr int kTidSlots = 1024;
// Steering decisions per run; after that every hook answers "policy".
[[maybe_unused]] constexpr int64_t kMaxDecisions = 1 << 14;

// GSlot tracks one goroutine (indexed by goid % kGSlots).
struct GSlot {
  std::atomic<int64_t> running_on{0};  // mid + 1 while running, else 0
  std::atomic<int64_t> locked_tid{0};  // tid the program locked it to, or 0
};
// MSlot tracks one M (indexed by mid % kMSlots).
struct MSlot {
  std::atomic<int64_t> current{0};  // goid running on it, or 0
};
// TidSlot says which goroutine holds a thread through LockOSThread.
struct TidSlot {
  std::atomic<int64_t> tid{0};
  std::atomic<int64_t> goid{0};
  std::atomic<int64_t> mid{-1};
};

GSlot g_slots[kGSlots];
MSlot m_slots[kMSlots];
TidSlot tid_slots[kTidSlots];
std::vector<uint8_t> g_choices;          // written only outside Run
std::atomic<int64_t> g_next_choice{0};   // index of the next decision
std::atomic<int64_t> g_executions{0};

thread_local int64_t tls_mid = -1;  // the M this thread is, from on_execute
[[maybe_unused]] thread_local int64_t tls_tid = 0;

GSlot& SlotOfG(int64_t goid) {
  return g_slots[static_cast<uint64_t>(goid) % kGSlots];
}

#if GMP_FUZZ_ENABLED
int64_t Tid() {
  if (tls_tid == 0) tls_tid = static_cast<int64_t>(::syscall(SYS_gettid));
  return tls_tid;
}

// NextChoice returns the next steering byte, or -1 once they are used up.
int NextChoice() {
  if (g_choices.empty()) return -1;
  int64_t i = g_next_choice.fetch_add(1, std::memory_order_relaxed);
  if (i >= kMaxDecisions) return -1;
  return g_choices[static_cast<size_t>(i) % g_choices.size()];
}

int PickVictim(int thief, int nprocs) {
  int c = NextChoice();
  if (c < 0 || nprocs <= 1 || c < 64) return -1;  // the policy's own order
  return (thief + 1 + c % (nprocs - 1)) % nprocs;
}

bool SkipRunnext() {
  int c = NextChoice();
  return c >= 0 && (c & 3) == 1;
}

bool InjectYield() {
  int c = NextChoice();
  return c >= 0 && c % 5 == 2;
}

void OnExecute(int64_t goid, int64_t mid, int64_t tid, int64_t lockedm) {
  (void)tid;  // we ask the kernel ourselves
  g_executions.fetch_add(1, std::memory_order_relaxed);
  tls_mid = mid;
  int64_t prev = SlotOfG(goid).running_on.exchange(mid + 1);
  FUZZ_CHECK(prev == 0, "no G on two Ms",
             "goroutine %lld starts on M%lld while still running on M%lld",
             (long long)goid, (long long)mid, (long long)(prev - 1));
  int64_t other = m_slots[static_cast<uint64_t>(mid) % kMSlots].current.exchange(
      goid);
  FUZZ_CHECK(other == 0, "one G per M",
             "M%lld starts goroutine %lld while running goroutine %lld",
             (long long)mid, (long long)goid, (long long)other);
  FUZZ_CHECK(lockedm < 0 || lockedm == mid, "locked G on its M",
             "goroutine %lld is locked to M%lld but runs on M%lld",
             (long long)goid, (long long)lockedm, (long long)mid);
  int64_t me = Tid();
  TidSlot& t = tid_slots[static_cast<uint64_t>(me) % kTidSlots];
  if (t.tid.load() == me && t.mid.load() == mid) {
    int64_t holder = t.goid.load();
    FUZZ_CHECK(holder == goid, "locked thread runs nothing else",
               "thread %lld (M%lld) is locked to goroutine %lld but runs "
               "goroutine %lld",
               (long long)me, (long long)mid, (long long)holder,
               (long long)goid);
  }
  int64_t want = SlotOfG(goid).locked_tid.load();
  FUZZ_CHECK(want == 0 || want == me, "locked G on its thread",
             "goroutine %lld is locked to thread %lld but runs on thread %lld "
             "(M%lld)",
             (long long)goid, (long long)want, (long long)me, (long long)mid);
}

void OnStop(int64_t goid, int64_t mid, bool exited) {
  (void)exited;
  int64_t prev = SlotOfG(goid).running_on.exchange(0);
  FUZZ_CHECK(prev == mid + 1, "no G on two Ms",
             "goroutine %lld stops on M%lld but was running on M%lld",
             (long long)goid, (long long)mid, (long long)(prev - 1));
  int64_t cur =
      m_slots[static_cast<uint64_t>(mid) % kMSlots].current.exchange(0);
  FUZZ_CHECK(cur == goid, "one G per M",
             "M%lld stops goroutine %lld but was running goroutine %lld",
             (long long)mid, (long long)goid, (long long)cur);
}

const gmp::internal::FuzzHooks kHooks = [] {
  gmp::internal::FuzzHooks h;
  h.pick_victim = &PickVictim;
  h.skip_runnext = &SkipRunnext;
  h.inject_yield = &InjectYield;
  h.on_execute = &OnExecute;
  h.on_stop = &OnStop;
  return h;
}();
#endif  // GMP_FUZZ_ENABLED

}  // namespace

bool HooksCompiledIn() { return GMP_FUZZ_ENABLED != 0; }

int64_t CurrentTid() { return static_cast<int64_t>(::syscall(SYS_gettid)); }

namespace {

// ResetSlots clears every slot. Outside gmp::Run only, when no other thread
// touches them: the previous Run's Ms were done with them before it returned
// (and the next Run's start orders this before their use). Not instrumented:
// under ThreadSanitizer the 11,000 atomic stores would cost about as much as
// a small program's run, and they race with nothing.
__attribute__((no_sanitize("thread"))) void ResetSlots() {
  for (auto& g : g_slots) {
    g.running_on.store(0, std::memory_order_relaxed);
    g.locked_tid.store(0, std::memory_order_relaxed);
  }
  for (auto& m : m_slots) m.current.store(0, std::memory_order_relaxed);
  for (auto& t : tid_slots) {
    t.tid.store(0, std::memory_order_relaxed);
    t.goid.store(0, std::memory_order_relaxed);
    t.mid.store(-1, std::memory_order_relaxed);
  }
}

}  // namespace

void BeginRun(std::vector<uint8_t> choices) {
  ResetSlots();
  g_choices = std::move(choices);
  g_next_choice.store(0);
  g_executions.store(0);
#if GMP_FUZZ_ENABLED
  gmp::internal::SetFuzzHooks(&kHooks);
#endif
}

int64_t EndRun() {
#if GMP_FUZZ_ENABLED
  gmp::internal::SetFuzzHooks(nullptr);
#endif
  return g_executions.load();
}

int64_t NoteLocked(int64_t goid) {
  // Not the cached Tid(): a goroutine may have moved threads since it last
  // read its thread-locals, and the compiler may reuse their addresses.
  int64_t tid = CurrentTid();
  TidSlot& t = tid_slots[static_cast<uint64_t>(tid) % kTidSlots];
  t.goid.store(goid);
  t.mid.store(GMP_FUZZ_ENABLED ? tls_mid : -1);
  t.tid.store(tid);
  SlotOfG(goid).locked_tid.store(tid);
  return tid;
}

void NoteUnlocking(int64_t goid) {
  int64_t tid = CurrentTid();
  TidSlot& t = tid_slots[static_cast<uint64_t>(tid) % kTidSlots];
  t.tid.store(0);
  t.mid.store(-1);
  t.goid.store(0);
  SlotOfG(goid).locked_tid.store(0);
}

}  // namespace gmp_fuzz
