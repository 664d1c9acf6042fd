# shellcheck shell=bash
# Passes under strace, for the end-to-end tests that hold a pass at a
# syscall or make one fail. Not a test itself: a script sources it after
# lib.sh (hostile_lib.sh does so for the hostile_*.sh tests).
#
# Contract, on top of lib.sh's:
#   have_strace_inject [SYSCALL:INJECTION]
#                             true when strace can run a command with that
#                             injection (default: a delay on getpid).
#   require_strace_inject [SYSCALL:INJECTION]
#                             skip unless it can.
#   start_traced STRACE_OPTIONS... -- FLAGS...
#                             one pass over the current roots under strace,
#                             in the background, so the test can act while
#                             strace holds it at a syscall; strace's log is
#                             $T/strace.log.
#   wait_for_log REGEX        waits until strace's log has a matching line.
#   traced_pid                the pid of the pass started by start_traced.
#   finish_traced             waits for that pass; its exit code goes to RC.
#   kill_traced TID           SIGKILL to the pass while strace holds it.
#   run_traced STRACE_OPTIONS... -- FLAGS...
#                             start_traced, then finish_traced.

have_strace_inject() {  # [SYSCALL:INJECTION]
  local spec=${1:-getpid:delay_enter=1}
  command -v strace >/dev/null &&
    strace -f -qq -o /dev/null -e "trace=${spec%%:*}" -e "inject=$spec:when=1" true 2>/dev/null
}

require_strace_inject() {  # [SYSCALL:INJECTION]
  command -v strace >/dev/null || skip "strace is not installed"
  have_strace_inject "$@" || skip "strace cannot inject ${1:-delays} here (no ptrace?)"
}

start_traced() {  # STRACE_OPTIONS... -- FLAGS...
  local strace_opts=()
  while [[ $1 != -- ]]; do strace_opts+=("$1"); shift; done
  shift
  rm -f "$T/strace.log" "$T/traced.rc"
  : >"$T/strace.log"
  (
    rc=0
    timeout -k 5 "${INGEST_TIMEOUT:-60}" strace -f -qq -o "$T/strace.log" "${strace_opts[@]}" \
      "$ATOMIC_INGEST" --input "$IN" --warehouse "$WH" --manifests "$MF" --state-path "$ST" \
      "$@" >"$OUT" 2>"$ERR" || rc=$?
    echo "$rc" >"$T/traced.rc"
  ) 2>/dev/null &  # no "Killed" notice from bash when a test kills the pass
  TRACED_JOB=$!
  on_exit "kill $TRACED_JOB 2>/dev/null; wait $TRACED_JOB 2>/dev/null"
}

# strace writes a syscall's line when it enters it, so with a delay injected
# on entry, the pass is held there while the test acts.
wait_for_log() {  # REGEX
  local _
  for _ in $(seq 1 400); do
    grep -qE -- "$1" "$T/strace.log" 2>/dev/null && return 0
    [[ -e "$T/traced.rc" ]] && break
    sleep 0.05
  done
  grep -qE -- "$1" "$T/strace.log" 2>/dev/null && return 0
  echo "--- strace log:" >&2
  cat "$T/strace.log" >&2
  fail "the traced pass never reached a syscall matching /$1/"
}

# With -f, strace's log starts each line with the thread that made the
# call; the pass is that thread's group.
traced_pid() {
  local tid
  tid=$(grep -m1 -oE '^[0-9]+' "$T/strace.log" 2>/dev/null) ||
    fail "the traced pass has made no traced call yet"
  awk '/^Tgid:/ {print $2}' "/proc/$tid/status" 2>/dev/null | grep . ||
    fail "the traced pass is not running"
}

# A thread held in a ptrace stop does not die until its tracer lets go, so
# strace is killed too, which detaches it. TID is a thread of the pass, as
# strace's log names it.
kill_traced() {  # TID
  local tracer
  tracer=$(awk '/^PPid:/ {print $2}' "/proc/$1/status" 2>/dev/null) ||
    fail "no process $1 to kill"
  kill -9 "$1"
  [[ -n "$tracer" && "$tracer" != 1 ]] && kill -9 "$tracer" 2>/dev/null
  finish_traced
}

finish_traced() {
  wait "$TRACED_JOB" 2>/dev/null || true
  RC=$(cat "$T/traced.rc" 2>/dev/null || echo "?")
}

run_traced() {  # STRACE_OPTIONS... -- FLAGS...
  start_traced "$@"
  finish_traced
}
