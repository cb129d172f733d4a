# Sourced by the collector tests: moto with the seeded organization and
# authentication on, the auditor's keys in the environment, a work dir.
#   usage: . common.sh CTCOLLECT [CTAUDIT]
# SEED_EXTRA=N (set before sourcing) adds N members with trails in $REGIONS
# (seed_org.py's extra accounts) for tests that want more calls.
set -euo pipefail
export LC_ALL=C
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export HERE
LIB=$HERE/../lib
. "$LIB/moto.sh"
moto_require
CTCOLLECT=$1
CTAUDIT=${2:-}
CHECK="python3 $HERE/check_snapshot.py"
REGIONS=us-east-1,eu-west-1,eu-central-1
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ctcollect-test.XXXXXX")
cleanup() {
    proxy_stop
    moto_stop
    rm -rf "$WORK"
}
moto_start
trap cleanup EXIT
python3 "$LIB/seed_org.py" "$MOTO_URL" "$WORK/seed.json" \
    ${SEED_EXTRA:+"$SEED_EXTRA" "$REGIONS"}
# a test may seed more before authentication is on
if declare -F seed_hook >/dev/null; then seed_hook; fi
moto_enable_auth
seed() { python3 -c "import json,sys; print(json.load(open('$WORK/seed.json'))$1)"; }
MGMT=$(seed "['management']")
INVITED=$(seed "['members']['invited']")
AK=$(seed "['access_key_id']")
SK=$(seed "['secret_access_key']")
# nothing from the developer's machine: only what the test sets
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_DEFAULT_REGION AWS_DEFAULT_PROFILE
export HOME=$WORK AWS_CONFIG_FILE=$WORK/no-config \
    AWS_SHARED_CREDENTIALS_FILE=$WORK/no-credentials AWS_REGION=us-east-1
export AWS_ACCESS_KEY_ID=$AK AWS_SECRET_ACCESS_KEY=$SK

fail() { echo "FAIL: $*"; exit 1; }

# Every file the test produced (snapshots opened: each member) must be free
# of the keys, and of any marker of a signed request (tests/lib/
# secrets_scan.py); inputs such as credential files live in $WORK/in. With
# SECRETS_RECORD set (faultproxy.py --record), also of every signature,
# session token and assumed-role key the proxy saw.
secrets_scan() {
    python3 "$LIB/secrets_scan.py" --literal "$AK" --literal "$SK" \
        --exclude seed.json --exclude in \
        ${SECRETS_RECORD:+--record "$SECRETS_RECORD"} "$WORK" ||
        fail "secrets found (file!member: pattern above)"
}
