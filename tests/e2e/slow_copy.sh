#!/usr/bin/env bash
# A file that is still being written (one open descriptor, appended in
# chunks) is never ingested partially: passes run throughout the copy and the
# warehouse ends up with exactly the full content, recorded once.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

chunks=8
for i in $(seq 1 $chunks); do head -c 65536 /dev/urandom >"$T/chunk.$i"; done
cat "$T"/chunk.{1..8} >"$T/full"

# The writer keeps one descriptor open, as cp or an upload agent would, so
# a premature move would carry on growing in the warehouse: hence the
# manifest's size and sha256 are checked against the full content too.
(
  for i in $(seq 1 $chunks); do cat "$T/chunk.$i"; sleep 0.5; done
) >"$IN/slow.csv" &
writer=$!
on_exit "kill $writer 2>/dev/null; wait $writer 2>/dev/null"

passes_during_write=0
done_ingesting=false
for _ in $(seq 1 120); do
  writing=false
  kill -0 "$writer" 2>/dev/null && writing=true
  run_ingest --stability-seconds 2
  assert_rc 0
  if $writing; then
    passes_during_write=$((passes_during_write + 1))
    if [[ -n "$(ingested_files)" ]] && kill -0 "$writer" 2>/dev/null; then
      fail "slow.csv was ingested while its writer was still appending"
    fi
  fi
  if ! $writing && [[ -n "$(ingested_files)" ]]; then
    done_ingesting=true
    break
  fi
  sleep 0.25
done
wait "$writer"
$done_ingesting || fail "slow.csv was not ingested within 120 passes after its writer finished"
[[ $passes_during_write -ge 1 ]] || fail "no pass ran while the file was being written"
note "$passes_during_write passes ran while the file was being written"

assert_ingested_count 1
dest=$(ingested_files)
assert_eq "slow.csv" "$(basename "$dest")" "warehouse file name"
assert_same_content "$T/full" "$dest"
assert_missing "$IN/slow.csv"
assert_eq "" "$(staged_files)" "files left in staging"
assert_duplicate_count 0
assert_manifest_records 1
assert_eq "$(sha_of "$T/full")" "$(manifest_field sha256)" "manifest sha256"
assert_eq "$(wc -c <"$T/full")" "$(manifest_field size)" "manifest size"
assert_eq "$dest" "$(manifest_field path)" "manifest path"
