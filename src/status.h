#pragma once

#include <string>
#include <string_view>

namespace ingest {

// The result of an operation that can fail. Errors are values: a Status says
// what failed and why in one sentence that names the object, ready for a log
// line. OK carries no allocation.
class [[nodiscard]] Status {
 public:
  enum class Code { kOk, kNotFound, kCorruption, kIOError, kInvalidArgument, kBusy };

  Status() = default;

  static Status OK() { return Status(); }
  static Status NotFound(std::string_view msg) { return Status(Code::kNotFound, msg, 0); }
  static Status Corruption(std::string_view msg) { return Status(Code::kCorruption, msg, 0); }
  static Status InvalidArgument(std::string_view msg) {
    return Status(Code::kInvalidArgument, msg, 0);
  }
  static Status Busy(std::string_view msg) { return Status(Code::kBusy, msg, 0); }
  static Status IOError(std::string_view msg, int err = 0) {
    return Status(Code::kIOError, msg, err);
  }
  // The one place errno becomes a Status: "<context>: <strerror(err)>".
  // ENOENT maps to NotFound so callers can tell "gone" from "broken".
  static Status FromErrno(std::string_view context, int err);

  bool ok() const { return code_ == Code::kOk; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsCorruption() const { return code_ == Code::kCorruption; }
  bool IsBusy() const { return code_ == Code::kBusy; }
  bool IsInvalidArgument() const { return code_ == Code::kInvalidArgument; }
  Code code() const { return code_; }
  // The errno behind an I/O error, or 0.
  int err() const { return errno_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;

 private:
  Status(Code code, std::string_view msg, int err) : code_(code), errno_(err), message_(msg) {}

  Code code_ = Code::kOk;
  int errno_ = 0;
  std::string message_;
};

}  // namespace ingest
