// runtime/stack.cc — StackPool: slabs, guards, canaries, the free list.
//
// Layout of a guarded slab (madvise mode), one mapping:
//
//   base                                                       base+bytes
//   | guard | stack 0 | guard | stack 1 | ... | guard | stack n-1 |
//
// guards installed with MADV_GUARD_INSTALL kGuardBatch at a time, just
// ahead of carving (one-page compact stacks are prefaulted likewise): one
// process_madvise(PIDFD_SELF, iovec[kGuardBatch]) call, or where the kernel
// refuses that (before Linux 6.13/6.14), one madvise per guard. In mprotect
// mode every stack is its own mapping [guard | stack] with the guard
// mprotect'ed to PROT_NONE (which splits it into two VMAs). A compact slab is
// the stacks back to back, no guards; each stack's lowest word is its canary.
//
// Every guarded mapping is also entered in a fixed registry that the SIGSEGV
// handler searches (FindStackGuardHit) without locks or allocation.
#include "runtime/stack.h"

#include <errno.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <memory>

#include "runtime/fatal.h"
#include "runtime/sanitizer.h"

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#ifndef MADV_DONTNEED
#define MADV_DONTNEED 4
#endif
#ifndef SYS_process_madvise
#define SYS_process_madvise 440
#endif

namespace gmp::internal {
namespace {

constexpr size_t kPageSize = 4096;
// PIDFD_SELF_THREAD (Linux >= 6.14): the calling thread's process, with no
// file descriptor to open, cache or inherit across fork.
constexpr int kPidfdSelf = -10000;
// kSlabBytes is the target size of one slab mapping: 64 MiB is 819 guarded
// 64 KiB stacks (with their 16 KiB guards) or 16384 compact 4 KiB ones, so a
// million stacks take about 1,220 (guarded) or 62 (compact) mappings.
constexpr size_t kSlabBytes = size_t{64} << 20;

size_t RoundUp(size_t n, size_t to) { return (n + to - 1) / to * to; }

// --- The guard registry, read by the signal handler. -----------------------

// GuardRecord describes one guarded mapping: stacks of `stride` bytes from
// `base` to `end`, each starting with `guard` bytes of guard. Published by
// storing `base` last (release); a reader that sees base != 0 (acquire) sees
// the rest.
struct GuardRecord {
  std::atomic<uintptr_t> base{0};
  std::atomic<uintptr_t> end{0};
  std::atomic<size_t> stride{0};
  std::atomic<size_t> guard{0};
};

// Enough for every mapping the kernel allows (vm.max_map_count 65530 by
// default); 2 MiB of zero pages until used.
constexpr size_t kMaxGuardRecords = size_t{1} << 16;
GuardRecord g_records[kMaxGuardRecords];
std::atomic<size_t> g_records_used{0};  // high-water mark of g_records
std::mutex g_records_mu;                // serialises AddRecord/RemoveRecord
std::vector<size_t>* g_records_free = nullptr;  // free slots (g_records_mu)

// AddRecord registers a guarded mapping; returns its slot.
size_t AddRecord(uintptr_t base, uintptr_t end, size_t stride, size_t guard) {
  std::lock_guard<std::mutex> lock(g_records_mu);
  size_t slot;
  if (g_records_free != nullptr && !g_records_free->empty()) {
    slot = g_records_free->back();
    g_records_free->pop_back();
  } else {
    slot = g_records_used.load(std::memory_order_relaxed);
    if (slot == kMaxGuardRecords) {
      Throw("stack guard registry full (65536 guarded mappings)");
    }
    // order: release is redundant: stored before the slot's fields, it
    // publishes nothing; each record publishes itself through base. Kept
    // defensively.
    g_records_used.store(slot + 1, std::memory_order_release);
  }
  GuardRecord& r = g_records[slot];
  r.end.store(end, std::memory_order_relaxed);
  r.stride.store(stride, std::memory_order_relaxed);
  r.guard.store(guard, std::memory_order_relaxed);
  // order: release needed on weakly ordered CPUs: publishes end, stride and
  // guard to the SIGSEGV handler. They are atomics, so TSan cannot see it.
  r.base.store(base,
               std::memory_order_release);  // pairs with FindStackGuardHit
  return slot;
}

void RemoveRecord(size_t slot) {
  std::lock_guard<std::mutex> lock(g_records_mu);
  // order: release is redundant: storing 0 publishes nothing; a reader that
  // sees 0 skips the slot. Kept defensively.
  g_records[slot].base.store(0, std::memory_order_release);
  if (g_records_free == nullptr) g_records_free = new std::vector<size_t>;
  g_records_free->push_back(slot);
}

// ReadMaxMapCount returns vm.max_map_count, or -1 if unreadable.
long ReadMaxMapCount() {
  FILE* f = std::fopen("/proc/sys/vm/max_map_count", "r");
  if (f == nullptr) return -1;
  long n = -1;
  if (std::fscanf(f, "%ld", &n) != 1) n = -1;
  std::fclose(f);
  return n;
}

// CountMappings returns the number of mappings of this process, or -1.
long CountMappings() {
  FILE* f = std::fopen("/proc/self/maps", "r");
  if (f == nullptr) return -1;
  long n = 0;
  for (int c; (c = std::fgetc(f)) != EOF;) n += c == '\n';
  std::fclose(f);
  return n;
}

// g_batch_guards: 1 while process_madvise(PIDFD_SELF, MADV_GUARD_INSTALL)
// works, 0 once the kernel refused it (then every guard is one madvise).
std::atomic<int> g_batch_guards{1};

// InstallGuards puts MADV_GUARD_INSTALL on `n` (at most
// StackPool::kGuardBatch) guards of `guard` bytes, `stride` apart, from
// `first`. Returns 0 or an errno.
int InstallGuards(char* first, size_t n, size_t stride, size_t guard) {
  if (g_batch_guards.load(std::memory_order_relaxed) != 0) {
    iovec iov[StackPool::kGuardBatch];
    for (size_t i = 0; i < n; ++i) {
      iov[i].iov_base = first + i * stride;
      iov[i].iov_len = guard;
    }
    const long r =
        syscall(SYS_process_madvise, kPidfdSelf, iov, n, MADV_GUARD_INSTALL, 0);
    if (r == static_cast<long>(n * guard)) return 0;
    if (r >= 0 || (errno != EBADF && errno != EINVAL && errno != ENOSYS &&
                   errno != EPERM)) {
      return r >= 0 ? EAGAIN : errno;
    }
    g_batch_guards.store(0, std::memory_order_relaxed);  // old kernel
  }
  for (size_t i = 0; i < n; ++i) {
    if (madvise(first + i * stride, guard, MADV_GUARD_INSTALL) != 0) {
      return errno;
    }
  }
  return 0;
}

// g_batch_populate / g_batch_dontneed: 1 while process_madvise(PIDFD_SELF)
// accepts MADV_POPULATE_WRITE / MADV_DONTNEED, 0 once the kernel refused.
std::atomic<int> g_batch_populate{1};
std::atomic<int> g_batch_dontneed{1};

// kMaxIov is the most ranges one process_madvise call gets here.
constexpr size_t kMaxIov = 256;

// BatchMadvise applies `advice` to the `n` (<= kMaxIov) ranges in one
// process_madvise call. Returns false, having done nothing, when the kernel
// refuses the call (then `*flag` becomes 0 and later calls return false at
// once); a partial success is finished range by range with madvise.
bool BatchMadvise(const iovec* iov, size_t n, int advice,
                  std::atomic<int>* flag) {
  if (n == 0) return true;
  if (flag->load(std::memory_order_relaxed) == 0) return false;
  size_t total = 0;
  for (size_t i = 0; i < n; ++i) total += iov[i].iov_len;
  const long r = syscall(SYS_process_madvise, kPidfdSelf, iov, n, advice, 0);
  if (r == static_cast<long>(total)) return true;
  if (r < 0 && (errno == EBADF || errno == EINVAL || errno == ENOSYS ||
                errno == EPERM)) {
    flag->store(0, std::memory_order_relaxed);
    return false;
  }
  // Part done (or a transient error): finish one range at a time.
  for (size_t i = 0; i < n; ++i) {
    madvise(iov[i].iov_base, iov[i].iov_len, advice);
  }
  return true;
}

// MonotonicNs is CLOCK_MONOTONIC in nanoseconds.
int64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

bool FindStackGuardHit(uintptr_t addr, StackGuardHit* hit) {
  // order: acquire is redundant: each slot's base acquire orders what is read,
  // and an unfilled slot reads base 0. Kept defensively.
  const size_t used = g_records_used.load(std::memory_order_acquire);
  for (size_t i = 0; i < used; ++i) {
    const GuardRecord& r = g_records[i];
    // order: acquire needed on weakly ordered CPUs: pairs with AddRecord's base
    // release, so end, stride and guard are the record's. Atomics only, so TSan
    // cannot see it.
    const uintptr_t base = r.base.load(std::memory_order_acquire);
    if (base == 0 || addr < base) continue;
    if (addr >= r.end.load(std::memory_order_relaxed)) continue;
    const size_t stride = r.stride.load(std::memory_order_relaxed);
    const size_t guard = r.guard.load(std::memory_order_relaxed);
    const size_t off = (addr - base) % stride;
    if (off >= guard) return false;  // inside a stack, not a guard
    hit->stack_lo = addr - off + guard;
    hit->stack_size = stride - guard;
    hit->guard_size = guard;
    return true;
  }
  return false;
}

StackPool* StackPool::Shared(StackKind kind, size_t size) {
  // Leaked on purpose: the pools live as long as the process (stacks of a
  // goroutine still running at exit must stay mapped).
  static std::mutex* mu = new std::mutex;
  static std::vector<StackPool*>* pools = new std::vector<StackPool*>;
  const size_t rounded = kind == StackKind::kGuarded ? RoundUp(size, kPageSize)
                                                     : RoundUp(size, 64);
  std::lock_guard<std::mutex> lock(*mu);
  for (StackPool* p : *pools) {
    if (p->kind_ == kind && p->size_ == rounded) return p;
  }
  pools->push_back(new StackPool(kind, size));
  return pools->back();
}

bool MadvGuardInstallSupported() {
  static const bool supported = [] {
    void* p = mmap(nullptr, 2 * kPageSize, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return false;
    const bool ok = madvise(p, kPageSize, MADV_GUARD_INSTALL) == 0;
    munmap(p, 2 * kPageSize);
    return ok;
  }();
  return supported;
}

void StackCanaryBreach(const Stack& s) {
  char msg[256];
  std::snprintf(msg, sizeof msg,
                "stack overflow (canary at %p overwritten: found 0x%016" PRIx64
                ", want 0x%016" PRIx64 "; compact stack [%p, %p), %zu bytes)",
                s.lo, *static_cast<const volatile uint64_t*>(s.lo),
                StackCanaryValue(s.lo), s.lo, s.hi(), s.size);
  Throw(msg);
}

StackPool::StackPool(StackKind kind, size_t size, GuardMethod guard)
    : kind_(kind),
      size_(kind == StackKind::kGuarded ? RoundUp(size, kPageSize)
                                        : RoundUp(size, 64)),
      guard_bytes_(kind == StackKind::kGuarded ? kStackGuardSize : 0),
      stride_(guard_bytes_ + size_),
      guard_method_(GuardMethod::kAuto) {
  if (size < kMinStackSize) {
    char msg[128];
    std::snprintf(msg, sizeof msg, "StackPool: stack size %zu is under %zu",
                  size, kMinStackSize);
    Throw(msg);
  }
  if (kind_ == StackKind::kGuarded) {
    guard_method_ = guard;
    if (guard_method_ == GuardMethod::kAuto) {
      guard_method_ = MadvGuardInstallSupported() ? GuardMethod::kMadvise
                                                  : GuardMethod::kMprotect;
    } else if (guard_method_ == GuardMethod::kMadvise &&
               !MadvGuardInstallSupported()) {
      Throw("StackPool: madvise(MADV_GUARD_INSTALL) needs Linux >= 6.13");
    }
  }
}

StackPool::~StackPool() {
  std::lock_guard<std::mutex> lock(mu_);
  if (live_.load(std::memory_order_relaxed) != 0) return;  // leak, see .h
  for (const Slab& slab : slabs_) {
    if (kind_ == StackKind::kGuarded) RemoveRecord(slab.record);
    munmap(slab.base, slab.bytes);
  }
}

void StackPool::OutOfMemory(const char* what, int err) {
  char msg[512];
  const long max_maps = ReadMaxMapCount();
  const long maps = CountMappings();
  if (err == ENOMEM && max_maps > 0 && maps >= max_maps - 8) {
    std::snprintf(
        msg, sizeof msg,
        "cannot allocate goroutine stack: %s: %s with %zu live %s stacks in "
        "%zu mappings: the mapping limit vm.max_map_count (%ld) is reached "
        "(without MADV_GUARD_INSTALL, Linux >= 6.13, each guarded stack takes "
        "2 mappings; raise vm.max_map_count or use compact stacks)",
        what, std::strerror(err), live(),
        kind_ == StackKind::kGuarded ? "guarded" : "compact",
        guard_method_ == GuardMethod::kMprotect ? 2 * slabs_.size()
                                                : slabs_.size(),
        max_maps);
  } else {
    std::snprintf(msg, sizeof msg,
                  "cannot allocate goroutine stack: %s: %s (%zu live %s "
                  "stacks of %zu bytes, %zu mappings)",
                  what, std::strerror(err), live(),
                  kind_ == StackKind::kGuarded ? "guarded" : "compact", size_,
                  slabs_.size());
  }
  Throw(msg);
}

void StackPool::NewSlabLocked() {
  const size_t n = kSlabBytes / stride_ > 0 ? kSlabBytes / stride_ : 1;
  const size_t bytes = n * stride_;
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) OutOfMemory("mmap of a stack slab", errno);
  auto* base = static_cast<char*>(p);
  size_t record = 0;
  if (kind_ == StackKind::kGuarded) {
    record = AddRecord(reinterpret_cast<uintptr_t>(base),
                       reinterpret_cast<uintptr_t>(base + bytes), stride_,
                       guard_bytes_);
  }
  slabs_.push_back(Slab{base, bytes, record});
  carve_ = base;
  carve_end_ = base + bytes;
  prepared_end_ = base;
}

void StackPool::PrepareLocked() {
  const size_t left = static_cast<size_t>(carve_end_ - prepared_end_) / stride_;
  const size_t n = left < kGuardBatch ? left : kGuardBatch;
  if (kind_ == StackKind::kGuarded) {
    if (const int err =
            InstallGuards(prepared_end_, n, stride_, guard_bytes_)) {
      OutOfMemory("madvise(MADV_GUARD_INSTALL)", err);
    }
    void* los[kGuardBatch];
    for (size_t i = 0; i < n; ++i) {
      los[i] = prepared_end_ + i * stride_ + guard_bytes_;
    }
    PrefaultTops(los, n);
  } else if (stride_ == kPageSize) {
    // Advisory: where it fails (old kernel, no memory yet), the pages fault
    // in one by one as before.
    madvise(prepared_end_, n * stride_, MADV_POPULATE_WRITE);
  }
  prepared_end_ += n * stride_;
}

void StackPool::PrefaultTops(void* const* los, size_t n) const {
  iovec iov[kMaxIov];
  for (size_t i = 0; i < n;) {
    size_t k = 0;
    for (; k < kMaxIov && i < n; ++k, ++i) {
      // The page holding the stack's highest byte (a compact stack of a
      // size that is not a page multiple may not end on a page boundary;
      // MADV_POPULATE_WRITE changes no byte, so a page shared with the
      // neighbour is harmless).
      const uintptr_t hi = reinterpret_cast<uintptr_t>(los[i]) + size_;
      iov[k].iov_base = reinterpret_cast<void*>((hi - 1) & ~(kPageSize - 1));
      iov[k].iov_len = kPageSize;
    }
    // Advisory: without batch support, the pages fault in when first used.
    BatchMadvise(iov, k, MADV_POPULATE_WRITE, &g_batch_populate);
  }
}

void* StackPool::MapOneLocked() {
  void* p = mmap(nullptr, stride_, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) OutOfMemory("mmap", errno);
  if (mprotect(p, guard_bytes_, PROT_NONE) != 0) {
    const int err = errno;
    munmap(p, stride_);
    OutOfMemory("mprotect of the guard page", err);
  }
  auto* base = static_cast<char*>(p);
  const size_t record = AddRecord(reinterpret_cast<uintptr_t>(base),
                                  reinterpret_cast<uintptr_t>(base + stride_),
                                  stride_, guard_bytes_);
  slabs_.push_back(Slab{base, stride_, record});
  return base + guard_bytes_;
}

void* StackPool::CarveLocked() {
  if (kind_ == StackKind::kGuarded && guard_method_ == GuardMethod::kMprotect) {
    return MapOneLocked();
  }
  if (carve_ == carve_end_) NewSlabLocked();
  char* p = carve_;
  carve_ += stride_;
  if (p == prepared_end_) PrepareLocked();
  return p + guard_bytes_;
}

Stack StackPool::Acquire() {
  void* lo;
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (!free_.empty()) {
      lo = free_.back();
      free_.pop_back();
      ++counts_.reused;
    } else if (!cold_.empty()) {
      lo = RefillLocked();
      ++counts_.refilled;
    } else {
      lo = CarveLocked();
      ++counts_.fresh;
    }
    ++acquires_;
    const size_t live = live_.fetch_add(1, std::memory_order_relaxed) + 1;
    if (live > peak_) peak_ = live;
    NoteUseLocked(lock, /*release=*/false);
  }
  Stack s{lo, size_, kind_};
  if (kind_ == StackKind::kCompact) {
    *static_cast<volatile uint64_t*>(lo) = StackCanaryValue(lo);
  }
  return s;
}

void* StackPool::RefillLocked() {
  // Take up to a batch of cold stacks and prefault them with one call: the
  // one returned now, the rest onto the resident list, next in line.
  const size_t n = std::min(cold_.size(), kGuardBatch);
  void* los[kGuardBatch];
  for (size_t i = 0; i < n; ++i) {
    los[i] = cold_.back();
    cold_.pop_back();
  }
  PrefaultTops(los, n);
  for (size_t i = n; i-- > 1;) free_.push_back(los[i]);
  return los[0];
}

void StackPool::Release(Stack s) {
  if (s.lo == nullptr || s.kind != kind_ || s.size != size_) {
    char msg[160];
    std::snprintf(msg, sizeof msg,
                  "StackPool::Release of a foreign stack [%p, +%zu) (pool: %s "
                  "stacks of %zu bytes)",
                  s.lo, s.size,
                  kind_ == StackKind::kGuarded ? "guarded" : "compact", size_);
    Throw(msg);
  }
  CheckStackCanary(s);
  // Frames that never returned leave ASan redzones on the stack.
  sanitizer::AsanUnpoison(s.lo, s.size);
  std::unique_lock<std::mutex> lock(mu_);
  live_.fetch_sub(1, std::memory_order_relaxed);
  free_.push_back(s.lo);
  NoteUseLocked(lock, /*release=*/true);
}

void StackPool::NoteUseLocked(std::unique_lock<std::mutex>& lock,
                              bool release) {
  if (++uses_ < kCheckEvery &&
      !(release && free_.size() >= keep_ + kGuardBatch)) {
    return;
  }
  uses_ = 0;
  keep_ = KeepLocked(MonotonicNs());
  // Trim in steps of at least a batch, so that a pool at its bound does not
  // make one madvise call per release.
  if (free_.size() >= keep_ + kGuardBatch) TrimLocked(lock, keep_);
}

size_t StackPool::KeepLocked(int64_t now_ns) {
  const size_t live = live_.load(std::memory_order_relaxed);
  if (now_ns - window_start_ns_ >= window_ns_) {
    // A new window; the previous one counts only if it just ended.
    prev_peak_ = now_ns - window_start_ns_ < 2 * window_ns_ ? peak_ : live;
    peak_ = live;
    window_start_ns_ = now_ns;
  }
  const size_t peak = std::max(peak_, prev_peak_);
  return std::max(keep_min_, peak > live ? peak - live : 0);
}

void StackPool::TrimLocked(std::unique_lock<std::mutex>& lock, size_t keep) {
  if (free_.size() <= keep) return;
  // The oldest free stacks (the front) go: the newest are the warmest.
  const size_t n = free_.size() - keep;
  std::vector<void*> victims(free_.begin(), free_.begin() + n);
  free_.erase(free_.begin(), free_.begin() + n);
  lock.unlock();
  // Return the usable bytes only; adjacent compact stacks merge into one
  // range. The guards below guarded stacks are left alone (they hold no
  // pages, and a guard marker survives MADV_DONTNEED anyway).
  std::sort(victims.begin(), victims.end());
  iovec iov[kMaxIov];
  size_t k = 0;
  auto flush = [&] {
    // Whole pages only: a compact stack whose size is not a page multiple
    // shares its end pages with neighbours that may be in use (madvise
    // would round the length up into them).
    size_t kept = 0;
    for (size_t i = 0; i < k; ++i) {
      const uintptr_t lo = reinterpret_cast<uintptr_t>(iov[i].iov_base);
      const uintptr_t first = RoundUp(lo, kPageSize);
      const uintptr_t last = (lo + iov[i].iov_len) & ~(kPageSize - 1);
      if (last <= first) continue;
      iov[kept].iov_base = reinterpret_cast<void*>(first);
      iov[kept].iov_len = last - first;
      ++kept;
    }
    k = kept;
    if (!BatchMadvise(iov, k, MADV_DONTNEED, &g_batch_dontneed)) {
      for (size_t i = 0; i < k; ++i) {
        madvise(iov[i].iov_base, iov[i].iov_len, MADV_DONTNEED);
      }
    }
    // Under ASan, the shadow of the (unpoisoned, see Release) stacks goes
    // too: it is an eighth of their size, all of it touched by Release.
    for (size_t i = 0; i < k; ++i) {
      void* shadow_lo;
      void* shadow_hi;
      sanitizer::AsanShadowPages(iov[i].iov_base, iov[i].iov_len, &shadow_lo,
                                 &shadow_hi);
      if (shadow_hi != shadow_lo) {
        madvise(shadow_lo,
                static_cast<char*>(shadow_hi) - static_cast<char*>(shadow_lo),
                MADV_DONTNEED);
      }
    }
    k = 0;
  };
  for (void* lo : victims) {
    if (k > 0 && static_cast<char*>(iov[k - 1].iov_base) + iov[k - 1].iov_len ==
                     static_cast<char*>(lo)) {
      iov[k - 1].iov_len += size_;
      continue;
    }
    if (k == kMaxIov) flush();
    iov[k].iov_base = lo;
    iov[k].iov_len = size_;
    ++k;
  }
  flush();
  lock.lock();
  cold_.insert(cold_.end(), victims.begin(), victims.end());
  counts_.returned += static_cast<int64_t>(n);
}

void StackPool::TrimToFloor(size_t keep) {
  std::unique_lock<std::mutex> lock(mu_);
  peak_ = prev_peak_ = live_.load(std::memory_order_relaxed);
  window_start_ns_ = MonotonicNs();
  keep_ = std::max(keep, peak_);
  TrimLocked(lock, keep);
}

void StackPool::TrimToFloor() {
  size_t keep;
  {
    std::lock_guard<std::mutex> lock(mu_);
    keep = keep_min_;
  }
  TrimToFloor(keep);
}

void StackPool::MarkIdle() {
  std::lock_guard<std::mutex> lock(mu_);
  idle_pending_ = true;
  idle_acquires_ = acquires_;
  idle_deadline_ns_ = MonotonicNs() + window_ns_;
}

int64_t StackPool::TrimIfIdle() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_pending_) return -1;
    if (acquires_ != idle_acquires_) {
      idle_pending_ = false;  // in use again: the Run's own bound applies
      return -1;
    }
    const int64_t left = idle_deadline_ns_ - MonotonicNs();
    if (left > 0) return left;
    idle_pending_ = false;
  }
  // A Run that starts now may acquire meanwhile: TrimToFloor keeps every
  // live stack's peak, so it only returns free stacks beyond the floor.
  TrimToFloor();
  return -1;
}

void StackPool::set_keep_min(size_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  keep_min_ = n;
}

void StackPool::set_window(int64_t ns) {
  std::lock_guard<std::mutex> lock(mu_);
  window_ns_ = ns > 0 ? ns : 1;
}

size_t StackPool::cached() const {
  std::lock_guard<std::mutex> lock(mu_);
  return free_.size() + cold_.size();
}

size_t StackPool::resident_cached() const {
  std::lock_guard<std::mutex> lock(mu_);
  return free_.size();
}

StackPool::Counts StackPool::counts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return counts_;
}

size_t StackPool::mappings() const {
  std::lock_guard<std::mutex> lock(mu_);
  return kind_ == StackKind::kGuarded && guard_method_ == GuardMethod::kMprotect
             ? 2 * slabs_.size()
             : slabs_.size();
}

}  // namespace gmp::internal
