#!/usr/bin/env python3
"""Checks ctcollect snapshots for the collector tests.

  check_snapshot.py verify SNAP            manifest, SHA256SUMS, every hash
  check_snapshot.py expect SNAP SEED.json [--regions r1,r2] [--denied ACCT]
                                           [--caller ARN-PART]
                                           the seeded organization's members
  check_snapshot.py same SNAP_A SNAP_B     same members and JSON content
                                           (manifest, moto's random
                                           assumed-role ids and delivery
                                           clock ignored)
  check_snapshot.py count SNAP OP          prints the number of members for OP
"""
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile


def load(path):
    """path -> {member: bytes} for a directory or any supported tarball."""
    out = {}
    if os.path.isdir(path):
        for root, _, files in os.walk(path):
            for f in files:
                full = os.path.join(root, f)
                with open(full, "rb") as fh:
                    out[os.path.relpath(full, path)] = fh.read()
        return out
    with open(path, "rb") as fh:
        data = fh.read()
    if data[:4] == b"\x28\xb5\x2f\xfd":
        data = subprocess.run(["zstd", "-dc"], input=data, check=True,
                              capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        for m in t.getmembers():
            assert m.isfile(), "non-file member %s" % m.name
            assert m.name not in out, "duplicate member %s" % m.name
            out[m.name] = t.extractfile(m).read()
    return out


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def verify(snap):
    m = load(snap)
    man = json.loads(m.pop("manifest.json"))
    if man["format"] != "ctaudit-snapshot" or man["format_version"] != 1:
        fail("bad format")
    for k in ("collector", "started_at", "ended_at", "complete", "partition",
              "caller", "options", "not_collected", "checksums"):
        if k not in man:
            fail("manifest lacks " + k)
    if man["complete"] is not True or man["partition"] != "aws":
        fail("complete/partition")
    sums = m.pop("SHA256SUMS")
    ck = man["checksums"]
    if ck["file"] != "SHA256SUMS" or \
            hashlib.sha256(sums).hexdigest() != ck["sha256"]:
        fail("SHA256SUMS does not match the manifest")
    listed = {}
    for line in sums.decode().splitlines():
        h, name = line.split("  ", 1)
        if name in listed:
            fail("listed twice: " + name)
        listed[name] = h
    if ck["members"] != len(listed):
        fail("checksums.members %d != %d lines" % (ck["members"], len(listed)))
    if sorted(listed) != sorted(m):
        fail("SHA256SUMS differs from members: %s" %
             sorted(set(listed) ^ set(m)))
    for name, data in m.items():
        if hashlib.sha256(data).hexdigest() != listed[name]:
            fail("hash mismatch " + name)
        json.loads(data)  # every member is JSON
    print("ok: %d members verified" % len(m))


def expect(snap, seed, regions, denied, caller):
    m = load(snap)
    mgmt, members = seed["management"], seed["members"]
    regions = regions.split(",")
    need = ["organization/describe-organization.json",
            "organization/list-accounts.json",
            "accounts/%s/aliases.json" % mgmt]
    accounts = [mgmt] + [a for a in members.values() if a not in denied]
    for a in accounts:
        need += ["accounts/%s/identity.json" % a, "accounts/%s/regions.json" % a]
        need += ["accounts/%s/%s/describe-trails.json" % (a, r) for r in regions]

    def trail(acct, home, name):
        return ["accounts/%s/%s/trails/%s/%s/%s.json" % (acct, home, acct, name, k)
                for k in ("get-event-selectors", "get-insight-selectors",
                          "get-trail-status")]
    need += trail(mgmt, "us-east-1", "org-trail")
    need += trail(mgmt, "eu-west-1", "mgmt-local")
    if members["dev-platform"] not in denied:
        need += trail(members["dev-platform"], "eu-west-1", "main-trail")
        need += trail(members["dev-platform"], "eu-west-1", "legacy-trail")
    if members["analytics-prod"] not in denied:
        need += trail(members["analytics-prod"], "eu-central-1", "events")
    if members["staging"] not in denied:
        need += trail(members["staging"], "us-east-1", "stopped-trail")
    for d in denied:
        need.append("accounts/%s/error.json" % d)
    missing = [n for n in need if n not in m]
    if missing:
        fail("missing members: %s" % missing)
    extra = [n for n in m if n not in need
             and n not in ("manifest.json", "SHA256SUMS")]
    if extra:
        fail("unexpected members: %s" % extra)
    # members only: no alias call from member credentials
    for a in members.values():
        if "accounts/%s/aliases.json" % a in m:
            fail("alias read from a member account")
    ident = json.loads(m["accounts/%s/identity.json" % mgmt])
    if ident["Account"] != mgmt or caller not in ident["Arn"]:
        fail("caller identity %s" % ident)
    if json.loads(m["accounts/%s/aliases.json" % mgmt]) != {
            "AccountAliases": ["org-management"]}:
        fail("aliases")
    reg = json.loads(m["accounts/%s/regions.json" % mgmt])
    names = [r["RegionName"] for r in reg["Regions"]]
    if "us-east-1" not in names or not all(
            set(r) <= {"Endpoint", "RegionName", "OptInStatus"}
            for r in reg["Regions"]):
        fail("regions.json shape")
    accts = json.loads(m["organization/list-accounts.json"])["Accounts"]
    if sorted(a["Id"] for a in accts) != sorted([mgmt] + list(members.values())):
        fail("list-accounts")
    org = json.loads(m["organization/describe-organization.json"])
    if org["Organization"]["MasterAccountId"] != mgmt:
        fail("describe-organization")
    ev = json.loads(m[trail(mgmt, "eu-west-1", "mgmt-local")[0]])
    if not ev["TrailARN"].endswith(":trail/mgmt-local") or not ev.get(
            "EventSelectors"):
        fail("mgmt-local selectors %s" % ev)
    ins = json.loads(m[trail(mgmt, "us-east-1", "org-trail")[1]])
    if ins.get("InsightSelectors") != [{"InsightType": "ApiCallRateInsight"}]:
        fail("org-trail insights %s" % ins)
    if members["analytics-prod"] not in denied:
        adv = json.loads(m[trail(members["analytics-prod"], "eu-central-1",
                                 "events")[0]])
        if len(adv.get("AdvancedEventSelectors", [])) != 2:
            fail("advanced selectors %s" % adv)
    if members["staging"] not in denied:
        st = json.loads(m[trail(members["staging"], "us-east-1",
                                "stopped-trail")[2]])
        if st.get("IsLogging") is not False:
            fail("stopped trail status %s" % st)
    for d in denied:
        e = json.loads(m["accounts/%s/error.json" % d])
        if e["Operation"] != "AssumeRole" or e["Code"] != "AccessDenied" or \
                len(e.get("ProbableCauses", [])) != 2:
            fail("error.json %s" % e)
    print("ok: %d expected members" % len(need))


def normalized(snap):
    m = load(snap)
    m.pop("manifest.json")
    m.pop("SHA256SUMS")
    out = {}
    for k, v in m.items():
        j = json.loads(v)
        if k.endswith("/identity.json") and ":assumed-role/" in j.get("Arn", ""):
            j["UserId"] = "(random in moto)"
        if k.endswith("/get-trail-status.json"):
            # moto reports "now" as the latest delivery of a logging trail
            for f in list(j):
                if f.startswith("LatestDelivery") or f.startswith(
                        "LatestNotification"):
                    j[f] = "(clock in moto)"
        out[k] = j
    return out


def same(a, b):
    ma, mb = normalized(a), normalized(b)
    if sorted(ma) != sorted(mb):
        fail("member lists differ: %s" % sorted(set(ma) ^ set(mb)))
    for k in ma:
        if ma[k] != mb[k]:
            fail("content differs: %s\n%s\n%s" % (k, ma[k], mb[k]))
    print("ok: %d members identical" % len(ma))


def main():
    cmd = sys.argv[1]
    if cmd == "verify":
        verify(sys.argv[2])
    elif cmd == "expect":
        seed = json.load(open(sys.argv[3]))
        args = sys.argv[4:]
        regions, denied, caller = "us-east-1", [], ":user/auditor"
        while args:
            if args[0] == "--regions":
                regions = args[1]
            elif args[0] == "--denied":
                denied = args[1].split(",")
            elif args[0] == "--caller":
                caller = args[1]
            args = args[2:]
        expect(sys.argv[2], seed, regions, denied, caller)
    elif cmd == "same":
        same(sys.argv[2], sys.argv[3])
    elif cmd == "count":
        print(sum(1 for k in load(sys.argv[2]) if sys.argv[3] in k))
    else:
        fail("unknown command " + cmd)


if __name__ == "__main__":
    main()
