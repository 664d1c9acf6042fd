#!/usr/bin/env bash
# New content under a name already taken in the day's partition lands as
# "<stem>.<first 12 hex of its sha256><ext>"; nothing is overwritten and
# each file gets its own manifest record.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

printf 'first version\n' >"$T/v1"
printf 'second version\n' >"$T/v2"
printf 'third version\n' >"$T/v3"
printf 'no extension, first\n' >"$T/n1"
printf 'no extension, second\n' >"$T/n2"
sha12() { sha_of "$1" | cut -c1-12; }

cp "$T/v1" "$IN/report.csv.gz"
cp "$T/n1" "$IN/README"
run_ingest --stability-seconds 0
assert_rc 0
part=$(partition_dir)

cp "$T/v2" "$IN/report.csv.gz"
cp "$T/n2" "$IN/README"
run_ingest --stability-seconds 0
assert_rc 0
assert_summary files_ingested 2
assert_summary duplicates 0
if [[ $(ls -d "$WH"/ingest_date=* | count_lines) -ne 1 ]]; then
  echo "SKIP: the passes straddled midnight UTC, so there was no collision"
  exit 77
fi
assert_same_content "$T/v1" "$part/report.csv.gz"
assert_same_content "$T/v2" "$part/report.$(sha12 "$T/v2").csv.gz"
assert_same_content "$T/n1" "$part/README"
assert_same_content "$T/n2" "$part/README.$(sha12 "$T/n2")"

cp "$T/v3" "$IN/report.csv.gz"
run_ingest --stability-seconds 0
assert_rc 0
assert_same_content "$T/v3" "$part/report.$(sha12 "$T/v3").csv.gz"
assert_same_content "$T/v1" "$part/report.csv.gz"
assert_same_content "$T/v2" "$part/report.$(sha12 "$T/v2").csv.gz"

assert_ingested_count 5
assert_duplicate_count 0
assert_eq "" "$(staged_files)" "files left in staging"
assert_manifest_records 5
assert_eq "$(printf '%s\n' "$part/README" "$part/README.$(sha12 "$T/n2")" \
  "$part/report.$(sha12 "$T/v2").csv.gz" "$part/report.$(sha12 "$T/v3").csv.gz" \
  "$part/report.csv.gz" | LC_ALL=C sort)" \
  "$(manifest_field path | LC_ALL=C sort)" "manifest paths"
