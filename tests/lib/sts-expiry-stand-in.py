#!/usr/bin/env python3
"""A stand-in for STS sessions that end soon, in front of moto.

Forwards every POST to --target unchanged (signatures stay valid: the Host
header is kept), after --latency-ms. The Expiration of each successful
sts:AssumeRole answer is rewritten to --expires-in seconds from now, as STS
would answer a role whose sessions are short, so that a run of seconds needs
renewals. With --deny-repeat, every AssumeRole after the first for the same
RoleArn is refused (AccessDenied), as when a role is removed mid-run.
Writes its port to --port-file; GET /__stand-in/stats answers the counts.
"""
import argparse
import datetime
import http.client
import json
import re
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ARGS = None
LOCK = threading.Lock()
STATS = {"assume_role": 0, "denied": 0, "requests": 0}
SEEN_ROLES = set()


class Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, status, ctype, body):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        with LOCK:
            body = json.dumps(STATS, sort_keys=True).encode()
        self.reply(200, "application/json", body)

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        form = {}
        if "x-www-form-urlencoded" in (self.headers.get("Content-Type") or ""):
            form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
        op = form.get("Action", [""])[0]
        with LOCK:
            STATS["requests"] += 1
        if ARGS.latency_ms:
            time.sleep(ARGS.latency_ms / 1000.0)
        if op == "AssumeRole":
            arn = form.get("RoleArn", [""])[0]
            with LOCK:
                STATS["assume_role"] += 1
                repeat = arn in SEEN_ROLES
                SEEN_ROLES.add(arn)
                if repeat and ARGS.deny_repeat:
                    STATS["denied"] += 1
            if repeat and ARGS.deny_repeat:
                return self.reply(403, "text/xml", (
                    "<ErrorResponse><Error><Type>Sender</Type>"
                    "<Code>AccessDenied</Code><Message>not authorized to "
                    "perform: sts:AssumeRole on resource: %s</Message>"
                    "</Error></ErrorResponse>" % arn).encode())
        u = urllib.parse.urlsplit(ARGS.target)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in ("connection", "keep-alive")}
        try:
            conn.request("POST", self.path, body=body, headers=headers)
            r = conn.getresponse()
            data = r.read()
        finally:
            conn.close()
        if op == "AssumeRole" and r.status == 200:
            exp = datetime.datetime.now(datetime.timezone.utc) + \
                datetime.timedelta(seconds=ARGS.expires_in)
            data = re.sub(rb"<Expiration>[^<]*</Expiration>",
                          b"<Expiration>" +
                          exp.strftime("%Y-%m-%dT%H:%M:%SZ").encode() +
                          b"</Expiration>", data)
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("connection", "content-length",
                                 "transfer-encoding", "keep-alive", "server",
                                 "date"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--target", required=True)
    p.add_argument("--port-file", required=True)
    p.add_argument("--expires-in", type=int, default=3600)
    p.add_argument("--latency-ms", type=int, default=0)
    p.add_argument("--deny-repeat", action="store_true")
    ARGS = p.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    srv.daemon_threads = True
    with open(ARGS.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.replace(ARGS.port_file + ".tmp", ARGS.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
