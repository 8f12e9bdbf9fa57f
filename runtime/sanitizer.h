// runtime/sanitizer.h — the sanitizer hooks the context switch announces.
//
// Goroutine stacks are switched by hand, so ThreadSanitizer and
// AddressSanitizer must be told about every switch:
//
//   TSan  each context owns a fiber (__tsan_create_fiber); a switch calls
//         __tsan_switch_to_fiber(to, 0) in the same frame as the register swap
//         (flags 0: the switch is a happens-before edge); a dead context's
//         fiber is released with __tsan_destroy_fiber.
//   ASan  before the swap, __sanitizer_start_switch_fiber(&save, to_bottom,
//         to_size) names the destination stack; right after resuming,
//         __sanitizer_finish_switch_fiber(save, ...) restores the fake stack.
//         A fresh context's entry first calls finish with nullptr; a dying
//         context passes nullptr as `save` so its fake stack is freed.
//
// This header detects the sanitizers (clang's __has_feature, gcc's
// __SANITIZE_*__) and wraps each hook in a force-inlined function that is a
// no-op without the sanitizer. Force-inlining matters: a TSan fiber switch
// made from an instrumented helper that returns before the swap unbalances
// TSan's shadow stack (see DESIGN.md, "Sanitizer pitfalls").
#ifndef GMPLAB_RUNTIME_SANITIZER_H_
#define GMPLAB_RUNTIME_SANITIZER_H_

#include <cstddef>

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define GMP_HAVE_TSAN 1
#endif
#if __has_feature(address_sanitizer)
#define GMP_HAVE_ASAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__) && !defined(GMP_HAVE_TSAN)
#define GMP_HAVE_TSAN 1
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(GMP_HAVE_ASAN)
#define GMP_HAVE_ASAN 1
#endif
#ifndef GMP_HAVE_TSAN
#define GMP_HAVE_TSAN 0
#endif
#ifndef GMP_HAVE_ASAN
#define GMP_HAVE_ASAN 0
#endif

#define GMP_ALWAYS_INLINE inline __attribute__((always_inline))

#if GMP_HAVE_ASAN
#include <pthread.h>
#endif

// The sanitizer runtimes' entry points (declared here rather than through
// <sanitizer/*.h> so that the gcc build needs no sanitizer headers).
extern "C" {
#if GMP_HAVE_TSAN
void* __tsan_get_current_fiber(void);
void* __tsan_create_fiber(unsigned flags);
void __tsan_destroy_fiber(void* fiber);
void __tsan_switch_to_fiber(void* fiber, unsigned flags);
#endif
#if GMP_HAVE_ASAN
void __sanitizer_start_switch_fiber(void** fake_stack_save, const void* bottom,
                                    size_t size);
void __sanitizer_finish_switch_fiber(void* fake_stack_save,
                                     const void** bottom_old, size_t* size_old);
void __asan_unpoison_memory_region(void const volatile* addr, size_t size);
void __asan_get_shadow_mapping(size_t* shadow_scale, size_t* shadow_offset);
#endif
}

namespace gmp::internal::sanitizer {

// TsanCurrentFiber returns the calling thread's current TSan fiber (never to
// be destroyed by us), or nullptr without TSan.
GMP_ALWAYS_INLINE void* TsanCurrentFiber() {
#if GMP_HAVE_TSAN
  return __tsan_get_current_fiber();
#else
  return nullptr;
#endif
}

GMP_ALWAYS_INLINE void* TsanCreateFiber() {
#if GMP_HAVE_TSAN
  return __tsan_create_fiber(0);
#else
  return nullptr;
#endif
}

GMP_ALWAYS_INLINE void TsanDestroyFiber(void* fiber) {
#if GMP_HAVE_TSAN
  __tsan_destroy_fiber(fiber);
#else
  (void)fiber;
#endif
}

// TsanSwitchToFiber must be followed, in the same frame, by the swap itself.
GMP_ALWAYS_INLINE void TsanSwitchToFiber(void* fiber) {
#if GMP_HAVE_TSAN
  __tsan_switch_to_fiber(fiber, 0);
#else
  (void)fiber;
#endif
}

// AsanStartSwitch announces a switch onto [bottom, bottom+size). `save` is
// where the current fake stack is kept, or nullptr when the current context
// is dying.
GMP_ALWAYS_INLINE void AsanStartSwitch(void** save, const void* bottom,
                                       size_t size) {
#if GMP_HAVE_ASAN
  __sanitizer_start_switch_fiber(save, bottom, size);
#else
  (void)save, (void)bottom, (void)size;
#endif
}

// AsanFinishSwitch completes a switch on the resumed side. `save` is the
// value AsanStartSwitch stored when this context was switched out (nullptr
// on a context's first entry). The previous stack's bounds come back in
// *bottom_old / *size_old when those are not null.
GMP_ALWAYS_INLINE void AsanFinishSwitch(void* save, const void** bottom_old,
                                        size_t* size_old) {
#if GMP_HAVE_ASAN
  __sanitizer_finish_switch_fiber(save, bottom_old, size_old);
#else
  (void)save, (void)bottom_old, (void)size_old;
#endif
}

// AsanUnpoison clears ASan's poisoning of [addr, addr+size): stale stack
// redzones left by frames of a context that never returned.
GMP_ALWAYS_INLINE void AsanUnpoison(void* addr, size_t size) {
#if GMP_HAVE_ASAN
  __asan_unpoison_memory_region(addr, size);
#else
  (void)addr, (void)size;
#endif
}

// AsanShadowPages stores in *lo / *hi the whole pages of ASan's shadow that
// describe only bytes of [addr, addr+size) (*lo == *hi when none, and
// always without ASan). Once [addr, addr+size) is unpoisoned, those pages
// hold zeros only, so the caller may give them back to the OS with the
// memory they describe (a dropped page reads back as zeros: unpoisoned).
GMP_ALWAYS_INLINE void AsanShadowPages(void* addr, size_t size, void** lo,
                                       void** hi) {
  *lo = *hi = nullptr;
#if GMP_HAVE_ASAN
  constexpr size_t kPage = 4096;
  size_t scale = 0, offset = 0;
  __asan_get_shadow_mapping(&scale, &offset);
  const size_t a = reinterpret_cast<size_t>(addr);
  const size_t first = ((a >> scale) + offset + kPage - 1) / kPage * kPage;
  const size_t last = (((a + size) >> scale) + offset) / kPage * kPage;
  if (last > first) {
    *lo = reinterpret_cast<void*>(first);
    *hi = reinterpret_cast<void*>(last);
  }
#else
  (void)addr, (void)size;
#endif
}

// AsanCurrentStackBounds stores the calling thread's stack as ASan knows it
// in *lo / *size (nullptr / 0 without ASan). ASan has no query for this, so
// it announces a switch to the same stack (pthread's view of it) and reads
// the previous bounds back from finish_switch_fiber, then switches back to
// exactly those. Call on a thread's own stack, outside any other switch.
GMP_ALWAYS_INLINE void AsanCurrentStackBounds(void** lo, size_t* size) {
  *lo = nullptr;
  *size = 0;
#if GMP_HAVE_ASAN
  pthread_attr_t attr;
  void* plo = nullptr;
  size_t psize = 0;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    pthread_attr_getstack(&attr, &plo, &psize);
    pthread_attr_destroy(&attr);
  }
  void* fake = nullptr;
  const void* old_lo = nullptr;
  size_t old_size = 0;
  __sanitizer_start_switch_fiber(&fake, plo, psize);
  __sanitizer_finish_switch_fiber(fake, &old_lo, &old_size);
  __sanitizer_start_switch_fiber(&fake, old_lo, old_size);
  __sanitizer_finish_switch_fiber(fake, nullptr, nullptr);
  *lo = const_cast<void*>(old_lo);
  *size = old_size;
#endif
}

}  // namespace gmp::internal::sanitizer

#endif  // GMPLAB_RUNTIME_SANITIZER_H_
