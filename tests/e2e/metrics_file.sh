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
# Every metric has its HELP and TYPE lines, and nothing else is in the file.
grep -v '^#' "$M" | sed 's/[{ ].*//' | LC_ALL=C sort -u >"$T/names"
assert_eq "$(count_lines <"$T/names")" "$(grep -c '^# TYPE ' "$M")" "TYPE lines"
assert_eq "$(count_lines <"$T/names")" "$(grep -c '^# HELP ' "$M")" "HELP lines"
assert_eq "" "$(LC_ALL=C comm -3 "$T/names" <(sed -n 's/^# TYPE \([a-z_]*\) .*/\1/p' "$M" | LC_ALL=C sort))" \
  "metrics without their TYPE line"
# Nothing waits: an empty backlog, every group shown.
for g in not_yet_stable waiting_for_ok failed; do
  assert_eq 0 "$(value "backlog_files{group=\"$g\"}")" "backlog_files of $g after pass 1"
  assert_eq 0 "$(value "backlog_bytes{group=\"$g\"}")" "backlog_bytes of $g after pass 1"
done
assert_eq 0 "$(value backlog_oldest_age_seconds)" "backlog_oldest_age_seconds with nothing waiting"

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

# The backlog, counted by the pass's own scan: a file within its stability
# window waits, with its size, and its age counts from its ctime.
new_roots backlog
printf '1234567\n' >"$IN/slow.csv"
printf 'x\n' >"$IN/other.csv"
sleep 1.2
run_ingest --stability-seconds 3600 --metrics-file "$M"
assert_rc 0
assert_eq 2 "$(value 'backlog_files{group="not_yet_stable"}')" "backlog_files of files in their window"
assert_eq 10 "$(value 'backlog_bytes{group="not_yet_stable"}')" "backlog_bytes of files in their window"
assert_eq 0 "$(value 'backlog_files{group="waiting_for_ok"}')" "backlog_files waiting for .ok"
age=$(value backlog_oldest_age_seconds)
python3 -c 'import sys; a = float(sys.argv[1]); sys.exit(0 if 1 <= a < 60 else 1)' "$age" ||
  fail "backlog_oldest_age_seconds: expected between 1 and 60, found '$age'"
