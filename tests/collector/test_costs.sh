#!/usr/bin/env bash
# ctcollect --costs against moto with authentication on: Cost Explorer
# GetCostAndUsage as the caller (moto serves the results queued through
# /moto-api/static/ce/cost-and-usage-results, one per distinct request, so
# two queued pages test NextPageToken), both pages stored verbatim and
# loaded into cost_usage; a caller without ce:GetCostAndUsage gets an error
# member and a complete snapshot; without --costs Cost Explorer is never
# called.

# Before authentication: an auditor whose caller policy lacks the optional
# ce:GetCostAndUsage statement (README, IAM policies).
seed_hook() {
    python3 - "$MOTO_URL" "$HERE/policies" "$WORK/nocost.json" <<'EOF'
import json, sys
import boto3
url, pol, out = sys.argv[1:4]
caller = json.load(open(pol + "/caller.json"))
caller["Statement"] = [s for s in caller["Statement"]
                       if "ce:GetCostAndUsage" not in s["Action"]]
iam = boto3.client("iam", endpoint_url=url, region_name="us-east-1",
                   aws_access_key_id="AKIDEXAMPLESEED",
                   aws_secret_access_key="seed")
iam.create_user(UserName="auditor-nocost")
iam.put_user_policy(UserName="auditor-nocost", PolicyName="caller",
                    PolicyDocument=json.dumps(caller))
iam.put_user_policy(UserName="auditor-nocost", PolicyName="cloudtrail-read",
                    PolicyDocument=open(pol + "/member-role.json").read())
k = iam.create_access_key(UserName="auditor-nocost")["AccessKey"]
json.dump({"id": k["AccessKeyId"], "secret": k["SecretAccessKey"]},
          open(out, "w"))
EOF
}
. "$(dirname "$0")/common.sh"

DEV=$(seed "['members']['dev-platform']")
# two pages, as Cost Explorer answers them (Amounts are strings)
python3 - "$WORK/pages.json" "$MGMT" "$DEV" <<'EOF'
import json, sys
out, mgmt, dev = sys.argv[1:4]
def group(acct, usage, qty, cost):
    return {"Keys": [acct, usage], "Metrics": {
        "UnblendedCost": {"Amount": cost, "Unit": "USD"},
        "UsageQuantity": {"Amount": qty, "Unit": "N/A"}}}
def month(start, end, groups, estimated=False):
    return {"TimePeriod": {"Start": start, "End": end}, "Total": {},
            "Groups": groups, "Estimated": estimated}
p1 = {"GroupDefinitions": [{"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"},
                           {"Type": "DIMENSION", "Key": "USAGE_TYPE"}],
      "ResultsByTime": [
          month("2026-08-01", "2026-09-01", [
              group(mgmt, "USE1-FreeEventsRecorded", "1200000", "0"),
              group(dev, "EU-PaidEventsRecorded", "850000", "17")]),
          month("2026-09-01", "2026-10-01", [
              group(dev, "EU-PaidEventsRecorded", "910000", "18.2")])],
      "DimensionValueAttributes": [], "NextPageToken": "ce-page-2"}
p2 = {"GroupDefinitions": p1["GroupDefinitions"],
      "ResultsByTime": [
          month("2026-10-01", "2026-11-01", [
              group(dev, "EU-PaidEventsRecorded", "990000", "19.8"),
              group(mgmt, "DataEventsRecorded", "3000000", "3")], True)],
      "DimensionValueAttributes": []}
json.dump({"results": [p1, p2]}, open(out, "w"))
EOF
curl -sf -X POST -H 'Content-Type: application/json' \
    --data-binary "@$WORK/pages.json" \
    "$MOTO_URL/moto-api/static/ce/cost-and-usage-results" >/dev/null \
    || fail "cannot queue the Cost Explorer results"

run() {
    local name=$1; shift
    set +e
    "$CTCOLLECT" "$@" 2>"$WORK/$name.err"
    local rc=$?
    set -e
    echo "$rc" >"$WORK/$name.rc"
    return 0
}
rc() { cat "$WORK/$1.rc"; }

# 1. --costs: two pages, stored verbatim (moto's bytes: json.dumps)
run costs --endpoint-url "$MOTO_URL" --org --role-name CtAuditRole \
    --region "$REGIONS" --costs --cost-months 3 -o "$WORK/costs.tgz" --verbose
[ "$(rc costs)" = 0 ] || { cat "$WORK/costs.err"; fail "--costs exit $(rc costs)"; }
grep -q "0 errors recorded" "$WORK/costs.err" || { cat "$WORK/costs.err"; fail "errors in the --costs run"; }
n=$(grep -c "^ctcollect: ce us-east-1 GetCostAndUsage -> 200" "$WORK/costs.err" || true)
[ "$n" = 2 ] || { cat "$WORK/costs.err"; fail "GetCostAndUsage called $n times, want 2"; }
$CHECK verify "$WORK/costs.tgz"
python3 - "$HERE" "$WORK/costs.tgz" "$WORK/pages.json" <<'EOF' || fail "cost pages"
import json, sys
sys.path.insert(0, sys.argv[1])
import check_snapshot as c
m = c.load(sys.argv[2])
pages = json.load(open(sys.argv[3]))["results"]
want = {"organization/cost-and-usage.json": json.dumps(pages[0]).encode(),
        "organization/cost-and-usage.2.json": json.dumps(pages[1]).encode()}
got = {k: v for k, v in m.items() if "cost-and-usage" in k}
assert sorted(got) == sorted(want), sorted(got)
for k in want:
    assert got[k] == want[k], "%s is not verbatim" % k
man = json.loads(m["manifest.json"])
assert man["options"]["costs"] is True, man["options"]
assert man["options"]["cost_months"] == 3, man["options"]
assert not any(k.startswith("organization/errors/") for k in m), sorted(m)
print("ok: both pages verbatim, options recorded")
EOF

# 2. the analyzer loads them: one row per month x group (ordered by usage
# type before account: moto makes up the account ids, so their order
# changes from run to run)
if [ -n "${CTAUDIT_TEST:-$CTAUDIT}" ] && [ -x "${CTAUDIT_TEST:-$CTAUDIT}" ]; then
    CTAUDIT=${CTAUDIT_TEST:-$CTAUDIT}
    got=$("$CTAUDIT" sql "$WORK/costs.tgz" --format csv "SELECT member,
        period_start, period_end, estimated, account_id, usage_type,
        region, usage_kind, quantity, cost, currency FROM cost_usage
        ORDER BY member, period_start, usage_type, account_id" | tr -d "\r") \
        || fail "ctaudit sql"
    want="member,period_start,period_end,estimated,account_id,usage_type,region,usage_kind,quantity,cost,currency
organization/cost-and-usage.2.json,2026-10-01,2026-11-01,1,$MGMT,DataEventsRecorded,us-east-1,data_events,3000000.0,3.0,USD
organization/cost-and-usage.2.json,2026-10-01,2026-11-01,1,$DEV,EU-PaidEventsRecorded,eu-west-1,paid_events,990000.0,19.8,USD
organization/cost-and-usage.json,2026-08-01,2026-09-01,0,$DEV,EU-PaidEventsRecorded,eu-west-1,paid_events,850000.0,17.0,USD
organization/cost-and-usage.json,2026-08-01,2026-09-01,0,$MGMT,USE1-FreeEventsRecorded,us-east-1,free_events,1200000.0,0.0,USD
organization/cost-and-usage.json,2026-09-01,2026-10-01,0,$DEV,EU-PaidEventsRecorded,eu-west-1,paid_events,910000.0,18.2,USD"
    if [ "$got" != "$want" ]; then
        diff <(echo "$want") <(echo "$got") || true
        fail "cost_usage rows"
    fi
    echo "ok: cost_usage rows"
    # and the report prices dev-platform's paid copy in eu-west-1 from the
    # bill: (17 + 18.2 + 19.8) / 3 months
    "$CTAUDIT" report "$WORK/costs.tgz" --format json >"$WORK/report.json" \
        || fail "ctaudit report"
    python3 - "$WORK/report.json" "$DEV" <<'EOF2' || fail "report dollars"
import json, sys
d = json.load(open(sys.argv[1]))
c = d["summary"]["costs"]
assert c["basis"] == "billing" and c["billing_months"] == 3, c
dev = [a for a in d["accounts"] if a["account_id"] == sys.argv[2]][0]
rs = [x for x in dev["regions"] if x["region"] == "eu-west-1"]
assert rs, (dev["account_id"], [x["region"] for x in dev["regions"]], dev["scan_status"])
r = rs[0]
assert r["monthly_cost"] == 18.33, r
# the seeded member's management copies in eu-west-1 are not all visible
# to the audit role in moto, so the paid usage is "unexplained", and priced
f = [x for x in dev["findings"] if x["region"] == "eu-west-1"
     and x["rule_id"] in ("duplicate-management-events", "unexplained-usage")]
assert f and f[0]["monthly_cost"] == 18.33, dev["findings"]
print("ok: the report prices eu-west-1 from the bill: %s" % f[0]["rule_id"])
EOF2
else
    echo "NOTE: ctaudit not built: cost_usage check skipped"
fi

# 3. without --costs, Cost Explorer is never called
run nocosts --endpoint-url "$MOTO_URL" --org --role-name CtAuditRole \
    --region "$REGIONS" -o "$WORK/nocosts.tgz" --verbose
[ "$(rc nocosts)" = 0 ] || { cat "$WORK/nocosts.err"; fail "no --costs exit"; }
grep -q "^ctcollect: ce " "$WORK/nocosts.err" && fail "Cost Explorer called without --costs"
tar tzf "$WORK/nocosts.tgz" | grep -q cost-and-usage && fail "cost member without --costs"
$CHECK expect "$WORK/nocosts.tgz" "$WORK/seed.json" --regions "$REGIONS"
python3 -c "
import json, sys, tarfile
m = json.load(tarfile.open(sys.argv[1]).extractfile('manifest.json'))
assert m['options']['costs'] is False and m['options']['cost_months'] is None, m['options']
" "$WORK/nocosts.tgz" || fail "manifest options without --costs"

# 4. a caller without ce:GetCostAndUsage: the error is recorded, the rest of
# the snapshot completes (exit 0, one error counted)
NOCOST_AK=$(python3 -c "import json; print(json.load(open('$WORK/nocost.json'))['id'])")
NOCOST_SK=$(python3 -c "import json; print(json.load(open('$WORK/nocost.json'))['secret'])")
AWS_ACCESS_KEY_ID=$NOCOST_AK AWS_SECRET_ACCESS_KEY=$NOCOST_SK \
    run denied --endpoint-url "$MOTO_URL" --org --role-name CtAuditRole \
    --region "$REGIONS" --costs -o "$WORK/denied.tgz"
[ "$(rc denied)" = 0 ] || { cat "$WORK/denied.err"; fail "denied run exit $(rc denied)"; }
grep -q "warning: 1 errors recorded" "$WORK/denied.err" \
    || { cat "$WORK/denied.err"; fail "the denied call is not counted"; }
$CHECK verify "$WORK/denied.tgz"
python3 - "$HERE" "$WORK/denied.tgz" "$WORK/nocosts.tgz" <<'EOF' || fail "denied snapshot"
import json, sys
sys.path.insert(0, sys.argv[1])
import check_snapshot as c
m = c.load(sys.argv[2])
ref = c.load(sys.argv[3])
e = json.loads(m["organization/errors/GetCostAndUsage.json"])
assert e["Operation"] == "GetCostAndUsage", e
assert e["Code"] in ("AccessDenied", "AccessDeniedException"), e
assert not any("cost-and-usage" in k for k in m), sorted(m)
man = json.loads(m["manifest.json"])
assert man["complete"] is True and man["options"]["costs"] is True
rest = set(m) - {"organization/errors/GetCostAndUsage.json"}
assert rest == set(ref), sorted(rest ^ set(ref))
print("ok: denied call recorded, snapshot complete")
EOF
if [ -x "${CTAUDIT:-}" ]; then
    n=$("$CTAUDIT" sql "$WORK/denied.tgz" --format csv \
        "SELECT count(*) FROM errors WHERE operation = 'GetCostAndUsage'" | tr -d '\r' | tail -n 1)
    [ "$n" = 1 ] || fail "ctaudit: GetCostAndUsage error not loaded ($n)"
fi

# 5. usage errors
set +e
"$CTCOLLECT" --cost-months 3 >/dev/null 2>"$WORK/u1.err"; u1=$?
"$CTCOLLECT" --costs --cost-months 13 >/dev/null 2>"$WORK/u2.err"; u2=$?
set -e
[ "$u1" = 2 ] && grep -q "^ctcollect: --cost-months needs --costs$" "$WORK/u1.err" \
    || fail "--cost-months without --costs ($u1)"
[ "$u2" = 2 ] && grep -q "^ctcollect: invalid --cost-months '13' (1-12)$" "$WORK/u2.err" \
    || fail "--cost-months 13 ($u2)"
"$CTCOLLECT" --help | grep -q "ce:GetCostAndUsage" || fail "--help: permission"
"$CTCOLLECT" --help | grep -q '\$0.01 per' || fail "--help: price"

secrets_scan
grep -rqF -e "$NOCOST_AK" -e "$NOCOST_SK" --exclude=nocost.json "$WORK" \
    && fail "the second auditor's keys leaked"
echo "PASS"
