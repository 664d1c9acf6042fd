#!/usr/bin/env bash
# verify re-hashes what the manifests list: a clean warehouse passes; a
# corrupted file, a deleted file and a file no manifest names are each
# reported by path, and the exit code says so.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

for n in a b c; do printf '%s\n' "$n" >"$IN/$n.csv"; done
run_ingest --stability-seconds 0
assert_rc 0
assert_ingested_count 3

"$ATOMIC_INGEST" verify --warehouse "$WH" --manifests "$MF" >"$T/out" 2>"$T/err"
assert_eq 0 "$?" "verify of a clean warehouse"
assert_contains "$T/out" "verified 3 records: 3 ok"

P=$(partition_dir)
printf 'tampered\n' >>"$P/a.csv"
rm "$P/b.csv"
printf 'stray\n' >"$P/stray.csv"
rc=0
"$ATOMIC_INGEST" verify --warehouse "$WH" --manifests "$MF" >"$T/out" 2>"$T/err" || rc=$?
assert_eq 1 "$rc" "verify exit code with problems"
assert_contains "$T/out" "corrupted $P/a.csv"
assert_contains "$T/out" "missing $P/b.csv"
assert_contains "$T/out" "unlisted $P/stray.csv"
assert_not_contains "$T/out" "$P/c.csv"

# Date bounds: nothing ingested after today.
rc=0
"$ATOMIC_INGEST" verify --warehouse "$WH" --manifests "$MF" --since 2999-01-01 >"$T/out" || rc=$?
assert_eq 0 "$rc" "verify of an empty date range"
assert_contains "$T/out" "verified 0 records"
rc=0
"$ATOMIC_INGEST" verify --warehouse "$WH" --manifests "$MF" --until 2000-13-01 2>"$T/err" || rc=$?
assert_eq 2 "$rc" "a malformed --until"
assert_contains "$T/err" "--until"
# history takes UTC times too; verify checks whole days and refuses them.
rc=0
"$ATOMIC_INGEST" verify --warehouse "$WH" --manifests "$MF" --since 2026-12-01T10:00Z 2>"$T/err" || rc=$?
assert_eq 2 "$rc" "verify with a time for --since"
assert_contains "$T/err" "--since must be a date YYYY-MM-DD for verify"
