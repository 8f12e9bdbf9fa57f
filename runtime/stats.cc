// runtime/stats.cc — the counters behind gmp::ReadStats and the queries
// (GOMAXPROCS(), NumGoroutine(), ReadStats()) that any thread may make at
// any time: QuerySched pins the running runtime for them.
#include <sched.h>

#include <atomic>
#include <cstdint>
#include <mutex>

#include "runtime/gmp.h"
#include "runtime/policy/config.h"
#include "runtime/proc.h"
#include "runtime/sched.h"
#include "runtime/stack.h"

namespace gmp::internal {
namespace {

// Stats of the last finished Run, for ReadStats after Run returns.
std::mutex last_stats_mu;
Stats last_stats;

// The queries (GOMAXPROCS(), NumGoroutine(), ReadStats()) may be called from
// any thread at any time, also while Run starts or tears down. A thread
// outside the runtime reads the Sched through query_sched and counts itself
// in query_readers meanwhile; Run clears query_sched and then waits for
// query_readers to drain before it frees anything a query reads. Both sides
// are seq_cst (store, then load the other's word), so either the reader
// sees null or Run sees the reader.
std::atomic<Sched*> query_sched{nullptr};
std::atomic<int32_t> query_readers{0};

}  // namespace

Stats CollectStats(Sched* s) {
  int64_t v[kNumCounters] = {};
  for (int c = 0; c < kNumCounters; ++c) v[c] = s->counters.Get(Counter(c));
  // Every allocated P: one destroyed by GOMAXPROCS(n) keeps its counters.
  for (int32_t i = 0; i < s->allp.allocated(); ++i) {
    P* pp = s->allp[i];
    for (int c = 0; c < kNumCounters; ++c) v[c] += pp->counters.Get(Counter(c));
  }
  Stats st;
#define GMP_STATS_COPY(Enum, field, per_op, meaning) st.field = v[Enum];
  GMP_SCHED_COUNTERS(GMP_STATS_COPY)
#undef GMP_STATS_COPY
  if (s->stacks != nullptr) {
    const StackPool::Counts c = s->stacks->counts();
    st.stacks_fresh = c.fresh;
    st.stacks_reused = c.reused;
    st.stacks_refilled = c.refilled;
    st.stacks_returned = c.returned;
    st.stacks_resident_free =
        static_cast<int64_t>(s->stacks->resident_cached());
  }
  st.variant = policy::DescribeVariant();
  return st;
}

// SaveLastStats keeps s's totals for ReadStats after Run returns.
void SaveLastStats(Sched* s) {
  Stats st = CollectStats(s);
  std::lock_guard<std::mutex> l(last_stats_mu);
  last_stats = st;
}

Stats LastStats() {
  std::lock_guard<std::mutex> l(last_stats_mu);
  return last_stats;
}

QuerySched::QuerySched() {
  if (getg() != nullptr) {  // a goroutine of the running runtime
    s_ = sched;
    return;
  }
#if defined(GMP_CANARY_QUERY_UNSYNCHRONIZED)
  // BUG (canary): a foreign thread reads Run's plain `sched` without
  // pinning it, racing with Run, which sets it, frees the Ps and clears it.
  if (policy::CanaryFires()) {
    s_ = sched;
    return;
  }
#endif
  query_readers.fetch_add(1, std::memory_order_seq_cst);
  s_ = query_sched.load(std::memory_order_seq_cst);
  pinned_ = true;
}

QuerySched::~QuerySched() {
  if (pinned_) query_readers.fetch_sub(1, std::memory_order_release);
}

// QueryPublish makes s answer queries from threads outside the runtime.
// Run's thread, once s is built.
void QueryPublish(Sched* s) { query_sched.store(s, std::memory_order_seq_cst); }

// QueryUnpublish makes s invisible to queries and waits until none reads
// it. Run's thread, before it frees the Ps.
void QueryUnpublish() {
  query_sched.store(nullptr, std::memory_order_seq_cst);
  while (query_readers.load(std::memory_order_seq_cst) != 0) sched_yield();
}

// Live counts goroutines that exist now (spawned - completed).
int64_t LiveGoroutinesOf(Sched* s) {
  int64_t n = s->counters.Get(kSpawned) - s->counters.Get(kCompleted);
  for (int32_t i = 0; i < s->allp.allocated(); ++i) {
    P* pp = s->allp[i];
    n += pp->counters.Get(kSpawned) - pp->counters.Get(kCompleted);
  }
  return n;
}

int64_t LiveGoroutines() { return LiveGoroutinesOf(sched); }

}  // namespace gmp::internal
