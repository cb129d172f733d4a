#!/usr/bin/env python3
"""Checks the rules against fixtures/rule-cases.tsv.

usage: rule_cases.py CTAUDIT SOURCE_DIR RULE_ID
Runs `ctaudit report FIXTURE --format csv` for every case of RULE_ID and
checks that the rule fires (or does not) as the table says. Also checks
that the rule has at least one case of each kind, so that no rule can go
untested.
"""
import csv
import io
import os
import subprocess
import sys


def findings(ctaudit, fixture):
    out = subprocess.run([ctaudit, "report", fixture, "--format", "csv"],
                         check=True, capture_output=True, text=True,
                         env=dict(os.environ, LC_ALL="C")).stdout
    return list(csv.DictReader(io.StringIO(out)))


def main():
    ctaudit, src, rule = sys.argv[1], sys.argv[2], sys.argv[3]
    cases = []
    with open(os.path.join(src, "fixtures", "rule-cases.tsv")) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            cols = line.rstrip("\n").split("\t")
            cols += [""] * (6 - len(cols))
            if cols[0] == rule:
                cases.append(cols)
    kinds = {c[2] for c in cases}
    if kinds != {"fires", "none"}:
        print(f"FAIL {rule}: needs cases that fire and cases that must not "
              f"(has: {sorted(kinds)})")
        return 1
    cache, failed = {}, 0
    for _, fixture, expect, account, region, text in cases:
        if fixture not in cache:
            cache[fixture] = findings(ctaudit,
                                      os.path.join(src, "fixtures", fixture))
        rows = [r for r in cache[fixture] if r["rule_id"] == rule
                and (not account or r["account_id"] == account)
                and (not region or r["region"] == region)]
        if expect == "fires":
            ok = any(text in r["detail"] for r in rows)
        else:
            ok = not rows
        print(f"{'ok  ' if ok else 'FAIL'} {rule} {expect} on {fixture} "
              f"{account} {region} {text!r}")
        if not ok:
            failed += 1
            for r in rows:
                print(f"     got: {r['account_id']} {r['region']} {r['detail']}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
