#!/usr/bin/env python3
"""ctaudit plan (issue 6), checked from outside the program.

    plan_check.py CTAUDIT SOURCE_DIR CASE

CASE is a fixture directory under fixtures/ (example-org, semantics/dup-all,
...) or a snapshot built here: `hostile` (trail names and data resource
values made of shell syntax), `never-stack` (organization trail, member
trail and a member data-event trail in one region), and the duplicate
Insights cases `insights-dup` (two trails of one account, billing data),
`insights-org` (organization trail + member trail) and `insights-single`
(one trail: no step), `insights-stopped` (the duplicate goes by an
earlier stop-logging step).

For every case:
  - the plan's own post-plan coverage has no gap caused by the plan;
  - independently, the plan's steps applied in Python to the trail states
    read with `ctaudit sql` (v_trails, v_coverage, v_region_mgmt) leave
    every (account, region) with the read and write copies it had (> 0),
    and a copy capturing every event source where one existed; each step's
    before/after copies match that model;
  - no step touches an organization trail, every step runs in the trail's
    owner account and home region;
  - savings never stack: per region, paid copies removed never exceed the
    paid copies of the snapshot, and in dollars (--events-per-month,
    --volumes) the plan's total never exceeds the paid usage;
  - the `--format sh` script runs no command as written, and uncommented
    it calls a fake `aws` (tests/lib/fake-aws) with exactly the argv of the
    JSON plan, in order, creating no file.
"""
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

CTAUDIT, SRC, CASE = sys.argv[1], sys.argv[2], sys.argv[3]
TMP = tempfile.mkdtemp(prefix="plan-check-")
FAILS = []


def fail(msg):
    FAILS.append(msg)
    print("FAIL [%s]: %s" % (CASE, msg))


def run(*args, **kw):
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       **kw)
    if p.returncode != 0:
        print(p.stderr.decode(errors="replace"))
        raise SystemExit("FAIL [%s]: exit %d: %s" % (CASE, p.returncode,
                                                   " ".join(args[:3])))
    return p.stdout


def sql(db, query):
    return json.loads(run(CTAUDIT, "sql", db, query, "--format", "json"))


# ---- snapshots built here ------------------------------------------------

def trail(name, account, region="us-east-1", org=False, multi=True,
          custom=False, **extra):
    t = {"Name": name, "S3BucketName": "bucket-" + account,
         "IncludeGlobalServiceEvents": True, "IsMultiRegionTrail": multi,
         "HomeRegion": region,
         # the display name may hold spaces, the ARN's name may not
         "TrailARN": "arn:aws:cloudtrail:%s:%s:trail/%s"
                     % (region, account, name.replace(" ", "_")),
         "LogFileValidationEnabled": False, "HasCustomEventSelectors": custom,
         "HasInsightSelectors": False, "IsOrganizationTrail": org}
    t.update(extra)
    return t


def regions(*names):
    return {"Regions": [{"RegionName": r, "OptInStatus":
                         "opt-in-not-required",
                         "Endpoint": "ec2.%s.amazonaws.com" % r}
                        for r in names]}


def write_tar(path, members):
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as t:
        for name, data in members:
            if not isinstance(data, bytes):
                data = json.dumps(data, indent=1).encode()
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mtime = 0
            t.addfile(ti, io.BytesIO(data))


def account_members(account, regs, trails, docs):
    """trails: listed in every region; docs: {name: {file: body}}."""
    ms = [("accounts/%s/regions.json" % account, regions(*regs)),
          ("accounts/%s/identity.json" % account,
           {"Account": account, "UserId": "AIDAEXAMPLE",
            "Arn": "arn:aws:iam::%s:user/audit" % account})]
    for r in regs:
        ms.append(("accounts/%s/%s/describe-trails.json" % (account, r),
                   {"trailList": trails}))
    for t in trails:
        owner = t["TrailARN"].split(":")[4]
        if owner != account:
            continue
        name = t["TrailARN"].split(":trail/", 1)[1]
        base = "accounts/%s/%s/trails/%s/%s/" % (account, t["HomeRegion"],
                                                 owner, name)
        files = {"get-trail-status.json": {"IsLogging": True}}
        files.update(docs.get(t["Name"], {}))
        for f, body in sorted(files.items()):
            ms.append((base + f, body))
    return ms


def build_hostile(path):
    a = "111122223333"
    names = ["x';DROP TABLE trails;--", 'q"uote"', "semi;colon",
             "$(touch pwned-sh)", "`touch pwned-bt`", "pi|pe|s",
             "new\nline\r\nx", "it's", "back\\slash", "dollar$HOME"]
    ts = [trail("audit-main", a, LogFileValidationEnabled=True,
                KmsKeyId="arn:aws:kms:us-east-1:%s:key/k" % a)]
    ts += [trail(n, a) for n in names]
    hostile_value = "arn:aws:s3:::b'k$(touch pwned-json)/`id`|y;\n\"z\""
    ts.append(trail("data'$(touch pwned-d)", a, custom=True))
    docs = {"data'$(touch pwned-d)": {"get-event-selectors.json": {
        "TrailARN": ts[-1]["TrailARN"],
        "EventSelectors": [{"ReadWriteType": "All",
                            "IncludeManagementEvents": True,
                            "DataResources": [{"Type": "AWS::S3::Object",
                                               "Values": [hostile_value]}],
                            "ExcludeManagementEventSources": []}]}}}
    write_tar(path, account_members(a, ["us-east-1", "eu-west-1"], ts, docs))


def build_never_stack(path):
    m, a = "100000000000", "100000000001"
    org = trail("org-trail", m, org=True)
    member = trail("member-trail", a)
    data = trail("data-trail", a, multi=False, custom=True)
    docs = {"data-trail": {"get-event-selectors.json": {
        "TrailARN": data["TrailARN"],
        "EventSelectors": [{"ReadWriteType": "All",
                            "IncludeManagementEvents": True,
                            "DataResources": [{"Type": "AWS::S3::Object",
                                               "Values": ["arn:aws:s3:::logs-bucket/"]}],
                            "ExcludeManagementEventSources": []}]}}}
    regs = ["us-east-1", "eu-west-1"]
    ms = [("organization/describe-organization.json", {"Organization": {
        "Id": "o-example", "MasterAccountId": m, "FeatureSet": "ALL",
        "Arn": "arn:aws:organizations::%s:organization/o-example" % m}}),
          ("organization/list-accounts.json", {"Accounts": [
              {"Id": m, "Name": "management", "Status": "ACTIVE"},
              {"Id": a, "Name": "member", "Status": "ACTIVE"}]})]
    ms += account_members(m, regs, [org], {})
    ms += account_members(a, regs, [org, member, data], docs)
    write_tar(path, ms)


def build_multi_account(path):
    """Three members planned on their own slices; steps ordered globally."""
    m = "100000000000"
    org = trail("org-trail", m, org=True)
    regs = ["us-east-1", "eu-west-1", "us-west-2"]
    ms = [("organization/describe-organization.json", {"Organization": {
        "Id": "o-example", "MasterAccountId": m, "FeatureSet": "ALL",
        "Arn": "arn:aws:organizations::%s:organization/o-example" % m}})]
    accounts = [{"Id": m, "Name": "management", "Status": "ACTIVE"}]
    ms += account_members(m, regs, [org], {})
    for i, own in enumerate([["a"], ["b", "c-local"], ["d", "e"]], 1):
        a = "10000000000%d" % i
        accounts.append({"Id": a, "Name": "member%d" % i, "Status": "ACTIVE"})
        ts = [trail(n, a, multi=not n.endswith("-local")) for n in own]
        ms += account_members(a, regs, [org] + ts, {})
    ms.append(("organization/list-accounts.json", {"Accounts": accounts}))
    write_tar(path, ms)


def build_insights_data(path):
    """A single-region trail with data events and Insights under a
    multi-region one: the multi-region copy cannot go (the last copy in
    eu-west-1), and the other is never narrowed under its Insights: no
    step, both explained."""
    a = "111122223333"
    ts = [trail("plain", a), trail("rich", a, multi=False, custom=True,
                                  HasInsightSelectors=True)]
    docs = {"rich": {
        "get-event-selectors.json": {
            "TrailARN": ts[1]["TrailARN"],
            "EventSelectors": [{"ReadWriteType": "All",
                                "IncludeManagementEvents": True,
                                "DataResources": [{
                                    "Type": "AWS::S3::Object",
                                    "Values": ["arn:aws:s3:::b/"]}]}]},
        "get-insight-selectors.json": {
            "TrailARN": ts[1]["TrailARN"],
            "InsightSelectors": [{"InsightType": "ApiCallRateInsight"}]}}}
    write_tar(path, account_members(a, ["us-east-1", "eu-west-1"], ts, docs))


def insights_trail(name, account, types, data_type=None, **extra):
    """A trail with Insights of types (and data events of data_type, which
    keeps it from a management step: it is never narrowed under its
    Insights); returns the trail and its documents."""
    t = trail(name, account, custom=data_type is not None,
              HasInsightSelectors=True, **extra)
    docs = {"get-insight-selectors.json": {
        "TrailARN": t["TrailARN"],
        "InsightSelectors": [x if isinstance(x, dict) else
                             {"InsightType": x} for x in types]}}
    if data_type:
        docs["get-event-selectors.json"] = {
            "TrailARN": t["TrailARN"],
            "EventSelectors": [{"ReadWriteType": "All",
                                "IncludeManagementEvents": True,
                                "DataResources": [{
                                    "Type": data_type,
                                    "Values": ["arn:aws:s3:::b/"]
                                    if "S3" in data_type else
                                    ["arn:aws:lambda"]}]}]}
    return t, docs


def build_insights_dup(path):
    """Two trails of one account analyze ApiCallRateInsight in the same
    regions: the one with the larger ARN keeps only ApiErrorRateInsight,
    with its event categories."""
    a = "111122223333"
    ta, da = insights_trail("ins-a", a, ["ApiCallRateInsight"],
                            "AWS::S3::Object")
    tb, db_ = insights_trail("ins-b", a, [
        "ApiCallRateInsight",
        {"InsightType": "ApiErrorRateInsight",
         "EventCategories": ["Management", "Data"]}],
        "AWS::Lambda::Function")
    # billing data: Insights cost $30 in us-east-1, $6 in eu-west-1 (three
    # trail x type pairs share each)
    groups = [{"Keys": [a, ut], "Metrics": {
        "UnblendedCost": {"Amount": amount, "Unit": "USD"},
        "UsageQuantity": {"Amount": "1000", "Unit": "N/A"}}}
        for ut, amount in (("USE1-InsightsEvents", "30"),
                           ("EU-InsightsEvents", "6"))]
    costs = {"GroupDefinitions": [{"Type": "DIMENSION",
                                   "Key": "LINKED_ACCOUNT"},
                                  {"Type": "DIMENSION", "Key": "USAGE_TYPE"}],
             "ResultsByTime": [{"TimePeriod": {"Start": "2026-08-01",
                                               "End": "2026-09-01"},
                                "Total": {}, "Groups": groups,
                                "Estimated": False}]}
    write_tar(path, account_members(a, ["us-east-1", "eu-west-1"], [ta, tb],
                                    {"ins-a": da, "ins-b": db_})
              + [("organization/cost-and-usage.json", costs)])


def build_insights_org(path):
    """An organization trail and a member trail with ApiCallRateInsight:
    the member trail's Insights go, the organization trail is untouched."""
    m, a = "100000000000", "100000000001"
    org, dorg = insights_trail("org-trail", m, ["ApiCallRateInsight"],
                               org=True)
    mem, dmem = insights_trail("member-ins", a, ["ApiCallRateInsight"],
                               "AWS::S3::Object")
    regs = ["us-east-1", "eu-west-1"]
    ms = [("organization/describe-organization.json", {"Organization": {
        "Id": "o-example", "MasterAccountId": m, "FeatureSet": "ALL",
        "Arn": "arn:aws:organizations::%s:organization/o-example" % m}}),
          ("organization/list-accounts.json", {"Accounts": [
              {"Id": m, "Name": "management", "Status": "ACTIVE"},
              {"Id": a, "Name": "member", "Status": "ACTIVE"}]})]
    ms += account_members(m, regs, [org], {"org-trail": dorg})
    ms += account_members(a, regs, [org, mem], {"member-ins": dmem})
    write_tar(path, ms)


def build_insights_single(path):
    """One trail with Insights: nothing is duplicated, no step."""
    a = "111122223333"
    t, d = insights_trail("solo", a, ["ApiCallRateInsight",
                                      "ApiErrorRateInsight"])
    write_tar(path, account_members(a, ["us-east-1", "eu-west-1"], [t],
                                    {"solo": d}))


def build_insights_stopped(path):
    """Two plain trails with ApiCallRateInsight: the first is stopped for
    its management copy (its Insights saving goes with it), the survivor
    keeps its Insights: no put-insight-selectors step."""
    a = "111122223333"
    ta, da = insights_trail("ins-a", a, ["ApiCallRateInsight"])
    tb, db_ = insights_trail("ins-b", a, ["ApiCallRateInsight"])
    write_tar(path, account_members(a, ["us-east-1", "eu-west-1"], [ta, tb],
                                    {"ins-a": da, "ins-b": db_}))


BUILDERS = {"insights-dup": build_insights_dup,
            "insights-stopped": build_insights_stopped,
            "insights-org": build_insights_org,
            "insights-single": build_insights_single}

if CASE in BUILDERS:
    snap = os.path.join(TMP, CASE + ".tar")
    BUILDERS[CASE](snap)
elif CASE == "insights-data":
    snap = os.path.join(TMP, "insights-data.tar")
    build_insights_data(snap)
elif CASE == "multi-account":
    snap = os.path.join(TMP, "multi-account.tar")
    build_multi_account(snap)
elif CASE == "hostile":
    snap = os.path.join(TMP, "hostile.tar")
    build_hostile(snap)
elif CASE == "never-stack":
    snap = os.path.join(TMP, "never-stack.tar")
    build_never_stack(snap)
else:
    snap = os.path.join(SRC, "fixtures", CASE)

env = dict(os.environ, LC_ALL="C")
plan = json.loads(run(CTAUDIT, "plan", snap, "--format", "json", env=env))
run(CTAUDIT, "plan", snap, env=env)  # Markdown renders
db = os.path.join(TMP, "s.db")
run(CTAUDIT, "load", snap, "-o", db, env=env)

# ---- the plan's own verdict ------------------------------------------------
if plan.get("schema_version") != 1:
    fail("schema_version %r" % plan.get("schema_version"))
caused = [g for g in plan["coverage_after"]["gaps"] if not g["preexisting"]]
if caused or plan["coverage_after"]["caused_by_plan"]:
    fail("the plan reports gaps it causes: %r" % caused)

# ---- independent check ------------------------------------------------------
master = sql(db, "SELECT master_account_id FROM organizations")
master = master[0]["master_account_id"] if master else None
trails = {r["trail_arn"]: r for r in sql(db,
          "SELECT trail_arn, owner_account_id, home_region, "
          "is_organization_trail, delivers, mgmt_reads, mgmt_writes, "
          "excluded_sources FROM v_trails WHERE snapshot_id = 1")}
coverage = sql(db, "SELECT account_id, region, trail_arn FROM v_coverage "
               "WHERE snapshot_id = 1")
mgmt = {(r["account_id"], r["region"]): r for r in sql(db,
        "SELECT account_id, region, read_copies, write_copies "
        "FROM v_region_mgmt WHERE snapshot_id = 1")}
state = {arn: dict(t) for arn, t in trails.items()}


def copies(acct, region):
    r = w = full_r = full_w = 0
    for c in coverage:
        if c["account_id"] != acct or c["region"] != region:
            continue
        t = state[c["trail_arn"]]
        if not t["delivers"]:
            continue
        r += t["mgmt_reads"] == 1
        w += t["mgmt_writes"] == 1
        full_r |= t["mgmt_reads"] == 1 and t["excluded_sources"] is None
        full_w |= t["mgmt_writes"] == 1 and t["excluded_sources"] is None
    return r, w, full_r, full_w


before = {k: copies(*k) for k in mgmt}
for k, (r, w, _, _) in before.items():
    if (r, w) != (mgmt[k]["read_copies"], mgmt[k]["write_copies"]):
        fail("the model disagrees with v_region_mgmt in %s: %r" % (k, mgmt[k]))
removed = {}
for s in plan["steps"]:
    arn = s["trail_arn"]
    t = state.get(arn)
    if t is None:
        fail("step %d: unknown trail %r" % (s["number"], arn))
        continue
    if t["is_organization_trail"] and s["account_id"] != master:
        fail("step %d touches organization trail %r from %s"
             % (s["number"], arn, s["account_id"]))
    if t["is_organization_trail"]:
        fail("step %d touches organization trail %r" % (s["number"], arn))
    if s["account_id"] != t["owner_account_id"]:
        fail("step %d runs in %s, the trail's owner is %s"
             % (s["number"], s["account_id"], t["owner_account_id"]))
    argv = s["command"]["argv"]
    want_opt = {"stop-logging": "--name"}.get(s["action"], "--trail-name")
    if argv[:3] != ["aws", "cloudtrail", {
            "stop-logging": "stop-logging",
            "put-insight-selectors": "put-insight-selectors"}.get(
            s["action"], "put-event-selectors")] or argv[3:7] != [
            want_opt, arn, "--region", t["home_region"]]:
        fail("step %d: unexpected argv %r" % (s["number"], argv))
    if s["action"] == "stop-logging":
        t["delivers"] = 0
    elif s["action"] == "remove-management-events":
        t["mgmt_reads"] = t["mgmt_writes"] = 0
    for e in s["effects"]:
        k = (e["account_id"], e["region"])
        now = copies(*k)
        if (e["read_copies_after"], e["write_copies_after"]) != now[:2]:
            fail("step %d, %s: plan says %d/%d copies after, model %d/%d"
                 % (s["number"], k, e["read_copies_after"],
                    e["write_copies_after"], now[0], now[1]))
        pr, pw = removed.get(k, (0, 0))
        removed[k] = (pr + e["paid_read_copy_removed"],
                      pw + e["paid_write_copy_removed"])
for k, (r, w, fr, fw) in before.items():
    ar, aw, afr, afw = copies(*k)
    if (r and not ar) or (w and not aw):
        fail("the plan leaves no %s copy in %s" % ("read" if r and not ar
                                                   else "write", k))
    if (fr and not afr) or (fw and not afw):
        fail("the plan leaves no copy of every event source in %s" % (k,))
    pr, pw = removed.get(k, (0, 0))
    if pr > max(r - 1, 0) or pw > max(w - 1, 0):
        fail("savings stack in %s: %d read and %d write copies removed, "
             "%d and %d were paid" % (k, pr, pw, max(r - 1, 0),
                                      max(w - 1, 0)))

# ---- the shell script ------------------------------------------------------
script = run(CTAUDIT, "plan", snap, "--format", "sh", env=env)
bin_dir = os.path.join(TMP, "bin")
os.mkdir(bin_dir)
shutil.copy(os.path.join(SRC, "tests", "lib", "fake-aws", "aws"),
            os.path.join(bin_dir, "aws"))
os.chmod(os.path.join(bin_dir, "aws"), 0o755)
cwd = os.path.join(TMP, "cwd")
os.mkdir(cwd)
log = os.path.join(TMP, "aws.log")
sh_env = dict(env, PATH=bin_dir + os.pathsep + os.environ["PATH"],
              FAKE_AWS_LOG=log)


def run_script(text):
    open(log, "w").close()
    path = os.path.join(TMP, "plan.sh")
    with open(path, "wb") as f:
        f.write(text)
    p = subprocess.run(["sh", path], cwd=cwd, env=sh_env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        fail("sh exited %d: %s" % (p.returncode,
                                   p.stderr.decode(errors="replace")))
    with open(log, encoding="utf-8", errors="surrogateescape") as f:
        return [json.loads(line) for line in f]


if run_script(script):
    fail("the script as written ran a command")
lines = script.split(b"\n")
uncommented = b"\n".join(l[2:] if l.startswith(b"# aws ") else l
                         for l in lines)
calls = run_script(uncommented)
want = [s["command"]["argv"][1:] for s in plan["steps"]]
if calls != want:
    fail("fake aws got %r, the plan says %r" % (calls, want))
if os.listdir(cwd):
    fail("files appeared: %r" % os.listdir(cwd))

# ---- case specifics ------------------------------------------------------------
if CASE == "hostile":
    if len(plan["steps"]) < 10:
        fail("expected a step per hostile trail, got %d" % len(plan["steps"]))
    if not any(s["action"] == "remove-management-events"
               for s in plan["steps"]):
        fail("no put-event-selectors step for the data trail")
    kept = [a for a in trails if a.endswith("/audit-main")]
    if any(s["trail_arn"] in kept for s in plan["steps"]):
        fail("audit-main (validation, KMS) should be kept")
if CASE == "insights-data":
    why = {n["trail_arn"].rsplit("/", 1)[1]: n["reason"]
           for n in plan["not_planned"]}
    if plan["steps"] or "Insights" not in why.get("rich", "") or \
            "no copy" not in why.get("plain", ""):
        fail("insights-data: steps %r, not planned %r"
             % (plan["steps"], why))
if CASE.startswith("insights-") and CASE != "insights-data":
    ins = [s for s in plan["steps"] if s["action"] == "put-insight-selectors"]
    if CASE == "insights-stopped":
        got = [(s["action"], s["trail_name"]) for s in plan["steps"]]
        if got != [("stop-logging", "ins-a")] or any(
                e["insights_types_stopped"] != ["ApiCallRateInsight"]
                for e in plan["steps"][0]["effects"]):
            fail("insights-stopped: steps %r" % got)
    elif any(s["action"] != "put-insight-selectors" for s in plan["steps"]):
        fail("%s: unexpected steps %r" % (CASE, [s["action"]
                                                 for s in plan["steps"]]))
    if CASE == "insights-single" and plan["steps"]:
        fail("insights-single: %d step(s), expected none"
             % len(plan["steps"]))
    expect = {"insights-dup": ("ins-b", "111122223333",
                               ["ApiCallRateInsight"],
                               [{"EventCategories": ["Data", "Management"],
                                 "InsightType": "ApiErrorRateInsight"}]),
              "insights-org": ("member-ins", "100000000001",
                               ["ApiCallRateInsight"], [])}.get(CASE)
    if expect:
        name, acct, gone, keep = expect
        if len(ins) != 1 or ins[0]["trail_name"] != name:
            fail("%s: expected one put-insight-selectors step on %s, got %r"
                 % (CASE, name, [(s["action"], s["trail_name"])
                                 for s in plan["steps"]]))
        else:
            s = ins[0]
            arn = "arn:aws:cloudtrail:us-east-1:%s:trail/%s" % (acct, name)
            argv = ["aws", "cloudtrail", "put-insight-selectors",
                    "--trail-name", arn, "--region", "us-east-1",
                    "--insight-selectors", json.dumps(keep,
                                                      separators=(",", ":"))]
            if s["command"]["argv"] != argv:
                fail("%s: argv %r, expected %r"
                     % (CASE, s["command"]["argv"], argv))
            if calls != [argv[1:]]:
                fail("%s: fake aws got %r" % (CASE, calls))
            regs = sorted(e["region"] for e in s["effects"]
                          if e["insights_types_stopped"] == gone)
            if regs != ["eu-west-1", "us-east-1"]:
                fail("%s: Insights stopped in %r" % (CASE, regs))
            if s["insights_charges_stopped"] != 2:
                fail("%s: insights_charges_stopped %r"
                     % (CASE, s["insights_charges_stopped"]))
            if any(e["read_copies_before"] != e["read_copies_after"] or
                   e["write_copies_before"] != e["write_copies_after"]
                   for e in s["effects"]):
                fail("%s: an Insights step changed management copies" % CASE)
            if s["alternative"] is not None or s["organization_trail"]:
                fail("%s: alternative or organization trail set" % CASE)
            if s["summary"].count(gone[0]) != 1:
                fail("%s: summary %r" % (CASE, s["summary"]))
            sh_line = [l for l in script.split(b"\n")
                       if l.startswith(b"# aws cloudtrail put-insight")]
            if len(sh_line) != 1 or (b"'%s'" % json.dumps(
                    keep, separators=(",", ":")).encode()) not in sh_line[0]:
                fail("%s: sh line %r" % (CASE, sh_line))
if CASE == "multi-account":
    got = [(s["account_id"], s["trail_name"]) for s in plan["steps"]]
    # every member trail goes (the organization trail stays), the larger
    # savings first: 3 regions x 2 copies, then the single-region copy
    want = [("100000000001", "a"), ("100000000002", "b"),
            ("100000000003", "d"), ("100000000003", "e"),
            ("100000000002", "c-local")]
    if got != want:
        fail("multi-account steps %r, expected %r" % (got, want))
if CASE == "never-stack":
    acts = {s["trail_name"]: s for s in plan["steps"]}
    if set(acts) != {"member-trail", "data-trail"}:
        fail("expected steps on member-trail and data-trail, got %r"
             % sorted(acts))
    else:
        if acts["member-trail"]["action"] != "stop-logging":
            fail("member-trail is not stopped")
        d = acts["data-trail"]
        if d["action"] != "remove-management-events":
            fail("data-trail: %s, expected remove-management-events"
                 % d["action"])
        if any(e["data_types_stopped"] for e in d["effects"]):
            fail("data-trail keeps its data events: no data saving")
        sel = json.loads(d["command"]["argv"][-1])
        if sel != [{"DataResources": [{"Type": "AWS::S3::Object",
                                       "Values": ["arn:aws:s3:::logs-bucket/"]}],
                    "IncludeManagementEvents": False,
                    "ReadWriteType": "All"}]:
            fail("data-trail selectors: %r" % sel)
        # the free copy that survives (the organization trail) is never
        # narrowed, and every paid copy removed was paid at that point
        for k in [("100000000001", "us-east-1")]:
            if removed.get(k) != (2, 2):
                fail("%s: expected 2 paid read and 2 paid write copies "
                     "removed, got %r" % (k, removed.get(k)))

# ---- dollars: savings never exceed what is paid beyond the free copies ----
volumes = os.path.join(TMP, "volumes.csv")
with open(volumes, "w") as f:
    f.write("account_id,region,management_events,data_events,network_events\n"
            ",,1000000,500000,200000\n")
for opts in ([], ["--events-per-month", "1000000"], ["--volumes", volumes]):
    d = plan if not opts else json.loads(
        run(CTAUDIT, "plan", snap, "--format", "json", *opts, env=env))
    sv = d["savings"]
    name = opts[0] if opts else "no option"
    # billing data in the snapshot wins over an estimate
    if sv["basis"] is None and not opts:
        continue
    if sv["basis"] not in ("estimate", "billing"):
        fail("%s: basis %r" % (name, sv["basis"]))
        continue
    steps_sum = sum(s["estimated_monthly_saving"] or 0 for s in d["steps"])
    if abs(steps_sum - sv["total_monthly"]) > 1e-6 * max(1, steps_sum):
        fail("%s: total %r is not the sum of the steps %r"
             % (name, sv["total_monthly"], steps_sum))
    if sv["total_monthly"] > sv["paid_usage_monthly"] + 1e-6:
        fail("%s: the plan saves %r a month, more than the %r paid"
             % (name, sv["total_monthly"], sv["paid_usage_monthly"]))
    if any((s["estimated_monthly_saving"] or 0) < 0 for s in d["steps"]):
        fail("%s: a negative saving" % name)
    if CASE == "insights-dup" and not opts:
        # ins-b's share: $20 + $4 for its two types, half of it for the
        # one type removed
        got = [s["estimated_monthly_saving"] for s in d["steps"]]
        if sv["basis"] != "billing" or got != [12.0] or sv["partial"]:
            fail("insights-dup dollars: %r, %r" % (sv, got))
    if CASE == "never-stack" and opts and opts[0] == "--volumes":
        got = {s["trail_name"]: s["estimated_monthly_saving"]
               for s in d["steps"]}
        # 1,000,000 management events at $2.00 per 100,000: $20 a copy;
        # the data-trail keeps its data events: its saving is its one
        # paid management copy in us-east-1, nothing for data
        if got != {"member-trail": 40.0, "data-trail": 20.0}:
            fail("never-stack dollars: %r" % got)
        if abs(sv["paid_usage_monthly"] - 60.5) > 1e-6:
            fail("never-stack paid usage %r, expected 60.5"
                 % sv["paid_usage_monthly"])

shutil.rmtree(TMP, ignore_errors=True)
if FAILS:
    sys.exit(1)
print("ok [%s]: %d step(s), no gap, argv exact, savings do not stack"
      % (CASE, len(plan["steps"])))
