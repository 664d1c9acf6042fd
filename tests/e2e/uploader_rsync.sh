#!/usr/bin/env bash
# rsync as uploaders run it: cron's `rsync -a src/ staging/` sends every
# file again on each run, so one name arrives with one content many times a
# day; a retention job may have removed the warehouse copy meanwhile; and a
# transfer may be cut off. Each delivery is ingested exactly once, a
# re-delivery never fails a pass, and the last copy of a content is never
# destroyed.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v rsync >/dev/null || fail "rsync is not installed (scripts/deps installs it)"

mkdir -p "$T/src"
printf 'id,v\n1,a\n' >"$T/src/a.csv"
printf 'id,v\n2,b\n' >"$T/src/b.csv"
head -c 300000 /dev/urandom >"$T/src/c.bin"

# One cron run: rsync, then a pass.
cron_run() {  # [INGEST OPTION...]
  rsync -a "$T/src/" "$IN/"
  run_ingest --stability-seconds 0 "$@"
  [[ $RC -eq 0 ]] || { show_last_run; fail "pass after rsync exited $RC"; }
  assert_eq "" "$(staged_files)" "staging after the pass"
}

note "six deliveries of the same files in one day"
new_roots cron
for i in 1 2 3 4 5 6; do
  cron_run
  if [[ $i -eq 1 ]]; then
    assert_summary files_ingested 3
  else
    assert_summary files_ingested 0
    assert_summary duplicates 3
    assert_summary failed 0
  fi
done
assert_ingested_count 3
assert_manifest_records 3
# The first quarantined copy keeps its name and the second takes the
# full-sha256 name; later copies find their content there and are removed.
assert_duplicate_count 6
for f in a.csv b.csv c.bin; do
  assert_same_content "$T/src/$f" "$(partition_dir)/$f"
done
assert_warehouse_consistent
"$ATOMIC_INGEST" verify --warehouse "$WH" --manifests "$MF" >"$T/verify" 2>&1 ||
  fail "verify after the deliveries: $(cat "$T/verify")"

note "a retention job removed a.csv; the next delivery ingests it again"
part=$(partition_dir)
rm "$part/a.csv"
cron_run
assert_summary files_ingested 1
assert_summary duplicates 2
assert_contains "$ERR" "no longer in the warehouse; ingesting it again" "warning"
assert_same_content "$T/src/a.csv" "$part/a.csv"
assert_manifest_records 4
assert_eq "$part/a.csv" "$(manifest_field reingest_of | grep . || true)" "reingest_of of the new record"
assert_warehouse_consistent
"$ATOMIC_INGEST" verify --warehouse "$WH" --manifests "$MF" >"$T/verify" 2>&1 ||
  fail "verify after the re-ingest: $(cat "$T/verify")"

note "--on-duplicate delete never deletes the last copy"
new_roots delete
cron_run --on-duplicate delete
part=$(partition_dir)
rm "$part/b.csv" "$part/c.bin"
cron_run --on-duplicate delete
assert_summary files_ingested 2
assert_summary duplicates 1
assert_same_content "$T/src/b.csv" "$part/b.csv"
assert_same_content "$T/src/c.bin" "$part/c.bin"
assert_duplicate_count 0
cron_run --on-duplicate delete
assert_summary duplicates 3
assert_warehouse_consistent

note "an rsync cut off mid-transfer leaves nothing a pass takes (default and --partial-dir)"
head -c 3000000 /dev/urandom >"$T/big.bin"
for mode in default partial-dir; do
  new_roots "cut-$mode"
  opts=(--bwlimit=500)
  [[ $mode == partial-dir ]] && opts+=(--partial-dir=.rsync-partial)
  rsync "${opts[@]}" "$T/big.bin" "$IN/" &
  pid=$!
  for _ in $(seq 100); do
    [[ -n $(find "$IN" -mindepth 1 -type f -size +0) ]] && break
    sleep 0.05
  done
  run_ingest --stability-seconds 0
  assert_rc 0
  assert_ingested_count 0
  # SIGTERM: rsync's own cleanup (and, with --partial-dir, its partial file).
  kill -TERM "$pid"
  wait "$pid" || true
  run_ingest --stability-seconds 0
  assert_rc 0
  assert_ingested_count 0
  [[ ! -e "$IN/big.bin" ]] || fail "$mode: a cut-off rsync left big.bin under its final name"
  # The next run completes it.
  rsync "${opts[@]/--bwlimit=500/--bwlimit=0}" "$T/big.bin" "$IN/"
  run_ingest --stability-seconds 0
  assert_rc 0
  assert_summary files_ingested 1
  assert_same_content "$T/big.bin" "$(partition_dir)/big.bin"
done
