#!/usr/bin/env bash
# Bad configuration that bad_flags.sh does not cover: each command line
# exits 2 with one line on stderr naming the offending flag, prints nothing
# on stdout and creates nothing. Paths that are not directories (files,
# symlinks to files, dangling symlinks, a file in the middle of the path);
# one directory in two roles or trees that overlap, spelled through
# symlinks, "." and ".." or a trailing slash; numbers that are negative,
# absurd, fractional, suffixed or overflow; a flag given twice; a bad
# --config file.
source "$(dirname "${BASH_SOURCE[0]}")/hostile_lib.sh"

mkdir -p "$T/in" "$T/mf-existing" "$T/in/sub"
: >"$T/regular-file"
ln -s "$T/regular-file" "$T/link-to-file"
ln -s "$T/missing" "$T/dangling"
ln -s "$T/mf-existing" "$T/link-to-mf"
ln -s "$T/in" "$T/link-to-in"
ln -s "$T" "$T/link-to-top"
created=("$T/wh" "$T/mf" "$T/st")
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
  local d
  for d in "${created[@]}"; do assert_missing "$d"; done
  assert_eq "" "$(find "$T/mf-existing" "$T/in" -mindepth 1 ! -path "$T/in/sub")" "entries created in the existing directories"
}

note "not directories"
check --input --input "$T/link-to-file" "${roots[@]}"
check --input --input "$T/dangling" "${roots[@]}"
check --input --input "$T/regular-file/in" "${roots[@]}"
check --warehouse --input "$T/in" --warehouse "$T/regular-file/wh" --manifests "$T/mf" --state-path "$T/st"
check --warehouse --input "$T/in" --warehouse "$T/link-to-file" --manifests "$T/mf" --state-path "$T/st"
check --manifests --input "$T/in" --warehouse "$T/wh" --manifests "$T/regular-file" --state-path "$T/st"
check --manifests --input "$T/in" --warehouse "$T/wh" --manifests "$T/regular-file/mf" --state-path "$T/st"
check --state-path --input "$T/in" --warehouse "$T/wh" --manifests "$T/mf" --state-path "$T/regular-file"
check --state-path --input "$T/in" --warehouse "$T/wh" --manifests "$T/mf" --state-path "$T/link-to-file"
check --state-path --input "$T/in" --warehouse "$T/wh" --manifests "$T/mf" --state-path ""

note "one directory in two roles"
check --warehouse --input "$T/in" --warehouse "$T/link-to-mf" --manifests "$T/mf-existing" --state-path "$T/st"
check --manifests --input "$T/in" --warehouse "$T/wh" --manifests "$T/mf-existing/" --state-path "$T/mf-existing/."
check --input --input "$T/in" --warehouse "$T/link-to-in" --manifests "$T/mf" --state-path "$T/st"
check --input --input "$T/link-to-in/" --warehouse "$T/wh" --manifests "$T/mf" --state-path "$T/in/sub/.."
check --state-path --input "$T/in" --warehouse "$T/wh" --manifests "$T/new" --state-path "$T/new/../new"

note "overlapping trees"
check --state-path --input "$T/in" --warehouse "$T/wh" --manifests "$T/mf" --state-path "$T/mf/state"
check --state-path --input "$T/in" --warehouse "$T/wh" --manifests "$T/mf" --state-path "$T/wh/state"
check --manifests --input "$T/in" --warehouse "$T/wh" --manifests "$T/in/sub/mf" --state-path "$T/st"
check --warehouse --input "$T/in" --warehouse "$T/link-to-in/wh" --manifests "$T/mf" --state-path "$T/st"
check --input --input "$T/in" --warehouse "$T" --manifests "$T/mf" --state-path "$T/st"
check --input --input "$T/in" --warehouse "$T/link-to-top" --manifests "$T/mf" --state-path "$T/st"
check --warehouse --input "$T/in" --warehouse / --manifests "$T/mf" --state-path "$T/st"

note "numbers"
check --stability-seconds "${good[@]}" --stability-seconds 604801
check --stability-seconds "${good[@]}" --stability-seconds 99999999999999999999
check --stability-seconds "${good[@]}" --stability-seconds -9223372036854775808
check --stability-seconds "${good[@]}" --stability-seconds 1.5
check --stability-seconds "${good[@]}" --stability-seconds 30s
check --stability-seconds "${good[@]}" --stability-seconds ""
check --stability-seconds "${good[@]}" --stability-seconds 0x10
check --concurrency "${good[@]}" --concurrency -1
check --concurrency "${good[@]}" --concurrency 257
check --concurrency "${good[@]}" --concurrency 4294967297
check --batch-size "${good[@]}" --batch-size 100001
check --batch-size "${good[@]}" --batch-size -5
check --max-files "${good[@]}" --max-files -1
check --max-seconds "${good[@]}" --max-seconds 604801
check --log-format "${good[@]}" --log-format xml

note "a flag twice, a bad --config"
check --input "${good[@]}" --input "$T/in"
check --stability-seconds "${good[@]}" --stability-seconds 1 --stability-seconds 2
check --config "${good[@]}" --config "$T/missing.conf"
printf 'stability-seconds = -1\n' >"$T/negative.conf"
check --stability-seconds "${good[@]}" --config "$T/negative.conf"
printf 'no-such-flag = 1\n' >"$T/unknown.conf"
check --config "${good[@]}" --config "$T/unknown.conf"

note "the limits themselves are accepted"
RC=0
"$ATOMIC_INGEST" "${good[@]}" --stability-seconds 604800 --concurrency 256 --batch-size 100000 \
  --dry-run >"$OUT" 2>"$ERR" || RC=$?
assert_rc 0 "exit code at the limits"
