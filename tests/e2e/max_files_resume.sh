#!/usr/bin/env bash
# --max-files cuts a catch-up pass into slices: each pass takes at most N
# complete files and the next resumes the listing where it stopped, so
# every file is ingested exactly once after enough passes.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

for i in $(seq 1 25); do printf 'file %d\n' "$i" >"$IN/f$i.csv"; done
for pass in 1 2 3; do
  run_ingest --stability-seconds 0 --max-files 10 --concurrency 1
  assert_rc 0 "exit code of pass $pass"
  expect=10; [ "$pass" -eq 3 ] && expect=5
  assert_summary files_ingested "$expect"
done
assert_ingested_count 25
assert_manifest_records 25
assert_eq "" "$(staged_files)" "staging after three slices"

# A cursor left by a cut-short pass must not hide files that arrive
# before it: the next full cycle takes them.
for i in $(seq 26 40); do printf 'file %d\n' "$i" >"$IN/f$i.csv"; done
run_ingest --stability-seconds 0 --max-files 7 --concurrency 1
assert_summary files_ingested 7
for pass in 1 2 3 4; do run_ingest --stability-seconds 0 --concurrency 1; done
assert_ingested_count 40
assert_manifest_records 40
assert_eq "" "$(staged_files)" "staging at the end"
