#!/bin/sh
# Bad input: each case builds its input, runs ctaudit, and checks the exit
# code, a one-line error on stderr naming the member and the problem, and
# that no output file is left behind.
#   bad_input.sh CTAUDIT SOURCE_DIR CASE
set -u
ctaudit=$1 src=$2 case=$3
export LC_ALL=C
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fx="$src/fixtures"
acct=accounts/111122223333/us-east-1

fail() { echo "FAIL [$case]: $*"; echo "--- stderr:"; cat "$tmp/err"; exit 1; }

# expect STATUS REGEX CMD...: runs CMD, checks status and one stderr line
# matching REGEX (extended), and that $tmp/out.db does not exist after a
# failure.
expect() {
    want=$1 re=$2
    shift 2
    "$@" >"$tmp/out" 2>"$tmp/err"
    got=$?
    [ "$got" = "$want" ] || fail "exit $got, expected $want"
    if [ -n "$re" ]; then
        grep -Eq -- "$re" "$tmp/err" || fail "stderr does not match /$re/"
    fi
    if [ "$want" != 0 ]; then
        lines=$(grep "^ctaudit: " "$tmp/err" | grep -vc "^ctaudit: warning: ")
        [ "$lines" -le 1 ] || fail "expected one error line, got $lines"
        [ ! -e "$tmp/out.db" ] || fail "a database was left behind"
        ls "$tmp" | grep -q '\.tmp\.' && fail "a temporary file was left behind"
    fi
    echo "ok [$case]: exit $got, stderr matches /$re/"
}

load() { expect "$1" "$2" "$ctaudit" load "$3" -o "$tmp/out.db" "$@"; }

# a small valid tree to break in various ways
mk_tree() {
    mkdir -p "$tmp/t/$acct"
    cp "$fx/semantics/dup-all/$acct/describe-trails.json" "$tmp/t/$acct/"
}

# mk_costs JSON: the tree plus organization/cost-and-usage.json
mk_costs() {
    mk_tree
    mkdir -p "$tmp/t/organization"
    printf '%s\n' "$1" >"$tmp/t/organization/cost-and-usage.json"
}
cost_group='{"Keys": ["111122223333", "USE1-PaidEventsRecorded"], "Metrics": {"UnblendedCost": {"Amount": AMOUNT, "Unit": "USD"}, "UsageQuantity": {"Amount": "100000", "Unit": "N/A"}}}'
cost_doc() { # cost_doc AMOUNT: one month, one group
    printf '{"ResultsByTime": [{"TimePeriod": {"Start": "2026-08-01", "End": "2026-09-01"}, "Estimated": false, "Groups": [%s]}]}' \
        "$(echo "$cost_group" | sed "s/AMOUNT/$1/")"
}

case $case in
cost-not-a-number)
    mk_costs "$(cost_doc '"12,5"')"
    expect 1 "^ctaudit: .*member 'organization/cost-and-usage\.json': ResultsByTime\[0\]\.Groups\[0\]\.Metrics\.UnblendedCost\.Amount is not a number: '12,5'\$" \
        "$ctaudit" load "$tmp/t" -o "$tmp/out.db"
    mk_costs "$(cost_doc 2.5)"
    expect 1 "member 'organization/cost-and-usage\.json': ResultsByTime\[0\]\.Groups\[0\]\.Metrics\.UnblendedCost\.Amount is not a string\$" \
        "$ctaudit" load "$tmp/t" -o "$tmp/out.db"
    mk_costs "$(cost_doc '"nan"')"
    expect 1 "UnblendedCost\.Amount is not a number: 'nan'\$" \
        "$ctaudit" load "$tmp/t" -o "$tmp/out.db"
    mk_costs "$(cost_doc '"2.5"')"
    expect 0 "" "$ctaudit" load "$tmp/t" -o "$tmp/out.db" ;;
cost-wrong-shape)
    mk_costs '{"ResultsByTime": {"TimePeriod": {}}}'
    expect 1 "^ctaudit: .*member 'organization/cost-and-usage\.json': field 'ResultsByTime' is not an array\$" \
        "$ctaudit" load "$tmp/t" -o "$tmp/out.db"
    mk_costs '{"GroupDefinitions": []}'
    expect 1 "member 'organization/cost-and-usage\.json': field 'ResultsByTime' is missing\$" \
        "$ctaudit" load "$tmp/t" -o "$tmp/out.db"
    mk_costs "$(cost_doc '"1"' | sed 's/"Keys": \["111122223333", /"Keys": [/')"
    expect 1 "member 'organization/cost-and-usage\.json': ResultsByTime\[0\]\.Groups\[0\]\.Keys is not \[LINKED_ACCOUNT, USAGE_TYPE\]\$" \
        "$ctaudit" load "$tmp/t" -o "$tmp/out.db"
    mk_costs '{"ResultsByTime": [{"TimePeriod": {"Start": "2026-08-01"}, "Groups": []}]}'
    expect 1 "member 'organization/cost-and-usage\.json': ResultsByTime\[0\]\.TimePeriod has no Start and End strings\$" \
        "$ctaudit" load "$tmp/t" -o "$tmp/out.db" ;;
not-json)
    expect 1 "member 'accounts/111122223333/us-east-1/describe-trails.json': invalid JSON at line 6, column [0-9]+" \
        "$ctaudit" load "$fx/bad/not-json" -o "$tmp/out.db" ;;
wrong-shape)
    expect 1 "member 'accounts/111122223333/us-east-1/describe-trails.json': field 'trailList' is not an array" \
        "$ctaudit" load "$fx/bad/wrong-shape" -o "$tmp/out.db" ;;
unknown-version)
    expect 1 "member 'manifest.json': unknown snapshot format version 99" \
        "$ctaudit" load "$fx/bad/unknown-version" -o "$tmp/out.db" ;;
hash-mismatch)
    expect 1 "member 'accounts/111122223333/us-east-1/describe-trails.json' does not match the manifest" \
        "$ctaudit" load "$fx/bad/hash-mismatch" -o "$tmp/out.db" ;;
no-verify)
    expect 0 "manifest not verified" \
        "$ctaudit" load --no-verify "$fx/bad/hash-mismatch" -o "$tmp/out.db" ;;
unknown-extra-file)
    expect 0 "warning: .*member 'README.txt': not part of the snapshot format: ignored" \
        "$ctaudit" load "$fx/bad/unknown-extra-file" -o "$tmp/out.db"
    [ -s "$tmp/out.db" ] || fail "no database written" ;;
truncated-archive)
    tar czf "$tmp/s.tgz" -C "$fx" example-org
    size=$(wc -c <"$tmp/s.tgz")
    head -c $((size / 2)) "$tmp/s.tgz" >"$tmp/cut.tgz"
    expect 1 "truncated|corrupt|Truncated" \
        "$ctaudit" load "$tmp/cut.tgz" -o "$tmp/out.db" ;;
corrupt-archive)
    tar cf "$tmp/s.tar" -C "$fx" example-org
    # overwrite a header block in the middle with garbage
    printf 'garbage%.0s' $(seq 1 200) | dd of="$tmp/s.tar" bs=1 seek=51200 conv=notrunc 2>/dev/null
    expect 1 "truncated or corrupt|Damaged|checksum|invalid|not a tar" \
        "$ctaudit" load "$tmp/s.tar" -o "$tmp/out.db" ;;
not-an-archive)
    head -c 4096 /dev/urandom >"$tmp/random.tgz"
    expect 1 "cannot load '.*random.tgz'" \
        "$ctaudit" load "$tmp/random.tgz" -o "$tmp/out.db" ;;
empty-directory)
    mkdir "$tmp/empty"
    expect 1 "empty snapshot" "$ctaudit" load "$tmp/empty" -o "$tmp/out.db" ;;
empty-archive)
    tar cf "$tmp/empty.tar" -T /dev/null
    expect 1 "empty snapshot|cannot load" \
        "$ctaudit" load "$tmp/empty.tar" -o "$tmp/out.db" ;;
no-format-member)
    mkdir -p "$tmp/other/docs" && echo hi >"$tmp/other/docs/x.txt"
    expect 1 "empty snapshot: no member of the snapshot format" \
        "$ctaudit" load "$tmp/other" -o "$tmp/out.db" ;;
member-too-large)
    expect 1 "member '.*': larger than the 1024-byte member limit" \
        "$ctaudit" load --max-member-size 1K "$fx/example-org" -o "$tmp/out.db" ;;
total-too-large)
    expect 1 "snapshot larger than the 20480-byte total limit" \
        "$ctaudit" load --max-total-size 20K "$fx/example-org" -o "$tmp/out.db" ;;
decompression-bomb)
    # 100 MiB of zeros in one member compresses to ~100 KiB with gzip and
    # a few KiB with xz: refused at the 64 MiB member limit, never inflated
    mkdir -p "$tmp/bomb/$acct"
    head -c 104857600 /dev/zero >"$tmp/bomb/$acct/describe-trails.json"
    tar cJf "$tmp/bomb.tar.xz" -C "$tmp/bomb" accounts
    rm -rf "$tmp/bomb"
    size=$(wc -c <"$tmp/bomb.tar.xz")
    [ "$size" -lt 65536 ] || fail "the bomb is $size bytes"
    expect 1 "member 'accounts/111122223333/us-east-1/describe-trails.json': larger than the 67108864-byte member limit" \
        "$ctaudit" load "$tmp/bomb.tar.xz" -o "$tmp/out.db" ;;
duplicate-member)
    mk_tree
    tar cf "$tmp/dup.tar" -C "$tmp/t" accounts
    tar rf "$tmp/dup.tar" -C "$tmp/t" "$acct/describe-trails.json"
    expect 1 "member '$acct/describe-trails.json': appears twice in the snapshot" \
        "$ctaudit" load "$tmp/dup.tar" -o "$tmp/out.db" ;;
compressions)
    # the same snapshot as .tar, .tar.gz, .tar.zst, .tar.xz and with a top
    # folder loads to the same trails
    tar cf "$tmp/s.tar" -C "$fx/semantics" dup-all
    tar czf "$tmp/s.tgz" -C "$fx/semantics/dup-all" .
    tar cf - -C "$fx/semantics" dup-all | zstd -q -o "$tmp/s.tar.zst"
    tar cJf "$tmp/s.tar.xz" -C "$fx/semantics" dup-all
    for f in s.tar s.tgz s.tar.zst s.tar.xz; do
        n=$("$ctaudit" sql "$tmp/$f" "SELECT count(*) || '/' || (SELECT count(*) FROM trail_sightings) FROM trails" --format csv 2>"$tmp/err" | tail -1 | tr -d '\r')
        [ "$n" = "2/4" ] || fail "$f: trails/sightings $n, expected 2/4"
    done
    echo "ok [$case]: .tar .tgz .tar.zst .tar.xz load the same" ;;
existing-db-kept)
    "$ctaudit" load -q "$fx/semantics/dup-all" -o "$tmp/keep.db" 2>"$tmp/err" || fail "first load"
    cp "$tmp/keep.db" "$tmp/keep.orig"
    expect 1 "invalid JSON" "$ctaudit" load --force "$fx/bad/not-json" -o "$tmp/keep.db"
    cmp -s "$tmp/keep.db" "$tmp/keep.orig" || fail "the existing database changed"
    expect 1 "exists: use --force" "$ctaudit" load "$fx/semantics/dup-all" -o "$tmp/keep.db"
    echo "ok [$case]: the existing database is untouched" ;;
sql-refuses-writes)
    "$ctaudit" load -q "$fx/semantics/dup-all" -o "$tmp/db.db" 2>"$tmp/err" || fail "load"
    cp "$tmp/db.db" "$tmp/db.orig"
    expect 1 "read-only" "$ctaudit" sql "$tmp/db.db" "DELETE FROM trails"
    expect 1 "read-only" "$ctaudit" sql "$tmp/db.db" "ATTACH DATABASE '$tmp/x.db' AS x"
    expect 1 "read-only" "$ctaudit" sql "$tmp/db.db" "PRAGMA query_only = 0"
    expect 1 "read-only|not authorized" "$ctaudit" sql "$tmp/db.db" "SELECT load_extension('$tmp/x.so')"
    expect 1 "read-only" "$ctaudit" sql "$tmp/db.db" "CREATE TABLE t(x)"
    [ ! -e "$tmp/x.db" ] || fail "ATTACH created a file"
    cmp -s "$tmp/db.db" "$tmp/db.orig" || fail "the database changed"
    echo "ok [$case]: every write refused, database unchanged" ;;
usage)
    expect 2 "missing -o FILE.db" "$ctaudit" load "$fx/example-org"
    expect 2 "unknown command 'frobnicate'" "$ctaudit" frobnicate
    expect 2 "unknown format 'xml'" "$ctaudit" sql "$fx/example-org" "SELECT 1" --format xml
    expect 2 "--fail-on takes warning or info" "$ctaudit" report "$fx/example-org" --fail-on never ;;
fail-on)
    expect 3 "" "$ctaudit" report "$fx/semantics/dup-all" --fail-on warning
    expect 0 "" "$ctaudit" report "$fx/semantics/read-with-write" --fail-on warning
    expect 3 "" "$ctaudit" report "$fx/semantics/stopped-trail" --fail-on info
    expect 0 "" "$ctaudit" report "$fx/semantics/stopped-trail" --fail-on warning ;;
outside-top-folder)
    # with a top folder, a member beside it is not part of the snapshot
    mk_tree
    mkdir -p "$tmp/wrap/dump"
    cp -r "$tmp/t/accounts" "$tmp/wrap/dump/"
    mkdir -p "$tmp/wrap/accounts/999999999999/us-east-1"
    cp "$tmp/t/$acct/describe-trails.json" "$tmp/wrap/accounts/999999999999/us-east-1/"
    tar cf "$tmp/w.tar" -C "$tmp/wrap" dump accounts
    expect 0 "outside the snapshot's top folder: ignored" \
        "$ctaudit" load "$tmp/w.tar" -o "$tmp/out.db"
    n=$("$ctaudit" sql "$tmp/out.db" "SELECT count(*) FROM accounts WHERE account_id = '999999999999'" --format csv 2>/dev/null | tail -1 | tr -d '\r')
    [ "$n" = 0 ] || fail "a member outside the top folder was loaded"
    echo "ok [$case]: members beside the top folder are ignored" ;;
incomplete-snapshot)
    # an interrupted collection: manifest complete false; the report says
    # so and --fail-on warning fails, even though the data shows no cost
    mkdir -p "$tmp/inc"
    cp -r "$fx/semantics/read-with-write/accounts" "$tmp/inc/"
    (cd "$tmp/inc" && find accounts -type f | sort | xargs sha256sum >SHA256SUMS)
    sums=$(sha256sum "$tmp/inc/SHA256SUMS" | cut -c1-64)
    printf '{"format":"ctaudit-snapshot","format_version":1,"complete":false,"not_collected":[{"account":"111122223333","region":"eu-west-1","reason":"interrupted"}],"checksums":{"file":"SHA256SUMS","sha256":"%s"}}\n' "$sums" >"$tmp/inc/manifest.json"
    expect 3 "" "$ctaudit" report "$tmp/inc" --fail-on warning
    grep -q "this snapshot is incomplete" "$tmp/out" || fail "no incomplete banner"
    grep -q "incomplete-data.*the collection did not complete" "$tmp/out" || fail "no incomplete-data finding"
    "$ctaudit" report "$tmp/inc" --format json >"$tmp/out" 2>"$tmp/err"
    grep -q '"complete":false' "$tmp/out" || fail "JSON does not say complete false"
    echo "ok [$case]: reported as incomplete, never clean" ;;
*)
    echo "unknown case $case"; exit 1 ;;
esac
exit 0
