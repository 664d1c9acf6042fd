#pragma once

#include <string>
#include <string_view>

namespace ingest {

// File names are bytes; JSON strings are UTF-8. A record whose paths are
// valid UTF-8 holds them as they are. When any path of a record is not, all
// its paths are escaped reversibly and the record says "escaped": true: each
// byte that is not part of a valid UTF-8 sequence becomes "\xHH" (two
// lowercase hex digits) and each backslash becomes "\\". Control characters
// such as a newline are left to the JSON serializer, which writes them as \n
// or \u00XX, so a record is always one line.

bool IsValidUtf8(std::string_view s);

// Applies the escaping above; the result is valid UTF-8.
std::string EscapeName(std::string_view name);

// Inverse of EscapeName. Returns false on a malformed escape.
bool UnescapeName(std::string_view escaped, std::string* name);

// For text logs and terminal output. Text that is valid UTF-8 with no control
// character and no backslash is returned as it is; any other text is escaped
// like EscapeName, with control characters (a newline in a name, say) also
// as "\xHH", so one message stays one line and no two names print alike.
std::string Printable(std::string_view text);

}  // namespace ingest
