// runtime/stack_scavenger.cc — the stack scavenger thread (see
// stack_scavenger.h).
#include "runtime/stack_scavenger.h"

#include <algorithm>
#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "runtime/lock.h"
#include "runtime/note.h"
#include "runtime/stack.h"
#include "runtime/thread_pool.h"

namespace gmp::internal {
namespace {

// A Run uses one pool (its variant's kind and size, or Options.stack_size),
// so a handful of slots covers every program that varies the size; a pool
// beyond them is trimmed at once, as if its window had passed.
constexpr int kMaxIdlePools = 8;

Lock scavenger_lock;
StackPool* idle_pools[kMaxIdlePools] ABSL_GUARDED_BY(scavenger_lock) = {};
bool scavenger_quit ABSL_GUARDED_BY(scavenger_lock) = false;  // process exit
Note scavenger_note;  // RunEnded and quit -> the thread

// ScavengerMain is the scavenger's life: until process exit, it trims each
// handed-over pool whose window has passed and sleeps until the next one's.
void ScavengerMain() {
  for (;;) {
    // Clear before looking: a Wakeup after this is not lost.
    scavenger_note.Clear();
    int64_t wait = -1;  // nothing pending: sleep until woken
    {
      LockGuard l(scavenger_lock);
      if (scavenger_quit) return;
      for (StackPool*& pool : idle_pools) {
        if (pool == nullptr) continue;
        const int64_t left = pool->TrimIfIdle();
        if (left < 0) {
          pool = nullptr;  // trimmed, or in use again
        } else {
          wait = wait < 0 ? left : std::min(wait, left);
        }
      }
    }
    if (wait < 0) {
      scavenger_note.Sleep();
    } else if (wait > 0) {
      scavenger_note.SleepFor(wait);
    }
  }
}

void ScavengerQuit() {
  {
    LockGuard l(scavenger_lock);
    scavenger_quit = true;
  }
  scavenger_note.Wakeup();
}

constinit ServiceThread scavenger_thread("stack scavenger", &ScavengerMain,
                                         &ScavengerQuit);

}  // namespace

void StackScavengerStart() { scavenger_thread.Start(); }

void StackScavengerRunEnded(StackPool* pool) {
  pool->MarkIdle();
  bool queued = false;
  {
    LockGuard l(scavenger_lock);
    StackPool** free_slot = nullptr;
    for (StackPool*& slot : idle_pools) {
      if (slot == pool) {
        queued = true;
        break;
      }
      if (slot == nullptr && free_slot == nullptr) free_slot = &slot;
    }
    if (!queued && free_slot != nullptr) {
      *free_slot = pool;
      queued = true;
    }
  }
  if (!queued) {
    pool->TrimToFloor();
    return;
  }
  scavenger_note.Wakeup();
}

}  // namespace gmp::internal
