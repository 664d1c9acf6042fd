#!/usr/bin/env bash
# Files that change under the pass, staging and warehouse on one
# filesystem. strace holds the pass at one syscall (a delay injected on
# entry) while the test changes the file, so each race is hit every time:
#
#   - appended between the scan's stat and the open: deferred, ingested
#     whole by the next pass;
#   - appended while being hashed (the first read held): deferred, likewise;
#   - swapped for a symlink, or for a FIFO, between the scan and the open:
#     nothing is followed or blocks, the moved-away file is untouched;
#   - replaced by another file after hashing, before the pre-move check
#     (the first syncfs held): the hashed content is not moved, the
#     replacement is ingested by the next pass;
#   - replaced by another file between the pre-move check and the rename
#     (the first renameat2 held): the wrong inode is moved back, an error
#     names the file, exit 1, the replacement is ingested by the next pass.
#
# Last, a slow writer appends while passes run with a stability window:
# no pass takes the file while it grows, and once it stops the file is
# ingested once, whole.
#
# Every outcome ends with the warehouse and the manifests agreeing (each
# record's file holds its recorded sha256; no unrecorded file).
source "$(dirname "${BASH_SOURCE[0]}")/hostile_lib.sh"
require_strace_inject
INGEST_TIMEOUT=30
hold=2000000  # microseconds strace holds the pass

# The next pass ingests what is in staging: NAME with the content of
# EXPECTED, once, and the warehouse stays consistent.
assert_next_pass_ingests() {  # NAME EXPECTED_FILE
  run_ingest --stability-seconds 0
  assert_rc 0 "exit code of the pass after the race"
  assert_summary files_ingested 1
  assert_summary failed 0
  assert_missing "$IN/$1"
  assert_same_content "$2" "$(partition_dir)/$1"
  assert_ingested_count 1
  assert_manifest_records 1
  assert_warehouse_consistent
  assert_eq "$(sha_of "$2")" "$(manifest_field sha256)" "recorded sha256"
}

# The held pass changed nothing: exit 0, nothing ingested, no record.
assert_deferred_untouched() {
  assert_rc 0 "exit code of the raced pass"
  assert_summary files_ingested 0
  assert_summary failed 0
  assert_ingested_count 0
  assert_manifest_records 0
}

note "appended between the scan and the open"
new_roots scan_open
printf 'first part\n' >"$IN/a.csv"
# -P: only the openat calls on the staging directory are traced and held:
# its own open, then the file's (relative to the directory's descriptor).
start_traced -P "$IN" -e trace=openat -e "inject=openat:delay_enter=$hold" -- --stability-seconds 0
wait_for_log 'openat\([0-9]+, "a.csv"'
printf 'second part\n' >>"$IN/a.csv"
cp "$IN/a.csv" "$T/scan_open.expected"
finish_traced
assert_contains "$T/strace.log" 'openat(' "strace log"
assert_deferred_untouched
assert_summary deferred 1
assert_same_content "$T/scan_open.expected" "$IN/a.csv"
assert_next_pass_ingests a.csv "$T/scan_open.expected"

note "appended while being hashed"
new_roots hashing
head -c 100000 /dev/urandom >"$IN/a.csv"
start_traced -P "$IN/a.csv" -e trace=read -e "inject=read:delay_enter=$hold" -- --stability-seconds 0
wait_for_log '^[0-9]+ +read\('
printf 'appended during the hash\n' >>"$IN/a.csv"
cp "$IN/a.csv" "$T/hashing.expected"
finish_traced
assert_deferred_untouched
assert_summary deferred 1
assert_same_content "$T/hashing.expected" "$IN/a.csv"
assert_next_pass_ingests a.csv "$T/hashing.expected"

note "swapped for a symlink between the scan and the open"
new_roots symlink
printf 'moved away\n' >"$IN/a.csv"
cp -p "$IN/a.csv" "$T/symlink.expected"
start_traced -P "$IN" -e trace=openat -e "inject=openat:delay_enter=$hold" -- --stability-seconds 0
wait_for_log 'openat\([0-9]+, "a.csv"'
mv "$IN/a.csv" "$T/moved.csv"
ln -s "$T/moved.csv" "$IN/a.csv"
finish_traced
assert_deferred_untouched
assert_same_content "$T/symlink.expected" "$T/moved.csv"
assert_eq "$T/moved.csv" "$(readlink "$IN/a.csv")" "the symlink in staging"
run_ingest --stability-seconds 0
assert_rc 0
assert_summary files_ingested 0
assert_summary skipped 1
assert_same_content "$T/symlink.expected" "$T/moved.csv"

note "swapped for a FIFO between the scan and the open"
new_roots fifo
printf 'moved away\n' >"$IN/a.csv"
start_traced -P "$IN" -e trace=openat -e "inject=openat:delay_enter=$hold" -- --stability-seconds 0
wait_for_log 'openat\([0-9]+, "a.csv"'
mv "$IN/a.csv" "$T/fifo-moved.csv"
mkfifo "$IN/a.csv"
finish_traced
[[ $RC != 124 ]] || fail "the pass blocked on the FIFO"
assert_deferred_untouched
[[ -p "$IN/a.csv" ]] || fail "expected the FIFO at $IN/a.csv, found $(describe "$IN/a.csv")"

note "replaced by another file after hashing, before the pre-move check"
new_roots before_check
printf 'hashed content\n' >"$IN/a.csv"
printf 'replacement content\n' >"$T/replacement.csv"
cp "$T/replacement.csv" "$T/before_check.expected"
start_traced -e trace=syncfs -e "inject=syncfs:delay_enter=$hold:when=1" -- --stability-seconds 0
wait_for_log 'syncfs\('
mv "$T/replacement.csv" "$IN/a.csv"
finish_traced
assert_deferred_untouched
assert_same_content "$T/before_check.expected" "$IN/a.csv"
assert_next_pass_ingests a.csv "$T/before_check.expected"

note "replaced by another file between the pre-move check and the rename"
new_roots before_rename
printf 'hashed content\n' >"$IN/a.csv"
printf 'replacement content\n' >"$T/replacement.csv"
cp "$T/replacement.csv" "$T/before_rename.expected"
start_traced -e trace=renameat2 -e "inject=renameat2:delay_enter=$hold:when=1" -- --stability-seconds 0
wait_for_log 'renameat2\([0-9]+, "a.csv"'
mv "$T/replacement.csv" "$IN/a.csv"
finish_traced
assert_rc 1 "exit code of the pass that moved the wrong inode"
assert_error_names "$IN/a.csv"
assert_matches "$ERR" 'error .*a\.csv.*replaced' "stderr of the raced pass"
assert_summary files_ingested 0
assert_ingested_count 0
assert_manifest_records 0
assert_same_content "$T/before_rename.expected" "$IN/a.csv"
assert_next_pass_ingests a.csv "$T/before_rename.expected"

note "a slow writer appends while passes run with a 3 s window"
new_roots slow_writer
: >"$IN/growing.csv"
(
  exec 3>>"$IN/growing.csv"
  for i in $(seq 1 30); do
    printf 'line %d\n' "$i" >&3
    sleep 0.1
  done
  : >"$T/writer.done"
) &
writer=$!
on_exit "kill $writer 2>/dev/null; wait $writer 2>/dev/null"
passes=0
while [[ ! -e "$T/writer.done" ]]; do
  run_ingest --stability-seconds 3
  assert_rc 0 "exit code of a pass during the writes"
  assert_summary files_ingested 0
  assert_ingested_count 0
  passes=$((passes + 1))
done
wait "$writer"
note "$passes passes while the file grew"
[[ $passes -ge 2 ]] || fail "expected at least 2 passes while the writer ran, found $passes"
cp "$IN/growing.csv" "$T/growing.expected"
assert_eq 30 "$(count_lines <"$T/growing.expected")" "lines written"
sleep 3.2
run_ingest --stability-seconds 3
assert_rc 0
assert_summary files_ingested 1
assert_same_content "$T/growing.expected" "$(partition_dir)/growing.csv"
assert_manifest_records 1
assert_warehouse_consistent
