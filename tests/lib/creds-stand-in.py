#!/usr/bin/env python3
"""Loopback stand-in for the credential endpoints ctcollect's providers call.

One http.server on 127.0.0.1 (free port, written to --port-file) answers as
the real endpoints do, with the same paths, headers and JSON:

  EC2 instance metadata, IMDSv2 only:
    PUT /latest/api/token   (needs X-aws-ec2-metadata-token-ttl-seconds)
    GET /latest/meta-data/iam/security-credentials/[ROLE]
        (needs X-aws-ec2-metadata-token; 401 without a valid one)
  Container credentials (ECS, EKS Pod Identity, CloudShell):
    GET /v2/credentials/<id>   (Authorization must equal --container-token
                                when one is given)
  IAM Identity Center portal (GetRoleCredentials):
    GET /federation/credentials?account_id=&role_name=
        (x-amz-sso_bearer_token must be a token the server issued, and
     is refused after --sso-max-uses answers, as a revoked session)
  IAM Identity Center OIDC (CreateToken with a refresh token):
    POST /token  {"clientId","clientSecret","grantType":"refresh_token",
                  "refreshToken"}

Every credential it hands out is a fresh moto session: sts:AssumeRole into
--role-arn at --moto-url with --access-key/--secret-key (the moto auditor),
so that moto authenticates the calls made with them as it would AWS's; the
Expiration it announces is --expires-in seconds ahead. Each request is logged as a JSON line
(method, path, header names) to --log, never with header values.
"""
import argparse
import datetime
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

ROLE = "ctcollect-instance-role"


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.imds_tokens = set()
        self.sso_tokens = set(args.sso_token or [])
        self.refresh_tokens = set(args.refresh_token or [])
        self.counter = 0
        self.sso_uses = 0

    def counted(self):
        with self.lock:
            self.counter += 1
            return self.counter

    def credentials(self):
        """(n, expiration, AccessKeyId, SecretAccessKey, SessionToken)"""
        import boto3
        n = self.counted()
        sts = boto3.client("sts", endpoint_url=self.args.moto_url,
                           region_name="us-east-1",
                           aws_access_key_id=self.args.access_key,
                           aws_secret_access_key=self.args.secret_key)
        c = sts.assume_role(RoleArn=self.args.role_arn,
                            RoleSessionName="standin-%d" % n,
                            DurationSeconds=900)["Credentials"]
        exp = datetime.datetime.now(datetime.timezone.utc) + \
            datetime.timedelta(seconds=self.args.expires_in)
        return n, exp, c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        pass

    def record(self):
        st = self.server.state
        if st.args.log:
            line = json.dumps({"method": self.command,
                               "path": urlparse(self.path).path,
                               "headers": sorted(k.lower() for k in self.headers.keys())})
            with st.lock, open(st.args.log, "a") as f:
                f.write(line + "\n")

    def reply(self, status, body, ctype="application/json", extra=None):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_PUT(self):
        self.record()
        self.body()
        st = self.server.state
        if urlparse(self.path).path != "/latest/api/token" or st.args.imds_v1_only:
            return self.reply(403 if st.args.imds_v1_only else 404, "", "text/plain")
        ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
        if not ttl or not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
            return self.reply(400, "", "text/plain")
        n = st.counted()
        token = "imds-token-%d-AQAEAxyz" % n
        with st.lock:
            st.imds_tokens.add(token)
        self.reply(200, token, "text/plain",
                   {"X-aws-ec2-metadata-token-ttl-seconds": ttl})

    def do_GET(self):
        self.record()
        st = self.server.state
        url = urlparse(self.path)
        path = url.path
        a = st.args
        if path.startswith("/latest/meta-data/"):
            if self.headers.get("X-aws-ec2-metadata-token") not in st.imds_tokens:
                return self.reply(401, "", "text/plain")
            base = "/latest/meta-data/iam/security-credentials/"
            if path == base:
                return self.reply(200, ROLE, "text/plain")
            if path == base + ROLE:
                n, exp, ak, sk, tok = st.credentials()
                return self.reply(200, json.dumps({
                    "Code": "Success", "LastUpdated": iso(exp),
                    "Type": "AWS-HMAC", "AccessKeyId": ak,
                    "SecretAccessKey": sk, "Token": tok,
                    "Expiration": iso(exp)}), "text/plain")
            return self.reply(404, "", "text/plain")
        if path.startswith("/v2/credentials/"):
            if a.container_token and self.headers.get("Authorization") != a.container_token:
                return self.reply(401, json.dumps({"code": "AccessDenied",
                                                   "message": "bad token"}))
            n, exp, ak, sk, tok = st.credentials()
            return self.reply(200, json.dumps({
                "AccessKeyId": ak, "SecretAccessKey": sk, "Token": tok,
                "Expiration": iso(exp), "RoleArn": a.role_arn}))
        if path == "/federation/credentials":
            q = parse_qs(url.query)
            token = self.headers.get("x-amz-sso_bearer_token")
            with st.lock:
                st.sso_uses += 1
                worn = a.sso_max_uses and st.sso_uses > a.sso_max_uses
            if token not in st.sso_tokens or worn:
                return self.reply(401, json.dumps(
                    {"message": "Session token not found or invalid"}),
                    extra={"x-amzn-ErrorType": "UnauthorizedException"})
            if q.get("account_id") != [a.account] or not q.get("role_name"):
                return self.reply(403, json.dumps(
                    {"message": "No access"}),
                    extra={"x-amzn-ErrorType": "ForbiddenException"})
            n, exp, ak, sk, tok = st.credentials()
            return self.reply(200, json.dumps({"roleCredentials": {
                "accessKeyId": ak, "secretAccessKey": sk, "sessionToken": tok,
                "expiration": int(exp.timestamp() * 1000)}}))
        self.reply(404, "{}")

    def do_POST(self):
        self.record()
        st = self.server.state
        raw = self.body()
        if urlparse(self.path).path != "/token":
            return self.reply(404, "{}")
        try:
            req = json.loads(raw)
        except ValueError:
            return self.reply(400, json.dumps({"error": "invalid_request"}))
        if req.get("grantType") != "refresh_token" or \
                req.get("refreshToken") not in st.refresh_tokens or \
                req.get("clientId") != "standin-client":
            return self.reply(400, json.dumps({"error": "invalid_grant"}))
        n = st.counted()
        token, refresh = "sso-access-%d" % n, "sso-refresh-%d" % n
        with st.lock:
            st.sso_tokens.add(token)
            st.refresh_tokens.discard(req["refreshToken"])
            st.refresh_tokens.add(refresh)
        self.reply(200, json.dumps({"accessToken": token, "tokenType": "Bearer",
                                    "expiresIn": 3600, "refreshToken": refresh}))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port-file", required=True)
    p.add_argument("--access-key", required=True)
    p.add_argument("--secret-key", required=True)
    p.add_argument("--account", default="123456789012")
    p.add_argument("--moto-url", required=True)
    p.add_argument("--role-arn", required=True)
    p.add_argument("--expires-in", type=int, default=3600)
    p.add_argument("--container-token")
    p.add_argument("--sso-token", action="append")
    p.add_argument("--refresh-token", action="append")
    p.add_argument("--imds-v1-only", action="store_true")
    p.add_argument("--sso-max-uses", type=int, default=0,
                   help="GetRoleCredentials refuses the token after N uses")
    p.add_argument("--log")
    args = p.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.state = State(args)
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.replace(args.port_file + ".tmp", args.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
