#!/usr/bin/env bash
# atomic-ingest-shard@NAME-KofN.service maps its instance name to
# "run --config /etc/atomic-ingest/NAME.conf --shard K/N --state-path
# $ATOMIC_INGEST_SHARD_STATE/NAME-KofN": its ExecStart= line, with systemd's
# escapes and %i resolved as systemd does, is run with the binary under test
# replaced by one that prints its arguments. A name that is not NAME-KofN
# reaches the binary as a --shard it refuses (exit 2, naming the flag).
#
# Argument: the shard service unit generated with BINDIR naming the build
# directory.
source "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"

unit=$1
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
[[ -n "$exec_start" ]] || fail "no ExecStart= in $unit"
bindir=$(dirname "$ATOMIC_INGEST")

# Runs the ExecStart= line for instance $1 with @BINDIR@ replaced by $2
# and /etc/atomic-ingest by $3, if given.
run_unit() {
  local instance=$1 dir=$2 etc=${3:-/etc/atomic-ingest} line
  line=${exec_start//\$\$/\$}
  line=${line//%i/$instance}
  line=${line//%%/%}
  line=${line//"$bindir"/$dir}
  line=${line//\/etc\/atomic-ingest/$etc}
  RC=0
  ATOMIC_INGEST_SHARD_STATE=/srv/atomic-ingest-state eval "$line" >"$OUT" 2>"$ERR" || RC=$?
}

mkdir -p "$T/stub"
cat >"$T/stub/atomic-ingest" <<'STUB'
#!/bin/sh
printf '%s\n' "$@"
STUB
chmod +x "$T/stub/atomic-ingest"

run_unit main-0of2 "$T/stub"
assert_rc 0 "main-0of2"
assert_eq "run --config /etc/atomic-ingest/main.conf --shard 0/2 --state-path /srv/atomic-ingest-state/main-0of2" \
  "$(tr '\n' ' ' <"$OUT" | sed 's/ $//')" "arguments for main-0of2"
run_unit web-logs-13of1024 "$T/stub"
assert_eq "run --config /etc/atomic-ingest/web-logs.conf --shard 13/1024 --state-path /srv/atomic-ingest-state/web-logs-13of1024" \
  "$(tr '\n' ' ' <"$OUT" | sed 's/ $//')" "arguments for web-logs-13of1024"

# The real binary refuses an instance name without KofN.
mkdir -p "$T/etc" "$T/in"
printf 'input = %s\nwarehouse = %s\nmanifests = %s\n' "$T/in" "$T/wh" "$T/mf" >"$T/etc/main.conf"
run_unit main "$bindir" "$T/etc"
assert_rc 2 "instance 'main'"
assert_contains "$ERR" "--shard 'main/main': must be K/N"
