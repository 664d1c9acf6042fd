#include "scan.h"

#include <spdlog/spdlog.h>

#include <cstdio>

#include "codec.h"
#include "dir_scanner.h"
#include "fs_util.h"
#include "logging.h"
#include "name_escape.h"
#include "pipeline.h"
#include "records.h"
#include "stat_ahead.h"

namespace ingest {

Status StagingWalk::Open(const std::string& rel, std::shared_ptr<StagingDir>* out,
                         DirPlace* place) {
  auto dir = std::make_shared<StagingDir>();
  dir->rel = rel;
  Status s = OpenDirs(env_, input_, rel, &dir->file);
  if (s.ok()) s = env_->Stat(dir->file, &dir->st);
  if (s.IsNotFound()) {
    *place = DirPlace::kGone;
    return Status::OK();
  }
  if (!s.ok()) return s;
  *place = rel.empty() || decider_->OnInputMount(*dir) ? DirPlace::kListed : DirPlace::kOtherMount;
  *out = std::move(dir);
  return Status::OK();
}

Status StagingWalk::Next(std::shared_ptr<StagingDir>* out, DirPlace* place, bool* done) {
  while (!pending_.empty()) {
    const std::string rel = std::move(pending_.front());
    pending_.pop_front();
    Status s = Open(rel, out, place);
    if (!s.ok()) return s;
    if (*place != DirPlace::kGone) {
      *done = false;
      return Status::OK();
    }
  }
  *done = true;
  return Status::OK();
}

void StagingWalk::Descend(const StagingDir& dir, std::string_view name) {
  pending_.push_back(JoinPath(dir.rel, name));
}

StagingScan::StagingScan(PassContext* ctx, Pipeline* pipeline)
    : ctx_(ctx),
      pipeline_(pipeline),
      decider_(ctx->env, *ctx->options, ctx->clock, ctx->input, ctx->input_st, &ctx->unresolved),
      walk_(ctx->env, ctx->input, &decider_),
      failures_(ctx->state, !ctx->options->dry_run) {}

Status StagingScan::Run() {
  Status s = decider_.Init();
  if (!s.ok()) return s;
  started_ns_ = ctx_->clock->NowNs();
  while (!cut_) {
    std::shared_ptr<StagingDir> dir;
    DirPlace place;
    bool done = false;
    s = walk_.Next(&dir, &place, &done);
    if (!s.ok() || done) return s;
    if (place == DirPlace::kOtherMount) {
      spdlog::warn("not descending into {}: another filesystem or mount", dir->file.path());
      continue;
    }
    s = ListDir(std::move(dir));
    if (!s.ok()) return s;
  }
  return Status::OK();
}

Status StagingScan::ListDir(std::shared_ptr<StagingDir> dir) {
  Env* env = ctx_->env;
  dir_ = dir;
  SnapshotTable table(ctx_->state, dir->st.ino, !ctx_->options->dry_run);
  table_ = &table;
  cursor_key_ = keys::Cursor(dir->st.ino);
  const int64_t start = ResumeAt();
  DirScanner scanner(env, &dir->file, DirScanner::kDefaultBufferSize, start);
  // With workers, stats are taken ahead on as many threads; with one, the
  // listing keeps its single, deterministic order of operations.
  StatAhead listing(env, &dir->file, &scanner, ctx_->pool,
                    static_cast<size_t>(ctx_->options->concurrency),
                    [this](const DirEntry& e) { return decider_.NeedsStat(dir_->rel, e); });
  table.Begin(start);
  uint64_t listed = 0;
  Status s;
  for (;;) {
    DirEntry e;
    const PreStat* prestat = nullptr;
    bool done = false;
    s = listing.Next(&e, &prestat, &done);
    if (!s.ok()) return s;
    if (done) break;
    if (OutOfBudget()) {
      // Resume here next run.
      cut_ = true;
      s = SaveCursor(e.pos);
      if (s.ok()) s = table.Flush();
      failures_.Flush();
      return s;
    }
    ctx_->progress.listed.fetch_add(1, std::memory_order_relaxed);
    s = Consider(e, prestat);
    if (!s.ok()) return s;
    if (++listed % kCursorEvery == 0) {
      s = SaveCursor(e.pos);
      if (!s.ok()) return s;
    }
  }
  s = table.End();
  if (s.ok()) s = ClearCursor();
  // Failure records are hints, apart from the listing's own writes.
  if (s.ok()) failures_.Prune(env, *dir);
  failures_.Flush();
  return s;
}

// Where the last, cut-short listing stopped; 0 for a full listing. The
// cursor is only a hint: an offset the directory no longer accepts falls
// back to a full listing.
int64_t StagingScan::ResumeAt() {
  std::string value;
  if (!ctx_->state->Get(cursor_key_, &value).ok()) return 0;
  Decoder d(value);
  int64_t pos = 0;
  if (!d.GetSigned(&pos) || pos == 0) return 0;
  const File& dir = dir_->file;
  Status s = ctx_->env->SeekDir(dir, pos);
  if (!s.ok()) {
    spdlog::warn("cannot resume the listing of {} ({}); listing it whole", dir.path(),
                 s.ToString());
    // Offset 0 is where a directory opened a moment ago already stands;
    // the seek cannot leave it anywhere else.
    (void)ctx_->env->SeekDir(dir, 0);
    return 0;
  }
  spdlog::debug("resuming the listing of {} at offset {}", dir.path(), pos);
  return pos;
}

Status StagingScan::SaveCursor(int64_t pos) {
  if (ctx_->options->dry_run) return Status::OK();
  Encoder e;
  e.PutSigned(pos);
  return ctx_->state->Apply({{cursor_key_, e.Release()}}, /*sync=*/false);
}

Status StagingScan::ClearCursor() {
  if (ctx_->options->dry_run) return Status::OK();
  return ctx_->state->Apply({{cursor_key_, std::nullopt}}, /*sync=*/false);
}

// --max-files, --max-seconds, a failed pipeline or a stop request (watch's
// SIGTERM) ends the listing before the next entry.
bool StagingScan::OutOfBudget() {
  const Options& o = *ctx_->options;
  const bool out_of_files = o.max_files > 0 && submitted_ >= o.max_files;
  const bool out_of_time =
      o.max_seconds > 0 && ctx_->clock->NowNs() - started_ns_ >= o.max_seconds * kNanosPerSecond;
  const bool stop_requested = ctx_->stop != nullptr && ctx_->stop->load(std::memory_order_relaxed);
  return out_of_files || out_of_time || stopped_ || stop_requested;
}

// Acts on what the decider (entry_decider.h) made of one entry.
Status StagingScan::Consider(const DirEntry& e, const PreStat* prestat) {
  EntryDecision d;
  Status s = decider_.Decide(dir_->file, dir_->rel, e, table_, &d, prestat);
  if (!s.ok()) return s;
  // The backlog, from the stat the decision already made.
  auto wait_in = [&](BacklogGroup* group) {
    if (d.examined) {
      backlog_.Add(group, d.st, [&] { return dir_->file.Child(e.name); });
    } else {
      Backlog::AddUnexamined(group);
    }
  };
  switch (d.verdict) {
    case EntryVerdict::kGone:
      return Status::OK();
    case EntryVerdict::kOtherShard:
      // Not this instance's: counted nowhere. A dry run says whose it is.
      if (ctx_->options->dry_run) {
        std::printf("other shard %s: %s (this is %s)\n", d.owner.ToString().c_str(),
                    Printable(dir_->file.Child(e.name)).c_str(),
                    ctx_->options->shard.ToString().c_str());
      }
      return Status::OK();
    case EntryVerdict::kSkip:
      Skip(e.name, d.reason);
      return Status::OK();
    case EntryVerdict::kDescend:
      walk_.Descend(*dir_, e.name);
      return Status::OK();
    case EntryVerdict::kFailed:
      ++failed_;
      wait_in(&backlog_.failed);
      LogEvent(spdlog::level::err, "failed")
          .Str("path", dir_->file.Child(e.name))
          .Str("source", dir_->file.Child(e.name))
          .Str("error", d.error.ToString())
          .Log("{}", d.error.ToString());
      failures_.Record(*dir_, e.name, nullptr, d.error, ctx_->clock->NowNs());
      return Status::OK();
    case EntryVerdict::kUnresolved:
      ++failed_;
      Skip(e.name, d.reason);
      return Status::OK();
    case EntryVerdict::kWaitSidecar:
      wait_in(&backlog_.waiting_for_ok);
      Defer(e.name, 0, d.reason);
      return Status::OK();
    case EntryVerdict::kWaitStable:
      NoteReadyAt(d.judged_at_ns + d.stability.wait_ns);
      wait_in(&backlog_.not_yet_stable);
      Defer(e.name, d.stability.wait_ns, d.reason);
      return Status::OK();
    case EntryVerdict::kReady:
      break;
  }
  Candidate c{dir_, std::string(e.name), d.st, d.has_sidecar, e.pos, d.previous.has_value()};
  ++submitted_;
  if (!pipeline_->Submit(std::move(c))) stopped_ = true;
  return Status::OK();
}

void StagingScan::Skip(std::string_view name, const char* why) {
  ++skipped_;
  if (ctx_->options->dry_run) {
    std::printf("skip %s: %s\n", Printable(dir_->file.Child(name)).c_str(), why);
  } else if (spdlog::should_log(spdlog::level::debug)) {
    spdlog::debug("skip {}: {}", dir_->file.Child(name), why);
  }
}

void StagingScan::Defer(std::string_view name, int64_t wait_ns, const char* why) {
  ++deferred_;
  if (!ctx_->options->dry_run && !spdlog::should_log(spdlog::level::debug)) return;
  char text[96];
  if (wait_ns > 0) {
    std::snprintf(text, sizeof text, "%s (%.1fs to go)", why,
                  static_cast<double>(wait_ns) / kNanosPerSecond);
  } else {
    std::snprintf(text, sizeof text, "%s", why);
  }
  if (ctx_->options->dry_run) {
    std::printf("wait %s: %s\n", Printable(dir_->file.Child(name)).c_str(), text);
  } else {
    spdlog::debug("wait {}: {}", dir_->file.Child(name), text);
  }
}

void StagingScan::NoteReadyAt(int64_t ns) {
  if (next_ready_ns_ == 0 || ns < next_ready_ns_) next_ready_ns_ = ns;
}

}  // namespace ingest
