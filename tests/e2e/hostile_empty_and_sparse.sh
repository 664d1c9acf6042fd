#!/usr/bin/env bash
# A zero-byte file is a file: it is ingested with size 0 and the sha256 of
# nothing, and a second empty file is a duplicate of it. A sparse 1 GiB
# file (holes, with a few bytes of data in the middle and at the end) is
# hashed over its whole length: the recorded sha256 is sha256sum's, and the
# warehouse file holds that content.
source "$(dirname "${BASH_SOURCE[0]}")/hostile_lib.sh"
INGEST_TIMEOUT=300

empty_sha=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855

note "zero-byte files"
: >"$IN/empty.csv"
touch -d '2020-01-01 00:00:00' "$IN/empty.csv"
: >"$IN/also-empty.csv"
run_ingest --stability-seconds 0
assert_rc 0
assert_summary files_ingested 1
assert_summary duplicates 1
assert_summary bytes_ingested 0
assert_eq "" "$(staged_files)" "files left in staging"
# The older arrival is the original: ctimes are equal or in staging order,
# so accept either name, but exactly one of them.
assert_ingested_count 1
assert_eq 0 "$(stat -c %s "$(ingested_files)")" "size of the ingested empty file"
assert_duplicate_count 1
assert_manifest_records 1
assert_eq "$empty_sha" "$(manifest_field sha256)" "recorded sha256 of the empty file"
assert_eq 0 "$(manifest_field size)" "recorded size of the empty file"
assert_warehouse_consistent

note "a sparse 1 GiB file"
new_roots sparse
truncate -s 1G "$IN/sparse.bin"
printf 'data in the middle' | dd of="$IN/sparse.bin" bs=1 seek=$((512 * 1024 * 1024 + 7)) conv=notrunc status=none
printf 'the end' | dd of="$IN/sparse.bin" bs=1 seek=$((1024 * 1024 * 1024 - 7)) conv=notrunc status=none
assert_eq 1073741824 "$(stat -c %s "$IN/sparse.bin")" "size of the sparse file"
blocks=$(stat -c %b "$IN/sparse.bin")
[[ $blocks -lt 1024 ]] || note "the staging filesystem did not keep the file sparse ($blocks blocks)"
want_sparse=$(sha256sum <"$IN/sparse.bin" | cut -d' ' -f1)
run_ingest --stability-seconds 0
assert_rc 0
assert_summary files_ingested 1
assert_summary bytes_ingested $((1024 * 1024 * 1024))
part=$(partition_dir)
assert_eq "$want_sparse" "$(sha256sum <"$part/sparse.bin" | cut -d' ' -f1)" "sha256 of the ingested sparse file"
assert_eq "$part/sparse.bin" "$(manifest_field path)" "recorded path of the sparse file"
assert_eq "$want_sparse" "$(manifest_field sha256)" "recorded sha256 of the sparse file"
assert_eq 1073741824 "$(manifest_field size)" "recorded size of the sparse file"
assert_manifest_records 1
