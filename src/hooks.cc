#include "hooks.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <string_view>
#include <thread>

#include "name_escape.h"
#include "subprocess.h"

namespace ingest {

namespace {

// Hook records read from the state at a time, so a long queue (a hook
// broken for days) costs bounded memory.
constexpr size_t kChunk = 256;

// Logs each line of a hook's output.
void LogOutput(const std::string& path, const char* stream, const std::string& text, bool truncated,
               spdlog::level::level_enum level) {
  std::string_view rest(text);
  while (!rest.empty()) {
    const size_t nl = rest.find('\n');
    const std::string_view line = rest.substr(0, nl);
    spdlog::log(level, "hook {}: {}: {}", path, stream, line);
    if (nl == std::string_view::npos) break;
    rest.remove_prefix(nl + 1);
  }
  if (truncated) spdlog::log(level, "hook {}: {}: (more output dropped)", path, stream);
}

// Reads up to kChunk hook records with keys after `after`.
Status ReadChunk(StateStore* state, const std::string& after,
                 std::vector<std::pair<std::string, std::string>>* chunk) {
  chunk->clear();
  std::unique_ptr<StateIterator> it = state->NewIterator();
  // The smallest key greater than `after`.
  it->Seek(after + '\0');
  for (; it->Valid() && chunk->size() < kChunk; it->Next()) {
    if (it->key().substr(0, keys::kHook.size()) != keys::kHook) break;
    chunk->emplace_back(std::string(it->key()), std::string(it->value()));
  }
  return it->status();
}

class HookQueue {
 public:
  HookQueue(StateStore* state, HookRunner* runner, Clock* clock, PassStats* stats,
            const std::atomic<bool>* stop)
      : state_(state), runner_(runner), clock_(clock), stats_(stats), stop_requested_(stop) {}

  bool StopRequested() const { return stop_requested_ != nullptr && stop_requested_->load(); }

  // Runs the hooks of `chunk`, `concurrency` at a time; the caller's thread
  // is one of the workers.
  Status RunChunk(const std::vector<std::pair<std::string, std::string>>& chunk, int concurrency) {
    next_ = 0;
    auto work = [&] {
      for (;;) {
        const size_t i = next_.fetch_add(1);
        if (i >= chunk.size() || stop_.load() || StopRequested()) return;
        RunOne(chunk[i].first, chunk[i].second);
      }
    };
    const size_t helpers =
        std::min<size_t>(static_cast<size_t>(std::max(concurrency, 1)), chunk.size()) - 1;
    std::vector<std::thread> threads;
    for (size_t i = 0; i < helpers; ++i) threads.emplace_back(work);
    work();
    for (std::thread& t : threads) t.join();
    return error_;
  }

 private:
  void RunOne(const std::string& key, const std::string& value) {
    HookRecord rec;
    if (!DecodeHookRecord(value, &rec)) {
      // Left in place for a look; it cannot run without its record.
      Count(false);
      spdlog::error("state: undecodable hook record {}; its hook cannot run", Printable(key));
      return;
    }
    Status result = runner_->Run(rec);
    std::vector<StateWrite> write;
    if (result.ok()) {
      spdlog::info("hook ran for {}", rec.path);
      write.push_back({key, std::nullopt});
    } else {
      ++rec.attempts;
      rec.last_error = result.ToString();
      rec.last_attempt_ns = clock_->NowNs();
      spdlog::error("hook for {} failed (attempt {}): {}; it runs again next run", rec.path,
                    rec.attempts, rec.last_error);
      write.push_back({key, EncodeHookRecord(rec)});
    }
    Count(result.ok());
    // Unsynced: a record lost in a power loss only means the hook runs
    // again (it is at-least-once), or one failed attempt goes uncounted.
    Status s = state_->Apply(write, /*sync=*/false);
    if (!s.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      if (error_.ok()) error_ = s;
      stop_ = true;
    }
  }

  void Count(bool ok) {
    std::lock_guard<std::mutex> lock(mu_);
    ++(ok ? stats_->hooks_completed : stats_->hooks_failed);
  }

  StateStore* state_;
  HookRunner* runner_;
  Clock* clock_;
  PassStats* stats_;
  const std::atomic<bool>* stop_requested_;  // the caller's, or null
  std::atomic<size_t> next_{0};
  std::atomic<bool> stop_{false};  // the state failed
  std::mutex mu_;
  Status error_;  // guarded by mu_
};

// Dry run: one line per queued hook, in the order they would run.
Status ReportPendingHooks(StateStore* state) {
  std::string after(keys::kHook);
  std::vector<std::pair<std::string, std::string>> chunk;
  do {
    Status s = ReadChunk(state, after, &chunk);
    if (!s.ok()) return s;
    for (const auto& [key, value] : chunk) {
      HookRecord rec;
      if (!DecodeHookRecord(value, &rec)) {
        std::printf("hook %s: undecodable record\n", Printable(key).c_str());
      } else if (rec.attempts == 0) {
        std::printf("hook %s: would run (queued by an earlier run)\n", Printable(rec.path).c_str());
      } else {
        std::printf("hook %s: would run again (%llu failed attempts, the last: %s)\n",
                    Printable(rec.path).c_str(), static_cast<unsigned long long>(rec.attempts),
                    Printable(rec.last_error).c_str());
      }
    }
    if (!chunk.empty()) after = chunk.back().first;
  } while (chunk.size() == kChunk);
  return Status::OK();
}

}  // namespace

Status ExecHookRunner::Run(const HookRecord& rec) {
  SubprocessSpec spec;
  spec.argv = argv_;
  spec.env = EnvironmentWith({{"ATOMIC_INGEST_PATH", rec.path},
                              {"ATOMIC_INGEST_SHA256", rec.sha256},
                              {"ATOMIC_INGEST_SOURCE", rec.source},
                              {"ATOMIC_INGEST_MANIFEST", rec.manifest},
                              {"ATOMIC_INGEST_SIZE", std::to_string(rec.size)},
                              {"ATOMIC_INGEST_ATTEMPT", std::to_string(rec.attempts + 1)}});
  spec.stdin_data = rec.manifest_line;
  spec.timeout = timeout_;
  SubprocessResult r;
  Status s = RunSubprocess(spec, &r);
  if (!s.ok()) return s;
  LogOutput(rec.path, "stdout", r.out, r.out_truncated, spdlog::level::info);
  LogOutput(rec.path, "stderr", r.err, r.err_truncated, spdlog::level::warn);
  if (r.succeeded()) return Status::OK();
  return Status::IOError("'" + argv_[0] + "' " + r.Describe(timeout_));
}

bool HooksEnabled(const Options& options) { return !options.exec_argv.empty(); }

StateWrite PendingHookWrite(const std::string& id, const Intent& in, const ContentRecord& rec,
                            int64_t now_ns) {
  HookRecord h;
  h.path = rec.path;
  h.sha256 = in.sha256;
  h.source = rec.source;
  h.manifest = rec.manifest;
  h.manifest_line = in.manifest_line;
  h.size = in.size;
  h.committed_at_ns = now_ns;
  return {keys::Hook(id), EncodeHookRecord(h)};
}

Status RunPendingHooks(StateStore* state, HookRunner* runner, Clock* clock, int concurrency,
                       PassStats* stats, const std::atomic<bool>* stop) {
  HookQueue queue(state, runner, clock, stats, stop);
  std::string after(keys::kHook);
  std::vector<std::pair<std::string, std::string>> chunk;
  do {
    Status s = ReadChunk(state, after, &chunk);
    if (s.ok() && !chunk.empty()) s = queue.RunChunk(chunk, concurrency);
    if (!s.ok()) return s;
    // A failed hook's record is rewritten under the same key; reading on
    // after the chunk's last key runs it once per pass.
    if (!chunk.empty()) after = chunk.back().first;
  } while (chunk.size() == kChunk && !queue.StopRequested());
  return Status::OK();
}

Status RunHooksAfterPass(const Options& options, StateStore* state, Clock* clock,
                         HookRunner* runner, PassStats* stats, const std::atomic<bool>* stop) {
  if (options.dry_run) return HooksEnabled(options) ? ReportPendingHooks(state) : Status::OK();
  if (!HooksEnabled(options)) {
    std::vector<std::pair<std::string, std::string>> chunk;
    Status s = ReadChunk(state, std::string(keys::kHook), &chunk);
    if (!s.ok()) return s;
    if (!chunk.empty()) {
      spdlog::warn("hooks queued by earlier runs with --exec wait until --exec is given again");
    }
    return Status::OK();
  }
  ExecHookRunner exec(options.exec_argv, std::chrono::seconds(options.exec_timeout_seconds));
  return RunPendingHooks(state, runner != nullptr ? runner : &exec, clock, options.concurrency,
                         stats, stop);
}

}  // namespace ingest
