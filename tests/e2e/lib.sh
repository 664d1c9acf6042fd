# Shared helpers for the end-to-end tests. Each test script sources this
# file, builds a staging directory under $IN, runs passes with run_ingest and
# checks the outcome with the assert_* helpers.
#
# Contract:
#   ATOMIC_INGEST   the binary under test (set by meson; required)
#   T               a fresh temporary directory, removed on exit
#   IN WH MF ST     --input, --warehouse, --manifests and --state-path of
#                   the current roots (see new_roots)
#   RC OUT ERR      exit code, stdout file and stderr file of the last
#                   run_ingest
#   E2E_KEEP        when set, the temporary directory of a failed test is
#                   kept for inspection
#   skip WHY    ends the script as skipped: exit status 77 means "skipped"
#               to meson.

set -euo pipefail
shopt -s nullglob

: "${ATOMIC_INGEST:?ATOMIC_INGEST must name the atomic-ingest binary}"
ATOMIC_INGEST=$(realpath "$ATOMIC_INGEST")
TEST_NAME=$(basename "$0" .sh)

# Commands run, last first, when the script exits: kill background helpers
# before the directory they use is removed.
_cleanup_cmds=()
on_exit() { _cleanup_cmds=("$1" "${_cleanup_cmds[@]}"); }
_run_cleanup() {
  local rc=$? cmd
  set +e
  for cmd in "${_cleanup_cmds[@]}"; do eval "$cmd"; done
  if [[ $rc -eq 0 ]]; then
    echo "PASS: $TEST_NAME"
  elif [[ $rc -ne 77 ]]; then
    echo "FAIL: $TEST_NAME (exit $rc)" >&2
  fi
  exit "$rc"
}
trap _run_cleanup EXIT

T=$(mktemp -d "${TMPDIR:-/tmp}/atomic-ingest-e2e.$TEST_NAME.XXXXXX")
on_exit 'if [[ $rc -ne 0 && -n "${E2E_KEEP:-}" ]]; then echo "kept $T" >&2; else rm -rf -- "$T"; fi'
OUT=$T/stdout
ERR=$T/stderr
RC=0

# Points IN/WH/MF/ST at fresh directories under $T/<label>. Only the input
# exists afterwards; the tool creates the others.
new_roots() {
  local base=$T/${1:-roots}
  IN=$base/input
  WH=$base/warehouse
  MF=$base/manifests
  ST=$base/state
  mkdir -p "$IN"
}
new_roots

# One pass over the current roots with extra flags "$@". Never fails the
# script: the exit code is left in RC, output in $OUT and $ERR. The pass is
# killed after $INGEST_TIMEOUT seconds (exit 124).
run_ingest() {
  RC=0
  timeout -k 5 "${INGEST_TIMEOUT:-60}" "$ATOMIC_INGEST" \
    --input "$IN" --warehouse "$WH" --manifests "$MF" --state-path "$ST" \
    "$@" >"$OUT" 2>"$ERR" || RC=$?
}

# Prints the last pass's output, for context in a failure report.
show_last_run() {
  {
    echo "--- last run: exit $RC"
    echo "--- stdout:"
    cat "$OUT" 2>/dev/null || true
    echo "--- stderr:"
    cat "$ERR" 2>/dev/null || true
    echo "---"
  } >&2
}

fail() {
  echo "FAIL: $TEST_NAME: $*" >&2
  show_last_run
  exit 1
}

note() { echo "# $*"; }

skip() {
  echo "SKIP: $TEST_NAME: $*"
  exit 77
}

# ---- assertions: each says what it expected and what it found ----

assert_eq() {  # EXPECTED ACTUAL WHAT
  [[ "$1" == "$2" ]] || fail "$3: expected '$1', found '$2'"
}

assert_rc() {  # EXPECTED [WHAT]
  [[ "$RC" == "$1" ]] || fail "${2:-exit code}: expected $1, found $RC"
}

assert_file() {  # PATH: a regular file (not a symlink)
  [[ -f "$1" && ! -L "$1" ]] || fail "expected a regular file at $(printf %q "$1"), found $(describe "$1")"
}

assert_missing() {  # PATH
  [[ ! -e "$1" && ! -L "$1" ]] || fail "expected nothing at $(printf %q "$1"), found $(describe "$1")"
}

assert_same_content() {  # EXPECTED_FILE ACTUAL_FILE
  assert_file "$2"
  cmp -s -- "$1" "$2" ||
    fail "content of $(printf %q "$2"): expected $(wc -c <"$1") bytes sha256 $(sha_of "$1"), found $(wc -c <"$2") bytes sha256 $(sha_of "$2")"
}

assert_contains() {  # FILE FIXED_STRING [WHAT]
  grep -qF -- "$2" "$1" || fail "${3:-$1}: expected a line containing '$2', found: $(head -c 2000 "$1")"
}

assert_not_contains() {  # FILE FIXED_STRING [WHAT]
  if grep -qF -- "$2" "$1"; then fail "${3:-$1}: expected no line containing '$2', found: $(grep -F -- "$2" "$1")"; fi
}

assert_matches() {  # FILE EXTENDED_REGEX [WHAT]
  grep -qE -- "$2" "$1" || fail "${3:-$1}: expected a line matching /$2/, found: $(head -c 2000 "$1")"
}

describe() {
  if [[ -L "$1" ]]; then echo "a symlink to $(readlink -- "$1")"
  elif [[ -d "$1" ]]; then echo "a directory"
  elif [[ -p "$1" ]]; then echo "a FIFO"
  elif [[ -f "$1" ]]; then echo "a regular file of $(wc -c <"$1") bytes"
  elif [[ -e "$1" ]]; then echo "something else"
  else echo "nothing"; fi
}

sha_of() { sha256sum <"$1" | cut -d' ' -f1; }

# ---- views of the warehouse, staging and manifests ----

# Regular files in the dated partitions (not duplicates, not temp copies),
# one path per line, sorted.
ingested_files() {
  [[ -d "$WH" ]] || return 0
  find "$WH" -mindepth 2 -maxdepth 2 -path "$WH/ingest_date=*" -type f | LC_ALL=C sort
}
duplicate_files() {
  [[ -d "$WH/_duplicates" ]] || return 0
  find "$WH/_duplicates" -mindepth 2 -maxdepth 2 -path "$WH/_duplicates/ingest_date=*" -type f | LC_ALL=C sort
}
staged_files() { find "$IN" -mindepth 1 | LC_ALL=C sort; }
count_lines() { grep -c '' || true; }

assert_ingested_count() {  # N
  local n
  n=$(ingested_files | count_lines)
  [[ "$n" == "$1" ]] || fail "files in $WH/ingest_date=*: expected $1, found $n: $(ingested_files | tr '\n' ' ')"
}
assert_duplicate_count() {  # N
  local n
  n=$(duplicate_files | count_lines)
  [[ "$n" == "$1" ]] || fail "files in $WH/_duplicates/ingest_date=*: expected $1, found $n: $(duplicate_files | tr '\n' ' ')"
}

# The one dated partition of the warehouse; fails unless there is exactly one.
partition_dir() {
  local dirs=("$WH"/ingest_date=*)
  [[ ${#dirs[@]} -eq 1 ]] || fail "expected one ingest_date= partition in $WH, found ${#dirs[@]}"
  echo "${dirs[0]}"
}

# Checks that every manifest file ends in a newline and that every line is
# one strict JSON object with the fields a record needs, then prints the
# number of records. Fails the test otherwise.
manifest_records() {
  local n
  n=$(python3 - "$MF" <<'EOF'
import json, os, sys
root = sys.argv[1]
count = 0
problems = []
for dirpath, _, files in os.walk(root):
    for f in files:
        if f != "manifest.jsonl":
            continue
        path = os.path.join(dirpath, f)
        data = open(path, "rb").read()
        if data and not data.endswith(b"\n"):
            problems.append(f"{path}: does not end in a newline")
        for i, raw in enumerate(data.splitlines(), 1):
            try:
                rec = json.loads(raw.decode("utf-8"), strict=True)
            except Exception as e:
                problems.append(f"{path}:{i}: not strict JSON ({e}): {raw!r}")
                continue
            if not isinstance(rec, dict):
                problems.append(f"{path}:{i}: not a JSON object: {raw!r}")
                continue
            for key in ("path", "source", "sha256", "size"):
                if key not in rec:
                    problems.append(f"{path}:{i}: no '{key}': {raw!r}")
            count += 1
if problems:
    print("\n".join(problems), file=sys.stderr)
    sys.exit(1)
print(count)
EOF
) || fail "manifest lines under $MF are not all valid JSON records (see above)"
  echo "$n"
}

assert_manifest_records() {  # N
  local n
  n=$(manifest_records)
  [[ "$n" == "$1" ]] || fail "manifest records under $MF: expected $1, found $n"
}

# Prints one field of every manifest record, one per line (strings raw).
manifest_field() {  # FIELD
  python3 - "$MF" "$1" <<'EOF'
import json, os, sys
root, field = sys.argv[1], sys.argv[2]
for dirpath, _, files in sorted(os.walk(root)):
    for f in files:
        if f == "manifest.jsonl":
            for raw in open(os.path.join(dirpath, f), "rb").read().splitlines():
                print(json.loads(raw.decode("utf-8")).get(field, ""))
EOF
}

CHECK_INVARIANTS=$(realpath "$(dirname "${BASH_SOURCE[0]}")/../../scripts/check-invariants.py")
# Python snippets of the tests load helpers such as unescape from it:
#   importlib.import_module("check-invariants").unescape
PYTHONPATH=$(dirname "$CHECK_INVARIANTS")${PYTHONPATH:+:$PYTHONPATH}
export PYTHONPATH

# The manifests and the dated partitions agree (scripts/check-invariants.py
# without a ledger): every record names a file in ingest_date=* holding the
# recorded size and sha256, and every file there has exactly one record, so
# no partial or unrecorded file is visible to readers. Lines that are not
# records (other people's garbage) are skipped when ALLOW_GARBAGE_LINES=1.
# OPTIONS go to the checker, e.g. --records N, or --ledger FILE --staging
# "$IN" --phase stopped|complete for the exactly-once checks of what
# write_ledger recorded.
assert_warehouse_consistent() {  # [OPTION...]
  local opts=() out
  [[ ${ALLOW_GARBAGE_LINES:-0} == 1 ]] && opts+=(--allow-garbage-lines)
  out=$(python3 "$CHECK_INVARIANTS" --warehouse "$WH" --manifests "$MF" "${opts[@]}" "$@" 2>&1) ||
    fail "the warehouse and the manifests disagree: $out"
}

# Writes a ledger of everything staged now (name, sha256, size, "new") to
# FILE, for assert_warehouse_consistent --ledger FILE.
write_ledger() {  # FILE
  local f
  : >"$1"
  for f in "$IN"/*; do
    printf '%s\t%s\t%s\tnew\n' "${f##*/}" "$(sha_of "$f")" "$(stat -c %s "$f")" >>"$1"
  done
}

# A field of the "summary {json}" line the last pass logged on stderr.
summary_field() {  # FIELD
  local v
  v=$(python3 - "$ERR" "$1" <<'EOF'
import json, sys
path, field = sys.argv[1], sys.argv[2]
summary = None
for line in open(path, "rb").read().decode("utf-8", "replace").splitlines():
    i = line.find(" summary {")
    if i >= 0:
        summary = json.loads(line[i + len(" summary "):])
if summary is None or field not in summary:
    sys.exit(1)
print(summary[field])
EOF
) || fail "no summary line with '$1' on stderr of the last pass"
  echo "$v"
}

assert_summary() {  # FIELD EXPECTED
  assert_eq "$2" "$(summary_field "$1")" "summary $1"
}

# A listing of a tree that changes when any entry is added, removed, resized
# or touched. Empty for a missing tree.
tree_listing() {  # DIR
  [[ -e "$1" ]] || { echo "(missing)"; return 0; }
  find "$1" -printf '%p %y %s %T@ %m\n' | LC_ALL=C sort
}

# Starts a background process that holds the run lock on $ST (flock on the
# directory, as a pass takes it) until it is killed or the test ends; sets
# $holder to its pid.
hold_state_lock() {
  mkdir -p "$ST"
  hold_lock "$ST"
}

# Holds an flock on PATH (a directory, or a file, created if missing) in a
# background process until the test ends; sets $holder to its pid.
hold_lock() {
  rm -f "$T/locked"
  (
    if [[ -d $1 ]]; then exec {fd}<"$1"; else exec {fd}<>"$1"; fi
    flock -n "$fd" || exit 1
    : >"$T/locked"
    exec sleep 300
  ) &
  holder=$!
  on_exit "kill -9 $holder 2>/dev/null; wait $holder 2>/dev/null"
  await_holder
}

# Waits until the background process $holder has created $T/locked.
await_holder() {
  for _ in $(seq 1 200); do
    [[ -e "$T/locked" ]] && return 0
    kill -0 "$holder" 2>/dev/null || fail "the lock holder could not take the lock"
    sleep 0.05
  done
  fail "the lock holder did not start"
}
