#!/usr/bin/env bash
# --metrics-file writes the Prometheus textfile format after each pass:
# running totals that add up across passes, and gauges of the last pass.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

M="$T/metrics/atomic-ingest.prom"
mkdir -p "$T/metrics"
value() { awk -v k="atomic_ingest_$1" '$1 == k { print $2 }' "$M"; }

printf 'a\n' >"$IN/a.csv"
printf 'b\n' >"$IN/b.csv"
printf 'a\n' >"$IN/a-again.csv"
run_ingest --stability-seconds 0 --metrics-file "$M"
assert_rc 0
assert_file "$M"
assert_eq 2 "$(value files_ingested_total)" "files_ingested_total after pass 1"
assert_eq 4 "$(value bytes_ingested_total)" "bytes_ingested_total after pass 1"
assert_eq 1 "$(value duplicates_total)" "duplicates_total after pass 1"
assert_eq 1 "$(value passes_total)" "passes_total after pass 1"
assert_eq 1 "$(value last_pass_success)" "last_pass_success after pass 1"
first_success=$(value last_success_timestamp_seconds)
[ -n "$first_success" ] || fail "no last_success_timestamp_seconds"
# Every sample has its HELP and TYPE lines, and nothing else is in the file.
samples=$(grep -vc '^#' "$M")
assert_eq "$samples" "$(grep -c '^# TYPE ' "$M")" "TYPE lines"
assert_eq "$samples" "$(grep -c '^# HELP ' "$M")" "HELP lines"

printf 'c\n' >"$IN/c.csv"
run_ingest --stability-seconds 0 --metrics-file "$M"
assert_rc 0
assert_eq 3 "$(value files_ingested_total)" "files_ingested_total after pass 2"
assert_eq 1 "$(value last_pass_files)" "last_pass_files after pass 2"
assert_eq 2 "$(value passes_total)" "passes_total after pass 2"

# A pass with a failure: a sidecar with the wrong checksum.
printf 'd\n' >"$IN/d.csv"
printf '%064d\n' 0 >"$IN/d.csv.ok"
run_ingest --mode sidecar --metrics-file "$M"
assert_rc 1
assert_eq 0 "$(value last_pass_success)" "last_pass_success after a failure"
assert_eq 1 "$(value last_pass_failures)" "last_pass_failures after a failure"
assert_eq 1 "$(value failures_total)" "failures_total after a failure"
# No temp file is left beside it.
assert_eq "atomic-ingest.prom" "$(ls -A "$T/metrics")" "the metrics directory"
