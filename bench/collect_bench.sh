#!/usr/bin/env bash
# ctcollect against a re-creation of the reference script's call pattern
# (bench/collect_reference.py) on the same moto organization, behind the fault
# proxy with a fixed added latency per call, and both against the floor:
#
#   floor = max(calls x latency / concurrency, calls / ceiling)
#
# where ceiling is the calls per second that moto (behind the same proxy)
# serves at all, measured in the same run with many parallel trivial calls.
# Prints a Markdown table on stdout, progress on stderr. See bench/README.md.
#
#   bench/collect_bench.sh [--build DIR] [--accounts N] [--regions K]
#                          [--latency-ms MS] [--concurrency C]
#                          [--ceiling-calls N] [--ceiling-parallel P]
#                          [--no-reference]
#   bench/collect_bench.sh BUILD_DIR [EXTRA_ACCOUNTS [LATENCY_MS]]   (old form)
set -euo pipefail
export LC_ALL=C

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=build
ACCOUNTS=200
NREGIONS=17
LATENCY=20
CONCURRENCY=32
CEIL_CALLS=2000
CEIL_PAR=64
REFERENCE=1
positional=()
# the 17 regions every account has enabled by default (no opt-in)
ALL_REGIONS=us-east-1,us-east-2,us-west-1,us-west-2,ca-central-1,eu-west-1,eu-west-2,eu-west-3,eu-central-1,eu-north-1,ap-south-1,ap-southeast-1,ap-southeast-2,ap-northeast-1,ap-northeast-2,ap-northeast-3,sa-east-1

usage() {
    sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
}
while [ $# -gt 0 ]; do
    case $1 in
    --build) BUILD=$2; shift 2 ;;
    --accounts) ACCOUNTS=$2; shift 2 ;;
    --regions) NREGIONS=$2; shift 2 ;;
    --latency-ms) LATENCY=$2; shift 2 ;;
    --concurrency) CONCURRENCY=$2; shift 2 ;;
    --ceiling-calls) CEIL_CALLS=$2; shift 2 ;;
    --ceiling-parallel) CEIL_PAR=$2; shift 2 ;;
    --no-reference) REFERENCE=0; shift ;;
    -h | --help) usage ;;
    -*) echo "collect_bench.sh: unknown option '$1'" >&2; usage ;;
    *) positional+=("$1"); shift ;;
    esac
done
# the old form: BUILD_DIR [EXTRA_ACCOUNTS [LATENCY_MS]]
if [ ${#positional[@]} -gt 0 ]; then BUILD=${positional[0]}; fi
if [ ${#positional[@]} -gt 1 ]; then ACCOUNTS=$((positional[1] + 5)); fi
if [ ${#positional[@]} -gt 2 ]; then LATENCY=${positional[2]}; fi
if [ "$ACCOUNTS" -lt 5 ] || [ "$NREGIONS" -lt 1 ] || [ "$NREGIONS" -gt 17 ]; then
    echo "collect_bench.sh: --accounts must be >= 5, --regions 1-17" >&2
    exit 2
fi
[ -d "$BUILD" ] || BUILD=$SRC/$BUILD
BUILD=$(cd "$BUILD" && pwd)
CTCOLLECT=$BUILD/collector/ctcollect
[ -x "$CTCOLLECT" ] || { echo "collect_bench.sh: no $CTCOLLECT (build first)" >&2; exit 1; }
REGIONS=$(echo "$ALL_REGIONS" | cut -d, -f1-"$NREGIONS")

. "$SRC/tests/lib/moto.sh"
moto_require
command -v curl >/dev/null || { echo "collect_bench.sh: curl needed" >&2; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/collect-bench.XXXXXX")
cleanup() { proxy_stop; moto_stop; rm -rf "$WORK"; }
moto_start
trap cleanup EXIT
log() { echo "collect_bench: $*" >&2; }
now() { date +%s.%N; }
py() { python3 -c "$@"; }

# -- the organization: the management account (organization trail with
# Insights, a single-region trail), 4 fixed members and ACCOUNTS-5 extras
# with multi-region and single-region trails of their own (seed_org.py)
t=$(now)
python3 "$SRC/tests/lib/seed_org.py" "$MOTO_URL" "$WORK/seed.json" \
    $((ACCOUNTS - 5)) "$REGIONS"
seed_s=$(py "print('%.1f' % ($(now) - $t))")
log "seeded $ACCOUNTS accounts in $seed_s s"
seed() { py "import json; print(json.load(open('$WORK/seed.json'))$1)"; }
export AWS_ACCESS_KEY_ID=$(seed "['access_key_id']")
export AWS_SECRET_ACCESS_KEY=$(seed "['secret_access_key']")
export AWS_REGION=us-east-1 HOME=$WORK AWS_CONFIG_FILE=$WORK/none \
    AWS_SHARED_CREDENTIALS_FILE=$WORK/none

stats() { curl -sf "$PROXY_URL/__proxy/stats" >"$WORK/$1.stats"; }
stat() { py "import json; s=json.load(open('$WORK/$1.stats')); print($2)"; }
TRAIL_OPS="sum(s['ops'].get('cloudtrail:'+o, 0) for o in ('GetEventSelectors','GetInsightSelectors','GetTrailStatus'))"

# -- the ceiling: CEIL_CALLS sts:GetCallerIdentity, CEIL_PAR at a time, from
# curl (C, next to no CPU of its own) through the proxy with the same
# latency, so that the proxy's CPU (Python, one upstream connection per call)
# is counted like it is for the two programs. moto does not check signatures
# in this benchmark: the Authorization header only names key, region and
# service. Prints calls per second.
ceiling() {
    local url=$1 d t0 t1
    d=$(date -u +%Y%m%d)
    t0=$(now)
    curl -sS -Z --parallel-max "$CEIL_PAR" -o /dev/null -w '%{http_code}\n' \
        -X POST -d 'Action=GetCallerIdentity&Version=2011-06-15' \
        -H 'Content-Type: application/x-www-form-urlencoded; charset=utf-8' \
        -H "X-Amz-Date: ${d}T000000Z" \
        -H "Authorization: AWS4-HMAC-SHA256 Credential=$AWS_ACCESS_KEY_ID/$d/us-east-1/sts/aws4_request, SignedHeaders=host;x-amz-date, Signature=0" \
        "$url/?[1-$CEIL_CALLS]" 2>/dev/null >"$WORK/codes"
    t1=$(now)
    local bad
    bad=$(grep -cv '^200$' "$WORK/codes" || true)
    [ "$bad" = 0 ] || log "warning: $bad ceiling calls did not answer 200"
    py "print('%.0f' % ($CEIL_CALLS / ($t1 - $t0)))"
}
measure_ceiling() {
    proxy_start --latency-ms "$LATENCY"
    ceiling "$PROXY_URL"
    proxy_stop
}

# -- warm-up: moto builds an account's backends lazily on its first calls
# (EC2's default VPC and AMIs for DescribeRegions, CloudTrail's for every
# region): one untimed ctcollect pass straight at moto builds them, so that
# neither timed program pays for them
log "warm-up (ctcollect straight at moto)..."
t=$(now)
"$CTCOLLECT" --endpoint-url "$MOTO_URL" --org --role-name CtAuditRole \
    --region "$REGIONS" -o "$WORK/warm/" 2>"$WORK/warm.err" ||
    { cat "$WORK/warm.err" >&2; exit 1; }
warm_s=$(py "print('%.1f' % ($(now) - $t))")
rm -rf "$WORK/warm"
log "warm-up $warm_s s"

log "ceiling (through the proxy, $CEIL_PAR x GetCallerIdentity)..."
ceil1=$(measure_ceiling)
ceil_direct=$(ceiling "$MOTO_URL")
log "ceiling $ceil1 calls/s through the proxy, $ceil_direct direct"

# -- ctcollect (a directory snapshot, read below to count trails)
log "ctcollect --concurrency $CONCURRENCY..."
proxy_start --latency-ms "$LATENCY"
t=$(now)
"$CTCOLLECT" --endpoint-url "$PROXY_URL" --org --role-name CtAuditRole \
    --region "$REGIONS" --concurrency "$CONCURRENCY" -o "$WORK/snap/" \
    2>"$WORK/ct.err" || { cat "$WORK/ct.err" >&2; exit 1; }
ct_s=$(py "print($(now) - $t)")
stats ct
proxy_stop
log "$(tail -1 "$WORK/ct.err")"
ceil2=$(measure_ceiling)
log "ceiling $ceil2 calls/s through the proxy (after ctcollect)"

# -- the reference pattern
if [ "$REFERENCE" = 1 ]; then
    log "reference pattern (accounts one after another)..."
    proxy_start --latency-ms "$LATENCY"
    t=$(now)
    python3 "$SRC/bench/collect_reference.py" "$PROXY_URL" CtAuditRole \
        "$REGIONS" >"$WORK/ref.out"
    ref_s=$(py "print($(now) - $t)")
    stats ref
    proxy_stop
    ceil3=$(measure_ceiling)
    log "ceiling $ceil3 calls/s through the proxy (after the reference)"
else
    ceil3=0
fi

# the best ceiling seen: the lowest floor, the hardest target
ceil=$(py "print(max($ceil1, $ceil2, $ceil3))")

# -- per-trail calls counted both ways from what ctcollect collected: once
# per distinct trail ARN per account (ctcollect), once per trail listed per
# account and region (the reference pattern)
read -r per_arn per_region <<<"$(python3 - "$WORK/snap" <<'EOF'
import glob, json, os, sys
arns, listed = set(), 0
for f in glob.glob(os.path.join(sys.argv[1], "accounts/*/*/describe-trails.json")):
    acct = f.split(os.sep)[-3]
    for t in json.load(open(f)).get("trailList", []):
        listed += 1
        arns.add((acct, t["TrailARN"]))
print(3 * len(arns), 3 * listed)
EOF
)"

ct_calls=$(stat ct "s['requests']")
ct_conns=$(stat ct "s['connections']")
ct_trail=$(stat ct "$TRAIL_OPS")
row() { # name wall calls trailcalls conns concurrency
    py "
w, n, c = $2, $3, $6
lat = n * $LATENCY / 1000.0 / c
cpu = n / $ceil
fl = max(lat, cpu)
print('| %s | %.1f | %d | %s | %s | %d | %.0f | %.1f | %.1f | **%.1f** | %.2f |' % (
    '$1', w, n, '$4', '$5', c, n / w, lat, cpu, fl, w / fl))"
}

host_cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
echo "## ctcollect vs the reference call pattern"
echo
echo "$ACCOUNTS accounts x $NREGIONS regions, ${LATENCY} ms added per call" \
    "(tests/lib/faultproxy.py), moto $(python3 -c 'import moto; print(moto.__version__)')," \
    "$(nproc) CPUs ($host_cpu), $(date -u +%Y-%m-%d); seeding ${seed_s} s, warm-up ${warm_s} s."
echo
echo "| program | wall s | calls | per-trail calls | connections | concurrency | calls/s | latency floor s | ceiling floor s | floor s | x floor |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
if [ "$REFERENCE" = 1 ]; then
    ref_calls=$(stat ref "s['requests']")
    row "reference pattern" "$ref_s" "$ref_calls" "$(stat ref "$TRAIL_OPS")" \
        "$(stat ref "s['connections']")" "$NREGIONS"
fi
row ctcollect "$ct_s" "$ct_calls" "$ct_trail" "$ct_conns" "$CONCURRENCY"
echo
after=""
[ "$REFERENCE" = 1 ] && after=", $ceil3 after the reference"
echo "- ceiling: $ceil calls/s (best of $ceil1 before, $ceil2 after" \
    "ctcollect$after: $CEIL_CALLS sts:GetCallerIdentity, $CEIL_PAR in parallel," \
    "from curl through the same proxy and latency); moto alone, without the proxy:" \
    "$ceil_direct calls/s"
echo "- floor = max(calls x latency / concurrency, calls / ceiling); the" \
    "reference pattern's concurrency is its $NREGIONS region threads" \
    "(accounts one after another)"
echo "- per-trail calls (GetEventSelectors, GetInsightSelectors," \
    "GetTrailStatus) counted both ways from the collected describe-trails:" \
    "once per distinct trail ARN per account $per_arn, once per trail per" \
    "region it is listed in $per_region"
if [ "$REFERENCE" = 1 ]; then
    py "
r, c = $ref_s, $ct_s
fl = max($ct_calls * $LATENCY / 1000.0 / $CONCURRENCY, $ct_calls / $ceil)
print('- ctcollect is %.1fx faster than the reference pattern (target >= 10x)'
      ' with %.1fx fewer calls, and at %.2fx its floor (target <= 1.5x)'
      % (r / c, $ref_calls / $ct_calls, c / fl))"
fi
