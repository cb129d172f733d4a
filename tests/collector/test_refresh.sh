#!/usr/bin/env bash
# Long runs: temporary credentials are renewed before they expire. STS
# sessions made short by a stand-in in front of moto (AssumeRole answers
# expire 302 s after they are issued, inside the 300 s renewal margin after
# 2 s) and a caller whose IAM Identity Center credentials are as short
# (tests/lib/creds-stand-in.py), with latency so that a run lasts several
# seconds: the members' roles and the caller are renewed, the snapshot is
# complete. A refused renewal is recorded for its account and the run goes
# on.
. "$(dirname "$0")/common.sh"
mkdir -p "$WORK/in"
PIDS=()
start_server() { # start_server VAR SCRIPT ARGS...: sets VAR to its URL
    local var=$1 script=$2 port="$WORK/$1.port"
    rm -f "$port"
    shift 2
    python3 "$LIB/$script" --port-file "$port" "$@" &
    PIDS+=($!)
    for _ in $(seq 1 100); do [ -s "$port" ] && break; sleep 0.05; done
    [ -s "$port" ] || fail "$script did not start"
    printf -v "$var" 'http://127.0.0.1:%s' "$(cat "$port")"
}
stop_servers() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    PIDS=()
}
trap 'stop_servers; cleanup' EXIT
export AWS_EC2_METADATA_DISABLED=true
members=$(python3 -c "import json; print(len(json.load(open('$WORK/seed.json'))['members']))")

# --- member roles renewed (caller: the environment's long-lived keys) ---
start_server SHORT sts-expiry-stand-in.py --target "$MOTO_URL" \
    --expires-in 302 --latency-ms 150
"$CTCOLLECT" --endpoint-url "$SHORT" --org --role-name CtAuditRole \
    --region "$REGIONS" --concurrency 2 -o "$WORK/members.tgz" --verbose \
    2>"$WORK/members.err" || { tail "$WORK/members.err"; fail "members run"; }
$CHECK verify "$WORK/members.tgz"
$CHECK expect "$WORK/members.tgz" "$WORK/seed.json" --regions "$REGIONS"
n=$(grep -c "credentials renewed: account" "$WORK/members.err" || true)
[ "$n" -ge 1 ] || { grep -v " attempt" "$WORK/members.err" | tail; fail "no member renewal"; }
echo "ok: $n member role renewals, snapshot complete"

# --- the caller renewed (IAM Identity Center, 302 s sessions) ---
start_server STANDIN creds-stand-in.py --access-key "$AK" --secret-key "$SK" \
    --account "$MGMT" --moto-url "$MOTO_URL" \
    --role-arn "arn:aws:iam::$MGMT:role/AuditCaller" --expires-in 302 \
    --sso-token sso-token --log "$WORK/in/standin.log"
cat >"$WORK/in/config" <<CFG
[profile sso]
sso_session = corp
sso_account_id = $MGMT
sso_role_name = AuditCaller
region = us-east-1
[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-central-1
CFG
mkdir -p "$HOME/.aws/sso/cache"
printf '{"accessToken": "sso-token", "expiresAt": "%s"}\n' \
    "$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)" \
    >"$HOME/.aws/sso/cache/$(printf corp | sha1sum | cut -d' ' -f1).json"
(
    unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
    export AWS_CONFIG_FILE=$WORK/in/config AWS_ENDPOINT_URL_SSO=$STANDIN
    "$CTCOLLECT" --profile sso --endpoint-url "$SHORT" --org \
        --role-name CtAuditRole --region "$REGIONS" --concurrency 2 \
        -o "$WORK/caller.tgz" --verbose 2>"$WORK/caller.err"
) || { tail "$WORK/caller.err"; fail "caller run"; }
$CHECK verify "$WORK/caller.tgz"
$CHECK expect "$WORK/caller.tgz" "$WORK/seed.json" --regions "$REGIONS" \
    --caller ":assumed-role/AuditCaller/"
n=$(grep -c "credentials renewed: caller (sso)" "$WORK/caller.err" || true)
[ "$n" -ge 1 ] || fail "no caller renewal"
portal=$(grep -c '"/federation/credentials"' "$WORK/in/standin.log")
[ "$portal" -ge 2 ] || fail "the portal was asked only $portal times"
echo "ok: caller renewed $n times ($portal GetRoleCredentials)"

# --- the caller of a role profile renewed: its AssumeRole runs inside the
# collection's own loop ---
cat >"$WORK/in/chained" <<CFG
[profile chained]
role_arn = arn:aws:iam::$MGMT:role/AuditCaller
source_profile = base
region = us-east-1
[profile base]
aws_access_key_id = $AK
aws_secret_access_key = $SK
CFG
chmod 600 "$WORK/in/chained"
(
    unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
    export AWS_CONFIG_FILE=$WORK/in/chained
    "$CTCOLLECT" --profile chained --endpoint-url "$SHORT" --org \
        --role-name CtAuditRole --region "$REGIONS" --concurrency 2 \
        -o "$WORK/chained.tgz" --verbose 2>"$WORK/chained.err"
) || { tail "$WORK/chained.err"; fail "chained run"; }
$CHECK verify "$WORK/chained.tgz"
$CHECK expect "$WORK/chained.tgz" "$WORK/seed.json" --regions "$REGIONS" \
    --caller ":assumed-role/AuditCaller/"
grep -q "credentials renewed: caller (assume-role)" "$WORK/chained.err" ||
    fail "no renewal of the role profile's credentials"
echo "ok: a role profile's caller renewed in the loop"
stop_servers

# --- the caller's renewal refused (the portal stops taking the token) ---
start_server SHORT sts-expiry-stand-in.py --target "$MOTO_URL" \
    --latency-ms 150
start_server STANDIN creds-stand-in.py --access-key "$AK" --secret-key "$SK" \
    --account "$MGMT" --moto-url "$MOTO_URL" \
    --role-arn "arn:aws:iam::$MGMT:role/AuditCaller" --expires-in 302 \
    --sso-token sso-token --sso-max-uses 1
(
    unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
    export AWS_CONFIG_FILE=$WORK/in/config AWS_ENDPOINT_URL_SSO=$STANDIN
    "$CTCOLLECT" --profile sso --endpoint-url "$SHORT" --org \
        --role-name CtAuditRole --region "$REGIONS" --concurrency 2 \
        -o "$WORK/refused.tgz" 2>"$WORK/refused.err"
) || { tail "$WORK/refused.err"; fail "refused caller run"; }
grep -q "warning: [0-9]* errors recorded" "$WORK/refused.err" || fail "no warning"
python3 - "$WORK/refused.tgz" "$HERE" "$MGMT" <<'PY' || fail "caller renewal error"
import json, sys
sys.path.insert(0, sys.argv[2])
import check_snapshot as c
m = c.load(sys.argv[1])
e = json.loads(m["accounts/%s/errors/RefreshCredentials.json" % sys.argv[3]])
assert e["Code"] == "CredentialsNotRenewed", e
assert "run aws sso login --profile sso" in e["Message"], e
print("ok: the caller's refused renewal recorded, the run went on")
PY
stop_servers

# --- a refused renewal: recorded for the account, the run goes on ---
start_server SHORT sts-expiry-stand-in.py --target "$MOTO_URL" \
    --expires-in 302 --latency-ms 150 --deny-repeat
set +e
"$CTCOLLECT" --endpoint-url "$SHORT" --org --role-name CtAuditRole \
    --region "$REGIONS" --concurrency 2 -o "$WORK/denied.tgz" \
    2>"$WORK/denied.err"
rc=$?
set -e
[ "$rc" = 0 ] || { cat "$WORK/denied.err"; fail "denied run: exit $rc"; }
grep -q "warning: [0-9]* errors recorded" "$WORK/denied.err" || fail "no warning"
$CHECK verify "$WORK/denied.tgz"
python3 - "$WORK/denied.tgz" "$HERE" <<'PY' || fail "renewal errors"
import json, sys
sys.path.insert(0, sys.argv[2])
import check_snapshot as c
m = c.load(sys.argv[1])
errs = [p for p in m if p.endswith("/errors/AssumeRole.json")]
assert errs, sorted(m)
for p in errs:
    e = json.loads(m[p])
    assert e["Operation"] == "AssumeRole" and e["Code"] == "AccessDenied", e
    assert "could not be renewed" in e["Message"], e
    acct = p.split("/")[1]
    # the account was scanned all the same
    assert any(q.startswith("accounts/%s/" % acct) and
               q.endswith("describe-trails.json") for q in m), acct
print("ok: %d refused renewals recorded, accounts still scanned" % len(errs))
PY
stop_servers
secrets_scan
echo "PASS"
