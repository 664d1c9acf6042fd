#!/usr/bin/env bash
# A pass killed in the middle of a batch's renames leaves open intents; the
# next pass finishes the files that had moved and rolls back the others, then
# ingests what is still staged: each content ends up once in ingest_date=*
# with one manifest record, staging is drained, and the summary counts the
# recovered commits. The kill is injected with strace (SIGKILL on entering
# the Nth renameat2).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/strace_lib.sh"
require_strace_inject renameat2:error=EIO

# a, b and c are distinct; d repeats a, so the batch also quarantines.
# The committer renames in arrival order (ctime, then name): a, b, c, d.
stage() {
  local name
  for name in a b c; do printf 'content of %s\n' "$name" >"$IN/$name.csv"; done
  printf 'content of a\n' >"$IN/d.csv"
}

for when in 2 3 4; do
  note "killed on entering rename number $when"
  new_roots "kill_$when"
  stage
  run_traced -e trace=renameat2 -e "inject=renameat2:signal=KILL:when=$when" -- \
    --stability-seconds 0 --concurrency 1
  [[ $RC -eq $((128 + 9)) ]] || fail "the traced pass: expected to be killed by SIGKILL (exit 137), found exit $RC"
  assert_ingested_count $((when - 1))
  assert_eq "" "$(duplicate_files)" "files quarantined by the killed pass"

  run_ingest --stability-seconds 0 --concurrency 1
  assert_rc 0 "exit code of the pass after the kill"
  recovered=$(summary_field recovered)
  [[ $recovered -gt 0 ]] || fail "summary recovered: expected more than 0, found $recovered"
  assert_summary failed 0
  assert_eq "" "$(staged_files)" "files left in staging"
  assert_ingested_count 3
  assert_duplicate_count 1
  assert_manifest_records 3
  assert_eq 3 "$(manifest_field sha256 | sort -u | count_lines)" "distinct sha256 in the manifest"
  assert_warehouse_consistent
  part=$(partition_dir)
  for name in a b c; do
    assert_eq "content of $name" "$(cat "$part/$name.csv" 2>/dev/null)" "content of the ingested $name.csv"
  done
  assert_eq "content of a" "$(cat "$WH/_duplicates/$(basename "$part")/d.csv" 2>/dev/null)" \
    "content of the quarantined d.csv"
  if [[ -d "$WH/.atomic-ingest-tmp" ]]; then
    assert_eq "" "$(find "$WH/.atomic-ingest-tmp" -mindepth 1)" "files left in $WH/.atomic-ingest-tmp"
  fi

  # Nothing is left open.
  run_ingest --stability-seconds 0 --concurrency 1
  assert_rc 0
  assert_summary recovered 0
  assert_summary files_ingested 0
  assert_manifest_records 3
done
