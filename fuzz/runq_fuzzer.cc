// fuzz/runq_fuzzer.cc — libFuzzer target `runq`.
//
// Drives runtime/runq.h's RunQueue directly, without the scheduler, in two
// phases decoded from the input:
//
//  1. Sequential: the owner's Put / PutRunnext / Get(skip_runnext) /
//     Overflow and thieves' StealFrom run one at a time, each checked
//     exactly against a model (a deque for the ring plus a runnext slot):
//     which elements come out, in which order, how many a steal takes
//     (the variant's StealAmount::Take of the ring size, or runnext), and
//     what Size, Empty and Runnext report.
//  2. Concurrent: one owner thread runs a decoded op list while 1..3 thief
//     threads steal into their own queues until the owner is done. Checked:
//     every element is seen exactly once, the owner takes ring elements in
//     FIFO order, each stolen batch is a run of consecutive ring elements,
//     a steal never takes more than StealAmount allows.
//  3. Chain (only when the next two tail bytes are kChainMagic, which keeps
//     the older corpus inputs as they were): the owner pushes (and
//     overflows) while 1..3 thieves form a chain: thief 0 steals from the
//     owner's queue into its own, thief k from thief k-1's, and each thief,
//     as the owner of its queue, meanwhile takes, pushes back (Put,
//     PutRunnext, overflowing) or keeps what it stole, so a queue is
//     robbed while its owner pushes. Checked: every element is seen exactly
//     once, none is lost (all queues are drained at the end), a steal never
//     takes more than StealAmount allows.
//
// Elements carry plain (non-atomic) fields written by the owner before it
// publishes them and read by whoever takes them, so a missing acquire on the
// steal path is a data race that ThreadSanitizer reports.
#include <fuzzer/FuzzedDataProvider.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <thread>
#include <vector>

#include <fuzzer/FuzzedDataProvider.h>

#include "fuzz/check.h"
#include "runtime/policy/config.h"
#include "runtime/runq.h"

namespace gmp_fuzz {
namespace {

using Amount = gmp::internal::policy::StealAmount;

constexpr int kMaxSeqOps = 256;
constexpr int kMaxConcOps = 512;
constexpr int kMaxThieves = 3;
constexpr int kMaxItems = 4096;
constexpr uint16_t kChainMagic = 0xC4A1;
constexpr int kMaxChainOps = 64;

struct Item {
  int64_t id = 0;     // plain: written by the owner before publishing
  int64_t rseq = -1;  // plain: position in the ring's put order, -1 = runnext
  int64_t hop = 0;    // plain: chain queues it was pushed into
  std::atomic<int> seen{0};
};

// Model-checked harness for one capacity.
template <uint32_t N>
class Harness {
  using Queue = gmp::internal::RunQueue<Item, N>;

 public:
  explicit Harness(FuzzedDataProvider& in) : in_(in) {
    items_.reset(new Item[kMaxItems + kMaxSeqOps + kMaxConcOps + 2]);
  }

  void Run() {
    Sequential();
    Concurrent();
    if (in_.remaining_bytes() >= 2 &&
        in_.ConsumeIntegral<uint16_t>() == kChainMagic) {
      Chain();
    }
    Drain();
    for (int64_t i = 0; i < nitems_; ++i) {
      int s = items_[i].seen.load();
      FUZZ_CHECK(s == 1, "every element seen exactly once",
                 "element %lld seen %d times (capacity %u)", (long long)i, s,
                 N);
    }
  }

 private:
  // NewItem hands out a fresh element. Bursts stop at kMaxItems; single
  // puts (at most one per op) may go past it.
  Item* NewItem() {
    Item* it = &items_[nitems_];
    it->id = nitems_++;
    it->rseq = -1;
    return it;
  }

  void Seen(Item* it, const char* by) {
    int s = it->seen.fetch_add(1);
    FUZZ_CHECK(s == 0, "every element seen exactly once",
               "element %lld taken twice (second time by %s, capacity %u)",
               (long long)it->id, by, N);
  }

  // PutOwner puts `it` at the ring's tail, overflowing half the ring (the
  // "global queue") when it is full. Owner only.
  void PutOwner(Item* it, bool sequential) {
    for (;;) {
      it->rseq = next_rseq_;
      if (q_.Put(it)) {
        ++next_rseq_;
        if (sequential) model_.push_back(it);
        return;
      }
      Item* batch[Queue::kOverflowBatch];
      uint32_t n = q_.Overflow(it, batch);
      if (n == 0) {
        FUZZ_CHECK(!sequential, "overflow takes half",
                   "Overflow of a full ring returned 0 with no thieves");
        continue;  // thieves made room meanwhile
      }
      FUZZ_CHECK(n == Queue::kOverflowBatch, "overflow takes half",
                 "Overflow returned %u, want %u", n, Queue::kOverflowBatch);
      FUZZ_CHECK(batch[n - 1] == it, "overflow takes half",
                 "the new element is not last in the overflow batch");
      for (uint32_t i = 0; i + 1 < n; ++i) {
        if (sequential) {
          FUZZ_CHECK(batch[i] == model_.front(), "owner FIFO",
                     "overflow batch[%u] = %lld, model head %lld", i,
                     (long long)batch[i]->id, (long long)model_.front()->id);
          model_.pop_front();
        }
        CheckOwnerOrder(batch[i]);
        Seen(batch[i], "overflow");
      }
      it->rseq = -1;
      Seen(it, "overflow");
      return;
    }
  }

  // CheckOwnerOrder checks that the owner takes ring elements in FIFO order.
  void CheckOwnerOrder(Item* it) {
    FUZZ_CHECK(it->rseq > owner_last_rseq_, "owner FIFO",
               "owner took ring element #%lld after #%lld",
               (long long)it->rseq, (long long)owner_last_rseq_);
    owner_last_rseq_ = it->rseq;
  }

  // CheckBatch checks one steal: a run of consecutive ring elements, or the
  // runnext element alone, and no more than the policy allows.
  static void CheckBatch(const std::vector<Item*>& batch, uint32_t stolen) {
    FUZZ_CHECK(batch.size() == stolen, "steal amount",
               "StealFrom reported %u but delivered %zu", stolen,
               batch.size());
    FUZZ_CHECK(stolen <= Amount::Take(N), "steal amount",
               "a steal took %u elements from a ring of %u (%s)", stolen, N,
               Amount::kName);
    if (stolen == 1 && batch[0]->rseq == -1) return;  // runnext
    for (size_t i = 0; i < batch.size(); ++i) {
      FUZZ_CHECK(batch[i]->rseq >= 0, "steal takes from the ring head",
                 "element %lld stolen in a batch of %u is not a ring element",
                 (long long)batch[i]->id, stolen);
      if (i > 0) {
        FUZZ_CHECK(batch[i]->rseq == batch[i - 1]->rseq + 1,
                   "steal takes from the ring head",
                   "stolen batch not consecutive: #%lld after #%lld",
                   (long long)batch[i]->rseq, (long long)batch[i - 1]->rseq);
      }
    }
  }

  // StealInto runs one steal by `thief` and returns the batch in ring
  // order. Thief only (any thread, never the owner's... but in the
  // sequential phase the owner thread plays every role in turn).
  std::vector<Item*> StealInto(Queue& thief, bool steal_runnext,
                               uint32_t* stolen) {
    std::vector<Item*> batch;
    Item* first = thief.template StealFrom<Amount>(
        q_, steal_runnext, [] { std::this_thread::yield(); }, stolen);
    FUZZ_CHECK((first != nullptr) == (*stolen != 0), "steal amount",
               "StealFrom returned %p with stolen = %u", (void*)first,
               *stolen);
    while (Item* t = thief.Get()) batch.push_back(t);
    if (first != nullptr) batch.push_back(first);
    return batch;
  }

  void Sequential() {
    int nops = in_.ConsumeIntegralInRange<int>(0, kMaxSeqOps);
    for (int i = 0; i < nops && in_.remaining_bytes() > 0; ++i) {
      switch (in_.ConsumeIntegralInRange<int>(0, 5)) {
        case 0:
          PutOwner(NewItem(), true);
          break;
        case 5:  // a burst, so that steals take more than one
          for (int k = in_.ConsumeIntegralInRange<int>(2, 8); k > 0; --k) {
            if (nitems_ >= kMaxItems) break;
            PutOwner(NewItem(), true);
          }
          break;
        case 1: {
          Item* it = NewItem();
          Item* kicked = q_.PutRunnext(it);
          FUZZ_CHECK(kicked == model_next_, "runnext",
                     "PutRunnext displaced %p, model says %p", (void*)kicked,
                     (void*)model_next_);
          model_next_ = it;
          if (kicked != nullptr) PutOwner(kicked, true);
          break;
        }
        case 2: {
          bool skip = in_.ConsumeBool();
          bool from_next = false;
          Item* got = q_.Get(skip, &from_next);
          Item* want = nullptr;
          if (!skip && model_next_ != nullptr) {
            want = model_next_;
            model_next_ = nullptr;
          } else if (!model_.empty()) {
            want = model_.front();
            model_.pop_front();
          }
          FUZZ_CHECK(got == want, "owner FIFO",
                     "Get(skip_runnext=%d) returned %lld, model says %lld",
                     skip, got ? (long long)got->id : -1LL,
                     want ? (long long)want->id : -1LL);
          if (got != nullptr) {
            FUZZ_CHECK(from_next == (got->rseq == -1), "runnext",
                       "Get reported from_runnext=%d for element %lld",
                       from_next, (long long)got->id);
            if (!from_next) CheckOwnerOrder(got);
            Seen(got, "owner");
          }
          break;
        }
        case 3: {
          int k = in_.ConsumeIntegralInRange<int>(0, kMaxThieves - 1);
          bool steal_next = in_.ConsumeBool();
          uint32_t size = static_cast<uint32_t>(model_.size());
          uint32_t stolen = 0;
          std::vector<Item*> batch = StealInto(thieves_[k], steal_next, &stolen);
          CheckBatch(batch, stolen);
          uint32_t want = Amount::Take(size);
          if (want == 0 && steal_next && model_next_ != nullptr) {
            FUZZ_CHECK(stolen == 1 && batch[0] == model_next_, "steal amount",
                       "stealing runnext took %u elements", stolen);
            model_next_ = nullptr;
          } else {
            FUZZ_CHECK(stolen == want, "steal amount",
                       "a steal from a ring of %u took %u, %s wants %u", size,
                       stolen, Amount::kName, want);
            for (Item* t : batch) {
              FUZZ_CHECK(t == model_.front(), "steal takes from the ring head",
                         "stole %lld, model head %lld", (long long)t->id,
                         (long long)model_.front()->id);
              model_.pop_front();
            }
          }
          for (Item* t : batch) Seen(t, "thief");
          break;
        }
        case 4: {
          FUZZ_CHECK(q_.Size() == model_.size(), "size and emptiness",
                     "Size() = %u, model %zu", q_.Size(), model_.size());
          bool empty = model_.empty() && model_next_ == nullptr;
          FUZZ_CHECK(q_.Empty() == empty, "size and emptiness",
                     "Empty() = %d, model %d", q_.Empty(), empty);
          FUZZ_CHECK(q_.Runnext() == model_next_, "runnext",
                     "Runnext() = %p, model %p", (void*)q_.Runnext(),
                     (void*)model_next_);
          break;
        }
      }
    }
  }

  void Concurrent() {
    int nthieves = in_.ConsumeIntegralInRange<int>(0, kMaxThieves);
    int nops = in_.ConsumeIntegralInRange<int>(0, kMaxConcOps);
    std::vector<uint8_t> ops = in_.ConsumeBytes<uint8_t>(nops);
    if (nthieves == 0 || ops.empty()) return;
    std::atomic<bool> done{false};
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int k = 0; k < nthieves; ++k) {
      threads.emplace_back([this, k, &done, &ready] {
        ready.fetch_add(1);
        bool steal_next = (k & 1) != 0;
        for (;;) {
          bool last = done.load(std::memory_order_acquire);
          uint32_t stolen = 0;
          std::vector<Item*> batch = StealInto(thieves_[k], steal_next, &stolen);
          CheckBatch(batch, stolen);
          for (Item* t : batch) Seen(t, "thief");
          if (last) return;
          if (stolen == 0) std::this_thread::yield();  // let the owner fill
          steal_next = !steal_next;
        }
      });
    }
    while (ready.load() < nthieves) std::this_thread::yield();
    for (uint8_t op : ops) {
      switch (op % 4) {
        case 0:  // a burst, so that steals take more than one
          for (int k = 2 + (op >> 2) % 8; k > 0 && nitems_ < kMaxItems; --k) {
            PutOwner(NewItem(), false);
          }
          break;
        case 1:
          PutOwner(NewItem(), false);
          break;
        case 2: {
          Item* kicked = q_.PutRunnext(NewItem());
          if (kicked != nullptr) PutOwner(kicked, false);
          break;
        }
        case 3: {
          bool from_next = false;
          if (Item* got = q_.Get((op & 4) != 0, &from_next)) {
            if (!from_next) CheckOwnerOrder(got);
            Seen(got, "owner");
          }
          break;
        }
      }
    }
    done.store(true, std::memory_order_release);
    for (auto& t : threads) t.join();
  }

  // PutChain pushes `it` into chain queue `q` as its owner (runnext when
  // `next`), overflowing half the ring when it is full: the overflow batch
  // counts as taken.
  void PutChain(Queue& q, Item* it, bool next) {
    it->hop = it->hop + 1;  // plain, published by the Put
    if (next) {
      it = q.PutRunnext(it);
      if (it == nullptr) return;
    }
    for (;;) {
      if (q.Put(it)) return;
      Item* batch[Queue::kOverflowBatch];
      uint32_t n = q.Overflow(it, batch);
      if (n == 0) continue;  // a thief made room meanwhile
      FUZZ_CHECK(n == Queue::kOverflowBatch && batch[n - 1] == it,
                 "overflow takes half",
                 "chain queue: Overflow returned %u, want %u, new one last", n,
                 Queue::kOverflowBatch);
      for (uint32_t i = 0; i < n; ++i) Take(batch[i], "chain overflow");
      return;
    }
  }

  // Take marks `it` as taken for good, reading its plain fields.
  void Take(Item* it, const char* by) {
    FUZZ_CHECK(it->hop >= 0, "every element seen exactly once",
               "element %lld taken by %s has hop count %lld", (long long)it->id,
               by, (long long)it->hop);
    Seen(it, by);
  }

  void Chain() {
    const int nthieves = in_.ConsumeIntegralInRange<int>(1, kMaxThieves);
    const std::vector<uint8_t> thief_ops = in_.ConsumeBytes<uint8_t>(
        in_.ConsumeIntegralInRange<int>(1, kMaxChainOps));
    const std::vector<uint8_t> owner_ops = in_.ConsumeBytes<uint8_t>(
        in_.ConsumeIntegralInRange<int>(0, kMaxConcOps));
    if (print_) {
      std::fprintf(stderr,
                   "runq chain: capacity %u, %d thieves, %zu thief ops, "
                   "%zu owner ops\n",
                   N, nthieves, thief_ops.size(), owner_ops.size());
    }
    if (thief_ops.empty()) return;
    // done[0]: the owner finished; done[k + 1]: thief k finished.
    std::atomic<bool> done[kMaxThieves + 1] = {};
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int k = 0; k < nthieves; ++k) {
      threads.emplace_back([this, k, &done, &ready, &thief_ops] {
        ready.fetch_add(1);
        Queue& mine = chain_[k];
        Queue& victim = k == 0 ? q_ : chain_[k - 1];
        for (size_t j = static_cast<size_t>(k);; ++j) {
          const uint8_t op = thief_ops[j % thief_ops.size()];
          const bool last = done[k].load(std::memory_order_acquire);
          uint32_t stolen = 0;
          if (mine.Size() == 0) {  // only we add to it: empty stays empty
            Item* first = mine.template StealFrom<Amount>(
                victim, (op & 1) != 0, [] { std::this_thread::yield(); },
                &stolen);
            FUZZ_CHECK((first != nullptr) == (stolen != 0), "steal amount",
                       "chain thief %d: StealFrom returned %p, stolen %u", k,
                       (void*)first, stolen);
            FUZZ_CHECK(stolen <= Amount::Take(N), "steal amount",
                       "chain thief %d took %u from a ring of %u (%s)", k,
                       stolen, N, Amount::kName);
            if (first != nullptr) {
              if ((op >> 1) % 3 == 0) {
                Take(first, "chain thief");
              } else {
                PutChain(mine, first, (op >> 1) % 3 == 2);
              }
            }
          }
          switch ((op >> 3) % 4) {
            case 0: {  // take one from our own queue
              bool from_next = false;
              if (Item* got = mine.Get((op & 0x20) != 0, &from_next)) {
                Take(got, "chain owner");
              }
              break;
            }
            case 1: {  // take one and push it back
              bool from_next = false;
              if (Item* got = mine.Get(false, &from_next)) {
                PutChain(mine, got, (op & 0x20) != 0);
              }
              break;
            }
            default:  // keep them for the next thief
              std::this_thread::yield();
              break;
          }
          if (last && stolen == 0) break;
        }
        done[k + 1].store(true, std::memory_order_release);
      });
    }
    while (ready.load() < nthieves) std::this_thread::yield();
    for (uint8_t op : owner_ops) {
      switch (op % 4) {
        case 0:
          for (int k = 2 + (op >> 2) % 8; k > 0 && nitems_ < kMaxItems; --k) {
            PutOwner(NewItem(), false);
          }
          break;
        case 1:
          if (nitems_ < kMaxItems) PutOwner(NewItem(), false);
          break;
        case 2:
          if (nitems_ < kMaxItems) {
            if (Item* kicked = q_.PutRunnext(NewItem())) {
              PutOwner(kicked, false);
            }
          }
          break;
        case 3: {
          bool from_next = false;
          if (Item* got = q_.Get((op & 4) != 0, &from_next)) {
            if (!from_next) CheckOwnerOrder(got);
            Seen(got, "owner");
          }
          break;
        }
      }
    }
    done[0].store(true, std::memory_order_release);
    for (auto& t : threads) t.join();
    for (int k = 0; k < nthieves; ++k) {
      bool from_next = false;
      while (Item* got = chain_[k].Get(false, &from_next)) {
        Take(got, "final drain");
      }
      FUZZ_CHECK(chain_[k].Empty(), "size and emptiness",
                 "chain queue %d not empty after draining", k);
    }
  }

  void Drain() {
    bool from_next = false;
    while (Item* got = q_.Get(false, &from_next)) {
      if (!from_next) CheckOwnerOrder(got);
      Seen(got, "owner");
    }
    FUZZ_CHECK(q_.Empty() && q_.Size() == 0, "size and emptiness",
               "a drained queue is not empty (size %u)", q_.Size());
  }

  FuzzedDataProvider& in_;
  Queue q_;
  Queue thieves_[kMaxThieves];
  Queue chain_[kMaxThieves];
  const bool print_ = [] {
    const char* e = std::getenv("GMP_FUZZ_PRINT");
    return e != nullptr && e[0] == '1';
  }();
  std::unique_ptr<Item[]> items_;
  int64_t nitems_ = 0;
  int64_t next_rseq_ = 0;
  int64_t owner_last_rseq_ = -1;
  std::deque<Item*> model_;
  Item* model_next_ = nullptr;
};

template <uint32_t N>
void RunWith(FuzzedDataProvider& in) {
  auto h = std::make_unique<Harness<N>>(in);
  h->Run();
}

}  // namespace
}  // namespace gmp_fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  switch (in.ConsumeIntegralInRange<int>(0, 2)) {
    case 0:
      gmp_fuzz::RunWith<4>(in);
      break;
    case 1:
      gmp_fuzz::RunWith<16>(in);
      break;
    default:
      gmp_fuzz::RunWith<gmp::internal::policy::kRunqSize>(in);
      break;
  }
  return 0;
}
