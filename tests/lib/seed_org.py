#!/usr/bin/env python3
"""Seeds a moto_server with an AWS Organization for the collector tests.

Usage: seed_org.py ENDPOINT_URL OUT.json [EXTRA_ACCOUNTS [REGION,...]]

Management account 123456789012 (moto's default) plus four members, trails
covering the shapes ctaudit cares about, and IAM principals that carry
EXACTLY the least-privilege policies documented in README.md:

  - user "auditor" in the management account: caller policy + member policy
    (the caller also scans its own account), and role "AuditCaller" with the
    same two policies, assumable by auditor (profiles with role_arn);
  - role "CtAuditRole" in every member: member policy, trusting the
    management account.

EXTRA_ACCOUNTS (benchmarks) adds that many members named extra-N, each with
the role and a seeded mix of trails of its own (extra_trails()): moto hides
the organization trail from members, so members carry multi-region trails
(seen in every region with shadow trails) and single-region ones. REGION,...
(default: the four regions above) are the regions their trails live in. The
extras are seeded in parallel. Writes the ids and the auditor's keys to
OUT.json. Run it before enabling moto's authentication
(POST /moto-api/reset-auth).
"""
import json
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import boto3

HERE = os.path.dirname(os.path.abspath(__file__))
ROLE = "CtAuditRole"


def load_policy(name):
    with open(os.path.join(HERE, "..", "collector", "policies", name)) as f:
        return f.read()


SESSIONS = threading.local()


def client(svc, url, region="us-east-1", creds=None):
    kw = dict(endpoint_url=url, region_name=region)
    if creds:
        kw.update(aws_access_key_id=creds["AccessKeyId"],
                  aws_secret_access_key=creds["SecretAccessKey"],
                  aws_session_token=creds["SessionToken"])
    else:
        kw.update(aws_access_key_id="AKIDEXAMPLESEED", aws_secret_access_key="seed")
    # one session per thread (sessions are not thread-safe); it caches the
    # service models, which makes creating clients cheap
    if not hasattr(SESSIONS, "s"):
        SESSIONS.s = boto3.session.Session()
    return SESSIONS.s.client(svc, **kw)


def extra_trails(i, regions):
    """Trails of member extra-i: (name, home region, multi-region, logging).
    Per 10 members: 6 with one multi-region trail, 2 with a multi-region and
    a single-region trail, 1 with two single-region trails, 1 with none (it
    relies on the organization trail)."""
    n = len(regions)
    home = regions[0] if i % 3 else regions[i % n]
    kind = i % 10
    if kind < 6:
        return [("main", home, True, True)]
    if kind < 8:
        return [("main", home, True, True),
                ("local", regions[(i * 7 + 1) % n], False, i % 4 != 0)]
    if kind == 8:
        return [("app-a", regions[(i + 2) % n], False, True),
                ("app-b", regions[(i + 5) % n], False, False)]
    return []


def seed_extra(url, i, acct, trust, member_policy, regions):
    sts = client("sts", url)
    creds = sts.assume_role(
        RoleArn="arn:aws:iam::%s:role/OrganizationAccountAccessRole" % acct,
        RoleSessionName="seed")["Credentials"]
    miam = client("iam", url, creds=creds)
    miam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=trust)
    miam.put_role_policy(RoleName=ROLE, PolicyName="cloudtrail-read",
                         PolicyDocument=member_policy)
    trails = extra_trails(i, regions)
    if not trails:
        return
    name = "extra-%d-logs" % i
    bucket(url, name, creds)
    for t, region, multi, logging in trails:
        c = client("cloudtrail", url, region, creds)
        c.create_trail(Name=t, S3BucketName=name, IsMultiRegionTrail=multi)
        if logging:
            c.start_logging(Name=t)


def bucket(url, name, creds=None):
    client("s3", url, creds=creds).create_bucket(Bucket=name)


def main():
    url, out = sys.argv[1], sys.argv[2]
    extra = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    regions = (sys.argv[4].split(",") if len(sys.argv) > 4 else
               ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1"])
    caller_policy = load_policy("caller.json")
    member_policy = load_policy("member-role.json")
    org = client("organizations", url)
    org.create_organization(FeatureSet="ALL")
    mgmt = org.describe_organization()["Organization"]["MasterAccountId"]
    members = {}
    names = ["dev-platform", "analytics-prod", "staging", "invited"]
    for name in names:
        st = org.create_account(Email=name + "@example.com", AccountName=name)
        members[name] = st["CreateAccountStatus"]["AccountId"]
    extras = {}
    for i in range(extra):
        name = "extra-%d" % i
        st = org.create_account(Email=name + "@example.com", AccountName=name)
        extras[i] = members[name] = st["CreateAccountStatus"]["AccountId"]

    # management account: organization trail with Insights, and a local
    # single-region trail with basic data event selectors
    bucket(url, "org-trail-logs")
    ct = client("cloudtrail", url, "us-east-1")
    ct.create_trail(Name="org-trail", S3BucketName="org-trail-logs",
                    IsMultiRegionTrail=True, IsOrganizationTrail=True)
    ct.start_logging(Name="org-trail")
    ct.put_insight_selectors(TrailName="org-trail", InsightSelectors=[
        {"InsightType": "ApiCallRateInsight"}])
    ct = client("cloudtrail", url, "eu-west-1")
    ct.create_trail(Name="mgmt-local", S3BucketName="org-trail-logs")
    ct.start_logging(Name="mgmt-local")
    ct.put_event_selectors(TrailName="mgmt-local", EventSelectors=[{
        "ReadWriteType": "All", "IncludeManagementEvents": True,
        "DataResources": [{"Type": "AWS::S3::Object",
                           "Values": ["arn:aws:s3:::org-trail-logs/"]}]}])

    iam = client("iam", url)
    iam.create_account_alias(AccountAlias="org-management")
    iam.create_user(UserName="auditor")
    iam.put_user_policy(UserName="auditor", PolicyName="caller",
                        PolicyDocument=caller_policy)
    iam.put_user_policy(UserName="auditor", PolicyName="cloudtrail-read",
                        PolicyDocument=member_policy)
    key = iam.create_access_key(UserName="auditor")["AccessKey"]
    # the same permissions as a role, for profiles with role_arn
    iam.create_role(RoleName="AuditCaller", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "sts:AssumeRole",
            "Principal": {"AWS": "arn:aws:iam::%s:user/auditor" % mgmt}}]}))
    iam.put_role_policy(RoleName="AuditCaller", PolicyName="caller",
                        PolicyDocument=caller_policy)
    iam.put_role_policy(RoleName="AuditCaller", PolicyName="cloudtrail-read",
                        PolicyDocument=member_policy)

    sts = client("sts", url)
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "sts:AssumeRole",
        "Principal": {"AWS": "arn:aws:iam::%s:root" % mgmt}}]})
    with ThreadPoolExecutor(max_workers=8) as ex:
        for f in [ex.submit(seed_extra, url, i, acct, trust, member_policy,
                            regions) for i, acct in extras.items()]:
            f.result()
    for name, acct in members.items():
        if name.startswith("extra-"):
            continue
        creds = sts.assume_role(
            RoleArn="arn:aws:iam::%s:role/OrganizationAccountAccessRole" % acct,
            RoleSessionName="seed")["Credentials"]
        miam = client("iam", url, creds=creds)
        miam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=trust)
        miam.put_role_policy(RoleName=ROLE, PolicyName="cloudtrail-read",
                             PolicyDocument=member_policy)
        if name == "dev-platform":
            # two multi-region trails logging management events: duplicates
            bucket(url, "dev-logs", creds)
            c = client("cloudtrail", url, "eu-west-1", creds)
            for t in ["main-trail", "legacy-trail"]:
                c.create_trail(Name=t, S3BucketName="dev-logs",
                               IsMultiRegionTrail=True)
                c.start_logging(Name=t)
        elif name == "analytics-prod":
            # advanced selectors with data events, multi-region
            bucket(url, "analytics-logs", creds)
            c = client("cloudtrail", url, "eu-central-1", creds)
            c.create_trail(Name="events", S3BucketName="analytics-logs",
                           IsMultiRegionTrail=True)
            c.start_logging(Name="events")
            c.put_event_selectors(TrailName="events", AdvancedEventSelectors=[
                {"Name": "mgmt", "FieldSelectors": [
                    {"Field": "eventCategory", "Equals": ["Management"]}]},
                {"Name": "s3data", "FieldSelectors": [
                    {"Field": "eventCategory", "Equals": ["Data"]},
                    {"Field": "resources.type", "Equals": ["AWS::S3::Object"]}]}])
        elif name == "staging":
            # a single-region trail that is not logging
            bucket(url, "staging-logs", creds)
            c = client("cloudtrail", url, "us-east-1", creds)
            c.create_trail(Name="stopped-trail", S3BucketName="staging-logs")
    with open(out, "w") as f:
        json.dump({"management": mgmt, "members": members, "role": ROLE,
                   "access_key_id": key["AccessKeyId"],
                   "secret_access_key": key["SecretAccessKey"]}, f, indent=1)


if __name__ == "__main__":
    main()
