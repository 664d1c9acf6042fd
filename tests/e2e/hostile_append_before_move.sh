#!/usr/bin/env bash
# A file appended to in place after it was hashed, before it is moved (the
# pass held by strace at its first renameat2). The rule: a file is never
# ingested with content other than its manifest sha256 says, and no byte is
# lost.
#
#   - same filesystem: the rename moves the appended inode, so either the
#     pass notices (size or mtime no longer the hashed ones) and leaves the
#     file for the next pass, or what it recorded is what it moved;
#   - other filesystem: the hashed copy is committed, but the source, which
#     now holds more than was copied, must not be removed; the next pass
#     ingests it whole.
#
# The checks before the rename and before the unlink compare only the
# inode, so both cases fail today (see the report in the final message).
HOSTILE_PRIVATE_MOUNTS=1
source "$(dirname "${BASH_SOURCE[0]}")/hostile_lib.sh"
require_strace_inject
INGEST_TIMEOUT=30
hold=2000000

note "same filesystem"
new_roots same_fs
printf 'hashed part\n' >"$IN/a.csv"
start_traced -e trace=renameat2 -e "inject=renameat2:delay_enter=$hold:when=1" -- --stability-seconds 0
wait_for_log 'renameat2\([0-9]+, "a.csv"'
printf 'appended after the hash\n' >>"$IN/a.csv"
cp "$IN/a.csv" "$T/same_fs.expected"
finish_traced
# Whatever the pass did, the warehouse must match the manifest ...
assert_warehouse_consistent
# ... and after a clean pass, the whole content is in the warehouse once.
run_ingest --stability-seconds 0
assert_rc 0
assert_warehouse_consistent
assert_eq "" "$(staged_files)" "files left in staging"
assert_same_content "$T/same_fs.expected" "$(partition_dir)/a.csv"

note "other filesystem"
new_roots cross_fs
mount_tmpfs "$T/other" size=16m
WH=$T/other/warehouse
printf 'hashed part\n' >"$IN/a.csv"
start_traced -e trace=renameat2 -e "inject=renameat2:delay_enter=$hold:when=1" -- --stability-seconds 0
wait_for_log 'renameat2\([0-9]+, "[0-9.]+copy", [0-9]+, "a.csv"'
printf 'appended after the copy\n' >>"$IN/a.csv"
cp "$IN/a.csv" "$T/cross_fs.expected"
finish_traced
assert_warehouse_consistent
# The appended bytes must still exist: in staging, for the next pass.
[[ -e "$IN/a.csv" ]] || fail "the source $IN/a.csv, appended to after it was copied, was removed: $(wc -c <"$T/cross_fs.expected") bytes staged, $(cat "$(ingested_files)" | wc -c) bytes in the warehouse"
run_ingest --stability-seconds 0
assert_rc 0
assert_warehouse_consistent
found=0
for f in $(ingested_files); do cmp -s "$f" "$T/cross_fs.expected" && found=1; done
[[ $found == 1 ]] || fail "the whole appended content is not in the warehouse"
