#!/usr/bin/env bash
# --shard K/N: two instances share one staging directory, each with its own
# state. Each takes only its own files (by the SHA-256 of the name below
# --input; shard_test.cc has the table), with their sidecars; the other
# shard's files are counted nowhere. status, explain, run --dry-run and the
# metrics file say which shard is which, and status which host ran it. A
# state keeps its K/N: another one, or none, exits 2 with the way to
# re-shard.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/strace_lib.sh"

ST0=$T/state-0
ST1=$T/state-1
mkdir -p "$T/metrics"
# A subcommand over the current roots, with extra flags.
run_command() {  # COMMAND [FLAG...]
  local command=$1
  shift
  RC=0
  timeout -k 5 60 "$ATOMIC_INGEST" "$command" \
    --input "$IN" --warehouse "$WH" --manifests "$MF" --state-path "$ST" \
    "$@" >"$OUT" 2>"$ERR" || RC=$?
}
shard() {  # K STATE [FLAG...]
  local k=$1 st=$2
  shift 2
  ST=$st run_ingest --shard "$k/2" --recursive --stability-seconds 0 "$@"
}

# Of N = 2: shard 0 has a, b.csv, sub/file.csv; shard 1 data.csv,
# archive.tar.gz, 123. a and 123 share a content.
mkdir -p "$IN/sub"
for f in b.csv sub/file.csv data.csv archive.tar.gz; do printf '%s\n' "$f" >"$IN/$f"; done
printf 'same\n' >"$IN/a"
printf 'same\n' >"$IN/123"
printf 'part\n' >"$IN/data.csv.part"
printf 'hidden\n' >"$IN/.x"  # shard 0's to skip (by its own name)

shard 0 "$ST0" --dry-run
assert_rc 0 "shard 0 dry run"
for f in data.csv archive.tar.gz 123 data.csv.part; do
  assert_contains "$OUT" "other shard 1/2: $IN/$f (this is 0/2)"
done
assert_not_contains "$OUT" "other shard 1/2: $IN/b.csv"

# Under strace where it runs: the other shard's files, with their sidecar
# and temp names, are never opened or stat'ed.
shard0=(--shard 0/2 --recursive --stability-seconds 0 --metrics-file "$T/metrics/shard-0.prom")
if have_strace_inject; then
  ST=$ST0 run_traced -e trace=%file -- "${shard0[@]}"
  for f in data.csv archive.tar.gz 123; do
    assert_not_contains "$T/strace.log" "\"$f" "a file call on shard 1's $f"
  done
  assert_contains "$T/strace.log" '"b.csv"' "a file call on shard 0's b.csv"
else
  note "no strace here: the file calls of shard 0's pass are not checked"
  ST=$ST0 run_ingest "${shard0[@]}"
fi
assert_rc 0 "shard 0"
assert_summary files_ingested 3
assert_summary deferred 0
assert_summary skipped 1  # .x; data.csv.part is shard 1's
for f in a b.csv sub/file.csv; do assert_missing "$IN/$f"; done
for f in data.csv archive.tar.gz 123 data.csv.part; do assert_file "$IN/$f"; done
# Every series of the metrics file is labelled with the shard.
grep -v '^#' "$T/metrics/shard-0.prom" >"$T/series"
assert_eq "$(count_lines <"$T/series")" "$(grep -c 'shard="0/2"' "$T/series")" "series labelled shard=\"0/2\""
assert_contains "$T/series" 'atomic_ingest_files_ingested_total{shard="0/2"} 3'
assert_contains "$T/series" 'atomic_ingest_backlog_files{group="failed",shard="0/2"} 0'

# status of shard 0: nothing of its own waits; shard 1's four entries are
# counted apart; the host that ran it is named.
ST=$ST0 run_command status --shard 0/2 --recursive --stability-seconds 0
assert_rc 0 "status of shard 0"
assert_contains "$OUT" "ready: 0 (the next pass takes them)"
assert_contains "$OUT" "shard: 0/2; 4 entries of other shards not counted above"
assert_contains "$OUT" "last pass ran on: $(hostname)"
ST=$ST0 run_command status --shard 0/2 --recursive --stability-seconds 0 --json
assert_rc 0 "status --json of shard 0"
assert_contains "$OUT" '"shard":"0/2","other_shards":4'
assert_contains "$OUT" "\"host\":\"$(hostname)\""

ST=$ST0 run_command explain --shard 0/2 --recursive "$IN/data.csv"
assert_rc 0 "explain of shard 1's file by shard 0"
assert_contains "$OUT" "$IN/data.csv: belongs to shard 1/2, not this instance's 0/2"
ST=$ST0 run_command explain --shard 0/2 --recursive "$IN/data.csv.part"
assert_contains "$OUT" "belongs to shard 1/2 (with $IN/data.csv)"

# The shard's lease is its state's run lock: while another host's pass
# holds it, a pass exits 75 and says nothing above debug level.
ST=$ST0 hold_state_lock
shard 0 "$ST0"
assert_rc 75 "shard 0 while its lock is held"
assert_eq "" "$(cat "$OUT" "$ERR")" "output of a pass that found the shard's lock held"
kill -9 "$holder"
wait "$holder" 2>/dev/null || true
# The same for the lock file, which is what excludes another host where
# flock on a directory does not (ceph-fuse).
hold_lock "$ST0/lock"
shard 0 "$ST0"
assert_rc 75 "shard 0 while its lock file is held"
assert_eq "" "$(cat "$OUT" "$ERR")" "output of a pass that found the shard's lock file held"
kill -9 "$holder"
wait "$holder" 2>/dev/null || true

# Shard 1 takes the rest; its first run beside shard 0's manifest records
# is no lost state. 123's content came first from shard 0: a duplicate.
shard 1 "$ST1"
assert_rc 0 "shard 1"
assert_summary files_ingested 2
assert_summary duplicates 1
assert_summary skipped 1  # data.csv.part
assert_eq "$IN/.x $IN/data.csv.part $IN/sub" "$(staged_files | tr '\n' ' ' | sed 's/ $//')" "staging after both shards"
assert_ingested_count 5
assert_duplicate_count 1
assert_warehouse_consistent

# A state keeps its shard.
shard 1 "$ST0"
assert_rc 2 "shard 1 on shard 0's state"
assert_contains "$ERR" "--state-path $ST0 serves shard 0/2, not shard 1/2 (--shard 1/2)"
assert_contains "$ERR" "fresh --state-path directories"
ST=$ST0 run_ingest --stability-seconds 0
assert_rc 2 "no --shard on shard 0's state"
assert_contains "$ERR" "serves shard 0/2, not no shard (no --shard)"
ST=$ST0 run_command status --shard 0/3
assert_rc 2 "status with another --shard"
# rebuild-state --shard re-binds a state.
ST=$ST0 run_command rebuild-state --shard 1/3
assert_rc 0 "rebuild-state --shard 1/3"
ST=$ST0 run_ingest --stability-seconds 0 --shard 1/3
assert_rc 0 "shard 1/3 on the rebuilt state"

# An unsharded state that has ingested takes no --shard.
new_roots unsharded
printf 'late\n' >"$IN/late.csv"
run_ingest --stability-seconds 0
assert_rc 0 "unsharded run"
run_ingest --stability-seconds 0 --shard 0/2
assert_rc 2 "--shard on an unsharded state that ingested"
assert_contains "$ERR" "serves no shard, not shard 0/2 (--shard 0/2)"
