#!/usr/bin/env bash
# logrotate with its rotated files landing in staging (`olddir`), run for
# real. `create` leaves a fresh, empty log behind at every rotation, and the
# next rotation moves that empty file into staging: without --min-size the
# first empty file is ingested and every later one is a duplicate of it;
# with --min-size 1 none of them is ever ingested or quarantined, and they
# stay in staging. With `dateext` each rotated file has a name of its own
# and is ingested once, with its content.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v logrotate >/dev/null || skip "logrotate is not installed"

# Writes the logrotate configuration FILE for the log LOG, its rotated files
# going to the current $IN, with extra directives "$@".
logrotate_conf() {  # FILE LOG DIRECTIVE...
  local conf=$1 log=$2
  shift 2
  {
    echo "$log {"
    echo "    olddir $IN"
    echo "    rotate 10"
    echo "    ifempty"
    echo "    create 0640"
    printf '    %s\n' "$@"
    echo "}"
  } >"$conf"
}

# Rotates with configuration FILE now, whatever the schedule says.
rotate() {  # FILE
  logrotate -s "$T/logrotate.state" -f "$1" 2>"$T/logrotate.err" ||
    fail "logrotate -f $1 failed: $(cat "$T/logrotate.err")"
}

note "create, --min-size 1: the empty logs are never candidates"
new_roots create
mkdir -p "$T/create/logs"
log=$T/create/logs/app.log
logrotate_conf "$T/create.conf" "$log"
printf 'line 1\nline 2\n' >"$log"
cp "$log" "$T/first"
rotate "$T/create.conf"
assert_same_content "$T/first" "$IN/app.log.1"
assert_eq 0 "$(stat -c %s "$log")" "size of the log logrotate created"
run_ingest --stability-seconds 0 --min-size 1
assert_rc 0
assert_summary files_ingested 1
assert_same_content "$T/first" "$(partition_dir)/app.log.1"
# Nothing was written to the new log: each rotation now moves an empty file
# into staging.
rotate "$T/create.conf"
assert_eq 0 "$(stat -c %s "$IN/app.log.1")" "size of the second rotated file"
run_ingest --stability-seconds 0 --min-size 1
assert_rc 0
assert_summary files_ingested 0
assert_summary duplicates 0
assert_summary failed 0
assert_summary skipped 1
rotate "$T/create.conf"
run_ingest --stability-seconds 0 --min-size 1
assert_rc 0
assert_summary files_ingested 0
assert_summary duplicates 0
assert_summary failed 0
assert_summary skipped 2
assert_file "$IN/app.log.1"
assert_file "$IN/app.log.2"
assert_ingested_count 1
assert_duplicate_count 0
assert_manifest_records 1
RC=0
"$ATOMIC_INGEST" explain "$IN/app.log.1" --input "$IN" --warehouse "$WH" --manifests "$MF" \
  --state-path "$ST" --min-size 1 >"$OUT" 2>"$ERR" || RC=$?
assert_rc 0 "explain of an empty rotated file"
assert_contains "$OUT" "$IN/app.log.1: smaller than --min-size 1; never ingested while it is"
RC=0
"$ATOMIC_INGEST" status --input "$IN" --state-path "$ST" --min-size 1 >"$OUT" 2>"$ERR" || RC=$?
assert_rc 0 "status"
assert_contains "$OUT" "skipped: 2 (never candidates)"

note "dateext, --min-size 1: each rotated file is ingested once, with its content"
new_roots dateext
mkdir -p "$T/dateext/logs"
log=$T/dateext/logs/app.log
# Seconds in the name: two rotations of one day get two names.
logrotate_conf "$T/dateext.conf" "$log" dateext "dateformat -%Y%m%d-%s"
contents=()
for i in 1 2 3; do
  printf 'rotation %s\n' "$i" >>"$log"
  cp "$log" "$T/rotated.$i"
  contents+=("$T/rotated.$i")
  rotate "$T/dateext.conf"
  sleep 1.1  # the next name's seconds differ
done
rotate "$T/dateext.conf"  # the empty log that `create` made
assert_eq 4 "$(staged_files | count_lines)" "rotated files in staging"
run_ingest --stability-seconds 0 --min-size 1
assert_rc 0
assert_summary files_ingested 3
assert_summary duplicates 0
assert_summary skipped 1
assert_ingested_count 3
assert_duplicate_count 0
assert_manifest_records 3
assert_warehouse_consistent
for f in "${contents[@]}"; do
  sha=$(sha_of "$f")
  n=$(manifest_field sha256 | grep -cx "$sha" || true)
  assert_eq 1 "$n" "manifest records of $(cat "$f")"
done
for f in $(ingested_files); do
  [[ $(basename "$f") =~ ^app\.log-[0-9]{8}-[0-9]+$ ]] || fail "not a dateext name: $f"
done
left=$(staged_files)
[[ $(basename "$left") =~ ^app\.log-[0-9]{8}-[0-9]+$ ]] || fail "not a dateext name: $left"
assert_eq 0 "$(stat -c %s "$left")" "size of the file left in staging"
run_ingest --stability-seconds 0 --min-size 1
assert_rc 0
assert_summary files_ingested 0
assert_manifest_records 3

note "create, without --min-size: the old behaviour"
new_roots default
mkdir -p "$T/default/logs"
log=$T/default/logs/app.log
logrotate_conf "$T/default.conf" "$log"
: >"$log"
rotate "$T/default.conf"
run_ingest --stability-seconds 0
assert_rc 0
assert_summary files_ingested 1
assert_eq 0 "$(stat -c %s "$(partition_dir)/app.log.1")" "size of the ingested file"
rotate "$T/default.conf"
run_ingest --stability-seconds 0
assert_rc 0
assert_summary files_ingested 0
assert_summary duplicates 1
assert_ingested_count 1
assert_duplicate_count 1
assert_manifest_records 1
assert_eq "" "$(staged_files)" "files left in staging"
