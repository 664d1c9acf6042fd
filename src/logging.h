#pragma once

#include <spdlog/spdlog.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "status.h"

namespace ingest {

// Sets up the process-wide spdlog logger on stderr: `level` is one of
// trace|debug|info|warn|error, `format` text|json. In json format every line
// is one JSON object {"time","level","msg"} with the message escaped, and
// with the fields of a LogEvent.
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

// A record that carries data besides its message: what happened to a file
// (ingested, duplicate, deferred, failed) or a pass's summary. In text
// format it prints exactly its message, as spdlog would; in json format the
// object gets, after "time", "level" and "msg", an "event" member and one
// member per field, so log shippers and `jq` need not parse "msg". Field
// keys must not be "time", "level", "msg" or "event". When a string field is
// not UTF-8, every string field is escaped as the manifest escapes names,
// and the object gets "escaped": true. Fields cost nothing unless the
// record is logged in json format. For one record, on one thread:
//
//   LogEvent(spdlog::level::info, "ingested")
//       .Str("path", dest).Num("bytes", size)
//       .Log("ingested {} -> {}", source, dest);
class LogEvent {
 public:
  LogEvent(spdlog::level::level_enum level, std::string_view event);

  LogEvent& Str(std::string_view key, std::string_view value);
  LogEvent& Num(std::string_view key, uint64_t value);
  // Every member of the JSON object `object` (a summary), as fields; text
  // that is not a JSON object adds nothing.
  LogEvent& Members(std::string_view object);

  // Logs the message, formatted as spdlog formats it.
  template <typename... Args>
  void Log(spdlog::format_string_t<Args...> format, Args&&... args) {
    if (!spdlog::should_log(level_)) return;
    Emit(fmt::format(format, std::forward<Args>(args)...));
  }

 private:
  using Value = std::variant<std::string, uint64_t>;

  void Emit(const std::string& message);

  const spdlog::level::level_enum level_;
  // Whether fields are kept: the record is logged, in json format.
  const bool structured_;
  std::string event_;
  std::vector<std::pair<std::string, Value>> fields_;
  std::string members_;  // Members(), serialized: ,"key":value...
};

}  // namespace ingest
