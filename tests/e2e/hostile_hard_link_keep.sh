#!/usr/bin/env bash
# README: with --on-duplicate keep a duplicate "stays in staging and its
# identity is remembered so it is never hashed again". For two hard links
# of one inode ingested in one pass, the rename of the original changes the
# shared inode's ctime after the kept name was hashed, so the remembered
# tuple no longer matches: the next pass hashes the kept name again and
# reports it as a duplicate a second time. This script asserts the
# documented behaviour (the second pass skips it unhashed).
source "$(dirname "${BASH_SOURCE[0]}")/hostile_lib.sh"

printf 'one inode, two names, keep\n' >"$IN/a.csv"
ln "$IN/a.csv" "$IN/b.csv"
cp "$IN/a.csv" "$T/keep.expected"
run_ingest --stability-seconds 0 --on-duplicate keep --concurrency 1
assert_rc 0
assert_summary files_ingested 1
assert_summary duplicates 1
run_ingest --stability-seconds 0 --on-duplicate keep --log-level debug
assert_rc 0
assert_summary files_ingested 0
assert_summary duplicates 0
assert_summary skipped 1
assert_contains "$ERR" "skip $IN/b.csv: kept duplicate"
assert_same_content "$T/keep.expected" "$IN/b.csv"
