// runtime/thread_pool.h — OS threads kept across Runs: the threads of Ms
// and the runtime's service threads (sysmon, the trace thread, the stack
// scavenger). See the design note at the top of thread_pool.cc.
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

// ServiceThread is a process-wide thread of the runtime, created by the
// first Run. Without `quit` it runs `body` once per Run, between Start and
// Stop, and sleeps in between; body must return soon after the caller of
// Stop asked it to (each body has its own stop flag and note). With `quit`
// it is resident: body runs from the first Start until process exit, when
// quit() asks it to return; Start and Stop do nothing more, and body itself
// learns of each Run (e.g. under a lock of its own).
class ServiceThread {
 public:
  constexpr ServiceThread(const char* name, void (*body)(),
                          void (*quit)() = nullptr)
      : name_(name), body_(body), quit_fn_(quit) {}
  ServiceThread(const ServiceThread&) = delete;
  ServiceThread& operator=(const ServiceThread&) = delete;

  // Start has the thread run body (creating the thread the first time).
  // Everything the caller wrote before is visible to body. Run's thread.
  void Start();
  // Stop waits until body has returned, after the caller asked it to.
  // Everything body did is visible afterwards. Run's thread.
  void Stop();

  // ShutdownAll joins every service thread that serves no Run (process
  // exit); ForgetAllInChild forgets them in a forked child, which does not
  // have them.
  static void ShutdownAll();
  static void ForgetAllInChild();

 private:
  static void* Main(void* arg);
  void Shutdown();

  const char* name_;
  void (*body_)();
  void (*quit_fn_)();  // resident: asks body to return
  pthread_t thread_{};
  std::atomic<bool> started_{false};  // the thread exists
  std::atomic<bool> active_{false};   // between Start and Stop
  std::atomic<bool> quit_{false};     // Shutdown: return instead of body
  Note go_;                           // Start -> thread
  Note idle_;                         // thread -> Stop: body returned
  bool listed_ = false;               // on all_ (Run's thread)
  ServiceThread* next_ = nullptr;     // all_ list
  static ServiceThread* all_;         // every service thread ever started
};

}  // namespace gmp::internal

#endif  // GMPLAB_RUNTIME_THREAD_POOL_H_
