#!/usr/bin/env bash
# Secrets never reach an output. ctcollect runs through tests/lib/
# faultproxy.py --record, which writes down every request signature, access
# key id and session token it sees, and the keys, secrets and tokens of the
# AssumeRole answers it forwards: a clean run (directory output), a run with
# injected faults (throttling, 500/503, dropped connections), a run with
# recorded errors (a denied operation, a region down), and an interrupted
# run (incomplete snapshot, loaded and reported by ctaudit), all with
# --verbose. Then every file they produced (stdout/stderr logs, snapshots
# with each archive member, the database, the report) is scanned for those
# values, the test's own keys and the markers of a signed request
# (tests/lib/secrets_scan.py). A self-check plants such values in files
# and archives: the scan must fail and name the file and the pattern.
. "$(dirname "$0")/common.sh"
[ -x "$CTAUDIT" ] || fail "usage: test_secrets.sh CTCOLLECT CTAUDIT"
export AWS_EC2_METADATA_DISABLED=true
mkdir -p "$WORK/in" "$WORK/out"
SECRETS_RECORD=$WORK/in/record.jsonl
config() {
    curl -sf -X POST --data-binary "$1" "$PROXY_URL/__proxy/config" >/dev/null ||
        fail "proxy config $1"
}
run() { # run NAME OUTPUT [ARGS...]: stdout and stderr kept as files
    local name=$1 out=$2
    shift 2
    "$CTCOLLECT" --endpoint-url "$PROXY_URL" --org --role-name CtAuditRole \
        --region "$REGIONS" --verbose -o "$out" "$@" \
        >"$WORK/out/$name.stdout" 2>"$WORK/out/$name.stderr"
}
proxy_start --record "$SECRETS_RECORD"

run clean "$WORK/out/clean/" || fail "clean run"
config '{"seed": 7, "throttle_pct": 30, "error_pct": 5, "drop_pct": 2,
    "latency_max_ms": 100}'
run faults "$WORK/out/faults.tar.zst" || fail "faulty run"
config '{"deny_op": "GetTrailStatus", "fail_region": "eu-central-1"}'
run errors "$WORK/out/errors.tgz" || fail "run with errors"
grep -q "warning: [0-9]* errors recorded" "$WORK/out/errors.stderr" ||
    fail "no errors recorded"
config '{"seed": null, "throttle_pct": 0, "error_pct": 0, "drop_pct": 0,
    "deny_op": "", "fail_region": "", "latency_ms": 400}'
"$CTCOLLECT" --endpoint-url "$PROXY_URL" --org --role-name CtAuditRole \
    --region "$REGIONS" --verbose -o "$WORK/out/interrupted.tar.xz" \
    --concurrency 2 >"$WORK/out/interrupted.stdout" \
    2>"$WORK/out/interrupted.stderr" &
pid=$!
# interrupt once something was collected (a loaded machine is slower)
for _ in $(seq 1 600); do
    grep -q "DescribeTrails -> 200" "$WORK/out/interrupted.stderr" && break
    sleep 0.05
done
kill -INT "$pid"
wait "$pid" && fail "the interrupted run exited 0"
[ -e "$WORK/out/interrupted.tar.xz" ] ||
    { cat "$WORK/out/interrupted.stderr"; fail "no incomplete snapshot"; }
for s in clean/ faults.tar.zst errors.tgz interrupted.tar.xz; do
    db=$WORK/out/$(basename "$s" /).db
    "$CTAUDIT" load "$WORK/out/$s" -o "$db" 2>"$db.stderr" ||
        { cat "$db.stderr"; fail "ctaudit load $s"; }
    "$CTAUDIT" report "$db" --format json >"$db.json" 2>>"$db.stderr"
done
proxy_stop
n=$(python3 -c "
import json; kinds = {}
for l in open('$SECRETS_RECORD'):
    k = json.loads(l)['kind']; kinds[k] = kinds.get(k, 0) + 1
print(', '.join('%d %s' % (v, k) for k, v in sorted(kinds.items())))")
echo "proxy recorded: $n"
for k in signature session_token secret_access_key; do
    grep -q "\"$k\"" "$SECRETS_RECORD" || fail "the proxy recorded no $k"
done
secrets_scan

# self-check: planted secrets are found, named by file (and member) and
# pattern
plant=$(mktemp -d "${TMPDIR:-/tmp}/plant.XXXXXX")
trap 'rm -rf "$plant"; cleanup' EXIT
value() { python3 -c "
import json
for l in open('$SECRETS_RECORD'):
    r = json.loads(l)
    if r['kind'] == '$1' and r['value']: print(r['value']); break"; }
expect_hit() { # expect_hit FILE-OR-DIR PATTERN-IN-OUTPUT
    local out
    if out=$(python3 "$LIB/secrets_scan.py" --record "$SECRETS_RECORD" \
        --literal "$AK" --literal "$SK" "$1"); then
        fail "self-check: the scan missed $2 in $1"
    fi
    echo "$out" | grep -qF "$2" || { echo "$out"; fail "self-check: $2 not named"; }
    echo "ok: self-check: $(echo "$out" | head -n 1)"
}
sig=$(value signature)
printf 'GetTrailStatus -> 200 (attempt 1) %s\n' "$sig" >"$plant/run.log"
expect_hit "$plant/run.log" "$plant/run.log: signature ${sig:0:8}"
rm "$plant/run.log"
mkdir -p "$plant/snap/accounts"
printf '{"Token": "%s"}\n' "$(value session_token)" >"$plant/snap/accounts/x.json"
tar -C "$plant/snap" -czf "$plant/snap.tgz" accounts
rm -rf "$plant/snap"
expect_hit "$plant/snap.tgz" "snap.tgz!accounts/x.json: session_token"
rm "$plant/snap.tgz"
printf 'Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261124/us-east-1/sts/aws4_request\n' >"$plant/h.txt"
expect_hit "$plant/h.txt" "h.txt: AWS4-HMAC-SHA256 Credential="
expect_hit "$plant/h.txt" "h.txt: Authorization:"
rm "$plant/h.txt"
printf 'key %s\n' "$SK" >"$plant/sk.txt"
expect_hit "$plant/sk.txt" "sk.txt: literal"
rm "$plant/sk.txt"
printf 'https://x/?X-Amz-Signature=%s\n' "$sig" >"$plant/url.txt"
expect_hit "$plant/url.txt" "url.txt: X-Amz-Signature"
echo "PASS"
