// runtime/globrunq.cc — the global run queue, and the glue between a P's
// local run queue (runtime/runq.h) and it: runqput overflows half a full
// ring into it, runqget honours runnext's LIFO cap, globrunqget and
// globrunqmove refill a P from it in batches.
//
// The global queue is a list of Gs linked by G.schedlink under sched.lock;
// Go's schedt.runq. Ps go to it for fairness (policy::kFairness), when
// their own ring is empty, and spill into it when their ring is full.
#include <atomic>
#include <cstdint>

#include "runtime/fuzz_hooks.h"
#include "runtime/sched.h"

namespace gmp::internal {

// ---------------------------------------------------------------------------
// Global run queue. sched.lock must be held.
//
// runqsize and the global-queue counters change only under sched.lock, so
// they are updated with a plain load and store (no locked instruction);
// lock-free readers see an atomic snapshot.

static inline void AddRunqsize(int32_t n)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(sched->lock) {
  sched->runqsize.store(sched->runqsize.load(std::memory_order_relaxed) + n,
                        std::memory_order_relaxed);
}

void globrunqput(G* gp) {
  gp->schedlink = nullptr;
  if (sched->runq_tail != nullptr) {
    sched->runq_tail->schedlink = gp;
  } else {
    sched->runq_head = gp;
  }
  sched->runq_tail = gp;
  AddRunqsize(1);
  sched->counters.Bump(kGlobalPuts);
}

// globrunqputchain appends the chain head..tail (n Gs, linked by schedlink).
static void globrunqputchain(G* head, G* tail, int32_t n)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(sched->lock) {
  tail->schedlink = nullptr;
  if (sched->runq_tail != nullptr) {
    sched->runq_tail->schedlink = head;
  } else {
    sched->runq_head = head;
  }
  sched->runq_tail = tail;
  AddRunqsize(n);
  sched->counters.Bump(kGlobalPuts, n);
}

void globrunqputbatch(G** batch, uint32_t n) {
  if (n == 0) return;
  for (uint32_t i = 0; i + 1 < n; ++i) batch[i]->schedlink = batch[i + 1];
  globrunqputchain(batch[0], batch[n - 1], static_cast<int32_t>(n));
}

static G* globrunqpop() ABSL_EXCLUSIVE_LOCKS_REQUIRED(sched->lock) {
  G* gp = sched->runq_head;
  if (gp == nullptr) return nullptr;
  sched->runq_head = gp->schedlink;
  if (sched->runq_head == nullptr) sched->runq_tail = nullptr;
  gp->schedlink = nullptr;
  AddRunqsize(-1);
  return gp;
}

// globrunqget takes a batch from the global queue for pp: returns one G to
// run and moves up to `max` - 1 more (0 = no limit beyond a fair share and
// half the local ring) into pp's local queue. sched.lock must be held; the
// caller holds pp.
static int32_t GlobBatchSize(int32_t max)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(sched->lock) {
  int32_t size = sched->runqsize.load(std::memory_order_relaxed);
  int32_t n = size / sched->allp.size() + 1;
  if (n > size) n = size;
  if (max > 0 && n > max) n = max;
  if (n > static_cast<int32_t>(policy::kRunqSize / 2)) {
    n = policy::kRunqSize / 2;
  }
  return n;
}

G* globrunqget(P* pp, int32_t max) ABSL_EXCLUSIVE_LOCKS_REQUIRED(sched->lock) {
  int32_t n = GlobBatchSize(max);
  if (n == 0) return nullptr;
  pp->counters.Bump(kGlobalGets, n);
  G* gp = globrunqpop();
  for (int32_t i = 1; i < n; ++i) {
    G* g1 = globrunqpop();
    if (!pp->runq.Put(g1)) {  // cannot happen with n <= half, but be safe
      globrunqput(g1);
      break;
    }
  }
  return gp;
}

// globrunqmove moves the batch globrunqget would take into pp's local
// ring, which must be empty (so the batch keeps its order). sched.lock must
// be held; the caller holds pp.
void globrunqmove(P* pp) ABSL_EXCLUSIVE_LOCKS_REQUIRED(sched->lock) {
  int32_t n = GlobBatchSize(0);
  pp->counters.Bump(kGlobalGets, n);
  for (int32_t i = 0; i < n; ++i) {
    G* g1 = globrunqpop();
    if (!pp->runq.Put(g1)) {  // cannot happen with n <= half, but be safe
      globrunqput(g1);
      break;
    }
  }
}

// globrunqputhead puts the chain head..tail (n Gs) at the front of the
// global run queue, in order. sched.lock must be held.
void globrunqputhead(G* head, G* tail, int32_t n)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(sched->lock) {
  tail->schedlink = sched->runq_head;
  sched->runq_head = head;
  if (sched->runq_tail == nullptr) sched->runq_tail = tail;
  sched->runqsize.fetch_add(n, std::memory_order_relaxed);
  sched->counters.Add(kGlobalPuts, n);
}

// ---------------------------------------------------------------------------
// Local run queue.

// runqput puts gp on pp's local run queue: in runnext when `next` (and the
// policy has runnext), kicking the old runnext to the tail; on the tail
// otherwise. A full ring moves half of itself plus gp to the global queue.
// Executed only by the owner of pp.
void runqput(P* pp, G* gp, bool next) {
  if constexpr (policy::kRunnext) {
    if (next) {
      G* old = pp->runq.PutRunnext(gp);
      if (old == nullptr) return;
      gp = old;  // kick the old runnext out to the tail
    }
  }
  for (;;) {
    if (pp->runq.Put(gp)) return;
    G* head = nullptr;
    G* tail = nullptr;
    uint32_t n = pp->runq.OverflowTo(gp, [&](G* x) {
      if (tail == nullptr) {
        head = x;
      } else {
        tail->schedlink = x;
      }
      tail = x;
    });
    if (n != 0) {
      sched->lock.lock();
      globrunqputchain(head, tail, static_cast<int32_t>(n));
      sched->lock.unlock();
      pp->counters.Bump(kOverflows);
      return;
    }
  }
}

// runqget takes the next local G for pp, honouring the LIFO cap and the fuzz
// hook; `*inherit` is set when it came from runnext (it inherits the time
// slice). Executed only by the owner of pp.
G* runqget(P* pp, bool* inherit) {
  bool skip = false;
  if constexpr (policy::kLifoCap > 0) {
    skip = pp->lifo_runs >= policy::kLifoCap;
  }
#if GMP_FUZZ_ENABLED
  if (GMP_FUZZ_HOOK(skip_runnext)) skip = true;
#endif
  bool from_next = false;
  G* gp = pp->runq.Get(skip, &from_next);
  if (gp == nullptr && skip) gp = pp->runq.Get(false, &from_next);
  if (gp == nullptr) return nullptr;
  if (from_next) {
    ++pp->lifo_runs;
  } else {
    pp->lifo_runs = 0;
  }
  *inherit = from_next;
  return gp;
}
}  // namespace gmp::internal
