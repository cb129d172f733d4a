#!/usr/bin/env bash
# Faults injected by tests/lib/faultproxy.py between ctcollect and moto:
# AssumeRole denied for one account (recorded with its probable causes, run
# goes on, exit 0 with a warning), throttling and HTTP 500s (retried: the
# snapshot equals a fault-free run's), keep-alive through the proxy, and a
# killed run that leaves no file under the final name.
. "$(dirname "$0")/common.sh"

stats() { curl -sf "$PROXY_URL/__proxy/stats"; }
jq_py() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# 1. reference: only the denied AssumeRole (and AWS's answer for a trail
#    without Insights, which moto does not give)
proxy_start --deny-assume "$INVITED" --aws-insights
"$CTCOLLECT" --endpoint-url "$PROXY_URL" --org --role-name CtAuditRole \
    --region "$REGIONS" -o "$WORK/ref.tgz" 2>"$WORK/ref.err" \
    || { cat "$WORK/ref.err"; fail "reference run"; }
cat "$WORK/ref.err"
grep -q "warning: 1 errors recorded" "$WORK/ref.err" || fail "no warning line"
$CHECK verify "$WORK/ref.tgz"
$CHECK expect "$WORK/ref.tgz" "$WORK/seed.json" --regions "$REGIONS" \
    --denied "$INVITED"
python3 - "$WORK/ref.tgz" "$MGMT" <<'PY' || fail "InsightNotEnabledException"
import json, sys
sys.path.insert(0, __import__("os").environ["HERE"])
import check_snapshot as c
m = c.load(sys.argv[1])
k = "accounts/%s/eu-west-1/trails/%s/mgmt-local/get-insight-selectors.json" % (
    sys.argv[2], sys.argv[2])
want = {"TrailARN": "arn:aws:cloudtrail:eu-west-1:%s:trail/mgmt-local"
        % sys.argv[2], "InsightSelectors": []}
assert json.loads(m[k]) == want, m[k]
print("ok: InsightNotEnabledException stored as no Insights")
PY
s=$(stats)
req=$(echo "$s" | jq_py 'd["requests"]')
conn=$(echo "$s" | jq_py 'd["connections"]')
echo "proxy: $req requests over $conn connections"
[ "$conn" -lt "$req" ] || fail "no connection reuse ($conn connections)"
proxy_stop

# 2. throttling and 500s on about half of the requests, twice each
proxy_start --deny-assume "$INVITED" --throttle-pct 30 --error-pct 20 \
    --fail-attempts 2 --aws-insights
"$CTCOLLECT" --endpoint-url "$PROXY_URL" --org --role-name CtAuditRole \
    --region "$REGIONS" -o "$WORK/faulty.tgz" --concurrency 8 \
    2>"$WORK/faulty.err" || { cat "$WORK/faulty.err"; fail "faulty run"; }
cat "$WORK/faulty.err"
faults=$(stats | jq_py 'd["faults"]')
echo "proxy: $faults faults injected"
# which requests fail follows from their bodies (moto's random account ids
# included), and many bodies are alike: the count varies from run to run;
# what matters is that faults happened and the snapshot is unchanged
[ "$faults" -ge 8 ] || fail "too few faults injected ($faults)"
grep -Eq ", [1-9][0-9]* retries" "$WORK/faulty.err" || fail "no retries"
grep -q "warning: 1 errors recorded" "$WORK/faulty.err" || fail "warning"
$CHECK verify "$WORK/faulty.tgz"
$CHECK same "$WORK/ref.tgz" "$WORK/faulty.tgz"
proxy_stop

# 3. what still fails after retries is recorded, not dropped
proxy_start --throttle-pct 100 --fail-attempts 100
set +e
"$CTCOLLECT" --endpoint-url "$PROXY_URL" --region us-east-1 \
    -o "$WORK/never.tgz" 2>"$WORK/never.err"
rc=$?
set -e
cat "$WORK/never.err"
[ "$rc" = 1 ] || fail "caller throttled forever: exit $rc, want 1"
[ ! -e "$WORK/never.tgz" ] || fail "file written by a failed run"
proxy_stop

# 4. calls denied for good: recorded under their documented paths
proxy_start --deny-op GetTrailStatus,DescribeOrganization
"$CTCOLLECT" --endpoint-url "$PROXY_URL" --org --role-name CtAuditRole \
    --region "$REGIONS" -o "$WORK/denied.tgz" 2>"$WORK/denied.err" \
    || { cat "$WORK/denied.err"; fail "denied run"; }
grep -q "warning: 7 errors recorded" "$WORK/denied.err" || fail "7 errors"
$CHECK verify "$WORK/denied.tgz"
python3 - "$WORK/denied.tgz" "$MGMT" <<'PY' || fail "error members"
import json, re, sys
sys.path.insert(0, __import__("os").environ["HERE"])
import check_snapshot as c
m = c.load(sys.argv[1])
e = json.loads(m["organization/errors/DescribeOrganization.json"])
assert e["Code"] == "AccessDeniedException" and e["HttpStatus"] == 400, e
assert "organization/describe-organization.json" not in m
errs = [k for k in m if re.match(
    r"accounts/\d{12}/[a-z0-9-]+/errors/GetTrailStatus\.\d{12}\..+\.json$", k)]
assert len(errs) == 6, errs
assert not [k for k in m if k.endswith("/get-trail-status.json")]
k = "accounts/%s/us-east-1/errors/GetTrailStatus.%s.org-trail.json" % (
    sys.argv[2], sys.argv[2])
e = json.loads(m[k])
assert e["Operation"] == "GetTrailStatus" and e["Attempts"] == 1, e
print("ok: denied calls recorded as error members")
PY
proxy_stop

# 5. killed or interrupted runs leave nothing under the final name
proxy_start --latency-ms 600
"$CTCOLLECT" --endpoint-url "$PROXY_URL" --org --role-name CtAuditRole \
    --region "$REGIONS" -o "$WORK/killed.tgz" 2>"$WORK/killed.err" &
pid=$!
sleep 1.5
kill -KILL "$pid"; wait "$pid" 2>/dev/null || true
[ ! -e "$WORK/killed.tgz" ] || fail "killed run left the final file"
"$CTCOLLECT" --endpoint-url "$PROXY_URL" --org --role-name CtAuditRole \
    --region "$REGIONS" -o "$WORK/term.tgz" 2>"$WORK/term.err" &
pid=$!
sleep 1.5
kill -TERM "$pid"
set +e; wait "$pid"; rc=$?; set -e
[ "$rc" = 1 ] || fail "SIGTERM exit $rc, want 1"
grep -q "interrupted" "$WORK/term.err" || fail "no interrupted message"
grep -q "Sanitizer" "$WORK/term.err" && fail "sanitizer report after SIGTERM"
left=$(ls -A "$WORK" | grep -E '^\.?(term|killed)\.tgz' || true)
[ -z "$left" ] || fail "files left: $left"
proxy_stop

secrets_scan
echo "PASS"
