#!/usr/bin/env bash
# While another process holds the lock on --state-path, a pass exits 75 at
# once and touches nothing; once the lock is released a pass runs normally.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
INGEST_TIMEOUT=20

printf 'waiting for the lock\n' >"$IN/a.csv"
cp "$IN/a.csv" "$T/expected"
mkdir -p "$ST"

# The holder takes the lock on its own descriptor, then becomes `sleep`, so
# killing $holder releases it.
hold_state_lock

run_ingest --stability-seconds 0
[[ $RC != 124 ]] || fail "the pass waited for the lock instead of giving up"
assert_rc 75
assert_same_content "$T/expected" "$IN/a.csv"
assert_missing "$WH"
assert_missing "$MF"
assert_eq "" "$(find "$ST" -mindepth 1)" "files created in the locked state directory"

run_ingest --stability-seconds 0 --dry-run
[[ $RC != 124 ]] || fail "the dry run waited for the lock instead of giving up"
assert_rc 75 "exit code of a dry run"

kill "$holder"
wait "$holder" 2>/dev/null || true

run_ingest --stability-seconds 0
assert_rc 0
assert_summary files_ingested 1
assert_missing "$IN/a.csv"
assert_same_content "$T/expected" "$(partition_dir)/a.csv"
assert_manifest_records 1
