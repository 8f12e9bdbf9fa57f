// runtime/stack.h — goroutine stacks: guarded or compact, from a pool.
//
// Every goroutine runs on a stack of its own. Two kinds, chosen per variant:
//
//   kGuarded  (default 64 KiB) sits above a PROT_NONE-like guard region, so
//             running off its end faults; the SIGSEGV handler (signal_stack.h)
//             turns the fault into "fatal error: stack overflow". Stacks are
//             carved from big slabs whose guards are installed with
//             madvise(MADV_GUARD_INSTALL) (Linux >= 6.13): the slab stays one
//             mapping, so a million guarded stacks do not hit
//             vm.max_map_count (65530 by default). On older kernels each
//             stack is its own mmap plus an mprotect'ed guard (two mappings),
//             which caps live guarded stacks near 32k; reaching that limit
//             is one clear fatal error naming it.
//   kCompact  (default 4 KiB: one page) is carved from big slabs with no
//             guard at all, for very many goroutines. Its lowest word holds
//             a canary that the scheduler checks (CheckStackCanary) each time
//             it switches a goroutine out; a breach is "fatal error: stack
//             overflow (canary ...)". Stacks are page-aligned, so a default
//             compact stack is one page: its canary shares the page with the
//             frames, and a parked goroutine costs one page, not two.
//
// What overflow detection catches and misses:
//   * guarded: any access up to kStackGuardSize (16 KiB) below the stack
//     faults at once and is reported ("guard page hit"); a frame larger
//     than the guard can jump over it into the stack below, undetected.
//   * compact: an overflow is seen only when the goroutine is switched out
//     (parks, yields, exits) with its canary word changed. Until then it
//     has already written into the stack carved below it (another
//     goroutine's frames, possibly running on another thread). An overflow
//     that skips the canary word (a big uninitialised array), restores it,
//     or ends in a crash before the next switch is not caught. Deep
//     recursion, the usual case, writes return addresses through it and is
//     caught. A goroutine that needs more than a few KiB of stack (deep
//     recursion, big locals, printf-heavy code) needs guarded stacks or
//     Options.stack_size.
//   * a shared library's first call of a lazily bound symbol runs the
//     dynamic linker's resolver on the caller's stack, and the resolver
//     saves the whole XSAVE area there: about 3 KiB with AVX-512, most of a
//     one-page compact stack. Variants link their programs with -z now, and
//     gmplab's benchmark binaries run with LD_BIND_NOW=1 so that libraries
//     bind at load too; a program of yours that calls into shared libraries
//     from goroutines on compact stacks should do the same.
//
// Slabs are prepared StackPool::kGuardBatch stacks at a time, just ahead of
// carving: guarded ones get their guards (one process_madvise call, when the
// kernel supports it for the calling process; else one madvise per stack)
// and their top page prefaulted (one process_madvise(MADV_POPULATE_WRITE)
// over the batch's top pages, where the kernel allows it); one-page compact
// ones are prefaulted whole (MADV_POPULATE_WRITE over the batch). Every new
// goroutine writes its first frame at the top of its stack, so each of those
// pages gets touched anyway, and one call is cheaper than 64 faults.
//
// A StackPool hands out stacks of one kind and size. Released stacks go on a
// free list and are handed out again, most recently released first (their
// pages are resident and likely cache-warm). The runtime uses one pool per
// (kind, size) for the whole process (StackPool::Shared): it outlives each
// gmp::Run, so a later Run reuses the stacks an earlier one populated.
// Allocation failure is a fatal error with a message, never a crash.
//
// Memory going back to the OS. Free stacks beyond a bound have their pages
// returned with madvise(MADV_DONTNEED) (guards stay: a guard marker survives
// MADV_DONTNEED, and only the usable bytes are advised anyway; a page that a
// compact stack shares with a neighbour is kept); the address
// range stays in the pool, on a second free list, and is prefaulted again
// (in batches, like fresh ones) when handed out. The bound: keep resident
// max(StackPool::kKeepMin, recent peak - live) free stacks, where the recent
// peak is the most stacks live at once in the current or the previous
// window (StackPool::kDefaultWindow, 1 s): a program that parks 100k
// goroutines again and again reuses their stacks without faults, and one
// that stops doing so gets its memory back within two windows. The bound is
// applied when a release takes the resident free stacks kGuardBatch past it
// (then they are trimmed to it), every kCheckEvery acquires and releases
// (a window may have ended). When a gmp::Run ends, its pool's free stacks
// stay resident for one more window, so that a Run that follows soon reuses
// them; then the stack scavenger (stack_scavenger.h), a service thread,
// trims the pool to its floor and forgets the peak (TrimToFloor): about a
// window after the last Run, RSS is the floor, kKeepMin stacks, whatever the
// Run used.
// Why MADV_DONTNEED and not MADV_FREE: MADV_FREE pages stay resident (and
// counted in RSS) until the kernel is short of memory, so neither a user nor
// a benchmark reading /proc/self/statm would see the memory go back; and a
// freed page that was not yet reclaimed cannot be told apart cheaply from one
// that was. MADV_DONTNEED drops the pages at once; the next use of the stack
// faults in zero pages (or is prefaulted in a batch), which is what any fresh
// stack costs.
//
// What a pool costs when idle: the free stacks it keeps resident (at most
// max(kKeepMin, recent peak) pages of each stack's touched depth) plus its
// address space (slabs are never unmapped while the process lives, for the
// shared pools; MAP_NORESERVE, so unused address space costs nothing).
//
// Variant defaults: the variant's policy::Stacks (GuardedStacks |
// CompactStacks) and policy::kStackSize (bytes, 0 = the kind's default), from
// runtime/policy/stacks.h, pick kDefaultStackKind and DefaultStackSize().
#ifndef GMPLAB_RUNTIME_STACK_H_
#define GMPLAB_RUNTIME_STACK_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include "runtime/policy/stacks.h"
#include "runtime/sanitizer.h"
#include "runtime/signal_stack.h"

namespace gmp::internal {

enum class StackKind { kGuarded, kCompact };

// Default sizes (usable bytes, guard not included).
inline constexpr size_t kGuardedStackSize = 64 * 1024;
// kCompactStackSize is one page: a goroutine parked in Chan::Recv (Chan,
// gopark, mcall, the switch frame) has used 832 bytes of it in the -O1 test
// build (proc_test checks it stays under half), and the deepest goroutine of
// the test suite about 3.5 KiB (bench_smoke_test), which is close: code with
// deeper stacks needs guarded stacks or Options.stack_size.
// Sanitizers grow every frame (ASan's redzones, TSan's shadow calls), so a
// sanitized build gets 32 KiB; the guarded size already has room.
inline constexpr size_t kCompactStackSize =
    GMP_HAVE_ASAN || GMP_HAVE_TSAN ? 32 * 1024 : 4 * 1024;
// kStackGuardSize is the guard region under every guarded stack. A bigger
// guard costs only address space and catches frames larger than a page.
inline constexpr size_t kStackGuardSize = 16 * 1024;
// kMinStackSize is the smallest stack a pool accepts.
inline constexpr size_t kMinStackSize = 4 * 1024;

// kDefaultStackKind is the variant's stack kind (policy::Stacks).
inline constexpr StackKind kDefaultStackKind =
    policy::Stacks::kGuarded ? StackKind::kGuarded : StackKind::kCompact;

// StackSizeFor returns the default stack size of `kind`.
constexpr size_t StackSizeFor(StackKind kind) {
  return kind == StackKind::kGuarded ? kGuardedStackSize : kCompactStackSize;
}

// DefaultStackSize is the variant's stack size: policy::kStackSize when it
// is non-zero, else the default of kDefaultStackKind.
constexpr size_t DefaultStackSize() {
  if (policy::kStackSize > 0) return policy::kStackSize;
  return StackSizeFor(kDefaultStackKind);
}

// Stack is one goroutine stack: the usable bytes [lo, lo + size), 16-byte
// aligned, to pass to MakeContext as they are. For kCompact the lowest 8
// bytes are the canary. (Compact stacks of a page-multiple size are
// page-aligned.)
struct Stack {
  void* lo = nullptr;
  size_t size = 0;
  StackKind kind = StackKind::kGuarded;

  void* hi() const { return static_cast<char*>(lo) + size; }
  explicit operator bool() const { return lo != nullptr; }
};

// StackCanaryValue is the canary a compact stack at `lo` carries.
inline uint64_t StackCanaryValue(const void* lo) {
  return 0x9e3779b97f4a7c15ULL ^ reinterpret_cast<uintptr_t>(lo);
}

// StackCanaryIntact reports whether `s` (any kind) has no canary breach.
inline bool StackCanaryIntact(const Stack& s) {
  return s.kind != StackKind::kCompact ||
         *static_cast<const volatile uint64_t*>(s.lo) == StackCanaryValue(s.lo);
}

// StackCanaryBreach reports a broken canary on `s` as a fatal error.
[[noreturn]] void StackCanaryBreach(const Stack& s);

// CheckStackCanary is a fatal "stack overflow (canary ...)" error when the
// canary of compact stack `s` was overwritten; nothing for guarded stacks.
// Called by the scheduler when it switches a goroutine out of `s`, by any
// thread that owns `s` at that moment.
inline void CheckStackCanary(const Stack& s) {
  if (!StackCanaryIntact(s)) StackCanaryBreach(s);
}

// StackPool hands out stacks of one kind and size. Thread-safe: any thread
// may Acquire and Release. Stacks come from slabs that live as long as the
// pool; a released stack goes on a free list and is handed out again; free
// stacks beyond the bound (see the file comment) go back to the OS.
class StackPool {
 public:
  // StackPool::Shared returns the process-wide pool of `kind` stacks of
  // `size` bytes (rounded as the constructor does), creating it on first
  // use. It is never destroyed, so stacks and their pages outlive each
  // gmp::Run. Any thread.
  static StackPool* Shared(StackKind kind, size_t size);

  // kKeepMin is how many free stacks a pool always keeps resident (32 MiB
  // at one touched page per stack).
  static constexpr size_t kKeepMin = 8192;
  // kDefaultWindow is the length, in nanoseconds, of the windows over which
  // the recent peak of live stacks is taken (see the file comment).
  static constexpr int64_t kDefaultWindow = 1'000'000'000;
  // kCheckEvery: an expired window is noticed within this many acquires and
  // releases.
  static constexpr uint32_t kCheckEvery = 256;
  // GuardMethod says how guarded stacks get their guard. kAuto uses
  // MADV_GUARD_INSTALL when the kernel has it, else mprotect.
  enum class GuardMethod { kAuto, kMadvise, kMprotect };
  // kGuardBatch is how many stacks of a slab are prepared at once ahead of
  // carving: guards installed (guarded, kMadvise) or pages prefaulted
  // (one-page compact stacks: up to 252 KiB ahead of use).
  static constexpr size_t kGuardBatch = 64;

  // The pool rounds `size` up (a page multiple for guarded stacks, 64 bytes
  // for compact ones); a size under kMinStackSize is a fatal error.
  StackPool(StackKind kind, size_t size,
            GuardMethod guard = GuardMethod::kAuto);
  // The pool's memory is unmapped, unless stacks are still live: then it is
  // left mapped (leaked) rather than pulled from under a running goroutine.
  ~StackPool();
  StackPool(const StackPool&) = delete;
  StackPool& operator=(const StackPool&) = delete;

  // Acquire returns a stack (from the free list, else a fresh one). Running
  // out of memory or of mappings is a fatal error that says which.
  Stack Acquire();
  // Release gives back a stack this pool handed out. A compact stack's canary
  // is checked first; a stack of another kind or size is a fatal error.
  void Release(Stack s);

  // TrimToFloor returns the pages of every free stack beyond the floor
  // (kKeepMin unless set_keep_min changed it, or `keep`) to the OS and forgets
  // the recent peak. gmp::Run calls it when it ends.
  void TrimToFloor();
  void TrimToFloor(size_t keep);
  // set_window sets the window of the recent peak (nanoseconds, > 0), and
  // set_keep_min the floor (kKeepMin by default); tests shrink them.
  void set_window(int64_t ns);

  // MarkIdle says that the Run using this pool has ended: its free stacks
  // stay resident for one window from now. TrimIfIdle, after that, trims
  // the pool to its floor (as TrimToFloor) once the window has passed with
  // no Acquire since MarkIdle, and returns -1; it returns -1 without
  // trimming when a Run has acquired from the pool since (its own bound
  // applies again), and otherwise the nanoseconds left in the window. The
  // stack scavenger (stack_scavenger.h) calls them.
  void MarkIdle();
  int64_t TrimIfIdle();
  void set_keep_min(size_t n);

  // live is the number of stacks acquired and not yet released.
  size_t live() const { return live_.load(std::memory_order_relaxed); }
  // cached is the number of stacks on the free lists, resident or not.
  size_t cached() const;
  // resident_cached is the number of free stacks whose pages are kept.
  size_t resident_cached() const;

  // Counters since the pool was made (each stack handed out counts once in
  // exactly one of the first three).
  struct Counts {
    int64_t fresh = 0;     // carved from new address space
    int64_t reused = 0;    // handed out again with their pages resident
    int64_t refilled = 0;  // handed out again after their pages went back
    int64_t returned = 0;  // free stacks whose pages went back to the OS
  };
  Counts counts() const;
  // mappings is the number of memory mappings the pool made.
  size_t mappings() const;
  StackKind kind() const { return kind_; }
  size_t stack_size() const { return size_; }
  // guard_method is kMadvise or kMprotect for guarded pools, kAuto for
  // compact ones (which have no guard).
  GuardMethod guard_method() const { return guard_method_; }

 private:
  struct Slab {
    char* base;     // the mapping
    size_t bytes;   // its length
    size_t record;  // its index in the guard-hit registry (guarded only)
  };

  void* CarveLocked();
  void NewSlabLocked();
  void PrepareLocked();  // guards or pages for the next kGuardBatch strides
  void* MapOneLocked();  // mprotect mode: one mapping per stack
  void* RefillLocked();  // a batch of cold stacks made resident; returns one
  // PrefaultTops prefaults the top page of `n` stacks (all of a one-page
  // stack). Advisory.
  void PrefaultTops(void* const* los, size_t n) const;
  // KeepLocked is how many free stacks stay resident now.
  size_t KeepLocked(int64_t now_ns);
  // TrimLocked moves the oldest resident free stacks beyond `keep` to cold_,
  // returning their pages; drops mu_ during the madvise calls.
  void TrimLocked(std::unique_lock<std::mutex>& lock, size_t keep);
  // NoteUseLocked counts one acquire or release and checks the bound (and
  // trims to it) when a release takes the resident free stacks a batch past
  // it, or every kCheckEvery calls (a window may have ended).
  void NoteUseLocked(std::unique_lock<std::mutex>& lock, bool release);
  [[noreturn]] void OutOfMemory(const char* what, int err);

  const StackKind kind_;
  const size_t size_;         // usable bytes per stack
  const size_t guard_bytes_;  // guard below each guarded stack (0: compact)
  const size_t stride_;       // guard_bytes_ + size_
  GuardMethod guard_method_;  // resolved: never kAuto for guarded pools

  mutable std::mutex mu_;
  std::vector<void*> free_;  // released stacks' lo, pages resident, most
                             // recently released last (guarded by mu_)
  std::vector<void*> cold_;  // released stacks whose pages went back (mu_)
  std::vector<Slab> slabs_;  // every mapping (guarded by mu_)
  char* carve_ = nullptr;    // next unused stride in the newest slab (mu_)
  char* carve_end_ = nullptr;
  char* prepared_end_ = nullptr;  // strides up to here are prepared (mu_)
  std::atomic<size_t> live_{0};
  // The recent peak (mu_): the most stacks live at once in the window that
  // began at window_start_ns_ (peak_) and in the one before (prev_peak_).
  size_t peak_ = 0;
  size_t prev_peak_ = 0;
  int64_t window_start_ns_ = 0;
  int64_t window_ns_ = kDefaultWindow;
  size_t keep_min_ = kKeepMin;  // the floor (mu_)
  size_t keep_ = kKeepMin;      // the bound as last computed (mu_)
  uint32_t uses_ = 0;      // acquires + releases since the last check (mu_)
  uint64_t acquires_ = 0;  // every Acquire (mu_)
  // MarkIdle's record (mu_): pending until TrimIfIdle settles it.
  bool idle_pending_ = false;
  uint64_t idle_acquires_ = 0;  // acquires_ at MarkIdle
  int64_t idle_deadline_ns_ = 0;
  Counts counts_;  // (mu_)
};

// MadvGuardInstallSupported reports whether this kernel has
// MADV_GUARD_INSTALL (probed once).
bool MadvGuardInstallSupported();

// StackGuardHit describes the guarded stack whose guard contains an address.
struct StackGuardHit {
  uintptr_t stack_lo = 0;  // the overflowed stack's usable bytes
  size_t stack_size = 0;
  size_t guard_size = 0;
};

// FindStackGuardHit reports whether `addr` lies in the guard of a guarded
// stack of a live pool, and which. Async-signal-safe: the SIGSEGV handler
// calls it.
bool FindStackGuardHit(uintptr_t addr, StackGuardHit* hit);

}  // namespace gmp::internal

#endif  // GMPLAB_RUNTIME_STACK_H_
