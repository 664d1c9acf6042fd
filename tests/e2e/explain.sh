#!/usr/bin/env bash
# `explain PATH` says why a file was or was not ingested: outside --input,
# a name filter, not a regular file, a directory the scan does not enter,
# the stability timing, the sidecar and its checksum, its last failure, a
# duplicate of which record, a kept duplicate, or, for a file that left
# staging, the record that says where it went (content index, else the
# manifests). It changes nothing, works while the lock is held, exits 0
# when it explains, 1 when PATH is unknown and 2 on usage errors.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# `explain PATH` over the current roots with extra flags.
run_explain() {  # PATH [FLAGS...]
  local path=$1
  shift
  RC=0
  timeout -k 5 60 "$ATOMIC_INGEST" explain "$path" --input "$IN" --warehouse "$WH" \
    --manifests "$MF" --state-path "$ST" "$@" >"$OUT" 2>"$ERR" || RC=$?
}
# Explains PATH and expects exit 0 and a first line "PATH: WHAT...".
expect_explained() {  # PATH WHAT [FLAGS...]
  local path=$1 what=$2
  shift 2
  run_explain "$path" "$@"
  assert_rc 0 "explain $path"
  assert_contains "$OUT" "$path: $what" "explanation of $path"
}
snapshot() { for d in "$IN" "$WH" "$MF" "$ST"; do tree_listing "$d"; done; }

note "filters and file types"
printf 'h\n' >"$IN/.hidden.csv"
printf 't\n' >"$IN/part.csv.tmp"
printf 's\n' >"$IN/signed.csv"
: >"$IN/signed.csv.ok"
ln -s signed.csv "$IN/link.csv"
mkfifo "$IN/pipe.csv"
mkdir -p "$IN/sub/.private" "$IN/.hiddendir"
printf 'deep\n' >"$IN/sub/deep.csv"
printf 'p\n' >"$IN/sub/.private/p.csv"
printf 'x\n' >"$IN/.hiddendir/x.csv"
mkdir -p "$T/elsewhere"
printf 'o\n' >"$T/elsewhere/other.csv"

expect_explained "$IN/.hidden.csv" "never ingested: a hidden name"
expect_explained "$IN/part.csv.tmp" "never ingested: a temporary name (.tmp, .part or .swp); it is taken once renamed"
expect_explained "$IN/signed.csv.ok" "never ingested: the .ok sidecar of $IN/signed.csv"
expect_explained "$IN/link.csv" "never ingested: a symbolic link (never followed)"
expect_explained "$IN/pipe.csv" "never ingested: a FIFO; only regular files are"
expect_explained "$IN/sub" "a directory; the files in it are ingested only with --recursive"
expect_explained "$IN/sub" "a directory; the scan lists its files (--recursive)" --recursive
expect_explained "$IN/sub/deep.csv" "inside $IN/sub, a subdirectory of --input; subdirectories are listed only with --recursive"
expect_explained "$IN/sub/.private/p.csv" "inside $IN/sub/.private, which the scan never enters: hidden name" --recursive
expect_explained "$IN/.hiddendir/x.csv" "inside $IN/.hiddendir, which the scan never enters: hidden name" --recursive
expect_explained "$T/elsewhere/other.csv" "outside --input $IN; never ingested from there"
expect_explained "$IN" "the --input directory itself"
# A relative PATH is taken from the working directory.
RC=0
(cd "$IN" && exec timeout -k 5 60 "$ATOMIC_INGEST" explain ./.hidden.csv --input "$IN" \
  --manifests "$MF" --state-path "$ST") >"$OUT" 2>"$ERR" || RC=$?
assert_rc 0 "explain with a relative path"
assert_contains "$OUT" "$IN/.hidden.csv: never ingested: a hidden name"

note "stability timing"
printf 'slow\n' >"$IN/slow.csv"
expect_explained "$IN/slow.csv" "not yet stable: " --stability-seconds 3600
assert_matches "$OUT" "^$IN/slow\.csv: not yet stable: 3[0-9]{3}\.[0-9] s to go$" "time left"
assert_contains "$OUT" "  window: 3600 s (--stability-seconds)"
assert_contains "$OUT" "  first seen by a pass: not yet; the next pass records it"
assert_contains "$OUT" "  size: 5 bytes"
assert_matches "$OUT" "^  timestamps: the newer of mtime and ctime is [0-9.]+ s old$"
run_ingest --stability-seconds 3600
assert_rc 0
expect_explained "$IN/slow.csv" "not yet stable: " --stability-seconds 3600
assert_matches "$OUT" "^  first seen by a pass: [0-9T:.-]+Z, [0-9.]+ s ago, with this size, mtime and ctime$"
printf 'slower\n' >>"$IN/slow.csv"
expect_explained "$IN/slow.csv" "not yet stable: " --stability-seconds 3600
assert_contains "$OUT" "  first seen by a pass: changed since a pass saw it at "
touch -d '+1 hour' "$IN/slow.csv"
expect_explained "$IN/slow.csv" "not yet stable: " --stability-seconds 60
assert_contains "$OUT" "  timestamps: in the future, so no evidence"
expect_explained "$IN/signed.csv" "complete (its mtime and ctime are " --stability-seconds 0
assert_contains "$OUT" "; the next pass ingests it"
assert_contains "$OUT" "  sha256: $(sha_of "$IN/signed.csv")"

note "sidecars"
printf 'w\n' >"$IN/waiting.csv"
expect_explained "$IN/waiting.csv" "waiting for its sidecar waiting.csv.ok (--mode sidecar)" --mode sidecar
expect_explained "$IN/signed.csv" "complete (its sidecar signed.csv.ok exists); the next pass ingests it" --mode sidecar
printf 'wrong\n' >"$IN/wrong.csv"
echo "$(printf 'right\n' | sha256sum | cut -c1-64)  wrong.csv" >"$IN/wrong.csv.ok"
expect_explained "$IN/wrong.csv" "complete (its sidecar wrong.csv.ok exists), but its sidecar does not match: checksum mismatch for $IN/wrong.csv" --mode sidecar

note "a recorded failure"
rm "$IN/signed.csv.ok" "$IN/link.csv" "$IN/pipe.csv"
run_ingest --mode sidecar
assert_rc 1 "a pass with a checksum mismatch"
expect_explained "$IN/wrong.csv" "complete (its sidecar wrong.csv.ok exists), but its sidecar does not match" --mode sidecar
assert_contains "$OUT" "  last failure: checksum mismatch for $IN/wrong.csv"
assert_matches "$OUT" "^  failed at: [0-9T:.-]+Z \(1 attempt\)$"
# Still recorded while it waits for another sidecar.
rm "$IN/wrong.csv.ok"
expect_explained "$IN/wrong.csv" "waiting for its sidecar wrong.csv.ok" --mode sidecar
assert_contains "$OUT" "  last failure: checksum mismatch for $IN/wrong.csv"

note "ingested, duplicates and kept duplicates"
printf 'first\n' >"$IN/first.csv"
run_ingest --stability-seconds 0
assert_rc 0
first_dest=$(echo "$WH"/ingest_date=*/first.csv)
assert_file "$first_dest"
first_manifest=$(echo "$MF"/*/*/*/*/manifest.jsonl)
printf 'first\n' >"$IN/again.csv"
expect_explained "$IN/again.csv" "complete (its mtime and ctime are " --stability-seconds 0
assert_contains "$OUT" ", and a duplicate: the next pass quarantines it (--on-duplicate)"
assert_contains "$OUT" "  duplicate of: $first_dest"
assert_contains "$OUT" "  first ingested from: $IN/first.csv"
assert_contains "$OUT" "  manifest: $first_manifest"
expect_explained "$IN/again.csv" "complete (" --stability-seconds 0 --on-duplicate delete
assert_contains "$OUT" "the next pass deletes it"
run_ingest --stability-seconds 0 --on-duplicate keep
assert_rc 0
assert_file "$IN/again.csv"
expect_explained "$IN/again.csv" "a duplicate kept in staging (--on-duplicate keep); never hashed again while unchanged"
assert_contains "$OUT" "  sha256: $(sha_of "$IN/again.csv")"
assert_contains "$OUT" "  duplicate of: $first_dest"

note "files that left staging"
expect_explained "$IN/first.csv" "ingested as $first_dest"
assert_contains "$OUT" "  sha256: $(sha_of "$first_dest")"
assert_contains "$OUT" "  manifest: $first_manifest"
expect_explained "$first_dest" "in the warehouse; ingested from $IN/first.csv"
assert_not_contains "$OUT" "outside --input" "explanation of a warehouse file"
mkdir -p "$WH/by-hand"
printf 'hand\n' >"$WH/by-hand/h.csv"
expect_explained "$WH/by-hand/h.csv" "in the warehouse, but no record names it"
assert_not_contains "$OUT" "outside --input" "explanation of an unrecorded warehouse file"
run_explain "$IN/never-was.csv"
assert_rc 1 "explain of an unknown file"
assert_contains "$OUT" "$IN/never-was.csv: not in staging, and no record names it"
run_explain "$T/elsewhere/never-was.csv"
assert_rc 1 "explain of an unknown file outside --input"
assert_contains "$OUT" "no such file, and no record names it"
# Without the content index (a lost state), the manifests still know.
mv "$ST/db" "$T/db.aside"
expect_explained "$IN/first.csv" "ingested as $first_dest"
assert_matches "$OUT" "^  manifest: $first_manifest:[0-9]+$"
mv "$T/db.aside" "$ST/db"

note "a failure that recurs: the next pass meets it again"
# An immutable partition refuses the move even to root (EPERM), after the
# file hashed fine: explain cannot see that by hashing, only by the record.
partition=$(dirname "$first_dest")
if chattr +i "$partition" 2>/dev/null; then
  on_exit "chattr -i '$partition' 2>/dev/null"
  printf 'stuck\n' >"$IN/stuck.csv"
  run_ingest --stability-seconds 0
  assert_rc 1 "a pass whose move is refused"
  expect_explained "$IN/stuck.csv" "complete (" --stability-seconds 0
  assert_contains "$OUT" "; its last attempt failed (below); the next pass tries again and will likely fail the same way unless the cause is fixed"
  assert_not_contains "$OUT" "the next pass ingests it"
  assert_matches "$OUT" "^  last failure: .*Operation not permitted"
  assert_matches "$OUT" "^  failed at: [0-9T:.-]+Z \(1 attempt\)$"
  chattr -i "$partition"
  run_ingest --stability-seconds 0
  assert_rc 0 "the pass once the partition takes files again"
  expect_explained "$IN/stuck.csv" "ingested as $partition/stuck.csv"
  assert_not_contains "$OUT" "last failure"
else
  note "chattr +i is refused here: the recurring failure is not checked"
fi

note "changes nothing, works while the lock is held"
hold_state_lock
printf 'late\n' >"$IN/late.csv"
snapshot >"$T/before"
expect_explained "$IN/again.csv" "a duplicate kept in staging"
expect_explained "$IN/late.csv" "not yet stable: " --stability-seconds 3600
expect_explained "$IN/first.csv" "ingested as $first_dest"
snapshot >"$T/after"
cmp -s "$T/before" "$T/after" || { diff "$T/before" "$T/after" >&2; fail "explain changed the trees above"; }
kill "$holder"
wait "$holder" 2>/dev/null || true

note "usage errors"
RC=0
"$ATOMIC_INGEST" explain --input "$IN" --manifests "$MF" --state-path "$ST" >"$OUT" 2>"$ERR" || RC=$?
assert_rc 2 "explain without a PATH"
assert_contains "$ERR" "explain needs a PATH"
RC=0
"$ATOMIC_INGEST" explain a b --input "$IN" --manifests "$MF" --state-path "$ST" >"$OUT" 2>"$ERR" || RC=$?
assert_rc 2 "explain with two PATHs"
RC=0
"$ATOMIC_INGEST" explain "$IN/a" --input "$IN" --state-path "$ST" >"$OUT" 2>"$ERR" || RC=$?
assert_rc 2 "explain without --manifests"
assert_contains "$ERR" "--manifests"
