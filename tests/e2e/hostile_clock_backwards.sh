#!/usr/bin/env bash
# The wall clock jumping between runs (libfaketime, from Debian's faketime
# package, shifts the clock of one pass; file timestamps stay real).
#
#   - backwards by a day, then forward again: no crash, nothing ingested
#     twice; the pass in the past files under its own (past) date and hour,
#     and a resend of earlier content is still a duplicate;
#   - a file first seen "in the future" (by a pass whose clock ran a day
#     ahead) waits its window again once the clock is right: it is not
#     ingested early, and it is not held until the future sighting plus the
#     window either: a pass one window later takes it. Its mtime is set far
#     ahead, so that only the passes' own sightings count as evidence.
source "$(dirname "${BASH_SOURCE[0]}")/hostile_lib.sh"

command -v faketime >/dev/null || skip "faketime is not installed (Debian package faketime)"
# libfaketime is preloaded ahead of an AddressSanitizer runtime; ASan only
# checks that order, it works either way.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
faketime -f '-1d' "$ATOMIC_INGEST" --version >/dev/null 2>&1 ||
  skip "the binary does not run under faketime (a sanitizer build?)"
faked_now=$(faketime -f '-1d' date -u +%s)
[[ $((faked_now - $(date -u +%s))) -lt -80000 ]] || skip "faketime does not shift the clock here"

# run_ingest with the clock shifted by OFFSET (a faketime -f spec).
run_at() {  # OFFSET FLAGS...
  local offset=$1
  shift
  RC=0
  timeout -k 5 "${INGEST_TIMEOUT:-60}" faketime -f "$offset" "$ATOMIC_INGEST" \
    --input "$IN" --warehouse "$WH" --manifests "$MF" --state-path "$ST" \
    "$@" >"$OUT" 2>"$ERR" || RC=$?
}

note "backwards by a day, then forward again"
printf 'today\n' >"$IN/a.csv"
cp "$IN/a.csv" "$T/a.expected"
run_ingest --stability-seconds 0
assert_rc 0
assert_summary files_ingested 1
today=$(date -u +%Y-%m-%d)
cp "$T/a.expected" "$IN/a-resent.csv"
printf 'yesterday\n' >"$IN/b.csv"
run_at '-1d' --stability-seconds 0
assert_rc 0 "exit code of the pass a day in the past"
assert_summary files_ingested 1
assert_summary duplicates 1
yesterday=$(faketime -f '-1d' date -u +%Y-%m-%d)
assert_file "$WH/ingest_date=$yesterday/b.csv"
assert_file "$WH/ingest_date=$today/a.csv"
[[ -n $(find "$MF/$(faketime -f '-1d' date -u +%Y/%m/%d)" -name manifest.jsonl 2>/dev/null) ]] ||
  fail "no manifest under the past date $(faketime -f '-1d' date -u +%Y/%m/%d)"
assert_warehouse_consistent
run_ingest --stability-seconds 0
assert_rc 0 "exit code of the pass back at the right time"
assert_summary files_ingested 0
assert_summary recovered 0
cp "$T/a.expected" "$IN/a-resent-again.csv"
run_at '@2020-01-01 00:00:00' --stability-seconds 0
assert_rc 0 "exit code of a pass in 2020"
assert_summary files_ingested 0
assert_summary duplicates 1
assert_ingested_count 2
assert_duplicate_count 2
assert_manifest_records 2
assert_eq 2 "$(manifest_field sha256 | sort -u | count_lines)" "distinct contents in the manifests"
assert_warehouse_consistent

note "a file first seen in the future waits its window again"
new_roots future
printf 'seen in the future\n' >"$IN/f.csv"
touch -m -d '+10 days' "$IN/f.csv"
window=7200  # 2 h
run_at '+1d' --stability-seconds $window
assert_rc 0 "exit code of the pass a day ahead"
assert_summary files_ingested 0
assert_summary deferred 1
run_ingest --stability-seconds $window
assert_rc 0 "exit code of the pass back at the right time"
assert_summary files_ingested 0
assert_summary deferred 1
assert_ingested_count 0
# One window (and a bit) later: taken, measured from the sighting at the
# right time, not from the one a day ahead.
run_at '+3h' --stability-seconds $window
assert_rc 0
assert_summary files_ingested 1
assert_ingested_count 1
assert_manifest_records 1
assert_warehouse_consistent
run_ingest --stability-seconds $window
assert_rc 0
assert_summary files_ingested 0
assert_summary recovered 0
