#!/bin/sh
# Golden test: `ctaudit report` on a fixture, Markdown and JSON, compared
# byte for byte with fixtures/golden/<fixture>.{md,json}.
#   golden.sh CTAUDIT SOURCE_DIR FIXTURE
# With UPDATE_GOLDEN=1 the expected files are rewritten instead (review the
# diff before committing it).
set -eu
ctaudit=$1 src=$2 fixture=$3
name=$(printf '%s' "$fixture" | tr / _)
expected="$src/fixtures/golden/$name"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export LC_ALL=C
status=0
for fmt in md json; do
    case $fmt in md) f=markdown ;; *) f=json ;; esac
    "$ctaudit" report "$src/fixtures/$fixture" --format "$f" \
        >"$tmp/out.$fmt" 2>"$tmp/err.$fmt" || {
        echo "FAIL: ctaudit report $fixture --format $f exited $?"
        cat "$tmp/err.$fmt"
        exit 1
    }
    if [ "${UPDATE_GOLDEN:-}" = 1 ]; then
        mkdir -p "$src/fixtures/golden"
        cp "$tmp/out.$fmt" "$expected.$fmt"
        echo "updated $expected.$fmt"
    elif ! cmp -s "$tmp/out.$fmt" "$expected.$fmt"; then
        echo "FAIL: $fixture ($fmt) differs from $expected.$fmt:"
        diff -u "$expected.$fmt" "$tmp/out.$fmt" | head -40 || true
        status=1
    fi
done
if [ "$fmt" = json ] && command -v python3 >/dev/null; then
    python3 -m json.tool "$tmp/out.json" >/dev/null ||
        { echo "FAIL: $fixture: JSON output is not valid JSON"; status=1; }
fi
[ $status = 0 ] && echo "ok: $fixture matches its golden Markdown and JSON"
exit $status
