#!/usr/bin/env bash
# `status` sorts staging into groups (not yet stable with the time left,
# waiting for .ok, failed with the last error, ready), lists at most --limit
# files per group, reports the last pass and the state's size, prints one
# JSON document with --json, changes nothing, and works while another run
# holds the lock and has the database open. Exit 1 when the state cannot be
# read, 2 for usage errors.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# `status` over the current roots with extra flags "$@".
run_status() {
  RC=0
  timeout -k 5 60 "$ATOMIC_INGEST" status --input "$IN" --state-path "$ST" "$@" \
    >"$OUT" 2>"$ERR" || RC=$?
}
snapshot() { for d in "$IN" "$WH" "$MF" "$ST"; do tree_listing "$d"; done; }
assert_unchanged() {  # BEFORE_FILE WHAT
  snapshot >"$T/after"
  if ! cmp -s "$1" "$T/after"; then
    diff "$1" "$T/after" >&2 || true
    fail "$2: status changed the trees above (< before, > after)"
  fi
}
# A field of the JSON document on stdout, by a Python expression on `d`.
json_field() {  # EXPR
  python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
    "$OUT" "$1" || fail "stdout is not one JSON document with $1"
}

note "before the first pass: no state yet"
printf 'a\n' >"$IN/a.csv"
printf 'h\n' >"$IN/.hidden"
printf 't\n' >"$IN/b.csv.tmp"
run_status --stability-seconds 3600
assert_rc 0
assert_contains "$OUT" "staging $IN: stability mode, 3600 s window"
assert_contains "$OUT" "not yet stable: 1"
assert_matches "$OUT" "^  $IN/a\.csv: 3[0-9]{3}\.[0-9] s to go$" "the time left"
assert_contains "$OUT" "skipped: 2 (never candidates)"
assert_contains "$OUT" "last pass: none recorded"
assert_contains "$OUT" "state $ST/db: none yet"
assert_missing "$ST"

note "not yet stable, after a pass saw the file"
run_ingest --stability-seconds 3600
assert_rc 0
snapshot >"$T/before"
run_status --stability-seconds 3600
assert_rc 0
assert_unchanged "$T/before" "status in stability mode"
assert_matches "$OUT" "^  $IN/a\.csv: 3[0-9]{3}\.[0-9] s to go \(first seen [0-9T:.-]+Z\)$" "first sighting"
assert_contains "$OUT" 'last pass: {"files_ingested":0,'
assert_contains "$OUT" "backlog: 1 files, 2 bytes (not yet stable: 1, 2 bytes; waiting for .ok: 0, 0 bytes; failed: 0, 0 bytes; ready: 0, 0 bytes)"
assert_matches "$OUT" "^oldest waiting: $IN/a\.csv, [0-9]+\.[0-9] s \(changed [0-9T:.-]+Z\)$" "the oldest waiting file"
assert_matches "$OUT" "^state $ST/db: [0-9]+ bytes; 0 contents \(c/\), 0 open commits \(i/\), 0 in the intent journal, 1 stability snapshots \(s/\), 0 failures \(f/\), 3 other \(m/\)$"

note "ready"
run_status --stability-seconds 0
assert_rc 0
assert_contains "$OUT" "not yet stable: 0"
assert_contains "$OUT" "ready: 1 (the next pass takes them)"
assert_matches "$OUT" "^  $IN/a\.csv: complete by (timestamps|observed)$"
assert_contains "$OUT" "backlog: 1 files, 2 bytes (not yet stable: 0, 0 bytes; waiting for .ok: 0, 0 bytes; failed: 0, 0 bytes; ready: 1, 2 bytes)"

note "waiting for .ok, and failed with the last error"
printf 'b\n' >"$IN/b.csv"
printf 'c\n' >"$IN/c.csv"
echo "$(printf 'not c\n' | sha256sum | cut -c1-64)  c.csv" >"$IN/c.csv.ok"
run_status --mode sidecar
assert_rc 0
assert_contains "$OUT" "staging $IN: sidecar mode"
assert_contains "$OUT" "waiting for .ok: 2"
assert_contains "$OUT" "failed: 0"
assert_contains "$OUT" "ready: 1"
run_ingest --mode sidecar
assert_rc 1 "a pass with a checksum mismatch"
run_status --mode sidecar
assert_rc 0
assert_contains "$OUT" "failed: 1 (retried by the next pass)"
assert_matches "$OUT" "^  $IN/c\.csv: checksum mismatch for $IN/c\.csv: .* \(at [0-9T:.-]+Z, 1 attempt\)$"
assert_contains "$OUT" "ready: 0"
assert_contains "$OUT" "1 failures (f/)"
run_ingest --mode sidecar
assert_rc 1
run_status --mode sidecar
assert_contains "$OUT" ", 2 attempts)"
# The sender fixes the sidecar: the next pass ingests the file and its
# failure record goes.
sha256sum "$IN/c.csv" | cut -c1-64 >"$IN/c.csv.ok"
run_ingest --mode sidecar
assert_rc 0
assert_summary files_ingested 1
run_status --mode sidecar
assert_contains "$OUT" "failed: 0"
assert_contains "$OUT" "0 failures (f/)"
assert_contains "$OUT" "1 contents (c/)"
assert_contains "$OUT" 'last pass: {"files_ingested":1,'

note "--recursive counts subdirectories; --limit bounds the lists"
new_roots limit
mkdir "$IN/sub"
for i in 1 2 3 4 5; do printf '%s\n' "$i" >"$IN/f$i.csv"; done
printf 's\n' >"$IN/sub/s.csv"
run_status --stability-seconds 3600 --limit 2
assert_rc 0
assert_contains "$OUT" "not yet stable: 5"
assert_contains "$OUT" "  ... and 3 more"
assert_eq 2 "$(grep -c "^  $IN/f[0-9]\.csv: " "$OUT")" "files listed with --limit 2"
assert_contains "$OUT" "skipped: 1"
run_status --stability-seconds 3600 --limit 0 --recursive
assert_rc 0
assert_contains "$OUT" "not yet stable: 6"
assert_contains "$OUT" "  $IN/sub/s.csv: "
assert_not_contains "$OUT" "more"
assert_contains "$OUT" ", recursive"
run_status --stability-seconds 3600 --limit 2 --json
assert_rc 0
assert_eq "5 2 3" "$(json_field '(d["groups"]["not_yet_stable"]["count"], len(d["groups"]["not_yet_stable"]["files"]), d["groups"]["not_yet_stable"]["more"])' | tr -d '(),')" "JSON group with --limit 2"

note "one file, as JSON"
new_roots json
printf 'one\n' >"$IN/one.csv"
run_ingest --stability-seconds 3600
assert_rc 0
sleep 1.2  # the oldest file's age, counted from its ctime
run_status --stability-seconds 3600 --json
assert_rc 0
python3 - "$OUT" "$IN" "$ST" <<'EOF' || fail "status --json: unexpected document (above)"
import json, sys
out, staging, state = sys.argv[1:]
text = open(out, "rb").read().decode("utf-8")
assert text.count("\n") == 1, "not one line: %r" % text
d = json.loads(text)
assert d["input"] == staging, d
assert d["mode"] == "stability" and d["stability_seconds"] == 3600, d
groups = d["groups"]
assert set(groups) == {"not_yet_stable", "waiting_for_ok", "failed", "ready"}, groups
f = groups["not_yet_stable"]["files"]
assert groups["not_yet_stable"]["count"] == 1 and len(f) == 1, groups
assert f[0]["path"] == staging + "/one.csv", f
assert 3500 < f[0]["wait_seconds"] <= 3600, f
assert f[0]["first_seen"].endswith("Z"), f
assert groups["not_yet_stable"]["bytes"] == 4, groups
for name in ("waiting_for_ok", "failed", "ready"):
    assert groups[name] == {"count": 0, "files": [], "more": 0, "bytes": 0}, groups[name]
b = d["backlog"]
assert b["files"] == 1 and b["bytes"] == 4, b
assert b["oldest"]["path"] == staging + "/one.csv", b
assert b["oldest"]["changed"].endswith("Z"), b
assert 1 <= b["oldest"]["age_seconds"] < 60, b
assert d["skipped"] == 0, d
assert d["last_pass"]["deferred"] == 1 and d["last_pass"]["files_ingested"] == 0, d
s = d["state"]
assert s["db"] == state + "/db" and s["exists"] is True and s["bytes"] > 0, s
assert s["records"] == {"c": 0, "f": 0, "i": 0, "m": 3, "s": 1, "other": 0}, s
EOF

note "while another run holds the lock and has the database open"
# The holder takes the run lock (flock on the state directory) and
# LevelDB's own lock (fcntl on db/LOCK), as a running pass does.
python3 - "$ST" "$T/locked" <<'EOF' &
import fcntl, os, sys, time
state, flag = sys.argv[1:]
d = os.open(state, os.O_RDONLY)
fcntl.flock(d, fcntl.LOCK_EX | fcntl.LOCK_NB)
db_lock = open(os.path.join(state, "db", "LOCK"), "a")
fcntl.lockf(db_lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
open(flag, "w").close()
time.sleep(60)
EOF
holder=$!
on_exit "kill $holder 2>/dev/null; wait $holder 2>/dev/null"
await_holder
run_ingest --stability-seconds 3600
assert_rc 75 "a pass while the lock is held"
snapshot >"$T/before"
run_status --stability-seconds 3600
assert_rc 0 "status while the lock is held"
assert_unchanged "$T/before" "status while the lock is held"
assert_contains "$OUT" "not yet stable: 1"
assert_contains "$OUT" 'last pass: {"files_ingested":0,'
kill "$holder"
wait "$holder" 2>/dev/null || true

note "while a pass commits"
new_roots busy
for i in $(seq 1 300); do printf '%s\n' "$i" >"$IN/f$i.csv"; done
"$ATOMIC_INGEST" --input "$IN" --warehouse "$WH" --manifests "$MF" --state-path "$ST" \
  --stability-seconds 0 --batch-size 1 --concurrency 1 --log-level warn 2>"$T/pass.err" &
pass=$!
on_exit "kill $pass 2>/dev/null; wait $pass 2>/dev/null"
looks=0
while kill -0 "$pass" 2>/dev/null || [[ $looks -eq 0 ]]; do
  run_status --stability-seconds 0 --json --limit 1
  assert_rc 0 "status during a pass (look $looks; stderr: $(head -c 500 "$ERR"))"
  json_field 'd["groups"]["ready"]["count"] + d["state"]["records"]["c"]' >/dev/null
  looks=$((looks + 1))
done
wait "$pass" || fail "the pass failed: $(cat "$T/pass.err")"
note "$looks looks during the pass"
run_status --stability-seconds 0
assert_contains "$OUT" "ready: 0"
assert_contains "$OUT" "300 contents (c/)"

note "a state that cannot be read"
printf 'garbage\n' >"$ST/db/CURRENT"
run_status
assert_rc 1 "status with a corrupt state"
assert_contains "$ERR" "$ST/db"

note "usage errors"
run_status --limit -1
assert_rc 2 "--limit -1"
assert_contains "$ERR" "--limit"
run_status extra
assert_rc 2 "an argument status does not take"
assert_contains "$ERR" "unexpected argument 'extra'"
RC=0
"$ATOMIC_INGEST" status --input "$IN" >"$OUT" 2>"$ERR" || RC=$?
assert_rc 2 "status without --state-path"
assert_contains "$ERR" "--state-path"
