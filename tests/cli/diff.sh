#!/bin/sh
# ctaudit diff tests.
#   diff.sh CTAUDIT SOURCE_DIR golden CASE
#       fixtures/diff/CASE: BEFORE packed as a real .tar.gz, AFTER the
#       directory; Markdown and JSON compared byte for byte with
#       fixtures/golden/diff-CASE.{md,json}; the JSON parsed by python3.
#       UPDATE_GOLDEN=1 rewrites the expected files (review the diff).
#   diff.sh CTAUDIT SOURCE_DIR CHECK
#       database-input, same-twice, bad-inputs, atomic-output, fail-on
set -u
ctaudit=$1 src=$2 mode=$3
export LC_ALL=C
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fx="$src/fixtures/diff"

fail() { echo "FAIL [$mode]: $*"; [ -f "$tmp/err" ] && { echo "--- stderr:"; cat "$tmp/err"; }; exit 1; }

# pack CASE SIDE: fixtures/diff/CASE/SIDE as $tmp/SIDE.tgz (a real tarball)
pack() { tar czf "$tmp/$2.tgz" -C "$fx/$1" "$2" || fail "cannot pack $1/$2"; }

json_ok() {
    python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$1" ||
        fail "$1 is not valid JSON"
}

# expect STATUS REGEX CMD...: exit status and exactly one error line on
# stderr matching REGEX
expect() {
    want=$1 re=$2
    shift 2
    "$@" >"$tmp/out" 2>"$tmp/err"
    got=$?
    [ "$got" = "$want" ] || fail "$*: exit $got, expected $want"
    if [ -n "$re" ]; then
        n=$(grep -c "^ctaudit: " "$tmp/err")
        [ "$n" = 1 ] || fail "$*: expected one error line, got $n"
        grep -Eq -- "$re" "$tmp/err" || fail "$*: stderr does not match /$re/"
    fi
}

case $mode in
golden)
    case=$4
    pack "$case" before
    expected="$src/fixtures/golden/diff-$case"
    status=0
    for fmt in md json; do
        case $fmt in md) f=markdown ;; *) f=json ;; esac
        "$ctaudit" diff "$tmp/before.tgz" "$fx/$case/after" --format "$f" \
            >"$tmp/out.$fmt" 2>"$tmp/err" || fail "diff $case --format $f exited $?"
        if [ "${UPDATE_GOLDEN:-}" = 1 ]; then
            cp "$tmp/out.$fmt" "$expected.$fmt"
            echo "updated $expected.$fmt"
        elif ! cmp -s "$tmp/out.$fmt" "$expected.$fmt"; then
            echo "FAIL: diff $case ($fmt) differs from $expected.$fmt:"
            diff -u "$expected.$fmt" "$tmp/out.$fmt" | head -40
            status=1
        fi
    done
    json_ok "$tmp/out.json"
    [ $status = 0 ] && echo "ok: diff $case matches its golden Markdown and JSON"
    exit $status ;;
database-input)
    # BEFORE from a database (two snapshots in it: --before-id picks one),
    # AFTER a snapshot: the same diff as from the snapshot, but the header
    c=legacy-deleted
    pack $c before
    "$ctaudit" load -q "$fx/$c/after" "$tmp/before.tgz" -o "$tmp/two.db" 2>"$tmp/err" ||
        fail "load"
    expect 0 "" "$ctaudit" diff "$tmp/two.db" "$fx/$c/after" --before-id 2
    sed -n '/^## Summary/,$p' "$tmp/out" >"$tmp/got.md"
    sed -n '/^## Summary/,$p' "$src/fixtures/golden/diff-$c.md" >"$tmp/want.md"
    cmp -s "$tmp/got.md" "$tmp/want.md" || { diff -u "$tmp/want.md" "$tmp/got.md" | head -30; fail "database BEFORE differs from the snapshot's diff"; }
    grep -q '^Before: `before.tgz` (snapshot 2 of database `two.db`)' "$tmp/out" ||
        fail "the header does not name the database snapshot"
    # both sides from the same database; the newest is the default
    expect 0 "" "$ctaudit" diff "$tmp/two.db" "$tmp/two.db" --before-id 2 --after-id 1 --format json
    json_ok "$tmp/out"
    python3 - "$tmp/out" "$src/fixtures/golden/diff-$c.json" <<'PY' || fail "database-to-database JSON differs"
import json, sys
got, want = (json.load(open(p)) for p in sys.argv[1:3])
for k in ("before", "after"):
    got.pop(k); want.pop(k)
assert got == want, "differs"
PY
    expect 0 "" "$ctaudit" diff "$tmp/two.db" "$tmp/before.tgz"
    grep -q '^Findings: 0 resolved, 0 introduced' "$tmp/out" || fail "newest (2) vs the same snapshot should not differ"
    echo "ok [$mode]: a database input gives the snapshot's diff" ;;
same-twice)
    for c in member-stopped account-skipped; do
        pack $c before
        expect 0 "" "$ctaudit" diff "$tmp/before.tgz" "$fx/$c/before"
        grep -q '^Findings: 0 resolved, 0 introduced, [0-9]* still open, 0 not comparable' "$tmp/out" ||
            fail "$c: a snapshot against itself changed"
        grep -q '^No account changed\.' "$tmp/out" || fail "$c: accounts listed as changed"
        grep -q '^Trails: 0 added, 0 removed, 0 changed' "$tmp/out" || fail "$c: trails changed"
    done
    echo "ok [$mode]: the same snapshot twice shows no change" ;;
bad-inputs)
    c=legacy-deleted
    expect 1 "^ctaudit: diff: cannot open '$tmp/missing.tgz': No such file or directory$" \
        "$ctaudit" diff "$tmp/missing.tgz" "$fx/$c/after"
    "$ctaudit" load -q "$fx/$c/before" -o "$tmp/one.db" 2>"$tmp/err" || fail "load"
    expect 1 "^ctaudit: diff: no snapshot 7 in '$tmp/one.db'$" \
        "$ctaudit" diff "$tmp/one.db" "$fx/$c/after" --before-id 7
    expect 1 "^ctaudit: diff: no snapshot 3 in '$tmp/one.db'$" \
        "$ctaudit" diff "$fx/$c/before" "$tmp/one.db" --after-id 3
    python3 -c 'import sqlite3, sys; db = sqlite3.connect(sys.argv[1]); db.execute("DELETE FROM snapshots"); db.commit()' "$tmp/one.db"
    expect 1 "^ctaudit: diff: '$tmp/one.db' holds no snapshot$" \
        "$ctaudit" diff "$tmp/one.db" "$fx/$c/after"
    expect 2 "^ctaudit: diff: --before-id needs a database, '$fx/$c/before' is a snapshot$" \
        "$ctaudit" diff "$fx/$c/before" "$fx/$c/after" --before-id 1
    expect 2 "^ctaudit: diff: expected BEFORE and AFTER, got 1 argument\(s\)$" \
        "$ctaudit" diff "$fx/$c/before"
    expect 2 "^ctaudit: diff: unknown format 'csv' \(markdown, json\)$" \
        "$ctaudit" diff "$fx/$c/before" "$fx/$c/after" --format csv
    expect 2 "^ctaudit: diff: --after-id takes a positive number$" \
        "$ctaudit" diff "$fx/$c/before" "$fx/$c/after" --after-id x
    expect 1 "^ctaudit: diff: cannot load '$src/fixtures/bad/not-json': " \
        "$ctaudit" diff "$src/fixtures/bad/not-json" "$fx/$c/after"
    echo "ok [$mode]: bad inputs fail with one line and the documented status" ;;
atomic-output)
    c=duplicate-introduced
    expect 0 "" "$ctaudit" diff "$fx/$c/before" "$fx/$c/after" --format json -o "$tmp/d.json"
    cmp -s "$tmp/out" "$tmp/d.json" || fail "-o FILE differs from stdout"
    json_ok "$tmp/d.json"
    # a failed run leaves an existing file untouched and no temporary file
    echo keep >"$tmp/kept.md"
    expect 1 "" "$ctaudit" diff "$tmp/missing" "$fx/$c/after" -o "$tmp/kept.md"
    [ "$(cat "$tmp/kept.md")" = keep ] || fail "a failed diff touched the -o file"
    # an unwritable directory: one error line, nothing left behind
    mkdir "$tmp/ro" && chmod 555 "$tmp/ro"
    if [ ! -w "$tmp/ro" ]; then
        expect 1 "^ctaudit: diff: cannot create '$tmp/ro/d.md.tmp" \
            "$ctaudit" diff "$fx/$c/before" "$fx/$c/after" -o "$tmp/ro/d.md"
        [ -z "$(ls "$tmp/ro")" ] || fail "a file was left in the directory"
    fi
    chmod 755 "$tmp/ro"
    ls "$tmp" | grep -q '\.tmp\.' && fail "a temporary file was left behind"
    echo "ok [$mode]: -o writes atomically" ;;
fail-on)
    expect 3 "" "$ctaudit" diff "$fx/duplicate-introduced/before" "$fx/duplicate-introduced/after" --fail-on-introduced
    expect 0 "" "$ctaudit" diff "$fx/legacy-deleted/before" "$fx/legacy-deleted/after" --fail-on-introduced
    expect 0 "" "$ctaudit" diff "$fx/duplicate-introduced/before" "$fx/duplicate-introduced/after"
    # not comparable is never introduced nor resolved
    expect 0 "" "$ctaudit" diff "$fx/account-skipped/before" "$fx/account-skipped/after" --fail-on-introduced
    echo "ok [$mode]: --fail-on-introduced exits 3 only when a finding was introduced" ;;
dollars)
    # 1,000,000 management events a month: the member trail's copy in its
    # two regions costs 2 x $20.00; stopping it saves all of it
    expect 0 "" "$ctaudit" diff "$fx/member-stopped/before" "$fx/member-stopped/after" --events-per-month 1000000
    grep -Fq '| Charges beyond the free copy per month (6 comparable region(s) with dollars) | $40.00 | $0.00 | -$40.00 |' "$tmp/out" ||
        fail "dollar change missing"
    grep -F 'Resolved: **warning** `organization-trail-overlap` in eu-west-1' "$tmp/out" | grep -Fq '(~$20.00/month, estimate)' ||
        fail "finding figure missing"
    expect 0 "" "$ctaudit" diff "$fx/member-stopped/before" "$fx/member-stopped/after" --events-per-month 1000000 --format json
    python3 - "$tmp/out" <<'PY' || fail "JSON costs"
import json, sys
c = json.load(open(sys.argv[1]))["summary"]["costs"]
assert c["basis_before"] == c["basis_after"] == "estimate", c
assert c["monthly_before"] == 40.0 and c["monthly_after"] == 0.0, c
PY
    # a skipped account is not comparable: its dollars are not counted
    expect 0 "" "$ctaudit" diff "$fx/account-skipped/before" "$fx/account-skipped/after" --events-per-month 1000000
    grep -Fq '(4 comparable region(s) with dollars) | $40.00 | $40.00 | $0.00 |' "$tmp/out" || fail "not comparable dollars counted"
    # without a basis: no amounts, and the way to get them
    expect 0 "" "$ctaudit" diff "$fx/member-stopped/before" "$fx/member-stopped/after"
    grep -Fq 'Dollars: neither snapshot has billing data' "$tmp/out" || fail "no-basis line"
    ! grep -Fq '/month' "$tmp/out" || fail "amounts without a basis"
    echo "ok [$mode]: dollar change from estimates, not comparable left out" ;;
*)
    echo "unknown mode $mode"; exit 1 ;;
esac
exit 0
