#!/usr/bin/env bash
# systemd-analyze verify accepts atomic-ingest@.service,
# atomic-ingest@.timer, atomic-ingest-watch@.service and the shard units
# without a single
# warning, and each service's exposure (systemd-analyze security) stays at
# or below 2.0. Skipped (exit 77) where systemd-analyze is missing:
# scripts/deps installs it.
#
# Arguments: the service unit generated with ExecStart= naming the built
# binary (verify checks that the binary exists), the timer unit, the manual
# page (verify checks Documentation=man:atomic-ingest(1) with man(1)), the
# watch service unit generated likewise, the shard service unit generated
# likewise and the shard timer unit.
source "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"

service=$1 timer=$2 man_page=$3 watch=$4 shard=$5 shard_timer=$6
if ! command -v systemd-analyze >/dev/null; then
  echo "SKIP: systemd-analyze is not installed (Debian package systemd)"
  exit 77
fi

mkdir -p "$T/units" "$T/man/man1"
cp -- "$service" "$timer" "$watch" "$shard" "$shard_timer" "$T/units/"
cp -- "$man_page" "$T/man/man1/"
export MANPATH=$T/man
man_check=()
command -v man >/dev/null || man_check=(--man=no)

# Some mistakes (an unknown key, an unknown system call group) are only
# warnings with exit 0, so any output fails the test.
RC=0
systemd-analyze verify "${man_check[@]}" \
  "$T/units/atomic-ingest@test.service" "$T/units/atomic-ingest@test.timer" \
  "$T/units/atomic-ingest-watch@test.service" \
  "$T/units/atomic-ingest-shard@main-0of2.service" "$T/units/atomic-ingest-shard@main-0of2.timer" \
  >"$OUT" 2>"$ERR" || RC=$?
assert_rc 0 "systemd-analyze verify"
assert_eq "" "$(cat "$OUT" "$ERR")" "systemd-analyze verify output"

# --threshold counts in tenths: 20 is an exposure of 2.0.
for unit in atomic-ingest@test.service atomic-ingest-watch@test.service \
  atomic-ingest-shard@main-0of2.service; do
  RC=0
  systemd-analyze security --offline=true --threshold=20 "$T/units/$unit" >"$OUT" 2>"$ERR" || RC=$?
  echo "$unit: $(grep -F 'Overall exposure level' "$OUT" || true)"
  assert_rc 0 "systemd-analyze security --threshold=20 of $unit (exposure above 2.0?)"
done
