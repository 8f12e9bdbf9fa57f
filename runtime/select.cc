// runtime/select.cc — gmp::Select and gmp::TrySelect. See select.h for the
// semantics and the design.
#include "runtime/select.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "runtime/chan.h"
#include "runtime/fatal.h"
#if defined(GMP_CANARY_SELECT_CLAIM_NOT_ATOMIC)
#include "runtime/policy/config.h"
#endif
#include "runtime/proc.h"
#include "runtime/sudog.h"

namespace gmp {
namespace internal {

bool ClaimSelect(Sudog* s) {
#if defined(GMP_CANARY_SELECT_CLAIM_NOT_ATOMIC)
  // BUG (canary): check, then set: two wakers that dequeue Sudogs of the
  // same Select on two channels may both see it unclaimed and both wake it.
  if (policy::CanaryFires()) {
    if (s->select->done.load(std::memory_order_acquire)) return false;
    s->select->done.store(true, std::memory_order_release);
    s->select->fired = s;
    return true;
  }
#endif
  // order: acq_rel is redundant: only atomicity matters (one winner); done and
  // fired are ordered by the channel locks. May be relaxed; measure first.
  if (s->select->done.exchange(true, std::memory_order_acq_rel)) return false;
  s->select->fired = s;
  return true;
}

// Selector is one Select call: its cases in poll order and in lock order,
// and, once it has to wait, its Sudogs. It lives in the selecting
// goroutine's frame.
struct Selector {
  static constexpr int kInline = 8;

  const SelectCase* cases;
  absl::InlinedVector<int, kInline> poll;  // case indices, random order
  absl::InlinedVector<int, kInline> lock;  // case indices, by channel address

  Selector(const SelectCase* c, int n) : cases(c) {
    for (int i = 0; i < n; ++i) {
      if (c[i].chan_ != nullptr) poll.push_back(i);
    }
    Shuffle();
    lock = poll;
    std::sort(lock.begin(), lock.end(), [c](int a, int b) {
      return std::less<ChanBase*>()(c[a].chan_, c[b].chan_);
    });
  }

  ChanBase* ChanOf(int i) const { return cases[i].chan_; }

  // Shuffle puts `poll` in a uniformly random order (Fisher–Yates).
  void Shuffle() {
    // A per-thread generator: a goroutine that moves threads mid-shuffle
    // just draws from another stream, which is as random.
    thread_local uint64_t state =
        0x9e3779b97f4a7c15ull ^ reinterpret_cast<uintptr_t>(&state);
    for (int i = static_cast<int>(poll.size()) - 1; i > 0; --i) {
      state ^= state << 13;
      state ^= state >> 7;
      state ^= state << 17;
      const int j = static_cast<int>((state >> 32) % (i + 1));
      std::swap(poll[i], poll[j]);
    }
  }

  // LockAll locks every distinct channel, in address order.
  void LockAll() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    ChanBase* last = nullptr;
    for (int i : lock) {
      if (ChanOf(i) == last) continue;
      last = ChanOf(i);
      last->lock_.lock();
    }
  }

  // UnlockAll unlocks every distinct channel, in reverse address order.
  void UnlockAll() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    ChanBase* last = nullptr;
    for (auto it = lock.rbegin(); it != lock.rend(); ++it) {
      if (ChanOf(*it) == last) continue;
      last = ChanOf(*it);
      last->lock_.unlock();
    }
  }

  // Poll does the first ready case in poll order and returns its index, with
  // every channel unlocked and any goroutine it made runnable readied; or
  // returns kSelectDefault with every channel still locked. A send case on a
  // closed channel is a fatal error. Channels locked.
  int Poll() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    for (int i : poll) {
      const SelectCase& c = cases[i];
      if (c.send_ && c.chan_->closed_) {
        UnlockAll();
        ChanBase::ThrowSendOnClosed();
      }
      G* ready = nullptr;
      if (!c.try_(c.chan_, c.elem_, &ready)) continue;
      UnlockAll();
      if (ready != nullptr) goready(ready);
      return i;
    }
    return kSelectDefault;
  }

  // Wait queues one Sudog per case (`sudogs[k]` for lock[k]), parks until a
  // waker fires one of them, then withdraws the others. Returns the index of
  // the case that fired. Channels locked on entry, unlocked on return.
  int Wait(G* gp) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    SelectWait wait;
    absl::InlinedVector<Sudog, kInline> sudogs(lock.size());
    for (size_t k = 0; k < lock.size(); ++k) {
      const SelectCase& c = cases[lock[k]];
      Sudog& s = sudogs[k];
      s.g = gp;
      s.elem = c.elem_;
      s.select = &wait;
      s.case_index = lock[k];
      (c.send_ ? c.chan_->sendq_ : c.chan_->recvq_).PushBack(&s);
    }
    gopark(&UnlockSelector, this, WaitReason::kSelect);
    // A waker won `wait` and completed its case (or, with success false,
    // found the channel closed). Every Sudog but that one may still be
    // queued, unless a waker that lost dropped it.
    Sudog* fired = wait.fired;
    LockAll();
    for (size_t k = 0; k < lock.size(); ++k) {
      Sudog* s = &sudogs[k];
      if (s == fired) continue;
      const SelectCase& c = cases[lock[k]];
      (c.send_ ? c.chan_->sendq_ : c.chan_->recvq_).Remove(s);
    }
    UnlockAll();
    const SelectCase& c = cases[fired->case_index];
    if (!fired->success) {
      if (c.send_) ChanBase::ThrowSendOnClosed();
      c.closed_(c.elem_);
    }
    return fired->case_index;
  }

  // OnlyCase returns the index of the one case that is not absent,
  // kSelectDefault when all are absent, or -2 when several are present.
  static int OnlyCase(const SelectCase* cases, int n) {
    int only = kSelectDefault;
    for (int i = 0; i < n; ++i) {
      if (cases[i].chan_ == nullptr) continue;
      if (only != kSelectDefault) return -2;
      only = i;
    }
    return only;
  }

  // TryOne does `c` if it can proceed without waiting, as a Select of that
  // case alone would, and returns whether it did: the common `case` plus
  // `default:` select, without sorting or shuffling (Go compiles it to a
  // plain non-blocking channel operation).
  static bool TryOne(const SelectCase& c) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    ChanBase* ch = c.chan_;
    ch->lock_.lock();
    if (c.send_ && ch->closed_) {
      ch->lock_.unlock();
      ChanBase::ThrowSendOnClosed();
    }
    G* ready = nullptr;
    const bool done = c.try_(ch, c.elem_, &ready);
    ch->lock_.unlock();
    if (ready != nullptr) goready(ready);
    return done;
  }

  // UnlockSelector is gopark's unlock function: it unlocks the channels
  // once the selecting goroutine is switched out. The Selector lives in
  // that goroutine's frame, and once any channel is unlocked a waker may
  // ready the goroutine, which locks them all again, withdraws, returns and
  // reuses the frame as soon as the last one is unlocked; so the channels
  // are copied onto this (g0's) stack first, and the Selector is not read
  // after the first unlock.
  static bool UnlockSelector(G*, void* arg) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    const Selector& sel = *static_cast<const Selector*>(arg);
    absl::InlinedVector<ChanBase*, kInline> chans;
    for (int i : sel.lock) {
      if (chans.empty() || chans.back() != sel.ChanOf(i)) {
        chans.push_back(sel.ChanOf(i));
      }
    }
    for (auto it = chans.rbegin(); it != chans.rend(); ++it) {
      (*it)->lock_.unlock();
    }
    return true;
  }
};

namespace {

bool UnlockNothing(G*, void*) { return true; }

int DoSelect(const SelectCase* cases, int n, bool block) {
  G* gp = getg();
  if (gp == nullptr) {
    Throw(block ? "gmp::Select called outside a goroutine"
                : "gmp::TrySelect called outside a goroutine");
  }
  if (n < 0 || (n > 0 && cases == nullptr)) {
    Throw("gmp::Select: bad case list");
  }
  CheckPreemptAndFuzzYield();
  // One case that can fire, and no waiting: the fast path.
  if (!block) {
    const int only = Selector::OnlyCase(cases, n);
    if (only == kSelectDefault) return kSelectDefault;
    if (only >= 0) return Selector::TryOne(cases[only]) ? only : kSelectDefault;
  }
  Selector sel(cases, n);
  if (sel.poll.empty()) {
    if (!block) return kSelectDefault;
    // Nothing can ever fire: park for good, as Go's empty select does.
    for (;;) gopark(&UnlockNothing, nullptr, WaitReason::kSelectNoCases);
  }
  sel.LockAll();
  if (int i = sel.Poll(); i != kSelectDefault) return i;
  if (!block) {
    sel.UnlockAll();
    return kSelectDefault;
  }
  return sel.Wait(gp);
}

}  // namespace
}  // namespace internal

int Select(const SelectCase* cases, int n) {
  return internal::DoSelect(cases, n, /*block=*/true);
}

int Select(std::initializer_list<SelectCase> cases) {
  return Select(cases.begin(), static_cast<int>(cases.size()));
}

int TrySelect(const SelectCase* cases, int n) {
  return internal::DoSelect(cases, n, /*block=*/false);
}

int TrySelect(std::initializer_list<SelectCase> cases) {
  return TrySelect(cases.begin(), static_cast<int>(cases.size()));
}

}  // namespace gmp
