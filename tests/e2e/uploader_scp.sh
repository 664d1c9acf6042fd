#!/usr/bin/env bash
# scp through a real sshd on 127.0.0.1: a slow upload to the final name is
# never taken while the server still writes it (whatever the window), the
# recommended upload to NAME.part then rename is ingested once whole, and an
# upload cut off mid-file leaves nothing a pass takes.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

for tool in sshd scp ssh ssh-keygen; do
  command -v "$tool" >/dev/null || [[ -x /usr/sbin/$tool ]] ||
    fail "$tool is not installed (scripts/deps installs openssh-server and openssh-client)"
done
SSHD=$(command -v sshd || echo /usr/sbin/sshd)

# A private sshd: its own host key, config and port; key login for the
# user running the test.
S=$T/ssh
mkdir -p "$S"
chmod 700 "$S"
ssh-keygen -q -t ed25519 -N '' -f "$S/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$S/user_key"
cp "$S/user_key.pub" "$S/authorized_keys"
[[ $(id -u) -ne 0 ]] || mkdir -p /run/sshd  # privilege separation, as root
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$S/config" <<EOF
Port $port
ListenAddress 127.0.0.1
HostKey $S/host_key
AuthorizedKeysFile $S/authorized_keys
PidFile $S/sshd.pid
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
Subsystem sftp internal-sftp
EOF
"$SSHD" -D -e -f "$S/config" 2>"$S/log" &
sshd_pid=$!
on_exit "kill $sshd_pid 2>/dev/null; wait $sshd_pid 2>/dev/null"

SSH_OPTS=(-i "$S/user_key" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
  -o BatchMode=yes -o LogLevel=ERROR)
remote() { ssh "${SSH_OPTS[@]}" -p "$port" "$(id -un)@127.0.0.1" "$@"; }
upload() {  # SCP_OPTION... FILE DEST_PATH
  local args=("$@")
  local n=${#args[@]}
  scp "${SSH_OPTS[@]}" -P "$port" "${args[@]:0:n-2}" "${args[n-2]}" \
    "$(id -un)@127.0.0.1:${args[n-1]}"
}
for _ in $(seq 100); do
  remote true 2>/dev/null && break
  kill -0 "$sshd_pid" 2>/dev/null || fail "sshd did not start: $(cat "$S/log")"
  sleep 0.1
done
remote true || fail "cannot log in to the test sshd: $(cat "$S/log")"

head -c 1200000 /dev/urandom >"$T/data.bin"

# Waits until PATH exists with some bytes in it.
await_bytes() {  # PATH
  for _ in $(seq 200); do
    [[ -s "$1" ]] && return 0
    sleep 0.02
  done
  fail "$1 never got any bytes"
}

note "a slow scp to the final name waits while the server writes it"
new_roots final
upload -l 2400 "$T/data.bin" "$IN/data.bin" &
scp_pid=$!
await_bytes "$IN/data.bin"
run_ingest --stability-seconds 0
assert_rc 0
assert_ingested_count 0
assert_contains "$ERR" "open for writing" "deferral"
wait "$scp_pid" || fail "scp failed"
run_ingest --stability-seconds 0
assert_rc 0
assert_summary files_ingested 1
assert_same_content "$T/data.bin" "$(partition_dir)/data.bin"

note "the recipe: scp to NAME.part, then rename"
new_roots part
upload -l 2400 "$T/data.bin" "$IN/data.bin.part" &
scp_pid=$!
await_bytes "$IN/data.bin.part"
run_ingest --stability-seconds 0
assert_rc 0
assert_ingested_count 0
wait "$scp_pid" || fail "scp failed"
remote mv "$IN/data.bin.part" "$IN/data.bin"
run_ingest --stability-seconds 0
assert_rc 0
assert_summary files_ingested 1
assert_same_content "$T/data.bin" "$(partition_dir)/data.bin"
assert_manifest_records 1

note "an scp to NAME.part cut off mid-file is never ingested"
new_roots cut
upload -l 2400 "$T/data.bin" "$IN/data.bin.part" &
scp_pid=$!
await_bytes "$IN/data.bin.part"
kill -KILL "$scp_pid"
wait "$scp_pid" 2>/dev/null || true
for _ in 1 2; do
  run_ingest --stability-seconds 0
  assert_rc 0
  assert_ingested_count 0
done
[[ -e "$IN/data.bin.part" ]] || fail "the cut-off upload left no $IN/data.bin.part"
