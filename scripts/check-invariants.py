#!/usr/bin/env python3
"""Checks that the warehouse and the manifests of one set of atomic-ingest
roots agree and, given the ledger of everything that was staged, the
exactly-once invariants. Used by scripts/crash-soak after each killed pass
("partial") and after each drained pass ("complete"), and by the end-to-end
tests (tests/e2e/lib.sh, assert_warehouse_consistent).

Without a ledger, only the agreement is checked:
  - every manifest line is strict JSON with path, source, sha256 and size
    (lines that are not records are skipped with --allow-garbage-lines);
    a manifest ends in a newline unless --allow-torn;
  - each record's path is a regular file in <warehouse>/ingest_date=*/ with
    that sha256 and size, and no two records name the same path;
  - every entry of <warehouse>/ingest_date=*/ is named by a record;
  - every record stands on a content claim naming its path and size: a
    claim held in the claim log, <warehouse>/.atomic-ingest-claims/log
    (lines "atomic-ingest-claim/3 take|release <sha> <owner> <intent> ...
    <check>", folded in order as src/claims.h says); after a pass that was
    not killed, every claim names a recorded content.
Other entries of the warehouse and the manifests are not looked at.

The ledger has one line per staged file, fields separated by tabs: name,
sha256, size, kind ("new" or "resend": candidates; "ignored": a name the
tool must never take), then fields the checker does not read. Instances
that share one warehouse and one manifest root each have their own staging
directory: give --staging once for each; a name is then staged in one of
them (the ledger's names must differ across them), and a record's source
may be in any of them.

Invariants with a ledger, in every phase:
  - a content appears at most once across <warehouse>/ingest_date=*/;
  - every file in the warehouse is a staged file (its name or a collision
    name of it, and its content), and is there at most once;
  - a quarantined duplicate's content is also in a partition;
  - every staged candidate is still in staging (same name and content) or
    in a partition or in _duplicates: nothing is lost;
  - every manifest line is strict JSON with path, source, sha256 and size;
    each content has at most one record; each record's path exists in a
    partition with that sha256 and size, and its source is the staged file;
  - a manifest may end in a torn line (no trailing newline) only when
    --allow-torn says the last pass was killed.
In the stopped phase (the last pass ended without being killed, but may
have left files staged, as after SIGTERM) and the complete phase:
  - no staged file is both in staging and in the warehouse;
  - every file in a partition is named by a record; no torn tail;
  - the temp directory is empty.
Only in the complete phase:
  - each staged content is in a partition exactly once, with one record;
  - staging holds no candidate.

Names that are not UTF-8 are escaped in records ("escaped": true); unescape()
gives their bytes back, and the tests load it from here.

Prints one "VIOLATION ..." line per problem (the first --max-report of
them) and a "checked ..." summary; exits 1 when anything was violated.
"""

import argparse
import hashlib
import json
import os
import pickle
import re
import stat
import sys

TEMP_DIR = ".atomic-ingest-tmp"
CLAIMS_DIR = ".atomic-ingest-claims"
CLAIM_LOG = "log"
CLAIM_MAGIC = b"atomic-ingest-claim/3 "
SHA_RE = re.compile(r"^[0-9a-f]{64}$")


def is_candidate(name):
    """Mirrors the tool's scanner filter: hidden, temp and sidecar names are
    never ingested."""
    if name.startswith("."):
        return False
    return not name.endswith((".tmp", ".part", ".swp", ".ok"))


def collision_names(name, sha):
    """The names the tool may give `name` when it is taken (warehouse.cc
    CollisionName): the sha prefix goes before the extension, which starts at
    the first dot that is not the first byte. The soak's names are short, so
    no shortening is needed."""
    dot = name.find(".", 1)
    stem, ext = (name, "") if dot < 0 else (name[:dot], name[dot:])
    return {name, f"{stem}.{sha[:12]}{ext}", f"{stem}.{sha}{ext}"}


NUMBERED_RE = re.compile(r"^(.+?)\.([0-9a-f]{64})-([2-9]|[1-9][0-9]+)((?:\..*)?)$", re.S)


def numbered_owner(candidate):
    """(name, sha) when `candidate` is a numbered collision name, which the
    tool gives after the three of collision_names (NumberedCollisionName):
    the whole sha and a number from 2 before the extension."""
    m = NUMBERED_RE.match(candidate)
    return (m.group(1) + m.group(4), m.group(2)) if m else None


def is_collision_name(candidate, name, sha):
    return candidate in collision_names(name, sha) or numbered_owner(candidate) == (name, sha)


def unescape(s):
    """The bytes of a name escaped as src/name_escape.h says: "\\xHH" for a
    byte that is not UTF-8 and "\\\\" for a backslash. Raises ValueError on
    a malformed escape."""
    out, i = bytearray(), 0
    while i < len(s):
        c = s[i]
        if c != "\\":
            out += c.encode("utf-8")
            i += 1
        elif s[i + 1:i + 2] == "\\":
            out += b"\\"
            i += 2
        elif s[i + 1:i + 2] == "x" and re.fullmatch(r"[0-9a-fA-F]{2}", s[i + 2:i + 4]):
            out.append(int(s[i + 2:i + 4], 16))
            i += 4
        else:
            raise ValueError(f"bad escape at {i} in {s!r}")
    return bytes(out)


def record_path(rec, key):
    """A path field of a record as a str for os calls (bytes that are not
    UTF-8 as surrogates, as os.listdir gives them)."""
    return os.fsdecode(unescape(rec[key])) if rec.get("escaped") is True else rec[key]


def in_real_dir(path):
    """path with its directory resolved but not its last component, so that
    a symlink there stays a symlink."""
    return os.path.join(os.path.realpath(os.path.dirname(path)), os.path.basename(path))


def no_duplicate_keys(pairs):
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError(f"duplicate keys in {keys}")
    return dict(pairs)


def no_constant(name):
    raise ValueError(f"{name} is not JSON")


class Hasher:
    """sha256 of files, cached by (dev, ino, size, mtime, ctime): a file's
    content cannot change without its ctime changing."""

    def __init__(self, cache_path):
        self.path = cache_path
        self.cache = {}
        self.dirty = False
        if cache_path and os.path.exists(cache_path):
            try:
                with open(cache_path, "rb") as f:
                    self.cache = pickle.load(f)
            except Exception:
                self.cache = {}

    def sha(self, path, st):
        key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        v = self.cache.get(key)
        if v is None:
            h = hashlib.sha256()
            with open(path, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
            v = h.hexdigest()
            self.cache[key] = v
            self.dirty = True
        return v

    def save(self):
        if self.path and self.dirty:
            tmp = self.path + ".tmp"
            with open(tmp, "wb") as f:
                pickle.dump(self.cache, f)
            os.replace(tmp, self.path)


class Checker:
    def __init__(self, args):
        self.a = args
        self.hasher = Hasher(args.cache)
        self.violations = []
        self.ledger = None  # without one, only the agreement is checked

    def bad(self, invariant, detail):
        self.violations.append(f"{invariant}: {detail}")

    def regular_sha(self, path):
        """(sha256, size) of a regular file, or None when there is none."""
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return None
        if not stat.S_ISREG(st.st_mode):
            self.bad("unexpected entry", f"{path} is not a regular file")
            return None
        return self.hasher.sha(path, st), st.st_size

    def load_ledger(self):
        self.ledger = {}  # name -> (sha, size, kind)
        with open(self.a.ledger, encoding="utf-8", errors="surrogateescape") as f:
            for line in f:
                name, sha, size, kind = line.rstrip("\n").split("\t")[:4]
                self.ledger[name] = (sha, int(size), kind)
        self.contents = {sha for sha, _, kind in self.ledger.values() if kind != "ignored"}
        # Every name the tool may give a staged file in the warehouse.
        self.dest_owner = {}
        for name, (sha, _, kind) in self.ledger.items():
            if kind != "ignored":
                for n in collision_names(name, sha):
                    self.dest_owner[n] = name

    def scan_warehouse(self):
        """Files of the partitions and of _duplicates, as path -> (sha, size)."""
        wh = os.path.realpath(self.a.warehouse)
        self.partitions, self.duplicates, self.temps, self.claims = {}, {}, [], {}
        if not os.path.isdir(wh):
            return
        for top in sorted(os.listdir(wh)):
            p = os.path.join(wh, top)
            if top.startswith("ingest_date=") and os.path.isdir(p):
                self.scan_partition(p, self.partitions)
            elif top == CLAIMS_DIR and os.path.isdir(p):
                self.scan_claims(p)
            elif self.ledger is None:
                continue
            elif top == "_duplicates" and os.path.isdir(p):
                for sub in sorted(os.listdir(p)):
                    q = os.path.join(p, sub)
                    if sub.startswith("ingest_date=") and os.path.isdir(q):
                        self.scan_partition(q, self.duplicates)
                    else:
                        self.bad("unexpected entry", q)
            elif top == TEMP_DIR and os.path.isdir(p):
                self.temps = sorted(os.path.join(p, n) for n in os.listdir(p))
            else:
                self.bad("unexpected entry", p)

    def scan_claims(self, root):
        """The content claims, as sha -> (size, warehouse-relative path):
        the claim log folded from its start (claims.h). A line that is not
        a whole record (a tail torn by a kill) is skipped, as the tool
        skips it."""
        for name in sorted(os.listdir(root)):
            if name != CLAIM_LOG:
                self.bad("unexpected entry", os.path.join(root, name))
        p = os.path.join(root, CLAIM_LOG)
        if not os.path.isfile(p):
            return
        held = {}  # sha -> (owner, intent, size, path)
        with open(p, "rb") as f:
            lines = f.read().split(b"\n")
        for line in lines[:-1]:
            body, _, check = line.rpartition(b" ")
            if not body.startswith(CLAIM_MAGIC) or \
                    hashlib.sha256(body).hexdigest()[:16].encode() != check:
                continue
            f = body[len(CLAIM_MAGIC):].decode().split(" ")
            if f[0] == "take" and len(f) in (6, 8):
                sha, owner, intent = f[1], f[2], f[3]
                cur = held.get(sha)
                if cur is None or (cur[0] == owner and intent != "before-claims") or \
                        (len(f) == 8 and cur[:2] == (f[6], f[7])):
                    held[sha] = (owner, intent, int(f[4]), os.fsdecode(bytes.fromhex(f[5])))
            elif f[0] == "release" and len(f) == 4:
                sha, owner, intent = f[1], f[2], f[3]
                cur = held.get(sha)
                if cur is not None and cur[0] == owner and intent in ("*", cur[1]):
                    del held[sha]
        self.claims = {sha: (c[2], c[3]) for sha, c in held.items()}

    def scan_partition(self, d, out):
        for n in sorted(os.listdir(d)):
            p = os.path.join(d, n)
            r = self.regular_sha(p)
            if r is not None:
                out[p] = r

    def check_warehouse(self):
        by_content = {}
        self.landed = {}  # staged name -> [warehouse paths]
        for where, files in (("partition", self.partitions), ("_duplicates", self.duplicates)):
            for p, (sha, _) in files.items():
                owner = self.dest_owner.get(os.path.basename(p))
                numbered = numbered_owner(os.path.basename(p))
                if owner is None and numbered is not None and numbered[0] in self.ledger:
                    owner = numbered[0]
                if owner is None or self.ledger[owner][0] != sha:
                    self.bad("unknown file in warehouse",
                             f"{p} (sha256 {sha}) is no staged file's name and content")
                    continue
                self.landed.setdefault(owner, []).append(p)
                if where == "partition":
                    by_content.setdefault(sha, []).append(p)
        for sha, paths in sorted(by_content.items()):
            if len(paths) > 1:
                self.bad("content in partitions more than once",
                         f"sha256 {sha} at {', '.join(paths)}")
        for p, (sha, _) in sorted(self.duplicates.items()):
            if sha in self.contents and sha not in by_content:
                self.bad("duplicate without original",
                         f"{p} (sha256 {sha}) is quarantined but no partition holds that content")
        if self.a.phase == "complete":
            for sha in sorted(self.contents - set(by_content)):
                names = sorted(n for n, v in self.ledger.items() if v[0] == sha)
                self.bad("content not ingested",
                         f"sha256 {sha} (staged as {', '.join(names[:5])}) is in no partition")
        if self.a.phase in ("stopped", "complete"):
            if self.temps:
                self.bad("temp directory not empty",
                         f"{len(self.temps)} entries: {', '.join(self.temps[:5])}")
        self.by_content = by_content

    def check_staging(self):
        listing = {}  # staging directory -> names in it
        for d in self.a.staging:
            listing[d] = set(os.listdir(d)) if os.path.isdir(d) else set()
        self.in_staging = 0
        for name in sorted(self.ledger):
            sha, size, kind = self.ledger[name]
            st_dir = next((d for d in self.a.staging if name in listing[d]), self.a.staging[0])
            path = os.path.join(st_dir, name)
            r = self.regular_sha(path) if name in listing[st_dir] else None
            if r is not None and r[0] != sha:
                self.bad("staged file changed",
                         f"{path} has sha256 {r[0]} ({r[1]} bytes), staged {sha} ({size} bytes)")
            in_staging = r is not None and r[0] == sha
            if kind == "ignored":
                if not in_staging:
                    self.bad("ignored file lost", f"{path} (never a candidate) is gone from staging")
                continue
            self.in_staging += in_staging
            landed = self.landed.get(name, [])
            if len(landed) > 1:
                self.bad("staged file landed more than once", f"{path}: {', '.join(landed)}")
            if not in_staging and not landed:
                self.bad("staged file lost",
                         f"{path} (sha256 {sha}, {size} bytes) is neither in staging nor in the warehouse")
            if self.a.phase == "complete" and in_staging:
                self.bad("staged file not drained", f"{path} is still in staging")
            elif self.a.phase == "stopped" and in_staging and landed:
                self.bad("staged file also in the warehouse", f"{path}: {', '.join(landed)}")
        if self.a.phase == "complete":
            for d, present in listing.items():
                for n in sorted(n for n in present if is_candidate(n) and n not in self.ledger):
                    self.bad("unknown file in staging", os.path.join(d, n))

    def check_manifests(self):
        root = self.a.manifests
        records = {}  # sha -> [(file:line, record)]
        self.records = 0
        self.torn = 0
        if not os.path.isdir(root):
            return self.finish_manifests(records)
        for dirpath, dirs, files in os.walk(root):
            dirs.sort()
            for f in sorted(files):
                path = os.path.join(dirpath, f)
                if f != "manifest.jsonl":
                    if self.ledger is not None:
                        self.bad("unexpected entry", path)
                    continue
                with open(path, "rb") as fh:
                    data = fh.read()
                lines = data.split(b"\n")
                tail = lines.pop()  # b"" when the file ends in a newline
                if tail:
                    self.torn += 1
                    if not self.a.allow_torn and not self.a.allow_garbage_lines:
                        self.bad("torn manifest tail after a completed pass",
                                 f"{path} ends in {len(tail)} bytes without a newline: {tail[:120]!r}")
                for i, raw in enumerate(lines, 1):
                    where = f"{path}:{i}"
                    rec = self.parse_record(where, raw, report=not self.a.allow_garbage_lines)
                    if rec is not None:
                        self.records += 1
                        records.setdefault(rec["sha256"], []).append((where, rec))
        self.finish_manifests(records)

    def parse_record(self, where, raw, report=True):
        """The record on one manifest line, or None (a violation unless
        report is False) when the line is not one."""
        bad = self.bad if report else lambda *_: None
        try:
            rec = json.loads(raw.decode("utf-8"), strict=True,
                             object_pairs_hook=no_duplicate_keys, parse_constant=no_constant)
        except Exception as e:
            bad("manifest line not strict JSON", f"{where}: {e}: {raw[:200]!r}")
            return None
        if not isinstance(rec, dict):
            bad("manifest line not an object", f"{where}: {raw[:200]!r}")
            return None
        types = {"path": str, "source": str, "sha256": str, "size": int}
        for k, t in types.items():
            if not isinstance(rec.get(k), t) or isinstance(rec.get(k), bool):
                bad("manifest record field", f"{where}: '{k}' missing or not {t.__name__}: {raw[:200]!r}")
                return None
        if not SHA_RE.match(rec["sha256"]):
            bad("manifest record field", f"{where}: sha256 {rec['sha256']!r} is not 64 hex digits")
            return None
        try:
            rec["path"], rec["source"] = record_path(rec, "path"), record_path(rec, "source")
        except (ValueError, IndexError) as e:
            bad("manifest record field", f"{where}: {e}")
            return None
        return rec

    def finish_manifests(self, records):
        wh = os.path.realpath(self.a.warehouse)
        recorded = {}  # path in a partition -> where its record is
        # A record whose file went missing and whose content a later record
        # ingested again ("reingest_of" names its path) is history: its
        # file need not be there.
        for sha, recs in records.items():
            records[sha] = [
                (w, r) for i, (w, r) in enumerate(recs)
                if not any(isinstance(later.get("reingest_of"), str) and
                           record_path(later, "reingest_of") == r["path"]
                           for _, later in recs[i + 1:])]
        for sha, recs in sorted(records.items()):
            if len(recs) > 1 and self.ledger is not None:
                self.bad("content recorded more than once",
                         f"sha256 {sha} at {', '.join(w for w, _ in recs)}")
            for where, rec in recs:
                path = rec["path"]
                real = in_real_dir(path)
                part = os.path.relpath(os.path.dirname(real), wh)
                r = None
                if os.sep in part or not part.startswith("ingest_date="):
                    self.bad("manifest path outside the partitions", f"{where}: {path!r}")
                else:
                    if real in recorded:
                        self.bad("path recorded more than once", f"{path!r} at {recorded[real]} and {where}")
                    recorded[real] = where
                    r = self.regular_sha(real)
                if r is None:
                    self.bad("manifest path missing", f"{where}: {path!r} is not a regular file")
                elif r != (sha, rec["size"]):
                    self.bad("manifest record does not match its file",
                             f"{where}: {path!r} has sha256 {r[0]} and {r[1]} bytes, the record says {sha} and {rec['size']}")
                if self.ledger is not None:
                    self.check_source(where, rec)
                claim = self.claims.get(sha)
                if claim is None:
                    self.bad("record without a claim", f"{where}: sha256 {sha} is not claimed")
                elif (claim[0], os.path.join(wh, claim[1])) != (rec["size"], real):
                    self.bad("claim names another file",
                             f"{where}: the claim of {sha} names {claim[1]} ({claim[0]} bytes)")
        if self.ledger is None or self.a.phase != "partial":
            for sha in sorted(set(self.claims) - set(records)):
                self.bad("claim without a record",
                         f"sha256 {sha} is claimed for {self.claims[sha][1]} but not recorded")
            for p in sorted(set(self.partitions) - set(recorded)):
                self.bad("file in a partition without a manifest record", repr(p))
        if self.a.phase == "complete":
            for sha in sorted(set(self.by_content) - set(records)):
                self.bad("ingested content without a manifest record",
                         f"{', '.join(self.by_content[sha])} (sha256 {sha})")

    def check_source(self, where, rec):
        """The record's source is the staged file of its content, and its
        path a name the tool may give that file."""
        stagings = {os.path.realpath(d) for d in self.a.staging}
        sha, path = rec["sha256"], rec["path"]
        src = rec["source"]
        name = os.path.basename(src)
        if os.path.realpath(os.path.dirname(src)) not in stagings or name not in self.ledger:
            self.bad("manifest source unknown", f"{where}: {src} was never staged")
        elif self.ledger[name][0] != sha:
            self.bad("manifest source content", f"{where}: {src} was staged with sha256 {self.ledger[name][0]}, the record says {sha}")
        elif not is_collision_name(os.path.basename(path), name, sha):
            self.bad("manifest path name", f"{where}: {path} is not a name for {src}")

    def run(self):
        if self.a.ledger:
            self.load_ledger()
        self.scan_warehouse()
        if self.ledger is not None:
            self.check_warehouse()
            self.check_staging()
        self.check_manifests()
        if self.a.records is not None and self.records != self.a.records:
            self.bad("manifest records", f"expected {self.a.records}, found {self.records}")
        self.hasher.save()
        label = f"[{self.a.label}] " if self.a.label else ""
        for v in self.violations[: self.a.max_report]:
            print(f"VIOLATION {label}{v}")
        more = len(self.violations) - self.a.max_report
        if more > 0:
            print(f"VIOLATION {label}... and {more} more")
        if self.ledger is None:
            print(f"checked {label}partitions={len(self.partitions)} records={self.records} "
                  f"torn={self.torn} violations={len(self.violations)}")
        else:
            print(f"checked {label}phase={self.a.phase} staged={sum(v[2] != 'ignored' for v in self.ledger.values())} "
                  f"contents={len(self.contents)} in_staging={self.in_staging} "
                  f"partitions={len(self.partitions)} duplicates={len(self.duplicates)} "
                  f"temps={len(self.temps)} records={self.records} torn={self.torn} "
                  f"violations={len(self.violations)}")
        return 1 if self.violations else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ledger", help="what was staged; without it only the agreement is checked")
    ap.add_argument("--staging", action="append",
                    help="the staging directory (with --ledger); once per instance sharing the warehouse")
    ap.add_argument("--warehouse", required=True)
    ap.add_argument("--manifests", required=True)
    ap.add_argument("--phase", choices=["partial", "stopped", "complete"],
                    help="how the last pass ended (with --ledger)")
    ap.add_argument("--allow-torn", action="store_true",
                    help="the last pass was killed: a torn manifest tail is allowed")
    ap.add_argument("--allow-garbage-lines", action="store_true",
                    help="someone else wrote lines that are not records into the manifests: skip them")
    ap.add_argument("--records", type=int, help="the manifests hold exactly this many records")
    ap.add_argument("--cache", help="file to cache sha256 sums in between runs")
    ap.add_argument("--label", default="", help="prefix for the report lines")
    ap.add_argument("--max-report", type=int, default=20)
    args = ap.parse_args()
    if args.ledger and not (args.staging and args.phase):
        ap.error("--ledger needs --staging and --phase")
    if args.phase and not args.ledger:
        ap.error("--phase needs --ledger")
    sys.exit(Checker(args).run())


if __name__ == "__main__":
    main()
