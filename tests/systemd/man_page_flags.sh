#!/usr/bin/env bash
# The manual page and the flag table (which --help prints) name the same
# long flags: every flag of the table appears in the rendered page, and
# every flag the page's OPTIONS section names is in the table.
#
# Argument: the manual page (roff source). LIST_FLAGS names the program
# that prints the flag table.
source "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"

man_page=$1
: "${LIST_FLAGS:?LIST_FLAGS must name the program that prints the flag table}"

"$LIST_FLAGS" >"$T/flags"
awk '{ print "--" $1 }' "$T/flags" | LC_ALL=C sort -u >"$T/table_flags"
[[ -s "$T/table_flags" ]] || fail "no flags in the flag table"

# The page as a reader sees it, on lines too long to break, without
# overstriking; without groff, the source with roff's \- read as -.
if command -v groff >/dev/null; then
  groff -man -Tascii -P-cbou -rLL=1000n "$man_page" >"$T/page"
else
  sed 's/\\-/-/g' "$man_page" >"$T/page"
fi
while read -r flag; do
  grep -qE -- "${flag}([^a-z-]|\$)" "$T/page" || fail "the flag table has $flag, $man_page does not document it"
done <"$T/table_flags"

sed -n '/^\.SH OPTIONS/,/^\.SH /p' "$man_page" | sed 's/\\-/-/g' |
  grep -oE -- '--[a-z][a-z-]*' | LC_ALL=C sort -u >"$T/page_flags"
[[ -s "$T/page_flags" ]] || fail "no OPTIONS section with flags in $man_page"
unknown=$(LC_ALL=C comm -23 "$T/page_flags" "$T/table_flags" | tr '\n' ' ')
assert_eq "" "$unknown" "flags in the OPTIONS of $man_page that the flag table does not have"
