#include "logging.h"

#include <fcntl.h>
#include <signal.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <mutex>

#include "env.h"
#include "name_escape.h"

namespace ingest {

namespace {

// "%*": the message as a JSON string literal, quotes included. Names that
// are not UTF-8 are escaped as in the manifest.
class JsonMessageFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    std::string_view text(msg.payload.data(), msg.payload.size());
    std::string safe = IsValidUtf8(text) ? std::string(text) : EscapeName(text);
    std::string quoted = boost::json::serialize(boost::json::string(safe));
    dest.append(quoted.data(), quoted.data() + quoted.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonMessageFlag>();
  }
};

// Whether records are JSON objects (SetUpLogging's `format`).
bool g_json = false;

// The fields of the LogEvent being logged on this thread, serialized as
// members (`,"key":value...`), and the message they belong to: a record
// logged meanwhile by a sink (a --log-file problem) has another payload,
// and gets none.
struct CurrentEvent {
  const char* payload = nullptr;
  const std::string* members = nullptr;
};
thread_local CurrentEvent t_event;

// "%&" in json format: the members of the current LogEvent, if this record
// is its message; nothing otherwise.
class JsonFieldsFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    if (t_event.members == nullptr || t_event.payload != msg.payload.data()) return;
    dest.append(t_event.members->data(), t_event.members->data() + t_event.members->size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonFieldsFlag>();
  }
};

// "%*" in text format: the message with control characters and bytes that
// are not UTF-8 escaped, so a newline in a file name cannot forge a line.
class TextMessageFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    std::string safe = Printable(std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(safe.data(), safe.data() + safe.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<TextMessageFlag>();
  }
};

// Set from a signal handler, read by the file sink: must be lock-free.
std::atomic<bool> g_reopen_log{false};
static_assert(std::atomic<bool>::is_always_lock_free);
bool g_has_log_file = false;

extern "C" void OnHangup(int) { RequestLogReopen(); }

// Opens the log file at the absolute `path` for appending.
Status OpenLogFile(const std::string& path, File* out) {
  Env* env = Env::Default();
  const size_t slash = path.rfind('/');
  const std::string dir_path = slash == std::string::npos ? "."
                               : slash == 0               ? "/"
                                                          : path.substr(0, slash);
  const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  File dir;
  Status s = env->OpenDir(dir_path, &dir);
  if (!s.ok()) return s;
  File file;
  // 0640: the umask may take more away; logs are never world-writable, and
  // not world-readable either, as they name every file moved. O_NONBLOCK:
  // opening a FIFO planted under the name must not hang the run.
  s = env->OpenAt(dir, name, O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK, 0640, &file);
  if (!s.ok()) return s;
  FileStat st;
  s = env->Stat(file, &st);
  if (!s.ok()) return s;
  if (!st.IsRegular()) return Status::InvalidArgument(path + " is not a regular file");
  *out = std::move(file);
  return Status::OK();
}

// Appends each record to a file, and reopens the file by its path before
// the next record once RequestLogReopen() was called, so that after
// logrotate moves the file away (its "create" mode) records go to the new
// one. Until then, and when a reopen fails, records keep going to the file
// already open. Problems with the file are reported on `errors` (stderr),
// once until the file works again: a log that cannot be written must not
// stop the ingest.
class ReopeningFileSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  ReopeningFileSink(std::string path, File file, std::shared_ptr<spdlog::sinks::sink> errors)
      : path_(std::move(path)), file_(std::move(file)), errors_(std::move(errors)) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    if (g_reopen_log.exchange(false)) {
      File reopened;
      Status s = OpenLogFile(path_, &reopened);
      if (s.ok()) {
        file_ = std::move(reopened);
      } else {
        Report("--log-file: cannot reopen: " + s.ToString() +
               "; still writing to the file opened before");
      }
    }
    spdlog::memory_buf_t line;
    formatter_->format(msg, line);
    Status s = Env::Default()->Write(file_, std::string_view(line.data(), line.size()));
    if (!s.ok() && !write_failed_) {
      Report("--log-file: " + s.ToString() + "; records are lost until a write succeeds");
    }
    write_failed_ = !s.ok();
  }

  void flush_() override {}  // every record is written at once

 private:
  void Report(const std::string& text) {
    errors_->log(spdlog::details::log_msg("atomic-ingest", spdlog::level::err, text));
  }

  const std::string path_;
  File file_;
  std::shared_ptr<spdlog::sinks::sink> errors_;
  bool write_failed_ = false;
};

}  // namespace

void RequestLogReopen() { g_reopen_log.store(true); }

bool HasLogFile() { return g_has_log_file; }

Status SetUpLogging(const std::string& level, const std::string& format,
                    const std::string& log_file) {
  auto stderr_sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>("atomic-ingest", stderr_sink);
  Status s;
  if (!log_file.empty()) {
    File file;
    s = OpenLogFile(log_file, &file);
    if (s.ok()) {
      logger->sinks().push_back(
          std::make_shared<ReopeningFileSink>(log_file, std::move(file), stderr_sink));
      g_has_log_file = true;
      struct sigaction sa = {};
      sa.sa_handler = OnHangup;
      sa.sa_flags = SA_RESTART;
      sigemptyset(&sa.sa_mask);
      if (::sigaction(SIGHUP, &sa, nullptr) != 0) {
        s = Status::FromErrno("cannot install the SIGHUP handler", errno);
      }
    }
  }
  auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
  g_json = format == "json";
  if (g_json) {
    formatter->add_flag<JsonMessageFlag>('*').add_flag<JsonFieldsFlag>('&').set_pattern(
        R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","msg":%*%&})");
  } else {
    formatter->add_flag<TextMessageFlag>('*').set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %l %*");
  }
  logger->set_formatter(std::move(formatter));
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(std::move(logger));
  return s;
}

LogEvent::LogEvent(spdlog::level::level_enum level, std::string_view event)
    : level_(level), structured_(g_json && spdlog::should_log(level)), event_(event) {}

LogEvent& LogEvent::Str(std::string_view key, std::string_view value) {
  if (structured_) fields_.emplace_back(key, std::string(value));
  return *this;
}

LogEvent& LogEvent::Num(std::string_view key, uint64_t value) {
  if (structured_) fields_.emplace_back(key, value);
  return *this;
}

LogEvent& LogEvent::Members(std::string_view object) {
  if (!structured_) return *this;
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(object, ec);
  if (ec || !v.is_object()) return *this;
  for (const auto& [key, value] : v.as_object()) {
    members_ += ',' + boost::json::serialize(boost::json::string(key)) + ':' +
                boost::json::serialize(value);
  }
  return *this;
}

void LogEvent::Emit(const std::string& message) {
  spdlog::logger* logger = spdlog::default_logger_raw();
  if (!structured_) {
    logger->log(level_, spdlog::string_view_t(message.data(), message.size()));
    return;
  }
  // One string field that is not UTF-8 escapes them all, as in the
  // manifest, so that "escaped" says how to read every one.
  bool escaped = false;
  for (const auto& field : fields_) {
    const auto* text = std::get_if<std::string>(&field.second);
    if (text != nullptr && !IsValidUtf8(*text)) escaped = true;
  }
  boost::json::object o;
  o["event"] = event_;
  for (const auto& [key, value] : fields_) {
    if (const auto* text = std::get_if<std::string>(&value)) {
      o[key] = escaped ? EscapeName(*text) : *text;
    } else {
      o[key] = std::get<uint64_t>(value);
    }
  }
  if (escaped) o["escaped"] = true;
  std::string members = boost::json::serialize(o);
  // `{...}` to `,...`: members that follow "msg".
  members.front() = ',';
  members.pop_back();
  members += members_;
  t_event = {message.data(), &members};
  logger->log(level_, spdlog::string_view_t(message.data(), message.size()));
  t_event = {};
}

}  // namespace ingest
