#!/usr/bin/env bash
# Two hosts ingest into one warehouse: instances A and B, each with its own
# staging directory and its own --state-path, run on the two ceph-fuse
# mounts (two clients, at the same path in mount namespaces of their own)
# and share one --warehouse and one --manifests on CephFS. A third of their
# files carry contents common to both staging directories. Both run at the
# same time, and each is killed with SIGKILL at random moments again and
# again; then both run until drained. Over the whole warehouse: each content
# is in the partitions once across both instances, every partition file has
# exactly one record, no committed record is lost, and both staging
# directories are drained (duplicates quarantined). Then instance C, with a
# new state and without rebuild-state, joins the same warehouse and ingests
# its own files, some of them contents A or B already ingested.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/cephfs_lib.sh"

# Every check runs, and the test fails at the end naming each kind of
# violation seen.
DEFER_VIOLATIONS=1
ceph_start
WH=$SHARE/shared/warehouse
MF=$SHARE/shared/manifests
# instance NAME: its host, staging directory and state.
declare -A HOST=([a]=1 [b]=2 [c]=1)
flags_of() {  # NAME: sets FLAGS
  FLAGS=(--input "$SHARE/$1/input" --warehouse "$WH" --manifests "$MF"
         --state-path "$SHARE/$1/state" --stability-seconds 0 --concurrency 2)
}
stagings=(--staging "$SHARE/a/input" --staging "$SHARE/b/input")

stage_files "$MNT1/a/input" a 200 40
stage_files "$MNT2/b/input" b 200 40

# Each instance's loop: passes killed after 0.1 to 1 s, as long as its
# staging has candidates, at most KILLS_EACH kills. The loops' own kill
# counts go to $T/kills.NAME (they run in subshells).
KILLS_EACH=6
kill_loop() {  # NAME
  local name=$1
  flags_of "$name"
  for _ in $(seq 1 "$KILLS_EACH"); do
    [[ $(candidates_left "$MNT1/$name/input") -gt 0 ]] || break
    killed_pass "${HOST[$name]}" $((100 + RANDOM % 900)) "${FLAGS[@]}" --batch-size $((RANDOM % 4 + 1))
    [[ $RC -eq 137 || $RC -eq 0 || $RC -eq 75 ]] || { show_pass_log; exit 1; }
  done
  echo "$KILLS" >"$T/kills.$name"
}
RANDOM=$SEED
(RANDOM=$((SEED + 1)); kill_loop a) &
loop_a=$!
(RANDOM=$((SEED + 2)); kill_loop b) &
loop_b=$!
wait "$loop_a" || fail "a pass of instance A exited with an unexpected code (above)"
wait "$loop_b" || fail "a pass of instance B exited with an unexpected code (above)"
kills_a=$(cat "$T/kills.a")
kills_b=$(cat "$T/kills.b")
[[ $kills_a -ge 3 && $kills_b -ge 3 ]] ||
  fail "too few kills landed: $kills_a on A, $kills_b on B"
check_invariants 1 "$WH" "$MF" "${stagings[@]}" --phase partial --allow-torn

# Both drain, at the same time, unkilled.
drain() {  # NAME
  local name=$1
  flags_of "$name"
  for _ in $(seq 1 10); do
    clean_pass "${HOST[$name]}" "${FLAGS[@]}" --batch-size 20
    [[ $RC -eq 0 ]] || { show_pass_log; echo "instance $name: a pass exited $RC" >&2; exit 1; }
    [[ $(candidates_left "$MNT1/$name/input") -gt 0 ]] || return 0
  done
  echo "instance $name: staging not drained after 10 passes" >&2
  exit 1
}
(drain a) &
drain_a=$!
(drain b) &
drain_b=$!
wait "$drain_a" || fail "instance A did not drain (above)"
wait "$drain_b" || fail "instance B did not drain (above)"
check_invariants 2 "$WH" "$MF" "${stagings[@]}" --phase complete
note "$kills_a kills on A (host 1), $kills_b on B (host 2); $LAST_CHECK"

# C joins with a new state: shared contents A and B ingested, and its own.
stagings+=(--staging "$SHARE/c/input")
stage_files "$MNT1/c/input" c 60 40
flags_of c
clean_pass 1 "${FLAGS[@]}"
[[ $RC -eq 0 ]] || { show_pass_log; fail "instance C's first pass exited $RC"; }
assert_eq 0 "$(candidates_left "$MNT1/c/input")" "candidates left in C's staging"
check_invariants 2 "$WH" "$MF" "${stagings[@]}" --phase complete
note "instance C: $(pass_summary files_ingested) ingested, $(pass_summary duplicates) duplicates; $LAST_CHECK"
report_violations
