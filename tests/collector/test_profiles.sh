#!/usr/bin/env bash
# Credentials from profiles: credential_process, and role_arn with
# source_profile (the AssumeRole goes through ctcollect's own engine), each
# running the whole organization scan under moto's policy checks.
. "$(dirname "$0")/common.sh"
mkdir -p "$WORK/in"
cat >"$WORK/in/cp.sh" <<CP
#!/bin/sh
printf '{"Version": 1, "AccessKeyId": "%s", "SecretAccessKey": "%s"}\n' \
    "$AK" "$SK"
CP
chmod 700 "$WORK/in/cp.sh"
cat >"$WORK/in/config" <<CFG
[profile cp]
credential_process = $WORK/in/cp.sh
region = us-east-1

[profile chained]
role_arn = arn:aws:iam::$MGMT:role/AuditCaller
source_profile = base
region = us-east-1
CFG
cat >"$WORK/in/credentials" <<CRED
[base]
aws_access_key_id = $AK
aws_secret_access_key = $SK
CRED
chmod 600 "$WORK/in/config" "$WORK/in/credentials"
export AWS_CONFIG_FILE=$WORK/in/config AWS_SHARED_CREDENTIALS_FILE=$WORK/in/credentials
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION

for p in cp chained; do
    "$CTCOLLECT" --profile "$p" --endpoint-url "$MOTO_URL" --org \
        --role-name CtAuditRole --region "$REGIONS" -o "$WORK/$p.tgz" \
        --verbose 2>"$WORK/$p.err" || { cat "$WORK/$p.err"; fail "$p run"; }
    $CHECK verify "$WORK/$p.tgz"
done
$CHECK expect "$WORK/cp.tgz" "$WORK/seed.json" --regions "$REGIONS"
$CHECK expect "$WORK/chained.tgz" "$WORK/seed.json" --regions "$REGIONS" \
    --caller ":assumed-role/AuditCaller/"
$CHECK same "$WORK/cp.tgz" "$WORK/chained.tgz" >/dev/null 2>&1 \
    && fail "the chained run should differ in its caller identity"
secrets_scan
echo "PASS"
