#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

namespace ingest {

// Live counters of a running pass, written by the scanner, the pipeline and
// the committer, read by the reporter. Relaxed atomics: they only inform.
struct ProgressCounters {
  std::atomic<uint64_t> listed{0};
  std::atomic<uint64_t> files{0};
  std::atomic<uint64_t> bytes{0};
  std::atomic<uint64_t> queued{0};
};

// While alive, reports a pass's progress: on a terminal, a live line on
// stderr twice a second (files, bytes, rate, queue depth, and the ETA when
// --max-files bounds the pass); in every case a progress log record every
// `log_every_s` seconds once the pass has run that long.
class ProgressReporter {
 public:
  ProgressReporter(const ProgressCounters* counters, bool tty, uint64_t expected_files,
                   int log_every_s = 10);
  ~ProgressReporter();
  ProgressReporter(const ProgressReporter&) = delete;
  ProgressReporter& operator=(const ProgressReporter&) = delete;

 private:
  void Loop();

  const ProgressCounters* counters_;
  const bool tty_;
  const uint64_t expected_files_;
  const int log_every_s_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace ingest
