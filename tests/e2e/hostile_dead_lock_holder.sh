#!/usr/bin/env bash
# The run lock is an flock on the state directory, so the kernel releases it
# when its holder dies, however it dies. A pass after a `kill -9` of the
# holder proceeds (no stale lock file to clean up by hand):
#
#   - the holder is another process that took the flock (exit 75 while it
#     lives, 0 once it is killed);
#   - the holder is a pass itself, killed with SIGKILL while strace holds it
#     at its first rename (its intents are durable, nothing moved yet): the
#     next pass takes the lock, rolls the open commit back and ingests every
#     file once.
source "$(dirname "${BASH_SOURCE[0]}")/hostile_lib.sh"
require_strace_inject
INGEST_TIMEOUT=60

note "another process holds the lock and is killed"
printf 'waiting for the lock\n' >"$IN/a.csv"
cp "$IN/a.csv" "$T/a.expected"
hold_state_lock
run_ingest --stability-seconds 0
assert_rc 75
assert_same_content "$T/a.expected" "$IN/a.csv"
kill -9 "$holder"
wait "$holder" 2>/dev/null || true
run_ingest --stability-seconds 0
assert_rc 0 "exit code after the holder was killed"
assert_summary files_ingested 1
assert_same_content "$T/a.expected" "$(partition_dir)/a.csv"
assert_warehouse_consistent

note "a pass holding the lock is killed with SIGKILL"
new_roots killed_pass
for n in a b c; do
  printf 'content of %s\n' "$n" >"$IN/$n.csv"
  cp "$IN/$n.csv" "$T/$n.killed.expected"
done
start_traced -e trace=renameat2 -e inject=renameat2:delay_enter=120000000:when=1 -- \
  --stability-seconds 0 --concurrency 1
wait_for_log 'renameat2\('
# The thread held at renameat2 belongs to the pass; SIGKILL ends it whole.
tid=$(grep -m1 -oE '^[0-9]+ +renameat2\(' "$T/strace.log" | grep -oE '^[0-9]+')
run_ingest --stability-seconds 0
assert_rc 75 "exit code while the held pass lives"
kill_traced "$tid"
[[ $RC != 0 ]] || fail "the killed pass exited 0"
run_ingest --stability-seconds 0
assert_rc 0 "exit code after the pass holding the lock was killed"
assert_summary recovered 3
assert_summary files_ingested 3
assert_eq "" "$(staged_files)" "files left in staging"
for n in a b c; do assert_same_content "$T/$n.killed.expected" "$(partition_dir)/$n.csv"; done
assert_ingested_count 3
assert_manifest_records 3
assert_warehouse_consistent
run_ingest --stability-seconds 0
assert_rc 0
assert_summary files_ingested 0
assert_summary recovered 0
