#pragma once

#include <string>
#include <string_view>

#include "env.h"

namespace ingest {

// Opens <root>/<rel> as a directory, creating missing components with mode
// 0775 (less the umask: never world-writable). `rel` is '/'-separated and may be empty (then the
// root itself is reopened). *created tells whether anything was created,
// so the caller knows a directory entry still has to be made durable.
Status OpenOrCreateDirs(Env* env, const File& root, std::string_view rel, File* out, bool* created);

// Opens <root>/<rel> as a directory without creating anything.
Status OpenDirs(Env* env, const File& root, std::string_view rel, File* out);

// Reads at most `max` bytes of the whole file; Corruption when it is larger.
Status ReadSmallFile(Env* env, const File& dir, const std::string& name, size_t max,
                     std::string* out);

// Replaces <dir>/<name> with `content` atomically and durably: write a
// hidden temp file, fsync it, rename it over the target, fsync the
// directory. The temp file is removed on failure. Readers see the old or
// the new content, never a mix.
Status WriteFileAtomically(Env* env, const File& dir, const std::string& name,
                           std::string_view content);

// Whether <dir>/<name> (not followed) is the inode `ino`. The directory
// fixes the filesystem; st_dev is not compared, since it differs per mount
// and per client, and recovery may run through another mount or on another
// host than the pass that recorded `ino`.
bool IsSameInode(Env* env, const File& dir, const std::string& name, uint64_t ino);

// Whether <dir>/<name> is still the inode `ino` with the size and mtime it
// had when hashed: nothing was written to it since. ctime is not compared:
// a rename changes it.
bool IsUnchanged(Env* env, const File& dir, const std::string& name, uint64_t ino, uint64_t size,
                 int64_t mtime_ns);

// Joins a root path and a relative path.
std::string JoinPath(std::string_view a, std::string_view b);
// Whether `inner` names something below the directory `outer` (both
// normalized, absolute paths).
bool IsInside(std::string_view inner, std::string_view outer);

}  // namespace ingest
