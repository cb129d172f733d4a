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
  --seed S                   soak mode: every attempt of every request draws
                             its fate from sha256(S, request, attempt): the
                             rates below and --throttle-pct/--error-pct then
                             apply per attempt, not per distinct request
  --drop-pct N               (soak) N% of attempts lose their connection:
                             closed without an answer, reset, or the answer
                             cut short after its headers
  --latency-max-ms N         (soak) each attempt waits uniform 0..N ms first
  --max-faults K             (soak) a request (same target, region and body)
                             fails at most K times, then goes through
                             (default 5: ctcollect makes 6 attempts)
  --fail-region R[,R]        every request signed for region R gets HTTP 503
                             ServiceUnavailable (a region that is down)
  --fail-account A[,A]       every request made with credentials of account
                             A (learnt from the AssumeRole answers the proxy
                             forwards) gets HTTP 503 ServiceUnavailable
  --record FILE              appends one JSON line per secret seen: request
                             signatures, access key ids and session tokens,
                             and the keys, secrets and tokens of forwarded
                             AssumeRole answers (for secrets scans)
  --deny-op OP[,OP]          answer these operations with AccessDenied
                             (JSON AccessDeniedException, XML AccessDenied)
  --aws-insights             answer GetInsightSelectors for a trail without
                             Insights the way AWS does (400
                             InsightNotEnabledException; moto answers 200)

The proxy speaks HTTP/1.1 with keep-alive to its clients (moto does not),
so that connection reuse can be observed. GET /__proxy/stats answers
{"requests", "connections", "faults", "ops": {"service:Op": n}}.
Requests are decided by a digest of their body and target, so a retry of
the same request succeeds after --fail-attempts failures. In soak mode
(--seed) the fate of attempt n of a request depends only on the seed, the
digest (which then includes the signing region and the account whose
credentials signed it) and n, not on timing or order: a seed reproduces
the same faults on the same calls. POST /__proxy/config with a JSON object of options (same
names, underscores) changes them and forgets what was seen, so that
runs with and without faults can share one proxy (and one endpoint URL).
"""
import argparse
import hashlib
import http.client
import json
import re
import socket
import struct
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
STATS = {"requests": 0, "connections": 0, "faults": 0, "ops": {}}
SEEN = {}
FAULTS = {}       # soak: digest -> faults so far
ACCOUNT_OF = {}   # access key id -> account (from AssumeRole answers)
ARGS = None


def record(kind, value):
    """Appends a secret the proxy saw to --record (JSON lines)."""
    if not ARGS.record or not value:
        return
    with LOCK:
        with open(ARGS.record, "a") as f:
            f.write(json.dumps({"kind": kind, "value": value}) + "\n")


def fate(digest, n):
    """Soak mode: (u, v, w) uniform in [0, 1) for attempt n of a request."""
    h = hashlib.sha256(b"%d:" % ARGS.seed + digest + b":%d" % n).digest()
    u, v, w = struct.unpack(">III", h[:12])
    return u / 2.0 ** 32, v / 2.0 ** 32, w / 2.0 ** 32


def op_of(headers, body):
    auth = headers.get("Authorization", "")
    m = re.search(r"Credential=[^/]+/\d+/([^/]+)/([^/]+)/", auth)
    service = m.group(2) if m else "?"
    target = headers.get("X-Amz-Target")
    if target:
        return service, target.rsplit(".", 1)[-1], {}
    form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
    return service, form.get("Action", ["?"])[0], form


THROTTLE = {  # service -> (HTTP status, code) as AWS answers throttling
    "cloudtrail": (400, "ThrottlingException"),
    "organizations": (400, "TooManyRequestsException"),
    "ec2": (503, "RequestLimitExceeded"),
}


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


class Dropped(Exception):
    """The connection was dropped on purpose: stop serving it."""


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

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except Dropped:
            self.close_connection = True

    def drop(self, how, status=None, ctype=None, data=None):
        """Loses the connection: 0 closes it unanswered, 1 resets it, 2
        sends the headers and half of the answer, then closes."""
        with LOCK:
            STATS["faults"] += 1
            STATS["drops"] = STATS.get("drops", 0) + 1
        if how == 2 and data is not None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[:len(data) // 2])
            self.wfile.flush()
        if how == 1:  # SO_LINGER 0: close() sends RST, not FIN
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
        else:
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.connection.close()
        raise Dropped()

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
        if self.path == "/__proxy/config":
            with LOCK:
                for k, v in json.loads(body).items():
                    if not hasattr(ARGS, k):
                        return self.reply(400, "text/plain", b"bad option")
                    setattr(ARGS, k, v)
                SEEN.clear()
                FAULTS.clear()
                for k in ("requests", "faults", "drops", "throttles", "errors"):
                    STATS[k] = 0
                STATS["ops"] = {}
            return self.reply(200, "application/json", b"{}")
        service, op, form = op_of(self.headers, body)
        auth = self.headers.get("Authorization", "")
        m = re.search(r"Credential=([^/]+)/\d+/([^/]+)/", auth)
        akid, region = (m.group(1), m.group(2)) if m else ("", "")
        if ARGS.record:
            sig = re.search(r"Signature=([0-9a-f]+)", auth)
            record("signature", sig.group(1) if sig else "")
            record("access_key_id", akid)
            record("session_token",
                   self.headers.get("X-Amz-Security-Token", ""))
        scope = self.headers.get("X-Amz-Target", "") + service
        if ARGS.seed is not None:
            # the signing region and the account of the credentials (the
            # caller's own keys: "caller"): each request has its own fates
            with LOCK:
                scope += ":%s:%s" % (region, ACCOUNT_OF.get(akid, "caller"))
        digest = hashlib.sha256(scope.encode() + body).digest()
        with LOCK:
            STATS["requests"] += 1
            key = service + ":" + op
            STATS["ops"][key] = STATS["ops"].get(key, 0) + 1
            seen = SEEN.get(digest, 0)
            SEEN[digest] = seen + 1
        if ARGS.latency_ms:
            time.sleep(ARGS.latency_ms / 1000.0)
        if ARGS.seed is not None:
            u, v, w = fate(digest, seen)
            if ARGS.latency_max_ms:
                time.sleep(w * ARGS.latency_max_ms / 1000.0)
        down = (region and region in ARGS.fail_region.split(",")) or \
            ACCOUNT_OF.get(akid, "-") in ARGS.fail_account.split(",")
        if down:
            with LOCK:
                STATS["faults"] += 1
            code = "ServiceUnavailableException" if service in (
                "cloudtrail", "organizations") else "ServiceUnavailable"
            ctype, b = error_body(service, code, "injected: region or "
                                  "account down")
            return self.reply(503, ctype, b)
        if ARGS.seed is not None:
            return self.soak(service, op, form, body, digest, u, v)
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

    def soak(self, service, op, form, body, digest, u, v):
        """One attempt in soak mode: u picks the fault, v its flavour."""
        t = ARGS.throttle_pct / 100.0
        e = t + ARGS.error_pct / 100.0
        d = e + ARGS.drop_pct / 100.0
        fault = u < d
        if fault:
            with LOCK:
                fault = FAULTS.get(digest, 0) < ARGS.max_faults
                if fault:
                    FAULTS[digest] = FAULTS.get(digest, 0) + 1
        if not fault:
            return self.forward(body, op)
        if u < t:
            status, code = THROTTLE.get(service, (400, "Throttling"))
            with LOCK:
                STATS["faults"] += 1
                STATS["throttles"] = STATS.get("throttles", 0) + 1
            ctype, b = error_body(service, code, "Rate exceeded")
            extra = [("x-amzn-RequestId", "fault-%s" % digest.hex()[:16])]
            if ctype.startswith("application/x-amz-json"):
                extra.append(("x-amzn-ErrorType", code + ":"))
            return self.reply(status, ctype, b, extra)
        if u < e:
            status = 500 if v < 0.5 else 503
            code = "InternalFailure" if status == 500 else (
                "ServiceUnavailableException" if service in (
                    "cloudtrail", "organizations") else "ServiceUnavailable")
            with LOCK:
                STATS["faults"] += 1
                STATS["errors"] = STATS.get("errors", 0) + 1
            ctype, b = error_body(service, code, "injected server error")
            return self.reply(status, ctype, b)
        how = int(v * 3)
        if how == 2:
            return self.forward(body, op, cut=True)
        self.drop(how)

    def forward(self, body, op, cut=False):
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
            if cut:
                return self.drop(2, r.status, ctype, data)
            if op == "AssumeRole" and r.status == 200:
                self.learn(body, data)
            self.reply(r.status, ctype, data, [
                (k, v) for k, v in r.getheaders()
                if k.lower() not in ("connection", "content-length",
                                     "content-type", "transfer-encoding",
                                     "keep-alive", "server", "date")])
        finally:
            conn.close()


    def learn(self, body, data):
        """Maps the access key of an AssumeRole answer to its account."""
        arn = urllib.parse.parse_qs(body.decode()).get("RoleArn", [""])[0]
        acct = arn.split(":")[4] if arn.count(":") >= 5 else ""
        text = data.decode("utf-8", "replace")
        vals = {}
        for tag in ("AccessKeyId", "SecretAccessKey", "SessionToken"):
            m = re.search(r"<%s>([^<]+)</%s>" % (tag, tag), text)
            vals[tag] = m.group(1) if m else ""
        with LOCK:
            ACCOUNT_OF[vals["AccessKeyId"]] = acct
        record("access_key_id", vals["AccessKeyId"])
        record("secret_access_key", vals["SecretAccessKey"])
        record("session_token", vals["SessionToken"])


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
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--drop-pct", type=int, default=0)
    p.add_argument("--latency-max-ms", type=int, default=0)
    p.add_argument("--max-faults", type=int, default=5)
    p.add_argument("--fail-region", default="")
    p.add_argument("--fail-account", default="")
    p.add_argument("--record", default="")
    ARGS = p.parse_args()
    srv = Server(("127.0.0.1", 0), Handler)
    with open(ARGS.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.replace(ARGS.port_file + ".tmp", ARGS.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
