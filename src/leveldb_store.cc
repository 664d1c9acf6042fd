#include <fcntl.h>
#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/env.h>
#include <leveldb/filter_policy.h>
#include <leveldb/write_batch.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "state_store.h"
#include "unique_fd.h"

namespace ingest {

namespace {

Status FromLevelDb(const leveldb::Status& s, const std::string& dir) {
  if (s.ok()) return Status::OK();
  if (s.IsNotFound()) return Status::NotFound(s.ToString());
  std::string msg = "state database " + dir + ": " + s.ToString();
  if (s.IsCorruption()) {
    return Status::Corruption(msg + " (run 'atomic-ingest rebuild-state' to rebuild it)");
  }
  if (s.IsInvalidArgument()) return Status::InvalidArgument(msg);
  return Status::IOError(msg);
}

class LevelDbIterator final : public StateIterator {
 public:
  LevelDbIterator(leveldb::Iterator* it, const std::string* dir) : it_(it), dir_(dir) {}
  void Seek(std::string_view key) override { it_->Seek(leveldb::Slice(key.data(), key.size())); }
  void Next() override { it_->Next(); }
  bool Valid() const override { return it_->Valid(); }
  std::string_view key() const override {
    return std::string_view(it_->key().data(), it_->key().size());
  }
  std::string_view value() const override {
    return std::string_view(it_->value().data(), it_->value().size());
  }
  Status status() const override { return FromLevelDb(it_->status(), *dir_); }

 private:
  std::unique_ptr<leveldb::Iterator> it_;
  const std::string* dir_;
};

class LevelDbStore final : public StateStore {
 public:
  LevelDbStore(std::unique_ptr<leveldb::DB> db, std::unique_ptr<const leveldb::FilterPolicy> filter,
               std::unique_ptr<leveldb::Cache> cache, std::string dir,
               std::string remove_on_close = "")
      : filter_(std::move(filter)),
        cache_(std::move(cache)),
        db_(std::move(db)),
        dir_(std::move(dir)),
        remove_on_close_(std::move(remove_on_close)) {}

  ~LevelDbStore() override {
    db_.reset();
    if (!remove_on_close_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(remove_on_close_, ec);
    }
  }

  Status Get(std::string_view key, std::string* value) override {
    leveldb::ReadOptions ro;
    ro.verify_checksums = true;
    return FromLevelDb(db_->Get(ro, leveldb::Slice(key.data(), key.size()), value), dir_);
  }

  Status Apply(const std::vector<StateWrite>& batch, bool sync) override {
    leveldb::WriteBatch wb;
    for (const StateWrite& w : batch) {
      if (w.value) {
        wb.Put(w.key, *w.value);
      } else {
        wb.Delete(w.key);
      }
    }
    leveldb::WriteOptions wo;
    wo.sync = sync;
    return FromLevelDb(db_->Write(wo, &wb), dir_);
  }

  Status Scan(std::string_view prefix,
              const std::function<bool(std::string_view, std::string_view)>& fn) override {
    leveldb::ReadOptions ro;
    ro.verify_checksums = true;
    ro.fill_cache = false;
    std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(ro));
    leveldb::Slice p(prefix.data(), prefix.size());
    for (it->Seek(p); it->Valid() && it->key().starts_with(p); it->Next()) {
      if (!fn(std::string_view(it->key().data(), it->key().size()),
              std::string_view(it->value().data(), it->value().size()))) {
        break;
      }
    }
    return FromLevelDb(it->status(), dir_);
  }

  std::unique_ptr<StateIterator> NewIterator() override {
    leveldb::ReadOptions ro;
    ro.verify_checksums = true;
    ro.fill_cache = false;
    return std::make_unique<LevelDbIterator>(db_->NewIterator(ro), &dir_);
  }

  uint64_t ApproximateSize() override {
    leveldb::Range all("", "\xff\xff\xff\xff");
    uint64_t size = 0;
    db_->GetApproximateSizes(&all, 1, &size);
    return size;
  }

 private:
  // Declared first so that they outlive the database that uses them.
  std::unique_ptr<const leveldb::FilterPolicy> filter_;
  std::unique_ptr<leveldb::Cache> cache_;
  std::unique_ptr<leveldb::DB> db_;
  std::string dir_;
  std::string remove_on_close_;
};

// A table file read with pread(2) instead of LevelDB's default mmap(2). A
// pass sweeps every snapshot of a directory once: mapped, each table page it
// touched would stay in the process's resident set (a million snapshots
// are tens of MiB), read into buffers it costs a block at a time.
class PreadFile final : public leveldb::RandomAccessFile {
 public:
  PreadFile(std::string name, UniqueFd fd) : name_(std::move(name)), fd_(std::move(fd)) {}

  leveldb::Status Read(uint64_t offset, size_t n, leveldb::Slice* result,
                       char* scratch) const override {
    size_t got = 0;
    while (got < n) {
      const ssize_t r =
          ::pread(fd_.get(), scratch + got, n - got, static_cast<off_t>(offset + got));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) {
        *result = leveldb::Slice(scratch, 0);
        return leveldb::Status::IOError(name_, std::strerror(errno));
      }
      if (r == 0) break;  // end of file: a short read, as LevelDB expects
      got += static_cast<size_t>(r);
    }
    *result = leveldb::Slice(scratch, got);
    return leveldb::Status::OK();
  }

 private:
  const std::string name_;
  const UniqueFd fd_;
};

class PreadEnv final : public leveldb::EnvWrapper {
 public:
  PreadEnv() : leveldb::EnvWrapper(leveldb::Env::Default()) {}
  leveldb::Status NewRandomAccessFile(const std::string& f,
                                      leveldb::RandomAccessFile** r) override {
    const int fd = ::open(f.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      *r = nullptr;
      return errno == ENOENT ? leveldb::Status::NotFound(f, std::strerror(errno))
                             : leveldb::Status::IOError(f, std::strerror(errno));
    }
    *r = new PreadFile(f, UniqueFd(fd));
    return leveldb::Status::OK();
  }
};

leveldb::Env* PreadEnvInstance() {
  static PreadEnv* env = new PreadEnv;  // lives as long as the process
  return env;
}

// The Env of a private copy, whose table files are hard links to the
// original's. LevelDB opens a new file with O_TRUNC; were the name a link
// (a table the original was still writing when the copy was taken, whose
// number the copy's manifest has not yet handed out), that would truncate
// the original's file. Removing the name first gives every file the copy
// writes an inode of its own.
class PrivateCopyEnv final : public leveldb::EnvWrapper {
 public:
  PrivateCopyEnv() : leveldb::EnvWrapper(PreadEnvInstance()) {}
  // A name that is not there is the usual case; any other failure shows in
  // the open that follows.
  leveldb::Status NewWritableFile(const std::string& f, leveldb::WritableFile** r) override {
    (void)target()->RemoveFile(f);
    return target()->NewWritableFile(f, r);
  }
  leveldb::Status NewAppendableFile(const std::string& f, leveldb::WritableFile** r) override {
    (void)target()->RemoveFile(f);
    return target()->NewWritableFile(f, r);
  }
};

leveldb::Env* PrivateCopyEnvInstance() {
  static PrivateCopyEnv* env = new PrivateCopyEnv;  // lives as long as the process
  return env;
}

Status OpenLevelDb(const std::string& dir, bool create, const std::string& remove_on_close,
                   std::unique_ptr<StateStore>* store) {
  leveldb::Options options;
  options.env = remove_on_close.empty() ? PreadEnvInstance() : PrivateCopyEnvInstance();
  // Each open table holds a descriptor (PreadEnv): stay far below the
  // usual limit of 1024.
  options.max_open_files = 256;
  options.create_if_missing = create;
  options.paranoid_checks = true;
  // Most content lookups are for new content, which is absent: a Bloom
  // filter answers those without reading a table block.
  std::unique_ptr<const leveldb::FilterPolicy> filter(leveldb::NewBloomFilterPolicy(10));
  options.filter_policy = filter.get();
  // Keys are mostly SHA-256 hex digests and values short varints: Snappy
  // saves little there and costs CPU on every compaction and block read.
  options.compression = leveldb::kNoCompression;
  // Memory. A memtable (and the one being written out beside it) holds the
  // content records of the last few batches; 1 MiB instead of 4 keeps a
  // small pass small, at the cost of more, smaller tables to compact. The
  // block cache mostly gathers the blocks that Bloom false positives read
  // (each lookup checks every level-0 table), which it grew by 8 MiB over
  // a large ingest; the lookups that matter skip it (filters, and the
  // sequential sweeps, which do not fill it).
  options.write_buffer_size = 1 << 20;
  std::unique_ptr<leveldb::Cache> cache(leveldb::NewLRUCache(1 << 20));
  options.block_cache = cache.get();
  leveldb::DB* db = nullptr;
  leveldb::Status s = leveldb::DB::Open(options, dir, &db);
  if (!s.ok()) {
    std::string msg = "cannot open state database " + dir + ": " + s.ToString();
    if (s.IsCorruption()) {
      return Status::Corruption(msg + " (run 'atomic-ingest rebuild-state' to rebuild it)");
    }
    if (s.IsInvalidArgument()) return Status::NotFound(msg);
    return Status::IOError(msg);
  }
  *store = std::make_unique<LevelDbStore>(std::unique_ptr<leveldb::DB>(db), std::move(filter),
                                          std::move(cache), dir, remove_on_close);
  return Status::OK();
}

// A copy of a database that another process may be writing to can catch
// it between a compaction's new tables and its manifest; a fresh copy then
// opens.
constexpr int kSnapshotAttempts = 5;

// Links or copies `from` to `to`; a file that has gone is no error (the
// manifest copied after it decides whether it was needed).
// Sets *copied when it copied.
Status LinkOrCopy(const std::filesystem::path& from, const std::filesystem::path& to, bool link,
                  bool* copied) {
  namespace fs = std::filesystem;
  std::error_code ec;
  *copied = false;
  if (link) {
    fs::create_hard_link(from, to, ec);
    if (!ec) return Status::OK();
  }
  *copied = true;
  // Across filesystems, or a file of another user (protected_hardlinks).
  fs::copy_file(from, to, ec);
  if (ec && fs::exists(from)) {
    return Status::IOError("cannot copy " + from.string() + ": " + ec.message());
  }
  return Status::OK();
}

// Makes `copy` a private copy of the database in `dir`, cheaply: table
// files never change once written, so they are hard-linked where the
// filesystem allows; the logs, the manifest and CURRENT, which LevelDB
// appends to or replaces, are copied (a log caught mid-append reads as a
// torn tail, which LevelDB drops). Tables and logs come first, then the
// manifest that CURRENT names: a compaction that finished in between
// leaves a manifest naming tables the copy lacks, LevelDB refuses to open
// it, and the caller takes a fresh copy. At worst a copy misses writes made
// while it was taken. A table that had to be copied (no hard link across
// filesystems) may have been copied while a compaction was still writing
// it: its size is checked again after the manifest, and a table that grew
// means a fresh copy too.
Status CopyDatabase(const std::string& dir, const std::filesystem::path& copy) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directory(copy, ec);
  if (ec) return Status::IOError("cannot create " + copy.string() + ": " + ec.message());
  std::vector<std::pair<fs::path, uintmax_t>> copied_tables;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& p = it->path();
    const std::string ext = p.extension().string();
    Status s;
    bool copied = false;
    if (ext == ".ldb" || ext == ".sst") {
      s = LinkOrCopy(p, copy / p.filename(), /*link=*/true, &copied);
      std::error_code size_ec;
      const uintmax_t size = fs::file_size(copy / p.filename(), size_ec);
      if (copied && !size_ec) copied_tables.emplace_back(p, size);
    } else if (ext == ".log") {
      s = LinkOrCopy(p, copy / p.filename(), /*link=*/false, &copied);
    }
    if (!s.ok()) return s;
  }
  if (ec) return Status::IOError("cannot list state database " + dir + ": " + ec.message());
  std::ifstream current_in(fs::path(dir) / "CURRENT", std::ios::binary);
  std::string current;
  std::getline(current_in, current);
  if (current.rfind("MANIFEST-", 0) != 0 || current.find('/') != std::string::npos) {
    return Status::Corruption("state database " + dir + ": CURRENT names no manifest");
  }
  fs::copy_file(fs::path(dir) / current, copy / current, ec);
  if (ec) return Status::IOError("cannot copy " + current + " of " + dir + ": " + ec.message());
  for (const auto& [table, size] : copied_tables) {
    std::error_code size_ec;
    const uintmax_t now = fs::file_size(table, size_ec);
    if (!size_ec && now != size) {
      return Status::IOError("state database " + dir + ": " + table.filename().string() +
                             " was being written while it was copied");
    }
  }
  std::ofstream current_out(copy / "CURRENT", std::ios::binary | std::ios::trunc);
  current_out << current << "\n";
  current_out.close();
  if (!current_out) return Status::IOError("cannot write " + (copy / "CURRENT").string());
  return Status::OK();
}

}  // namespace

Status OpenLevelDbStore(const std::string& dir, bool create, std::unique_ptr<StateStore>* store) {
  // LevelDB ignores a failed mkdir and then reports its LOCK file missing;
  // say what really went wrong.
  if (create && ::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return Status::FromErrno("cannot create state database " + dir, errno);
  }
  return OpenLevelDb(dir, create, "", store);
}

Status OpenLevelDbSnapshot(const std::string& dir, std::unique_ptr<StateStore>* store) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status current = fs::status(fs::path(dir) / "CURRENT", ec);
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return Status::IOError("cannot read state database " + dir + ": " + ec.message());
  }
  if (!fs::exists(current)) return Status::NotFound("no state database in " + dir);
  Status s;
  for (int attempt = 0; attempt < kSnapshotAttempts; ++attempt) {
    std::string tmpl = (fs::temp_directory_path(ec) / "atomic-ingest-snapshot.XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      return Status::FromErrno("cannot create a directory for a copy of " + dir, errno);
    }
    const fs::path copy = fs::path(tmpl) / "db";
    s = CopyDatabase(dir, copy);
    if (s.ok()) s = OpenLevelDb(copy.string(), false, tmpl, store);
    if (s.ok()) return s;
    fs::remove_all(tmpl, ec);
    // Name the database the operator knows, not the private copy.
    std::string msg = s.message();
    for (size_t i; (i = msg.find(copy.string())) != std::string::npos;) {
      msg.replace(i, copy.string().size(), dir);
    }
    s = s.IsCorruption() ? Status::Corruption(msg) : Status::IOError(msg);
  }
  return s;
}

}  // namespace ingest
