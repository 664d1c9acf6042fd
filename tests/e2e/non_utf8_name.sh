#!/usr/bin/env bash
# Names that are not UTF-8, or that hold a newline, a quote or a backslash,
# are ingested under their exact bytes. Their manifest records are strict
# JSON, one per line; a non-UTF-8 name is escaped ("\xHH", "\\" for a
# backslash) and flagged "escaped": true, and unescaping gives the real name.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bad=$'bad\xff\xfe name.csv'
odd=$'odd\nname "quoted" back\\slash.csv'
both=$'both\xff\\x41.csv'
printf 'not utf-8\n' >"$IN/$bad"
printf 'newline, quote, backslash\n' >"$IN/$odd"
printf 'not utf-8 and a backslash\n' >"$IN/$both"

run_ingest --stability-seconds 0
assert_rc 0
assert_summary files_ingested 3
assert_eq "" "$(staged_files)" "files left in staging"
part=$(partition_dir)
assert_eq 'not utf-8' "$(cat "$part/$bad")" "content of the non-UTF-8 name"
assert_eq 'newline, quote, backslash' "$(cat "$part/$odd")" "content of the odd name"
assert_eq 'not utf-8 and a backslash' "$(cat "$part/$both")" "content of the mixed name"
assert_manifest_records 3
n=$(find "$MF" -name manifest.jsonl -exec cat {} + | wc -l)
assert_eq 3 "$n" "manifest lines"

assert_warehouse_consistent

python3 - "$MF" "$IN" <<'EOF_PY' || fail "manifest records do not name the files (see above)"
import importlib, json, os, sys
unescape = importlib.import_module("check-invariants").unescape
mf, staging = (os.fsencode(a) for a in sys.argv[1:])
real = {b"bad\xff\xfe name.csv": True,
        b'odd\nname "quoted" back\\slash.csv': False,
        b"both\xff\\x41.csv": True}

problems, seen = [], set()
for dirpath, _, files in os.walk(mf):
    for f in files:
        for raw in open(os.path.join(dirpath, f), "rb").read().split(b"\n")[:-1]:
            rec = json.loads(raw.decode("utf-8"), strict=True)
            escaped = rec.get("escaped", False)
            path = unescape(rec["path"]) if escaped else rec["path"].encode("utf-8")
            source = unescape(rec["source"]) if escaped else rec["source"].encode("utf-8")
            name = os.path.basename(path)
            if name not in real:
                problems.append(f"record names an unknown file {name!r}: {raw!r}")
                continue
            seen.add(name)
            if escaped != real[name]:
                problems.append(f"{name!r}: expected escaped={real[name]}, found {escaped}: {raw!r}")
            if source != os.path.join(staging, name):
                problems.append(f"{name!r}: source {source!r} is not the staged path")
missing = set(real) - seen
if missing:
    problems.append(f"no record for {sorted(missing)!r}")
if problems:
    print("\n".join(problems), file=sys.stderr)
    sys.exit(1)
EOF_PY

# The log stays one line per message whatever the names hold.
assert_eq 0 "$(grep -cvE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z [a-z]+ ' "$ERR" || true)" \
  "stderr lines that do not start a log message"
