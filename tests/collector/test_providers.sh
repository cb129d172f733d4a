#!/usr/bin/env bash
# The network credential providers end to end: ctcollect --whoami and full
# organization scans with credentials from a loopback stand-in for the EC2
# instance metadata service, the container endpoint and the IAM Identity
# Center portal and OIDC (tests/lib/creds-stand-in.py), and from moto's
# sts:AssumeRoleWithWebIdentity. Every run is checked for leaked secrets.
. "$(dirname "$0")/common.sh"
mkdir -p "$WORK/in"

# the stand-in hands out the moto auditor's keys
standin_start() {
    rm -f "$WORK/standin.port"
    python3 "$LIB/creds-stand-in.py" --port-file "$WORK/standin.port" \
        --access-key "$AK" --secret-key "$SK" --account "$MGMT" \
        --moto-url "$MOTO_URL" --role-arn "arn:aws:iam::$MGMT:role/AuditCaller" \
        --log "$WORK/in/standin.log" "$@" &
    STANDIN_PID=$!
    for _ in $(seq 1 100); do
        [ -s "$WORK/standin.port" ] && break
        sleep 0.05
    done
    [ -s "$WORK/standin.port" ] || fail "stand-in did not start"
    STANDIN="http://127.0.0.1:$(cat "$WORK/standin.port")"
}
standin_stop() {
    if [ -n "${STANDIN_PID:-}" ]; then
        kill "$STANDIN_PID" 2>/dev/null || true
        wait "$STANDIN_PID" 2>/dev/null || true
        STANDIN_PID=
    fi
}
trap 'standin_stop; cleanup' EXIT

# nothing but what each case sets
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
export AWS_EC2_METADATA_DISABLED=true

# whoami NAME PROVIDER [ctcollect args...]: stdout names PROVIDER and MGMT
whoami() {
    local name=$1 provider=$2
    shift 2
    "$CTCOLLECT" --whoami --endpoint-url "$MOTO_URL" "$@" \
        >"$WORK/$name.out" 2>"$WORK/$name.err" ||
        { cat "$WORK/$name.err"; fail "$name: --whoami failed"; }
    grep -qx "provider: $provider" "$WORK/$name.out" ||
        { cat "$WORK/$name.out"; fail "$name: provider is not $provider"; }
    grep -qx "account: $MGMT" "$WORK/$name.out" || fail "$name: account"
    if grep -qF -e "$AK" -e "$SK" -e imds-token -e sso-access -e sso-cached \
        "$WORK/$name.out" "$WORK/$name.err"; then
        fail "$name: a secret in the output"
    fi
    echo "ok: $name: $(grep ^arn: "$WORK/$name.out")"
}

standin_start --container-token "pod-identity-token" \
    --sso-token "sso-cached-token" --refresh-token "sso-cached-refresh"

# --- EC2 instance metadata (IMDSv2) ---
export AWS_EC2_METADATA_SERVICE_ENDPOINT=$STANDIN
unset AWS_EC2_METADATA_DISABLED
whoami imds ec2-instance-metadata
grep -q "expires: " "$WORK/imds.out" || fail "imds: no expiry shown"
python3 - "$WORK/in/standin.log" <<'PY' || fail "imds: request sequence"
import json, sys
log = [json.loads(l) for l in open(sys.argv[1])]
assert [(r["method"], r["path"]) for r in log[:3]] == [
    ("PUT", "/latest/api/token"),
    ("GET", "/latest/meta-data/iam/security-credentials/"),
    ("GET", "/latest/meta-data/iam/security-credentials/ctcollect-instance-role")], log
assert "x-aws-ec2-metadata-token-ttl-seconds" in log[0]["headers"]
assert "x-aws-ec2-metadata-token" in log[1]["headers"]
PY
export AWS_EC2_METADATA_DISABLED=true
start=$(date +%s)
set +e
"$CTCOLLECT" --whoami --endpoint-url "$MOTO_URL" >"$WORK/none.out" 2>"$WORK/none.err"
rc=$?
set -e
[ "$rc" = 1 ] || fail "no provider: exit $rc"
grep -q "EC2 instance metadata (AWS_EC2_METADATA_DISABLED)" "$WORK/none.err" ||
    { cat "$WORK/none.err"; fail "disabled IMDS not reported"; }
# a metadata endpoint that does not answer costs the SDKs' short timeouts
unset AWS_EC2_METADATA_DISABLED
export AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:9
start=$(date +%s)
"$CTCOLLECT" --whoami --endpoint-url "$MOTO_URL" >/dev/null 2>"$WORK/none.err" &&
    fail "no provider should fail"
[ $(( $(date +%s) - start )) -le 5 ] || fail "IMDS probe too slow"
grep -q "EC2 instance metadata (no answer)" "$WORK/none.err" || fail "probe msg"
export AWS_EC2_METADATA_DISABLED=true
unset AWS_EC2_METADATA_SERVICE_ENDPOINT

# --- container credentials ---
export AWS_CONTAINER_CREDENTIALS_FULL_URI=$STANDIN/v2/credentials/task-1
echo "pod-identity-token" >"$WORK/in/pod-token"
export AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=$WORK/in/pod-token
whoami container container
export AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=$WORK/in/absent
"$CTCOLLECT" --whoami --endpoint-url "$MOTO_URL" >/dev/null 2>"$WORK/c.err" &&
    fail "container: missing token file accepted"
unset AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE
export AWS_CONTAINER_AUTHORIZATION_TOKEN=wrong
"$CTCOLLECT" --whoami --endpoint-url "$MOTO_URL" >/dev/null 2>"$WORK/c.err" &&
    fail "container: wrong token accepted"
grep -q "answered HTTP 401" "$WORK/c.err" || { cat "$WORK/c.err"; fail "401 msg"; }
export AWS_CONTAINER_CREDENTIALS_FULL_URI=http://169.254.169.254.example.com/x
"$CTCOLLECT" --whoami --endpoint-url "$MOTO_URL" >/dev/null 2>"$WORK/c.err" &&
    fail "container: foreign host accepted"
grep -q "is not allowed" "$WORK/c.err" || fail "host refusal message"
unset AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_CONTAINER_AUTHORIZATION_TOKEN

# --- IAM Identity Center ---
export AWS_ENDPOINT_URL_SSO=$STANDIN AWS_ENDPOINT_URL_SSO_OIDC=$STANDIN
cat >"$WORK/in/config" <<CFG
[profile sso]
sso_session = corp
sso_account_id = $MGMT
sso_role_name = AuditCaller
region = us-east-1

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-central-1

[profile legacy]
sso_start_url = https://legacy.awsapps.com/start
sso_region = eu-central-1
sso_account_id = $MGMT
sso_role_name = AuditCaller

[profile envrole]
role_arn = arn:aws:iam::$MGMT:role/AuditCaller
credential_source = Environment
region = us-east-1
CFG
chmod 600 "$WORK/in/config"
export AWS_CONFIG_FILE=$WORK/in/config
cache=$HOME/.aws/sso/cache
mkdir -p "$cache"
sha1() { printf '%s' "$1" | sha1sum | cut -d' ' -f1; }
later=$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)
past=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)
"$CTCOLLECT" --whoami --profile sso --endpoint-url "$MOTO_URL" >/dev/null \
    2>"$WORK/sso.err" && fail "sso: no cached token accepted"
grep -qx "ctcollect: whoami failed: IAM Identity Center token of profile 'sso' is not cached; run aws sso login --profile sso" \
    "$WORK/sso.err" || { cat "$WORK/sso.err"; fail "sso: login hint"; }
cat >"$cache/$(sha1 corp).json" <<JSON
{"startUrl": "https://corp.awsapps.com/start", "region": "eu-central-1",
 "accessToken": "sso-cached-token", "expiresAt": "$later"}
JSON
cat >"$cache/$(sha1 https://legacy.awsapps.com/start).json" <<JSON
{"startUrl": "https://legacy.awsapps.com/start", "region": "eu-central-1",
 "accessToken": "sso-cached-token", "expiresAt": "$later"}
JSON
whoami sso sso --profile sso
grep -qx "profile: sso" "$WORK/sso.out" || fail "sso: profile line"
whoami legacy sso --profile legacy
# expired, with a refresh token: refreshed through OIDC and written back
cat >"$cache/$(sha1 corp).json" <<JSON
{"startUrl": "https://corp.awsapps.com/start", "region": "eu-central-1",
 "accessToken": "sso-expired-token", "expiresAt": "$past",
 "clientId": "standin-client", "clientSecret": "standin-secret",
 "registrationExpiresAt": "$later", "refreshToken": "sso-cached-refresh"}
JSON
chmod 600 "$cache"/*.json
whoami refresh sso --profile sso
python3 - "$cache/$(sha1 corp).json" <<'PY' || fail "sso: cache not refreshed"
import json, sys
c = json.load(open(sys.argv[1]))
assert c["accessToken"].startswith("sso-access-"), c
assert c["refreshToken"].startswith("sso-refresh-"), c
assert c["clientId"] == "standin-client"
PY
# the refresh token was used once: an expired cache without one fails
python3 - "$cache/$(sha1 corp).json" "$past" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); c["expiresAt"] = sys.argv[2]
c["refreshToken"] = "revoked"; json.dump(c, open(sys.argv[1], "w"))
PY
"$CTCOLLECT" --whoami --profile sso --endpoint-url "$MOTO_URL" >/dev/null \
    2>"$WORK/sso.err" && fail "sso: expired token accepted"
grep -q "run aws sso login --profile sso$" "$WORK/sso.err" ||
    { cat "$WORK/sso.err"; fail "sso: expired hint"; }

# a whole organization scan from an SSO login (the laptop case)
cat >"$cache/$(sha1 corp).json" <<JSON
{"accessToken": "sso-cached-token", "expiresAt": "$later"}
JSON
"$CTCOLLECT" --profile sso --endpoint-url "$MOTO_URL" --org \
    --role-name CtAuditRole --region "$REGIONS" -o "$WORK/sso.tgz" \
    2>"$WORK/sso-scan.err" || { cat "$WORK/sso-scan.err"; fail "sso scan"; }
$CHECK verify "$WORK/sso.tgz"
$CHECK expect "$WORK/sso.tgz" "$WORK/seed.json" --regions "$REGIONS" \
    --caller ":assumed-role/AuditCaller/"

# --- credential_source = Environment: the environment's keys assume the
# role (Ec2InstanceMetadata and EcsContainer: tests/unit/test_creds_remote)
export AWS_ACCESS_KEY_ID=$AK AWS_SECRET_ACCESS_KEY=$SK
whoami envrole assume-role --profile envrole
grep -q "assumed-role/AuditCaller/" "$WORK/envrole.out" || fail "envrole arn"
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY

# --- web identity (EKS IRSA, CI): moto's AssumeRoleWithWebIdentity ---
# moto cannot authenticate an unsigned call: the next request (the
# AssumeRoleWithWebIdentity) runs before authentication turns on again
moto_allow_one_unsigned() {
    curl -sf -X POST -H 'Content-Type: application/json' --data-binary 1 \
        "$MOTO_URL/moto-api/reset-auth" >/dev/null
}
printf 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjaSJ9.sig\n' >"$WORK/in/web-token"
export AWS_WEB_IDENTITY_TOKEN_FILE=$WORK/in/web-token
export AWS_ROLE_ARN=arn:aws:iam::$MGMT:role/AuditCaller
export AWS_ROLE_SESSION_NAME=ci-build-7
moto_allow_one_unsigned
whoami webid web-identity
grep -qx "arn: arn:aws:sts::$MGMT:assumed-role/AuditCaller/ci-build-7" \
    "$WORK/webid.out" || { cat "$WORK/webid.out"; fail "webid arn"; }
moto_allow_one_unsigned
"$CTCOLLECT" --endpoint-url "$MOTO_URL" --org --role-name CtAuditRole \
    --region "$REGIONS" -o "$WORK/webid.tgz" 2>"$WORK/webid-scan.err" ||
    { cat "$WORK/webid-scan.err"; fail "web identity scan"; }
$CHECK verify "$WORK/webid.tgz"
$CHECK expect "$WORK/webid.tgz" "$WORK/seed.json" --regions "$REGIONS" \
    --caller ":assumed-role/AuditCaller/"
unset AWS_WEB_IDENTITY_TOKEN_FILE AWS_ROLE_ARN AWS_ROLE_SESSION_NAME
grep -rqF "eyJzdWIiOiJjaSJ9" "$WORK"/*.err "$WORK"/*.out && fail "web token leaked"

# --whoami takes no collection options
set +e
"$CTCOLLECT" --whoami --org >/dev/null 2>"$WORK/u.err"; rc=$?
set -e
[ "$rc" = 2 ] || fail "--whoami --org: exit $rc, want 2"

standin_stop
secrets_scan
echo "PASS"
