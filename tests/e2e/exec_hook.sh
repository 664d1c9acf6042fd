#!/usr/bin/env bash
# --exec runs a hook once per ingested file, never through a shell: the
# manifest line on stdin, the file in ATOMIC_INGEST_* variables. Duplicates
# get no hook; a dry run runs none. A hook that fails or times out fails
# the run (exit 1) and runs again on the next one; one that succeeded does
# not run again. A run killed while its hooks run leaves them queued, and
# the next run runs them (at least once).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Each call of the hook leaves $CALLS/call.N.{args,stdin,env}.
CALLS=$T/calls
mkdir -p "$CALLS" "$T/cwd"
cat >"$T/hook.sh" <<'EOF'
#!/bin/sh
# Usage: hook.sh CALLS_DIR [ARG...]
calls=$1
shift
base=$(mktemp "$calls/call.XXXXXX")
printf '%s\n' "$@" >"$base.args"
cat >"$base.stdin"
env | grep '^ATOMIC_INGEST_' | LC_ALL=C sort >"$base.env"
echo "hook saw $ATOMIC_INGEST_SHA256"
EOF
chmod +x "$T/hook.sh"
calls() { find "$CALLS" -name 'call.*.stdin' | count_lines; }
# Runs from a directory of its own, so that a shell expansion would leave
# its mark there.
run_hooked() {
  RC=0
  (cd "$T/cwd" && run_ingest --stability-seconds 0 --concurrency 1 "$@" && exit "$RC") || RC=$?
}

# Every call's stdin is one manifest line, and its environment names the
# same file; prints the number of calls per sha256 ("SHA N" lines).
check_calls() {
  python3 - "$CALLS" "$MF" <<'EOF' || fail "hook calls that do not match the manifests (see above)"
import collections, glob, json, os, sys
calls, mf = sys.argv[1], sys.argv[2]
lines = {}
for dirpath, _, files in os.walk(mf):
    for f in files:
        path = os.path.join(dirpath, f)
        for raw in open(path, "rb").read().splitlines(keepends=True):
            lines[raw] = path
problems, count = [], collections.Counter()
for stdin in sorted(glob.glob(os.path.join(calls, "call.*.stdin"))):
    data = open(stdin, "rb").read()
    if data not in lines:
        problems.append(f"{stdin}: stdin is not a manifest line: {data!r}")
        continue
    rec = json.loads(data)
    env = dict(l.split("=", 1) for l in open(stdin[:-len(".stdin")] + ".env").read().splitlines())
    want = {"ATOMIC_INGEST_PATH": rec["path"], "ATOMIC_INGEST_SOURCE": rec["source"],
            "ATOMIC_INGEST_SHA256": rec["sha256"], "ATOMIC_INGEST_SIZE": str(rec["size"]),
            "ATOMIC_INGEST_MANIFEST": lines[data]}
    for k, v in want.items():
        if env.get(k) != v:
            problems.append(f"{stdin}: {k} is {env.get(k)!r}, expected {v!r}")
    count[rec["sha256"]] += 1
if problems:
    print("\n".join(problems), file=sys.stderr)
    sys.exit(1)
for sha, n in sorted(count.items()):
    print(sha, n)
EOF
}

note "a command that cannot be split is a usage error naming --exec"
for bad in "hook 'open" 'hook "open' 'hook \' "''"; do
  run_hooked --exec "$bad"
  assert_rc 2 "exit code for --exec $bad"
  assert_contains "$ERR" "--exec"
done
run_hooked --exec-timeout 0
assert_rc 2
assert_contains "$ERR" "--exec-timeout must be between 1 and 86400, not 0"

note "one call per ingested file, none for the duplicate; names are not expanded"
weird="a b 'q' \"d\" \$(touch pwned) \`touch pwned2\`;x.csv"
printf 'alpha\n' >"$IN/$weird"
printf 'beta\n' >"$IN/b.csv"
printf 'alpha\n' >"$IN/z-copy.csv"  # a duplicate of the first
run_hooked --exec "'$T/hook.sh' '$CALLS' 'two words' '\$(touch pwned3)' \"*\""
assert_rc 0
assert_manifest_records 2
assert_duplicate_count 1
assert_summary hooks_completed 2
assert_summary hooks_failed 0
assert_eq 2 "$(calls)" "hook calls"
assert_eq "$(printf '%s 1\n' "$(printf 'alpha\n' | sha256sum | cut -d' ' -f1)" "$(printf 'beta\n' | sha256sum | cut -d' ' -f1)" | LC_ALL=C sort)" \
  "$(check_calls)" "calls per sha256"
for args in "$CALLS"/call.*.args; do
  assert_eq "$(printf '%s\n' 'two words' '$(touch pwned3)' '*')" "$(cat "$args")" "arguments of the hook"
done
assert_eq "" "$(find "$T" -name 'pwned*')" "files made by an expansion"
assert_file "$(partition_dir)/$weird"
assert_contains "$ERR" "info hook $(partition_dir)/b.csv: stdout: hook saw " "hook output in the log"
assert_contains "$ERR" "info hook ran for $(partition_dir)/b.csv"

note "nothing new: no call"
run_hooked --exec "'$T/hook.sh' '$CALLS'"
assert_rc 0
assert_summary hooks_completed 0
assert_eq 2 "$(calls)" "hook calls after a pass with nothing new"

note "dry run: says the hook would run, runs none"
printf 'gamma\n' >"$IN/c.csv"
run_hooked --exec "'$T/hook.sh' '$CALLS'" --dry-run
assert_rc 0
assert_contains "$OUT" "hook $(partition_dir)/c.csv: would run"
assert_eq 2 "$(calls)" "hook calls after a dry run"
run_hooked --exec "'$T/hook.sh' '$CALLS'"
assert_rc 0
assert_eq 3 "$(calls)" "hook calls"

note "a hook that fails runs again next run, then never again"
new_roots retry
rm -f "$CALLS"/*
cat >"$T/flaky.sh" <<EOF
#!/bin/sh
# Fails the first time it sees a content, then records calls like hook.sh.
if [ ! -e "$T/seen.\$ATOMIC_INGEST_SHA256" ]; then
  touch "$T/seen.\$ATOMIC_INGEST_SHA256"
  echo "not today" >&2
  exit 3
fi
exec '$T/hook.sh' '$CALLS'
EOF
chmod +x "$T/flaky.sh"
printf 'delta\n' >"$IN/d.csv"
run_hooked --exec "$T/flaky.sh"
assert_rc 1 "exit code of a run whose hook failed"
assert_summary files_ingested 1
assert_summary hooks_failed 1
assert_manifest_records 1
assert_eq "" "$(staged_files)" "files left in staging (they stay ingested)"
assert_contains "$ERR" "warning hook $(partition_dir)/d.csv: stderr: not today"
assert_contains "$ERR" "error hook for $(partition_dir)/d.csv failed (attempt 1): '$T/flaky.sh' exit status 3; it runs again next run"
assert_eq 0 "$(calls)" "successful hook calls"
run_hooked --exec "$T/flaky.sh" --dry-run
assert_contains "$OUT" "hook $(partition_dir)/d.csv: would run again (1 failed attempts, the last: '$T/flaky.sh' exit status 3)"
run_hooked --exec "$T/flaky.sh"
assert_rc 0 "exit code of the run whose hook succeeded"
assert_summary files_ingested 0
assert_summary hooks_completed 1
assert_eq 1 "$(calls)" "successful hook calls"
assert_contains "$(ls "$CALLS"/call.*.env)" "ATOMIC_INGEST_ATTEMPT=2"
run_hooked --exec "$T/flaky.sh"
assert_rc 0
assert_summary hooks_completed 0
assert_eq 1 "$(calls)" "hook calls on a third run"

note "a missing program fails the run and is named"
new_roots missing
printf 'epsilon\n' >"$IN/e.csv"
run_hooked --exec "atomic-ingest-no-such-hook --flag"
assert_rc 1
assert_contains "$ERR" "cannot run 'atomic-ingest-no-such-hook' (looked up in PATH): No such file or directory"

note "without --exec, queued hooks wait"
run_hooked
assert_rc 0
assert_contains "$ERR" "hooks queued by earlier runs with --exec wait until --exec is given again"

note "a hook that times out runs again next run"
rm -f "$CALLS"/*
run_hooked --exec "sleep 60" --exec-timeout 1
assert_rc 1
assert_contains "$ERR" "error hook for $(partition_dir)/e.csv failed (attempt 2): 'sleep' timed out after 1s (SIGTERM sent to its process group); it runs again next run"
run_hooked --exec "'$T/hook.sh' '$CALLS'"
assert_rc 0
assert_summary hooks_completed 1
assert_eq 1 "$(calls)" "hook calls after the timeout"
check_calls >/dev/null

note "a run killed while its hooks run: they run again next time"
new_roots killed
rm -f "$CALLS"/*
printf 'zeta\n' >"$IN/f.csv"
printf 'eta\n' >"$IN/g.csv"
cat >"$T/stuck.sh" <<EOF
#!/bin/sh
echo \$\$ >"$T/stuck.pid"
exec sleep 60
EOF
chmod +x "$T/stuck.sh"
rm -f "$T/stuck.pid"
"$ATOMIC_INGEST" --input "$IN" --warehouse "$WH" --manifests "$MF" --state-path "$ST" \
  --stability-seconds 0 --concurrency 1 --exec "$T/stuck.sh" >"$OUT" 2>"$ERR" &
pid=$!
on_exit "kill -9 $pid 2>/dev/null"
for _ in $(seq 300); do [[ -s "$T/stuck.pid" ]] && break; sleep 0.1; done
[[ -s "$T/stuck.pid" ]] || fail "the hook did not start"
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
kill -9 "$(cat "$T/stuck.pid")" 2>/dev/null || true
assert_manifest_records 2
run_hooked --exec "'$T/hook.sh' '$CALLS'"
assert_rc 0
assert_summary files_ingested 0
assert_summary hooks_completed 2
assert_eq 2 "$(calls)" "hook calls after the kill"
check_calls >/dev/null
run_hooked --exec "'$T/hook.sh' '$CALLS'"
assert_summary hooks_completed 0
