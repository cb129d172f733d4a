#!/usr/bin/env bash
# SIGKILL at seeded random moments (a latency stand-in in front of moto
# makes a run last a few seconds), and once while the snapshot is being
# written (as soon as the temporary file appears). The final name either
# does not exist or holds a complete snapshot that verifies and equals an
# uninterrupted run; the only thing a killed run may leave is its
# temporary file (.NAME.XXXXXX, README "Output"), which ctaudit refuses
# with one line unless it is whole (killed just before the rename): a
# partial one is never loaded. SIGINT and SIGTERM:
# test_interrupt.sh.
#   CT_KILL_SEED=N   the seed of the moments (printed)
. "$(dirname "$0")/common.sh"
[ -x "$CTAUDIT" ] || fail "usage: test_kill.sh CTCOLLECT CTAUDIT"
export AWS_EC2_METADATA_DISABLED=true
SEED=${CT_KILL_SEED:-$(date +%s)}
echo "kill: seed $SEED (reproduce: CT_KILL_SEED=$SEED)"
rm -f "$WORK/lat.port"
python3 "$LIB/sts-expiry-stand-in.py" --target "$MOTO_URL" \
    --port-file "$WORK/lat.port" --latency-ms 100 2>"$WORK/lat.log" &
LAT_PID=$!
trap 'kill $LAT_PID 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 1 100); do [ -s "$WORK/lat.port" ] && break; sleep 0.05; done
LAT="http://127.0.0.1:$(cat "$WORK/lat.port")"
ARGS=(--endpoint-url "$LAT" --org --role-name CtAuditRole --region "$REGIONS"
    --concurrency 2)

t0=$(date +%s%N)
"$CTCOLLECT" "${ARGS[@]}" -o "$WORK/full.tgz" 2>"$WORK/full.err" ||
    { cat "$WORK/full.err"; fail "uninterrupted run"; }
ms=$((($(date +%s%N) - t0) / 1000000))
echo "an uninterrupted run: $ms ms"

# check NAME: what a killed run left in its own folder
check() {
    local dir=$WORK/$1 f
    for f in $(ls -A "$dir"); do
        case $f in
        snap.tgz)
            $CHECK verify "$dir/snap.tgz" >/dev/null ||
                fail "$1: the final name holds a snapshot that does not verify"
            $CHECK same "$WORK/full.tgz" "$dir/snap.tgz" >/dev/null ||
                fail "$1: the final snapshot differs from a full run"
            echo "ok: $1: complete snapshot under the final name" ;;
        .snap.tgz.??????)
            set +e
            "$CTAUDIT" load "$dir/$f" -o "$WORK/$1.db" 2>"$WORK/$1.load"
            rc=$?
            set -e
            if [ "$rc" = 0 ]; then
                # killed between the last write and the rename: then it
                # must be whole
                $CHECK verify "$dir/$f" >/dev/null ||
                    fail "$1: ctaudit loaded a partial temporary file"
                echo "ok: $1: temporary file left, complete (killed before the rename)"
                continue
            fi
            [ "$rc" = 1 ] && [ "$(wc -l <"$WORK/$1.load")" = 1 ] ||
                { cat "$WORK/$1.load"; fail "$1: ctaudit load of the temporary file: exit $rc"; }
            echo "ok: $1: temporary file left, refused: $(cat "$WORK/$1.load")" ;;
        *) fail "$1: unexpected file $f" ;;
        esac
    done
    [ -n "$(ls -A "$dir")" ] || echo "ok: $1: nothing left"
}

# five seeded moments between 0 and 1.2 x a run
for d in $(python3 -c "
import random; r = random.Random($SEED)
print(' '.join('%.3f' % (r.uniform(0, 1.2) * $ms / 1000) for _ in range(5)))"); do
    mkdir -p "$WORK/k-$d"
    "$CTCOLLECT" "${ARGS[@]}" -o "$WORK/k-$d/snap.tgz" 2>"$WORK/k-$d.err" &
    pid=$!
    sleep "$d"
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    echo "SIGKILL after $d s:"
    check "k-$d"
done

# while writing: as soon as the temporary file exists
mkdir -p "$WORK/w"
"$CTCOLLECT" "${ARGS[@]}" -o "$WORK/w/snap.tgz" 2>"$WORK/w.err" &
pid=$!
seen=
while kill -0 "$pid" 2>/dev/null; do
    if compgen -G "$WORK/w/.snap.tgz.*" >/dev/null; then seen=1; break; fi
done
kill -KILL "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
if [ -n "$seen" ]; then
    echo "SIGKILL while writing (the temporary file existed):"
else
    echo "SIGKILL while writing: missed (the run ended first)"
fi
check w
secrets_scan
echo "PASS"
