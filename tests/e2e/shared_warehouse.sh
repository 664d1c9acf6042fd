#!/usr/bin/env bash
# Two instances, each with its own staging directory and state, share one
# warehouse and one manifest root.
#
#   - Run at the same time over overlapping contents, they ingest each
#     content once between them; the other copy is quarantined.
#   - One instance's manifest fdatasync fails (EIO, injected with strace on
#     the hour's file) while the other commits: the failing one rolls back
#     only its own records, none of the other's is lost, and both finish
#     their work on their next runs.
#   - A third instance with a new state joins without rebuild-state.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/strace_lib.sh"
require_strace_inject fdatasync:error=EIO

WH=$T/warehouse
MF=$T/manifests

# Selects instance NAME: its own staging directory and state, the shared
# warehouse and manifests.
use() {  # NAME
  IN=$T/$1/input
  ST=$T/$1/state
  mkdir -p "$IN"
}

# Stages COUNT files named PREFIX-<i>.csv in the current instance, the
# first SHARED of them with contents every instance gets.
stage() {  # PREFIX COUNT SHARED
  local i
  for i in $(seq 1 "$2"); do
    if ((i <= $3)); then
      printf 'shared content %d\n' "$i" >"$IN/$1-$i.csv"
    else
      printf 'own content of %s %d\n' "$1" "$i" >"$IN/$1-$i.csv"
    fi
  done
}

distinct_recorded() { manifest_field sha256 | sort -u | count_lines; }

# Each content once in the partitions, with one record, and every
# partition file recorded and claimed.
assert_once() {  # CONTENTS
  assert_warehouse_consistent --records "$1"
  assert_eq "$1" "$(distinct_recorded)" "distinct contents recorded"
  assert_eq "$1" "$(ingested_files | xargs -r sha256sum | cut -d' ' -f1 | sort -u | count_lines)" \
    "distinct contents in the partitions"
  assert_ingested_count "$1"
}

note "two instances at once over overlapping contents"
use a
stage a 60 25
use b
stage b 60 25
pids=()
for name in a b; do
  use "$name"
  timeout -k 5 60 "$ATOMIC_INGEST" --input "$IN" --warehouse "$WH" --manifests "$MF" \
    --state-path "$ST" --stability-seconds 0 --batch-size 8 >"$T/$name.out" 2>"$T/$name.err" &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || fail "a concurrent pass failed: $(cat "$T"/*.err)"; done
# A copy whose claim was taken by the other instance's commit under way
# waits in staging; the next runs settle it.
for name in a b a; do
  use "$name"
  run_ingest --stability-seconds 0
  assert_rc 0
done
for name in a b; do
  use "$name"
  assert_eq "" "$(staged_files)" "files left in instance $name's staging"
done
# 25 shared contents, 35 own ones per instance; the 25 other copies are
# quarantined.
assert_once 95
assert_duplicate_count 25
# One take record per content in the claim log, none released.
assert_eq 95 "$(grep -a '^atomic-ingest-claim/3 take ' "$WH/.atomic-ingest-claims/log" | cut -d' ' -f3 | sort -u | count_lines)" "content claims"
assert_eq 0 "$(grep -ac '^atomic-ingest-claim/3 release ' "$WH/.atomic-ingest-claims/log")" "released claims"

note "one instance's manifest fdatasync fails while the other commits"
# The injection aims at this hour's file: keep clear of the hour's end.
while [[ $(date -u +%M%S) > 5940 ]]; do sleep 1; done
hour=$(date -u +%Y/%m/%d/%H)
hour_file=$MF/$hour/manifest.jsonl
mkdir -p "$MF/$hour"
touch "$hour_file"
records_before=$(manifest_records)
use a
stage a2 10 0
use b
stage b2 10 0
# Instance a is held at its first fdatasync of the hour's file, holding the
# file's lock, and then fails; b commits meanwhile as soon as the lock is
# free. a logs into files of its own: it may end while b runs.
use a
OUT=$T/a-traced.out ERR=$T/a-traced.err start_traced -P "$hour_file" -e trace=fdatasync \
  -e "inject=fdatasync:delay_enter=1500000:error=EIO:when=1" -- \
  --stability-seconds 0 --concurrency 1
wait_for_log 'fdatasync\('
use b
run_ingest --stability-seconds 0 --concurrency 1
assert_rc 0 "exit code of instance b, committing while a failed"
assert_summary files_ingested 10
wait "$TRACED_JOB" || true
use a
RC=$(cat "$T/traced.rc")
assert_rc 1 "exit code of instance a with a failed manifest sync"
assert_contains "$T/strace.log" "(INJECTED)" "strace log (was the failure injected?)"
assert_eq 10 "$(staged_files | count_lines)" "instance a's files back in staging"
# Every record b made, before and now, is there; a's batch left none.
assert_eq $((records_before + 10)) "$(manifest_records)" "records after a's failure"
# a released the claims of the files it put back.
assert_warehouse_consistent
for f in "$T"/b/input/*; do fail "instance b left $f in staging"; done
run_ingest --stability-seconds 0
assert_rc 0 "exit code of instance a's next run"
assert_summary files_ingested 10
assert_summary failed 0
use b
run_ingest --stability-seconds 0
assert_rc 0
assert_summary files_ingested 0
assert_once 115

note "a third instance joins without rebuild-state"
use c
stage c 5 3
"$ATOMIC_INGEST" explain --input "$IN" --warehouse "$WH" --manifests "$MF" --state-path "$ST" \
  --stability-seconds 0 "$IN/c-1.csv" >"$T/explain.out" 2>&1 || fail "explain failed: $(cat "$T/explain.out")"
assert_contains "$T/explain.out" "a duplicate of a file another instance ingested" "explain of c-1.csv"
assert_contains "$T/explain.out" "claimed by instance" "explain of c-1.csv"
run_ingest --stability-seconds 0
assert_rc 0 "exit code of a new instance on the shared roots"
assert_summary files_ingested 2
assert_summary duplicates 3
assert_once 117
