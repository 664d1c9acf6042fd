#include "watch.h"

#include <poll.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>
#include <vector>

#include "clock.h"
#include "env.h"
#include "logging.h"
#include "staging_watcher.h"
#include "unique_fd.h"
#include "watch_schedule.h"

namespace ingest {

namespace {

// Runs one pass on a thread of its own and signals its end on an eventfd
// the poll loop watches.
class PassThread {
 public:
  Status Init() {
    int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0) return Status::FromErrno("cannot open an eventfd", errno);
    done_ = UniqueFd(fd);
    return Status::OK();
  }
  ~PassThread() { Join(); }

  int done_fd() const { return done_.get(); }
  bool running() const { return thread_.joinable(); }

  // `stop` must outlive the pass.
  void Start(const WatchPass& pass, const std::atomic<bool>& stop) {
    thread_ = std::thread([this, &pass, &stop] {
      result_ = pass(stop);
      const uint64_t one = 1;
      // Cannot fail short of a bug: the counter is far from overflowing.
      (void)!::write(done_.get(), &one, sizeof one);
    });
  }

  // Waits for the pass to end and returns what it reported.
  WatchPassResult Join() {
    if (thread_.joinable()) thread_.join();
    uint64_t count;
    (void)!::read(done_.get(), &count, sizeof count);
    return result_;
  }

 private:
  UniqueFd done_;
  std::thread thread_;
  WatchPassResult result_;  // written by the thread, read after join
};

const char* SignalName(int sig) {
  switch (sig) {
    case SIGTERM:
      return "SIGTERM";
    case SIGINT:
      return "SIGINT";
    case SIGHUP:
      return "SIGHUP";
    default:
      return "a signal";
  }
}

}  // namespace

Status Watch(const Options& options, SignalFd* signals, const WatchPass& pass) {
  Clock* mono = Clock::Monotonic();
  Clock* wall = Clock::Real();
  StagingWatcher watcher(Env::Default(), options.input, options.recursive);
  Status s = watcher.Start();
  if (!s.ok()) return s;
  PassThread runner;
  s = runner.Init();
  if (!s.ok()) return s;

  WatchTiming timing;
  timing.interval_ns = options.interval_seconds * kNanosPerSecond;
  WatchSchedule schedule(timing, mono->NowNs());
  spdlog::info("watching {} ({} director{}{}); a full pass at least every {}s", options.input,
               watcher.watched(), watcher.watched() == 1 ? "y" : "ies",
               watcher.complete() ? "" : ", not all", options.interval_seconds);

  std::atomic<bool> stop{false};
  Status fatal;
  while (!stop) {
    int64_t now = mono->NowNs();
    if (!runner.running() && schedule.Due(now)) {
      schedule.OnPassStarted(now);
      runner.Start(pass, stop);
    }
    struct pollfd fds[3] = {
        {signals->fd(), POLLIN, 0}, {watcher.fd(), POLLIN, 0}, {runner.done_fd(), POLLIN, 0}};
    const int timeout = runner.running() ? -1 : schedule.TimeoutMs(now);
    if (::poll(fds, 3, timeout) < 0) {
      if (errno == EINTR) continue;
      fatal = Status::FromErrno("cannot poll for events", errno);
      break;
    }
    now = mono->NowNs();

    if (fds[0].revents != 0) {
      std::vector<int> received;
      s = signals->Read(&received);
      if (!s.ok()) {
        fatal = s;
        break;
      }
      for (int sig : received) {
        if (sig == SIGHUP) {
          if (HasLogFile()) {
            RequestLogReopen();  // before this record, which goes to the new file
            spdlog::info("SIGHUP: log file reopened");
          } else {
            spdlog::info("SIGHUP: there is no --log-file to reopen");
          }
        } else if (!stop) {
          spdlog::info("{}: stopping once the files in flight are committed", SignalName(sig));
          stop = true;
        }
      }
    }

    if (fds[1].revents != 0) {
      StagingChanges changes;
      s = watcher.Read(&changes);
      if (!s.ok()) {
        fatal = s;
        break;
      }
      if (changes.input_gone) {
        fatal = Status::NotFound("the input directory " + options.input + " was " + changes.gone +
                                 "; stopping");
        break;
      }
      if (changes.overflow) {
        spdlog::warn("inotify events were lost (queue overflow); a full pass follows");
        schedule.OnOverflow();
      }
      if (changes.changed) schedule.OnChange(now);
    }

    if (fds[2].revents != 0) {
      const WatchPassResult r = runner.Join();
      PassFinish finish;
      finish.stopped_on_error = r.stopped_on_error;
      finish.cut_short = r.cut_short;
      if (r.next_ready_ns != 0) {
        finish.ready_in_ns = std::max<int64_t>(0, r.next_ready_ns - wall->NowNs());
      }
      schedule.OnPassFinished(mono->NowNs(), finish);
      if (finish.stopped_on_error) {
        spdlog::warn("the pass stopped on an error; the next one in {}s at the earliest",
                     timing.retry_ns / kNanosPerSecond);
      }
    }
  }
  // A pass still running sees the stop request, commits what it has
  // submitted and ends.
  stop = true;
  if (runner.running()) runner.Join();
  if (fatal.ok()) spdlog::info("watch stopped");
  return fatal;
}

}  // namespace ingest
