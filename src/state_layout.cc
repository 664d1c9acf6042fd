#include "state_layout.h"

#include <string>
#include <string_view>
#include <vector>

#include "records.h"

namespace ingest {

namespace {

constexpr std::string_view kCurrentLayout = "2";
constexpr size_t kBatch = 4096;

// In a key "<prefix><dev>:<ino><rest>", the position of the ':' that ends
// the device, or npos for a key of the current layout.
size_t DeviceEnd(std::string_view key, std::string_view prefix) {
  size_t i = prefix.size();
  while (i < key.size() && key[i] >= '0' && key[i] <= '9') ++i;
  return i > prefix.size() && i < key.size() && key[i] == ':' ? i : std::string_view::npos;
}

Status Rewrite(StateStore* state, std::string_view prefix) {
  std::vector<StateWrite> batch;
  Status s;
  Status scan = state->Scan(prefix, [&](std::string_view key, std::string_view value) {
    const size_t colon = DeviceEnd(key, prefix);
    if (colon == std::string_view::npos) return true;
    std::string moved(prefix);
    moved.append(key.substr(colon + 1));
    batch.push_back({std::move(moved), std::string(value)});
    batch.push_back({std::string(key), std::nullopt});
    if (batch.size() >= kBatch) {
      s = state->Apply(batch, /*sync=*/false);
      batch.clear();
    }
    return s.ok();
  });
  if (!scan.ok()) return scan;
  if (!s.ok()) return s;
  return batch.empty() ? Status::OK() : state->Apply(batch, /*sync=*/false);
}

}  // namespace

Status UpgradeStateLayout(StateStore* state) {
  std::string layout;
  Status s = state->Get(keys::kLayout, &layout);
  if (s.ok() && layout == kCurrentLayout) return Status::OK();
  if (!s.ok() && !s.IsNotFound()) return s;
  for (std::string_view prefix : {keys::kSnapshot, keys::kFailure, keys::kCursor}) {
    s = Rewrite(state, prefix);
    if (!s.ok()) return s;
  }
  return state->Apply({{std::string(keys::kLayout), std::string(kCurrentLayout)}}, /*sync=*/true);
}

}  // namespace ingest
