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
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "runtime/fatal.h"
#include "runtime/sanitizer.h"

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
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
    g_records_used.store(slot + 1, std::memory_order_release);
  }
  GuardRecord& r = g_records[slot];
  r.end.store(end, std::memory_order_relaxed);
  r.stride.store(stride, std::memory_order_relaxed);
  r.guard.store(guard, std::memory_order_relaxed);
  r.base.store(base,
               std::memory_order_release);  // pairs with FindStackGuardHit
  return slot;
}

void RemoveRecord(size_t slot) {
  std::lock_guard<std::mutex> lock(g_records_mu);
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

}  // namespace

bool FindStackGuardHit(uintptr_t addr, StackGuardHit* hit) {
  const size_t used = g_records_used.load(std::memory_order_acquire);
  for (size_t i = 0; i < used; ++i) {
    const GuardRecord& r = g_records[i];
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
  } else if (stride_ == kPageSize) {
    // Advisory: where it fails (old kernel, no memory yet), the pages fault
    // in one by one as before.
    madvise(prepared_end_, n * stride_, MADV_POPULATE_WRITE);
  }
  prepared_end_ += n * stride_;
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
    std::lock_guard<std::mutex> lock(mu_);
    if (!free_.empty()) {
      lo = free_.back();
      free_.pop_back();
    } else {
      lo = CarveLocked();
    }
  }
  live_.fetch_add(1, std::memory_order_relaxed);
  Stack s{lo, size_, kind_};
  if (kind_ == StackKind::kCompact) {
    *static_cast<volatile uint64_t*>(lo) = StackCanaryValue(lo);
  }
  return s;
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
  live_.fetch_sub(1, std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(mu_);
  free_.push_back(s.lo);
}

size_t StackPool::cached() const {
  std::lock_guard<std::mutex> lock(mu_);
  return free_.size();
}

size_t StackPool::mappings() const {
  std::lock_guard<std::mutex> lock(mu_);
  return kind_ == StackKind::kGuarded && guard_method_ == GuardMethod::kMprotect
             ? 2 * slabs_.size()
             : slabs_.size();
}

}  // namespace gmp::internal
