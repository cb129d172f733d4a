#!/bin/sh
# Golden test: `ctaudit plan` on a fixture in the three formats, compared
# byte for byte with fixtures/golden/plan-<fixture>.{md,json,sh}.
#   plan_golden.sh CTAUDIT SOURCE_DIR FIXTURE
# With UPDATE_GOLDEN=1 the expected files are rewritten instead (review the
# diff before committing it).
set -eu
ctaudit=$1 src=$2 fixture=$3
name=$(printf '%s' "$fixture" | tr / _)
expected="$src/fixtures/golden/plan-$name"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export LC_ALL=C
status=0
for fmt in md json sh; do
    case $fmt in md) f=markdown ;; *) f=$fmt ;; esac
    "$ctaudit" plan "$src/fixtures/$fixture" --format "$f" \
        >"$tmp/out.$fmt" 2>"$tmp/err.$fmt" || {
        echo "FAIL: ctaudit plan $fixture --format $f exited $?"
        cat "$tmp/err.$fmt"
        exit 1
    }
    if [ "${UPDATE_GOLDEN:-}" = 1 ]; then
        cp "$tmp/out.$fmt" "$expected.$fmt"
        echo "updated $expected.$fmt"
    elif ! cmp -s "$tmp/out.$fmt" "$expected.$fmt"; then
        echo "FAIL: $fixture ($fmt) differs from $expected.$fmt:"
        diff -u "$expected.$fmt" "$tmp/out.$fmt" | head -40 || true
        status=1
    fi
done
# -o writes the same bytes, atomically (no temporary file left behind)
"$ctaudit" plan "$src/fixtures/$fixture" --format json -o "$tmp/o.json" \
    >/dev/null 2>&1 || { echo "FAIL: plan -o"; exit 1; }
cmp -s "$tmp/o.json" "$tmp/out.json" || { echo "FAIL: -o differs"; status=1; }
[ -z "$(ls "$tmp" | grep '\.tmp\.')" ] || { echo "FAIL: temporary left"; status=1; }
[ $status = 0 ] && echo "ok: plan $fixture matches its golden Markdown, JSON and sh"
exit $status
