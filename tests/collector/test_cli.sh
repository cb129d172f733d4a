#!/usr/bin/env bash
# ctcollect's command line: --help, usage errors (exit 2), operational
# errors (exit 1) that leave no file behind. Needs no moto.
set -euo pipefail
export LC_ALL=C
CTCOLLECT=$1
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ctcollect-cli.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
expect_rc() {
    local want=$1; shift
    set +e
    "$CTCOLLECT" "$@" >"$WORK/out" 2>"$WORK/err"
    local rc=$?
    set -e
    [ "$rc" = "$want" ] || { cat "$WORK/err"; fail "'$*': exit $rc, want $want"; }
}

expect_rc 0 --help
grep -q "^usage: ctcollect" "$WORK/out" || fail "--help text"
grep -q "Exit status" "$WORK/out" || fail "--help lacks exit codes"
expect_rc 2 --bogus
expect_rc 2 --region "eu-west-1,,us-east-1"
expect_rc 2 --region "not a region"
expect_rc 2 --concurrency 0
expect_rc 2 --concurrency 12x
expect_rc 2 --accounts 123
expect_rc 2 --accounts 123456789012
grep -q "need --org" "$WORK/err" || fail "--accounts without --org message"
expect_rc 2 -o "$WORK/snap.zip"
expect_rc 2 --endpoint-url "ftp://x"
expect_rc 2 extra-argument
grep -q "^ctcollect: unexpected argument 'extra-argument'" "$WORK/err" \
    || fail "usage message format"

# no credentials anywhere: exit 1, no file
export HOME=$WORK AWS_CONFIG_FILE=$WORK/none AWS_SHARED_CREDENTIALS_FILE=$WORK/none
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE
expect_rc 1 --endpoint-url http://127.0.0.1:9 --region us-east-1 \
    -o "$WORK/a.tgz"
grep -q "^ctcollect: collection failed" "$WORK/err" || fail "message"
[ ! -e "$WORK/a.tgz" ] || fail "file left"

# unreachable endpoint: retried, then exit 1, no file
export AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY
expect_rc 1 --endpoint-url http://127.0.0.1:9 --region us-east-1 \
    -o "$WORK/b.tgz"
grep -q "RequestError" "$WORK/err" || fail "transport error message"
grep -qF "wJalrXUtnFEMI" "$WORK/err" && fail "secret in stderr"
[ -z "$(ls -A "$WORK" | grep tgz || true)" ] || fail "file left"
# the policies in README.md are the ones the moto tests enforce
HERE=$(cd "$(dirname "$0")" && pwd)
python3 - "$HERE/../../README.md" "$HERE/policies" <<'PY' || fail "README policies"
import json, re, sys
text = open(sys.argv[1]).read()
iam = text[text.index("## IAM policies"):]
blocks = [json.loads(b) for b in re.findall(r"```json\n(.*?)```", iam, re.S)]
want = [json.load(open(sys.argv[2] + "/" + f))
        for f in ("caller.json", "member-role.json")]
assert blocks[:2] == want, "README.md policies differ from tests/collector/policies"
print("ok: README policies match the tested ones")
PY
echo "PASS"
