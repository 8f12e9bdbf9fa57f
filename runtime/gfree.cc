// runtime/gfree.cc — G allocation: the free-G lists, stacks bound at first
// run, goroutine ids, and newproc1, which makes a runnable G for gmp::Go and
// Run's main.
#include <atomic>
#include <cstdint>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "runtime/lock.h"
#include "runtime/sched.h"
#include "runtime/stack.h"

namespace gmp::internal {
namespace {

constexpr int32_t kGfreeLocalMax = 64;  // gfput moves half beyond this
constexpr int32_t kGfreeBatch = 32;     // moves between P and global
// Global dead Gs that keep their stacks. Beyond this many, gfput gives the
// stacks back to the pool, which keeps them resident as long as recent use
// calls for it and returns the rest to the OS (stack.h); a stack held by a
// dead G would be out of its reach.
constexpr int32_t kGfreeStackMax = 256;
constexpr int64_t kGoidBatch = 16;  // goroutine ids cached per P

}  // namespace

// Stacks are bound lazily (see g.h): a G gets its stack when it first runs,
// preferably the one the last G that died on this P left behind. So a G in
// a run queue usually holds no stack, and a P that runs one short goroutine
// after another keeps running them on the same, cache-hot stack.
//
// The free lists hold G structs, some of them with stacks: pp->gfree keeps
// the most recently freed G (the one whose stack execute takes next) at its
// head; sched.gfree_stack holds dead Gs that kept a stack, sched.gfree_nostack
// those that gave it away (to execute) or never had one (never ran).

// gfput puts the dead gp (with its stack, if any) on pp's free list, moving a
// batch to the global lists when the local one is long; the head, whose stack
// execute reuses next, stays. Owner of pp.
void gfput(P* pp, G* gp) {
  gp->schedlink = pp->gfree;
  pp->gfree = gp;
  if (++pp->gfree_count < kGfreeLocalMax) return;
  G* keep = pp->gfree;
  pp->gfree = keep->schedlink;
  LockGuard l(sched->gflock);
  while (pp->gfree_count > kGfreeLocalMax - kGfreeBatch) {
    G* g1 = pp->gfree;
    pp->gfree = g1->schedlink;
    --pp->gfree_count;
    if (g1->stack_lo != nullptr && sched->ngfree_stack >= kGfreeStackMax) {
      sched->stacks->Release(StackOf(g1));
      g1->stack_lo = nullptr;
      g1->stack_size = 0;
    }
    if (g1->stack_lo != nullptr) {
      g1->schedlink = sched->gfree_stack;
      sched->gfree_stack = g1;
      ++sched->ngfree_stack;
    } else {
      g1->schedlink = sched->gfree_nostack;
      sched->gfree_nostack = g1;
      ++sched->ngfree_nostack;
    }
  }
  keep->schedlink = pp->gfree;
  pp->gfree = keep;
}

// malg allocates a new G, without a stack, and registers it in allgs.
static G* malg() {
  auto* rec = new GRecord;
  G* gp = &rec->g;
  gp->ctx = &rec->ctx;
  LockGuard l(sched->allglock);
  sched->allgs.push_back(rec);
  return gp;
}

// gfget returns a free G (refilling pp's list from the global ones), or a
// new one. A stack on pp's list stays there (for execute, see bindstack):
// when the G taken has one, it moves to the next free G if that has none,
// and the last free G with a stack is not handed out (a new G is made
// instead); so a G gfget returns carries a stack only when pp's list holds
// more than one. Owner of pp, or pp null (global lists only; the G may then
// carry a stack).
static G* gfget(P* pp) {
  if (pp == nullptr || pp->gfree == nullptr ||
      (pp->gfree->schedlink == nullptr && pp->gfree->stack_lo != nullptr)) {
    G* const last = pp != nullptr ? pp->gfree : nullptr;
    G* got = nullptr;
    {
      LockGuard l(sched->gflock);
      int32_t want = pp == nullptr ? 1 : kGfreeBatch;
      for (int32_t i = 0; i < want; ++i) {
        G* g1 = nullptr;
        if (pp == nullptr && sched->gfree_nostack != nullptr) {
          g1 = sched->gfree_nostack;  // a lone G need not carry a stack
          sched->gfree_nostack = g1->schedlink;
          --sched->ngfree_nostack;
        } else if (sched->gfree_stack != nullptr) {
          g1 = sched->gfree_stack;
          sched->gfree_stack = g1->schedlink;
          --sched->ngfree_stack;
        } else if (sched->gfree_nostack != nullptr) {
          g1 = sched->gfree_nostack;
          sched->gfree_nostack = g1->schedlink;
          --sched->ngfree_nostack;
        } else {
          break;
        }
        if (pp == nullptr) {
          got = g1;
        } else {
          g1->schedlink = pp->gfree;
          pp->gfree = g1;
          ++pp->gfree_count;
        }
      }
    }
    if (pp == nullptr) return got != nullptr ? got : malg();
    if (pp->gfree == nullptr || pp->gfree == last) return malg();
    G* head = pp->gfree;
    if (last != nullptr && head->stack_lo == nullptr) {
      // last (now the tail) holds the stack execute should take next.
      head->stack_lo = last->stack_lo;
      head->stack_size = last->stack_size;
      last->stack_lo = nullptr;
      last->stack_size = 0;
    }
  }
  G* gp = pp->gfree;
  G* next = gp->schedlink;
  pp->gfree = next;
  --pp->gfree_count;
  if (gp->stack_lo != nullptr && next != nullptr && next->stack_lo == nullptr) {
    next->stack_lo = gp->stack_lo;
    next->stack_size = gp->stack_size;
    gp->stack_lo = nullptr;
    gp->stack_size = 0;
  }
  return gp;
}

// bindstack gives the fresh gp a stack, unless it has one: the stack of the
// head of pp's free list (the G that died last on pp) when it has one, else
// a new one from the pool. pp's holder, on g0.
void bindstack(P* pp, G* gp) {
  if (gp->stack_lo != nullptr) return;
  G* donor = pp->gfree;
  if (donor != nullptr && donor->stack_lo != nullptr) {
    gp->stack_lo = donor->stack_lo;
    gp->stack_size = donor->stack_size;
    donor->stack_lo = nullptr;
    donor->stack_size = 0;
    return;
  }
  Stack st = sched->stacks->Acquire();
  gp->stack_lo = st.lo;
  gp->stack_size = st.size;
}

static int64_t NewGoid(P* pp) {
  if (pp == nullptr) {
    return sched->goidgen.fetch_add(1, std::memory_order_relaxed) + 1;
  }
  if (pp->goid_next == pp->goid_end) {
    pp->goid_next =
        sched->goidgen.fetch_add(kGoidBatch, std::memory_order_relaxed) + 1;
    pp->goid_end = pp->goid_next + kGoidBatch;
  }
  return pp->goid_next++;
}

// newproc1 makes a runnable G that will run fn. It gets its stack and
// context when it first runs (execute). pp may be null.
G* newproc1(P* pp, absl::AnyInvocable<void() &&> fn) {
  G* gp = gfget(pp);
  gp->fn = std::move(fn);
  gp->goid = NewGoid(pp);
  gp->waitreason.store(WaitReason::kNone, std::memory_order_relaxed);
  gp->param = nullptr;
  gp->schedlink = nullptr;
  gp->lockedm.store(nullptr, std::memory_order_relaxed);
  gp->lockcount = 0;
  gp->preempt.store(false, std::memory_order_relaxed);
  gp->fresh = true;
  // order: release needed on weakly ordered CPUs: pairs with PrintGoroutines'
  // acquire, so a dump reads this life's goid. The dump reads goid through
  // Racy, so TSan cannot see it.
  gp->status.store(GStatus::kRunnable, std::memory_order_release);
  return gp;
}

}  // namespace gmp::internal
