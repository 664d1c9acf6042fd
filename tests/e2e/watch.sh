#!/usr/bin/env bash
# `watch` stays resident and ingests files soon after they are complete:
# a file written and closed, a .tmp renamed into place, and a slowly
# written file only once it is complete, each exactly once. While it runs,
# `run` exits 75 quietly; SIGHUP after the log file was moved away starts
# a new log file; --metrics-file is rewritten after each pass; SIGTERM when
# idle exits 0. SIGTERM in the middle of a pass over hundreds of files
# exits 0 within seconds with every file exactly once, in staging or in the
# warehouse with one manifest record. With --recursive, a directory made
# later is watched too. The input directory going away ends the watch with
# exit 1. No timing is asserted: waits have generous deadlines, and the
# latencies seen are printed.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DEADLINE=15
W_OUT=$T/watch.out
W_ERR=$T/watch.err
WATCH=

alive() { local st; st=$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) && [[ $st != Z ]]; }

fail_watch() {
  echo "--- watch stderr:" >&2
  tail -n 40 "$W_ERR" >&2 || true
  fail "$@"
}

# Starts `watch` on the current roots with flags "$@" and waits until it
# watches.
start_watch() {
  "$ATOMIC_INGEST" watch --input "$IN" --warehouse "$WH" --manifests "$MF" --state-path "$ST" \
    "$@" >"$W_OUT" 2>"$W_ERR" &
  WATCH=$!
  on_exit "kill -KILL $WATCH 2>/dev/null; wait $WATCH 2>/dev/null"
  wait_for "the watch to start" grep -q ' info watching ' "$W_ERR"
}

# Polls COMMAND every 0.1 s until it succeeds; fails after $DEADLINE
# seconds or when the watch is gone.
wait_for() {  # WHAT COMMAND...
  local what=$1 end=$((SECONDS + DEADLINE))
  shift
  until "$@"; do
    alive "$WATCH" || fail_watch "the watch exited while waiting for $what"
    ((SECONDS < end)) || fail_watch "waited ${DEADLINE}s for $what"
    sleep 0.1
  done
}

# Waits for the watch to exit; its exit code goes to RC.
wait_exit() {  # WHAT
  local end=$((SECONDS + DEADLINE))
  while alive "$WATCH"; do
    ((SECONDS < end)) || fail_watch "the watch did not exit within ${DEADLINE}s after $1"
    sleep 0.05
  done
  RC=0
  wait "$WATCH" || RC=$?
}

now() { date +%s.%N; }
since() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$1" "$(now)"; }

# The file staged as REL (relative to $IN) is in a dated partition, under
# its base name, and a manifest record names its source.
ingested() {  # REL
  [[ -n "$(find "$WH" -path "$WH/ingest_date=*/${1##*/}" -type f 2>/dev/null)" ]] &&
    manifest_field source | grep -qxF "$IN/$1"
}

assert_records_for() {  # NAME N
  assert_eq "$2" "$(manifest_field source | grep -cxF "$IN/$1" || true)" "manifest records for $1"
}

# --- A watch with a 1 s stability window. ---
new_roots watch
mkdir -p "$T/logs"
LOG=$T/logs/watch.log
M=$T/logs/watch.prom
printf 'never renamed\n' >"$IN/never.csv.tmp"
start_watch --stability-seconds 1 --interval 60 --log-file "$LOG" --metrics-file "$M"

# A file written and closed.
t0=$(now)
printf 'dropped\n' >"$IN/drop.csv"
wait_for "drop.csv to be ingested" ingested drop.csv
note "drop.csv ingested $(since "$t0")s after it was closed (stability window 1s)"
assert_records_for drop.csv 1

# A .tmp renamed into place.
printf 'renamed\n' >"$IN/moved.csv.tmp"
t0=$(now)
mv "$IN/moved.csv.tmp" "$IN/moved.csv"
wait_for "moved.csv to be ingested" ingested moved.csv
note "moved.csv ingested $(since "$t0")s after its rename"
assert_records_for moved.csv 1

# A file written slowly through one descriptor, a chunk every 0.2 s, well
# inside the window: never taken before it is complete.
for i in $(seq 1 10); do head -c 65536 /dev/urandom >"$T/chunk.$i"; done
cat "$T"/chunk.{1..10} >"$T/slow.full"
(for i in $(seq 1 10); do cat "$T/chunk.$i"; sleep 0.2; done) >"$IN/slow.csv" &
writer=$!
on_exit "kill $writer 2>/dev/null; wait $writer 2>/dev/null"
while alive "$writer"; do
  if ingested slow.csv && alive "$writer"; then
    fail_watch "slow.csv was ingested while its writer was still writing"
  fi
  sleep 0.05
done
wait "$writer"
t0=$(now)
wait_for "slow.csv to be ingested" ingested slow.csv
note "slow.csv ingested $(since "$t0")s after its writer finished"
assert_same_content "$T/slow.full" "$(find "$WH" -path "$WH/ingest_date=*/slow.csv")"
assert_records_for slow.csv 1
assert_contains <(manifest_field sha256) "$(sha_of "$T/slow.full")" "manifest sha256 of slow.csv"

# The watch holds the lock for its whole life: a run beside it exits 75
# and says nothing.
run_ingest --stability-seconds 1
assert_rc 75 "exit code of a run while the watch runs"
assert_eq "" "$(cat "$ERR" "$OUT")" "output of a run while the watch runs"

# logrotate: move the log away, SIGHUP, and later records go to a new file.
mv "$LOG" "$LOG.1"
kill -HUP "$WATCH"
wait_for "a new log file after SIGHUP" grep -qs 'SIGHUP' "$LOG"
printf 'after the rotation\n' >"$IN/after-hup.csv"
wait_for "after-hup.csv to be ingested" ingested after-hup.csv
wait_for "after-hup.csv in the new log" grep -qF "ingested $IN/after-hup.csv" "$LOG"
assert_not_contains "$LOG.1" "after-hup.csv" "the moved log file"
assert_contains "$LOG.1" "ingested $IN/drop.csv" "the moved log file"
mode=$(stat -c %a "$LOG")
(((8#$mode & 8#137) == 0)) || fail "the reopened log file has mode $mode, more than 0640"

# SIGTERM while idle.
t0=$(now)
kill -TERM "$WATCH"
wait_exit SIGTERM
assert_rc 0 "exit code of the watch after SIGTERM"
note "the idle watch exited $(since "$t0")s after SIGTERM"
assert_contains "$W_ERR" "SIGTERM: stopping"
assert_contains "$W_ERR" "watch stopped"

assert_ingested_count 4
assert_manifest_records 4
assert_duplicate_count 0
assert_eq "$IN/never.csv.tmp" "$(staged_files)" "what is left in staging"
assert_same_content <(printf 'never renamed\n') "$IN/never.csv.tmp"
passes=$(grep -c ' info summary {' "$W_ERR")
note "$passes passes, each with its summary"
[[ $passes -ge 4 ]] || fail_watch "expected a summary for each of at least 4 passes, found $passes"
value() { awk -v k="atomic_ingest_$1" '$1 == k { print $2 }' "$M"; }
assert_eq "$passes" "$(value passes_total)" "passes_total in --metrics-file"
assert_eq 4 "$(value files_ingested_total)" "files_ingested_total in --metrics-file"

# --- SIGTERM in the middle of a pass over 300 files. ---
# One file a batch: each commit syncs, so the pass lasts seconds.
new_roots term
for i in $(seq 1 300); do printf 'file %s\n' "$i" >"$IN/f$i.csv"; done
write_ledger "$T/term.ledger"
start_watch --stability-seconds 0 --batch-size 1 --interval 60
wait_for "the first file of the pass" grep -q ' info ingested ' "$W_ERR"
t0=$(now)
kill -TERM "$WATCH"
wait_exit "SIGTERM during a pass"
assert_rc 0 "exit code of the watch after SIGTERM during a pass"
note "the busy watch exited $(since "$t0")s after SIGTERM"
done_files=$(ERR=$W_ERR summary_field files_ingested)
note "the interrupted pass committed $done_files of 300 files"
[[ $done_files -lt 300 ]] || note "(the pass had finished before the SIGTERM arrived)"

# Each file is in staging, or in the warehouse with one manifest record;
# none is in both, none is missing, none is there twice.
assert_warehouse_consistent --ledger "$T/term.ledger" --staging "$IN" --phase stopped
note "after the SIGTERM: $(staged_files | count_lines) files still staged"
run_ingest --stability-seconds 0
assert_rc 0 "exit code of the run after the interrupted watch"
assert_warehouse_consistent --ledger "$T/term.ledger" --staging "$IN" --phase complete
assert_eq "" "$(staged_files)" "files left in staging"
assert_ingested_count 300
assert_manifest_records 300

# --- --recursive: a directory created after the start is watched too. ---
new_roots recursive
start_watch --recursive --stability-seconds 0 --interval 60
wait_for "the first pass" grep -q ' info summary {' "$W_ERR"
mkdir -p "$IN/new/deeper"
printf 'deep\n' >"$IN/new/deeper/deep.csv"
t0=$(now)
wait_for "new/deeper/deep.csv to be ingested" ingested new/deeper/deep.csv
note "new/deeper/deep.csv ingested $(since "$t0")s after it was closed"
kill -TERM "$WATCH"
wait_exit SIGTERM
assert_rc 0 "exit code of the recursive watch after SIGTERM"
assert_eq "$IN/new/deeper/deep.csv" "$(manifest_field source)" "manifest source"

# --- The input directory going away ends the watch: exit 1, named. ---
new_roots gone
start_watch --stability-seconds 0 --interval 60
wait_for "the first pass" grep -q ' info summary {' "$W_ERR"
rmdir "$IN"
wait_exit "the input directory was removed"
assert_rc 1 "exit code of the watch after its input was removed"
assert_contains "$W_ERR" "the input directory $IN was deleted"

# --- watch does not plan: --dry-run is a usage error. ---
new_roots dry
RC=0
"$ATOMIC_INGEST" watch --input "$IN" --warehouse "$WH" --manifests "$MF" --state-path "$ST" \
  --dry-run >"$OUT" 2>"$ERR" || RC=$?
assert_rc 2 "exit code of watch --dry-run"
assert_contains "$ERR" "--dry-run"
