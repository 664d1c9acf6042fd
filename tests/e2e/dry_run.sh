#!/usr/bin/env bash
# --dry-run prints the plan (ingest, duplicate, wait, skip) and changes
# nothing: not staging, not the warehouse, not the manifests, not the state,
# and it creates none of them when they do not exist yet.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

snapshot() { for d in "$IN" "$WH" "$MF" "$ST"; do tree_listing "$d"; done; }
assert_unchanged() {  # BEFORE_FILE WHAT
  snapshot >"$T/after"
  if ! cmp -s "$1" "$T/after"; then
    diff "$1" "$T/after" >&2 || true
    fail "$2: the dry run changed the trees above (< before, > after)"
  fi
}
date_re='ingest_date=[0-9]{4}-[0-9]{2}-[0-9]{2}'

note "fresh roots: nothing exists but staging"
new_roots fresh
printf 'one\n' >"$IN/one.csv"
printf 'one\n' >"$IN/one-again.csv"
printf 'x\n' >"$IN/skip.tmp"
snapshot >"$T/before"
run_ingest --stability-seconds 0 --dry-run
assert_rc 0
assert_unchanged "$T/before" "fresh roots"
for d in "$WH" "$MF" "$ST"; do assert_missing "$d"; done
assert_matches "$OUT" "^ingest $IN/one(-again)?\.csv -> $WH/$date_re/one(-again)?\.csv$" "plan"
assert_matches "$OUT" "^duplicate of $WH/$date_re/one(-again)?\.csv: $IN/one(-again)?\.csv -> $WH/_duplicates/$date_re/one(-again)?\.csv$" "plan"
assert_contains "$OUT" "skip $IN/skip.tmp: temporary suffix" "plan"
assert_eq 3 "$(count_lines <"$OUT")" "lines in the plan"

note "existing roots with state"
new_roots existing
printf 'old\n' >"$IN/old.csv"
run_ingest --stability-seconds 0
assert_rc 0
assert_ingested_count 1
old_dest=$(ingested_files)
printf 'new\n' >"$IN/new.csv"
printf 'old\n' >"$IN/resent.csv"
printf 'hidden\n' >"$IN/.hidden"
# One real pass that defers everything leaves stability snapshots in state.
run_ingest --stability-seconds 3600
assert_rc 0
assert_summary deferred 2
snapshot >"$T/before"

run_ingest --stability-seconds 0 --dry-run
assert_rc 0
assert_unchanged "$T/before" "dry run that would ingest"
assert_matches "$OUT" "^ingest $IN/new\.csv -> $WH/$date_re/new\.csv$" "plan"
assert_contains "$OUT" "duplicate of $old_dest: $IN/resent.csv -> $WH/_duplicates/" "plan"
assert_contains "$OUT" "skip $IN/.hidden: hidden name" "plan"
assert_summary files_ingested 1
assert_summary duplicates 1

for dup in delete keep; do
  run_ingest --stability-seconds 0 --dry-run --on-duplicate $dup
  assert_rc 0
  assert_unchanged "$T/before" "dry run with --on-duplicate $dup"
  assert_contains "$OUT" "duplicate of $old_dest: $IN/resent.csv" "plan with --on-duplicate $dup"
done

run_ingest --stability-seconds 3600 --dry-run
assert_rc 0
assert_unchanged "$T/before" "dry run that would wait"
assert_matches "$OUT" "^wait $IN/new\.csv: not yet stable \([0-9.]+s to go\)$" "plan"
assert_matches "$OUT" "^wait $IN/resent\.csv: not yet stable \([0-9.]+s to go\)$" "plan"

run_ingest --mode sidecar --dry-run
assert_rc 0
assert_unchanged "$T/before" "dry run in sidecar mode"
assert_contains "$OUT" "wait $IN/new.csv: waiting for .ok" "plan"

# The plan was only a plan: a real pass still does it.
run_ingest --stability-seconds 0
assert_rc 0
assert_summary files_ingested 1
assert_summary duplicates 1
assert_ingested_count 2
