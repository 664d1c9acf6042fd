#include "known_names.h"

#include <functional>

#include "dir_scanner.h"

namespace ingest {

namespace {

// 12 bits a name, rounded up to a power of two (so 16), and 6 probes:
// about 0.1% false positives per full layer, under 1% over the layers a
// million names grow.
constexpr size_t kBitsPerName = 12;
constexpr int kProbes = 6;
constexpr size_t kFirstCapacity = 4096;

uint64_t Hash(std::string_view name) { return std::hash<std::string_view>()(name); }

// The i-th probe of a name (double hashing), within `nbits` (a power of 2).
size_t Probe(uint64_t h, int i, size_t nbits) {
  const uint64_t h1 = h, h2 = (h >> 32 | h << 32) | 1;
  return static_cast<size_t>((h1 + static_cast<uint64_t>(i) * h2) & (nbits - 1));
}

}  // namespace

Status KnownNames::List(Env* env, const File& dir, size_t max_names, KnownNames* out,
                        bool* complete) {
  *out = KnownNames();
  *complete = false;
  Status s = ForEachEntry(env, dir, [&](const DirEntry& e) {
    if (out->size() >= max_names) return Status::Busy("too many names");
    out->Add(e.name);
    return Status::OK();
  });
  if (s.IsBusy()) return Status::OK();
  *complete = s.ok();
  return s;
}

bool KnownNames::Test(const Layer& l, uint64_t h) {
  const size_t nbits = l.bits.size() * 64;
  for (int i = 0; i < kProbes; ++i) {
    const size_t b = Probe(h, i, nbits);
    if (!(l.bits[b / 64] >> (b % 64) & 1)) return false;
  }
  return true;
}

void KnownNames::Add(std::string_view name) {
  if (layers_.empty() || layers_.back().count >= layers_.back().capacity) {
    Layer l;
    l.capacity = layers_.empty() ? kFirstCapacity : layers_.back().capacity * 2;
    // A power of two, so that a probe is a mask.
    size_t nbits = 64;
    while (nbits < l.capacity * kBitsPerName) nbits *= 2;
    l.bits.assign(nbits / 64, 0);
    layers_.push_back(std::move(l));
  }
  Layer& l = layers_.back();
  const uint64_t h = Hash(name);
  const size_t nbits = l.bits.size() * 64;
  for (int i = 0; i < kProbes; ++i) {
    const size_t b = Probe(h, i, nbits);
    l.bits[b / 64] |= uint64_t{1} << (b % 64);
  }
  ++l.count;
  ++count_;
}

bool KnownNames::MayHave(std::string_view name) const {
  const uint64_t h = Hash(name);
  for (const Layer& l : layers_) {
    if (Test(l, h)) return true;
  }
  return false;
}

}  // namespace ingest
