#include "status.h"

#include <cerrno>
#include <cstring>

namespace ingest {

Status Status::FromErrno(std::string_view context, int err) {
  std::string msg(context);
  msg += ": ";
  msg += std::strerror(err);
  if (err == ENOENT) return Status(Code::kNotFound, msg, err);
  return Status(Code::kIOError, msg, err);
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return message_;
}

}  // namespace ingest
