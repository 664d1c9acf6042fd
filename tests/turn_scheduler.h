#pragma once

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <thread>

namespace ingest {

// Decides which thread performs the next operation of a FaultEnv, so that
// a pass whose batches finish on a second thread (the committer starting
// batch k+1 while the finisher makes batch k durable) runs its operations
// in an order the test chooses, and in the same order on every run.
//
// Every thread stops in Turn() before each operation. Once each other
// thread of the process is either stopped there or blocked (asleep in the
// kernel in a futex wait: on a queue, a condition variable, a mutex, a
// join), the policy picks one stopped thread, which then runs alone until
// its next Turn() or until it blocks. Blocked is read from /proc: state S
// in /proc/self/task/<tid>/stat, in the futex system call by its
// `syscall` file. A wake-up makes its thread runnable before the waker
// goes on, so the set of stopped threads at each decision is the same on
// every run; a thread whose timed wait expires only delays the decision.
//
// Threads are ranked: the one that made the scheduler (the test's, which
// runs the pass and so the committer) is 0, the others count up in the
// order of their first Turn().
class TurnScheduler {
 public:
  enum class Policy {
    kAlternate,       // the stopped thread that went least recently
    kCommitterAhead,  // the lowest rank stopped: each runs as far as it can
    kFinisherAhead,   // the highest rank stopped
    kRandom,          // a stopped thread drawn with a generator seeded by `seed`
  };

  TurnScheduler(Policy policy, uint64_t seed);
  ~TurnScheduler();

  TurnScheduler(const TurnScheduler&) = delete;
  TurnScheduler& operator=(const TurnScheduler&) = delete;

  // Waits until this thread may perform its next operation, `what`.
  void Turn(std::string_view what);

  // Decisions taken between two or more stopped threads.
  uint64_t contested() const;
  // The rank of the thread of each operation so far, one digit each.
  std::string trace() const;
  // Each operation so far on a line: the rank of its thread, and what it
  // was.
  std::string log() const;

 private:
  void ControllerMain();
  // Whether every thread of the process, other than the controller and
  // those in `stopped`, is blocked.
  bool OthersBlocked(const std::set<pid_t>& stopped) const;
  // The threads of the process, from /proc/self/stat.
  int ThreadCount() const;
  pid_t Choose();  // mu_ held
  // Grants a turn if every thread not stopped is blocked; `lock` holds mu_
  // and is let go while /proc is read.
  bool TryGrant(std::unique_lock<std::mutex>* lock);

  const Policy policy_;
  const pid_t creator_;
  std::mt19937_64 random_;
  const int proc_stat_fd_;

  mutable std::mutex mu_;
  std::condition_variable cv_;             // a turn was granted
  std::condition_variable controller_cv_;  // a thread stopped undecided
  bool deciding_ = false;                  // a thread reads /proc for a decision
  std::set<pid_t> stopped_;
  // Threads inside Turn() that have not registered as stopped yet: one
  // waiting for mu_ looks blocked.
  std::atomic<int> entering_{0};
  pid_t granted_ = 0;
  std::map<pid_t, int> rank_;
  std::map<pid_t, uint64_t> last_went_;  // decision number of its last turn
  uint64_t decisions_ = 0;
  uint64_t contested_ = 0;
  std::string trace_;
  std::string log_;
  bool stop_ = false;
  pid_t controller_tid_ = 0;
  std::thread controller_;
};

}  // namespace ingest
