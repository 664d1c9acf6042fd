#pragma once

#include <string>

#include "status.h"

namespace ingest {

// Sets up the process-wide spdlog logger on stderr: `level` is one of
// trace|debug|info|warn|error, `format` text|json. In json format every line
// is one JSON object {"time","level","msg"} with the message escaped.
// When `log_file` is not empty, every record also goes to that file, in the
// same format: it is opened for appending, created with mode 0640 less the
// umask (never world-writable), never through a symlink, and must be a
// regular file. A SIGHUP handler is then installed that asks for the file
// to be reopened (RequestLogReopen), for logrotate. Returns an error naming
// the file when it cannot be opened; stderr logging is set up regardless.
// The only place that configures spdlog.
Status SetUpLogging(const std::string& level, const std::string& format,
                    const std::string& log_file);

// Asks the log file to be reopened by path before the next record is
// written to it, after logrotate moved it away. Async-signal-safe: it only
// sets a flag. Without a log file it does nothing.
void RequestLogReopen();

// Whether a log file was set up.
bool HasLogFile();

}  // namespace ingest
