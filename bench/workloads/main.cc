// bench/workloads/main.cc — main() of a variant's benchmark binary
// (//variants:<name>_bench). The policy description comes from the runtime
// the binary was linked with.
#include <string>

#include "bench/common/bench_main.h"
#include "runtime/gmp.h"

int main(int argc, char** argv) {
  return gmplab_bench::BenchMain(argc, argv, "gmplab", [] {
    return gmp::ReadStats().variant;
  });
}
