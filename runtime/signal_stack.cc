// runtime/signal_stack.cc — the stack-overflow SIGSEGV handler and the
// per-thread alternate signal stacks it runs on.
//
// The handler only uses async-signal-safe calls (write, sigaction, abort) and
// lock-free reads (FindStackGuardHit).
#include "runtime/signal_stack.h"

#include <signal.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "runtime/fatal.h"
#include "runtime/stack.h"

namespace gmp::internal {
namespace {

struct sigaction g_old_segv;
struct sigaction g_old_bus;

// SignalWriter formats a message into a fixed buffer without allocating.
class SignalWriter {
 public:
  void Str(const char* s) {
    while (*s != '\0' && n_ < sizeof buf_) buf_[n_++] = *s++;
  }
  void Hex(uintptr_t v) {
    char tmp[2 + 16];
    int i = sizeof tmp;
    do {
      tmp[--i] = "0123456789abcdef"[v & 15];
      v >>= 4;
    } while (v != 0);
    tmp[--i] = 'x';
    tmp[--i] = '0';
    while (i < static_cast<int>(sizeof tmp) && n_ < sizeof buf_) {
      buf_[n_++] = tmp[i++];
    }
  }
  void Dec(size_t v) {
    char tmp[24];
    int i = sizeof tmp;
    do {
      tmp[--i] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    while (i < static_cast<int>(sizeof tmp) && n_ < sizeof buf_) {
      buf_[n_++] = tmp[i++];
    }
  }
  void Flush() {
    size_t off = 0;
    while (off < n_) {
      const ssize_t w = write(2, buf_ + off, n_ - off);
      if (w <= 0) break;
      off += static_cast<size_t>(w);
    }
  }

 private:
  char buf_[512];
  size_t n_ = 0;
};

uintptr_t FaultStackPointer(void* uctx) {
#if defined(__x86_64__)
  return static_cast<uintptr_t>(
      static_cast<ucontext_t*>(uctx)->uc_mcontext.gregs[REG_RSP]);
#else
  (void)uctx;
  return 0;
#endif
}

void OverflowHandler(int sig, siginfo_t* info, void* uctx) {
  const auto addr = reinterpret_cast<uintptr_t>(info->si_addr);
  StackGuardHit hit;
  if (FindStackGuardHit(addr, &hit)) {
    SignalWriter w;
    w.Str("fatal error: stack overflow\n\nguard page hit at ");
    w.Hex(addr);
    w.Str(": goroutine stack [");
    w.Hex(hit.stack_lo);
    w.Str(", ");
    w.Hex(hit.stack_lo + hit.stack_size);
    w.Str(") (");
    w.Dec(hit.stack_size);
    w.Str(" bytes, guard ");
    w.Dec(hit.guard_size);
    w.Str(")\n");
    w.Flush();
    abort();
  }
  const uintptr_t sp = FaultStackPointer(uctx);
  if (sp != 0 && addr <= sp + 256 && addr + 64 * 1024 >= sp) {
    SignalWriter w;
    w.Str("fatal error: stack overflow\n\nfault at ");
    w.Hex(addr);
    w.Str(" near the stack pointer ");
    w.Hex(sp);
    w.Str(" (not a goroutine stack: a thread's own stack?)\n");
    w.Flush();
    abort();
  }
  // Not an overflow: chain to the handler that was installed before ours,
  // which may recover (ours stays installed for the next fault), or, when
  // that was the default action, die of the signal as without us.
  const struct sigaction& old = sig == SIGBUS ? g_old_bus : g_old_segv;
  if (old.sa_handler != SIG_DFL && old.sa_handler != SIG_IGN) {
    if ((old.sa_flags & SA_SIGINFO) != 0) {
      old.sa_sigaction(sig, info, uctx);
    } else {
      old.sa_handler(sig);
    }
    return;
  }
  struct sigaction dfl;
  std::memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(sig, &dfl, nullptr);
  // A fault re-executes the instruction on return and now dies of it; a
  // signal sent with kill or raise has to be sent again.
  if (info->si_code <= 0) raise(sig);
}

// The calling thread's alternate stack, when SetupSignalStack mapped it.
thread_local void* t_altstack = nullptr;
thread_local size_t t_altstack_size = 0;

}  // namespace

void InstallStackOverflowHandler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa;
    std::memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = &OverflowHandler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSEGV, &sa, &g_old_segv) != 0 ||
        sigaction(SIGBUS, &sa, &g_old_bus) != 0) {
      Throw("InstallStackOverflowHandler: sigaction failed");
    }
  });
}

void SetupSignalStack() {
  if (t_altstack != nullptr) return;
  stack_t old;
  if (sigaltstack(nullptr, &old) == 0 && (old.ss_flags & SS_DISABLE) == 0 &&
      old.ss_size >= 16 * 1024) {
    return;  // keep the one the thread has (e.g. ASan's)
  }
  size_t size = kSignalStackSize;
  const long min = sysconf(_SC_SIGSTKSZ);
  if (min > 0 && static_cast<size_t>(min) * 4 > size) {
    size = static_cast<size_t>(min) * 4;
  }
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) Throw("SetupSignalStack: cannot map a signal stack");
  stack_t ss;
  std::memset(&ss, 0, sizeof ss);
  ss.ss_sp = p;
  ss.ss_size = size;
  if (sigaltstack(&ss, nullptr) != 0) {
    munmap(p, size);
    Throw("SetupSignalStack: sigaltstack failed");
  }
  t_altstack = p;
  t_altstack_size = size;
}

void TeardownSignalStack() {
  if (t_altstack == nullptr) return;
  stack_t ss;
  std::memset(&ss, 0, sizeof ss);
  ss.ss_flags = SS_DISABLE;
  sigaltstack(&ss, nullptr);
  munmap(t_altstack, t_altstack_size);
  t_altstack = nullptr;
  t_altstack_size = 0;
}

}  // namespace gmp::internal
