#!/usr/bin/env bash
# The whole thing run as an unprivileged service user (nobody, via setpriv)
# on directories it owns: passes, duplicates, dry runs and rebuild-state
# work, on one filesystem and across two (a private tmpfs owned by nobody).
# Across filesystems the copy cannot keep another user's ownership (no
# chown without root): it degrades to nobody's, without an error, keeping
# mode (set-ID bits too, which a write without CAP_FSETID clears) and
# mtime. A source that nobody cannot remove after its copy was
# committed (root's file in a sticky staging directory) leaves the commit
# open: reported each pass with exit 1, never ingested twice, finished by
# the first pass after the file is nobody's.
HOSTILE_PRIVATE_MOUNTS=1
source "$(dirname "${BASH_SOURCE[0]}")/hostile_lib.sh"
require_nobody

note "one filesystem"
new_roots same_fs
printf 'mine\n' >"$IN/mine.csv"
printf 'mine\n' >"$IN/mine-again.csv"
printf 'root 0644\n' >"$IN/roots.csv"
cp "$IN/mine.csv" "$T/mine.expected"
give_roots_to_nobody
chown root:root "$IN/roots.csv"
run_ingest_as_nobody --stability-seconds 0 --dry-run
assert_rc 0
assert_missing "$WH"
run_ingest_as_nobody --stability-seconds 0
assert_rc 0
assert_summary files_ingested 2
assert_summary duplicates 1
assert_eq "" "$(staged_files)" "files left in staging"
assert_eq "$NOBODY_UID" "$(stat -c %u "$MF" "$WH" "$ST" | sort -u)" "owner of the roots it created"
assert_eq "0" "$(stat -c %u "$(partition_dir)/roots.csv")" "owner of root's file, moved"
assert_warehouse_consistent
RC=0
as_nobody "$ATOMIC_INGEST" rebuild-state --manifests "$MF" --state-path "$ST" >"$OUT" 2>"$ERR" || RC=$?
assert_rc 0 "exit code of rebuild-state as nobody"
cp "$T/mine.expected" "$IN/mine-third.csv"
chown "$NOBODY_UID:$NOBODY_GID" "$IN/mine-third.csv"
run_ingest_as_nobody --stability-seconds 0
assert_rc 0
assert_summary files_ingested 0
assert_summary duplicates 1

note "across filesystems: ownership degrades to nobody's"
new_roots cross_fs
mount_tmpfs "$T/cross_fs/fs" "size=16m,mode=0755,uid=$NOBODY_UID,gid=$NOBODY_GID"
WH=$T/cross_fs/fs/warehouse
printf 'mine\n' >"$IN/mine.csv"
printf 'root 0604\n' >"$IN/roots.csv"
printf 'set-ID\n' >"$IN/setid.sh"
give_roots_to_nobody
chown root:root "$IN/roots.csv"
chmod 0604 "$IN/roots.csv"  # readable by nobody as "other"
chmod 6755 "$IN/setid.sh"
touch -d '2021-02-03 04:05:06.5' "$IN/roots.csv"
stat -c '%a %y' "$IN/roots.csv" >"$T/roots.meta"
cp "$IN/roots.csv" "$T/roots.expected"
run_ingest_as_nobody --stability-seconds 0
assert_rc 0
assert_summary files_ingested 3
assert_summary failed 0
assert_eq "" "$(staged_files)" "files left in staging"
part=$(partition_dir)
assert_same_content "$T/roots.expected" "$part/roots.csv"
assert_eq "$NOBODY_UID:$NOBODY_GID" "$(stat -c %u:%g "$part/roots.csv")" "owner of root's file, copied by nobody"
# The degradation is said once, not once per file.
assert_eq 1 "$(grep -c 'not running as root' "$ERR")" "warnings about ownership"
assert_eq "$(cat "$T/roots.meta")" "$(stat -c '%a %y' "$part/roots.csv")" "mode and mtime of the copy"
assert_eq 6755 "$(stat -c %a "$part/setid.sh")" "mode of a set-ID file copied by nobody"
assert_warehouse_consistent
assert_no_temp_copies

note "across filesystems: a source nobody cannot remove"
new_roots sticky
mount_tmpfs "$T/sticky/fs" "size=16m,mode=0755,uid=$NOBODY_UID,gid=$NOBODY_GID"
WH=$T/sticky/fs/warehouse
printf 'root owned, sticky staging\n' >"$IN/theirs.csv"
printf 'nobody owned\n' >"$IN/mine.csv"
cp "$IN/theirs.csv" "$T/theirs.expected"
give_roots_to_nobody "$IN"
chown root:root "$IN" "$IN/theirs.csv"
chown "$NOBODY_UID:$NOBODY_GID" "$IN/mine.csv"
chmod 1777 "$IN"
run_ingest_as_nobody --stability-seconds 0
assert_rc 1
assert_error_names -c "Operation not permitted" "$IN/theirs.csv"
assert_same_content "$T/theirs.expected" "$IN/theirs.csv"
assert_ingested_count 2
assert_manifest_records 2
assert_warehouse_consistent
run_ingest_as_nobody --stability-seconds 0
assert_rc 1 "exit code while the commit stays open"
assert_error_names "$IN/theirs.csv"
assert_summary files_ingested 0
assert_summary duplicates 0
assert_same_content "$T/theirs.expected" "$IN/theirs.csv"
assert_ingested_count 2
assert_duplicate_count 0
assert_manifest_records 2
chown "$NOBODY_UID:$NOBODY_GID" "$IN/theirs.csv"
run_ingest_as_nobody --stability-seconds 0
assert_rc 0 "exit code once the source is nobody's"
assert_summary recovered 1
assert_eq "" "$(staged_files)" "files left in staging"
assert_ingested_count 2
assert_duplicate_count 0
assert_manifest_records 2
assert_warehouse_consistent
