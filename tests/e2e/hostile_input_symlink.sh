#!/usr/bin/env bash
# --input given as a symlink to the staging directory works: it is resolved
# once, at start, and the records name the real directory. A symlinked
# subdirectory inside staging is never followed. And when the staging
# directory is replaced by a symlink to another directory in the middle of
# a pass (strace holds the pass at the open of the staged file), the pass
# goes on with the directory it opened: the other directory is not touched
# by that pass.
source "$(dirname "${BASH_SOURCE[0]}")/hostile_lib.sh"
require_strace_inject

note "--input is a symlink"
real=$IN
ln -s "$real" "$T/staging-link"
mkdir "$T/outside"
printf 'outside staging\n' >"$T/outside/inner.csv"
ln -s "$T/outside" "$real/sub"
ln -s "$T/outside" "$real/sub.csv"
tree_listing "$T/outside" >"$T/outside.before"
printf 'through the link\n' >"$real/a.csv"
cp "$real/a.csv" "$T/a.expected"
IN=$T/staging-link
run_ingest --stability-seconds 0
assert_rc 0
assert_summary files_ingested 1
assert_summary skipped 2
assert_same_content "$T/a.expected" "$(partition_dir)/a.csv"
assert_eq "$(realpath "$real")/a.csv" "$(manifest_field source)" "recorded source"
assert_eq "$real" "$(readlink "$T/staging-link")" "the --input symlink"
assert_eq "$T/outside" "$(readlink "$real/sub")" "the subdirectory symlink"
tree_listing "$T/outside" >"$T/outside.after"
cmp -s "$T/outside.before" "$T/outside.after" || fail "the symlinked subdirectory changed"
assert_warehouse_consistent

note "the staging directory is replaced by a symlink during a pass"
new_roots swapped
real=$(realpath "$IN")
mkdir "$T/decoy"
printf 'in the decoy\n' >"$T/decoy/decoy.csv"
tree_listing "$T/decoy" >"$T/decoy.before"
printf 'staged before the swap\n' >"$real/a.csv"
cp "$real/a.csv" "$T/swapped.expected"
start_traced -P "$real" -e trace=openat -e inject=openat:delay_enter=2000000 -- --stability-seconds 0
wait_for_log 'openat\([0-9]+, "a.csv"'
mv "$real" "$real.old"
ln -s "$T/decoy" "$real"
finish_traced
assert_rc 0
assert_summary files_ingested 1
assert_same_content "$T/swapped.expected" "$(partition_dir)/a.csv"
assert_missing "$real.old/a.csv"
tree_listing "$T/decoy" >"$T/decoy.after"
cmp -s "$T/decoy.before" "$T/decoy.after" || fail "the pass touched the directory swapped in: $(diff "$T/decoy.before" "$T/decoy.after")"
assert_manifest_records 1
assert_warehouse_consistent
