#include "verify.h"

#include <fcntl.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string_view>
#include <vector>

#include "manifest.h"
#include "name_escape.h"
#include "sha256.h"

namespace ingest {

namespace fs = std::filesystem;

namespace {

bool InRange(const std::string& date, const VerifyOptions& o) {
  return (o.since.empty() || date >= o.since) && (o.until.empty() || date <= o.until);
}

Status HashFile(Env* env, const std::string& path, std::string* sha) {
  File root;
  Status s = env->OpenDir("/", &root);
  if (!s.ok()) return s;
  File f;
  // The absolute path is opened from "/" so that O_NOFOLLOW guards only
  // the last component, as for any path a manifest names.
  s = env->OpenAt(root, path.substr(1), O_RDONLY | O_NONBLOCK, 0, &f);
  if (!s.ok()) return s;
  Sha256 h;
  std::vector<char> buf(1 << 20);
  for (;;) {
    size_t got = 0;
    s = env->Read(f, buf.data(), buf.size(), &got);
    if (!s.ok()) return s;
    if (got == 0) break;
    h.Update(std::string_view(buf.data(), got));
  }
  *sha = h.FinishHex();
  return Status::OK();
}

// Walks <manifests>/YYYY/MM/DD/HH/manifest.jsonl in date order.
void ForEachManifest(const std::string& root, const VerifyOptions& o,
                     const std::function<void(const fs::path&)>& fn) {
  std::error_code ec;
  std::vector<fs::path> files;
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().filename() != kManifestFileName) continue;
    const fs::path rel = fs::relative(it->path(), root, ec);
    std::vector<std::string> parts;
    for (const auto& p : rel) parts.push_back(p.string());
    if (parts.size() != 5) continue;
    const std::string date = parts[0] + "-" + parts[1] + "-" + parts[2];
    if (InRange(date, o)) files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  for (const fs::path& f : files) fn(f);
}

}  // namespace

Status Verify(Env* env, const VerifyOptions& o, VerifyStats* stats) {
  std::vector<std::string> listed;
  ForEachManifest(o.manifests, o, [&](const fs::path& manifest) {
    std::ifstream in(manifest, std::ios::binary);
    std::string line;
    uint64_t n = 0;
    while (std::getline(in, line)) {
      ++n;
      ManifestRecord r;
      if (!ParseManifestLine(line, &r)) {
        ++stats->bad_lines;
        std::printf("bad-line %s:%llu\n", Printable(manifest.string()).c_str(),
                    static_cast<unsigned long long>(n));
        continue;
      }
      ++stats->records;
      listed.push_back(r.path);
      std::string sha;
      Status s = HashFile(env, r.path, &sha);
      if (s.IsNotFound()) {
        ++stats->missing;
        std::printf("missing %s\n", Printable(r.path).c_str());
      } else if (!s.ok()) {
        ++stats->missing;
        std::printf("unreadable %s: %s\n", Printable(r.path).c_str(), s.ToString().c_str());
      } else if (sha != r.sha256) {
        ++stats->corrupted;
        std::printf("corrupted %s: manifest says %s, content is %s\n", Printable(r.path).c_str(),
                    r.sha256.c_str(), sha.c_str());
      } else {
        ++stats->ok;
      }
    }
  });
  std::sort(listed.begin(), listed.end());

  std::error_code ec;
  for (fs::directory_iterator part(o.warehouse, ec), end; !ec && part != end; part.increment(ec)) {
    const std::string name = part->path().filename().string();
    const std::string prefix = "ingest_date=";
    if (name.rfind(prefix, 0) != 0 || !InRange(name.substr(prefix.size()), o)) continue;
    for (fs::directory_iterator f(part->path(), ec), fend; !ec && f != fend; f.increment(ec)) {
      const std::string path = f->path().string();
      if (!std::binary_search(listed.begin(), listed.end(), path)) {
        ++stats->unlisted;
        std::printf("unlisted %s\n", Printable(path).c_str());
      }
    }
  }
  if (ec) return Status::IOError("cannot list " + o.warehouse + ": " + ec.message());
  return Status::OK();
}

}  // namespace ingest
