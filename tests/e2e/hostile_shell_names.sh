#!/usr/bin/env bash
# File names are never passed through a shell or used as a format string:
# names holding command substitutions, separators, redirections, globs and
# printf/fmt directives are ingested literally, by the pass and in a dry
# run, with no side effect (no file created, nothing removed) and with the
# exact names in the warehouse, the manifest records and the log.
source "$(dirname "${BASH_SOURCE[0]}")/hostile_lib.sh"

mkdir "$T/cwd" "$T/cwd/x" "$T/x"
: >"$T/cwd/x/keep" ; : >"$T/x/keep"
names=(
  '$(touch pwned1)'
  '`touch pwned2`'
  ';rm -rf x'
  '; touch pwned3 #.csv'
  '&& touch pwned4'
  '| tee pwned5'
  '> pwned6'
  '$HOME ${PATH} $((1+1)).csv'
  "'; touch pwned7; '"
  '%s%n%x%p.csv'
  '{}.csv'
  '{0}{1}{:>99999999}.csv'
  '\x41\n\u0000.csv'
)
i=0
for n in "${names[@]}"; do
  printf 'content %d\n' "$i" >"$IN/$n"
  i=$((i + 1))
done

check_no_side_effects() {
  local found
  # Where a command run by mistake would create them: the pass's working
  # directory, the test's, /tmp and the home directory.
  found=$(find "$T" "$PWD" /tmp "${HOME:-/root}" -maxdepth 3 -name 'pwned*' -newer "$T/cwd/x/keep" \
    2>/dev/null | head -5)
  assert_eq "" "$found" "files created by a name run as a command"
  assert_file "$T/cwd/x/keep"
  assert_file "$T/x/keep"
}

note "dry run"
RC=0
(cd "$T/cwd" && exec "$ATOMIC_INGEST" --input "$IN" --warehouse "$WH" --manifests "$MF" \
  --state-path "$ST" --stability-seconds 0 --dry-run) >"$OUT" 2>"$ERR" || RC=$?
assert_rc 0
assert_eq "${#names[@]}" "$(grep -c '^ingest ' "$OUT")" "files the dry run would ingest"
# Printed names have each backslash doubled (README, "Logs and the summary").
for n in "${names[@]}"; do assert_contains "$OUT" "ingest $IN/${n//\\/\\\\} -> " "dry-run output"; done
check_no_side_effects

note "the pass"
RC=0
(cd "$T/cwd" && exec "$ATOMIC_INGEST" --input "$IN" --warehouse "$WH" --manifests "$MF" \
  --state-path "$ST" --stability-seconds 0) >"$OUT" 2>"$ERR" || RC=$?
assert_rc 0
assert_summary files_ingested "${#names[@]}"
check_no_side_effects
part=$(partition_dir)
i=0
for n in "${names[@]}"; do
  assert_eq "content $i" "$(cat "$part/$n" 2>/dev/null)" "content of the ingested $(printf %q "$n")"
  p=${n//\\/\\\\}
  assert_contains "$ERR" "ingested $IN/$p -> $part/$p " "log of $(printf %q "$n")"
  i=$((i + 1))
done
assert_eq "" "$(staged_files)" "files left in staging"
assert_manifest_records "${#names[@]}"
assert_warehouse_consistent
manifest_field source | LC_ALL=C sort >"$T/sources"
for n in "${names[@]}"; do printf '%s\n' "$IN/$n"; done | LC_ALL=C sort >"$T/sources.expected"
cmp -s "$T/sources.expected" "$T/sources" || fail "recorded sources: $(diff "$T/sources.expected" "$T/sources")"
