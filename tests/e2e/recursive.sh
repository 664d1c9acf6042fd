#!/usr/bin/env bash
# --recursive ingests from subdirectories too, each with its own listing,
# never through a symlink and never into hidden directories; the warehouse
# layout stays flat and the manifest keeps the source path. Without the
# flag, subdirectories are left alone.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

mkdir -p "$IN/2026/01" "$IN/2026/02" "$IN/.hidden" "$T/outside"
printf 'top\n' >"$IN/top.csv"
printf 'jan\n' >"$IN/2026/01/data.csv"
printf 'feb\n' >"$IN/2026/02/data.csv"
printf 'secret\n' >"$IN/.hidden/h.csv"
printf 'outside\n' >"$T/outside/o.csv"
ln -s "$T/outside" "$IN/linked"

run_ingest --stability-seconds 0
assert_rc 0
assert_summary files_ingested 1
assert_file "$IN/2026/01/data.csv"

run_ingest --stability-seconds 0 --recursive
assert_rc 0
assert_summary files_ingested 2
assert_ingested_count 3
assert_manifest_records 3
# Same name in two directories: the second gets a collision name.
assert_eq 2 "$(ingested_files | grep -c '/data\(\.[0-9a-f]\{12\}\)\?\.csv$')" "data.csv copies"
cat "$MF"/*/*/*/*/manifest.jsonl >"$T/records"
assert_contains "$T/records" "$IN/2026/01/data.csv" "the manifest's source paths"
assert_contains "$T/records" "$IN/2026/02/data.csv" "the manifest's source paths"
# Untouched: the hidden directory and what the symlink points at.
assert_file "$IN/.hidden/h.csv"
assert_file "$T/outside/o.csv"
# Directories stay; their files are gone.
assert_eq "" "$(find "$IN/2026" -type f)" "files left under 2026/"
