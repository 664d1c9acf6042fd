#!/usr/bin/env bash
# Content that was already ingested, or that appears twice in one pass, is
# ingested once: the other copies are quarantined (default), deleted or kept
# in staging, and only the first copy gets a manifest record.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

printf 'same content\n' >"$T/same"
printf 'other content\n' >"$T/other"

note "quarantine, within one pass"
new_roots quarantine
cp "$T/same" "$IN/a.csv"
cp "$T/same" "$IN/b.csv"
cp "$T/other" "$IN/c.csv"
run_ingest --stability-seconds 0
assert_rc 0
assert_summary files_ingested 2
assert_summary duplicates 1
assert_ingested_count 2
assert_duplicate_count 1
assert_eq "" "$(staged_files)" "files left in staging"
assert_manifest_records 2
ingested_same=$(ingested_files | grep -E '/(a|b)\.csv$' || true)
quarantined=$(duplicate_files)
[[ -n "$ingested_same" ]] || fail "neither a.csv nor b.csv is in the warehouse: $(ingested_files)"
assert_same_content "$T/same" "$ingested_same"
assert_same_content "$T/same" "$quarantined"
[[ $(basename "$ingested_same") != $(basename "$quarantined") ]] ||
  fail "the same name was both ingested and quarantined: $ingested_same $quarantined"
assert_same_content "$T/other" "$(partition_dir)/c.csv"

note "quarantine, resent in a later pass"
cp "$T/same" "$IN/d.csv"
run_ingest --stability-seconds 0
assert_rc 0
assert_summary files_ingested 0
assert_summary duplicates 1
assert_missing "$IN/d.csv"
assert_ingested_count 2
assert_duplicate_count 2
assert_same_content "$T/same" "$(dirname "$quarantined")/d.csv"
assert_manifest_records 2
assert_eq 2 "$(manifest_field sha256 | sort -u | count_lines)" "distinct sha256 in the manifest"

note "delete"
new_roots delete
cp "$T/same" "$IN/x.csv"
run_ingest --stability-seconds 0 --on-duplicate delete
assert_rc 0
cp "$T/same" "$IN/y.csv"
cp "$T/same" "$IN/z.csv"
run_ingest --stability-seconds 0 --on-duplicate delete
assert_rc 0
assert_summary files_ingested 0
assert_summary duplicates 2
assert_missing "$IN/y.csv"
assert_missing "$IN/z.csv"
assert_ingested_count 1
assert_duplicate_count 0
assert_same_content "$T/same" "$(partition_dir)/x.csv"
assert_manifest_records 1

note "keep"
new_roots keep
cp "$T/same" "$IN/x.csv"
run_ingest --stability-seconds 0 --on-duplicate keep
assert_rc 0
cp "$T/same" "$IN/y.csv"
run_ingest --stability-seconds 0 --on-duplicate keep
assert_rc 0
assert_summary files_ingested 0
assert_summary duplicates 1
assert_same_content "$T/same" "$IN/y.csv"
assert_ingested_count 1
assert_duplicate_count 0
assert_manifest_records 1
# The kept file is known now: the next pass neither hashes nor counts it.
run_ingest --stability-seconds 0 --on-duplicate keep
assert_rc 0
assert_summary files_ingested 0
assert_summary duplicates 0
assert_same_content "$T/same" "$IN/y.csv"
assert_ingested_count 1
assert_manifest_records 1

note "keep, within one pass"
new_roots keep_same_pass
cp "$T/same" "$IN/a.csv"
cp "$T/same" "$IN/b.csv"
run_ingest --stability-seconds 0 --on-duplicate keep
assert_rc 0
assert_summary files_ingested 1
assert_summary duplicates 1
assert_ingested_count 1
assert_duplicate_count 0
assert_eq 1 "$(staged_files | count_lines)" "files kept in staging"
assert_same_content "$T/same" "$(staged_files)"
assert_manifest_records 1
run_ingest --stability-seconds 0 --on-duplicate keep
assert_rc 0
assert_summary duplicates 0
assert_eq 1 "$(staged_files | count_lines)" "files kept in staging"
