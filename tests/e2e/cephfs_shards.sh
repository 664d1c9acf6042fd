#!/usr/bin/env bash
# Two shards of one staging directory, each run by both hosts: staging,
# warehouse, manifests and the two shards' states (--shard 0/2 and 1/2)
# are on CephFS, which the two hosts mount at the same path (two ceph-fuse
# clients). Four loops run at once, each shard on each host, and kill
# their passes with SIGKILL at random moments again and again: a shard's
# passes on the two hosts contend for its state's lock (exit 75), and a
# pass killed on one host is recovered by the next on either. A quarter of
# the files resend a content staged earlier, under another name and so
# often in the other shard. Then each shard drains on the host it ran on
# least. Throughout, every check of scripts/check-invariants.py holds over
# the one staging directory: each content once in the partitions across
# both shards, every partition file with exactly one record, no committed
# record lost; at the end staging holds no candidate.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/cephfs_lib.sh"

DEFER_VIOLATIONS=1
ceph_start
IN=$SHARE/shards/input
WH=$SHARE/shards/warehouse
MF=$SHARE/shards/manifests
flags_of() {  # K: sets FLAGS for shard K of 2
  FLAGS=(--input "$IN" --warehouse "$WH" --manifests "$MF" --state-path "$SHARE/shards/state-$1"
         --shard "$1/2" --stability-seconds 0 --concurrency 2)
}

# 3,000 files keep the suite within CI's time; CEPHFS_SHARD_FILES=5000 (or
# more) makes a longer run.
stage_files "$MNT1/shards/input" s "${CEPHFS_SHARD_FILES:-3000}"

# Shard K on host H: passes killed after 0.1 to 1.5 s while staging has
# candidates, at most KILLS_EACH kills; counts to $T/kills.K.H and
# $T/busy.K.H (passes that found the shard's lock held).
KILLS_EACH=4
kill_loop() {  # K H
  local k=$1 h=$2 busy=0
  flags_of "$k"
  for _ in $(seq 1 $((KILLS_EACH * 3))); do
    [[ $KILLS -lt $KILLS_EACH ]] || break
    [[ $(candidates_left "$MNT1/shards/input") -gt 0 ]] || break
    killed_pass "$h" $((100 + RANDOM % 1400)) "${FLAGS[@]}" --batch-size $((RANDOM % 8 + 1))
    case $RC in
      0 | 137) ;;
      75) busy=$((busy + 1)) ;;
      *) show_pass_log; exit 1 ;;
    esac
  done
  echo "$KILLS" >"$T/kills.$k.$h"
  echo "$busy" >"$T/busy.$k.$h"
}
loops=()
for k in 0 1; do
  for h in 1 2; do
    (RANDOM=$((SEED + 10 * k + h)); kill_loop "$k" "$h") &
    loops+=($!)
  done
done
for pid in "${loops[@]}"; do
  wait "$pid" || fail "a pass exited with an unexpected code (above)"
done
kills=0 busy=0
for f in "$T"/kills.*; do kills=$((kills + $(cat "$f"))); done
for f in "$T"/busy.*; do busy=$((busy + $(cat "$f"))); done
[[ $kills -ge 6 ]] || fail "only $kills of the passes were still running when killed"
check_invariants 1 "$WH" "$MF" --staging "$IN" --phase partial --allow-torn

# Each shard drains on one host, shard 0 on host 2 and shard 1 on host 1,
# at the same time, unkilled.
drain() {  # K H
  local k=$1 h=$2
  flags_of "$k"
  for _ in $(seq 1 10); do
    clean_pass "$h" "${FLAGS[@]}" --batch-size 50
    [[ $RC -eq 0 ]] || { show_pass_log; echo "shard $k: a pass exited $RC" >&2; exit 1; }
    # Done when a pass finds nothing of its own left.
    [[ $(pass_summary files_ingested) -gt 0 || $(pass_summary duplicates) -gt 0 ||
       $(pass_summary recovered) -gt 0 ]] || return 0
  done
  echo "shard $k: not drained after 10 passes" >&2
  exit 1
}
(drain 0 2) &
drain_0=$!
(drain 1 1) &
drain_1=$!
wait "$drain_0" || fail "shard 0 did not drain (above)"
wait "$drain_1" || fail "shard 1 did not drain (above)"
assert_eq 0 "$(candidates_left "$MNT1/shards/input")" "candidates left in staging after both shards drained"
check_invariants 2 "$WH" "$MF" --staging "$IN" --phase complete
note "$kills kills, $busy passes found their shard's lock held; $LAST_CHECK"

# Each shard's state took only its own files: a status per shard, from
# either host, finds nothing of its own waiting and nothing failed.
for k in 0 1; do
  flags_of "$k"
  on_host $((k + 1)) "$ATOMIC_INGEST" status "${FLAGS[@]}" >"$OUT" 2>"$ERR" ||
    fail "status of shard $k: $(cat "$ERR")"
  assert_contains "$OUT" "ready: 0 (the next pass takes them)"
  assert_contains "$OUT" "failed: 0 (retried by the next pass)"
  assert_contains "$OUT" "shard: $k/2;"
done
report_violations
