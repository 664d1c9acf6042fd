#!/usr/bin/env bash
# When a durability barrier fails (syncfs of the roots, or fdatasync of the
# manifest), the batch does not commit: the pass exits 1 with an error, every
# staged file is back in staging, and no manifest record is left behind (nor
# one for a file that is not in the warehouse). The next pass ingests every
# file exactly once. The failures are injected with strace.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/strace_lib.sh"
require_strace_inject syncfs:error=EIO

contents=(alpha beta gamma)

# Checksums of the non-empty manifests: a rollback may leave an empty file.
manifest_sums() {
  [[ -d "$MF" ]] || return 0
  find "$MF" -type f -size +0 -exec sha256sum {} + | LC_ALL=C sort
}

# Fresh roots named LABEL, with a first file already ingested when
# WITH_EARLIER is 1, and the three contents staged.
prepare() {  # LABEL WITH_EARLIER
  new_roots "$1"
  if [[ $2 == 1 ]]; then
    printf 'earlier\n' >"$IN/earlier.csv"
    run_ingest --stability-seconds 0 --concurrency 1
    assert_rc 0
    assert_manifest_records 1
  fi
  local c
  for c in "${contents[@]}"; do printf '%s\n' "$c" >"$IN/$c.csv"; done
  manifest_sums >"$T/manifests.before"
}

# The injected pass failed and left everything as it was before it.
assert_nothing_committed() {  # EARLIER_RECORDS
  assert_rc 1 "exit code of the pass with a failed barrier"
  assert_contains "$T/strace.log" "(INJECTED)" "strace log (was the failure injected?)"
  assert_matches "$ERR" '^[^ ]+ error .*Input/output error' "stderr of the failed pass"
  local c
  for c in "${contents[@]}"; do
    assert_eq "$c" "$(cat "$IN/$c.csv" 2>/dev/null)" "content of $IN/$c.csv after the failed pass"
  done
  assert_eq "${#contents[@]}" "$(staged_files | count_lines)" "files in staging after the failed pass"
  assert_ingested_count "$1"
  assert_duplicate_count 0
  assert_manifest_records "$1"
  assert_warehouse_consistent
  manifest_sums >"$T/manifests.after"
  if ! cmp -s "$T/manifests.before" "$T/manifests.after"; then
    diff "$T/manifests.before" "$T/manifests.after" >&2 || true
    fail "the failed pass changed the manifests"
  fi
}

# A pass without injection ingests every staged file, once.
assert_next_pass_completes() {  # EARLIER_RECORDS
  local total=$(($1 + ${#contents[@]})) c
  run_ingest --stability-seconds 0 --concurrency 1
  assert_rc 0 "exit code of the pass after the failure"
  assert_summary files_ingested "${#contents[@]}"
  assert_summary failed 0
  assert_eq "" "$(staged_files)" "files left in staging"
  for c in "${contents[@]}"; do
    assert_eq "$c" "$(cat "$(partition_dir)/$c.csv" 2>/dev/null)" "content of the ingested $c.csv"
  done
  assert_ingested_count "$total"
  assert_duplicate_count 0
  assert_manifest_records "$total"
  assert_eq "$total" "$(manifest_field sha256 | sort -u | count_lines)" "distinct sha256 in the manifest"
  assert_warehouse_consistent
  # And nothing is left for a later pass to do twice.
  run_ingest --stability-seconds 0 --concurrency 1
  assert_rc 0
  assert_summary files_ingested 0
  assert_summary recovered 0
  assert_manifest_records "$total"
}

# syncfs of a fresh layout, in order: before the intents (staging), after
# the renames (both roots), after the first manifest append (new manifest
# directories). Each one failing must stop the batch.
for when in 1 2 3; do
  note "syncfs number $when fails"
  prepare "syncfs_$when" 0
  run_traced -e trace=syncfs -e "inject=syncfs:error=EIO:when=$when" -- \
    --stability-seconds 0 --concurrency 1
  assert_nothing_committed 0
  assert_next_pass_completes 0
done

# The same after an earlier pass: the manifest already exists and holds a
# record that must survive the rollback byte for byte.
for when in 1 2; do
  note "syncfs number $when fails, after an earlier pass"
  prepare "syncfs_earlier_$when" 1
  run_traced -e trace=syncfs -e "inject=syncfs:error=EIO:when=$when" -- \
    --stability-seconds 0 --concurrency 1
  assert_nothing_committed 1
  assert_next_pass_completes 1
done

# fdatasync of the manifest file only (LevelDB fdatasyncs its own files):
# -P limits tracing, and so injection, to calls on the manifests of this
# hour and the next, in case the pass straddles the hour.
manifest_paths() {
  local root now h
  root=$(realpath -m "$MF")
  now=$(date -u +%s)
  for h in "$now" $((now + 3600)); do
    echo "-P"
    echo "$root/$(date -u -d "@$h" +%Y/%m/%d/%H)/manifest.jsonl"
  done
}
for earlier in 0 1; do
  note "fdatasync of the manifest fails (earlier pass: $earlier)"
  prepare "fdatasync_$earlier" "$earlier"
  mapfile -t only_manifests < <(manifest_paths)
  run_traced -y "${only_manifests[@]}" -e trace=fdatasync -e inject=fdatasync:error=EIO:when=1 -- \
    --stability-seconds 0 --concurrency 1
  assert_contains "$T/strace.log" "manifest.jsonl" "strace log (was the manifest's fdatasync the one that failed?)"
  assert_nothing_committed "$earlier"
  assert_next_pass_completes "$earlier"
done
