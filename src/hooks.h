#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "clock.h"
#include "options.h"
#include "pass_context.h"
#include "records.h"
#include "state_store.h"
#include "status.h"

namespace ingest {

// Post-ingest hooks (--exec), at least once per ingested file.
//
// The commit's last synced state write (C), which adds a file's content
// record, adds its HookRecord (key h/<intent id>) in the same batch, and
// recovery does the same when it finishes a commit; so once a file counts
// as ingested its hook is queued, whatever crash follows. After the pass,
// RunPendingHooks runs the queued hooks, also those of earlier runs, in
// commit order. A hook that exits 0 has its record deleted; a crash
// between its exit and that delete runs it again next time. A hook that
// fails keeps its record, with one more attempt and the error, and runs
// again next run.

// Runs the hook of one file, once. Thread-safe.
class HookRunner {
 public:
  virtual ~HookRunner() = default;
  // OK when the hook succeeded; otherwise why not, in one sentence (exit
  // status, signal, timeout, program not found).
  virtual Status Run(const HookRecord& rec) = 0;
};

// Runs the --exec command without a shell: the manifest line on stdin,
// ATOMIC_INGEST_PATH, _SHA256, _SOURCE, _MANIFEST, _SIZE and _ATTEMPT in
// the environment on top of this process's own, the current directory
// unchanged. Its stdout is logged at info and its stderr at warn, a line
// each, naming the file.
class ExecHookRunner final : public HookRunner {
 public:
  ExecHookRunner(std::vector<std::string> argv, std::chrono::milliseconds timeout)
      : argv_(std::move(argv)), timeout_(timeout) {}
  Status Run(const HookRecord& rec) override;

 private:
  const std::vector<std::string> argv_;
  const std::chrono::milliseconds timeout_;
};

// Whether this pass runs hooks: --exec was given.
bool HooksEnabled(const Options& options);

// The state write that queues the hook of the file whose commit had intent
// `id`, from that intent and the file's content record. Belongs in the
// same state write as the content record.
StateWrite PendingHookWrite(const std::string& id, const Intent& in, const ContentRecord& rec,
                            int64_t now_ns);

// Runs every queued hook in commit order, up to `concurrency` at a time
// (each waits for its own child), and counts them in `stats`. Hook failures
// are logged and counted, not returned; an error means the state could not
// be read or written. Once `*stop` (if given) is true, no further hook
// starts; those in flight finish (within --exec-timeout) and the rest stay
// queued.
Status RunPendingHooks(StateStore* state, HookRunner* runner, Clock* clock, int concurrency,
                       PassStats* stats, const std::atomic<bool>* stop = nullptr);

// The end of a pass: with --exec, runs the queued hooks with `runner`, or
// with an ExecHookRunner when it is null. A dry run prints what would run
// instead. Without --exec, queued hooks of earlier runs wait, with a
// warning.
Status RunHooksAfterPass(const Options& options, StateStore* state, Clock* clock,
                         HookRunner* runner, PassStats* stats,
                         const std::atomic<bool>* stop = nullptr);

}  // namespace ingest
