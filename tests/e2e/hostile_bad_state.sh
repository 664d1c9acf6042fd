#!/usr/bin/env bash
# A manifest that someone else wrote garbage into, in the middle (text,
# JSON that is not a record, binary bytes with NUL and 0xff, an empty line,
# a 100 kB line) and that ends in a torn record: the next pass works, cuts
# only the torn tail, appends its record on a line of its own, and leaves
# every earlier byte, garbage included, as it was. The state still knows
# the earlier contents (a resend is a duplicate), and rebuild-state skips
# the garbage and rebuilds the same index.
source "$(dirname "${BASH_SOURCE[0]}")/hostile_lib.sh"
ALLOW_GARBAGE_LINES=1

# The one manifest file; skips when the passes straddled an hour, since the
# new record then went to a file without the garbage. Use in an assignment.
the_manifest() {
  local files=()
  mapfile -t files < <(find "$MF" -name manifest.jsonl | LC_ALL=C sort)
  [[ ${#files[@]} -le 1 ]] || skip "the passes straddled an hour"
  [[ ${#files[@]} -eq 1 ]] || fail "expected one manifest.jsonl under $MF, found none"
  echo "${files[0]}"
}

# MANIFEST starts with the bytes of PREFIX_FILE, followed by exactly N
# records, each a strict JSON line, whose sources are SOURCES.
assert_prefix_then_records() {  # MANIFEST PREFIX_FILE SOURCE...
  python3 - "$@" <<'EOF' || fail "$1 after the pass (see above)"
import json, sys
path, prefix_path, sources = sys.argv[1], sys.argv[2], sys.argv[3:]
data, prefix = open(path, "rb").read(), open(prefix_path, "rb").read()
if not data.startswith(prefix):
    sys.exit(f"the first {len(prefix)} bytes of {path} changed")
rest = data[len(prefix):]
if not rest.endswith(b"\n"):
    sys.exit(f"{path} does not end in a newline: {rest[-200:]!r}")
lines = rest[:-1].split(b"\n")
got = []
for line in lines:
    try:
        got.append(json.loads(line.decode("utf-8"), strict=True)["source"])
    except Exception as e:
        sys.exit(f"not a record after the prefix ({e}): {line[:200]!r}")
if got != sources:
    sys.exit(f"expected records of {sources}, found {got}")
EOF
}

printf 'alpha\n' >"$IN/a.csv"
printf 'beta\n' >"$IN/b.csv"
cp "$IN/a.csv" "$T/a.expected"
run_ingest --stability-seconds 0 --concurrency 1 --batch-size 1
assert_rc 0
assert_manifest_records 2
m=$(the_manifest)

note "garbage in the middle, a torn record at the end"
python3 - "$m" <<'EOF'
import sys
path = sys.argv[1]
first, second = open(path, "rb").read().splitlines(keepends=True)
garbage = (b"this is not json\n"
           b'{"hello": "a JSON object that is not a record"}\n'
           b"[1, 2, 3]\n"
           b"\x00\x01binary\xff\xfe junk\x00\n"
           b"\n"
           + b"x" * 100000 + b"\n"
           + b'{"path": "truncated in the middle\n')
open(path, "wb").write(first + garbage + second + b'{"path":"/elsewhere/lost.csv","sou')
EOF
head -c $(($(stat -c %s "$m") - 34)) "$m" >"$T/prefix"
printf 'gamma\n' >"$IN/c.csv"
run_ingest --stability-seconds 0
assert_rc 0 "exit code with garbage in the manifest"
assert_summary files_ingested 1
m2=$(the_manifest)
assert_eq "$m" "$m2" "the manifest after the pass"
assert_prefix_then_records "$m" "$T/prefix" "$IN/c.csv"
assert_warehouse_consistent
assert_ingested_count 3

note "a complete garbage line at the end"
printf 'trailing garbage, but a whole line\n' >>"$m"
cp "$m" "$T/prefix2"
printf 'delta\n' >"$IN/d.csv"
run_ingest --stability-seconds 0
assert_rc 0 "exit code with a garbage line at the end"
assert_summary files_ingested 1
assert_prefix_then_records "$(the_manifest)" "$T/prefix2" "$IN/d.csv"
assert_warehouse_consistent

note "the state still knows every content"
cp "$T/a.expected" "$IN/a-again.csv"
run_ingest --stability-seconds 0
assert_rc 0
assert_summary files_ingested 0
assert_summary duplicates 1
assert_ingested_count 4

note "rebuild-state skips the garbage"
RC=0
"$ATOMIC_INGEST" rebuild-state --manifests "$MF" --state-path "$ST" >"$OUT" 2>"$ERR" || RC=$?
assert_rc 0 "exit code of rebuild-state"
assert_matches "$ERR" 'rebuild-state: 4 records' "stderr of rebuild-state"
cp "$T/a.expected" "$IN/a-third.csv"
printf 'epsilon\n' >"$IN/e.csv"
run_ingest --stability-seconds 0
assert_rc 0 "exit code after rebuild-state"
assert_summary files_ingested 1
assert_summary duplicates 1
assert_ingested_count 5
assert_warehouse_consistent
