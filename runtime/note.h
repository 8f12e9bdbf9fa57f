// runtime/note.h — Note, a one-shot sleep/wakeup event for an M.
//
// Go's note: an M sleeps on its note when it has nothing to do (stopm,
// stoplockedm) and whoever hands it work calls Wakeup. It is a futex on an
// atomic word: TSan sees the hand-over through the word's release (Wakeup) and
// acquire (Sleep) even though it cannot see the futex itself.
//
// Protocol: the sleeper owns the note. It calls Clear before publishing that
// it may be woken (e.g. before putting itself on an idle list), then Sleep.
// Exactly the wakers that found it there call Wakeup; extra Wakeups are
// harmless (the word just stays set).
#ifndef GMPLAB_RUNTIME_NOTE_H_
#define GMPLAB_RUNTIME_NOTE_H_

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>

namespace gmp::internal {

class Note {
 public:
  // Clear re-arms the note. Sleeper only, when nobody can be waking it.
  void Clear() { key_.store(0, std::memory_order_relaxed); }

  // Wakeup sets the note and wakes its sleeper. Any thread.
  void Wakeup() {
    if (key_.exchange(1, std::memory_order_release) == 0) {
      syscall(SYS_futex, reinterpret_cast<uint32_t*>(&key_),
              FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
    }
  }

  // Sleep blocks until Wakeup has been called since the last Clear. Sleeper.
  void Sleep() {
    while (key_.load(std::memory_order_acquire) == 0) {
      syscall(SYS_futex, reinterpret_cast<uint32_t*>(&key_),
              FUTEX_WAIT_PRIVATE, 0, nullptr, nullptr, 0);
    }
  }

  // SleepFor is Sleep with a timeout of `ns` nanoseconds; returns whether
  // the note was woken. Sleeper.
  bool SleepFor(int64_t ns) {
    // order: acquire is redundant: every caller gets its data through another
    // edge (nextp, sched.lock, trace_lock). Kept: it is Note's hand-over
    // contract.
    if (key_.load(std::memory_order_acquire) != 0) return true;
    if (ns <= 0) return false;
    timespec ts;
    ts.tv_sec = ns / 1000000000;
    ts.tv_nsec = ns % 1000000000;
    syscall(SYS_futex, reinterpret_cast<uint32_t*>(&key_), FUTEX_WAIT_PRIVATE,
            0, &ts, nullptr, 0);
    // order: acquire is redundant, as above (the re-check after the futex
    // wait). Kept: it is Note's hand-over contract.
    return key_.load(std::memory_order_acquire) != 0;
  }

  // Woken reports whether Wakeup was called since the last Clear.
  // order: acquire is redundant: it publishes nothing, and only the goroutine
  // dump reads it. Kept (diagnostic only).
  bool Woken() const { return key_.load(std::memory_order_acquire) != 0; }

 private:
  std::atomic<uint32_t> key_{0};
};

}  // namespace gmp::internal

#endif  // GMPLAB_RUNTIME_NOTE_H_
