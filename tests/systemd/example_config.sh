#!/usr/bin/env bash
# systemd-timers/example.conf sets every key a --config file may hold (every
# flag of --help but --config, --help, --version, the verify bounds --since
# and --until, and the status and explain flags --json and --limit), and the
# binary accepts it: a dry run with the four paths overridden on the command
# line exits 0.
#
# Argument: the example configuration.
source "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"

example=$1

# The option lines of --help: "  --flag arg ..." or "  -h [ --help ] ...".
"$ATOMIC_INGEST" --help >"$T/help"
grep -oE '^  (-[a-z] \[ )?--[a-z][a-z-]*' "$T/help" | grep -oE -- '--[a-z-]+' |
  sed 's/^--//' | grep -vxE 'config|help|version|since|until|json|limit' | LC_ALL=C sort >"$T/settable"
[[ -s "$T/settable" ]] || fail "no flags found in --help: $(cat "$T/help")"

sed -nE 's/^[[:space:]]*([a-z][a-z-]*)[[:space:]]*=.*/\1/p' "$example" | LC_ALL=C sort >"$T/keys"
missing=$(LC_ALL=C comm -23 "$T/settable" "$T/keys" | tr '\n' ' ')
unknown=$(LC_ALL=C comm -13 "$T/settable" "$T/keys" | tr '\n' ' ')
assert_eq "" "$missing" "flags of --help without a key in $example"
assert_eq "" "$unknown" "keys in $example that are not flags of --help"

run_ingest --config "$example" --dry-run
assert_rc 0 "dry run with --config $example"
