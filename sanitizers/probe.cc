// sanitizers/probe.cc — a tiny program with one deliberate bug per sanitizer,
// run by symbolized_test.sh to check that gmplab's sanitizer reports name
// functions and file:line (a working llvm-symbolizer), not `<null>` frames.
//
//   probe race       two threads write one int unsynchronised (TSan)
//   probe overflow   reads one past the end of a heap array (ASan)
//   probe which      prints the sanitizer this binary was built with:
//                    tsan, asan or none
//
// Each bug prints `bug_line=<N>` first: the line the report must name.
#include <cstdio>
#include <cstring>
#include <thread>

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define PROBE_SANITIZER "tsan"
#elif __has_feature(address_sanitizer)
#define PROBE_SANITIZER "asan"
#endif
#endif
#ifndef PROBE_SANITIZER
#define PROBE_SANITIZER "none"
#endif

int shared_counter = 0;

__attribute__((noinline)) void GmplabProbeRacyIncrement() {
  std::printf("bug_line=%d\n", __LINE__ + 1);
  shared_counter = shared_counter + 1;
}

__attribute__((noinline)) int GmplabProbeOverflowRead(int index) {
  int* a = new int[4]();
  std::printf("bug_line=%d\n", __LINE__ + 1);
  int v = a[index];
  delete[] a;
  return v;
}

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IONBF, 0);
  const char* mode = argc > 1 ? argv[1] : "";
  if (std::strcmp(mode, "which") == 0) {
    std::printf("%s\n", PROBE_SANITIZER);
    return 0;
  }
  if (std::strcmp(mode, "race") == 0) {
    std::thread a(GmplabProbeRacyIncrement);
    std::thread b(GmplabProbeRacyIncrement);
    a.join();
    b.join();
    return 0;
  }
  if (std::strcmp(mode, "overflow") == 0) {
    return GmplabProbeOverflowRead(argc + 2) == 42 ? 1
                                                   : 0;  // index 4: one past
  }
  std::fprintf(stderr, "usage: probe which|race|overflow\n");
  return 2;
}
