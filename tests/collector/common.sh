# Sourced by the collector tests: moto with the seeded organization and
# authentication on, the auditor's keys in the environment, a work dir.
#   usage: . common.sh CTCOLLECT [CTAUDIT]
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
python3 "$LIB/seed_org.py" "$MOTO_URL" "$WORK/seed.json"
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

# Every file the test produced (snapshots unpacked) must be free of the keys
# (inputs such as credential files live in $WORK/in).
secrets_scan() {
    local dump=$WORK/.dump
    mkdir -p "$dump"
    for s in "$WORK"/*.tgz "$WORK"/*.tar* "$WORK"/*/; do
        [ -e "$s" ] || continue
        if [ -d "$s" ] && [ ! -e "$s/manifest.json" ]; then continue; fi
        python3 -c "
import sys; sys.path.insert(0, '$HERE')
import check_snapshot as c
m = c.load(sys.argv[1])
open(sys.argv[2], 'wb').write(b'\n'.join(m.values()))" "$s" "$dump/$(basename "$s").txt" 2>/dev/null || true
    done
    if grep -rqF -e "$AK" -e "$SK" --exclude=seed.json --exclude-dir=in "$WORK"; then
        grep -rlF -e "$AK" -e "$SK" --exclude=seed.json --exclude-dir=in "$WORK"
        fail "access key id or secret found in the files above"
    fi
    echo "ok: no secret in $(find "$WORK" -type f | wc -l) files"
}
