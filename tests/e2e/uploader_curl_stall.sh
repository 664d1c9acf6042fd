#!/usr/bin/env bash
# curl downloading straight into staging from a server that stalls mid-body
# for longer than the stability window: the half-written file is not
# ingested while curl holds it open; the whole file is, once curl is done.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

head -c 400000 /dev/urandom >"$T/body"

# Serves $T/body: half of it, then nothing until $T/go exists, then the rest.
python3 - "$T/body" "$T/go" "$T/port" <<'PY' &
import http.server, os, sys, time
body = open(sys.argv[1], "rb").read()
class Stalling(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2])
        self.wfile.flush()
        while not os.path.exists(sys.argv[2]):
            time.sleep(0.05)
        self.wfile.write(body[len(body) // 2 :])
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 0), Stalling)
with open(sys.argv[3] + ".new", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(sys.argv[3] + ".new", sys.argv[3])
server.handle_request()
PY
server=$!
on_exit "kill $server 2>/dev/null; wait $server 2>/dev/null"
for _ in $(seq 1 100); do [[ -f "$T/port" ]] && break; sleep 0.05; done
[[ -f "$T/port" ]] || fail "the HTTP server did not start"

curl -sS -o "$IN/download.csv" "http://127.0.0.1:$(cat "$T/port")/download.csv" &
curl=$!
on_exit "kill $curl 2>/dev/null; wait $curl 2>/dev/null"
# curl writes in blocks of its own; most of the first half is enough.
for _ in $(seq 1 200); do
  [[ $(stat -c %s "$IN/download.csv" 2>/dev/null || echo 0) -ge 150000 ]] && break
  sleep 0.05
done
[[ $(stat -c %s "$IN/download.csv") -ge 150000 ]] || fail "curl did not write the first half"

note "the server stalls for longer than the window"
sleep 2.5
run_ingest --stability-seconds 1
assert_rc 0
assert_summary files_ingested 0
assert_summary deferred 1
assert_ingested_count 0
assert_contains "$ERR" "$IN/download.csv: a process still has it open for writing" "stderr"

note "the download completes"
touch "$T/go"
wait "$curl"
sleep 1.5
run_ingest --stability-seconds 1
assert_rc 0
assert_summary files_ingested 1
assert_same_content "$T/body" "$(partition_dir)/download.csv"
assert_manifest_records 1
assert_eq "$(sha_of "$T/body")" "$(manifest_field sha256)" "manifest sha256"
assert_eq "" "$(staged_files)" "files left in staging"
assert_warehouse_consistent
