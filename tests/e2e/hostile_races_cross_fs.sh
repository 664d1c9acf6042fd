#!/usr/bin/env bash
# Files that change under the pass when the warehouse is another filesystem
# (a private tmpfs), so files are copied, not renamed. strace holds the pass
# at one syscall while the test changes the file:
#
#   - appended while being copied (the first read held): deferred, its temp
#     copy removed, ingested whole by the next pass;
#   - replaced by another file after the copy, before the copy is renamed
#     into place (the first renameat2 held): the copy, which holds what was
#     hashed, is committed; the replacement is a different inode, so it is
#     not removed from staging, and the next pass ingests it.
HOSTILE_PRIVATE_MOUNTS=1
source "$(dirname "${BASH_SOURCE[0]}")/hostile_lib.sh"
require_strace_inject
INGEST_TIMEOUT=30
hold=2000000

use_tmpfs_warehouse() {  # LABEL
  new_roots "$1"
  mount_tmpfs "$T/$1/other" size=16m
  WH=$T/$1/other/warehouse
}

note "appended while being copied"
use_tmpfs_warehouse copying
head -c 100000 /dev/urandom >"$IN/a.csv"
start_traced -P "$IN/a.csv" -e trace=read -e "inject=read:delay_enter=$hold" -- --stability-seconds 0
wait_for_log '^[0-9]+ +read\('
printf 'appended during the copy\n' >>"$IN/a.csv"
cp "$IN/a.csv" "$T/copying.expected"
finish_traced
assert_rc 0
assert_summary files_ingested 0
assert_summary deferred 1
assert_ingested_count 0
assert_manifest_records 0
assert_no_temp_copies
assert_same_content "$T/copying.expected" "$IN/a.csv"
run_ingest --stability-seconds 0
assert_rc 0
assert_summary files_ingested 1
assert_missing "$IN/a.csv"
assert_same_content "$T/copying.expected" "$(partition_dir)/a.csv"
assert_manifest_records 1
assert_warehouse_consistent
assert_no_temp_copies

note "replaced after the copy, before the copy is renamed into place"
use_tmpfs_warehouse replaced
printf 'hashed and copied\n' >"$IN/a.csv"
cp "$IN/a.csv" "$T/copied.expected"
printf 'replacement\n' >"$T/replacement.csv"
cp "$T/replacement.csv" "$T/replacement.expected"
start_traced -e trace=renameat2 -e "inject=renameat2:delay_enter=$hold:when=1" -- --stability-seconds 0
wait_for_log 'renameat2\([0-9]+, "[^"]*copy", [0-9]+, "a.csv"'
mv "$T/replacement.csv" "$IN/a.csv"
finish_traced
assert_rc 0
assert_summary files_ingested 1
assert_same_content "$T/copied.expected" "$(partition_dir)/a.csv"
assert_same_content "$T/replacement.expected" "$IN/a.csv"
assert_manifest_records 1
assert_warehouse_consistent
assert_no_temp_copies
run_ingest --stability-seconds 0
assert_rc 0
assert_summary files_ingested 1
assert_missing "$IN/a.csv"
assert_ingested_count 2
assert_manifest_records 2
assert_warehouse_consistent
found=0
for f in $(ingested_files); do cmp -s "$f" "$T/replacement.expected" && found=1; done
[[ $found == 1 ]] || fail "the replacement is not in the warehouse: $(ingested_files | tr '\n' ' ')"
