#!/usr/bin/env bash
# The manual page and --help name the same long flags: every flag that
# --help prints appears in the rendered page, and every flag the page's
# OPTIONS section names is one that --help prints.
#
# Argument: the manual page (roff source).
source "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"

man_page=$1

"$ATOMIC_INGEST" --help >"$T/help"
grep -oE '^  (-[a-z] \[ )?--[a-z][a-z-]*' "$T/help" | grep -oE -- '--[a-z-]+' |
  LC_ALL=C sort -u >"$T/help_flags"
[[ -s "$T/help_flags" ]] || fail "no flags found in --help: $(cat "$T/help")"

# The page as a reader sees it, on lines too long to break, without
# overstriking; without groff, the source with roff's \- read as -.
if command -v groff >/dev/null; then
  groff -man -Tascii -P-cbou -rLL=1000n "$man_page" >"$T/page"
else
  sed 's/\\-/-/g' "$man_page" >"$T/page"
fi
while read -r flag; do
  grep -qE -- "${flag}([^a-z-]|\$)" "$T/page" || fail "--help prints $flag, $man_page does not document it"
done <"$T/help_flags"

sed -n '/^\.SH OPTIONS/,/^\.SH /p' "$man_page" | sed 's/\\-/-/g' |
  grep -oE -- '--[a-z][a-z-]*' | LC_ALL=C sort -u >"$T/page_flags"
[[ -s "$T/page_flags" ]] || fail "no OPTIONS section with flags in $man_page"
unknown=$(LC_ALL=C comm -23 "$T/page_flags" "$T/help_flags" | tr '\n' ' ')
assert_eq "" "$unknown" "flags in the OPTIONS of $man_page that --help does not print"
