#!/usr/bin/env bash
# A sidecar uploader that writes the .ok too early: the file renamed into
# place after its .ok, or appended to after it, is not complete until a
# newer .ok appears. An rsync -t'd pair, whose .ok keeps the sender's old
# mtime, is complete.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

printf 'id,value\n1,a\n' >"$IN/renamed.csv.part"
: >"$IN/renamed.csv.ok"
sleep 0.05
mv "$IN/renamed.csv.part" "$IN/renamed.csv"

printf 'id,value\n1,b\n' >"$IN/appended.csv"
: >"$IN/appended.csv.ok"
sleep 0.05
printf '2,c\n' >>"$IN/appended.csv"

mkdir "$T/sender"
printf 'id,value\n1,d\n' >"$T/sender/synced.csv"
: >"$T/sender/synced.csv.ok"
touch -d '2 hours ago' "$T/sender/synced.csv" "$T/sender/synced.csv.ok"
rsync -t "$T/sender/synced.csv" "$T/sender/synced.csv.ok" "$IN/"

run_ingest --mode sidecar --dry-run
assert_rc 0
assert_contains "$OUT" "wait $IN/renamed.csv: changed after its .ok appeared" "dry run"
assert_contains "$OUT" "wait $IN/appended.csv: changed after its .ok appeared" "dry run"

run_ingest --mode sidecar
assert_rc 0
assert_summary files_ingested 1
assert_summary deferred 2
assert_file "$IN/renamed.csv"
assert_file "$IN/appended.csv"
assert_same_content "$T/sender/synced.csv" "$(partition_dir)/synced.csv"

note "the uploader writes the .ok again"
cp "$IN/renamed.csv" "$T/renamed.expected"
cp "$IN/appended.csv" "$T/appended.expected"
sleep 0.05
touch "$IN/renamed.csv.ok" "$IN/appended.csv.ok"
run_ingest --mode sidecar
assert_rc 0
assert_summary files_ingested 2
assert_same_content "$T/renamed.expected" "$(partition_dir)/renamed.csv"
assert_same_content "$T/appended.expected" "$(partition_dir)/appended.csv"
assert_eq "" "$(staged_files)" "files left in staging"
assert_manifest_records 3
assert_warehouse_consistent
