# shellcheck shell=bash
# Helpers shared by the hostile_*.sh end-to-end tests (hostile input and
# failing disks). Not a test itself: each hostile_*.sh script sources it in
# place of lib.sh, which it sources in turn.
#
# Contract, on top of lib.sh's:
#   HOSTILE_PRIVATE_MOUNTS=1  set before sourcing: the script re-runs itself
#                             in a private mount namespace (root and
#                             `unshare --mount`), so the tmpfs mounts it makes
#                             are never visible to anyone else and vanish with
#                             it; without those facilities it is skipped.
#   require_root, require_nobody
#                             skip unless the facility is there.
#   mount_tmpfs DIR OPTIONS   a tmpfs on DIR, unmounted on exit.
#   as_nobody CMD...          runs CMD as nobody:nogroup without groups.
#   run_ingest_as_nobody ...  run_ingest, as nobody.
#   everything in strace_lib.sh (passes under strace).
#   ALLOW_GARBAGE_LINES=1     assert_warehouse_consistent (lib.sh) skips
#                             manifest lines that are not records.
#   assert_error_names [-c CAUSE] PATH...
#                             the last pass logged an error line naming each
#                             path given (and CAUSE, a strerror text).
#   give_roots_to_nobody [ROOT...], fill_up FILE, assert_no_temp_copies,
#   assert_staged NAME EXPECTED_FILE  (see each below)

if [[ -n "${HOSTILE_PRIVATE_MOUNTS:-}" && -z "${E2E_PRIVATE_MOUNTS:-}" ]]; then
  if [[ $(id -u) == 0 ]] && command -v unshare >/dev/null &&
     unshare --mount --propagation private true 2>/dev/null; then
    E2E_PRIVATE_MOUNTS=1 exec unshare --mount --propagation private bash "$0" "$@"
  fi
  echo "SKIP: $(basename "$0" .sh): needs root and unshare --mount for a private tmpfs"
  exit 77
fi

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/strace_lib.sh"

require_root() {
  [[ $(id -u) == 0 ]] || skip "needs root"
}

# ---- tmpfs ----

mount_tmpfs() {  # DIR OPTIONS
  [[ -n "${E2E_PRIVATE_MOUNTS:-}" ]] || fail "mount_tmpfs outside a private mount namespace"
  mkdir -p "$1"
  mount -t tmpfs -o "$2" atomic-ingest-e2e "$1" || fail "cannot mount a tmpfs ($2) on $1"
  on_exit "umount -l $(printf %q "$1") 2>/dev/null"
}

# Writes zeros to FILE until its filesystem is full (ENOSPC).
fill_up() {  # FILE
  dd if=/dev/zero of="$1" bs=4096 2>/dev/null || true
  sync -f "$1" 2>/dev/null || true
}

# ---- the unprivileged user ----

NOBODY_UID=$(id -u nobody 2>/dev/null || echo 65534)
NOBODY_GID=$(getent group nogroup >/dev/null && getent group nogroup | cut -d: -f3 || id -g nobody 2>/dev/null || echo 65534)

require_nobody() {
  require_root
  command -v setpriv >/dev/null || skip "setpriv (util-linux) is not installed"
  # The test directory and the binary must be reachable for nobody.
  chmod 0755 "$T"
  as_nobody test -x "$T" || skip "nobody cannot reach $T (set TMPDIR to a directory others can enter)"
  if ! as_nobody test -x "$ATOMIC_INGEST"; then
    mkdir -p "$T/bin"
    cp "$ATOMIC_INGEST" "$T/bin/atomic-ingest"
    chmod 0755 "$T/bin" "$T/bin/atomic-ingest"
    ATOMIC_INGEST=$T/bin/atomic-ingest
  fi
  as_nobody "$ATOMIC_INGEST" --version >/dev/null || fail "nobody cannot run $ATOMIC_INGEST"
}

as_nobody() {
  setpriv --reuid="$NOBODY_UID" --regid="$NOBODY_GID" --clear-groups -- "$@"
}

# The current roots, prepared for nobody: the parent of the four roots and
# the existing roots owned by nobody, unless named in "$@" (which stay root's).
give_roots_to_nobody() {  # [ROOT_TO_KEEP...]
  local base r keep k
  base=$(dirname "$IN")
  chown "$NOBODY_UID:$NOBODY_GID" "$base"
  for r in "$IN" "$WH" "$MF" "$ST"; do
    keep=0
    for k in "$@"; do [[ $k == "$r" ]] && keep=1; done
    [[ $keep == 1 || ! -e $r ]] || chown -R "$NOBODY_UID:$NOBODY_GID" "$r"
  done
}

run_ingest_as_nobody() {
  RC=0
  timeout -k 5 "${INGEST_TIMEOUT:-60}" \
    setpriv --reuid="$NOBODY_UID" --regid="$NOBODY_GID" --clear-groups -- "$ATOMIC_INGEST" \
    --input "$IN" --warehouse "$WH" --manifests "$MF" --state-path "$ST" \
    "$@" >"$OUT" 2>"$ERR" || RC=$?
}

# ---- assertions ----

# The last pass logged an error line that names every PATH given (and the
# CAUSE, a strerror text, when -c CAUSE comes first).
assert_error_names() {  # [-c CAUSE] PATH...
  local cause=""
  if [[ $1 == -c ]]; then cause=$2; shift 2; fi
  local p line found
  for p in "$@"; do
    found=0
    while IFS= read -r line; do
      [[ $line == *" error "* && $line == *"$p"* && $line == *"$cause"* ]] && found=1
    done <"$ERR"
    [[ $found == 1 ]] || fail "expected an error line naming $(printf %q "$p")${cause:+ and '$cause'}"
  done
}

# Nothing in <warehouse>/.atomic-ingest-tmp (the temp copies of a pass that
# failed are removed by it, or by the next one).
assert_no_temp_copies() {
  if [[ -d "$WH/.atomic-ingest-tmp" ]]; then
    assert_eq "" "$(find "$WH/.atomic-ingest-tmp" -mindepth 1)" "files left in $WH/.atomic-ingest-tmp"
  fi
}

# FILE in staging still holds the content of EXPECTED (a copy made before).
assert_staged() {  # NAME EXPECTED_FILE
  assert_same_content "$2" "$IN/$1"
}
