#!/usr/bin/env bash
# Each invalid command line exits 2 with one line on stderr that names the
# offending flag, prints nothing on stdout and creates nothing.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

mkdir -p "$T/in" "$T/shared"
: >"$T/regular-file"
roots=(--warehouse "$T/wh" --manifests "$T/mf" --state-path "$T/st")
good=(--input "$T/in" "${roots[@]}")

check() {  # FLAG_NAMED ARGS...
  local flag=$1
  shift
  RC=0
  "$ATOMIC_INGEST" "$@" >"$OUT" 2>"$ERR" || RC=$?
  local what="atomic-ingest $*"
  assert_rc 2 "exit code of: $what"
  assert_eq 1 "$(count_lines <"$ERR")" "lines on stderr for: $what"
  assert_contains "$ERR" "$flag" "stderr for: $what"
  assert_eq 0 "$(wc -c <"$OUT")" "bytes on stdout for: $what"
  for d in "$T/wh" "$T/mf" "$T/st"; do assert_missing "$d"; done
}

check --input "${roots[@]}"
check --input --input "" "${roots[@]}"
check --input --input "$T/nonexistent" "${roots[@]}"
check --input --input "$T/regular-file" "${roots[@]}"
check --warehouse --input "$T/in" --warehouse "$T/regular-file" --manifests "$T/mf" --state-path "$T/st"
check --warehouse --input "$T/in" --warehouse "$T/shared" --manifests "$T/shared" --state-path "$T/st"
check --input --input "$T/in" --warehouse "$T/in" --manifests "$T/mf" --state-path "$T/st"
check --state-path --input "$T/in" --warehouse "$T/wh" --manifests "$T/mf" --state-path "$T/in/"
check --warehouse --input "$T/in" --warehouse "$T/in/wh" --manifests "$T/mf" --state-path "$T/st"
check --manifests --input "$T/in" --warehouse "$T/wh" --manifests "$T/wh/manifests" --state-path "$T/st"
check --input --input "$T/in/../in/." --warehouse "$T/wh" --manifests "$T/mf" --state-path "$T/in/state"
check --concurrency "${good[@]}" --concurrency 0
check --concurrency "${good[@]}" --concurrency many
check --stability-seconds "${good[@]}" --stability-seconds -1
check --stability-seconds "${good[@]}" --stability-seconds=-1
check --batch-size "${good[@]}" --batch-size 0
check --mode "${good[@]}" --mode bogus
check --on-duplicate "${good[@]}" --on-duplicate overwrite
check --log-level "${good[@]}" --log-level loud
check --shard "${good[@]}" --shard 2/2
check --shard "${good[@]}" --shard 0/0
check --shard "${good[@]}" --shard 0/1025
check --shard "${good[@]}" --shard 1
check --shard "${good[@]}" --shard -1/2
check --bogus "${good[@]}" --bogus
check bogus bogus "${good[@]}"

# The same directories, spelled well, are accepted.
RC=0
"$ATOMIC_INGEST" "${good[@]}" --stability-seconds 0 >"$OUT" 2>"$ERR" || RC=$?
assert_rc 0 "exit code of a valid command line"
