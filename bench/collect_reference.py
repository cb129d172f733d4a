#!/usr/bin/env python3
"""The reference script's call pattern (the article's cloudtrail-audit.py),
re-created for the benchmark: accounts one after another, regions of an
account in parallel (ThreadPoolExecutor), and for every trail listed in a
region (shadow copies included) GetEventSelectors, GetInsightSelectors and
GetTrailStatus in that region. Prints the number of API calls it made.

Usage: collect_reference.py ENDPOINT_URL ROLE_NAME REGION[,REGION...]
Credentials from the environment (AWS_ACCESS_KEY_ID...).
"""
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

URL = sys.argv[1]
ROLE = sys.argv[2]
REGIONS = sys.argv[3].split(",")
CFG = Config(retries={"mode": "standard", "max_attempts": 3})
CALLS = 0
LOCK = threading.Lock()


def call(fn, **kw):
    global CALLS
    with LOCK:
        CALLS += 1
    try:
        return fn(**kw)
    except ClientError:
        return None


def session_client(sess, svc, region):
    return sess.client(svc, region_name=region, endpoint_url=URL, config=CFG)


def scan_region(sess, region):
    ct = session_client(sess, "cloudtrail", region)
    r = call(ct.describe_trails, includeShadowTrails=True) or {}
    for t in r.get("trailList", []):
        call(ct.get_event_selectors, TrailName=t["TrailARN"])
        call(ct.get_insight_selectors, TrailName=t["TrailARN"])
        call(ct.get_trail_status, Name=t["TrailARN"])


def scan_account(sess):
    ec2 = session_client(sess, "ec2", "us-east-1")
    enabled = [r["RegionName"] for r in
               (call(ec2.describe_regions) or {}).get("Regions", [])]
    regions = [r for r in REGIONS if r in enabled]
    with ThreadPoolExecutor(max_workers=max(1, len(regions))) as ex:
        list(ex.map(lambda reg: scan_region(sess, reg), regions))


def main():
    base = boto3.Session(region_name="us-east-1")
    sts = session_client(base, "sts", "us-east-1")
    me = call(sts.get_caller_identity)["Account"]
    call(session_client(base, "iam", "us-east-1").list_account_aliases)
    org = session_client(base, "organizations", "us-east-1")
    accounts = []
    for page in org.get_paginator("list_accounts").paginate():
        with LOCK:
            global CALLS
            CALLS += 1
        accounts += [a for a in page["Accounts"] if a["Status"] == "ACTIVE"]
    for a in accounts:
        if a["Id"] == me:
            scan_account(base)
            continue
        r = call(sts.assume_role,
                 RoleArn="arn:aws:iam::%s:role/%s" % (a["Id"], ROLE),
                 RoleSessionName="reference")
        if not r:
            continue
        c = r["Credentials"]
        scan_account(boto3.Session(
            aws_access_key_id=c["AccessKeyId"],
            aws_secret_access_key=c["SecretAccessKey"],
            aws_session_token=c["SessionToken"]))
    print(CALLS)


if __name__ == "__main__":
    main()
