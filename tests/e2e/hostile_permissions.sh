#!/usr/bin/env bash
# Permission failures, with the pass run as nobody (setpriv) on roots that
# nobody owns unless said otherwise. Each failure: an error naming the path
# and "Permission denied" (or "Operation not permitted"), exit 1, the file
# left where it is, unchanged, and nothing partial in the partitions; the
# other files are ingested; once the permission is fixed the next pass
# finishes the work.
#
#   - a file nobody cannot read (mode 000), and a root-owned 0600 file;
#   - a root-owned 0644 file: readable, and in a directory nobody owns, so
#     it can be moved: ingested, owner kept;
#   - a sticky staging directory (like /tmp) holding a root-owned file:
#     readable but not movable by nobody;
#   - a warehouse, a manifests directory or a state directory that nobody
#     cannot write.
source "$(dirname "${BASH_SOURCE[0]}")/hostile_lib.sh"
require_nobody

denied="Permission denied"

note "unreadable files and files owned by others"
new_roots unreadable
printf 'readable\n' >"$IN/ok.csv"
printf 'mode 000\n' >"$IN/locked.csv"
printf 'root 0600\n' >"$IN/root600.csv"
printf 'root 0644\n' >"$IN/root644.csv"
for f in ok locked root600 root644; do cp "$IN/$f.csv" "$T/$f.expected"; done
give_roots_to_nobody
chown "$NOBODY_UID:$NOBODY_GID" "$IN/ok.csv" "$IN/locked.csv"
chown root:root "$IN/root600.csv" "$IN/root644.csv"
chmod 000 "$IN/locked.csv"
chmod 600 "$IN/root600.csv"
chmod 644 "$IN/root644.csv"
stat -c '%n %u %g %a %Y' "$IN/locked.csv" "$IN/root600.csv" >"$T/meta.before"
run_ingest_as_nobody --stability-seconds 0
assert_rc 1
assert_error_names -c "$denied" "$IN/locked.csv" "$IN/root600.csv"
assert_summary files_ingested 2
assert_summary failed 2
assert_same_content "$T/ok.expected" "$(partition_dir)/ok.csv"
assert_same_content "$T/root644.expected" "$(partition_dir)/root644.csv"
assert_eq "0:0" "$(stat -c %u:%g "$(partition_dir)/root644.csv")" "owner of the moved root644.csv"
stat -c '%n %u %g %a %Y' "$IN/locked.csv" "$IN/root600.csv" >"$T/meta.after"
cmp -s "$T/meta.before" "$T/meta.after" || fail "the unreadable files changed: $(diff "$T/meta.before" "$T/meta.after")"
assert_same_content "$T/locked.expected" "$IN/locked.csv"
assert_same_content "$T/root600.expected" "$IN/root600.csv"
assert_ingested_count 2
assert_manifest_records 2
assert_warehouse_consistent
chmod 644 "$IN/locked.csv"
chown "$NOBODY_UID:$NOBODY_GID" "$IN/root600.csv"
run_ingest_as_nobody --stability-seconds 0
assert_rc 0
assert_summary files_ingested 2
assert_eq "" "$(staged_files)" "files left in staging"
assert_same_content "$T/locked.expected" "$(partition_dir)/locked.csv"
assert_same_content "$T/root600.expected" "$(partition_dir)/root600.csv"
assert_manifest_records 4
assert_warehouse_consistent

note "a sticky staging directory holding a file of root's"
new_roots sticky
printf 'root owned in a sticky directory\n' >"$IN/theirs.csv"
printf 'nobody owned\n' >"$IN/mine.csv"
cp "$IN/theirs.csv" "$T/theirs.expected"
give_roots_to_nobody "$IN"
chown root:root "$IN" "$IN/theirs.csv"
chown "$NOBODY_UID:$NOBODY_GID" "$IN/mine.csv"
chmod 1777 "$IN"
run_ingest_as_nobody --stability-seconds 0
assert_rc 1
assert_error_names -c "Operation not permitted" "$IN/theirs.csv"
assert_summary files_ingested 1
assert_same_content "$T/theirs.expected" "$IN/theirs.csv"
assert_eq "0:0" "$(stat -c %u:%g "$IN/theirs.csv")" "owner of the staged theirs.csv"
assert_ingested_count 1
assert_manifest_records 1
assert_warehouse_consistent
chown "$NOBODY_UID:$NOBODY_GID" "$IN/theirs.csv"
run_ingest_as_nobody --stability-seconds 0
assert_rc 0
assert_summary files_ingested 1
assert_summary recovered 0
assert_eq "" "$(staged_files)" "files left in staging"
assert_manifest_records 2
assert_warehouse_consistent

# Roots of which ROOT stays root's (mode 0755); the others are nobody's.
unwritable_root() {  # LABEL ROOT_VARIABLE
  new_roots "$1"
  mkdir -p "$WH" "$MF" "$ST"
  local keep=${!2}
  give_roots_to_nobody "$keep"
  chown root:root "$keep"
  chmod 0755 "$keep"
  printf 'file %s 1\n' "$1" >"$IN/f1.csv"
  printf 'file %s 2\n' "$1" >"$IN/f2.csv"
  chown "$NOBODY_UID:$NOBODY_GID" "$IN"/*.csv
  cp "$IN/f1.csv" "$T/f1.$1.expected"
  cp "$IN/f2.csv" "$T/f2.$1.expected"
}
assert_both_staged() {  # LABEL
  assert_same_content "$T/f1.$1.expected" "$IN/f1.csv"
  assert_same_content "$T/f2.$1.expected" "$IN/f2.csv"
}
assert_fixed_pass_finishes() {  # ROOT
  chown -R "$NOBODY_UID:$NOBODY_GID" "$1"
  run_ingest_as_nobody --stability-seconds 0
  assert_rc 0 "exit code once nobody may write $1"
  assert_summary files_ingested 2
  assert_eq "" "$(staged_files)" "files left in staging"
  assert_ingested_count 2
  assert_manifest_records 2
  assert_warehouse_consistent
}

note "a warehouse nobody cannot write"
unwritable_root warehouse WH
run_ingest_as_nobody --stability-seconds 0
assert_rc 1
assert_error_names -c "$denied" "$WH"
assert_both_staged warehouse
assert_ingested_count 0
assert_manifest_records 0
assert_fixed_pass_finishes "$WH"

note "a manifests directory nobody cannot write"
unwritable_root manifests MF
run_ingest_as_nobody --stability-seconds 0
assert_rc 1
assert_error_names -c "$denied" "$MF"
assert_both_staged manifests
assert_ingested_count 0
assert_manifest_records 0
assert_warehouse_consistent
assert_fixed_pass_finishes "$MF"

note "a state directory nobody cannot write"
unwritable_root state ST
run_ingest_as_nobody --stability-seconds 0
assert_rc 1
# The cause reported is LevelDB's (see hostile_error_messages.sh).
assert_error_names "$ST"
assert_both_staged state
assert_ingested_count 0
assert_manifest_records 0
assert_fixed_pass_finishes "$ST"

note "a state directory whose parent nobody cannot write"
new_roots state_parent
printf 'file\n' >"$IN/f.csv"
cp "$IN/f.csv" "$T/state_parent.expected"
give_roots_to_nobody
mkdir -p "$T/root-only"
chmod 0755 "$T/root-only"
ST=$T/root-only/state
run_ingest_as_nobody --stability-seconds 0
assert_rc 1
assert_error_names -c "$denied" "$ST"
assert_same_content "$T/state_parent.expected" "$IN/f.csv"
assert_ingested_count 0
chown "$NOBODY_UID:$NOBODY_GID" "$T/root-only"
run_ingest_as_nobody --stability-seconds 0
assert_rc 0
assert_summary files_ingested 1
assert_warehouse_consistent
