#!/bin/sh
# Dollars without billing data: --events-per-month, --volumes, --pricing.
# Checks the figures (computed by hand from the example organization: 30
# regions with one paid management copy in dev-platform, 19 data-event
# regions in analytics-prod), the labels, and that a pricing or volumes
# file can do nothing but give numbers.
#   costs.sh CTAUDIT SOURCE_DIR CASE
set -u
ctaudit=$1 src=$2 case=$3
export LC_ALL=C
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# the example organization without its billing data (estimates only
# apply where Cost Explorer data is absent)
org="$tmp/org"
cp -R "$src/fixtures/example-org" "$org"
rm -f "$org"/organization/cost-and-usage*.json
billed="$src/fixtures/example-org"

fail() { echo "FAIL [$case]: $*"; echo "--- stderr:"; cat "$tmp/err" 2>/dev/null; exit 1; }
has() { grep -Fq -- "$1" "$tmp/out" || fail "output lacks: $1"; }
hasnt() { ! grep -Fq -- "$1" "$tmp/out" || fail "output has: $1"; }
run() {
    want=$1; shift
    "$ctaudit" "$@" >"$tmp/out" 2>"$tmp/err"
    got=$?
    [ "$got" = "$want" ] || fail "exit $got, expected $want: $*"
    if [ "$want" != 0 ]; then
        n=$(grep -c "^ctaudit: " "$tmp/err")
        [ "$n" = 1 ] || fail "expected one error line, got $n"
    fi
}

case $case in
no-basis)
    run 0 report "$org"
    has 'Dollars: no billing data in this snapshot; collect it with `ctcollect --costs`, or estimate with --events-per-month N'
    hasnt '/month'
    run 0 report "$org" --format json
    python3 - "$tmp/out" <<'PY' || fail "JSON costs"
import json, sys
d = json.load(open(sys.argv[1]))
c = d["summary"]["costs"]
assert c["basis"] is None and c["monthly_cost"] is None, c
assert all(f["monthly_cost"] is None for a in d["accounts"] for f in a["findings"])
PY
    ;;
events-per-month)
    # 1,000,000 management events a month: one paid copy = $20.00 in each
    # of dev-platform's 30 regions; data volume unknown: not guessed
    run 0 report "$org" --events-per-month 1000000
    has 'costs apply: more than one active trail capturing management events (2) (~$20.00/month, estimate)'
    has '[trails: legacy-trail, main-trail] (~$600.00/month, estimate)'
    has 'Estimated charges beyond the free copy: $600.00/month (an ESTIMATE'
    has 'Dollars unknown in 19 region(s)'
    grep -F '[data-events]' "$tmp/out" | grep -Fq '/month' && fail "data events priced without a data volume"
    run 0 report "$org" --events-per-month 1000000 --format csv
    grep -F 'duplicate-management-events' "$tmp/out" | grep -q ',20.00,estimate' || fail "CSV monthly_cost"
    ;;
volumes)
    # account-specific data volume, every-region default for management
    printf 'account_id,region,management_events,data_events\r\n777777777777,,,2000000\r\n,,500000,\r\n333333333333,us-east-1,100000,\r\n' >"$tmp/v.csv"
    run 0 report "$org" --volumes "$tmp/v.csv"
    has 'WARNING us-east-1 (2 trails, 2 active): costs apply: more than one active trail capturing management events (2) (~$2.00/month, estimate)'
    has 'WARNING eu-west-1 (2 trails, 2 active): costs apply: more than one active trail capturing management events (2) (~$10.00/month, estimate)'
    has 'costs apply: active trails capturing data events (~$2.00/month, estimate)'
    # 29 x $10 + $2 + 19 x $2
    has 'Estimated charges beyond the free copy: $330.00/month (an ESTIMATE'
    ;;
pricing)
    # a price list of our own: $4 per 100,000 extra copies
    cat >"$tmp/p.sql" <<'SQL'
-- our negotiated price
INSERT INTO pricing VALUES ('aws', 'management_copy', 4, 100000, 'USD',
    'copies', 'https://example.com/contract', '2026-11-01');
SQL
    run 0 report "$org" --events-per-month 1000000 --pricing "$tmp/p.sql"
    has 'Estimated charges beyond the free copy: $1,200.00/month'
    # no price for the partition: unknown, not zero
    printf "INSERT INTO pricing VALUES ('aws-cn', 'management_copy', 1, 1, 'CNY', 'x', 'x', 'x');\n" >"$tmp/cn.sql"
    run 0 report "$org" --events-per-month 1000000 --pricing "$tmp/cn.sql"
    hasnt '(~$'
    ;;
pricing-refused)
    sentinel="$tmp/written"
    for sql in "DELETE FROM accounts" "INSERT INTO main.pricing VALUES ('aws','x',1,1,'USD','x','x','x')" \
        "ATTACH '$sentinel' AS x" "CREATE TABLE t(x)" \
        "INSERT INTO pricing SELECT 'aws', account_id, 1, 1, 'USD', 'x', 'x', 'x' FROM accounts" \
        "SELECT load_extension('$tmp/x.so')" "PRAGMA writable_schema = 1" \
        "INSERT INTO pricing VALUES ('aws', 'x', -1, 100000, 'USD', 'x', 'x', 'x')"; do
        printf '%s;\n' "$sql" >"$tmp/p.sql"
        run 1 report "$org" --pricing "$tmp/p.sql"
        grep -Eq "^ctaudit: report: pricing '.*p\.sql': " "$tmp/err" || fail "error does not name the file: $sql"
        [ ! -e "$sentinel" ] || fail "a pricing file wrote $sentinel"
        echo "ok [$case]: refused: $sql"
    done
    run 1 report "$org" --pricing "$tmp/missing.sql"
    grep -Fq "cannot open pricing '$tmp/missing.sql'" "$tmp/err" || fail "missing file"
    ;;
volumes-bad)
    for body in 'region,management_events\n,1\n' 'account_id,region,management_events\n12345,,1\n' \
        'account_id,region,management_events\n,,-5\n' 'account_id,region,management_events\n,,1e999\n' \
        'account_id,region,management_events\n,,12abc\n' 'account_id,region,bogus\n' \
        'account_id,region,management_events\n,\n' ''; do
        printf "$body" >"$tmp/v.csv"
        run 1 report "$org" --volumes "$tmp/v.csv"
        grep -Eq "^ctaudit: report: volumes '.*v\.csv'" "$tmp/err" || fail "error does not name the file: $body"
        echo "ok [$case]: $(cat "$tmp/err")"
    done
    run 2 report "$org" --events-per-month lots
    run 2 report "$org" --events-per-month -3
    ;;
billing)
    # Cost Explorer data in the snapshot (fixtures/make_fixtures.py): used as
    # billed, averaged over its months; estimates options do not override it
    run 0 report "$billed"
    has 'Charges beyond the free copy: $140.17/month (Cost Explorer: average of 3 month(s) to 2026-11-01)'
    has 'Charges beyond the free copy: $82.50/month'
    has '[unexplained-usage] Cost Explorer shows 62000 paid management events a month, but the snapshot shows 1 copy'
    run 0 report "$billed" --events-per-month 1000000
    has 'Charges beyond the free copy: $140.17/month (Cost Explorer'
    grep -Fq 'billing data in the snapshot is used' "$tmp/err" || fail "no warning that the estimate is ignored"
    run 0 report "$billed" --format json
    python3 - "$tmp/out" <<'PY' || fail "JSON costs"
import json, sys
d = json.load(open(sys.argv[1]))
c = d["summary"]["costs"]
assert c["basis"] == "billing" and c["billing_months"] == 3, c
assert c["monthly_cost"] == 140.17 and c["currency"] == "USD", c
PY
    ;;
*) fail "unknown case" ;;
esac
echo "ok [$case]"
