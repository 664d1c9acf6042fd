#!/usr/bin/env bash
# Hidden files, temporary names (.tmp, .part, .swp) and .ok sidecars are
# never ingested, in either mode; they stay in staging untouched.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ignored=(.hidden.csv .hidden a.tmp a.csv.tmp b.part c.swp .c.csv.swp orphan.csv.ok)
make_files() {
  local f
  for f in "${ignored[@]}" good.csv; do printf 'content of %s\n' "$f" >"$IN/$f"; done
  touch -d '2020-01-01 00:00:00' "$IN"/* "$IN"/.[!.]*
}
check_ignored() {
  local f
  for f in "${ignored[@]}"; do
    assert_file "$IN/$f"
    assert_eq "content of $f" "$(cat "$IN/$f")" "content of $IN/$f"
  done
  if [[ -n "$(find "$WH" -path "$WH/.atomic-ingest-claims" -prune -o \( -name '.*' ! -name .atomic-ingest-tmp -o -name '*.tmp' -o -name '*.part' -o -name '*.swp' -o -name '*.ok' \) -print)" ]]; then
    fail "an ignored name reached the warehouse: $(find "$WH" -mindepth 1)"
  fi
}

note "stability mode"
new_roots stability
make_files
run_ingest --stability-seconds 0 --dry-run
assert_rc 0
for f in "${ignored[@]}"; do assert_matches "$OUT" "^skip $IN/${f//./\\.}: " "dry-run plan for $f"; done
assert_contains "$OUT" "ingest $IN/good.csv -> " "dry-run plan for good.csv"
run_ingest --stability-seconds 0
assert_rc 0
assert_summary files_ingested 1
assert_summary skipped ${#ignored[@]}
assert_ingested_count 1
assert_file "$(partition_dir)/good.csv"
assert_missing "$IN/good.csv"
check_ignored
assert_manifest_records 1

note "sidecar mode, with a .ok beside every ignored name"
new_roots sidecar
make_files
for f in "${ignored[@]}" good.csv; do
  [[ $f == *.ok ]] || : >"$IN/$f.ok"
done
run_ingest --mode sidecar
assert_rc 0
assert_summary files_ingested 1
assert_ingested_count 1
assert_file "$(partition_dir)/good.csv"
assert_missing "$IN/good.csv"
assert_missing "$IN/good.csv.ok"
check_ignored
for f in "${ignored[@]}"; do
  [[ $f == *.ok ]] || assert_file "$IN/$f.ok"
done
assert_manifest_records 1
