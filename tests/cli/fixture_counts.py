#!/usr/bin/env python3
"""Loads every fixture with `ctaudit load` into one database file and checks
row counts against fixtures/expected-counts.json, plus specific values.

usage: fixture_counts.py CTAUDIT SOURCE_DIR
"""
import json
import os
import sqlite3
import subprocess
import sys
import tempfile


def main():
    ctaudit, src = sys.argv[1], sys.argv[2]
    expected = json.load(open(os.path.join(src, "fixtures",
                                           "expected-counts.json")))
    names = sorted(expected)
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        db_path = os.path.join(tmp, "all.db")
        subprocess.run([ctaudit, "load", "-q", "-o", db_path]
                       + [os.path.join(src, "fixtures", n) for n in names],
                       check=True)
        db = sqlite3.connect(db_path)
        ids = {row[1]: row[0] for row in
               db.execute("SELECT snapshot_id, source FROM snapshots")}
        for name in names:
            sid = ids[os.path.join(src, "fixtures", name)]
            q = lambda sql: db.execute(sql, (sid,)).fetchone()[0]
            got = {
                "account_dirs": q("SELECT count(*) FROM accounts WHERE "
                                  "snapshot_id = ? AND has_folder = 1"),
                "distinct_trail_arns": q("SELECT count(*) FROM trails WHERE "
                                         "snapshot_id = ?"),
                "trail_sightings": q("SELECT count(*) FROM trail_sightings "
                                     "WHERE snapshot_id = ?"),
                "skipped_accounts": q("SELECT count(*) FROM errors WHERE "
                                      "snapshot_id = ? AND scope = 'account'"),
                "distinct_account_trail_pairs": q(
                    "SELECT count(*) FROM (SELECT DISTINCT account_id, "
                    "trail_arn FROM trail_sightings WHERE snapshot_id = ?)"),
            }
            for key, want in expected[name].items():
                if key in got and got[key] != want:
                    print(f"FAIL {name}: {key} = {got[key]}, expected {want}")
                    failed += 1
            print(f"ok   {name}: {got}")

        # specific values, one per shape of input
        def one(sql, *args):
            return db.execute(sql, args).fetchone()

        checks = [
            # CLI v2 (ISO with offsets) and raw API (epoch) agree on times
            ("raw-api and cli-v2-dump give the same trail status times",
             one("SELECT count(*) FROM trail_status a JOIN trail_status b "
                 "ON a.trail_arn = b.trail_arn WHERE a.snapshot_id = ? AND "
                 "b.snapshot_id = ? AND a.latest_delivery_time IS "
                 "b.latest_delivery_time AND a.is_logging IS b.is_logging",
                 ids[os.path.join(src, "fixtures", "raw-api")],
                 ids[os.path.join(src, "fixtures", "cli-v2-dump")])[0] >= 1),
            ("raw-api is verified against its manifest",
             one("SELECT verified FROM snapshots WHERE snapshot_id = ?",
                 ids[os.path.join(src, "fixtures", "raw-api")])[0] == 1),
            ("example-org: dev-platform has 2 trails in 30 regions",
             one("SELECT count(DISTINCT trail_arn) || '/' || count(DISTINCT "
                 "region) FROM trail_sightings WHERE snapshot_id = ? AND "
                 "account_id = '333333333333'",
                 ids[os.path.join(src, "fixtures", "example-org")])[0]
             == "2/30"),
            ("org-trail: the organization trail is an organization trail",
             one("SELECT count(*) FROM trails WHERE snapshot_id = ? AND "
                 "is_organization_trail = 1",
                 ids[os.path.join(src, "fixtures", "org-trail")])[0] == 1),
            ("advanced field selectors are one row per value",
             one("SELECT count(*) FROM advanced_field_selectors f JOIN "
                 "trail_documents d USING (doc_id) WHERE d.snapshot_id = ?",
                 ids[os.path.join(src, "fixtures",
                                  "semantics/data-overlap")])[0] > 0),
            ("example-org: Cost Explorer pages load from both files, 3 "
             "months, every usage type placed in a region",
             one("SELECT count(DISTINCT member) || '/' || count(DISTINCT "
                 "period_start) || '/' || sum(region IS NULL) FROM cost_usage "
                 "WHERE snapshot_id = ?",
                 ids[os.path.join(src, "fixtures", "example-org")])[0]
             == "2/3/0"),
            ("example-org: USW2-PaidEventsRecorded is us-west-2 paid events",
             one("SELECT count(*) FROM cost_usage WHERE snapshot_id = ? AND "
                 "account_id = '888888888888' AND usage_type = "
                 "'USW2-PaidEventsRecorded' AND region = 'us-west-2' AND "
                 "usage_kind = 'paid_events' AND quantity > 0",
                 ids[os.path.join(src, "fixtures", "example-org")])[0] == 3),
        ]
        # v_region_mgmt sums v_coverage in its two parts (own trails per
        # account and region, organization trails per region): the same
        # numbers as summing v_coverage's rows, over every fixture
        direct = (
            "SELECT ar.snapshot_id, ar.account_id, ar.region, ar.scan_state,"
            " coalesce(sum(t.delivers AND t.mgmt_reads = 1), 0),"
            " coalesce(sum(t.delivers AND t.mgmt_writes = 1), 0),"
            " coalesce(sum(t.delivers AND t.selectors = 'unknown'), 0),"
            " coalesce(sum(t.logging = 'unknown'), 0), count(c.trail_arn),"
            " coalesce(sum(t.delivers), 0),"
            " coalesce(sum(t.delivers AND t.has_data = 1), 0),"
            " coalesce(sum(t.delivers AND t.has_network = 1), 0),"
            " coalesce(sum(CASE WHEN t.delivers THEN t.insight_types END), 0)"
            " FROM v_account_regions ar LEFT JOIN v_coverage c"
            " ON c.snapshot_id = ar.snapshot_id"
            " AND c.account_id = ar.account_id AND c.region = ar.region"
            " LEFT JOIN v_trails t ON t.snapshot_id = c.snapshot_id"
            " AND t.trail_arn = c.trail_arn"
            " GROUP BY ar.snapshot_id, ar.account_id, ar.region, ar.scan_state")
        mgmt = "SELECT * FROM v_region_mgmt"
        checks += [
            ("v_region_mgmt has organization-trail copies to count",
             db.execute("SELECT count(*) FROM v_region_mgmt m JOIN "
                        "v_coverage c USING (snapshot_id, account_id, region) "
                        "WHERE c.via = 'organization' AND m.read_copies > 1"
                        ).fetchone()[0] > 0),
            ("v_region_mgmt = the sums over v_coverage's rows",
             db.execute(f"SELECT (SELECT count(*) FROM ({direct} EXCEPT "
                        f"{mgmt})) + (SELECT count(*) FROM ({mgmt} EXCEPT "
                        f"{direct}))").fetchone()[0] == 0),
            ("v_coverage = v_own_coverage + organization trails x regions",
             db.execute("SELECT (SELECT count(*) FROM v_coverage) = "
                        "(SELECT count(*) FROM v_own_coverage) + (SELECT "
                        "count(*) FROM v_account_regions ar JOIN "
                        "v_organization_trail_regions o USING (snapshot_id, "
                        "region))").fetchone()[0] == 1),
        ]
        for label, ok in checks:
            print(f"{'ok  ' if ok else 'FAIL'} {label}")
            failed += not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
