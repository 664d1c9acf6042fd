#!/usr/bin/env bash
# Read-only filesystems (a private tmpfs remounted read-only, or a read-only
# bind mount). Each time: an error naming the root and "Read-only file
# system", exit 1, every staged file still in staging, nothing partial in
# the partitions; once the filesystem is writable again, the next pass
# finishes the work, once.
#
#   - the warehouse, after a first pass created its directories;
#   - the warehouse before it exists (it cannot be created);
#   - the manifests: the batch is rolled back;
#   - the state;
#   - the staging directory (a read-only bind mount, so files are copied):
#     the commit cannot remove the sources, so it stays open and is
#     reported every pass (exit 1) without ingesting anything twice; once
#     staging is writable, recovery removes them.
HOSTILE_PRIVATE_MOUNTS=1
source "$(dirname "${BASH_SOURCE[0]}")/hostile_lib.sh"

erofs="Read-only file system"

stage() {  # LABEL N
  local i
  for i in $(seq 1 "$2"); do
    printf 'file %s %d\n' "$1" "$i" >"$IN/f$i.csv"
    cp "$IN/f$i.csv" "$T/f$i.$1.expected"
  done
}
assert_all_staged() {  # LABEL N
  local i
  for i in $(seq 1 "$2"); do assert_staged "f$i.csv" "$T/f$i.$1.expected"; done
}
assert_next_pass_finishes() {  # N_NEW N_TOTAL
  run_ingest --stability-seconds 0
  assert_rc 0 "exit code once the filesystem is writable"
  assert_summary files_ingested "$1"
  assert_eq "" "$(staged_files)" "files left in staging"
  assert_ingested_count "$2"
  assert_manifest_records "$2"
  assert_warehouse_consistent
  assert_no_temp_copies
  run_ingest --stability-seconds 0
  assert_rc 0
  assert_summary files_ingested 0
  assert_summary recovered 0
}

note "read-only warehouse"
new_roots warehouse
mount_tmpfs "$T/warehouse/fs" size=8m
WH=$T/warehouse/fs/warehouse
printf 'before\n' >"$IN/before.csv"
run_ingest --stability-seconds 0
assert_rc 0
mount -o remount,ro "$T/warehouse/fs"
stage warehouse 2
tree_listing "$WH" >"$T/wh.before"
run_ingest --stability-seconds 0
assert_rc 1
assert_error_names -c "$erofs" "$WH"
assert_all_staged warehouse 2
tree_listing "$WH" >"$T/wh.after"
cmp -s "$T/wh.before" "$T/wh.after" || fail "the read-only warehouse changed"
assert_manifest_records 1
assert_warehouse_consistent
mount -o remount,rw "$T/warehouse/fs"
assert_next_pass_finishes 2 3

note "read-only filesystem where the warehouse is to be created"
new_roots new_warehouse
mount_tmpfs "$T/new_warehouse/fs" size=8m,ro
WH=$T/new_warehouse/fs/warehouse
stage new_warehouse 2
run_ingest --stability-seconds 0
assert_rc 1
assert_error_names -c "$erofs" "$WH"
assert_all_staged new_warehouse 2
assert_missing "$WH"
mount -o remount,rw "$T/new_warehouse/fs"
assert_next_pass_finishes 2 2

note "read-only manifests"
new_roots manifests
mount_tmpfs "$T/manifests/fs" size=8m
MF=$T/manifests/fs/manifests
printf 'before\n' >"$IN/before.csv"
run_ingest --stability-seconds 0
assert_rc 0
mount -o remount,ro "$T/manifests/fs"
stage manifests 2
run_ingest --stability-seconds 0
assert_rc 1
assert_error_names -c "$erofs" "$MF"
assert_all_staged manifests 2
assert_ingested_count 1
assert_manifest_records 1
assert_warehouse_consistent
mount -o remount,rw "$T/manifests/fs"
assert_next_pass_finishes 2 3

note "read-only state"
new_roots state
mount_tmpfs "$T/state/fs" size=8m
ST=$T/state/fs/state
printf 'before\n' >"$IN/before.csv"
run_ingest --stability-seconds 0
assert_rc 0
mount -o remount,ro "$T/state/fs"
stage state 2
run_ingest --stability-seconds 0
assert_rc 1
assert_error_names -c "$erofs" "$ST"
assert_all_staged state 2
assert_ingested_count 1
assert_manifest_records 1
assert_warehouse_consistent
mount -o remount,rw "$T/state/fs"
assert_next_pass_finishes 2 3

note "read-only staging (a read-only bind mount)"
new_roots staging
stage staging 2
mount --bind "$IN" "$IN"
on_exit "umount -l $(printf %q "$IN") 2>/dev/null"
mount -o remount,bind,ro "$IN"
run_ingest --stability-seconds 0
assert_rc 1
assert_error_names -c "$erofs" "$IN/f1.csv" "$IN/f2.csv"
assert_all_staged staging 2
# The copies are committed (each record names a file holding its content);
# the sources could not be removed.
assert_warehouse_consistent
assert_ingested_count 2
assert_manifest_records 2
note "again, still read-only: reported again, nothing ingested twice"
run_ingest --stability-seconds 0
assert_rc 1
assert_summary files_ingested 0
assert_summary duplicates 0
assert_all_staged staging 2
assert_ingested_count 2
assert_duplicate_count 0
assert_manifest_records 2
assert_warehouse_consistent
mount -o remount,bind,rw "$IN"
run_ingest --stability-seconds 0
assert_rc 0
assert_summary recovered 2
assert_summary duplicates 0
assert_eq "" "$(staged_files)" "files left in staging"
assert_ingested_count 2
assert_duplicate_count 0
assert_manifest_records 2
assert_warehouse_consistent
