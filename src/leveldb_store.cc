#include <leveldb/db.h>
#include <leveldb/filter_policy.h>
#include <leveldb/write_batch.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cerrno>
#include <filesystem>

#include "state_store.h"

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
               std::string dir, std::string remove_on_close = "")
      : filter_(std::move(filter)),
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
  // Declared first so that it outlives the database that uses it.
  std::unique_ptr<const leveldb::FilterPolicy> filter_;
  std::unique_ptr<leveldb::DB> db_;
  std::string dir_;
  std::string remove_on_close_;
};

Status OpenLevelDb(const std::string& dir, bool create, const std::string& remove_on_close,
                   std::unique_ptr<StateStore>* store) {
  leveldb::Options options;
  options.create_if_missing = create;
  options.paranoid_checks = true;
  // Most content lookups are for new content, which is absent: a Bloom
  // filter answers those without reading a table block.
  std::unique_ptr<const leveldb::FilterPolicy> filter(leveldb::NewBloomFilterPolicy(10));
  options.filter_policy = filter.get();
  // Keys are mostly SHA-256 hex digests and values short varints: Snappy
  // saves little there and costs CPU on every compaction and block read.
  options.compression = leveldb::kNoCompression;
  // Fewer, larger level-0 tables mean fewer compactions during a pass; two
  // memtables of this size stay well inside a pass's memory bound.
  options.write_buffer_size = 8 << 20;
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
  *store = std::make_unique<LevelDbStore>(std::unique_ptr<leveldb::DB>(db), std::move(filter), dir,
                                          remove_on_close);
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
  if (!fs::exists(fs::path(dir) / "CURRENT", ec)) {
    return Status::NotFound("no state database in " + dir);
  }
  std::string tmpl = (fs::temp_directory_path(ec) / "atomic-ingest-dry-run.XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return Status::FromErrno("cannot create a directory for a copy of " + dir, errno);
  }
  const fs::path copy = fs::path(tmpl) / "db";
  fs::copy(dir, copy, fs::copy_options::recursive, ec);
  if (ec) {
    fs::remove_all(tmpl, ec);
    return Status::IOError("cannot copy state database " + dir + ": " + ec.message());
  }
  Status s = OpenLevelDb(copy.string(), false, tmpl, store);
  if (!s.ok()) {
    fs::remove_all(tmpl, ec);
    // Name the database the operator knows, not the private copy.
    std::string msg = s.message();
    for (size_t i; (i = msg.find(copy.string())) != std::string::npos;) {
      msg.replace(i, copy.string().size(), dir);
    }
    return s.IsCorruption() ? Status::Corruption(msg) : Status::IOError(msg);
  }
  return s;
}

}  // namespace ingest
