#include "staging_watcher.h"

#include <dirent.h>
#include <spdlog/spdlog.h>
#include <sys/inotify.h>

#include <cerrno>
#include <deque>

#include "dir_scanner.h"
#include "fs_util.h"

namespace ingest {

namespace {

// What a pass may act on. IN_CREATE also catches hard links and empty .ok
// sidecars, which are never closed after writing; IN_MOVED_FROM is only
// for directories leaving (a pass's own renames out of staging are
// ignored).
constexpr uint32_t kEntryEvents =
    IN_CLOSE_WRITE | IN_MOVED_TO | IN_ATTRIB | IN_CREATE | IN_DELETE | IN_MOVED_FROM;
// The input directory itself going away ends the watch.
constexpr uint32_t kRootMask =
    kEntryEvents | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_EXCL_UNLINK;
// Subdirectories are never watched through a symlink.
constexpr uint32_t kSubdirMask =
    kEntryEvents | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK;

bool Descends(std::string_view name) { return ClassifyName(name) == NameFilter::kCandidate; }

}  // namespace

StagingWatcher::StagingWatcher(Env* env, std::string input, bool recursive, size_t max_watches)
    : env_(env), input_(std::move(input)), recursive_(recursive), max_watches_(max_watches) {}

Status StagingWatcher::Start() {
  Status s = Inotify::Open(&inotify_);
  if (!s.ok()) {
    spdlog::warn("{}; passes run only every --interval", s.ToString());
    File input;
    return env_->OpenDir(input_, &input);
  }
  return Resync();
}

bool StagingWatcher::Add(const std::string& rel, uint32_t mask, std::map<int, std::string>* seen) {
  const std::string path = JoinPath(input_, rel);
  if (seen->size() >= max_watches_) {
    if (!warned_) {
      spdlog::warn(
          "watching only {} directories under {}; changes in the others are found by the "
          "--interval passes",
          seen->size(), input_);
    }
    warned_ = true;
    complete_ = false;
    return false;
  }
  int wd = -1;
  Status s = inotify_.AddWatch(path, mask, &wd);
  if (s.ok()) {
    (*seen)[wd] = rel;
    return true;
  }
  if (s.err() == ENOSPC || s.err() == ENOMEM) {
    if (!warned_) {
      spdlog::warn(
          "{} (the kernel's inotify watches ran out: see fs.inotify.max_user_watches); "
          "watching {} directories, the others are covered by the --interval passes",
          s.ToString(), seen->size());
    }
    warned_ = true;
    complete_ = false;
    return false;
  }
  // Gone or replaced since it was listed: the next resync sees the tree as
  // it is then.
  spdlog::debug("{}", s.ToString());
  return true;
}

Status StagingWatcher::Resync() {
  File root;
  Status s = env_->OpenDir(input_, &root);
  if (!s.ok()) return s;
  FileStat root_st;
  uint64_t root_mount = 0;
  s = env_->Stat(root, &root_st);
  if (s.ok()) s = env_->MountId(root, &root_mount);
  if (!s.ok()) return s;

  std::map<int, std::string> seen;
  const bool was_complete = complete_;
  complete_ = true;
  if (!was_complete) warned_ = false;  // say it again if it still happens
  s = inotify_.AddWatch(input_, kRootMask, &root_wd_);
  if (s.ok()) {
    seen[root_wd_] = "";
  } else {
    root_wd_ = -1;
    complete_ = false;
    if (!warned_) spdlog::warn("{}; passes run only every --interval", s.ToString());
    warned_ = true;
  }
  // Breadth first, by relative path, so that only one directory is open
  // at a time however wide the tree.
  std::deque<std::string> pending;
  if (recursive_ && root_wd_ >= 0) pending.push_back("");
  while (!pending.empty() && complete_) {
    const std::string rel = std::move(pending.front());
    pending.pop_front();
    File dir;
    if (!OpenDirs(env_, root, rel, &dir).ok()) continue;  // gone since it was listed
    DirScanner scanner(env_, &dir);
    for (;;) {
      DirEntry e;
      bool done = false;
      if (!scanner.Next(&e, &done).ok() || done) break;
      if (e.type != DT_DIR && e.type != DT_UNKNOWN) continue;
      if (!Descends(e.name)) continue;
      const std::string name(e.name);
      File sub;
      FileStat st;
      uint64_t mount = 0;
      // Opened without following a symlink; like the scan, stay on the
      // input's mount.
      if (!env_->OpenDirAt(dir, name, &sub).ok() || !env_->Stat(sub, &st).ok() ||
          !env_->MountId(sub, &mount).ok() || st.dev != root_st.dev || mount != root_mount) {
        continue;
      }
      const std::string sub_rel = JoinPath(rel, name);
      if (!Add(sub_rel, kSubdirMask, &seen)) break;
      pending.push_back(sub_rel);
    }
  }
  for (const auto& [wd, rel] : watches_) {
    // The kernel drops the watch of a directory that is gone by itself,
    // and then the removal fails; either way it is no longer watched.
    if (!seen.count(wd)) (void)inotify_.RemoveWatch(wd);
  }
  watches_ = std::move(seen);
  spdlog::debug("watching {} directories under {}", watches_.size(), input_);
  return Status::OK();
}

Status StagingWatcher::Read(StagingChanges* changes) {
  if (!inotify_.isValid()) return Status::OK();
  std::vector<InotifyEvent> events;
  Status s = inotify_.Read(&events);
  if (!s.ok()) return s;
  bool resync = false;
  for (const InotifyEvent& e : events) {
    if (e.mask & IN_Q_OVERFLOW) {
      changes->overflow = true;
      resync = recursive_;
      continue;
    }
    if (e.wd == root_wd_ && (e.mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT | IN_IGNORED))) {
      changes->input_gone = true;
      changes->gone = (e.mask & IN_MOVE_SELF) ? "moved"
                      : (e.mask & IN_UNMOUNT) ? "unmounted"
                                              : "deleted";
      continue;
    }
    auto it = watches_.find(e.wd);
    if (it == watches_.end()) continue;  // a watch already dropped
    if (e.mask & IN_IGNORED) {
      watches_.erase(it);
      continue;
    }
    if (e.mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT)) {
      // A subdirectory left or moved within the tree: list it again.
      resync = recursive_;
      continue;
    }
    if (e.mask & IN_ISDIR) {
      if (recursive_ && Descends(e.name)) {
        resync = true;
        changes->changed = true;
      }
      continue;
    }
    if (e.mask & IN_MOVED_FROM) continue;  // a file left: nothing to take
    if (e.name.empty()) {
      changes->changed = true;  // the directory's own attributes
      continue;
    }
    const NameFilter f = ClassifyName(e.name);
    if (f == NameFilter::kCandidate || f == NameFilter::kSidecar) changes->changed = true;
  }
  if (resync && !changes->input_gone) {
    s = Resync();
    if (s.IsNotFound()) {
      changes->input_gone = true;
      changes->gone = "deleted";
      return Status::OK();
    }
    if (!s.ok()) return s;
  }
  return Status::OK();
}

}  // namespace ingest
