#!/usr/bin/env bash
# forget: a truncated upload was ingested; forgetting its content makes the
# next (whole) delivery of the same bytes ingest again, the act is recorded
# with its reason, rebuild-state honours it, and no warehouse file or
# manifest record is touched.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

forget() {  # ARG...
  RC=0
  "$ATOMIC_INGEST" forget --warehouse "$WH" --manifests "$MF" --state-path "$ST" "$@" \
    >"$OUT" 2>"$ERR" || RC=$?
}

printf 'id,v\n1,a\n' >"$T/content"
sha=$(sha_of "$T/content")

note "ingest, then forget by warehouse path with a reason"
cp "$T/content" "$IN/a.csv"
run_ingest --stability-seconds 0
assert_summary files_ingested 1
part=$(partition_dir)
cp "$T/content" "$IN/a-again.csv"
run_ingest --stability-seconds 0
assert_summary duplicates 1
forget "$part/a.csv" --reason "truncated upload, re-sent"
assert_rc 0
assert_contains "$OUT" "forgot $sha: ingested as $part/a.csv from $IN/a.csv"
assert_contains "$OUT" "released its claim in the warehouse"
assert_file "$MF/forgotten.jsonl"
assert_eq "truncated upload, re-sent" "$(python3 -c '
import json, sys
print(json.loads(open(sys.argv[1]).readline())["reason"])' "$MF/forgotten.jsonl")" "logged reason"
assert_same_content "$T/content" "$part/a.csv"
assert_manifest_records 1

note "explain of the next delivery says it was forgotten"
cp "$T/content" "$IN/a.csv"
"$ATOMIC_INGEST" explain --input "$IN" --manifests "$MF" --state-path "$ST" --warehouse "$WH" \
  --stability-seconds 0 "$IN/a.csv" >"$T/explain" 2>&1 || true
assert_contains "$T/explain" "the next pass ingests it"
assert_contains "$T/explain" "truncated upload, re-sent"

note "the next delivery is ingested again, once"
run_ingest --stability-seconds 0
assert_rc 0
assert_summary files_ingested 1
assert_manifest_records 2
cp "$T/content" "$IN/a-third.csv"
run_ingest --stability-seconds 0
assert_summary duplicates 1
"$ATOMIC_INGEST" verify --warehouse "$WH" --manifests "$MF" >"$T/verify" 2>&1 ||
  fail "verify: $(cat "$T/verify")"

note "rebuild-state honours the forget: the later ingest stands"
"$ATOMIC_INGEST" rebuild-state --manifests "$MF" --state-path "$ST" 2>"$T/rebuild" ||
  fail "rebuild-state: $(cat "$T/rebuild")"
assert_contains "$T/rebuild" "1 forgotten"
cp "$T/content" "$IN/a-fourth.csv"
run_ingest --stability-seconds 0
assert_rc 0
assert_summary files_ingested 0
assert_summary duplicates 1

note "forget by sha256, then a rebuild before the next delivery"
forget "$sha"
assert_rc 0
"$ATOMIC_INGEST" rebuild-state --manifests "$MF" --state-path "$ST" 2>"$T/rebuild" ||
  fail "rebuild-state: $(cat "$T/rebuild")"
cp "$T/content" "$IN/a-fifth.csv"
run_ingest --stability-seconds 0
assert_rc 0
assert_summary files_ingested 1

note "errors"
forget "$(printf '%064d' 0)"
assert_rc 1
assert_contains "$ERR" "is not known"
forget "$T/no-such-file"
assert_rc 1
assert_contains "$ERR" "$T/no-such-file: no such file"
forget
assert_rc 2
assert_contains "$ERR" "forget needs a PATH or a sha256"
