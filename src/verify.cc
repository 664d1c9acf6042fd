#include "verify.h"

#include <fcntl.h>

#include <algorithm>
#include <cstdio>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dir_scanner.h"
#include "manifest.h"
#include "manifest_reader.h"
#include "name_escape.h"
#include "sha256.h"

namespace ingest {

namespace {

bool InRange(const std::string& date, const VerifyOptions& o) {
  return (o.since.empty() || date >= o.since) && (o.until.empty() || date <= o.until);
}

// What the walk found that is reported once every manifest is read.
struct Findings {
  std::vector<std::string> listed;
  std::vector<std::string> missing;
  // first ingest's path -> the re-ingest's path
  std::unordered_map<std::string, std::string> reingested;
};

// Checks one manifest's records against the files they name.
Status VerifyManifest(Env* env, const File& manifest, VerifyStats* stats, Findings* found) {
  auto check = [&](uint64_t number, std::string_view text) {
    ManifestRecord r;
    if (!ParseManifestLine(text, &r)) {
      ++stats->bad_lines;
      std::printf("bad-line %s:%llu\n", Printable(manifest.path()).c_str(),
                  static_cast<unsigned long long>(number));
      return Status::OK();
    }
    ++stats->records;
    found->listed.push_back(r.path);
    if (!r.reingest_of.empty()) found->reingested[r.reingest_of] = r.path;
    std::string sha;
    Status hashed = HashPath(env, r.path, &sha);
    if (hashed.IsNotFound()) {
      found->missing.push_back(r.path);  // unless a later record ingested it again
    } else if (!hashed.ok()) {
      ++stats->missing;
      std::printf("unreadable %s: %s\n", Printable(r.path).c_str(), hashed.ToString().c_str());
    } else if (sha != r.sha256) {
      ++stats->corrupted;
      std::printf("corrupted %s: manifest says %s, content is %s\n", Printable(r.path).c_str(),
                  r.sha256.c_str(), sha.c_str());
    } else {
      ++stats->ok;
    }
    return Status::OK();
  };
  ManifestLineReader reader(env, manifest);
  uint64_t n = 0;
  Status s = reader.ForEach([&](const ManifestLine& line) {
    n = line.number;
    return check(line.number, line.text);
  });
  if (!s.ok()) return s;
  // A torn tail is checked as a line too: a record whose newline alone is
  // missing still names its file.
  return reader.torn_tail() ? check(n + 1, reader.tail()) : Status::OK();
}

// Lists the files of the warehouse's ingest_date= partitions in range that
// no manifest names.
Status FindUnlisted(Env* env, const VerifyOptions& o, const std::vector<std::string>& listed,
                    VerifyStats* stats) {
  File warehouse;
  Status s = env->OpenDir(o.warehouse, &warehouse);
  if (!s.ok()) return s;
  const std::string prefix = "ingest_date=";
  std::vector<std::string> partitions;
  s = ListSubdirectories(env, warehouse, &partitions);
  if (!s.ok()) return s;
  for (const std::string& name : partitions) {
    if (name.rfind(prefix, 0) != 0 || !InRange(name.substr(prefix.size()), o)) continue;
    File part;
    s = env->OpenDirAt(warehouse, name, &part);
    if (!s.ok()) return s;
    s = ForEachEntry(env, part, [&](const DirEntry& e) {
      const std::string path = part.Child(e.name);
      if (!std::binary_search(listed.begin(), listed.end(), path)) {
        ++stats->unlisted;
        std::printf("unlisted %s\n", Printable(path).c_str());
      }
      return Status::OK();
    });
    if (!s.ok()) return s;
  }
  return Status::OK();
}

}  // namespace

Status Verify(Env* env, const VerifyOptions& o, VerifyStats* stats) {
  Findings found;
  File root;
  Status s = env->OpenDir(o.manifests, &root);
  if (!s.ok() && !s.IsNotFound()) return s;
  // Dates in range; a manifest outside it is never opened.
  ManifestTree tree(env, root, ManifestTree::Order::kOldestFirst, [&](std::string_view hour) {
    std::string date(hour.substr(0, 10));  // YYYY/MM/DD
    std::replace(date.begin(), date.end(), '/', '-');
    return InRange(date, o);
  });
  for (bool done = !s.ok(); !done;) {
    ManifestFile m;
    s = tree.Next(&m, &done);
    if (s.IsNotFound()) continue;  // removed while listed
    if (!s.ok()) return s;
    if (done) break;
    s = VerifyManifest(env, m.file, stats, &found);
    if (!s.ok()) return s;
  }
  for (const std::string& path : found.missing) {
    auto again = found.reingested.find(path);
    if (again == found.reingested.end()) {
      ++stats->missing;
      std::printf("missing %s\n", Printable(path).c_str());
    } else {
      ++stats->reingested;
      std::printf("reingested %s as %s\n", Printable(path).c_str(),
                  Printable(again->second).c_str());
    }
  }
  std::sort(found.listed.begin(), found.listed.end());
  return FindUnlisted(env, o, found.listed, stats);
}

}  // namespace ingest
