#!/usr/bin/env bash
# Symlinks (live or dangling), FIFOs and directories in staging are skipped,
# in both modes: the pass does not block on a FIFO, and a symlink's target is
# never moved or changed.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
INGEST_TIMEOUT=20

mkdir "$T/outside"
printf 'the target\n' >"$T/outside/target.csv"
cp -p "$T/outside/target.csv" "$T/target.expected"
ln -s "$T/outside/target.csv" "$IN/link.csv"
ln -s "$T/outside/missing.csv" "$IN/dangling.csv"
ln -s "$T/outside" "$IN/dirlink.csv"
mkfifo "$IN/fifo.csv"
mkdir "$IN/dir.csv"
printf 'inside a directory\n' >"$IN/dir.csv/inner.csv"
printf 'a plain file\n' >"$IN/plain.csv"
special=(link.csv dangling.csv dirlink.csv fifo.csv dir.csv)

check_untouched() {
  assert_eq "$T/outside/target.csv" "$(readlink "$IN/link.csv")" "link.csv target"
  assert_eq "$T/outside/missing.csv" "$(readlink "$IN/dangling.csv")" "dangling.csv target"
  assert_eq "$T/outside" "$(readlink "$IN/dirlink.csv")" "dirlink.csv target"
  [[ -p "$IN/fifo.csv" ]] || fail "expected a FIFO at $IN/fifo.csv, found $(describe "$IN/fifo.csv")"
  [[ -d "$IN/dir.csv" && ! -L "$IN/dir.csv" ]] || fail "expected a directory at $IN/dir.csv, found $(describe "$IN/dir.csv")"
  assert_eq 'inside a directory' "$(cat "$IN/dir.csv/inner.csv")" "content of dir.csv/inner.csv"
  assert_same_content "$T/target.expected" "$T/outside/target.csv"
  assert_eq "$(stat -c '%Y %a' "$T/target.expected")" \
    "$(stat -c '%Y %a' "$T/outside/target.csv")" "target mtime and mode"
  assert_eq "" "$(find "$WH" -mindepth 1 -path "$WH/.atomic-ingest-claims" -prune -o ! -type d ! -name plain.csv -print)" "other entries in the warehouse"
}

run_ingest --stability-seconds 0
[[ $RC != 124 ]] || fail "the pass blocked (killed after ${INGEST_TIMEOUT}s)"
assert_rc 0
assert_summary files_ingested 1
assert_summary skipped ${#special[@]}
assert_ingested_count 1
assert_file "$(partition_dir)/plain.csv"
check_untouched
assert_manifest_records 1

note "sidecar mode, each with a .ok"
for f in "${special[@]}"; do : >"$IN/$f.ok"; done
run_ingest --mode sidecar
[[ $RC != 124 ]] || fail "the sidecar pass blocked (killed after ${INGEST_TIMEOUT}s)"
assert_rc 0
assert_summary files_ingested 0
check_untouched
for f in "${special[@]}"; do assert_file "$IN/$f.ok"; done
assert_ingested_count 1
assert_manifest_records 1
