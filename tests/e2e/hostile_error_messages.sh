#!/usr/bin/env bash
# The error of a failed file names the staged file and the cause, and its
# paths are written as the operator gave them (no "/./"). Failing today
# (see the report in the final message):
#
#   - a copy into a full or read-only warehouse reports only the temp copy
#     (".atomic-ingest-tmp/<pid>.<n>.copy"), not which staged file failed;
#   - a partition directory that cannot be created is reported once per
#     file without naming the file, and as "<warehouse>/./ingest_date=...";
#   - a state directory nobody may write is reported as LevelDB's
#     "NotFound: .../db/LOCK: No such file or directory", not as
#     "Permission denied";
#   - a state directory that cannot be created is named "/./<path>".
HOSTILE_PRIVATE_MOUNTS=1
source "$(dirname "${BASH_SOURCE[0]}")/hostile_lib.sh"
require_nobody

assert_no_dot_segments() {
  assert_not_contains "$ERR" "/./" "paths in the errors"
}

note "warehouse full: the error names the staged file"
new_roots full
mount_tmpfs "$T/full/fs" size=1m
WH=$T/full/fs/warehouse
head -c $((2 * 1024 * 1024)) /dev/urandom >"$IN/big.bin"
run_ingest --stability-seconds 0
assert_rc 1
assert_error_names -c "No space left on device" "$IN/big.bin"

note "read-only warehouse: the error names the staged file"
new_roots read_only
mount_tmpfs "$T/read_only/fs" size=8m
WH=$T/read_only/fs/warehouse
printf 'first\n' >"$IN/first.csv"
run_ingest --stability-seconds 0
assert_rc 0
mount -o remount,ro "$T/read_only/fs"
printf 'second\n' >"$IN/second.csv"
run_ingest --stability-seconds 0
assert_rc 1
assert_error_names -c "Read-only file system" "$IN/second.csv"

note "warehouse nobody cannot write: each error names its file"
new_roots unwritable
mkdir -p "$WH"
printf 'one\n' >"$IN/one.csv"
printf 'two\n' >"$IN/two.csv"
give_roots_to_nobody "$WH"
run_ingest_as_nobody --stability-seconds 0
assert_rc 1
assert_error_names -c "Permission denied" "$IN/one.csv" "$IN/two.csv"
assert_no_dot_segments

note "state directory nobody cannot write: the cause is Permission denied"
new_roots state
mkdir -p "$ST"
printf 'one\n' >"$IN/one.csv"
give_roots_to_nobody "$ST"
run_ingest_as_nobody --stability-seconds 0
assert_rc 1
assert_error_names -c "Permission denied" "$ST"

note "state directory that cannot be created: its path as given"
new_roots state_parent
printf 'one\n' >"$IN/one.csv"
give_roots_to_nobody
mkdir "$T/root-only"
ST=$T/root-only/state
run_ingest_as_nobody --stability-seconds 0
assert_rc 1
assert_error_names -c "Permission denied" "$ST"
assert_no_dot_segments
