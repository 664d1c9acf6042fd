#!/usr/bin/env bash
# A state database that LevelDB finds corrupt stops the pass before anything
# leaves staging, with one error line naming the database. rebuild-state
# then rebuilds it from the manifests, keeping the corrupt one aside as
# db.replaced-<time>, and the next pass works: content ingested before is
# a duplicate, new content is ingested.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Writes N bytes that look random but are the same on every run.
noise() {  # N
  python3 -c 'import random, sys; random.seed(20240601); sys.stdout.buffer.write(random.randbytes(int(sys.argv[1])))' "$1"
}

# The only file of $ST/db matching GLOB.
db_file() {  # GLOB
  local files=("$ST"/db/$1)
  [[ ${#files[@]} -eq 1 ]] || fail "expected one $1 in $ST/db, found ${#files[@]}: $(ls "$ST/db")"
  echo "${files[0]}"
}

corrupt() {  # MODE: prints the path of the corrupted file
  local f
  case $1 in
    current_garbage)
      f=$ST/db/CURRENT
      noise 40 >"$f" ;;
    current_missing_manifest)
      f=$ST/db/CURRENT
      printf 'MANIFEST-999999\n' >"$f" ;;
    manifest_noise)
      f=$(db_file 'MANIFEST-*')
      noise "$(stat -c %s "$f")" >"$f.new" && mv "$f.new" "$f" ;;
    manifest_truncated)
      f=$(db_file 'MANIFEST-*')
      truncate -s 10 "$f" ;;
    table_noise)
      f=$(db_file '*.ldb')
      noise "$(stat -c %s "$f")" >"$f.new" && mv "$f.new" "$f" ;;
    table_bytes_flipped)
      f=$(db_file '*.ldb')
      noise 16 | dd of="$f" bs=1 seek=8 conv=notrunc status=none ;;
    *) fail "unknown corruption $1" ;;
  esac
  echo "$f"
}

snapshot() {
  tree_listing "$IN"
  tree_listing "$WH"
  find "$MF" -type f -exec sha256sum {} + | LC_ALL=C sort
}

printf 'first\n' >"$T/first"
printf 'second\n' >"$T/second"
printf 'third\n' >"$T/third"

for mode in current_garbage current_missing_manifest manifest_noise manifest_truncated \
            table_noise table_bytes_flipped; do
  note "$mode"
  new_roots "$mode"
  # Two passes: the second reopens the database, which turns the first
  # pass's log into a table file.
  cp "$T/first" "$IN/first.csv"
  run_ingest --stability-seconds 0 --concurrency 1
  assert_rc 0
  cp "$T/second" "$IN/second.csv"
  run_ingest --stability-seconds 0 --concurrency 1
  assert_rc 0
  assert_ingested_count 2
  part=$(partition_dir)

  damaged=$(corrupt "$mode")
  cp "$damaged" "$T/$mode.damaged"
  cp "$T/first" "$IN/first-again.csv"
  cp "$T/third" "$IN/third.csv"
  snapshot >"$T/before"
  run_ingest --stability-seconds 0 --concurrency 1
  assert_rc 1
  errors=$(grep -E '^[^ ]+ (error|critical) ' "$ERR" || true)
  assert_eq 1 "$(printf %s "$errors" | count_lines)" "error lines on stderr"
  [[ $errors == *"$ST/db"* ]] || fail "the error does not name the state database $ST/db: $errors"
  assert_eq 0 "$(grep -cvE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z [a-z]+ ' "$ERR" || true)" \
    "stderr lines that do not start a log message"
  snapshot >"$T/after"
  if ! cmp -s "$T/before" "$T/after"; then
    diff "$T/before" "$T/after" >&2 || true
    fail "the pass over a corrupt state changed staging, the warehouse or the manifests"
  fi

  RC=0
  "$ATOMIC_INGEST" rebuild-state --manifests "$MF" --state-path "$ST" >"$OUT" 2>"$ERR" || RC=$?
  assert_rc 0 "exit code of rebuild-state"
  assert_contains "$ERR" "2 records from 1 manifests" "stderr of rebuild-state"
  replaced=("$ST"/db.replaced-*)
  assert_eq 1 "${#replaced[@]}" "corrupt databases kept aside"
  assert_same_content "$T/$mode.damaged" "${replaced[0]}/${damaged#"$ST/db/"}"
  assert_contains "$ERR" "kept as ${replaced[0]}" "stderr of rebuild-state"

  run_ingest --stability-seconds 0 --concurrency 1
  assert_rc 0 "exit code of the pass after rebuild-state"
  assert_summary files_ingested 1
  assert_summary duplicates 1
  assert_eq "" "$(staged_files)" "files left in staging"
  assert_same_content "$T/third" "$part/third.csv"
  assert_same_content "$T/first" "$WH/_duplicates/$(basename "$part")/first-again.csv"
  assert_ingested_count 3
  assert_duplicate_count 1
  assert_manifest_records 3
done
