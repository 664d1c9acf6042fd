#!/usr/bin/env bash
# The manifests are the source of truth for what was ingested. A state
# directory that lost its database makes a pass refuse (it would ingest
# everything again) and point at rebuild-state; rebuild-state rebuilds the
# content index from the manifests, skipping lines that are not records, so
# that content ingested before is recognised as a duplicate afterwards.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bad=$'bad\xff\xfe name.csv'
printf 'alpha\n' >"$T/alpha"
printf 'not utf-8\n' >"$T/bad"
printf 'gamma\n' >"$T/gamma"
cp "$T/alpha" "$IN/alpha.csv"
cp "$T/bad" "$IN/$bad"
cp "$T/gamma" "$IN/gamma.csv"
run_ingest --stability-seconds 0 --concurrency 1
assert_rc 0
assert_summary files_ingested 3
assert_manifest_records 3
part=$(partition_dir)

run_rebuild() {
  RC=0
  timeout -k 5 "${INGEST_TIMEOUT:-60}" "$ATOMIC_INGEST" rebuild-state \
    --manifests "$MF" --state-path "$ST" >"$OUT" 2>"$ERR" || RC=$?
}

note "a pass refuses to run without the state database"
rm -rf -- "$ST/db"
printf 'delta\n' >"$T/delta"
cp "$T/delta" "$IN/delta.csv"
tree_listing "$WH" >"$T/warehouse.before"
cp -a "$MF" "$T/manifests.before"
run_ingest --stability-seconds 0 --concurrency 1
assert_rc 1
assert_contains "$ERR" "state database $ST/db" "stderr of the refused pass"
assert_contains "$ERR" "rebuild-state" "stderr of the refused pass"
assert_matches "$ERR" '^[^ ]+ error ' "stderr of the refused pass"
assert_same_content "$T/delta" "$IN/delta.csv"
assert_eq "$IN/delta.csv" "$(staged_files)" "files in staging"
tree_listing "$WH" >"$T/warehouse.after"
cmp -s "$T/warehouse.before" "$T/warehouse.after" || fail "the refused pass changed $WH"
diff -r "$T/manifests.before" "$MF" >&2 || fail "the refused pass changed $MF"
assert_missing "$ST/db/CURRENT"

note "rebuild-state rebuilds the index from the manifests"
run_rebuild
assert_rc 0 "exit code of rebuild-state"
assert_contains "$ERR" "3 records from 1 manifests" "stderr of rebuild-state"
assert_file "$ST/db/CURRENT"
replaced=("$ST"/db.replaced-*)
assert_eq 0 "${#replaced[@]}" "old databases kept aside (there was none)"

note "after the rebuild, old content is a duplicate and new content is ingested"
cp "$T/alpha" "$IN/alpha-again.csv"
cp "$T/bad" "$IN/bad-again.csv"
run_ingest --stability-seconds 0 --concurrency 1
assert_rc 0
assert_summary files_ingested 1
assert_summary duplicates 2
assert_eq "" "$(staged_files)" "files left in staging"
assert_same_content "$T/delta" "$part/delta.csv"
dup_dir=$WH/_duplicates/$(basename "$part")
assert_same_content "$T/alpha" "$dup_dir/alpha-again.csv"
assert_same_content "$T/bad" "$dup_dir/bad-again.csv"
assert_contains "$ERR" "duplicate of $part/alpha.csv: $IN/alpha-again.csv quarantined"
# The log shows a name that is not UTF-8 escaped.
assert_contains "$ERR" "duplicate of $part/"'bad\xff\xfe name.csv'": $IN/bad-again.csv quarantined"
assert_ingested_count 4
assert_duplicate_count 2
assert_manifest_records 4
assert_eq 4 "$(manifest_field sha256 | sort -u | count_lines)" "distinct sha256 in the manifest"

note "lines that are not records are skipped with a warning"
m=$(find "$MF" -name manifest.jsonl)
[[ $(count_lines <"$m") == 4 ]] || fail "expected one manifest of 4 records, found $(find "$MF" -name manifest.jsonl -exec wc -l {} +)"
# Someone else's lines after the first record: prose, JSON that is not a
# record, a record missing fields, and bytes that are not UTF-8.
python3 - "$m" <<'EOF'
import sys
path = sys.argv[1]
lines = open(path, "rb").read().split(b"\n")
garbage = [b"this is not json", b'{"path": 1}', b'{"path": "/x", "source": "/y"}', b"\xff\xfe{"]
lines[1:1] = garbage
open(path, "wb").write(b"\n".join(lines))
EOF
# A journal left by a pass that did not end cleanly is numbered against the
# old database: it goes aside with it, untouched.
printf 'AIJ1 left over' >"$ST/intents"
run_rebuild
assert_rc 0 "exit code of rebuild-state over garbage lines"
assert_contains "$ERR" "the intent journal $ST/intents was not empty" "stderr of rebuild-state"
journals=("$ST"/intents.replaced-*)
assert_eq 1 "${#journals[@]}" "old intent journals kept aside"
assert_eq "AIJ1 left over" "$(cat "${journals[0]}")" "the journal kept aside"
for line in 2 3 4 5; do
  assert_matches "$ERR" "^[^ ]+ warn[a-z]* $m:$line: " "stderr of rebuild-state"
done
assert_contains "$ERR" "4 records from 1 manifests (4 lines ignored" "stderr of rebuild-state"
replaced=("$ST"/db.replaced-*)
assert_eq 1 "${#replaced[@]}" "old databases kept aside"
assert_file "${replaced[0]}/CURRENT"

# Records after the garbage still count: gamma and delta come after it.
cp "$T/gamma" "$IN/gamma-again.csv"
cp "$T/delta" "$IN/delta-again.csv"
printf 'epsilon\n' >"$IN/epsilon.csv"
run_ingest --stability-seconds 0 --concurrency 1
assert_rc 0
assert_summary files_ingested 1
assert_summary duplicates 2
assert_eq "" "$(staged_files)" "files left in staging"
assert_same_content "$T/gamma" "$dup_dir/gamma-again.csv"
assert_same_content "$T/delta" "$dup_dir/delta-again.csv"
assert_file "$part/epsilon.csv"
assert_ingested_count 5
assert_duplicate_count 4
assert_eq 5 "$(grep -c '"sha256"' "$m")" "records in $m"
