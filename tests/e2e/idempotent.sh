#!/usr/bin/env bash
# A pass right after a complete pass finds nothing to do: the warehouse,
# the manifests and staging stay exactly as they were.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

printf 'a\n' >"$IN/a.csv"
printf 'b\n' >"$IN/b.csv"
printf 'a\n' >"$IN/a-copy.csv"
printf 'waits\n' >"$IN/pending.tmp"

run_ingest --stability-seconds 0
assert_rc 0
assert_summary files_ingested 2
assert_summary duplicates 1
assert_manifest_records 2

snapshot() {
  tree_listing "$WH"
  tree_listing "$MF"
  tree_listing "$IN"
  find "$MF" -type f -exec sha256sum {} + | LC_ALL=C sort
}
snapshot >"$T/before"
for pass in 2 3; do
  run_ingest --stability-seconds 0
  assert_rc 0 "exit code of pass $pass"
  assert_summary files_ingested 0
  assert_summary duplicates 0
  assert_summary failed 0
  snapshot >"$T/after"
  if ! cmp -s "$T/before" "$T/after"; then
    diff "$T/before" "$T/after" >&2 || true
    fail "pass $pass changed the trees above (< after pass 1, > after pass $pass)"
  fi
done
assert_manifest_records 2
