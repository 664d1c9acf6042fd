#!/usr/bin/env bash
# What a pass creates (the four roots, the dated partitions, _duplicates,
# .atomic-ingest-tmp, the manifest directories and files, the state
# database) takes its mode from the umask, and with umask 002, 022 or 077
# nothing of it is world-writable; with 077 nothing is readable by others.
# The ingested files keep the mode they had in staging.
HOSTILE_PRIVATE_MOUNTS=1
source "$(dirname "${BASH_SOURCE[0]}")/hostile_lib.sh"

# Prints "MODE TYPE PATH" for what the pass created under the roots.
created_entries() {
  local r
  for r in "$WH" "$MF" "$ST"; do
    # Symlinks are left out: their mode means nothing.
    find "$r" \( -path "$WH/ingest_date=*/*" -o -path "$WH/_duplicates/ingest_date=*/*" \) -prune \
      -o ! -type l -printf '%m %y %p\n'
  done
}

for u in 002 022 077; do
  note "umask $u"
  new_roots "umask_$u"
  mount_tmpfs "$T/umask_$u/fs" size=8m
  WH=$T/umask_$u/fs/warehouse
  printf 'content\n' >"$IN/a.csv"
  printf 'content\n' >"$IN/copy.csv"
  chmod 0640 "$IN/a.csv"
  chmod 0604 "$IN/copy.csv"
  RC=0
  (umask "$u" && exec timeout -k 5 60 "$ATOMIC_INGEST" --input "$IN" --warehouse "$WH" \
    --manifests "$MF" --state-path "$ST" --stability-seconds 0 --concurrency 1) >"$OUT" 2>"$ERR" || RC=$?
  assert_rc 0
  assert_summary files_ingested 1
  assert_summary duplicates 1
  [[ -d "$WH/.atomic-ingest-tmp" ]] || fail "no $WH/.atomic-ingest-tmp (was the warehouse another filesystem?)"
  created_entries >"$T/modes.$u"
  dir_mode=$(printf '%o' $((0777 & ~8#$u)))
  file_mode=$(printf '%o' $((0666 & ~8#$u)))
  python3 - "$T/modes.$u" "$u" "$dir_mode" "$file_mode" "$ST/db" <<'EOF' || fail "modes under umask $u (see above)"
import sys
listing, umask, dir_mode, file_mode, db = sys.argv[1], int(sys.argv[2], 8), sys.argv[3], sys.argv[4], sys.argv[5]
problems, seen_manifest = [], False
for line in open(listing):
    mode, kind, path = line.rstrip("\n").split(" ", 2)
    m = int(mode, 8)
    if m & 0o002:
        problems.append(f"world-writable: {mode} {path}")
    if m & umask:
        problems.append(f"mode {mode} has bits the umask {umask:03o} clears: {path}")
    # LevelDB makes its own directory (0755 less the umask).
    if kind == "d" and mode != dir_mode and path != db:
        problems.append(f"directory {path} is {mode}, expected {dir_mode}")
    if kind == "f" and path.endswith("/manifest.jsonl"):
        seen_manifest = True
        if mode != file_mode:
            problems.append(f"manifest {path} is {mode}, expected {file_mode}")
if not seen_manifest:
    problems.append("no manifest file was listed")
if problems:
    print("\n".join(problems), file=sys.stderr)
    sys.exit(1)
EOF
  assert_eq 640 "$(stat -c %a "$WH/ingest_date=$(date -u +%Y-%m-%d)/a.csv")" "mode of the ingested file"
  assert_eq 604 "$(stat -c %a "$(duplicate_files)")" "mode of the quarantined copy"
done
