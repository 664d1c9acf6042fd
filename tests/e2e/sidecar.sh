#!/usr/bin/env bash
# In sidecar mode a file is complete when <name>.ok exists. An empty .ok, a
# bare SHA-256 or a sha256sum line are accepted; a wrong SHA-256 fails the
# file (exit 1, an error naming it) and leaves it in staging.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

printf 'waits\n' >"$IN/wait.csv"
printf 'empty ok\n' >"$IN/empty.csv"
: >"$IN/empty.csv.ok"
printf 'bare hex\n' >"$IN/bare.csv"
sha_of "$IN/bare.csv" >"$IN/bare.csv.ok"
printf 'sha256sum format\n' >"$IN/sum.csv"
(cd "$IN" && sha256sum sum.csv >sum.csv.ok)
printf 'sha256sum with a path, binary mode\n' >"$IN/path.csv"
sha256sum -b "$IN/path.csv" >"$IN/path.csv.ok"
for f in wait empty bare sum path; do cp "$IN/$f.csv" "$T/$f.expected"; done

run_ingest --mode sidecar --dry-run
assert_rc 0
assert_contains "$OUT" "wait $IN/wait.csv: waiting for .ok" "dry-run plan"

run_ingest --mode sidecar
assert_rc 0
assert_summary files_ingested 4
assert_summary deferred 1
assert_ingested_count 4
part=$(partition_dir)
for f in empty bare sum path; do
  assert_same_content "$T/$f.expected" "$part/$f.csv"
  assert_missing "$IN/$f.csv"
  assert_missing "$IN/$f.csv.ok"
done
assert_same_content "$T/wait.expected" "$IN/wait.csv"
assert_missing "$part/wait.csv"
assert_manifest_records 4

note "the .ok arrives later"
: >"$IN/wait.csv.ok"
run_ingest --mode sidecar
assert_rc 0
assert_summary files_ingested 1
assert_same_content "$T/wait.expected" "$part/wait.csv"
assert_missing "$IN/wait.csv"
assert_missing "$IN/wait.csv.ok"
assert_manifest_records 5

note "a wrong SHA-256"
printf 'corrupted in transit\n' >"$IN/bad.csv"
cp "$IN/bad.csv" "$T/bad.expected"
printf 'the original\n' | sha256sum | cut -d' ' -f1 >"$IN/bad.csv.ok"
run_ingest --mode sidecar
assert_rc 1
assert_summary failed 1
assert_summary files_ingested 0
assert_contains "$ERR" "$IN/bad.csv" "stderr"
assert_matches "$ERR" " error .*bad\.csv" "stderr"
assert_same_content "$T/bad.expected" "$IN/bad.csv"
assert_file "$IN/bad.csv.ok"
assert_missing "$part/bad.csv"
assert_ingested_count 5
assert_duplicate_count 0
assert_manifest_records 5
if [[ -d "$WH/.atomic-ingest-tmp" ]]; then
  assert_eq "" "$(find "$WH/.atomic-ingest-tmp" -mindepth 1)" "temp copies left"
fi

note "the same SHA-256 in upper case is accepted"
sha_of "$IN/bad.csv" | tr a-f A-F >"$IN/bad.csv.ok"
run_ingest --mode sidecar
assert_rc 0
assert_summary files_ingested 1
assert_same_content "$T/bad.expected" "$part/bad.csv"
assert_missing "$IN/bad.csv.ok"
assert_manifest_records 6
