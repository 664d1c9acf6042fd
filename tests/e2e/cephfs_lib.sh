# Shared helpers of the cephfs tests, sourced after lib.sh: a single-node
# Ceph cluster of their own (scripts/ceph/start), CephFS mounted twice with
# ceph-fuse as two "hosts", passes killed with SIGKILL at random moments,
# and the exactly-once checks of scripts/check-invariants.py.
#
# Contract:
#   ceph_start        starts the cluster under $T/ceph, stopped (unmounted,
#                     killed) when the script exits, however it exits; sets
#                     MNT1 and MNT2. A cluster that cannot start fails the
#                     test with its log tail: these tests never skip.
#   SHARE             the path at which every "host" sees CephFS, as two
#                     real hosts mount a share at the same path: each pass
#                     (and each check) of host N runs in a mount namespace
#                     of its own with MNT<N> bound at $SHARE, so the paths
#                     that records and intents hold are the same on both.
#   on_host N CMD...  runs CMD as host N.
#   STAGED            the ledger of every staged file (check-invariants.py).

[[ $(id -u) == 0 ]] || fail "the cephfs tests run as root: ceph-fuse mounts and mount namespaces"

CEPH_SCRIPTS=$(realpath "$(dirname "${BASH_SOURCE[0]}")/../../scripts/ceph")
SHARE=$T/share
STAGED=$T/staged.tsv
: >"$STAGED"
PASS_LOGS=$T/passes
mkdir -p "$SHARE" "$PASS_LOGS"
PASS_SEQ=0
PASS_LOG=""
# $RANDOM seeds every choice; printed so that a failure names its scenario.
SEED=${CEPHFS_SEED:-$RANDOM}
RANDOM=$SEED
note "seed $SEED (CEPHFS_SEED=$SEED replays the same choices)"

ceph_start() {
  CEPH_RUN=$T/ceph
  # Before the start, so that a start failing half-way is cleaned up too.
  on_exit '"$CEPH_SCRIPTS/stop" "$CEPH_RUN" >/dev/null'
  # Passes still running die before the unmount (registered later, run earlier).
  on_exit kill_passes
  local t0=$SECONDS
  "$CEPH_SCRIPTS/start" "$CEPH_RUN" >"$T/ceph-start.out" 2>&1 ||
    fail "the Ceph cluster did not start: $(cat "$T/ceph-start.out")"
  MNT1=$CEPH_RUN/mnt1
  MNT2=$CEPH_RUN/mnt2
  note "Ceph cluster up in $((SECONDS - t0)) s: $MNT1 and $MNT2"
  [[ $(stat -c %d "$MNT1") != $(stat -c %d "$MNT2") ]] ||
    note "the two mounts have the same st_dev here"
}

# Sets HOST_CMD to the command prefix that runs a command as host N: the
# command is exec'd, so it keeps the PID of the unshare that starts it.
host_cmd() {  # N
  local mnt
  case "$1" in
    1) mnt=$MNT1 ;;
    2) mnt=$MNT2 ;;
    *) fail "host_cmd: no host $1" ;;
  esac
  HOST_CMD=(unshare --mount --propagation private
            bash -c 'mount --bind "$1" "$2" && shift 2 && exec "$@"' _ "$mnt" "$SHARE")
}
on_host() {  # on_host N CMD...
  host_cmd "$1"
  shift
  "${HOST_CMD[@]}" "$@"
}

# Stages COUNT files in DIR (a path as host 1 sees it) and appends them to
# $STAGED. Names start with PREFIX. Contents are 0..16 KiB, mostly above 512 bytes; a quarter of
# the files repeat a content staged earlier in DIR, and with SHARED > 0 a
# file takes one of SHARED contents common to every directory staged with
# the same SHARED (one in three files), so that two instances receive the
# same content.
stage_files() {  # DIR PREFIX COUNT [SHARED]
  python3 - "$1" "$STAGED" "$SEED" "$2" "$3" "${4:-0}" <<'PY'
import hashlib, os, random, sys
staging, ledger, seed, prefix, count, shared = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
rng = random.Random(f"{seed}/{prefix}")
def content(key):
    r = random.Random(f"{seed}/content/{key}")
    size = 0 if r.random() < 0.02 else r.randint(1, 512) if r.random() < 0.25 else r.randint(513, 16384)
    return r.randbytes(size)
os.makedirs(staging, exist_ok=True)
keys, rows = [], []
for i in range(count):
    if shared and rng.random() < 1 / 3:
        key, kind = f"shared-{rng.randrange(shared)}", "new"
    elif keys and rng.random() < 0.25:
        key, kind = rng.choice(keys), "resend"
    else:
        key, kind = f"{prefix}-{i}", "new"
    keys.append(key)
    name = f"{prefix}-{i:04d}{rng.choice(['.csv', '.log', '.json', ''])}"
    data = content(key)
    with open(os.path.join(staging, name), "wb") as f:
        f.write(data)
    rows.append(f"{name}\t{hashlib.sha256(data).hexdigest()}\t{len(data)}\t{kind}\t{key}\n")
with open(ledger, "a", encoding="utf-8") as f:
    f.writelines(rows)
PY
}

# Candidates still in staging DIR (the tool never takes hidden, temp or
# .ok names).
candidates_left() {  # DIR
  find "$1" -mindepth 1 -maxdepth 1 ! -name '.*' ! -name '*.tmp' \
    ! -name '*.part' ! -name '*.swp' ! -name '*.ok' | count_lines
}

# Starts a pass of host HOST in the background with flags "$@"; sets PASS_PID
# and PASS_LOG. Returns once the pass is the atomic-ingest process, so a kill
# after that hits the tool and not the shell that was about to become it.
start_pass() {  # HOST FLAG...
  local host=$1 comm="" spins=0
  shift
  PASS_SEQ=$((PASS_SEQ + 1))
  PASS_HOST=$host
  PASS_LOG=$PASS_LOGS/$PASS_SEQ.host$host.log
  echo "# host $host: $*" >"$PASS_LOG"
  host_cmd "$host"
  # A simple command, so that $! is the PID that becomes atomic-ingest.
  "${HOST_CMD[@]}" "$ATOMIC_INGEST" "$@" >>"$PASS_LOG" 2>&1 &
  PASS_PID=$!
  echo "$PASS_PID" >>"$T/pass-pids"
  while [[ "$comm" != atomic-ingest && $spins -lt 20000 ]] &&
        read -r comm 2>/dev/null </proc/"$PASS_PID"/comm; do
    spins=$((spins + 1))
  done
  [[ "$comm" == atomic-ingest ]] || ! kill -0 "$PASS_PID" 2>/dev/null ||
    fail "pass $PASS_SEQ of host $host did not start atomic-ingest (still $comm)"
}

# SIGKILLs every pass still running: a PID of $T/pass-pids whose command
# line still names $T (a PID may have been reused since).
kill_passes() {
  local pid
  [[ -f "$T/pass-pids" ]] || return 0
  while read -r pid; do
    if tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- "$T"; then
      kill -9 "$pid" 2>/dev/null
    fi
  done <"$T/pass-pids"
}

# A pass of host HOST, SIGKILLed after DELAY_MS unless it ends first. Sets RC
# (137 when the kill landed) and counts the kills that landed in KILLS.
KILLS=0
killed_pass() {  # HOST DELAY_MS FLAG...
  local host=$1 delay=$2
  shift 2
  start_pass "$host" "$@"
  sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
  kill -9 "$PASS_PID" 2>/dev/null || true
  RC=0
  wait "$PASS_PID" 2>/dev/null || RC=$?
  echo "# exit $RC (SIGKILL after $delay ms)" >>"$PASS_LOG"
  [[ $RC -ne 137 ]] || KILLS=$((KILLS + 1))
}

# Waits for the pass $PASS_PID and sets RC. One still running after
# PASS_TIMEOUT seconds (60) is hung: the test fails with what each of its
# threads waits on in the kernel and the requests its CephFS client has
# outstanding at the MDS.
await_pass() {
  local end=$((SECONDS + ${PASS_TIMEOUT:-60})) t asok
  while kill -0 "$PASS_PID" 2>/dev/null && [[ $SECONDS -lt $end ]]; do sleep 0.1; done
  if kill -0 "$PASS_PID" 2>/dev/null; then
    {
      echo "--- pass $PASS_SEQ still running after ${PASS_TIMEOUT:-60} s; its threads wait in:"
      for t in /proc/"$PASS_PID"/task/*; do
        echo "$(cat "$t/comm" 2>/dev/null): $(tr '\n' ' ' 2>/dev/null <"$t/stack")"
      done
      for asok in "$CEPH_RUN"/asok/client.*.asok; do
        echo "--- outstanding MDS requests of $(basename "$asok"):"
        ceph --admin-daemon "$asok" mds_requests 2>&1 | grep -E '"(op|path|sent_stamp)"' || true
      done
    } >&2
    kill -9 "$PASS_PID" 2>/dev/null
    wait "$PASS_PID" 2>/dev/null || true
    show_pass_log
    fail "pass $PASS_SEQ (host $PASS_HOST) hung: see above"
  fi
  RC=0
  wait "$PASS_PID" 2>/dev/null || RC=$?
  echo "# exit $RC" >>"$PASS_LOG"
}

# A pass of host HOST left to finish; sets RC. A pass that finds the state's
# lock still held (exit 75: the client of a killed pass has not released its
# flock yet) is tried again.
clean_pass() {  # HOST FLAG...
  local host=$1
  shift
  for _ in $(seq 1 50); do
    start_pass "$host" "$@"
    await_pass
    [[ $RC -eq 75 ]] || return 0
    sleep 0.2
  done
}

# The summary's FIELD of the last pass (from PASS_LOG).
pass_summary() {  # FIELD
  local saved=$ERR v
  ERR=$PASS_LOG
  v=$(summary_field "$1")
  ERR=$saved
  echo "$v"
}

show_pass_log() {
  [[ -n "${PASS_LOG:-}" ]] || return 0
  echo "--- $PASS_LOG (last 30 lines)" >&2
  tail -n 30 "$PASS_LOG" >&2
}

# scripts/check-invariants.py as host HOST over the ledger $STAGED, the
# warehouse WH and the manifests MF with OPTION... (--staging DIR for each
# instance, --phase, --allow-torn); fails the test on any violation. With
# DEFER_VIOLATIONS=1 the test goes on, and report_violations fails it at
# the end, with every kind of violation seen and how often.
check_invariants() {  # HOST WH MF OPTION...
  local host=$1 wh=$2 mf=$3 out
  shift 3
  CHECKS=$((CHECKS + 1))
  out=$(on_host "$host" python3 "$CHECK_INVARIANTS" --ledger "$STAGED" --warehouse "$wh" \
          --manifests "$mf" --cache "$T/sha-cache" --max-report 100000 "$@" 2>&1) || {
    if [[ ${DEFER_VIOLATIONS:-0} == 1 ]] && grep -q '^checked ' <<<"$out"; then
      { echo "--- check $CHECKS ($*):"; grep '^VIOLATION' <<<"$out" | head -n 5; } >>"$T/violations"
      grep '^VIOLATION' <<<"$out" | sed 's/^VIOLATION \([^:]*\):.*/\1/' >>"$T/violation-kinds"
    else
      show_pass_log
      fail "exactly-once invariants broken ($*): $(head -n 20 <<<"$out")"
    fi
  }
  LAST_CHECK=$(grep '^checked ' <<<"$out")
}
CHECKS=0

report_violations() {
  [[ -s "$T/violation-kinds" ]] || return 0
  cat "$T/violations" >&2
  fail "exactly-once invariants broken; violations of each kind over $CHECKS checks:
$(sort "$T/violation-kinds" | uniq -c)"
}
