#!/usr/bin/env bash
# A pass killed in the middle of a batch's renames leaves open intents; the
# next pass finishes the files that had moved and rolls back the others, then
# ingests what is still staged: each content ends up once in ingest_date=*
# with one manifest record, staging is drained, and the summary counts the
# recovered commits. The kill is injected with strace (SIGKILL on entering
# the Nth renameat2).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/strace_lib.sh"
require_strace_inject renameat2:error=EIO

# Every manifest record names a file in ingest_date=* that holds the
# recorded content.
assert_records_point_at_files() {
  python3 - "$MF" "$WH" <<'EOF' || fail "manifest records that do not match the warehouse (see above)"
import hashlib, json, os, sys
problems = []
for dirpath, _, files in os.walk(sys.argv[1]):
    for f in files:
        for raw in open(os.path.join(dirpath, f), "rb").read().splitlines():
            rec = json.loads(raw)
            path = rec["path"]
            if not path.startswith(os.path.join(sys.argv[2], "ingest_date=")):
                problems.append(f"not in a dated partition: {raw!r}")
            elif not os.path.isfile(path):
                problems.append(f"no file at {path!r}: {raw!r}")
            elif hashlib.sha256(open(path, "rb").read()).hexdigest() != rec["sha256"]:
                problems.append(f"{path!r} does not hold the recorded content: {raw!r}")
if problems:
    print("\n".join(problems), file=sys.stderr)
    sys.exit(1)
EOF
}

# a, b and c are distinct; d repeats a, so the batch also quarantines.
# The committer renames in arrival order (ctime, then name): a, b, c, d.
stage() {
  local name
  for name in a b c; do printf 'content of %s\n' "$name" >"$IN/$name.csv"; done
  printf 'content of a\n' >"$IN/d.csv"
}

for when in 2 3 4; do
  note "killed on entering rename number $when"
  new_roots "kill_$when"
  stage
  run_traced -e trace=renameat2 -e "inject=renameat2:signal=KILL:when=$when" -- \
    --stability-seconds 0 --concurrency 1
  [[ $RC -eq $((128 + 9)) ]] || fail "the traced pass: expected to be killed by SIGKILL (exit 137), found exit $RC"
  assert_ingested_count $((when - 1))
  assert_eq "" "$(duplicate_files)" "files quarantined by the killed pass"

  run_ingest --stability-seconds 0 --concurrency 1
  assert_rc 0 "exit code of the pass after the kill"
  recovered=$(summary_field recovered)
  [[ $recovered -gt 0 ]] || fail "summary recovered: expected more than 0, found $recovered"
  assert_summary failed 0
  assert_eq "" "$(staged_files)" "files left in staging"
  assert_ingested_count 3
  assert_duplicate_count 1
  assert_manifest_records 3
  assert_eq 3 "$(manifest_field sha256 | sort -u | count_lines)" "distinct sha256 in the manifest"
  assert_records_point_at_files
  part=$(partition_dir)
  for name in a b c; do
    assert_eq "content of $name" "$(cat "$part/$name.csv" 2>/dev/null)" "content of the ingested $name.csv"
  done
  assert_eq "content of a" "$(cat "$WH/_duplicates/$(basename "$part")/d.csv" 2>/dev/null)" \
    "content of the quarantined d.csv"
  if [[ -d "$WH/.atomic-ingest-tmp" ]]; then
    assert_eq "" "$(find "$WH/.atomic-ingest-tmp" -mindepth 1)" "files left in $WH/.atomic-ingest-tmp"
  fi

  # Nothing is left open.
  run_ingest --stability-seconds 0 --concurrency 1
  assert_rc 0
  assert_summary recovered 0
  assert_summary files_ingested 0
  assert_manifest_records 3
done
