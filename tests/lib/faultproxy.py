#!/usr/bin/env python3
"""A fault-injecting loopback HTTP proxy in front of moto_server.

Usage: faultproxy.py --target URL --port-file FILE [options]

  --deny-assume ACCT[,ACCT]  answer sts:AssumeRole into these accounts with
                             403 AccessDenied (moto never denies)
  --throttle-pct N           N% of distinct requests are throttled on their
                             first attempts (HTTP 400 ThrottlingException JSON,
                             XML Throttling, EC2 RequestLimitExceeded)
  --error-pct N              N% of distinct requests get HTTP 500 first
  --fail-attempts K          how many first attempts fail (default 1)
  --latency-ms N             added latency per request (benchmarks)
  --deny-op OP[,OP]          answer these operations with AccessDenied
                             (JSON AccessDeniedException, XML AccessDenied)
  --aws-insights             answer GetInsightSelectors for a trail without
                             Insights the way AWS does (400
                             InsightNotEnabledException; moto answers 200)

The proxy speaks HTTP/1.1 with keep-alive to its clients (moto does not),
so that connection reuse can be observed. GET /__proxy/stats answers
{"requests", "connections", "faults", "ops": {"service:Op": n}}.
Requests are decided by a digest of their body and target, so a retry of
the same request succeeds after --fail-attempts failures.
"""
import argparse
import hashlib
import http.client
import json
import re
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
STATS = {"requests": 0, "connections": 0, "faults": 0, "ops": {}}
SEEN = {}
ARGS = None


def op_of(headers, body):
    auth = headers.get("Authorization", "")
    m = re.search(r"Credential=[^/]+/\d+/([^/]+)/([^/]+)/", auth)
    service = m.group(2) if m else "?"
    target = headers.get("X-Amz-Target")
    if target:
        return service, target.rsplit(".", 1)[-1], {}
    form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
    return service, form.get("Action", ["?"])[0], form


def error_body(service, code, message):
    if service in ("cloudtrail", "organizations"):
        return ("application/x-amz-json-1.1",
                json.dumps({"__type": code, "message": message}).encode())
    if service == "ec2":
        return ("text/xml", (
            "<Response><Errors><Error><Code>%s</Code><Message>%s</Message>"
            "</Error></Errors><RequestID>fault</RequestID></Response>"
            % (code, message)).encode())
    return ("text/xml", (
        "<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code>"
        "<Message>%s</Message></Error><RequestId>fault</RequestId>"
        "</ErrorResponse>" % (code, message)).encode())


class Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog of 5 drops the SYNs of a client that
    # opens dozens of connections at once (they come back after 1 s)
    request_queue_size = 128

    def handle_error(self, request, client_address):
        pass  # clients that go away (killed runs) are part of the tests


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in one write with TCP_NODELAY: written apart on
    # a keep-alive connection, Nagle held the body back until the client's
    # delayed ACK (~40 ms), which added that much to every request.
    disable_nagle_algorithm = True

    def setup(self):
        super().setup()
        with LOCK:
            STATS["connections"] += 1

    def log_message(self, *a):
        pass

    def reply(self, status, ctype, body, headers=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        # end_headers() would flush the headers on their own: send them with
        # the body instead
        self._headers_buffer.append(b"\r\n")
        self._headers_buffer.append(body)
        self.flush_headers()

    def do_GET(self):
        if self.path == "/__proxy/stats":
            with LOCK:
                body = json.dumps(STATS, sort_keys=True).encode()
            self.reply(200, "application/json", body)
        else:
            self.reply(404, "text/plain", b"not found")

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        service, op, form = op_of(self.headers, body)
        digest = hashlib.sha256(
            (self.headers.get("X-Amz-Target", "") + service).encode() + body
        ).digest()
        with LOCK:
            STATS["requests"] += 1
            key = service + ":" + op
            STATS["ops"][key] = STATS["ops"].get(key, 0) + 1
            seen = SEEN.get(digest, 0)
            SEEN[digest] = seen + 1
        if ARGS.latency_ms:
            time.sleep(ARGS.latency_ms / 1000.0)
        if op == "AssumeRole" and ARGS.deny_assume:
            arn = form.get("RoleArn", [""])[0]
            if any(":%s:" % a in arn for a in ARGS.deny_assume.split(",")):
                with LOCK:
                    STATS["faults"] += 1
                ctype, b = error_body(
                    service, "AccessDenied",
                    "User is not authorized to perform: sts:AssumeRole on "
                    "resource: " + arn)
                return self.reply(403, ctype, b)
        if op in ARGS.deny_op.split(","):
            with LOCK:
                STATS["faults"] += 1
            code = "AccessDeniedException" if service in (
                "cloudtrail", "organizations") else "AccessDenied"
            ctype, b = error_body(service, code,
                                  "not authorized to perform: %s:%s"
                                  % (service, op))
            return self.reply(400 if code.endswith("Exception") else 403,
                              ctype, b)
        pick = digest[0] * 100 // 256
        if seen < ARGS.fail_attempts:
            if pick < ARGS.throttle_pct:
                code = {"cloudtrail": "ThrottlingException",
                        "organizations": "TooManyRequestsException",
                        "ec2": "RequestLimitExceeded"}.get(service, "Throttling")
                with LOCK:
                    STATS["faults"] += 1
                ctype, b = error_body(service, code, "Rate exceeded")
                return self.reply(400, ctype, b)
            if pick >= 100 - ARGS.error_pct:
                with LOCK:
                    STATS["faults"] += 1
                ctype, b = error_body(service, "InternalFailure",
                                      "injected server error")
                return self.reply(500, ctype, b)
        self.forward(body, op)

    def forward(self, body, op):
        u = urllib.parse.urlsplit(ARGS.target)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in ("connection", "keep-alive")}
        try:
            conn.request("POST", self.path, body=body, headers=headers)
            r = conn.getresponse()
            data = r.read()
            if ARGS.aws_insights and op == "GetInsightSelectors" and \
                    r.status == 200 and \
                    not json.loads(data).get("InsightSelectors"):
                arn = json.loads(body).get("TrailName", "")
                ctype, b = error_body(
                    "cloudtrail", "InsightNotEnabledException",
                    "Trail %s does not have Insights enabled." % arn)
                return self.reply(400, ctype, b)
            ctype = r.getheader("Content-Type", "application/octet-stream")
            self.reply(r.status, ctype, data, [
                (k, v) for k, v in r.getheaders()
                if k.lower() not in ("connection", "content-length",
                                     "content-type", "transfer-encoding",
                                     "keep-alive", "server", "date")])
        finally:
            conn.close()


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--target", required=True)
    p.add_argument("--port-file", required=True)
    p.add_argument("--deny-assume", default="")
    p.add_argument("--throttle-pct", type=int, default=0)
    p.add_argument("--error-pct", type=int, default=0)
    p.add_argument("--fail-attempts", type=int, default=1)
    p.add_argument("--latency-ms", type=int, default=0)
    p.add_argument("--aws-insights", action="store_true")
    p.add_argument("--deny-op", default="")
    ARGS = p.parse_args()
    srv = Server(("127.0.0.1", 0), Handler)
    with open(ARGS.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.replace(ARGS.port_file + ".tmp", ARGS.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
