#!/usr/bin/env bash
# --log-format json: every line is one JSON object, and the records about
# files and the pass's summary carry their data as members, not only inside
# "msg": "event", "path", "source", "sha256", "bytes" on each ingested file
# (and on duplicates and failures), every summary figure as a number.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

printf 'alpha\n' >"$IN/a.csv"
printf 'beta beta\n' >"$IN/b.csv"
printf 'alpha\n' >"$IN/a-again.csv"
printf 'wrong\n' >"$IN/bad.csv"
echo "$(printf 'right\n' | sha256sum | cut -c1-64)  bad.csv" >"$IN/bad.csv.ok"
touch "$IN/a.csv.ok" "$IN/b.csv.ok" "$IN/a-again.csv.ok"
run_ingest --mode sidecar --log-format json
assert_rc 1 "a pass with a checksum mismatch"

python3 - "$ERR" "$IN" "$WH" <<'PY' || fail "the json records on stderr are wrong (see above)"
import hashlib, json, os, sys

err, staging, warehouse = sys.argv[1:]
records = []
for n, line in enumerate(open(err, encoding="utf-8").read().splitlines(), 1):
    try:
        r = json.loads(line, strict=True)
    except ValueError as e:
        sys.exit(f"line {n} is not JSON ({e}): {line!r}")
    if not isinstance(r, dict) or not {"time", "level", "msg"} <= r.keys():
        sys.exit(f"line {n} is not a log record: {line!r}")
    records.append(r)

def sha(data):
    return hashlib.sha256(data).hexdigest()

by_event = {}
for r in records:
    by_event.setdefault(r.get("event"), []).append(r)

ingested = by_event.get("ingested", [])
assert sorted(os.path.basename(r["source"]) for r in ingested) == ["a.csv", "b.csv"] or \
    sorted(os.path.basename(r["source"]) for r in ingested) == ["a-again.csv", "b.csv"], ingested
for r in ingested:
    assert r["level"] == "info", r
    assert r["source"].startswith(staging + "/"), r
    assert r["path"].startswith(warehouse + "/ingest_date="), r
    data = open(r["path"], "rb").read()
    assert r["sha256"] == sha(data), r
    assert isinstance(r["bytes"], int) and r["bytes"] == len(data), r
    assert r["msg"].startswith("ingested " + r["source"] + " -> " + r["path"]), r

[dup] = by_event.get("duplicate", [])
assert dup["action"] == "quarantine", dup
assert dup["path"].startswith(warehouse + "/_duplicates/"), dup
assert dup["sha256"] == sha(b"alpha\n") and dup["bytes"] == 6, dup
assert dup["duplicate_of"] in [r["path"] for r in ingested], dup

[failed] = by_event.get("failed", [])
assert failed["level"] == "error", failed
assert failed["source"] == staging + "/bad.csv", failed
assert "checksum mismatch" in failed["error"] and failed["error"] == failed["msg"], failed

[summary] = by_event.get("summary", [])
figures = {"files_ingested": 2, "bytes_ingested": 16, "duplicates": 1, "deferred": 0,
           "failed": 1, "skipped": 4, "recovered": 0, "hooks_completed": 0, "hooks_failed": 0}
for key, want in figures.items():
    assert summary.get(key) == want and isinstance(summary[key], int), (key, summary)
for key in ("files_per_sec", "bytes_per_sec", "queue_depth", "duration"):
    assert isinstance(summary.get(key), (int, float)) and not isinstance(summary[key], bool), (key, summary)
assert summary["files_per_sec"] > 0, summary
assert json.loads(summary["msg"][len("summary "):]) == {k: v for k, v in summary.items()
                                                       if k not in ("time", "level", "msg", "event")}, summary
PY

# jq, as a log shipper or an operator would read the summary.
if command -v jq >/dev/null; then
  v=$(jq -r 'select(.event == "summary") | .files_per_sec | type' "$ERR")
  assert_eq number "$v" "jq .files_per_sec on the summary record"
fi

note "the text format is unchanged"
printf 'gamma\n' >"$IN/c.csv"
: >"$IN/c.csv.ok"
rm "$IN/bad.csv" "$IN/bad.csv.ok"
run_ingest --mode sidecar
assert_rc 0
assert_matches "$ERR" "^[0-9T:.-]+Z info ingested $IN/c\\.csv -> $WH/ingest_date=[0-9-]+/c\\.csv \\(6 bytes, sha256 $(printf 'gamma\n' | sha256sum | cut -c1-64)\\)$"
assert_matches "$ERR" '^[0-9T:.-]+Z info summary \{"files_ingested":1,'
assert_not_contains "$ERR" '"event"'
