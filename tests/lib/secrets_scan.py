#!/usr/bin/env python3
"""Scans what a test run produced for credentials and request signatures.

Usage: secrets_scan.py [--record FILE] [--literal VALUE]... [--exclude NAME]...
                       PATH...

Every file under PATH is read whole; snapshot archives (tar, gzip, xz, zstd)
are opened and each member is scanned as well. A hit is reported as
`FILE[!MEMBER]: PATTERN` and makes the exit status 1 (0: clean).

Patterns:
  - each --literal VALUE (the test's access key id and secret key);
  - each value of --record, the JSON lines written by faultproxy.py
    --record: every signature (64 hex) it saw in an Authorization header,
    every access key id and session token of a request, and the keys,
    secrets and session tokens of the AssumeRole answers it forwarded;
  - the markers of a signed request: "X-Amz-Signature", "Signature=",
    "AWS4-HMAC-SHA256 Credential=", "X-Amz-Security-Token" and an
    "Authorization:" header (case-insensitive).
--exclude NAME skips files and directories with that name (test inputs).
"""
import io
import json
import os
import re
import subprocess
import sys
import tarfile

MARKERS = [
    ("X-Amz-Signature", re.compile(rb"x-amz-signature", re.I)),
    ("Signature=", re.compile(rb"Signature=")),
    ("AWS4-HMAC-SHA256 Credential=",
     re.compile(rb"AWS4-HMAC-SHA256\s+Credential=")),
    ("X-Amz-Security-Token", re.compile(rb"x-amz-security-token", re.I)),
    ("Authorization:", re.compile(rb"authorization\s*:", re.I)),
]


def members(data):
    """Archive bytes -> [(name, bytes)], or None when not an archive."""
    if data[:4] == b"\x28\xb5\x2f\xfd":
        try:
            data = subprocess.run(["zstd", "-dcq"], input=data, check=True,
                                  capture_output=True).stdout
        except (OSError, subprocess.CalledProcessError):
            return None
    try:
        with tarfile.open(fileobj=io.BytesIO(data)) as t:
            return [(m.name, t.extractfile(m).read())
                    for m in t.getmembers() if m.isfile()]
    except (tarfile.TarError, EOFError, OSError):
        return None


def scan_bytes(where, data, literals, hits):
    for label, value in literals:
        if value in data:
            hits.append("%s: %s" % (where, label))
    for label, rx in MARKERS:
        if rx.search(data):
            hits.append("%s: %s" % (where, label))


def main(argv):
    literals, paths, exclude = [], [], set()
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--literal":
            literals.append(("literal %s..." % argv[i + 1][:4],
                             argv[i + 1].encode()))
            i += 2
        elif a == "--record":
            with open(argv[i + 1]) as f:
                seen = set()
                for line in f:
                    r = json.loads(line)
                    if r["value"] and r["value"] not in seen:
                        seen.add(r["value"])
                        literals.append(("%s %s..." % (r["kind"],
                                                       r["value"][:8]),
                                         r["value"].encode()))
            i += 2
        elif a == "--exclude":
            exclude.add(argv[i + 1])
            i += 2
        else:
            paths.append(a)
            i += 1
    # short values would match by chance; keys, tokens and signatures are
    # 16 characters and more
    literals = [(k, v) for k, v in literals if len(v) >= 16]
    hits, n_files, n_members = [], 0, 0
    for top in paths:
        for root, dirs, files in os.walk(top) if os.path.isdir(top) else \
                [(os.path.dirname(top), [], [os.path.basename(top)])]:
            dirs[:] = [d for d in dirs if d not in exclude]
            for name in files:
                if name in exclude:
                    continue
                path = os.path.join(root, name)
                if os.path.islink(path) or not os.path.isfile(path):
                    continue
                with open(path, "rb") as f:
                    data = f.read()
                n_files += 1
                scan_bytes(path, data, literals, hits)
                for mname, mdata in members(data) or []:
                    n_members += 1
                    scan_bytes("%s!%s" % (path, mname), mdata, literals, hits)
    for h in hits:
        print("secret found: " + h)
    if hits:
        return 1
    print("ok: no secret in %d files and %d archive members (%d literal "
          "values, %d markers)" % (n_files, n_members, len(literals),
                                   len(MARKERS)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
