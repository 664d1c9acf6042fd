#!/usr/bin/env bash
# NOT REGISTERED in meson.build: it fails today (see below).
#
# A state database whose write-ahead log (*.log) is overwritten with random
# bytes must stop the pass like any other corruption (corrupt_state.sh):
# exit 1, one error naming the database, nothing moved out of staging.
#
# Today LevelDB reads random bytes at the start of the log as a record torn
# by a crash (its length runs past the end of the file) and drops the rest
# of the log without an error, even with paranoid_checks. The pass exits 0
# having forgotten every content record that log held, so content committed
# by the previous pass is ingested a second time.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

noise() {  # N: bytes that look random but are the same on every run
  python3 -c 'import random, sys; random.seed(20240601); sys.stdout.buffer.write(random.randbytes(int(sys.argv[1])))' "$1"
}

printf 'first\n' >"$T/first"
printf 'second\n' >"$T/second"
cp "$T/first" "$IN/first.csv"
run_ingest --stability-seconds 0 --concurrency 1
assert_rc 0
# The second pass's records are in the log of the database it reopened.
cp "$T/second" "$IN/second.csv"
run_ingest --stability-seconds 0 --concurrency 1
assert_rc 0
assert_ingested_count 2

logs=("$ST"/db/*.log)
[[ ${#logs[@]} -eq 1 ]] || fail "expected one *.log in $ST/db, found: $(ls "$ST/db")"
noise "$(stat -c %s "${logs[0]}")" >"$T/noise"
cp "$T/noise" "${logs[0]}"

cp "$T/second" "$IN/second-again.csv"
tree_listing "$IN" >"$T/staging.before"
run_ingest --stability-seconds 0 --concurrency 1
assert_rc 1 "exit code of the pass over a state whose log is random bytes"
assert_matches "$ERR" "^[^ ]+ error .*$ST/db" "stderr of the pass over a corrupt state"
tree_listing "$IN" >"$T/staging.after"
cmp -s "$T/staging.before" "$T/staging.after" || fail "the pass over a corrupt state changed staging"
assert_manifest_records 2
