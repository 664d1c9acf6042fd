#!/usr/bin/env bash
# history lists what the manifests say was ingested: today by default, one
# tab-separated line per file and a summary in text, the manifest records
# as they are in json; a range that excludes the files lists none; a bad
# --since exits 2 naming the flag.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The default range is today: a run across midnight UTC cannot tell.
today=$(date -u +%F)
printf 'a\n' >"$IN/a.csv"
printf 'bbbb\n' >"$IN/b.csv"
printf 'cccccccc\n' >"$IN/c.csv"
run_ingest --stability-seconds 0
assert_rc 0
assert_ingested_count 3
P=$(partition_dir)

history() { RC=0; "$ATOMIC_INGEST" history --manifests "$MF" "$@" >"$OUT" 2>"$ERR" || RC=$?; }

# Today, in text: a line per file (ingested_at, size, path, source), then
# the summary.
history
[[ "$(date -u +%F)" == "$today" ]] || skip "midnight UTC passed during the test"
assert_rc 0 "history of today"
assert_eq 4 "$(count_lines <"$OUT")" "lines of history's text"
assert_matches "$OUT" "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z	2	$P/a.csv	$IN/a.csv\$"
assert_matches "$OUT" "	5	$P/b.csv	$IN/b.csv\$"
assert_matches "$OUT" "	9	$P/c.csv	$IN/c.csv\$"
assert_eq "3 files, 16 bytes, ingested from ${today}T00:00:00.000000Z to ${today}T23:59:59.999999Z" \
  "$(tail -n 1 "$OUT")" "history's summary"

# In json: exactly the manifest records.
history --format json
assert_rc 0 "history --format json"
python3 - "$OUT" "$MF" <<'PY' || fail "history --format json is not the manifest records"
import json, os, sys
out = open(sys.argv[1], "rb").read().splitlines()
records = []
for dirpath, _, files in sorted(os.walk(sys.argv[2])):
    if "manifest.jsonl" in files:
        records += open(os.path.join(dirpath, "manifest.jsonl"), "rb").read().splitlines()
assert out == records, (out, records)
sizes = sorted(json.loads(line)["size"] for line in out)
assert sizes == [2, 5, 9], sizes
PY

# A range that excludes them: yesterday, and the minute after a time past.
history --since 2000-01-01 --until "$(date -u -d yesterday +%F)"
assert_rc 0 "history of a range before the ingest"
assert_eq 1 "$(count_lines <"$OUT")" "lines of an empty history"
assert_contains "$OUT" "0 files, 0 bytes, ingested from 2000-01-01T00:00:00.000000Z"
history --since "$(date -u -d tomorrow +%F)T00:00Z" --format json
assert_rc 0 "history since tomorrow"
assert_eq 0 "$(count_lines <"$OUT")" "records of history since tomorrow"
# Bounds that include them, as UTC times.
history --since "$(date -u -d '-1 hour' +%FT%H:%MZ)" --until "$(date -u -d '+1 hour' +%FT%H:%M:%SZ)"
assert_rc 0 "history of the last hour"
assert_contains "$OUT" "3 files, 16 bytes"

# Mistakes exit 2 with a sentence naming the flag.
history --since yesterday
assert_rc 2 "history --since yesterday"
assert_contains "$ERR" "--since must be a date YYYY-MM-DD or a UTC time"
history --since 2026-12-02 --until 2026-12-01
assert_rc 2 "history with --until before --since"
assert_contains "$ERR" "--until 2026-12-01 is before --since 2026-12-02"
history --format xml
assert_rc 2 "history --format xml"
assert_contains "$ERR" "--format must be text or json"
RC=0
"$ATOMIC_INGEST" history >"$OUT" 2>"$ERR" || RC=$?
assert_rc 2 "history without --manifests"
assert_contains "$ERR" "--manifests is required"
