#!/usr/bin/env bash
# --resume: runs interrupted at several moments (latency stand-in in front
# of moto) are continued; each result is complete, verifies, and holds the
# same members as an uninterrupted run. A complete snapshot, or options
# given with --resume, are refused.
. "$(dirname "$0")/common.sh"
rm -f "$WORK/lat.port"
python3 "$LIB/sts-expiry-stand-in.py" --target "$MOTO_URL" \
    --port-file "$WORK/lat.port" --latency-ms 150 &
LAT_PID=$!
trap 'kill $LAT_PID 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 1 100); do [ -s "$WORK/lat.port" ] && break; sleep 0.05; done
LAT="http://127.0.0.1:$(cat "$WORK/lat.port")"
export AWS_EC2_METADATA_DISABLED=true
ARGS=(--org --role-name CtAuditRole --region "$REGIONS" --concurrency 2)

"$CTCOLLECT" --endpoint-url "$MOTO_URL" "${ARGS[@]}" -o "$WORK/full.tgz" \
    2>"$WORK/full.err" || { cat "$WORK/full.err"; fail "full run"; }
$CHECK verify "$WORK/full.tgz" >/dev/null

resumed=0
for delay in 2 3.5 5; do
    name=r-$delay
    "$CTCOLLECT" --endpoint-url "$LAT" "${ARGS[@]}" -o "$WORK/$name.tgz" \
        2>"$WORK/$name.err" &
    pid=$!
    sleep "$delay"
    kill -INT "$pid" 2>/dev/null || true
    set +e
    wait "$pid"
    rc=$?
    set -e
    if [ "$rc" = 0 ] || [ ! -e "$WORK/$name.tgz" ]; then
        echo "ok: $name: finished first or collected nothing (exit $rc)"
        continue
    fi
    # the options come from the snapshot
    set +e
    "$CTCOLLECT" --resume "$WORK/$name.tgz" --org -o "$WORK/x.tgz" 2>/dev/null
    [ $? = 2 ] || fail "--resume with --org accepted"
    set -e
    "$CTCOLLECT" --endpoint-url "$MOTO_URL" --resume "$WORK/$name.tgz" \
        -o "$WORK/$name-resumed.tgz" --verbose 2>"$WORK/$name-resumed.err" ||
        { cat "$WORK/$name-resumed.err"; fail "$name: resume"; }
    $CHECK verify "$WORK/$name-resumed.tgz"
    $CHECK expect "$WORK/$name-resumed.tgz" "$WORK/seed.json" --regions "$REGIONS"
    $CHECK same "$WORK/full.tgz" "$WORK/$name-resumed.tgz" ||
        fail "$name: the resumed snapshot differs from a full run"
    # only what was missing was collected again
    calls=$(grep -o "[0-9]* calls" "$WORK/$name-resumed.err" | cut -d" " -f1)
    full=$(grep -o "[0-9]* calls" "$WORK/full.err" | cut -d' ' -f1)
    [ "$calls" -lt "$full" ] || fail "$name: resumed with $calls calls, a full run makes $full"
    resumed=$((resumed + 1))
    echo "ok: $name: resumed with $calls calls (a full run: $full)"
done
[ "$resumed" -ge 1 ] || fail "no run could be resumed"

set +e
"$CTCOLLECT" --endpoint-url "$MOTO_URL" --resume "$WORK/full.tgz" \
    -o "$WORK/y.tgz" 2>"$WORK/y.err"
rc=$?
set -e
[ "$rc" = 1 ] || fail "resuming a complete snapshot: exit $rc"
grep -q "nothing to resume" "$WORK/y.err" || fail "complete snapshot message"
[ ! -e "$WORK/y.tgz" ] || fail "file written"
secrets_scan
echo "PASS"
