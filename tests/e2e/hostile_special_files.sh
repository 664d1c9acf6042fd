#!/usr/bin/env bash
# Staging holds everything that is not a regular file: symlinks (to a file,
# to a directory, dangling), a FIFO, a UNIX socket, a character device and
# directories with data-like names (x.csv/, one holding files). None of them
# is opened, followed, moved or changed, in either mode, and the pass does not
# block; the plain files beside them are ingested.
source "$(dirname "${BASH_SOURCE[0]}")/hostile_lib.sh"
require_root
INGEST_TIMEOUT=20

mkdir "$T/outside"
printf 'the target\n' >"$T/outside/target.csv"
cp -p "$T/outside/target.csv" "$T/target.expected"
ln -s "$T/outside/target.csv" "$IN/link.csv"
ln -s "$T/outside" "$IN/dirlink.csv"
ln -s "$T/outside/missing.csv" "$IN/dangling.csv"
ln -s "link.csv" "$IN/relative-link.csv"
mkfifo "$IN/fifo.csv"
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$IN/socket.csv" ||
  fail "cannot bind a UNIX socket in $IN"
mknod "$IN/device.csv" c 1 3 2>/dev/null || skip "mknod cannot make a device node here"
mkdir "$IN/empty.csv" "$IN/x.csv"
printf 'inside a directory\n' >"$IN/x.csv/inner.csv"
printf 'a plain file\n' >"$IN/plain.csv"
printf 'another plain file\n' >"$IN/plain2.log"
special=(link.csv dirlink.csv dangling.csv relative-link.csv fifo.csv socket.csv device.csv empty.csv x.csv)
tree_listing "$T/outside" >"$T/outside.before"

check_untouched() {
  assert_eq "$T/outside/target.csv" "$(readlink "$IN/link.csv")" "link.csv target"
  assert_eq "$T/outside" "$(readlink "$IN/dirlink.csv")" "dirlink.csv target"
  assert_eq "$T/outside/missing.csv" "$(readlink "$IN/dangling.csv")" "dangling.csv target"
  assert_eq "link.csv" "$(readlink "$IN/relative-link.csv")" "relative-link.csv target"
  [[ -p "$IN/fifo.csv" ]] || fail "expected a FIFO at $IN/fifo.csv, found $(describe "$IN/fifo.csv")"
  [[ -S "$IN/socket.csv" ]] || fail "expected a socket at $IN/socket.csv, found $(describe "$IN/socket.csv")"
  [[ -c "$IN/device.csv" ]] || fail "expected a character device at $IN/device.csv, found $(describe "$IN/device.csv")"
  assert_eq "1,3" "$(stat -c '%t,%T' "$IN/device.csv")" "device numbers of device.csv"
  [[ -d "$IN/empty.csv" && ! -L "$IN/empty.csv" ]] || fail "expected a directory at $IN/empty.csv"
  [[ -d "$IN/x.csv" && ! -L "$IN/x.csv" ]] || fail "expected a directory at $IN/x.csv"
  assert_eq 'inside a directory' "$(cat "$IN/x.csv/inner.csv")" "content of x.csv/inner.csv"
  assert_same_content "$T/target.expected" "$T/outside/target.csv"
  tree_listing "$T/outside" >"$T/outside.after"
  cmp -s "$T/outside.before" "$T/outside.after" || fail "the symlink targets changed: $(diff "$T/outside.before" "$T/outside.after")"
  # Only the plain files ever reach the warehouse, under no other name.
  assert_eq "" "$(find "$WH" -mindepth 1 -path "$WH/.atomic-ingest-claims" -prune -o ! -type d ! -name plain.csv ! -name plain2.log -print)" \
    "other entries in the warehouse"
  assert_eq "" "$(find "$WH" -mindepth 1 -path "$WH/.atomic-ingest-claims" -prune -o ! -type d ! -type f -print)" "non-regular entries in the warehouse"
}

note "stability mode"
run_ingest --stability-seconds 0
[[ $RC != 124 ]] || fail "the pass blocked (killed after ${INGEST_TIMEOUT}s)"
assert_rc 0
assert_summary files_ingested 2
assert_summary skipped ${#special[@]}
assert_summary failed 0
assert_ingested_count 2
assert_file "$(partition_dir)/plain.csv"
assert_file "$(partition_dir)/plain2.log"
check_untouched
assert_manifest_records 2
assert_warehouse_consistent

note "sidecar mode, each special entry with a .ok beside it"
for f in "${special[@]}"; do printf '%s\n' "$(printf x | sha256sum | cut -d' ' -f1)" >"$IN/$f.ok"; done
run_ingest --mode sidecar
[[ $RC != 124 ]] || fail "the sidecar pass blocked (killed after ${INGEST_TIMEOUT}s)"
assert_rc 0
assert_summary files_ingested 0
assert_summary failed 0
check_untouched
for f in "${special[@]}"; do assert_file "$IN/$f.ok"; done
assert_ingested_count 2
assert_manifest_records 2

note "a dry run lists them as skipped without touching them"
run_ingest --stability-seconds 0 --dry-run
assert_rc 0
for f in "${special[@]}"; do assert_contains "$OUT" "skip $IN/$f: " "dry-run output"; done
check_untouched
