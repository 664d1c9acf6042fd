#!/usr/bin/env bash
# A manifest that ends in half a record (power lost during an append that
# was never synced) is cut back to its last newline before the next record
# is appended: the partial line is gone, the new record is a line of its own,
# every line is strict JSON and the earlier records are byte for byte intact.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The one manifest file under $MF; skips the test when the passes straddled
# an hour, since the new record then went to a file without the torn tail.
# Use it in an assignment, so that its exit status ends the script.
the_manifest() {
  local files=()
  mapfile -t files < <(find "$MF" -name manifest.jsonl | LC_ALL=C sort)
  if [[ ${#files[@]} -gt 1 ]]; then
    echo "SKIP: the passes straddled an hour, so the record went to another manifest" >&2
    exit 77
  fi
  [[ ${#files[@]} -eq 1 ]] || fail "expected one manifest.jsonl under $MF, found none"
  echo "${files[0]}"
}

# Checks that MANIFEST is PREFIX followed by exactly one record line whose
# source is SOURCE.
assert_prefix_then_record() {  # MANIFEST PREFIX_FILE SOURCE
  local size
  size=$(stat -c %s "$2")
  head -c "$size" "$1" | cmp -s - "$2" ||
    fail "the first $size bytes of $1 changed: expected $(printf %q "$(cat "$2")"), found $(printf %q "$(head -c "$size" "$1")")"
  python3 - "$1" "$size" "$3" <<'EOF' || fail "what follows the earlier records in $1 is not the one new record (see above)"
import json, sys
path, size, source = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rest = open(path, "rb").read()[size:]
lines = rest.split(b"\n")
if len(lines) != 2 or lines[1] != b"":
    sys.exit(f"expected one line ending in a newline after byte {size}, found {rest!r}")
try:
    rec = json.loads(lines[0].decode("utf-8"), strict=True)
except ValueError as e:
    sys.exit(f"the line after byte {size} is not strict JSON ({e}): {lines[0]!r}")
if not isinstance(rec, dict) or rec.get("source") != source:
    sys.exit(f"expected the record of {source}, found {lines[0]!r}")
EOF
}

note "a short torn tail after one record"
new_roots short
printf 'first\n' >"$IN/first.csv"
run_ingest --stability-seconds 0 --concurrency 1
assert_rc 0
assert_manifest_records 1
m=$(the_manifest)
cp "$m" "$T/short.prefix"
printf '{"path":"%s/ingest_date=2020-01-01/lost.csv","source":"%s/lo' "$WH" "$IN" >>"$m"
printf 'second\n' >"$IN/second.csv"
run_ingest --stability-seconds 0 --concurrency 1
assert_rc 0
assert_summary files_ingested 1
after=$(the_manifest)
assert_eq "$m" "$after" "manifest after the second pass"
assert_prefix_then_record "$m" "$T/short.prefix" "$IN/second.csv"
assert_manifest_records 2
assert_eq "$IN/first.csv $IN/second.csv" "$(manifest_field source | tr '\n' ' ' | sed 's/ $//')" "sources in the manifest"
assert_ingested_count 2

note "a torn tail longer than one read chunk, after two records"
new_roots long
printf 'one\n' >"$IN/one.csv"
printf 'two\n' >"$IN/two.csv"
run_ingest --stability-seconds 0 --concurrency 1
assert_rc 0
assert_manifest_records 2
m=$(the_manifest)
cp "$m" "$T/long.prefix"
{
  printf '{"path":"%s/ingest_date=2020-01-01/' "$WH"
  head -c 9000 /dev/zero | tr '\0' 'x'
} >>"$m"
printf 'three\n' >"$IN/three.csv"
run_ingest --stability-seconds 0 --concurrency 1
assert_rc 0
assert_summary files_ingested 1
after=$(the_manifest)
assert_eq "$m" "$after" "manifest after the second pass"
assert_prefix_then_record "$m" "$T/long.prefix" "$IN/three.csv"
assert_manifest_records 3

note "a manifest that holds nothing but a torn first record"
new_roots only_tail
run_ingest --stability-seconds 0 --concurrency 1  # creates the state
assert_rc 0
hour_dir=$MF/$(date -u +%Y/%m/%d/%H)
mkdir -p "$hour_dir"
printf '{"path":"%s/ingest_date=2020-01-01/lost.csv","sou' "$WH" >"$hour_dir/manifest.jsonl"
: >"$T/empty.prefix"
printf 'only\n' >"$IN/only.csv"
run_ingest --stability-seconds 0 --concurrency 1
assert_rc 0
assert_summary files_ingested 1
m=$(the_manifest)
assert_eq "$hour_dir/manifest.jsonl" "$m" "manifest after the pass"
assert_prefix_then_record "$m" "$T/empty.prefix" "$IN/only.csv"
assert_manifest_records 1
