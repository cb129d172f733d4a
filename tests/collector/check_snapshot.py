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
  check_snapshot.py identical REF SNAP     every member byte for byte,
                                           SHA256SUMS and manifest.json
                                           included; only the manifest's
                                           started_at/ended_at and moto's
                                           clock in get-trail-status (and
                                           the hashes that follow from it)
                                           may differ. Names the member.
  check_snapshot.py gaps REF SNAP [--region R] [--account A]
                                           SNAP is REF without what lives in
                                           region R / account A, plus error
                                           members for exactly those, and
                                           nothing else differs
  check_snapshot.py count SNAP OP          prints the number of members for OP
"""
import hashlib
import io
import json
import os
import re
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


# moto answers GetTrailStatus of a logging trail with "now" as the latest
# delivery: the one thing that differs between two runs of the same seeded
# organization. The values are masked in the raw bytes, so everything
# around them (key order, spacing) is still compared byte for byte.
MOTO_CLOCK = re.compile(
    rb'("Latest(?:Delivery|Notification)\w*": )("[^"]*"|[0-9.]+)')
TIMING = re.compile(rb'("(?:started_at|ended_at)": )"[^"]*"')


def masked(name, data):
    if name.endswith("/get-trail-status.json"):
        return MOTO_CLOCK.sub(rb'\1"(moto clock)"', data)
    return data


def first_difference(a, b):
    i = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]),
             min(len(a), len(b)))
    return "byte %d: %r | %r" % (i, a[max(0, i - 40):i + 40],
                                 b[max(0, i - 40):i + 40])


def identical(ref, snap):
    a, b = load(ref), load(snap)
    if sorted(a) != sorted(b):
        fail("member lists differ: only in %s: %s; only in %s: %s" % (
            ref, sorted(set(a) - set(b)), snap, sorted(set(b) - set(a))))
    clock = set()
    for name in sorted(a):
        if name in ("SHA256SUMS", "manifest.json"):
            continue
        if a[name] != b[name]:
            if masked(name, a[name]) != masked(name, b[name]):
                fail("member differs: %s: %s" % (
                    name, first_difference(a[name], b[name])))
            clock.add(name)

    def sums(data):
        out = []
        for line in data.split(b"\n"):
            h, _, name = line.partition(b"  ")
            if name.decode() in clock:
                h = b"(moto clock)"
            out.append(h + b"  " + name)
        return b"\n".join(out)
    if sums(a["SHA256SUMS"]) != sums(b["SHA256SUMS"]):
        fail("member differs: SHA256SUMS: %s" % first_difference(
            a["SHA256SUMS"], b["SHA256SUMS"]))

    def man(data):
        data = TIMING.sub(rb'\1"(timing)"', data)
        if clock:
            data = re.sub(rb'("sha256": )"[0-9a-f]{64}"', rb'\1"(moto clock)"',
                          data)
        return data
    if man(a["manifest.json"]) != man(b["manifest.json"]):
        fail("member differs: manifest.json: %s" % first_difference(
            man(a["manifest.json"]), man(b["manifest.json"])))
    print("ok: %d members identical byte for byte (%d with moto's clock "
          "masked, manifest timing masked)" % (len(a), len(clock)))


def gaps(ref, snap, region, account):
    """SNAP = REF minus region/account, plus their error members only."""
    a, b = load(ref), load(snap)

    def lost(name):
        parts = name.split("/")
        return parts[0] == "accounts" and (
            parts[1] == account or (len(parts) > 3 and parts[2] == region))
    want_gone = sorted(n for n in a if lost(n))
    gone = sorted(set(a) - set(b))
    if gone != want_gone:
        fail("missing members: %s, expected: %s" % (gone, want_gone))
    new = sorted(set(b) - set(a))
    errs = []
    for name in new:
        parts = name.split("/")
        if not lost(name) or not (name.endswith("/error.json") or
                                  "/errors/" in name):
            fail("unexpected member: %s" % name)
        e = json.loads(b[name])
        if e.get("Code") not in ("ServiceUnavailable",
                                 "ServiceUnavailableException") or \
                e.get("HttpStatus") not in (503, None):
            fail("error member %s: %s" % (name, e))
        errs.append(name)
    if not errs:
        fail("no error member recorded")
    accounts = {n.split("/")[1] for n in a if n.startswith("accounts/")}
    for acct in accounts - {account}:
        if not any(n.startswith("accounts/%s/%s/errors/" % (acct, region))
                   for n in errs):
            fail("no error recorded for region %s of %s" % (region, acct))
    if account and not any(n.startswith("accounts/%s/" % account)
                           for n in errs):
        fail("no error recorded for account %s" % account)
    for name in sorted(set(a) & set(b)):
        if name in ("SHA256SUMS", "manifest.json"):
            continue
        if masked(name, a[name]) != masked(name, b[name]):
            fail("member differs: %s: %s" % (
                name, first_difference(a[name], b[name])))
    m = json.loads(b["manifest.json"])
    if m["complete"] is not True or m["not_collected"]:
        fail("manifest: complete %s, not_collected %s" % (
            m["complete"], m["not_collected"]))
    print("ok: %d error members, exactly for %s; %d members identical" % (
        len(errs), " and ".join(x for x in (region, account) if x),
        len(set(a) & set(b)) - 2))
    for name in errs:
        print("   " + name)


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
    elif cmd == "identical":
        identical(sys.argv[2], sys.argv[3])
    elif cmd == "gaps":
        args, region, account = sys.argv[4:], "", ""
        while args:
            if args[0] == "--region":
                region = args[1]
            elif args[0] == "--account":
                account = args[1]
            args = args[2:]
        gaps(sys.argv[2], sys.argv[3], region, account)
    elif cmd == "count":
        print(sum(1 for k in load(sys.argv[2]) if sys.argv[3] in k))
    else:
        fail("unknown command " + cmd)


if __name__ == "__main__":
    main()
