#!/usr/bin/env bash
# Staging, warehouse, manifests and state all on CephFS (one ceph-fuse
# mount), where rename takes no flags and files move by link() and unlink():
# passes over a few hundred small files, a quarter of them resends of an
# earlier content, are killed with SIGKILL at random moments, again and
# again, with small batches so that the kills land inside commits; then
# passes run until staging is drained. After every kill and at the end,
# scripts/check-invariants.py: each content in the partitions once, every
# partition file with exactly one manifest record, nothing staged lost.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/cephfs_lib.sh"

ceph_start
IN=$SHARE/single/input
WH=$SHARE/single/warehouse
MF=$SHARE/single/manifests
ST=$SHARE/single/state
flags=(--input "$IN" --warehouse "$WH" --manifests "$MF" --state-path "$ST"
       --stability-seconds 0 --concurrency 2)

# A pass over 300 files in batches of 1 to 4 takes seconds here, so kills
# within the first second mostly land in a commit; when staging drains
# before six kills landed, another round is staged.
round=0
stage() {
  round=$((round + 1))
  stage_files "$MNT1/single/input" "r$round" 300
}
stage
for _ in $(seq 1 16); do
  [[ $KILLS -lt 6 ]] || break
  [[ $(candidates_left "$MNT1/single/input") -gt 0 ]] || stage
  killed_pass 1 $((100 + RANDOM % 900)) "${flags[@]}" --batch-size $((RANDOM % 4 + 1))
  check_invariants 1 "$WH" "$MF" --staging "$IN" --phase partial --allow-torn
done
[[ $KILLS -ge 6 ]] || fail "only $KILLS of the passes were still running when killed"

for _ in $(seq 1 10); do
  clean_pass 1 "${flags[@]}" --batch-size 50
  [[ $RC -eq 0 ]] || { show_pass_log; fail "a pass after the kills exited $RC"; }
  [[ $(candidates_left "$MNT1/single/input") -gt 0 ]] || break
done
check_invariants 1 "$WH" "$MF" --staging "$IN" --phase complete
note "$KILLS kills, $(grep -l ' recovery: ' "$PASS_LOGS"/*.log | count_lines) passes recovered an interrupted commit; $LAST_CHECK"

# Nothing is left open: a further pass changes nothing.
clean_pass 1 "${flags[@]}"
[[ $RC -eq 0 ]] || { show_pass_log; fail "the idle pass exited $RC"; }
assert_eq 0 "$(pass_summary recovered)" "commits recovered by the idle pass"
assert_eq 0 "$(pass_summary files_ingested)" "files ingested by the idle pass"
assert_eq 0 "$(pass_summary duplicates)" "duplicates found by the idle pass"
