#!/usr/bin/env bash
# systemd-timers/example.conf sets every key a --config file may hold (every
# flag of the table that is a config key; --config, --help, --version, the
# verify bounds and the status and explain flags are command-line only), and
# holds no other key; and the binary accepts it: a dry run with the four
# paths overridden on the command line exits 0.
#
# Argument: the example configuration. LIST_FLAGS names the program that
# prints the flag table.
source "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"

example=$1
: "${LIST_FLAGS:?LIST_FLAGS must name the program that prints the flag table}"

"$LIST_FLAGS" >"$T/flags"
awk '$2 == "config" { print $1 }' "$T/flags" | LC_ALL=C sort >"$T/settable"
[[ -s "$T/settable" ]] || fail "no config keys in the flag table: $(cat "$T/flags")"

sed -nE 's/^[[:space:]]*([a-z][a-z-]*)[[:space:]]*=.*/\1/p' "$example" | LC_ALL=C sort >"$T/keys"
missing=$(LC_ALL=C comm -23 "$T/settable" "$T/keys" | tr '\n' ' ')
unknown=$(LC_ALL=C comm -13 "$T/settable" "$T/keys" | tr '\n' ' ')
assert_eq "" "$missing" "config keys of the flag table without a key in $example"
assert_eq "" "$unknown" "keys in $example that are not config keys of the flag table"

run_ingest --config "$example" --dry-run
assert_rc 0 "dry run with --config $example"
