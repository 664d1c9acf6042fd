#!/usr/bin/env bash
# A file written under a ".tmp" name is ignored, however old it is, until it
# is renamed to its final name; then it is ingested under that name.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

printf 'id,value\n1,one\n2,two\n' >"$T/expected"
cp "$T/expected" "$IN/data.csv.tmp"
touch -d '2020-01-01 00:00:00' "$IN/data.csv.tmp"

run_ingest --stability-seconds 0
assert_rc 0
assert_file "$IN/data.csv.tmp"
assert_same_content "$T/expected" "$IN/data.csv.tmp"
assert_ingested_count 0
assert_duplicate_count 0
assert_manifest_records 0
assert_summary files_ingested 0

# A second pass still leaves it alone.
run_ingest --stability-seconds 0
assert_rc 0
assert_file "$IN/data.csv.tmp"
assert_ingested_count 0

mv "$IN/data.csv.tmp" "$IN/data.csv"
run_ingest --stability-seconds 0
assert_rc 0
assert_summary files_ingested 1
assert_missing "$IN/data.csv"
assert_eq "" "$(staged_files)" "files left in staging"
assert_ingested_count 1
assert_same_content "$T/expected" "$(partition_dir)/data.csv"
assert_manifest_records 1
assert_eq "$IN/data.csv" "$(manifest_field source)" "manifest source"
if [[ -n "$(find "$WH" -name '*.tmp')" ]]; then fail "a .tmp name reached the warehouse: $(find "$WH" -name '*.tmp')"; fi
