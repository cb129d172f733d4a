#!/usr/bin/env bash
# Ctrl-C and SIGTERM: runs slowed down by a latency stand-in in front of
# moto are interrupted at several moments. Each one either finished first
# (exit 0, complete snapshot) or wrote a valid snapshot whose manifest says
# "complete": false and lists what was not collected, which ctaudit loads
# and reports as incomplete; or nothing had been collected (no file). A
# second signal aborts: no snapshot, no temporary file.
. "$(dirname "$0")/common.sh"
[ -x "$CTAUDIT" ] || fail "usage: test_interrupt.sh CTCOLLECT CTAUDIT"
start_latency() {
    rm -f "$WORK/lat.port"
    python3 "$LIB/sts-expiry-stand-in.py" --target "$MOTO_URL" \
        --port-file "$WORK/lat.port" --latency-ms "${1:-150}" &
    LAT_PID=$!
    for _ in $(seq 1 100); do [ -s "$WORK/lat.port" ] && break; sleep 0.05; done
    [ -s "$WORK/lat.port" ] || fail "latency stand-in did not start"
    LAT="http://127.0.0.1:$(cat "$WORK/lat.port")"
}
trap 'kill ${LAT_PID:-} 2>/dev/null || true; cleanup' EXIT
export AWS_EC2_METADATA_DISABLED=true
start_latency

# run NAME DELAY SIGNAL [SECOND_DELAY]: a run in its own output folder
run() {
    local name=$1 delay=$2 sig=$3 second=${4:-}
    mkdir -p "$WORK/$name"
    "$CTCOLLECT" --endpoint-url "$LAT" --org --role-name CtAuditRole \
        --region "$REGIONS" --concurrency 2 -o "$WORK/$name/snap.tgz" \
        2>"$WORK/$name.err" &
    local pid=$!
    sleep "$delay"
    kill -"$sig" "$pid" 2>/dev/null || true
    if [ -n "$second" ]; then
        sleep "$second"
        kill -"$sig" "$pid" 2>/dev/null || true
    fi
    set +e
    wait "$pid"
    RC=$?
    set -e
}

incomplete=0
for delay in 0.3 1.2 2.5 4 $(python3 -c 'import random; print(round(random.uniform(0.5, 5), 2))'); do
    name=int-$delay
    run "$name" "$delay" INT
    snap=$WORK/$name/snap.tgz
    extra=$(ls -A "$WORK/$name" | grep -v '^snap.tgz$' || true)
    [ -z "$extra" ] || fail "$name: left behind: $extra"
    if [ "$RC" = 0 ]; then
        $CHECK verify "$snap" >"$WORK/$name.verify" || { cat "$WORK/$name.verify"; fail "$name: verify"; }
        echo "ok: $name: finished before the signal"
        continue
    fi
    [ "$RC" = 1 ] || { cat "$WORK/$name.err"; fail "$name: exit $RC"; }
    if [ ! -e "$snap" ]; then
        grep -q "no snapshot written" "$WORK/$name.err" ||
            { cat "$WORK/$name.err"; fail "$name: no file, no message"; }
        echo "ok: $name: interrupted before anything was collected"
        continue
    fi
    grep -q "interrupted: wrote incomplete snapshot" "$WORK/$name.err" ||
        { cat "$WORK/$name.err"; fail "$name: message"; }
    # check_snapshot.py verify wants complete snapshots: ctaudit load
    # verifies the checksums of this one, below
    python3 - "$snap" "$HERE" <<'PY' || fail "$name: manifest"
import json, sys
sys.path.insert(0, sys.argv[2])
import check_snapshot as c
m = json.loads(c.load(sys.argv[1])["manifest.json"])
assert m["complete"] is False, m
nc = m["not_collected"]
assert nc, m
for e in nc:
    assert set(e) == {"account", "region", "reason"}, e
    assert e["reason"].startswith("interrupted"), e
assert nc == sorted(nc, key=lambda e: (e["account"] or "", e["region"] or "")), nc
print("ok: %d not collected" % len(nc))
PY
    "$CTAUDIT" load "$snap" -o "$WORK/$name.db" 2>"$WORK/$name.load" ||
        { cat "$WORK/$name.load"; fail "$name: ctaudit load"; }
    "$CTAUDIT" report "$WORK/$name.db" --format json >"$WORK/$name.json" ||
        fail "$name: ctaudit report"
    grep -q "did not complete" "$WORK/$name.json" ||
        fail "$name: the report does not say incomplete"
    incomplete=$((incomplete + 1))
    echo "ok: $name: incomplete snapshot ($(grep -o 'not collected' "$WORK/$name.err" | wc -l) line)"
done
[ "$incomplete" -ge 1 ] || fail "no run was interrupted mid-way"

# SIGTERM behaves as Ctrl-C: the same outcomes are possible, depending on
# how far a (possibly loaded) machine got in 2 s
run term 2 TERM
if [ "$RC" = 0 ]; then
    echo "ok: SIGTERM: finished before the signal"
elif [ "$RC" = 1 ] && [ -e "$WORK/term/snap.tgz" ]; then
    "$CTAUDIT" load "$WORK/term/snap.tgz" -o "$WORK/term.db" 2>/dev/null ||
        fail "SIGTERM: ctaudit load"
    echo "ok: SIGTERM: incomplete snapshot"
else
    [ "$RC" = 1 ] && grep -q "no snapshot written" "$WORK/term.err" ||
        { cat "$WORK/term.err"; fail "SIGTERM: exit $RC"; }
    echo "ok: SIGTERM: interrupted before anything was collected"
fi

# a second signal must land while the first one drains the calls in
# flight: slow every call down to 1.5 s, so that the drain outlasts the
# 0.1 s between the signals on any machine
kill "$LAT_PID" 2>/dev/null || true
wait "$LAT_PID" 2>/dev/null || true
start_latency 1500

# a second Ctrl-C aborts: nothing under the final name, no temporary file
for delay in 1 2.5; do
    run "twice-$delay" "$delay" INT 0.1
    [ "$RC" = 1 ] || fail "twice-$delay: exit $RC"
    [ -z "$(ls -A "$WORK/twice-$delay")" ] ||
        fail "twice-$delay: left $(ls -A "$WORK/twice-$delay")"
    grep -q "no snapshot written" "$WORK/twice-$delay.err" ||
        { cat "$WORK/twice-$delay.err"; fail "twice-$delay: message"; }
done
echo "ok: a second signal aborts and leaves nothing"
secrets_scan
echo "PASS"
