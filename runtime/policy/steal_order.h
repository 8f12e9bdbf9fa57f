// runtime/policy/steal_order.h — the order in which a thief visits victims.
//
// A steal order fills `out` with the P indices to try, in order, for one
// stealing pass of the thief `self` among `nprocs` Ps. It is constructed once
// per runtime (with nprocs) and then only read, by any M. `rnd` is a fresh
// random number per pass; `len(i)` probes P i's run-queue length.
//
// Each order is a small class with a kName; a variant picks one by that name
// (GMP_STEAL_ORDER, default CoprimeWalk), which must also be in the allowed
// list of variants/variant.bzl (//tools:policy_defaults_test checks both).
#ifndef GMPLAB_RUNTIME_POLICY_STEAL_ORDER_H_
#define GMPLAB_RUNTIME_POLICY_STEAL_ORDER_H_

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <vector>

#include "runtime/policy/variant_guard.h"

#ifndef GMP_STEAL_ORDER
#define GMP_STEAL_ORDER CoprimeWalk
#endif

namespace gmp::internal::policy {

// CoprimeWalk is Go's randomOrder: start at a random P and step by a random
// increment coprime with nprocs, which visits every P exactly once.
class CoprimeWalk {
 public:
  static constexpr const char* kName = "CoprimeWalk";
  static constexpr bool kVisitsEachOnce = true;

  explicit CoprimeWalk(uint32_t nprocs) : nprocs_(nprocs) {
    for (uint32_t i = 1; i <= nprocs; ++i) {
      if (std::gcd(i, nprocs) == 1) coprimes_.push_back(i);
    }
  }
  template <class Len>
  uint32_t Fill(uint32_t rnd, uint32_t, uint32_t* out, Len&&) const {
    uint32_t pos = rnd % nprocs_;
    uint32_t inc = coprimes_[(rnd / nprocs_) % coprimes_.size()];
    for (uint32_t i = 0; i < nprocs_; ++i) {
      out[i] = pos;
      pos = (pos + inc) % nprocs_;
    }
    return nprocs_;
  }

 private:
  uint32_t nprocs_;
  std::vector<uint32_t> coprimes_;
};

// SequentialOrder visits self+1, self+2, ... (wrapping), as simple
// work-stealing deques often do.
class SequentialOrder {
 public:
  static constexpr const char* kName = "SequentialOrder";
  static constexpr bool kVisitsEachOnce = true;

  explicit SequentialOrder(uint32_t nprocs) : nprocs_(nprocs) {}
  template <class Len>
  uint32_t Fill(uint32_t, uint32_t self, uint32_t* out, Len&&) const {
    for (uint32_t i = 0; i < nprocs_; ++i) out[i] = (self + 1 + i) % nprocs_;
    return nprocs_;
  }

 private:
  uint32_t nprocs_;
};

// RandomStart is Tokio's order: start at a random P and walk the others in
// index order. Cheaper than CoprimeWalk, but neighbours are always visited
// in the same relative order.
class RandomStart {
 public:
  static constexpr const char* kName = "RandomStart";
  static constexpr bool kVisitsEachOnce = true;

  explicit RandomStart(uint32_t nprocs) : nprocs_(nprocs) {}
  template <class Len>
  uint32_t Fill(uint32_t rnd, uint32_t, uint32_t* out, Len&&) const {
    uint32_t start = rnd % nprocs_;
    for (uint32_t i = 0; i < nprocs_; ++i) out[i] = (start + i) % nprocs_;
    return nprocs_;
  }

 private:
  uint32_t nprocs_;
};

// RandomVictim picks each victim uniformly at random, with repetition, as
// many times as there are Ps: cheap, but may miss a P in a pass.
class RandomVictim {
 public:
  static constexpr const char* kName = "RandomVictim";
  static constexpr bool kVisitsEachOnce = false;

  explicit RandomVictim(uint32_t nprocs) : nprocs_(nprocs) {}
  template <class Len>
  uint32_t Fill(uint32_t rnd, uint32_t, uint32_t* out, Len&&) const {
    uint32_t x = rnd | 1;
    for (uint32_t i = 0; i < nprocs_; ++i) {
      x ^= x << 13;  // xorshift32
      x ^= x >> 17;
      x ^= x << 5;
      out[i] = x % nprocs_;
    }
    return nprocs_;
  }

 private:
  uint32_t nprocs_;
};

// LongestQueue visits the Ps in decreasing order of their (racy snapshot)
// run-queue length, so the busiest P is robbed first.
class LongestQueue {
 public:
  static constexpr const char* kName = "LongestQueue";
  static constexpr bool kVisitsEachOnce = true;

  explicit LongestQueue(uint32_t nprocs) : nprocs_(nprocs) {}
  template <class Len>
  uint32_t Fill(uint32_t rnd, uint32_t, uint32_t* out, Len&& len) const {
    // Insertion sort on (length desc), ties broken by a random rotation.
    uint32_t lens[kMaxSort];
    uint32_t n = nprocs_;
    uint32_t start = rnd % n;
    for (uint32_t i = 0; i < n; ++i) {
      uint32_t p = (start + i) % n;
      uint32_t l = static_cast<uint32_t>(len(p));
      uint32_t j = i;
      if (n <= kMaxSort) {
        while (j > 0 && lens[j - 1] < l) {
          lens[j] = lens[j - 1];
          out[j] = out[j - 1];
          --j;
        }
        lens[j] = l;
      }
      out[j] = p;
    }
    return n;
  }

 private:
  static constexpr uint32_t kMaxSort = 1024;
  uint32_t nprocs_;
};

// StealOrder is the variant's steal order.
using StealOrder = GMP_STEAL_ORDER;

}  // namespace gmp::internal::policy

#endif  // GMPLAB_RUNTIME_POLICY_STEAL_ORDER_H_
