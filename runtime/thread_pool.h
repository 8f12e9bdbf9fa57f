// runtime/thread_pool.h — OS threads kept across Runs: the threads of Ms
// and the runtime's service threads (sysmon, the trace thread). See the
// design note at the top of thread_pool.cc.
//
// Internal to the runtime. Policy-independent.
#ifndef GMPLAB_RUNTIME_THREAD_POOL_H_
#define GMPLAB_RUNTIME_THREAD_POOL_H_

#include <pthread.h>

#include <atomic>
#include <cstdint>

#include "runtime/note.h"

namespace gmp::internal {

struct M;

// StartMThread starts mp on an idle pooled thread, or on a new one, which
// runs mstart(mp) (proc.cc) and sets mp->thread. newm, under sched.lock.
// pthread_create failing is a fatal error.
void StartMThread(M* mp);

// WaitMExited blocks until mp's thread is done with mp and with the Sched
// (M.exited); JoinM also joins the thread when it was not kept for a later
// Run. Any thread but mp's.
void WaitMExited(M* mp);
void JoinM(M* mp);

// ThreadPoolStats is what tests read about the pool: M threads created by
// this process, and those idle now.
struct ThreadPoolStats {
  int64_t created = 0;
  int32_t idle = 0;
};
ThreadPoolStats ReadThreadPoolStats();  // any thread

// ServiceThread is a resident thread of the runtime (sysmon, the trace
// thread): created by the first Run, it runs `body` until process exit,
// when quit() asks body to return. body learns of each Run itself, under a
// lock of its own that Run's thread takes to publish and retract the Sched,
// so that a Run neither waits for the thread nor has to wake it to stop it.
class ServiceThread {
 public:
  constexpr ServiceThread(const char* name, void (*body)(), void (*quit)())
      : name_(name), body_(body), quit_(quit) {}
  ServiceThread(const ServiceThread&) = delete;
  ServiceThread& operator=(const ServiceThread&) = delete;

  // Start creates the thread the first time it is called. Run's thread.
  void Start();

  // ShutdownAll has every started service thread return and joins it
  // (process exit); ForgetAllInChild forgets them in a forked child, which
  // does not have them.
  static void ShutdownAll();
  static void ForgetAllInChild();

 private:
  static void* Main(void* arg);

  const char* name_;
  void (*body_)();
  void (*quit_)();
  pthread_t thread_{};
  std::atomic<bool> started_{false};  // the thread exists
  bool listed_ = false;               // on all_ (Run's thread)
  ServiceThread* next_ = nullptr;     // all_ list
  static ServiceThread* all_;         // every service thread ever started
};

}  // namespace gmp::internal

#endif  // GMPLAB_RUNTIME_THREAD_POOL_H_
