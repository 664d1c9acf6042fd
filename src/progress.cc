#include "progress.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <string>

namespace ingest {

namespace {

std::string Bytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) {
    b /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %s", b, units[u]);
  return buf;
}

}  // namespace

ProgressReporter::ProgressReporter(const ProgressCounters* counters, bool tty,
                                   uint64_t expected_files, int log_every_s)
    : counters_(counters),
      tty_(tty),
      expected_files_(expected_files),
      log_every_s_(log_every_s),
      thread_([this] { Loop(); }) {}

ProgressReporter::~ProgressReporter() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void ProgressReporter::Loop() {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  auto next_log = start + std::chrono::seconds(log_every_s_);
  bool drew = false;
  std::unique_lock<std::mutex> lock(mu_);
  while (!cv_.wait_for(lock, std::chrono::milliseconds(500), [&] { return stop_; })) {
    const auto now = Clock::now();
    const double secs = std::chrono::duration<double>(now - start).count();
    const uint64_t files = counters_->files.load(std::memory_order_relaxed);
    const uint64_t bytes = counters_->bytes.load(std::memory_order_relaxed);
    const uint64_t queued = counters_->queued.load(std::memory_order_relaxed);
    const uint64_t listed = counters_->listed.load(std::memory_order_relaxed);
    const double rate = secs > 0 ? static_cast<double>(files) / secs : 0;
    std::string eta;
    if (expected_files_ > 0 && rate > 0 && files < expected_files_) {
      char buf[32];
      std::snprintf(buf, sizeof buf, ", ETA %.0fs",
                    static_cast<double>(expected_files_ - files) / rate);
      eta = buf;
    }
    if (tty_) {
      std::fprintf(stderr, "\r\033[K%llu files, %s, %.0f files/s, %s/s, queue %llu, listed %llu%s",
                   static_cast<unsigned long long>(files),
                   Bytes(static_cast<double>(bytes)).c_str(), rate,
                   Bytes(secs > 0 ? static_cast<double>(bytes) / secs : 0).c_str(),
                   static_cast<unsigned long long>(queued), static_cast<unsigned long long>(listed),
                   eta.c_str());
      drew = true;
    }
    if (now >= next_log) {
      next_log = now + std::chrono::seconds(log_every_s_);
      if (drew) std::fprintf(stderr, "\r\033[K");
      spdlog::info("progress: {} files, {} bytes, {:.0f} files/s, queue {}, listed {}{}", files,
                   bytes, rate, queued, listed, eta);
    }
  }
  if (drew) std::fprintf(stderr, "\r\033[K");
}

}  // namespace ingest
