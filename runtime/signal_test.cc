// runtime/signal_test.cc — the runtime's signal handlers: they run on the
// M's alternate signal stack, and the SIGSEGV overflow handler chains to the
// handler installed before it (signal_stack.h).
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>

#include "gtest/gtest.h"
#include "runtime/gmp.h"
#include "runtime/test_util.h"

namespace gmp {
namespace {

using testing_util::RunOn;
using testing_util::UseThreadsafeDeathTests;

// A signal frame (about 3 KiB with AVX-512 state) must never land on a
// goroutine stack, which may be 4 KiB: the SIGQUIT handler asks for the
// alternate stack, and every thread that runs goroutines has one.
TEST(SignalTest, HandlersRunOnTheAlternateStack) {
  std::atomic<int> without_altstack{0};
  int quit_flags = 0;
  RunOn(4, [&] {
    struct sigaction sa;
    std::memset(&sa, 0, sizeof sa);
    ASSERT_EQ(sigaction(SIGQUIT, nullptr, &sa), 0);
    quit_flags = sa.sa_flags;
    WaitGroup wg;
    wg.Add(8);
    for (int i = 0; i < 8; ++i) {
      Go([&] {
        for (int r = 0; r < 4; ++r) {
          stack_t ss;
          if (sigaltstack(nullptr, &ss) != 0 ||
              (ss.ss_flags & SS_DISABLE) != 0 || ss.ss_size < 4096) {
            without_altstack.fetch_add(1);
          }
          Gosched();
        }
        wg.Done();
      });
    }
    wg.Wait();
  });
  EXPECT_NE(quit_flags & SA_ONSTACK, 0);
  EXPECT_EQ(without_altstack.load(), 0);
}

// What a program's own SIGSEGV handler sees: it maps the faulting page in,
// so the faulting access succeeds when it is retried.
void* g_page = nullptr;
std::atomic<int> g_user_faults{0};

void UserSegvHandler(int, siginfo_t* info, void*) {
  g_user_faults.fetch_add(1);
  if (info->si_addr == g_page) {
    mprotect(g_page, 4096, PROT_READ | PROT_WRITE);
  } else {
    _exit(3);
  }
}

// ChainsAndStaysInstalled runs in a fresh process: installs a handler that
// recovers from faults, starts a runtime (which installs its overflow
// handler over it), then faults twice on purpose outside any stack. Exit
// status 0: the program's handler saw both faults and the runtime's handler
// is still installed (a stack overflow after them would still be reported).
void ChainsAndStaysInstalled() {
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = &UserSegvHandler;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGSEGV, &sa, nullptr) != 0) _exit(4);
  RunOn(1, [] {});
  g_page = mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (g_page == MAP_FAILED) _exit(5);
  for (int i = 0; i < 2; ++i) {
    *static_cast<volatile char*>(g_page) = static_cast<char>(i + 1);
    mprotect(g_page, 4096, PROT_NONE);
  }
  struct sigaction now;
  std::memset(&now, 0, sizeof now);
  if (sigaction(SIGSEGV, nullptr, &now) != 0) _exit(6);
  const bool ours_installed =
      (now.sa_flags & SA_SIGINFO) == 0 || now.sa_sigaction != &UserSegvHandler;
  std::fprintf(stderr, "user faults %d, runtime handler installed %d\n",
               g_user_faults.load(), ours_installed ? 1 : 0);
  _exit(g_user_faults.load() == 2 && ours_installed ? 0 : 1);
}

TEST(SignalDeathTest, NonOverflowFaultChainsToPreviousHandler) {
  UseThreadsafeDeathTests();
  EXPECT_EXIT(ChainsAndStaysInstalled(), testing::ExitedWithCode(0),
              "user faults 2, runtime handler installed 1");
}

}  // namespace
}  // namespace gmp
