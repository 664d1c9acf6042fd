#!/usr/bin/env bash
# Hostile file names: a newline, quotes, a backslash, a tab, a carriage
# return, control characters, shell and glob characters, a leading dash,
# leading and trailing spaces, UTF-8, and byte strings that are not UTF-8
# (a stray byte, a truncated sequence, an overlong encoding, an encoded
# surrogate). Each is ingested under its exact bytes, with a strict-JSON
# manifest record (escaped when not UTF-8), and the log stays one line per
# message.
#
# Then 255-byte names (ASCII, two-byte UTF-8, not UTF-8, a long extension,
# no extension) are staged twice across two passes with different content:
# the second copy gets the collision name (12 hex digits of its sha256
# before the extension), which stays within 255 bytes, keeps UTF-8 whole
# and lands beside the first.
source "$(dirname "${BASH_SOURCE[0]}")/hostile_lib.sh"

odd_names=(
  $'new\nline.csv'
  'double"quote.csv'
  "single'quote.csv"
  'back\slash.csv'
  '\\double back\\.csv'
  $'tab\there.csv'
  $'cr\rreturn.csv'
  $'ctl\x01\x1f\x7f.csv'
  '-rf.csv'
  '--input=x.csv'
  '*.csv'
  '?.csv'
  '[a-z].csv'
  '{a,b}.csv'
  '~tilde.csv'
  ' leading space.csv'
  'trailing space.csv '
  'ünïcødé.csv'
  '日本語.csv'
  $'stray\xff.csv'
  $'truncated\xc3.csv'
  $'overlong\xc0\xaf.csv'
  $'surrogate\xed\xa0\x80.csv'
  $'latin1 caf\xe9.csv'
)
i=0
for n in "${odd_names[@]}"; do
  printf 'content %d\n' "$i" >"$IN/$n"
  i=$((i + 1))
done
assert_eq "${#odd_names[@]}" "$(find "$IN" -mindepth 1 -type f -printf x | wc -c)" "odd names staged"

run_ingest --stability-seconds 0
assert_rc 0
assert_summary files_ingested "${#odd_names[@]}"
assert_summary failed 0
assert_eq "" "$(staged_files)" "files left in staging"
part=$(partition_dir)
i=0
for n in "${odd_names[@]}"; do
  assert_eq "content $i" "$(cat "$part/$n" 2>/dev/null)" "content of the ingested $(printf %q "$n")"
  i=$((i + 1))
done
assert_warehouse_consistent
assert_manifest_records "${#odd_names[@]}"

# A record is escaped exactly when its name is not UTF-8; the names come
# back byte for byte.
python3 - "$MF" "$IN" "$part" "${odd_names[@]}" <<'EOF' || fail "manifest records of the odd names (see above)"
import importlib, json, os, sys
unescape = importlib.import_module("check-invariants").unescape
mf, staging, part = (os.fsencode(a) for a in sys.argv[1:4])
names = [os.fsencode(a) for a in sys.argv[4:]]

def utf8(b):
    try:
        b.decode("utf-8", "strict")
        return True
    except UnicodeDecodeError:
        return False

by_name, problems = {}, []
for dirpath, _, files in os.walk(mf):
    for f in files:
        for raw in open(os.path.join(dirpath, f), "rb").read().splitlines():
            rec = json.loads(raw.decode("utf-8"), strict=True)
            esc = rec.get("escaped", False)
            path = unescape(rec["path"]) if esc else rec["path"].encode("utf-8")
            source = unescape(rec["source"]) if esc else rec["source"].encode("utf-8")
            by_name[os.path.basename(path)] = (esc, path, source)
for n in names:
    if n not in by_name:
        problems.append(f"no record for {n!r}")
        continue
    esc, path, source = by_name[n]
    if esc == utf8(n):
        problems.append(f"{n!r}: escaped={esc}, but the name {'is' if utf8(n) else 'is not'} UTF-8")
    if path != os.path.join(part, n):
        problems.append(f"{n!r}: path {path!r}")
    if source != os.path.join(staging, n):
        problems.append(f"{n!r}: source {source!r}")
if problems:
    print("\n".join(problems), file=sys.stderr)
    sys.exit(1)
EOF
assert_eq 0 "$(grep -cvaE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z [a-z]+ ' "$ERR" || true)" \
  "stderr lines that do not start a log message"

note "255-byte names, staged twice across two passes"
new_roots long
long_names=(
  "$(printf 'a%.0s' $(seq 251)).csv"
  "x$(printf 'é%.0s' $(seq 125)).csv"
  "$(printf '\xff%.0s' $(seq 251)).csv"
  "x.$(printf 'e%.0s' $(seq 253))"
  "$(printf 'z%.0s' $(seq 255))"
)
for n in "${long_names[@]}"; do
  assert_eq 255 "$(printf %s "$n" | wc -c)" "bytes in a long name"
  printf 'first copy of %s\n' "${n:0:8}" >"$IN/$n"
done
run_ingest --stability-seconds 0
assert_rc 0
assert_summary files_ingested "${#long_names[@]}"
part=$(partition_dir)
for n in "${long_names[@]}"; do
  assert_file "$part/$n"
  printf 'second copy of %s\n' "${n:0:8}" >"$IN/$n"
done
run_ingest --stability-seconds 0
assert_rc 0
assert_summary files_ingested "${#long_names[@]}"
assert_summary failed 0
assert_eq "" "$(staged_files)" "files left in staging"
assert_ingested_count $((2 * ${#long_names[@]}))
assert_warehouse_consistent

# Each second copy sits under CollisionName(name): the stem cut (at a UTF-8
# character boundary when the name is UTF-8) so that stem + "." + 12 hex
# digits + extension is at most 255 bytes.
python3 - "$part" "${long_names[@]}" <<'EOF' || fail "collision names of the 255-byte names (see above)"
import hashlib, os, sys
part = os.fsencode(sys.argv[1])
names = [os.fsencode(a) for a in sys.argv[2:]]
present = set(os.listdir(part))
problems = []
for n in names:
    if n not in present:
        problems.append(f"first copy missing: {n[:20]!r}...")
        continue
    content = b"second copy of " + os.fsencode(os.fsdecode(n)[:8]) + b"\n"
    digest = hashlib.sha256(content).hexdigest()
    matches = [p for p in present if p != n and (b"." + digest[:12].encode()) in p]
    if len(matches) != 1:
        problems.append(f"{n[:20]!r}...: expected one name tagged {digest[:12]}, found {matches!r}")
        continue
    m = matches[0]
    if len(m) > 255:
        problems.append(f"{m[:20]!r}... is {len(m)} bytes")
    if open(os.path.join(part, m), "rb").read() != content:
        problems.append(f"{m[:20]!r}... does not hold the second copy")
    dot = n.find(b".", 1)
    stem, ext = (n, b"") if dot < 0 else (n[:dot], n[dot:])
    if not m.startswith(stem[:16]):
        problems.append(f"{m!r} does not start with the stem of {n!r}")
    if ext and len(ext) + 13 < 255 and not m.endswith(b"." + digest[:12].encode() + ext):
        problems.append(f"{m!r} does not end in the tag and the extension {ext!r}")
    try:
        n.decode("utf-8")
    except UnicodeDecodeError:
        continue
    try:
        m.decode("utf-8")
    except UnicodeDecodeError:
        problems.append(f"{m!r}: the shortened UTF-8 name is no longer UTF-8")
if problems:
    print("\n".join(problems), file=sys.stderr)
    sys.exit(1)
EOF
