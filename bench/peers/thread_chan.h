// bench/peers/thread_chan.h — a Go-like channel and WaitGroup for OS threads
// (mutex + condition variable), used by the std::thread peer.
#ifndef GMPLAB_BENCH_PEERS_THREAD_CHAN_H_
#define GMPLAB_BENCH_PEERS_THREAD_CHAN_H_

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>

namespace gmplab_bench {

// ThreadChan is a channel between threads. cap 0 is a rendezvous: Send
// returns only once a receiver has taken the value.
template <class T>
class ThreadChan {
 public:
  explicit ThreadChan(size_t cap = 0) : cap_(cap) {}

  void Send(T v) {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return q_.size() < std::max<size_t>(cap_, 1) || closed_; });
    q_.push_back(std::move(v));
    uint64_t mine = ++sent_;
    cv_.notify_all();
    if (cap_ == 0) cv_.wait(l, [&] { return taken_ >= mine; });
  }

  // Recv returns the next value, or nullopt once closed and drained.
  std::optional<T> Recv() {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return !q_.empty() || closed_; });
    if (q_.empty()) return std::nullopt;
    T v = std::move(q_.front());
    q_.pop_front();
    ++taken_;
    cv_.notify_all();
    return v;
  }

  void Close() {
    std::lock_guard<std::mutex> l(mu_);
    closed_ = true;
    cv_.notify_all();
  }

 private:
  const size_t cap_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<T> q_;
  bool closed_ = false;
  uint64_t sent_ = 0;
  uint64_t taken_ = 0;
};

// ThreadWaitGroup is sync.WaitGroup for threads.
class ThreadWaitGroup {
 public:
  void Add(int64_t n) {
    std::lock_guard<std::mutex> l(mu_);
    count_ += n;
    if (count_ == 0) cv_.notify_all();
  }
  void Done() { Add(-1); }
  void Wait() {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return count_ == 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int64_t count_ = 0;
};

}  // namespace gmplab_bench

#endif  // GMPLAB_BENCH_PEERS_THREAD_CHAN_H_
