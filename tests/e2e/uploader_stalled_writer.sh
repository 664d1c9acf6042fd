#!/usr/bin/env bash
# A writer that stalls for longer than the stability window, its file still
# open, is not taken mid-file: a Python writer that pauses, and cp copying
# from a pipe whose producer pauses. Once each writer closes its file, the
# whole file is ingested, once.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

head -c 300000 /dev/urandom >"$T/py.full"
head -c 200000 /dev/urandom >"$T/pipe.full"

# The Python writer writes the first half, then waits, file open, until
# $T/go exists.
python3 - "$T/py.full" "$IN/py.csv" "$T/go" "$T/py.half" <<'PY' &
import os, sys, time
data = open(sys.argv[1], "rb").read()
with open(sys.argv[2], "wb") as out:
    out.write(data[: len(data) // 2])
    out.flush()
    open(sys.argv[4], "w").close()
    while not os.path.exists(sys.argv[3]):
        time.sleep(0.05)
    out.write(data[len(data) // 2 :])
PY
py=$!
on_exit "kill $py 2>/dev/null; wait $py 2>/dev/null"

# cp reads a FIFO; the producer holds it open after its first half.
mkfifo "$T/fifo"
cp "$T/fifo" "$IN/pipe.csv" &
cpid=$!
on_exit "kill $cpid 2>/dev/null; wait $cpid 2>/dev/null"
exec 3>"$T/fifo"
head -c 100000 "$T/pipe.full" >&3

for _ in $(seq 1 200); do
  [[ -f "$T/py.half" && $(stat -c %s "$IN/pipe.csv" 2>/dev/null || echo 0) -eq 100000 ]] && break
  sleep 0.05
done
[[ -f "$T/py.half" ]] || fail "the Python writer did not write its first half"

note "both writers stall for longer than the window"
sleep 2.5
run_ingest --stability-seconds 1
assert_rc 0
assert_summary files_ingested 0
assert_summary deferred 2
assert_ingested_count 0
assert_contains "$ERR" "$IN/py.csv: a process still has it open for writing" "stderr"
assert_contains "$ERR" "$IN/pipe.csv: a process still has it open for writing" "stderr"

note "in sidecar mode, a .ok written before the file was done"
: >"$IN/py.csv.ok"
run_ingest --mode sidecar
assert_rc 0
assert_summary deferred 2
assert_ingested_count 0
assert_contains "$ERR" "$IN/py.csv: a process still has it open for writing" "stderr"
rm "$IN/py.csv.ok"

note "explain says why it waits"
RC=0
"$ATOMIC_INGEST" explain "$IN/py.csv" --input "$IN" --warehouse "$WH" --manifests "$MF" \
  --state-path "$ST" --stability-seconds 1 >"$OUT" 2>"$ERR" || RC=$?
assert_rc 0
assert_contains "$OUT" "a process still has it open for writing" "explain"

note "the writers finish"
touch "$T/go"
tail -c +100001 "$T/pipe.full" >&3
exec 3>&-
wait "$py"
wait "$cpid"
sleep 1.5
run_ingest --stability-seconds 1
assert_rc 0
assert_summary files_ingested 2
part=$(partition_dir)
assert_same_content "$T/py.full" "$part/py.csv"
assert_same_content "$T/pipe.full" "$part/pipe.csv"
assert_manifest_records 2
assert_eq "" "$(staged_files)" "files left in staging"
assert_warehouse_consistent
