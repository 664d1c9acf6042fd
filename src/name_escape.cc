#include "name_escape.h"

#include <cstdint>

namespace ingest {

namespace {

// Length of the valid UTF-8 sequence at the start of `s`, or 0 when the
// first byte does not start one. Rejects overlong forms, surrogates and code
// points above U+10FFFF.
size_t Utf8SequenceLength(std::string_view s) {
  const auto b0 = static_cast<uint8_t>(s[0]);
  if (b0 < 0x80) return 1;
  size_t len;
  uint32_t cp;
  uint32_t min;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (s.size() < len) return 0;
  for (size_t i = 1; i < len; ++i) {
    const auto b = static_cast<uint8_t>(s[i]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool IsValidUtf8(std::string_view s) {
  while (!s.empty()) {
    size_t n = Utf8SequenceLength(s);
    if (n == 0) return false;
    s.remove_prefix(n);
  }
  return true;
}

namespace {

std::string Escape(std::string_view name, bool controls) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(name.size() + 8);
  while (!name.empty()) {
    size_t n = Utf8SequenceLength(name);
    if (controls && n == 1 && (static_cast<uint8_t>(name[0]) < 0x20 || name[0] == 0x7f)) n = 0;
    if (n == 0) {
      const auto b = static_cast<uint8_t>(name[0]);
      out += "\\x";
      out += kHex[b >> 4];
      out += kHex[b & 0xF];
      n = 1;
    } else if (name[0] == '\\') {
      out += "\\\\";
    } else {
      out.append(name.substr(0, n));
    }
    name.remove_prefix(n);
  }
  return out;
}

}  // namespace

std::string EscapeName(std::string_view name) { return Escape(name, /*controls=*/false); }

std::string Printable(std::string_view text) {
  bool plain = IsValidUtf8(text);
  for (char c : text) plain &= static_cast<uint8_t>(c) >= 0x20 && c != 0x7f && c != '\\';
  return plain ? std::string(text) : Escape(text, /*controls=*/true);
}

bool UnescapeName(std::string_view escaped, std::string* name) {
  name->clear();
  for (size_t i = 0; i < escaped.size(); ++i) {
    char c = escaped[i];
    if (c != '\\') {
      *name += c;
      continue;
    }
    if (i + 1 >= escaped.size()) return false;
    char kind = escaped[++i];
    if (kind == '\\') {
      *name += '\\';
    } else if (kind == 'x' && i + 2 < escaped.size()) {
      int hi = HexValue(escaped[i + 1]);
      int lo = HexValue(escaped[i + 2]);
      if (hi < 0 || lo < 0) return false;
      *name += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace ingest
