#!/usr/bin/env bash
# When the warehouse is on another filesystem than staging, a file is copied
# through <warehouse>/.atomic-ingest-tmp and renamed into place: content,
# mode and mtime survive (and, as root, the owner), the source is removed
# and no temp copy is left.
#
# The second filesystem is a private tmpfs (a mount namespace of our own when
# we can make one), else /dev/shm when it is a different filesystem, else
# the test is skipped.

# Re-run in a private mount namespace so the tmpfs is never visible to, or
# left behind for, anyone else.
if [[ -z "${E2E_PRIVATE_MOUNTS:-}" && $(id -u) == 0 ]] &&
   unshare --mount --propagation private true 2>/dev/null; then
  E2E_PRIVATE_MOUNTS=1 exec unshare --mount --propagation private bash "$0" "$@"
fi

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

other=""
if [[ $(id -u) == 0 ]]; then
  mkdir "$T/other"
  if mount -t tmpfs -o size=64m atomic-ingest-e2e "$T/other" 2>/dev/null; then
    on_exit 'umount "$T/other" 2>/dev/null || umount -l "$T/other"'
    other=$T/other
  fi
fi
if [[ -z "$other" && -d /dev/shm && -w /dev/shm &&
      $(stat -c %d /dev/shm) != $(stat -c %d "$T") ]]; then
  other=$(mktemp -d /dev/shm/atomic-ingest-e2e.XXXXXX)
  on_exit "rm -rf -- '$other'"
fi
if [[ -z "$other" ]]; then
  echo "SKIP: no second filesystem"
  exit 77
fi
WH=$other/warehouse
[[ $(stat -c %d "$other") != $(stat -c %d "$IN") ]] || fail "$other is on the staging filesystem"
note "staging on $(stat -f -c %T "$IN"), warehouse on $(stat -f -c %T "$other")"

head -c 300000 /dev/urandom >"$IN/big.bin"
printf 'a,b\n1,2\n' >"$IN/small.csv"
printf 'wide open\n' >"$IN/wide.txt"
chmod 0640 "$IN/big.bin"
chmod 0604 "$IN/small.csv"
# Wider than the umask below lets a new file be.
chmod 0666 "$IN/wide.txt"
touch -d '2021-03-04 05:06:07.123456789' "$IN/big.bin"
touch -d '2019-12-31 23:59:59.5' "$IN/small.csv"
files=(big.bin small.csv wide.txt)
if [[ $(id -u) == 0 ]]; then
  # Another owner, and a set-group-ID bit that a change of owner clears.
  printf 'theirs\n' >"$IN/theirs.txt"
  chown nobody:nogroup "$IN/theirs.txt"
  chmod 2754 "$IN/theirs.txt"
  files+=(theirs.txt)
fi
for f in "${files[@]}"; do
  cp -p "$IN/$f" "$T/$f.expected"
  stat -c '%a %U:%G %y' "$IN/$f" >"$T/$f.meta"
done

umask 022
run_ingest --stability-seconds 0
assert_rc 0
assert_summary files_ingested ${#files[@]}
assert_ingested_count ${#files[@]}
part=$(partition_dir)
for f in "${files[@]}"; do
  assert_missing "$IN/$f"
  assert_same_content "$T/$f.expected" "$part/$f"
  assert_eq "$(cat "$T/$f.meta")" "$(stat -c '%a %U:%G %y' "$part/$f")" "mode, owner and mtime of $f"
  [[ $(stat -c %d "$part/$f") == $(stat -c %d "$other") ]] || fail "$part/$f is not on the warehouse filesystem"
done
assert_eq "" "$(staged_files)" "files left in staging"
assert_manifest_records ${#files[@]}
if [[ -d "$WH/.atomic-ingest-tmp" ]]; then
  left=$(find "$WH/.atomic-ingest-tmp" -mindepth 1)
  assert_eq "" "$left" "files left in $WH/.atomic-ingest-tmp"
fi

# A duplicate across filesystems is copied too, and its temp copy cleaned up.
cp "$T/small.csv.expected" "$IN/again.csv"
run_ingest --stability-seconds 0
assert_rc 0
assert_summary duplicates 1
assert_missing "$IN/again.csv"
assert_duplicate_count 1
assert_same_content "$T/small.csv.expected" "$(duplicate_files)"
assert_manifest_records ${#files[@]}
if [[ -d "$WH/.atomic-ingest-tmp" ]]; then
  assert_eq "" "$(find "$WH/.atomic-ingest-tmp" -mindepth 1)" "files left in $WH/.atomic-ingest-tmp"
fi
