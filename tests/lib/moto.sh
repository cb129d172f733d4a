# Sourced by integration tests: start and stop moto_server on a free
# loopback port. Tests that need moto call `moto_require` first: without
# moto it prints a visible SKIP line and exits 77 (ctest SKIP_RETURN_CODE).
#
#   moto_require            # skip unless moto_server is installed
#   moto_start [ENV=VAL...] # sets MOTO_PORT, MOTO_URL, MOTO_PID; trap-stopped
#   moto_stop

moto_require() {
    if ! command -v moto_server >/dev/null 2>&1; then
        echo "SKIP: moto_server not installed (python3 -m pip install 'moto[server]==5.2.*')"
        exit 77
    fi
}

moto_free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

moto_start() {
    MOTO_PORT=$(moto_free_port)
    MOTO_URL="http://127.0.0.1:$MOTO_PORT"
    MOTO_LOG=$(mktemp "${TMPDIR:-/tmp}/moto.XXXXXX.log")
    env "$@" moto_server -H 127.0.0.1 -p "$MOTO_PORT" >"$MOTO_LOG" 2>&1 &
    MOTO_PID=$!
    trap moto_stop EXIT
    for _ in $(seq 1 200); do
        if curl -s -o /dev/null "$MOTO_URL/moto-api/"; then
            export MOTO_PORT MOTO_URL MOTO_PID
            return 0
        fi
        if ! kill -0 "$MOTO_PID" 2>/dev/null; then
            echo "moto_server exited early:" >&2; cat "$MOTO_LOG" >&2
            return 1
        fi
        sleep 0.1
    done
    echo "moto_server did not start on $MOTO_URL" >&2
    return 1
}

moto_stop() {
    if [ -n "${MOTO_PID:-}" ]; then
        kill "$MOTO_PID" 2>/dev/null
        wait "$MOTO_PID" 2>/dev/null
        MOTO_PID=
    fi
    [ -n "${MOTO_LOG:-}" ] && rm -f "$MOTO_LOG"
}

# Turns on moto's request authentication and IAM policy evaluation from the
# next request on (INITIAL_NO_AUTH_ACTION_COUNT=0): seed first, then call.
moto_enable_auth() {
    curl -sf -X POST -H 'Content-Type: application/json' --data-binary 0 \
        "$MOTO_URL/moto-api/reset-auth" >/dev/null
}

# Starts tests/lib/faultproxy.py in front of moto: proxy_start [options...]
# Sets PROXY_URL and PROXY_PID; proxy_stop (also run by moto_stop_all).
proxy_start() {
    local dir
    dir=$(mktemp -d "${TMPDIR:-/tmp}/proxy.XXXXXX")
    python3 "$(dirname "${BASH_SOURCE[0]}")/faultproxy.py" \
        --target "$MOTO_URL" --port-file "$dir/port" "$@" &
    PROXY_PID=$!
    for _ in $(seq 1 100); do
        if [ -s "$dir/port" ]; then
            PROXY_URL="http://127.0.0.1:$(cat "$dir/port")"
            rm -rf "$dir"
            export PROXY_URL PROXY_PID
            return 0
        fi
        sleep 0.05
    done
    echo "fault proxy did not start" >&2
    return 1
}

proxy_stop() {
    if [ -n "${PROXY_PID:-}" ]; then
        kill "$PROXY_PID" 2>/dev/null
        wait "$PROXY_PID" 2>/dev/null || true
        PROXY_PID=
    fi
}
