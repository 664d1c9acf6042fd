#include "turn_scheduler.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace ingest {

namespace {

pid_t ThisThread() { return ::gettid(); }

// The scheduling state letter of a thread of this process ('R', 'S', ...),
// or 0 if it is gone.
char StateOf(pid_t tid) {
  char path[64];
  std::snprintf(path, sizeof(path), "/proc/self/task/%d/stat", static_cast<int>(tid));
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[512];
  const ssize_t n = ::read(fd, buf, sizeof(buf) - 1);
  ::close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  // "tid (comm) S ...": comm may hold anything, so look after its last ')'.
  const char* close = std::strrchr(buf, ')');
  if (close == nullptr || close[1] != ' ') return 0;
  return close[2];
}

// Whether thread `tid` is asleep in a futex wait: on a mutex, a condition
// variable, a join. A thread asleep anywhere else (a full pipe, a sleep, a
// network filesystem's reply) is still on its way to its next operation.
bool InFutexWait(pid_t tid) {
  char path[64];
  std::snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", static_cast<int>(tid));
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[64];
  const ssize_t n = ::read(fd, buf, sizeof(buf) - 1);
  ::close(fd);
  if (n <= 0) return false;
  buf[n] = '\0';
  // "running", or the number of the system call it is in, then its
  // arguments.
  char* end = nullptr;
  const long nr = std::strtol(buf, &end, 10);
  if (end == buf) return false;
#ifdef SYS_futex_waitv
  if (nr == SYS_futex_waitv) return true;
#endif
  return nr == SYS_futex;
}

std::vector<pid_t> Threads() {
  std::vector<pid_t> out;
  DIR* dir = ::opendir("/proc/self/task");
  if (dir == nullptr) std::abort();
  while (const dirent* e = ::readdir(dir)) {
    if (e->d_name[0] != '.') out.push_back(static_cast<pid_t>(std::atoi(e->d_name)));
  }
  ::closedir(dir);
  return out;
}

}  // namespace

TurnScheduler::TurnScheduler(Policy policy, uint64_t seed)
    : policy_(policy),
      creator_(ThisThread()),
      random_(seed),
      proc_stat_fd_(::open("/proc/self/stat", O_RDONLY | O_CLOEXEC)) {
  if (proc_stat_fd_ < 0) std::abort();
  rank_[creator_] = 0;
  controller_ = std::thread([this] { ControllerMain(); });
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return controller_tid_ != 0; });
}

TurnScheduler::~TurnScheduler() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  controller_cv_.notify_all();
  controller_.join();
  ::close(proc_stat_fd_);
}

void TurnScheduler::Turn(std::string_view what) {
  const pid_t me = ThisThread();
  entering_.fetch_add(1);
  std::unique_lock<std::mutex> lock(mu_);
  entering_.fetch_sub(1);
  if (stop_) return;
  if (rank_.count(me) == 0) rank_.emplace(me, static_cast<int>(rank_.size()));
  stopped_.insert(me);
  // Usually every other thread is stopped or blocked already, and the
  // thread that stops last decides, often for itself, without a switch to
  // the controller.
  if (!TryGrant(&lock)) controller_cv_.notify_one();
  cv_.wait(lock, [&] { return granted_ == me || stop_; });
  stopped_.erase(me);
  if (granted_ == me) granted_ = 0;
  log_ += std::to_string(rank_[me]) + " " + std::string(what) + "\n";
}

bool TurnScheduler::TryGrant(std::unique_lock<std::mutex>* lock) {
  if (stopped_.empty() || granted_ != 0 || deciding_) return false;
  deciding_ = true;
  const std::set<pid_t> seen = stopped_;
  lock->unlock();
  const bool blocked = OthersBlocked(seen);
  lock->lock();
  deciding_ = false;
  // A thread that stopped, or began to, while /proc was read may have
  // looked blocked: look again.
  if (!blocked || stopped_ != seen || entering_.load() != 0) return false;
  granted_ = Choose();
  cv_.notify_all();
  return true;
}

uint64_t TurnScheduler::contested() const {
  std::lock_guard<std::mutex> lock(mu_);
  return contested_;
}

std::string TurnScheduler::log() const {
  std::lock_guard<std::mutex> lock(mu_);
  return log_;
}

std::string TurnScheduler::trace() const {
  std::lock_guard<std::mutex> lock(mu_);
  return trace_;
}

int TurnScheduler::ThreadCount() const {
  char buf[1024];
  const ssize_t n = ::pread(proc_stat_fd_, buf, sizeof(buf) - 1, 0);
  if (n <= 0) std::abort();
  buf[n] = '\0';
  // num_threads is the 18th field after the ')' closing comm.
  const char* p = std::strrchr(buf, ')');
  for (int field = 0; p != nullptr && field < 18; ++field) p = std::strchr(p + 1, ' ');
  return p == nullptr ? -1 : std::atoi(p + 1);
}

bool TurnScheduler::OthersBlocked(const std::set<pid_t>& stopped) const {
  // Commonly every thread but the controller is stopped: one read says so.
  if (ThreadCount() == static_cast<int>(stopped.size()) + 1) return true;
  for (pid_t tid : Threads()) {
    if (tid == controller_tid_ || stopped.count(tid)) continue;
    const char state = StateOf(tid);
    if (state == 0) continue;  // gone
    if (state != 'S' || !InFutexWait(tid)) return false;
  }
  return true;
}

pid_t TurnScheduler::Choose() {
  ++decisions_;
  pid_t pick = *stopped_.begin();
  if (stopped_.size() > 1) {
    ++contested_;
    std::vector<pid_t> by_rank(stopped_.begin(), stopped_.end());
    std::sort(by_rank.begin(), by_rank.end(),
              [&](pid_t a, pid_t b) { return rank_[a] < rank_[b]; });
    switch (policy_) {
      case Policy::kAlternate:
        pick = by_rank.front();
        for (pid_t t : by_rank) {
          if (last_went_[t] < last_went_[pick]) pick = t;
        }
        break;
      case Policy::kCommitterAhead:
        pick = by_rank.front();
        break;
      case Policy::kFinisherAhead:
        pick = by_rank.back();
        break;
      case Policy::kRandom:
        pick = by_rank[std::uniform_int_distribution<size_t>(0, by_rank.size() - 1)(random_)];
        break;
    }
  }
  last_went_[pick] = decisions_;
  trace_ += static_cast<char>('0' + std::min(rank_[pick], 9));
  return pick;
}

// Decides when the last thread to stop could not: another was running
// then, and may since have stopped (and decided) or blocked.
void TurnScheduler::ControllerMain() {
  std::unique_lock<std::mutex> lock(mu_);
  controller_tid_ = ThisThread();
  cv_.notify_all();
  // A thread that stops wakes the controller; one that blocks is seen at
  // the next look, so the wait doubles while nothing changes.
  auto backoff = std::chrono::microseconds(50);
  while (!stop_) {
    if (stopped_.empty() || granted_ != 0) {
      controller_cv_.wait_for(lock, std::chrono::milliseconds(1));
      backoff = std::chrono::microseconds(50);
      continue;
    }
    if (TryGrant(&lock)) {
      backoff = std::chrono::microseconds(50);
      continue;
    }
    controller_cv_.wait_for(lock, backoff);
    backoff = std::min(backoff * 2, std::chrono::microseconds(3200));
  }
}

}  // namespace ingest
