#!/usr/bin/env python3
"""Generate a large synthetic AWS Organization snapshot (schema/SNAPSHOT.md).

The output is seeded and deterministic: the same options give the same bytes
(members, order, timestamps and compression included). Members are streamed
into the output one by one; only the small per-account model is in memory,
and the manifest entries (with --manifest) go to a temporary file.

The container follows the output name:
  *.tar.gz, *.tgz    gzip (level --level, default 6)
  *.tar.zst, *.tzst  piped through the zstd program (level 3)
  *.tar.xz, *.txz    xz (lzma, preset 1)
  *.tar              no compression
  anything else      a directory tree

What is in it (all figures approximate and seeded):
  - organization/describe-organization.json, list-accounts.json with every
    account, ~2% SUSPENDED or CLOSED (suspended accounts are not scanned and
    have no accounts/<id>/ folder, as a collector skips them);
  - per scanned account identity.json, aliases.json (some with no alias,
    ~0.5% replaced by errors/ListAccountAliases.json), regions.json;
  - ~1% of accounts not scanned: only accounts/<id>/error.json (AssumeRole,
    AccessDenied);
  - a describe-trails.json per account and region, with shadow entries: the
    organization trail of the management account (multi-region, us-east-1)
    in every region of every member, plus 0-3 trails of the account's own
    (multi-region or single-region, some logging global service events
    twice, some with data events or Insights, some stopped);
  - per distinct trail ARN per account, in the trail's home region,
    get-event-selectors.json (basic or advanced selectors),
    get-insight-selectors.json and get-trail-status.json (raw-API epoch
    timestamps);
  - a few errors/DescribeTrails.json (ThrottlingException) instead of a
    region's describe-trails.json, and a few per-trail
    errors/GetTrailStatus.<owner>.<name>.json.

Python 3 standard library only.
"""

import argparse
import calendar
import gzip
import hashlib
import io
import json
import lzma
import os
import random
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time

# The 17 regions enabled by default (opt-in-not-required), then opt-in ones.
DEFAULT_REGIONS = [
    "us-east-1", "us-east-2", "us-west-1", "us-west-2",
    "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1",
    "ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
    "ap-southeast-1", "ap-southeast-2", "ca-central-1", "sa-east-1",
]
OPT_IN_REGIONS = [
    "af-south-1", "ap-east-1", "eu-south-1", "me-south-1", "ap-southeast-3",
    "me-central-1", "eu-central-2", "eu-south-2", "ap-south-2",
    "ap-southeast-4", "il-central-1", "ca-west-1", "ap-southeast-5",
    "mx-central-1", "ap-southeast-7",
]
ALL_REGIONS = DEFAULT_REGIONS + OPT_IN_REGIONS

# The moment the synthetic collection "ran"; all timestamps are before it.
SNAPSHOT_EPOCH = calendar.timegm((2026, 11, 24, 1, 0, 0))
MEMBER_MTIME = SNAPSHOT_EPOCH
ROLE_NAME = "OrganizationAccountAccessRole"
SESSION = "ctcollect"

TEAMS = ["payments", "search", "identity", "data", "ml", "web", "mobile",
         "platform", "security", "network", "billing", "analytics", "iot",
         "media", "ads", "crm", "erp", "hr", "logistics", "support"]
STAGES = ["prod", "staging", "dev", "test", "sandbox", "qa", "shared", "dr"]
OWN_MULTI_NAMES = ["management-events", "account-trail", "security-audit",
                   "cloudtrail-main", "audit-all-regions", "default",
                   "compliance-trail", "Trail1"]
OWN_SINGLE_NAMES = ["s3-data-events", "lambda-trail", "app-trail",
                    "legacy-trail", "dynamodb-audit", "regional-trail",
                    "debug-trail", "TrailName"]
ORG_TRAIL_NAMES = ["org-trail", "aws-controltower-BaselineCloudTrail",
                   "organization-trail"]

COMPACT = (",", ":")


def dumps(obj):
    return json.dumps(obj, separators=COMPACT)


def epoch(rng, min_days, max_days):
    """A raw-API epoch timestamp with milliseconds, days before the run."""
    secs = rng.uniform(min_days * 86400.0, max_days * 86400.0)
    return round(SNAPSHOT_EPOCH - secs, 3)


def iso(ts):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(ts)))


# --------------------------------------------------------------------------
# Output sinks


class Sink:
    """Receives members in order; counts them and optionally hashes them."""

    def __init__(self, manifest):
        self.n_members = 0
        self.n_bytes = 0
        self.entries = None
        self.first_entry = True
        if manifest:
            self.entries = tempfile.TemporaryFile(mode="w+b")

    def add(self, name, data):
        self.n_members += 1
        self.n_bytes += len(data)
        if self.entries is not None:
            digest = hashlib.sha256(data).hexdigest()
            self.entries.write(("%s  %s\n" % (digest, name)).encode())
        self.write(name, io.BytesIO(data), len(data))

    def add_manifest(self, head):
        """Writes SHA256SUMS (streamed from the temporary file), then
        manifest.json, which names SHA256SUMS by its hash."""
        size = self.entries.tell()
        self.entries.seek(0)
        h = hashlib.sha256()
        for chunk in iter(lambda: self.entries.read(1 << 20), b""):
            h.update(chunk)
        self.entries.seek(0)
        self.n_members += 1
        self.n_bytes += size
        self.write("SHA256SUMS", self.entries, size)
        self.entries.close()
        head["checksums"] = {"file": "SHA256SUMS", "sha256": h.hexdigest(),
                             "members": self.n_members - 1}
        data = (dumps(head) + "\n").encode()
        self.n_members += 1
        self.n_bytes += len(data)
        self.write("manifest.json", io.BytesIO(data), len(data))


class TarSink(Sink):
    def __init__(self, path, kind, level, manifest):
        super().__init__(manifest)
        self.path = path
        self.partial = path + ".partial"
        self.proc = None
        self.raw = open(self.partial, "wb")
        if kind == "gz":
            # mtime=0 and no file name keep the output reproducible
            self.stream = gzip.GzipFile(filename="", mode="wb",
                                        fileobj=self.raw,
                                        compresslevel=level, mtime=0)
        elif kind == "xz":
            self.stream = lzma.LZMAFile(self.raw, "wb", preset=1)
        elif kind == "zst":
            zstd = shutil.which("zstd")
            if zstd is None:
                self.raw.close()
                os.unlink(self.partial)
                sys.exit("gen_org.py: cannot write '%s': zstd not found "
                         "(use .tar.gz)" % path)
            self.proc = subprocess.Popen(
                [zstd, "-q", "-3", "-T0", "-c"], stdin=subprocess.PIPE,
                stdout=self.raw)
            self.stream = self.proc.stdin
        else:
            self.stream = self.raw
        # USTAR splits long names into prefix/name instead of adding a PAX
        # header per member; every member path here fits.
        self.tar = tarfile.open(fileobj=self.stream, mode="w|",
                                format=tarfile.USTAR_FORMAT,
                                bufsize=1 << 16)

    def write(self, name, fileobj, size):
        info = tarfile.TarInfo(name)
        info.size = size
        info.mtime = MEMBER_MTIME
        info.mode = 0o644
        info.uname = info.gname = ""
        self.tar.addfile(info, fileobj)
        # TarFile keeps every TarInfo it wrote; drop them to stay streaming
        self.tar.members.clear()

    def close(self):
        self.tar.close()
        if self.proc is not None:
            self.proc.stdin.close()
            if self.proc.wait() != 0:
                sys.exit("gen_org.py: zstd failed")
        elif self.stream is not self.raw:
            self.stream.close()
        self.raw.close()
        os.replace(self.partial, self.path)
        return os.path.getsize(self.path)


class DirSink(Sink):
    def __init__(self, path, manifest):
        super().__init__(manifest)
        if os.path.exists(path) and os.listdir(path):
            sys.exit("gen_org.py: output directory '%s' is not empty" % path)
        self.root = path
        self.disk_bytes = 0

    def write(self, name, fileobj, size):
        full = os.path.join(self.root, name)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            shutil.copyfileobj(fileobj, f)
        self.disk_bytes += size

    def close(self):
        return self.disk_bytes


def open_sink(path, level, manifest):
    lower = path.lower()
    for suffixes, kind in (((".tar.gz", ".tgz"), "gz"),
                           ((".tar.zst", ".tzst"), "zst"),
                           ((".tar.xz", ".txz"), "xz"),
                           ((".tar",), "tar")):
        if lower.endswith(suffixes):
            return TarSink(path, kind, level, manifest)
    return DirSink(path, manifest)


# --------------------------------------------------------------------------
# The model


class Trail:
    """One trail: its describe-trails entry and its three per-trail files,
    rendered once and reused for every shadow and every member account."""

    __slots__ = ("name", "arn", "home", "multi", "desc", "selectors",
                 "insights", "status", "status_error")

    def __init__(self, rng, owner, name, home, multi, org, bucket, regions):
        self.name = name
        self.home = home
        self.multi = multi
        self.arn = "arn:aws:cloudtrail:%s:%s:trail/%s" % (home, owner, name)
        d = {
            "Name": name,
            "S3BucketName": bucket,
        }
        if rng.random() < 0.35:
            d["S3KeyPrefix"] = rng.choice(["cloudtrail", "logs", "audit",
                                           "ct/" + owner])
        if rng.random() < 0.05:
            d["SnsTopicName"] = "cloudtrail-notify"
            d["SnsTopicARN"] = "arn:aws:sns:%s:%s:cloudtrail-notify" % (
                home, owner)
        # Single-region trails that also log global service events duplicate
        # IAM/STS/CloudFront events: a pattern the analyzer looks for.
        d["IncludeGlobalServiceEvents"] = multi or rng.random() < 0.4
        d["IsMultiRegionTrail"] = multi
        d["HomeRegion"] = home
        d["TrailARN"] = self.arn
        validation = rng.random() < 0.6
        d["LogFileValidationEnabled"] = validation
        cwl = rng.random() < 0.25
        if cwl:
            d["CloudWatchLogsLogGroupArn"] = (
                "arn:aws:logs:%s:%s:log-group:aws-cloudtrail-logs-%s:*" % (
                    home, owner, name))
            d["CloudWatchLogsRoleArn"] = (
                "arn:aws:iam::%s:role/CloudTrail_CloudWatchLogs_Role" % owner)
        if rng.random() < 0.3:
            d["KmsKeyId"] = "arn:aws:kms:%s:%s:key/%s" % (
                home, owner, uuid(rng))
        sel_doc, custom = event_selectors(rng, self.arn, org, regions)
        ins_doc, has_insights = insight_selectors(rng, self.arn, org)
        d["HasCustomEventSelectors"] = custom
        d["HasInsightSelectors"] = has_insights
        d["IsOrganizationTrail"] = org
        self.desc = dumps(d)
        self.selectors = dumps(sel_doc).encode()
        self.insights = dumps(ins_doc).encode()
        self.status = dumps(trail_status(rng, validation, cwl,
                                         bucket)).encode()
        self.status_error = rng.random() < 0.002


def uuid(rng):
    h = "%032x" % rng.getrandbits(128)
    return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])


def event_selectors(rng, arn, org, regions):
    """get-event-selectors.json and whether it differs from the default."""
    roll = rng.random()
    if roll < (0.5 if org else 0.4):
        return ({"TrailARN": arn, "EventSelectors": [{
            "ReadWriteType": "All", "IncludeManagementEvents": True,
            "DataResources": [], "ExcludeManagementEventSources": []}]},
            False)
    if roll < 0.7:
        sel = {"ReadWriteType": rng.choice(["All", "All", "WriteOnly",
                                            "ReadOnly"]),
               "IncludeManagementEvents": rng.random() < 0.85,
               "DataResources": [],
               "ExcludeManagementEventSources": []}
        if rng.random() < 0.3:
            sel["ExcludeManagementEventSources"] = rng.choice(
                [["kms.amazonaws.com"], ["rdsdata.amazonaws.com"],
                 ["kms.amazonaws.com", "rdsdata.amazonaws.com"]])
        if rng.random() < 0.45:
            s3 = rng.random()
            if s3 < 0.5:
                values = ["arn:aws:s3"]  # every bucket: the expensive one
            else:
                values = ["arn:aws:s3:::%s-%04d/" % (
                    rng.choice(TEAMS), rng.randrange(10000))
                    for _ in range(rng.randint(1, 4))]
            sel["DataResources"].append({"Type": "AWS::S3::Object",
                                         "Values": values})
        if rng.random() < 0.2:
            sel["DataResources"].append({"Type": "AWS::Lambda::Function",
                                         "Values": ["arn:aws:lambda"]})
        sels = [sel]
        if rng.random() < 0.1:
            sels.append({"ReadWriteType": "ReadOnly",
                         "IncludeManagementEvents": False,
                         "DataResources": [{"Type": "AWS::S3::Object",
                                            "Values": ["arn:aws:s3"]}],
                         "ExcludeManagementEventSources": []})
        return {"TrailARN": arn, "EventSelectors": sels}, True
    adv = []
    mgmt = [{"Field": "eventCategory", "Equals": ["Management"]}]
    if rng.random() < 0.4:
        mgmt.append({"Field": "readOnly", "Equals": ["false"]})
    if rng.random() < 0.25:
        mgmt.append({"Field": "eventSource",
                     "NotEquals": ["kms.amazonaws.com"]})
    if rng.random() < 0.85:
        adv.append({"Name": "Management events", "FieldSelectors": mgmt})
    for rtype, p in (("AWS::S3::Object", 0.5),
                     ("AWS::Lambda::Function", 0.2),
                     ("AWS::DynamoDB::Table", 0.15),
                     ("AWS::S3Express::Object", 0.03),
                     ("AWS::SNS::Topic", 0.03)):
        if rng.random() >= p:
            continue
        fs = [{"Field": "eventCategory", "Equals": ["Data"]},
              {"Field": "resources.type", "Equals": [rtype]}]
        if rtype == "AWS::S3::Object" and rng.random() < 0.5:
            fs.append({"Field": "resources.ARN", "StartsWith": [
                "arn:aws:s3:::%s-%04d/" % (rng.choice(TEAMS),
                                           rng.randrange(10000))]})
        if rng.random() < 0.3:
            fs.append({"Field": "readOnly", "Equals": ["false"]})
        adv.append({"Name": "Log %s data events" % rtype.split("::")[1],
                    "FieldSelectors": fs})
    if not adv:
        adv.append({"Name": "Management events", "FieldSelectors": mgmt})
    return {"TrailARN": arn, "AdvancedEventSelectors": adv}, True


def insight_selectors(rng, arn, org):
    if rng.random() >= (0.3 if org else 0.08):
        return {"TrailARN": arn, "InsightSelectors": []}, False
    sels = [{"InsightType": "ApiCallRateInsight"}]
    if rng.random() < 0.5:
        sels.append({"InsightType": "ApiErrorRateInsight"})
    if rng.random() < 0.3:
        for s in sels:
            s["EventCategories"] = ["Management"]
    return {"TrailARN": arn, "InsightSelectors": sels}, True


def trail_status(rng, validation, cwl, bucket):
    started = epoch(rng, 30, 2000)
    st = {"IsLogging": True}
    stopped = rng.random() < 0.08
    if stopped:
        stop = round(rng.uniform(started, SNAPSHOT_EPOCH - 3600), 3)
        st["IsLogging"] = False
        st["StartLoggingTime"] = started
        st["StopLoggingTime"] = stop
        st["TimeLoggingStarted"] = iso(started)
        st["TimeLoggingStopped"] = iso(stop)
        last = round(stop + rng.uniform(60, 900), 3)
    else:
        st["StartLoggingTime"] = started
        st["TimeLoggingStarted"] = iso(started)
        last = round(SNAPSHOT_EPOCH - rng.uniform(30, 900), 3)
    if rng.random() < 0.01:
        # the bucket policy broke: the trail records events it cannot deliver
        st["LatestDeliveryError"] = "AccessDenied"
        st["LatestDeliveryAttemptTime"] = iso(last)
        st["LatestDeliveryTime"] = round(last - rng.uniform(86400, 8e6), 3)
    else:
        st["LatestDeliveryTime"] = last
        st["LatestDeliveryAttemptTime"] = iso(last)
        st["LatestDeliveryAttemptSucceeded"] = iso(last)
    st["LatestNotificationAttemptTime"] = ""
    st["LatestNotificationAttemptSucceeded"] = ""
    if validation:
        st["LatestDigestDeliveryTime"] = round(last - rng.uniform(0, 3600), 3)
    if cwl:
        st["LatestCloudWatchLogsDeliveryTime"] = round(
            last + rng.uniform(0, 5), 3)
    return st


def error_doc(op, code, message, status, attempts, causes=None):
    d = {"Operation": op, "Code": code, "Message": message,
         "HttpStatus": status, "Attempts": attempts}
    if causes:
        d["ProbableCauses"] = causes
    return dumps(d).encode()


THROTTLED = error_doc("DescribeTrails", "ThrottlingException",
                      "Rate exceeded", 400, 8,
                      ["too many requests in this region; retry later "
                       "with fewer concurrent requests"])
STATUS_THROTTLED = error_doc("GetTrailStatus", "ThrottlingException",
                             "Rate exceeded", 400, 8)


def make_accounts(rng, n):
    ids = set()
    out = []
    while len(out) < n:
        a = "%012d" % rng.randrange(10 ** 10, 10 ** 12)
        if a in ids:
            continue
        ids.add(a)
        out.append(a)
    return out


def org_id(rng):
    alnum = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "o-" + "".join(rng.choice(alnum) for _ in range(10))


def regions_doc(regions):
    return dumps({"Regions": [{
        "Endpoint": "ec2.%s.amazonaws.com" % r, "RegionName": r,
        "OptInStatus": ("opt-in-not-required" if r in DEFAULT_REGIONS
                        else "opted-in")} for r in regions]}).encode()


def own_trails(rng, account, regions, central_bucket):
    """0-3 trails of the account's own."""
    n = rng.choices([0, 1, 2, 3], weights=[45, 30, 17, 8])[0]
    trails = []
    used = set()
    for _ in range(n):
        multi = rng.random() < 0.55
        pool = OWN_MULTI_NAMES if multi else OWN_SINGLE_NAMES
        name = rng.choice(pool)
        while name in used:
            name = "%s-%d" % (rng.choice(pool), rng.randrange(100))
        used.add(name)
        if multi:
            home = "us-east-1" if rng.random() < 0.7 else rng.choice(regions)
        else:
            home = rng.choice(regions)
        bucket = (central_bucket if rng.random() < 0.3 else
                  "cloudtrail-%s-%s" % (account, name.lower()))
        trails.append(Trail(rng, account, name, home, multi, False, bucket,
                            regions))
    return trails


# --------------------------------------------------------------------------


def generate(args, sink):
    rng = random.Random(args.seed)
    regions = ALL_REGIONS[:args.regions]
    ids = make_accounts(rng, args.accounts)
    mgmt = ids[0]
    oid = org_id(rng)
    root = "r-" + "%04x" % rng.getrandbits(16)
    company = rng.choice(["acme", "initech", "globex", "umbrella", "hooli",
                          "stark", "wayne", "tyrell", "cyberdyne", "soylent"])
    stats = {"accounts": args.accounts, "suspended": 0, "skipped": 0,
             "trails": 0, "shadows": 0, "region_errors": 0,
             "trail_errors": 0}

    # organization/
    sink.add("organization/describe-organization.json", dumps({
        "Organization": {
            "Id": oid,
            "Arn": "arn:aws:organizations::%s:organization/%s" % (mgmt, oid),
            "FeatureSet": "ALL",
            "MasterAccountArn": "arn:aws:organizations::%s:account/%s/%s" % (
                mgmt, oid, mgmt),
            "MasterAccountId": mgmt,
            "MasterAccountEmail": "aws-root@%s.example.com" % company,
            "AvailablePolicyTypes": [{"Type": "SERVICE_CONTROL_POLICY",
                                      "Status": "ENABLED"}]}}).encode())

    # Account attributes, decided up front: list-accounts needs them all.
    accts = []
    for i, a in enumerate(ids):
        if i == 0:
            name, status = "%s-management" % company, "ACTIVE"
        else:
            name = "%s-%s-%s-%04d" % (company, rng.choice(TEAMS),
                                      rng.choice(STAGES), i)
            status = "SUSPENDED" if rng.random() < 0.02 else "ACTIVE"
        acct = {"Id": a,
                "Arn": "arn:aws:organizations::%s:account/%s/%s" % (
                    mgmt, oid, a),
                "Email": "aws+%s@%s.example.com" % (name, company),
                "Name": name,
                "Status": status,
                "State": ("ACTIVE" if status == "ACTIVE" else
                          rng.choice(["SUSPENDED", "SUSPENDED", "CLOSED"])),
                "JoinedMethod": ("INVITED" if i == 0 or rng.random() < 0.1
                                 else "CREATED"),
                "JoinedTimestamp": epoch(rng, 1, 3000)}
        accts.append(acct)
    # one document (pages merged): ~3 MB for 10,000 accounts
    body = ('{"Accounts":[' + ",".join(dumps(x) for x in accts)
            + "]}").encode()
    sink.add("organization/list-accounts.json", body)
    del body

    central_bucket = "%s-cloudtrail-central-%s" % (company, mgmt)
    org = Trail(rng, mgmt, rng.choice(ORG_TRAIL_NAMES), "us-east-1", True,
                True, "aws-cloudtrail-logs-%s-%s" % (mgmt, oid[2:]), regions)
    stats["trails"] += 1
    reg_doc = regions_doc(regions)

    # A few region throttling errors (~0.05%, at least two in a large org).
    n_region_errors = round(args.accounts * len(regions) * 0.0005)
    if args.accounts * len(regions) >= 1000:
        n_region_errors = max(2, n_region_errors)
    throttled = set()
    while len(throttled) < min(n_region_errors, args.accounts * len(regions)):
        throttled.add((rng.randrange(args.accounts),
                       rng.randrange(len(regions))))

    for i, acct in enumerate(accts):
        a = acct["Id"]
        base = "accounts/%s/" % a
        if acct["Status"] != "ACTIVE":
            stats["suspended"] += 1
            continue
        if i != 0 and rng.random() < 0.01:
            stats["skipped"] += 1
            sink.add(base + "error.json", error_doc(
                "AssumeRole", "AccessDenied",
                "User: arn:aws:sts::%s:assumed-role/audit/%s is not "
                "authorized to perform: sts:AssumeRole on resource: "
                "arn:aws:iam::%s:role/%s" % (mgmt, SESSION, a, ROLE_NAME),
                403, 1, ["the role %s does not exist in the account or "
                         "does not trust the management account"
                         % ROLE_NAME]))
            continue
        sink.add(base + "identity.json", dumps({
            "UserId": "AROA%s:%s" % ("%016X" % rng.getrandbits(64), SESSION),
            "Account": a,
            "Arn": "arn:aws:sts::%s:assumed-role/%s/%s" % (
                a, ROLE_NAME, SESSION)}).encode())
        if rng.random() < 0.005:
            sink.add(base + "errors/ListAccountAliases.json", error_doc(
                "ListAccountAliases", "AccessDenied",
                "User: arn:aws:sts::%s:assumed-role/%s/%s is not authorized "
                "to perform: iam:ListAccountAliases" % (a, ROLE_NAME, SESSION),
                403, 1))
        else:
            aliases = [acct["Name"]] if rng.random() < 0.8 else []
            sink.add(base + "aliases.json",
                     dumps({"AccountAliases": aliases}).encode())
        sink.add(base + "regions.json", reg_doc)

        trails = own_trails(rng, a, regions, central_bucket)
        stats["trails"] += len(trails)
        # the organization trail: the management account's own, and seen
        # from every member account in every region
        trails.append(org)
        described = set()
        region_docs = []
        for ri, r in enumerate(regions):
            if (i, ri) in throttled:
                region_docs.append(None)
                continue
            seen = [t for t in trails if t.multi or t.home == r]
            for t in seen:
                described.add(t.arn)
            stats["shadows"] += sum(1 for t in seen if t.home != r)
            region_docs.append(('{"trailList":[' + ",".join(
                t.desc for t in seen) + "]}").encode())
        for ri, r in enumerate(regions):
            rbase = base + r + "/"
            doc = region_docs[ri]
            if doc is None:
                stats["region_errors"] += 1
                sink.add(rbase + "errors/DescribeTrails.json", THROTTLED)
            else:
                sink.add(rbase + "describe-trails.json", doc)
            # per-trail files once per distinct ARN, in the home region
            for t in trails:
                if t.home != r or t.arn not in described:
                    continue
                owner = t.arn.split(":")[4]
                tbase = "%strails/%s/%s/" % (rbase, owner, t.name)
                sink.add(tbase + "get-event-selectors.json", t.selectors)
                sink.add(tbase + "get-insight-selectors.json", t.insights)
                if t.status_error:
                    stats["trail_errors"] += 1
                    sink.add("%serrors/GetTrailStatus.%s.%s.json" % (
                        rbase, owner, t.name), STATUS_THROTTLED)
                else:
                    sink.add(tbase + "get-trail-status.json", t.status)
    return stats, mgmt


def manifest_parts(args, mgmt):
    head = {
        "format": "ctaudit-snapshot",
        "format_version": 1,
        "collector": {"name": "gen_org.py", "version": "1"},
        "started_at": iso(SNAPSHOT_EPOCH),
        "ended_at": iso(SNAPSHOT_EPOCH + 133),
        "complete": True,
        "partition": "aws",
        "caller": {"Account": mgmt,
                   "Arn": "arn:aws:iam::%s:user/audit" % mgmt,
                   "UserId": "AIDA%016X" % (args.seed & (2 ** 64 - 1))},
        "options": {"org": True, "regions": None, "role_name": ROLE_NAME,
                    "synthetic": {"accounts": args.accounts,
                                  "regions": args.regions,
                                  "seed": args.seed}},
        "not_collected": [],
    }
    return head


def main():
    p = argparse.ArgumentParser(
        description="Generate a seeded synthetic AWS Organization snapshot "
                    "(schema/SNAPSHOT.md) for benchmarks.")
    p.add_argument("--accounts", type=int, default=10000,
                   help="accounts in the organization, management "
                        "included (default 10000)")
    p.add_argument("--regions", type=int, default=17,
                   help="enabled regions per account, 1-%d (default 17)"
                        % len(ALL_REGIONS))
    p.add_argument("--seed", type=int, default=1, help="seed (default 1)")
    p.add_argument("--manifest", action="store_true",
                   help="write manifest.json (sha256 and size of every "
                        "member), last")
    p.add_argument("--level", type=int, default=6,
                   help="gzip level for .tar.gz (default 6)")
    p.add_argument("-o", "--output", required=True,
                   help="output: .tar.gz/.tgz, .tar.zst, .tar.xz, .tar, or "
                        "a directory")
    args = p.parse_args()
    if args.accounts < 1:
        p.error("--accounts must be at least 1")
    if not 1 <= args.regions <= len(ALL_REGIONS):
        p.error("--regions must be 1-%d" % len(ALL_REGIONS))
    if not 1 <= args.level <= 9:
        p.error("--level must be 1-9")

    t0 = time.monotonic()
    sink = open_sink(args.output, args.level, args.manifest)
    stats, mgmt = generate(args, sink)
    if args.manifest:
        sink.add_manifest(manifest_parts(args, mgmt))
    out_bytes = sink.close()
    elapsed = time.monotonic() - t0
    sys.stderr.write(
        "gen_org.py: %s: %d accounts (%d suspended, %d not scanned) x %d "
        "regions, seed %d\n"
        "gen_org.py: %d members, %d bytes uncompressed, %d bytes written\n"
        "gen_org.py: %d distinct trails, %d shadow entries, %d region "
        "errors, %d trail errors\n"
        "gen_org.py: %.1f s\n" % (
            args.output, stats["accounts"], stats["suspended"],
            stats["skipped"], args.regions, args.seed, sink.n_members,
            sink.n_bytes, out_bytes, stats["trails"], stats["shadows"],
            stats["region_errors"], stats["trail_errors"], elapsed))


if __name__ == "__main__":
    main()
