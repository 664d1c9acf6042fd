#!/usr/bin/env bash
# Destination filesystems that are full, each a private tmpfs:
#
#   - the warehouse too small for one file (2 MiB into 1 MiB) among small
#     ones: ENOSPC is reported, the big file stays in staging untouched, no
#     partial copy is visible anywhere, the small files are ingested, exit 1;
#     after the tmpfs is remounted bigger the next pass ingests it;
#   - the warehouse filled by someone else's file: the same, and removing
#     the filler lets the next pass finish;
#   - the warehouse out of inodes (nr_inodes): the same;
#   - the manifests' filesystem full: the batch is rolled back (files back
#     in staging, nothing in the partitions, no partial record), exit 1; the
#     next pass after freeing space ingests everything once;
#   - the state's filesystem full: the pass stops before touching anything,
#     with an error naming the state database, exit 1; then it recovers.
HOSTILE_PRIVATE_MOUNTS=1
source "$(dirname "${BASH_SOURCE[0]}")/hostile_lib.sh"

nospace="No space left on device"

# Stages small files s1..sN, keeping copies to compare with.
stage_small() {  # N
  local i
  for i in $(seq 1 "$1"); do
    printf 'small file %s %d\n' "$2" "$i" >"$IN/s$i.csv"
    cp "$IN/s$i.csv" "$T/s$i.$2.expected"
  done
}

note "warehouse smaller than one file"
new_roots small
mount_tmpfs "$T/small/fs" size=1m
WH=$T/small/fs/warehouse
head -c $((2 * 1024 * 1024)) /dev/urandom >"$IN/big.bin"
cp -p "$IN/big.bin" "$T/big.expected"
stage_small 3 small
# One worker, so the small copies never race the big one for space.
run_ingest --stability-seconds 0 --concurrency 1
assert_rc 1
assert_error_names -c "$nospace" "$WH"
assert_summary files_ingested 3
assert_summary failed 1
assert_staged big.bin "$T/big.expected"
assert_eq "$(stat -c '%Y %a' "$T/big.expected")" "$(stat -c '%Y %a' "$IN/big.bin")" "mtime and mode of the staged big.bin"
assert_ingested_count 3
assert_manifest_records 3
assert_warehouse_consistent
assert_no_temp_copies
mount -o remount,size=8m "$T/small/fs"
run_ingest --stability-seconds 0 --concurrency 1
assert_rc 0
assert_summary files_ingested 1
assert_missing "$IN/big.bin"
assert_same_content "$T/big.expected" "$(partition_dir)/big.bin"
assert_ingested_count 4
assert_manifest_records 4
assert_warehouse_consistent
assert_no_temp_copies

note "warehouse filled by someone else"
new_roots filler
mount_tmpfs "$T/filler/fs" size=1m
WH=$T/filler/fs/warehouse
printf 'first\n' >"$IN/first.csv"
run_ingest --stability-seconds 0
assert_rc 0
fill_up "$T/filler/fs/filler"
head -c 300000 /dev/urandom >"$IN/medium.bin"
cp "$IN/medium.bin" "$T/medium.expected"
run_ingest --stability-seconds 0 --concurrency 1
assert_rc 1
assert_error_names -c "$nospace" "$WH"
assert_summary files_ingested 0
assert_staged medium.bin "$T/medium.expected"
assert_ingested_count 1
assert_warehouse_consistent
assert_no_temp_copies
rm "$T/filler/fs/filler"
run_ingest --stability-seconds 0 --concurrency 1
assert_rc 0
assert_summary files_ingested 1
assert_same_content "$T/medium.expected" "$(partition_dir)/medium.bin"
assert_manifest_records 2
assert_warehouse_consistent

note "warehouse out of inodes"
new_roots inodes
mount_tmpfs "$T/inodes/fs" size=8m,nr_inodes=64
WH=$T/inodes/fs/warehouse
printf 'first\n' >"$IN/first.csv"
run_ingest --stability-seconds 0
assert_rc 0
mkdir "$T/inodes/fs/filler"
i=0
while touch "$T/inodes/fs/filler/$i" 2>/dev/null; do i=$((i + 1)); done
[[ $i -lt 64 ]] || fail "created $i files on a tmpfs with 64 inodes"
stage_small 3 inodes
run_ingest --stability-seconds 0 --concurrency 1
assert_rc 1
assert_error_names -c "$nospace" "$WH"
assert_summary files_ingested 0
assert_summary failed 3
for i in 1 2 3; do assert_staged "s$i.csv" "$T/s$i.inodes.expected"; done
assert_ingested_count 1
assert_warehouse_consistent
assert_no_temp_copies
rm -rf "$T/inodes/fs/filler"
run_ingest --stability-seconds 0
assert_rc 0
assert_summary files_ingested 3
assert_eq "" "$(staged_files)" "files left in staging"
assert_ingested_count 4
assert_manifest_records 4
assert_warehouse_consistent

note "manifests' filesystem full"
new_roots manifests
mount_tmpfs "$T/manifests/fs" size=64k
MF=$T/manifests/fs/manifests
mkdir "$MF"
fill_up "$T/manifests/fs/filler"
stage_small 3 manifests
run_ingest --stability-seconds 0
assert_rc 1
assert_error_names -c "$nospace" "$MF"
for i in 1 2 3; do assert_staged "s$i.csv" "$T/s$i.manifests.expected"; done
assert_ingested_count 0
assert_manifest_records 0
assert_warehouse_consistent
rm "$T/manifests/fs/filler"
run_ingest --stability-seconds 0
assert_rc 0
assert_summary files_ingested 3
assert_eq "" "$(staged_files)" "files left in staging"
assert_ingested_count 3
assert_manifest_records 3
assert_warehouse_consistent
run_ingest --stability-seconds 0
assert_rc 0
assert_summary files_ingested 0
assert_summary recovered 0
assert_manifest_records 3

note "state's filesystem full"
new_roots state
mount_tmpfs "$T/state/fs" size=256k
ST=$T/state/fs/state
printf 'first\n' >"$IN/first.csv"
run_ingest --stability-seconds 0
assert_rc 0
fill_up "$T/state/fs/filler"
stage_small 2 state
run_ingest --stability-seconds 0
assert_rc 1
assert_error_names -c "$nospace" "$ST"
for i in 1 2; do assert_staged "s$i.csv" "$T/s$i.state.expected"; done
assert_ingested_count 1
assert_manifest_records 1
assert_warehouse_consistent
rm "$T/state/fs/filler"
run_ingest --stability-seconds 0
assert_rc 0
assert_summary files_ingested 2
assert_eq "" "$(staged_files)" "files left in staging"
assert_manifest_records 3
assert_warehouse_consistent
