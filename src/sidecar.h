#pragma once

#include <string>
#include <string_view>

#include "status.h"

namespace ingest {

// The "<name>.ok" sidecar that marks a file complete in sidecar mode.
inline constexpr std::string_view kSidecarSuffix = ".ok";

// Parses the sidecar's content. An empty sidecar (or one holding only
// whitespace) carries no checksum: *sha256 is left empty. Otherwise the
// first line must be a bare SHA-256 in hex, or a sha256sum line
// ("<hex>  <name>" or "<hex> *<name>"); when `expected_name` is given, a
// sha256sum line must name it. *sha256 is returned in lowercase. Anything
// else is Corruption with a message naming the cause.
Status ParseSidecar(std::string_view content, std::string_view expected_name, std::string* sha256);

}  // namespace ingest
