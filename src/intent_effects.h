#pragma once

#include <optional>
#include <string>
#include <vector>

#include "claims.h"
#include "pass_context.h"
#include "records.h"
#include "state_store.h"

namespace ingest {

// The effects of an intent that the commit (commit.h) and recovery
// (recovery.h) both carry out, in one place because exactly-once holds only
// while the two agree on them.

// The source path intent `in` was staged as.
std::string SourcePath(const PassContext& ctx, const Intent& in);
// The warehouse path intent `in` moves the file to.
std::string DestPath(const PassContext& ctx, const Intent& in);

// Step U for the source of intent `in`, in `src_dir`, once the intent's
// move is durable (or, for a deleted duplicate, its content committed).
// A source is redundant when it was copied to another filesystem, is a
// deleted duplicate, or is the old name a move by link() left on the moved
// file (a same-filesystem rename took it already); it is
// unlinked only while it is still the hashed file, since a source written
// to after it was hashed is not what was committed, and a later pass takes
// its new content. Returns the unlink's result, or nothing when the source
// stays. Only for an intent whose move is done or that deletes a
// duplicate: a duplicate kept in staging is planned with the deleting
// action too, but it is never journaled, so recovery never sees one, and
// the commit never passes one here.
std::optional<Status> UnlinkRedundantSource(Env* env, const File& src_dir, const Intent& in);

// Step U for the .ok sidecar of intent `in`, if it has one: the unlink's
// result. NotFound means an earlier attempt removed it, which is as good
// as removing it now, but no new removal that a barrier must make durable.
std::optional<Status> UnlinkSidecar(Env* env, const File& src_dir, const Intent& in);

// The content claim (claims.h) that intent `id`, an ingest, takes in step
// K and recovery releases when it rolls the intent back.
Claim ClaimOf(const PassContext& ctx, const std::string& id, const Intent& in);

// Step C for an ingest: the content record of intent `id` committed at
// `now_ns`, and with --exec the hook queued with it (atomically) when
// `queue_hook` (recovery queues none for a content already committed).
void AddContentWrites(const PassContext& ctx, const std::string& id, const Intent& in,
                      int64_t now_ns, bool queue_hook, std::vector<StateWrite>* writes);

}  // namespace ingest
