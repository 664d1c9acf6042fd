#pragma once

#include <string>

namespace ingest {

// Sets up the process-wide spdlog logger on stderr: `level` is one of
// trace|debug|info|warn|error, `format` text|json. In json format every line
// is one JSON object {"time","level","msg"} with the message escaped.
// The only place that configures spdlog.
void SetUpLogging(const std::string& level, const std::string& format);

}  // namespace ingest
