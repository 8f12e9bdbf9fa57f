// fuzz/block_fuzzer.cc — libFuzzer target `block`.
//
// Programs that park and block: channel groups (matched sends and
// receives, closed when the producers are done), Mutex sections, WaitGroup
// joins, Sleep and Syscall, mixed with everything spawn_lock does. See
// fuzz/program.h for the decoding and the invariants.
#include <cstddef>
#include <cstdint>

#include "fuzz/program.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return gmp_fuzz::FuzzOneProgram(data, size, /*blocking=*/true);
}
