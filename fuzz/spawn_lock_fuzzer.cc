// fuzz/spawn_lock_fuzzer.cc — libFuzzer target `spawn_lock`.
//
// Programs of Go (with nested programs), LockOSThread, UnlockOSThread,
// Gosched, CPU work and exit while locked, joined with nothing but the
// scheduler. See fuzz/program.h for the decoding and the invariants.
#include <cstddef>
#include <cstdint>

#include "fuzz/program.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return gmp_fuzz::FuzzOneProgram(data, size, /*blocking=*/false);
}
