#!/usr/bin/env bash
# ctcollect against a re-creation of the reference script's call pattern
# (bench/collect_reference.py), on the same moto organization behind the
# fault proxy with a fixed per-request latency. Prints wall time and calls.
#
#   bench/collect_bench.sh BUILD_DIR [EXTRA_ACCOUNTS=20] [LATENCY_MS=20] [REGIONS]
set -euo pipefail
export LC_ALL=C
BUILD=$(cd "$1" && pwd)
EXTRA=${2:-20}
LATENCY=${3:-20}
REGIONS=${4:-us-east-1,us-east-2,us-west-1,us-west-2,eu-west-1,eu-west-2,eu-central-1,eu-north-1,ap-southeast-1,ap-northeast-1,sa-east-1,ca-central-1}
SRC=$(cd "$(dirname "$0")/.." && pwd)
. "$SRC/tests/lib/moto.sh"
moto_require
WORK=$(mktemp -d "${TMPDIR:-/tmp}/collect-bench.XXXXXX")
moto_start
trap 'proxy_stop; moto_stop; rm -rf "$WORK"' EXIT
python3 "$SRC/tests/lib/seed_org.py" "$MOTO_URL" "$WORK/seed.json" "$EXTRA"
seed() { python3 -c "import json; print(json.load(open('$WORK/seed.json'))$1)"; }
export AWS_ACCESS_KEY_ID=$(seed "['access_key_id']")
export AWS_SECRET_ACCESS_KEY=$(seed "['secret_access_key']")
export AWS_REGION=us-east-1 HOME=$WORK AWS_CONFIG_FILE=$WORK/none \
    AWS_SHARED_CREDENTIALS_FILE=$WORK/none
stats() { curl -sf "$PROXY_URL/__proxy/stats"; }
field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
naccts=$((EXTRA + 5))
nreg=$(echo "$REGIONS" | tr ',' '\n' | wc -l)
echo "organization: $naccts accounts, $nreg regions, ${LATENCY} ms per request"

proxy_start --latency-ms "$LATENCY"
t0=$(date +%s.%N)
python3 "$SRC/bench/collect_reference.py" "$PROXY_URL" CtAuditRole "$REGIONS" \
    >"$WORK/ref.out"
t1=$(date +%s.%N)
ref_calls=$(stats | field '["requests"]')
ref_conns=$(stats | field '["connections"]')
proxy_stop

proxy_start --latency-ms "$LATENCY"
t2=$(date +%s.%N)
"$BUILD/collector/ctcollect" --endpoint-url "$PROXY_URL" --org \
    --role-name CtAuditRole --region "$REGIONS" -o "$WORK/snap.tgz" \
    2>"$WORK/ct.err"
t3=$(date +%s.%N)
ct_calls=$(stats | field '["requests"]')
ct_conns=$(stats | field '["connections"]')
proxy_stop

printf '%-22s %10s %8s %12s\n' program "wall (s)" calls connections
printf '%-22s %10.2f %8s %12s\n' "reference pattern" \
    "$(python3 -c "print($t1 - $t0)")" "$ref_calls" "$ref_conns"
printf '%-22s %10.2f %8s %12s\n' "ctcollect" \
    "$(python3 -c "print($t3 - $t2)")" "$ct_calls" "$ct_conns"
