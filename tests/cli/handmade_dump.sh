#!/bin/bash
# Tests the README's "Snapshot by hand" loop: the ```sh block of the README
# section "snapshot by hand" is extracted at run time (so the README cannot
# drift from what is tested) and run with dash against moto, with AWS CLI v1
# (`aws` from PATH) and AWS CLI v2 (/usr/bin/aws, skipped visibly if absent),
# plus once with a stub CLI that fails some calls, to test the error records.
# Each dump's layout is checked with python3; if the analyzer is built (path
# as $1), the dumps are loaded and the trails counted.
#
#   bash tests/cli/handmade_dump.sh [path/to/ctaudit]   (HANDMADE_KEEP=1 keeps the dumps)
# Exit: 0 pass, 1 fail, 77 skip (no moto_server or no aws CLI).
set -uo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
CTAUDIT="${1:-}"
REGIONS="us-east-1 us-west-2"
ACCT=123456789012 # moto's default account
failures=0

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
note() { echo "--- $*"; }

# shellcheck source=../lib/moto.sh
. "$root/tests/lib/moto.sh"
moto_require
if ! command -v aws >/dev/null 2>&1; then
    echo "SKIP: no aws CLI on PATH"
    exit 77
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/handmade.XXXXXX")"
cleanup() {
    moto_stop
    if [ -n "${HANDMADE_KEEP:-}" ]; then echo "kept $work"; else rm -rf "$work"; fi
}

# The loop, from README.md: first ```sh block after the section marker.
awk '/^<!-- section: snapshot by hand/ { s = 1; next }
     /^<!-- section:/ { s = 0 }
     s && /^```sh$/ { b = 1; next }
     s && b && /^```$/ { exit }
     s && b' "$root/README.md" >"$work/snapshot.sh"
if ! grep -q 'describe-trails --include-shadow-trails' "$work/snapshot.sh"; then
    echo "FAIL: no sh block found in README.md section 'snapshot by hand'"
    rm -rf "$work"
    exit 1
fi
if ! sh -n "$work/snapshot.sh"; then
    echo "FAIL: the README loop is not valid POSIX sh"
    rm -rf "$work"
    exit 1
fi

moto_start || { rm -rf "$work"; exit 1; }
trap cleanup EXIT

# A clean, fake environment: no user profile or config can leak in.
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
export AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
export AWS_CONFIG_FILE="$work/no-config" AWS_SHARED_CREDENTIALS_FILE="$work/no-credentials"
export AWS_PAGER="" AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL 2>/dev/null || true

m() { aws --endpoint-url "$MOTO_URL" --output json "$@" >/dev/null; }
note "creating trails in moto ($MOTO_URL)"
m s3api create-bucket --bucket ct-handmade-logs || fail "create-bucket"
# main: multi-region, home us-east-1, management + S3 data, Insights, logging
m cloudtrail create-trail --name main --s3-bucket-name ct-handmade-logs \
    --is-multi-region-trail --region us-east-1 || fail "create-trail main"
m cloudtrail put-event-selectors --trail-name main --region us-east-1 \
    --event-selectors '[{"ReadWriteType":"All","IncludeManagementEvents":true,"DataResources":[{"Type":"AWS::S3::Object","Values":["arn:aws:s3:::ct-handmade-logs/"]}]}]' ||
    fail "put-event-selectors main"
m cloudtrail put-insight-selectors --trail-name main --region us-east-1 \
    --insight-selectors '[{"InsightType":"ApiCallRateInsight"}]' || fail "put-insight-selectors"
m cloudtrail start-logging --name main --region us-east-1 || fail "start-logging main"
# west.local: single-region in us-west-2 (a dot in the name), write-only, logging
m cloudtrail create-trail --name west.local --s3-bucket-name ct-handmade-logs \
    --region us-west-2 || fail "create-trail west.local"
m cloudtrail put-event-selectors --trail-name west.local --region us-west-2 \
    --event-selectors '[{"ReadWriteType":"WriteOnly","IncludeManagementEvents":true}]' ||
    fail "put-event-selectors west.local"
m cloudtrail start-logging --name west.local --region us-west-2 || fail "start-logging west.local"
# eu-only: single-region in eu-west-1, outside REGIONS: must not appear
m cloudtrail create-trail --name eu-only --s3-bucket-name ct-handmade-logs \
    --region eu-west-1 || fail "create-trail eu-only"

# check_dump DIR STYLE [errors]: layout, JSON, timestamps of the CLI version
check_dump() {
    python3 - "$1" "$2" "${3:-}" "$ACCT" <<'EOF'
import json, os, sys
root, style, errors, acct = sys.argv[1:5]
A = f"accounts/{acct}"
main = f"{A}/us-east-1/trails/{acct}/main"
west = f"{A}/us-west-2/trails/{acct}/west.local"
want = {f"{A}/identity.json", f"{A}/aliases.json", f"{A}/regions.json",
        f"{A}/us-east-1/describe-trails.json", f"{A}/us-west-2/describe-trails.json"}
for t in (main, west):
    want |= {f"{t}/get-event-selectors.json", f"{t}/get-insight-selectors.json",
             f"{t}/get-trail-status.json"}
if errors:  # the stub failed GetTrailStatus of main (AccessDenied)
    want.discard(f"{main}/get-trail-status.json")
    want.add(f"{A}/us-east-1/errors/GetTrailStatus.{acct}.main.json")
have = set()
for d, _, files in os.walk(root):
    for f in files:
        have.add(os.path.relpath(os.path.join(d, f), root))
bad = []
for p in sorted(want - have):
    bad.append(f"missing {p}")
for p in sorted(have - want):
    bad.append(f"unexpected {p}")
docs = {}
for p in sorted(have & want):
    try:
        docs[p] = json.load(open(os.path.join(root, p)))
    except ValueError as e:
        bad.append(f"{p}: not JSON: {e}")
def arns(region):
    return sorted(t["TrailARN"] for t in docs.get(f"{A}/{region}/describe-trails.json", {}).get("trailList", []))
if arns("us-east-1") != [f"arn:aws:cloudtrail:us-east-1:{acct}:trail/main"]:
    bad.append(f"us-east-1 trails: {arns('us-east-1')}")
if arns("us-west-2") != [f"arn:aws:cloudtrail:us-east-1:{acct}:trail/main",
                         f"arn:aws:cloudtrail:us-west-2:{acct}:trail/west.local"]:
    bad.append(f"us-west-2 trails: {arns('us-west-2')}")
regions = sorted(r["RegionName"] for r in docs.get(f"{A}/regions.json", {}).get("Regions", []))
if regions != ["us-east-1", "us-west-2"]:
    bad.append(f"regions.json lists {regions}")
if docs.get(f"{A}/identity.json", {}).get("Account") != acct:
    bad.append("identity.json: wrong Account")
st = docs.get(f"{west}/get-trail-status.json", {})
if st.get("IsLogging") is not True:
    bad.append(f"west.local status: {st}")
t = st.get("StartLoggingTime")
if style == "v1" and not isinstance(t, (int, float)):
    bad.append(f"CLI v1 should print epoch seconds, got StartLoggingTime={t!r}")
if style == "v2" and not (isinstance(t, str) and t.endswith("+00:00")):
    bad.append(f"CLI v2 should print ISO-8601 with offset, got StartLoggingTime={t!r}")
if errors:
    e = docs.get(f"{A}/us-east-1/errors/GetTrailStatus.{acct}.main.json", {})
    if (e.get("Operation"), e.get("Code")) != ("GetTrailStatus", "AccessDeniedException") \
            or 'on resource: "main" \\ because' not in e.get("Message", ""):
        bad.append(f"error record: {e}")
    i = docs.get(f"{main}/get-insight-selectors.json", {})
    if i != {"TrailARN": f"arn:aws:cloudtrail:us-east-1:{acct}:trail/main", "InsightSelectors": []}:
        bad.append(f"InsightNotEnabledException not stored as no Insights: {i}")
for b in bad:
    print("  " + b)
sys.exit(1 if bad else 0)
EOF
}

# analyzer DIR ERRORS: load the dump and count trails (2), sightings (3),
# accounts (1) and recorded errors (1 in the stub run, else 0)
analyzer() {
    if [ -z "$CTAUDIT" ] || [ ! -x "$CTAUDIT" ]; then
        echo "NOTE: analyzer not built (${CTAUDIT:-no path given}): load check skipped, layout checked with python3"
        return 0
    fi
    rm -f "$work/x.db"
    if ! "$CTAUDIT" load "$1" -o "$work/x.db"; then
        fail "ctaudit load $1"
        return
    fi
    local q n
    for q in "trails:2" "trail_sightings:3" "accounts:1" "errors:$2"; do
        n="$("$CTAUDIT" sql "$work/x.db" "SELECT count(*) FROM ${q%%:*}" --format csv | tail -n 1 | tr -d '\r"')"
        if [ "$n" != "${q#*:}" ]; then
            fail "$1: SELECT count(*) FROM ${q%%:*} gave '$n', want ${q#*:}"
        else
            echo "ok: ${q%%:*} = $n"
        fi
    done
}

# run_loop NAME STYLE CLI-DIR [errors]: run the README loop with CLI-DIR/aws first on PATH
run_loop() {
    local name="$1" style="$2" bindir="$3" errors="${4:-}" out="$work/$1"
    note "$name: $(PATH="$bindir:$PATH" aws --version 2>&1)"
    if ! (cd "$work" && PATH="$bindir:$PATH" OUT="$out" REGIONS="$REGIONS" \
        ENDPOINT="$MOTO_URL" dash "$work/snapshot.sh"); then
        fail "$name: the loop exited non-zero"
    fi
    if check_dump "$out" "$style" "$errors"; then
        echo "ok: $name dump layout"
    else
        fail "$name: dump layout"
    fi
    analyzer "$out" "$([ -n "$errors" ] && echo 1 || echo 0)"
}

mkdir -p "$work/v1bin" "$work/v2bin" "$work/stubbin"
ln -s "$(command -v aws)" "$work/v1bin/aws"
if [ "$(aws --version 2>&1 | cut -c1-9)" != "aws-cli/1" ]; then
    echo "NOTE: 'aws' on PATH is not CLI v1: $(aws --version 2>&1)"
fi
run_loop cli-v1 v1 "$work/v1bin"

if [ -x /usr/bin/aws ]; then
    ln -s /usr/bin/aws "$work/v2bin/aws"
    v2="$(/usr/bin/aws --version 2>&1)"
    case "$v2" in
    aws-cli/2*) run_loop cli-v2 v2 "$work/v2bin" ;;
    *) fail "/usr/bin/aws is not AWS CLI v2: $v2" ;;
    esac
else
    echo "SKIP: /usr/bin/aws (AWS CLI v2) not installed: CLI v2 run skipped"
fi

# A stub in front of CLI v1: GetTrailStatus of main is denied, and
# GetInsightSelectors answers InsightNotEnabledException, as AWS does.
cat >"$work/stubbin/aws" <<EOF
#!/bin/sh
case " \$* " in
*" get-trail-status "*"trail/main "*)
    printf '\nAn error occurred (AccessDeniedException) when calling the GetTrailStatus operation: User: arn:aws:iam::$ACCT:user/audit is not authorized to perform: cloudtrail:GetTrailStatus on resource: "main" \\\\ because no identity-based policy allows it\n' >&2
    exit 254 ;;
*" get-insight-selectors "*"trail/main "*)
    printf '\nAn error occurred (InsightNotEnabledException) when calling the GetInsightSelectors operation: Trail main does not have Insights enabled. Edit the trail settings to enable Insights, and then try the operation again.\n' >&2
    exit 254 ;;
esac
exec "$work/v1bin/aws" "\$@"
EOF
chmod +x "$work/stubbin/aws"
run_loop cli-v1-errors v1 "$work/stubbin" errors

if [ "$failures" -ne 0 ]; then
    echo "FAILED: $failures check(s)"
    exit 1
fi
echo "PASS"
