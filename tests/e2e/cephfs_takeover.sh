#!/usr/bin/env bash
# Another host takes over after a crash: staging, warehouse, manifests and
# state are on CephFS, which two hosts mount at the same path (two ceph-fuse
# clients, each bound at $SHARE in a mount namespace of its own). A pass on
# host 1 is killed with SIGKILL at a random moment, and the next pass runs
# on host 2: it must finish or undo host 1's open commits although st_dev
# differs between the two mounts (st_ino does not), and ingest nothing
# twice. Then host 1 carries on, and so on; at the end staging is drained,
# and every check of scripts/check-invariants.py holds throughout.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/cephfs_lib.sh"

ceph_start
[[ $(stat -c %d "$MNT1") != $(stat -c %d "$MNT2") ]] ||
  fail "the two ceph-fuse mounts have the same st_dev: this test would prove nothing"
IN=$SHARE/takeover/input
WH=$SHARE/takeover/warehouse
MF=$SHARE/takeover/manifests
ST=$SHARE/takeover/state
flags=(--input "$IN" --warehouse "$WH" --manifests "$MF" --state-path "$ST"
       --stability-seconds 0 --concurrency 2)

round=0
stage() {
  round=$((round + 1))
  stage_files "$MNT1/takeover/input" "r$round" 300
}
stage
recovered=0
for _ in $(seq 1 16); do
  [[ $KILLS -lt 6 ]] || break
  [[ $(candidates_left "$MNT1/takeover/input") -gt 0 ]] || stage
  killed_pass 1 $((100 + RANDOM % 900)) "${flags[@]}" --batch-size $((RANDOM % 4 + 1))
  [[ $RC -eq 137 ]] || continue
  # Host 2 resolves what host 1 left open, then takes a few files more; the
  # invariants after a kill itself are cephfs_single's.
  clean_pass 2 "${flags[@]}" --max-files 20 --batch-size 5
  [[ $RC -eq 0 ]] || { show_pass_log; fail "host 2's pass after host 1 was killed exited $RC"; }
  recovered=$((recovered + $(pass_summary recovered)))
  check_invariants 1 "$WH" "$MF" --staging "$IN" --phase stopped
done
[[ $KILLS -ge 6 ]] || fail "only $KILLS of host 1's passes were still running when killed"
[[ $recovered -gt 0 ]] || fail "host 2 never found a commit of host 1 to finish or undo ($KILLS kills)"

for _ in $(seq 1 10); do
  clean_pass 2 "${flags[@]}" --batch-size 50
  [[ $RC -eq 0 ]] || { show_pass_log; fail "a pass of host 2 exited $RC"; }
  [[ $(candidates_left "$MNT1/takeover/input") -gt 0 ]] || break
done
check_invariants 1 "$WH" "$MF" --staging "$IN" --phase complete
note "$KILLS kills on host 1; host 2 recovered $recovered commits; $LAST_CHECK"

# Nothing is left open, as seen from either host.
for host in 1 2; do
  clean_pass $host "${flags[@]}"
  [[ $RC -eq 0 ]] || { show_pass_log; fail "the idle pass of host $host exited $RC"; }
  assert_eq 0 "$(pass_summary recovered)" "commits recovered by host $host's idle pass"
  assert_eq 0 "$(pass_summary files_ingested)" "files ingested by host $host's idle pass"
done
