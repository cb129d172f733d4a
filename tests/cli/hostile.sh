#!/bin/sh
# Hostile snapshots (issue 7): each case builds an archive that attacks the
# analyzer (path traversal, links, devices, bombs, deep JSON, odd numbers
# and strings, injection in names, lying manifests, conflicting trails,
# SQL that tries to escape the read-only guard) and checks the expected
# one-line error or the safe output:
#  - nothing reaches the filesystem: ctaudit runs in an empty directory
#    that stays empty, and no file appears at the paths the members name;
#  - Markdown tables keep one cell count, CSV parses with one column count,
#    JSON parses (python3 csv and json modules);
#  - `ctaudit sql` and `--rules-dir` cannot write, ATTACH, load extensions
#    or read files.
#   hostile.sh CTAUDIT SOURCE_DIR CASE
set -u
ctaudit=$1 src=$2 case=$3
export LC_ALL=C
tmp=$(mktemp -d)
sentinel=/tmp/ctaudit-hostile-sentinel-$$
trap 'rm -rf "$tmp" "$sentinel"*' EXIT
fx="$src/fixtures"
A=111122223333
mkdir "$tmp/cwd" "$tmp/home"
export HOME="$tmp/home"

fail() { echo "FAIL [$case]: $*"; echo "--- stderr:"; cat "$tmp/err" 2>/dev/null; exit 1; }

# Python helpers: building archives (tarfile) and checking outputs.
cat >"$tmp/mk.py" <<'PY_EOF'
import io, json, os, sys, tarfile

FX = os.environ["FX"]
A = "111122223333"

def fixture(name):
    """(member, bytes) of a fixture directory, sorted."""
    root = os.path.join(FX, name)
    out = []
    for d, _, files in os.walk(root):
        for f in files:
            if f == "README.md":
                continue
            p = os.path.join(d, f)
            out.append((os.path.relpath(p, root), open(p, "rb").read()))
    return sorted(out)

def trail(name, region="us-east-1", bucket=None, arn_name=None, **extra):
    t = {"Name": name, "S3BucketName": bucket or "bucket-" + A,
         "IncludeGlobalServiceEvents": True, "IsMultiRegionTrail": True,
         "HomeRegion": region,
         "TrailARN": "arn:aws:cloudtrail:%s:%s:trail/%s"
                     % (region, A, arn_name if arn_name is not None else name),
         "LogFileValidationEnabled": True, "HasCustomEventSelectors": False,
         "HasInsightSelectors": False, "IsOrganizationTrail": False}
    t.update(extra)
    return t

def trails(*ts):
    return json.dumps({"trailList": list(ts)}).encode()

def write(path, members, compression=""):
    """members: (name, data) or (name, data, kind, linkname)."""
    with tarfile.open(path, "w" + (":" + compression if compression else ""),
                      format=tarfile.PAX_FORMAT) as t:
        for m in members:
            name, data = m[0], m[1]
            kind = m[2] if len(m) > 2 else "file"
            ti = tarfile.TarInfo(name)
            ti.mtime = 0
            ti.mode = 0o644
            if kind == "file":
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
                continue
            ti.type = {"symlink": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE,
                       "chr": tarfile.CHRTYPE, "blk": tarfile.BLKTYPE,
                       "fifo": tarfile.FIFOTYPE, "dir": tarfile.DIRTYPE}[kind]
            if kind in ("symlink", "hardlink"):
                ti.linkname = m[3]
            if kind in ("chr", "blk"):
                ti.devmajor, ti.devminor = 1, 3
            t.addfile(ti)
PY_EOF

cat >"$tmp/check.py" <<'PY_EOF'
# check.py KIND FILE [NEEDLES...]: KIND md, csv or json. NEEDLES: strings
# that must not appear raw (unescaped) in a Markdown file.
import csv, json, sys
kind, path = sys.argv[1], sys.argv[2]
text = open(path, "rb").read().decode("utf-8", "surrogateescape")
def die(msg):
    print("check.py: %s: %s" % (path, msg)); sys.exit(1)
if kind == "json":
    try:
        json.loads(text)
    except ValueError as e:
        die("invalid JSON: %s" % e)
elif kind == "csv":
    if "\x00" in text:
        die("NUL byte in CSV")
    rows = list(csv.reader(open(path, newline="", encoding="utf-8",
                                errors="surrogateescape"), strict=True))
    if not rows:
        die("empty CSV")
    widths = {len(r) for r in rows}
    if len(widths) != 1:
        die("CSV rows have %s columns" % sorted(widths))
elif kind == "md":
    header = None
    for n, line in enumerate(text.split("\n"), 1):
        if any(ord(c) < 0x20 and c != "\t" for c in line):
            die("line %d: control character" % n)
        if not line.startswith("|"):
            header = None
            continue
        pipes, i = 0, 0
        while i < len(line):
            if line[i] == "\\":
                i += 2
                continue
            pipes += line[i] == "|"
            i += 1
        if header is None:
            header = pipes
        elif pipes != header:
            die("line %d: %d cells, header has %d" % (n, pipes, header))
    for needle in sys.argv[3:]:
        i = text.find(needle)
        while i >= 0:
            if i == 0 or text[i - 1] != "\\":
                die("raw %r" % needle)
            i = text.find(needle, i + 1)
print("check.py: %s: %s ok" % (path, kind))
PY_EOF

mk() {
    FX="$fx" python3 -c "import sys; sys.path.insert(0, '$tmp'); from mk import *; $1" \
        || fail "cannot build the archive"
}

# run STATUS REGEX CMD...: runs CMD in the empty directory, checks the exit
# status, a stderr line matching REGEX, at most one error line, and that
# the directory stayed empty.
run() {
    want=$1 re=$2
    shift 2
    (cd "$tmp/cwd" && "$@") >"$tmp/out" 2>"$tmp/err"
    got=$?
    [ "$got" = "$want" ] || fail "exit $got, expected $want: $*"
    [ -z "$re" ] || grep -Eq -- "$re" "$tmp/err" || fail "stderr does not match /$re/"
    lines=$(grep "^ctaudit: " "$tmp/err" | grep -vc "^ctaudit: warning: ")
    [ "$lines" -le 1 ] || fail "expected at most one error line, got $lines"
    [ -z "$(ls -A "$tmp/cwd")" ] || fail "files appeared in the working directory: $(ls -A "$tmp/cwd")"
    ls "$sentinel"* >/dev/null 2>&1 && fail "a file appeared at $sentinel"
    echo "ok [$case]: exit $got${re:+, stderr matches /$re/}"
}

# safe SNAPSHOT [NEEDLES...]: report in the three formats and sql in csv
# and json load and stay well-formed.
safe() {
    snap=$1
    shift
    run 0 "" "$ctaudit" report "$snap" --no-verify
    cp "$tmp/out" "$tmp/report.md"
    python3 "$tmp/check.py" md "$tmp/report.md" "$@" || fail "markdown"
    run 0 "" "$ctaudit" report "$snap" --no-verify --format json
    cp "$tmp/out" "$tmp/report.json"
    python3 "$tmp/check.py" json "$tmp/report.json" || fail "json"
    run 0 "" "$ctaudit" report "$snap" --no-verify --format csv
    cp "$tmp/out" "$tmp/report.csv"
    python3 "$tmp/check.py" csv "$tmp/report.csv" || fail "csv"
    for q in "SELECT * FROM trails ORDER BY trail_arn" \
        "SELECT * FROM load_warnings ORDER BY member, message" \
        "SELECT * FROM errors ORDER BY member"; do
        for f in csv json; do
            run 0 "" "$ctaudit" sql "$snap" --no-verify "$q" --format $f
            cp "$tmp/out" "$tmp/sql.$f"
            python3 "$tmp/check.py" $f "$tmp/sql.$f" || fail "sql $f: $q"
        done
    done
}

base="fixture('semantics/dup-all')"
dt="accounts/$A/us-east-1/describe-trails.json"

case $case in
dotdot)
    # names that climb out of the root: ignored with a warning, never written
    mk "write('$tmp/s.tar', $base + [
        ('accounts/$A/../../../../../../../..$sentinel-a', b'{}'),
        ('accounts/$A/us-east-1/../../../../../../..$sentinel-b/describe-trails.json', b'{}'),
        ('../../../../../../../..$sentinel-c', b'x')])"
    run 0 "member '.*\.\./.*': not part of the snapshot format: ignored" \
        "$ctaudit" load "$tmp/s.tar" -o "$tmp/out.db"
    safe "$tmp/s.tar" ;;
dotdot-first)
    # a '..' member first (it would fix the root folder): still ignored
    # with a warning, the rest loads, nothing is written
    mk "write('$tmp/s.tar', [('../../../..$sentinel-a', b'x')] + $base)"
    run 0 "member '\.\./.*sentinel.*': not part of the snapshot format: ignored" \
        "$ctaudit" load "$tmp/s.tar" -o "$tmp/out.db"
    safe "$tmp/s.tar" ;;
absolute)
    # a leading '/' is stripped: the member loads as a relative name
    mk "write('$tmp/s.tar', [('/' + n, d) for n, d in $base] + [('$sentinel-abs', b'x')])"
    run 0 "not part of the snapshot format: ignored" \
        "$ctaudit" load "$tmp/s.tar" -o "$tmp/out.db"
    run 0 "" "$ctaudit" sql "$tmp/out.db" "SELECT count(*) FROM trails" --format csv
    [ "$(tail -1 "$tmp/out" | tr -d '\r')" = 2 ] || fail "expected 2 trails"
    safe "$tmp/s.tar" ;;
symlink)
    # a symlink in place of a member, one to /etc/passwd, one to a dir
    mk "write('$tmp/s.tar', [m for m in $base if m[0] != '$dt'] + [
        ('$dt', b'', 'symlink', '/etc/passwd'),
        ('accounts/$A/eu-west-2', b'', 'symlink', '/etc'),
        ('accounts/$A/eu-west-2/describe-trails.json', b'{}', 'symlink', '../../../../etc/passwd')])"
    run 0 "member '$dt': symbolic link ignored" \
        "$ctaudit" load "$tmp/s.tar" -o "$tmp/out.db"
    run 0 "" "$ctaudit" sql "$tmp/out.db" "SELECT count(*) FROM region_scans WHERE region = 'us-east-1'" --format csv
    [ "$(tail -1 "$tmp/out" | tr -d '\r')" = 0 ] || fail "the symlink was read"
    safe "$tmp/s.tar" ;;
hardlink)
    mk "write('$tmp/s.tar', $base + [
        ('accounts/$A/eu-west-2/describe-trails.json', b'', 'hardlink', '$dt'),
        ('accounts/$A/eu-west-3/describe-trails.json', b'', 'hardlink', '/etc/passwd')])"
    run 0 "member 'accounts/$A/eu-west-2/describe-trails.json': hard link ignored" \
        "$ctaudit" load "$tmp/s.tar" -o "$tmp/out.db"
    run 0 "" "$ctaudit" sql "$tmp/out.db" "SELECT count(*) FROM region_scans WHERE region LIKE 'eu-west-_' AND region <> 'eu-west-1'" --format csv
    [ "$(tail -1 "$tmp/out" | tr -d '\r')" = 0 ] || fail "a hard link was read"
    safe "$tmp/s.tar" ;;
device)
    mk "write('$tmp/s.tar', $base + [
        ('accounts/$A/eu-west-2/describe-trails.json', b'', 'chr'),
        ('accounts/$A/eu-west-3/describe-trails.json', b'', 'blk'),
        ('accounts/$A/eu-north-1/describe-trails.json', b'', 'fifo'),
        ('$sentinel-dev', b'', 'chr')])"
    run 0 "member 'accounts/$A/eu-west-2/describe-trails.json': not a regular file: ignored" \
        "$ctaudit" load "$tmp/s.tar" -o "$tmp/out.db"
    grep -q "eu-north-1/describe-trails.json': not a regular file" "$tmp/err" || fail "fifo not reported"
    safe "$tmp/s.tar" ;;
bomb-1k)
    # a 1 KiB archive (bzip2 of a tar holding 1 GiB of zeros): refused at
    # the 64 MiB member limit, after inflating no more than that
    mkdir -p "$tmp/b"
    python3 - "$tmp/b.tar.bz2" <<'PY_EOF' || fail "cannot build the bomb"
import bz2, sys
name = b"accounts/111122223333/us-east-1/describe-trails.json"
h = bytearray(512)
h[0:len(name)] = name
h[100:108] = b"0000644\0"; h[108:116] = b"0000000\0"; h[116:124] = b"0000000\0"
h[124:136] = b"%011o\0" % (1 << 30)
h[136:148] = b"00000000000\0"; h[156:157] = b"0"; h[257:265] = b"ustar\x0000"
h[148:156] = b"        "
h[148:156] = b"%06o\0 " % sum(h)
c = bz2.BZ2Compressor(9)
out = [c.compress(bytes(h))]
zero = bytes(1 << 20)
for _ in range(1024):
    out.append(c.compress(zero))
out.append(c.compress(bytes(1024)))
out.append(c.flush())
open(sys.argv[1], "wb").write(b"".join(out))
PY_EOF
    size=$(wc -c <"$tmp/b.tar.bz2")
    [ "$size" -le 1024 ] || fail "the bomb is $size bytes, not <= 1 KiB"
    run 1 "member 'accounts/$A/us-east-1/describe-trails.json': larger than the 67108864-byte member limit" \
        "$ctaudit" load "$tmp/b.tar.bz2" -o "$tmp/out.db"
    [ ! -e "$tmp/out.db" ] || fail "a database was left" ;;
bomb-total)
    # many small members, each under the member limit, past the total
    python3 - "$tmp/t.tar.bz2" <<'PY_EOF' || fail "cannot build the bomb"
import bz2, sys, tarfile, io
c = bz2.BZ2Compressor(9)
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
    for r in range(40):
        ti = tarfile.TarInfo("accounts/111122223333/xx-east-%d/describe-trails.json" % (r + 1))
        ti.size = 1 << 20
        t.addfile(ti, io.BytesIO(b'{"trailList": []}'.ljust(ti.size)))
open(sys.argv[1], "wb").write(bz2.compress(buf.getvalue(), 9))
PY_EOF
    size=$(wc -c <"$tmp/t.tar.bz2")
    [ "$size" -le 4096 ] || fail "the archive is $size bytes"
    run 1 "snapshot larger than the 16777216-byte total limit" \
        "$ctaudit" load --max-total-size 16M "$tmp/t.tar.bz2" -o "$tmp/out.db" ;;
deep-json)
    mk "write('$tmp/s.tar', [m for m in $base if m[0] != '$dt'] + [('$dt', b'[' * 10000 + b']' * 10000)])"
    run 1 "member '$dt': invalid JSON at line 1, column [0-9]+: .*(depth|nest)" \
        "$ctaudit" load "$tmp/s.tar" -o "$tmp/out.db"
    mk "write('$tmp/s2.tar', [m for m in $base if m[0] != '$dt'] + [('$dt', b'{\"trailList\": [{\"Name\": ' + b'{\"a\":' * 10000 + b'1' + b'}' * 10000 + b'}]}')])"
    run 1 "member '$dt': invalid JSON at line 1, column [0-9]+: .*(depth|nest)" \
        "$ctaudit" load "$tmp/s2.tar" -o "$tmp/out.db"
    # 2,000 deep (under jansson's limit) in an ignored field: loads
    mk "write('$tmp/s3.tar', [m for m in $base if m[0] != '$dt'] + [('$dt', trails(trail('audit-a', Extra=0)).replace(b'\"Extra\": 0', b'\"Extra\": ' + b'[' * 2000 + b']' * 2000))])"
    safe "$tmp/s3.tar" ;;
huge-numbers)
    st="accounts/$A/us-east-1/trails/$A/audit-a/get-trail-status.json"
    for v in 1e308 -1e308 1e18 -9223372036854775808 9223372036854775807 \
        253402300800; do
        mk "write('$tmp/s.tar', [m for m in $base if m[0] != '$st'] + [('$st', b'{\"IsLogging\": true, \"LatestDeliveryTime\": $v}')])"
        run 1 "member '$st': field 'LatestDeliveryTime' is not a valid time" \
            "$ctaudit" load "$tmp/s.tar" -o "$tmp/out.db"
    done
    # the extremes that are times load as times
    mk "write('$tmp/s.tar', [m for m in $base if m[0] != '$st'] + [('$st', b'{\"IsLogging\": true, \"LatestDeliveryTime\": 253402300799, \"StartLoggingTime\": 0.000000001}')])"
    run 0 "" "$ctaudit" sql "$tmp/s.tar" "SELECT latest_delivery_time || ' ' || start_logging_time FROM trail_status WHERE trail_arn LIKE '%audit-a'" --format csv
    [ "$(tail -1 "$tmp/out" | tr -d '\r')" = "9999-12-31T23:59:59Z 1970-01-01T00:00:00.000Z" ] || fail "extreme times: $(tail -1 "$tmp/out")"
    for v in 99999999999999999999999999 1e999; do
        mk "write('$tmp/s.tar', [m for m in $base if m[0] != '$st'] + [('$st', b'{\"IsLogging\": true, \"LatestDeliveryTime\": $v}')])"
        run 1 "member '$st': invalid JSON at line 1, column [0-9]+: .*(too big|overflow)" \
            "$ctaudit" load "$tmp/s.tar" -o "$tmp/out.db"
    done
    # a huge number in a field the loader ignores loads
    mk "write('$tmp/s.tar', [m for m in $base if m[0] != '$dt'] + [('$dt', trails(trail('audit-a', Huge=1e308, Big=9223372036854775807)))])"
    safe "$tmp/s.tar" ;;
nan-like)
    st="accounts/$A/us-east-1/trails/$A/audit-a/get-trail-status.json"
    for v in '"NaN"' '"Infinity"' '"-Infinity"' '"1e999"' '"nan"' '"0x1p3"'; do
        mk "write('$tmp/s.tar', [m for m in $base if m[0] != '$st'] + [('$st', b'{\"IsLogging\": true, \"LatestDeliveryTime\": ' + b'$v'.replace(b'\\\\', b'') + b'}')])"
        run 1 "member '$st': field 'LatestDeliveryTime' is not a valid time" \
            "$ctaudit" load "$tmp/s.tar" -o "$tmp/out.db"
    done
    for v in NaN Infinity -Infinity; do
        mk "write('$tmp/s.tar', [m for m in $base if m[0] != '$st'] + [('$st', b'{\"IsLogging\": true, \"LatestDeliveryTime\": $v}')])"
        run 1 "member '$st': invalid JSON at line 1" \
            "$ctaudit" load "$tmp/s.tar" -o "$tmp/out.db"
    done
    mk "write('$tmp/s.tar', [m for m in $base if m[0] != '$st'] + [('$st', b'{\"IsLogging\": \"NaN\"}')])"
    run 1 "member '$st': field 'IsLogging' is not a boolean" \
        "$ctaudit" load "$tmp/s.tar" -o "$tmp/out.db"
    # NaN-like names are only text
    mk "write('$tmp/s.tar', [m for m in $base if m[0] != '$dt'] + [('$dt', trails(trail('NaN'), trail('Infinity'), trail('-0')))])"
    safe "$tmp/s.tar" ;;
invalid-utf8)
    mk "write('$tmp/s.tar', [m for m in $base if m[0] != '$dt'] + [('$dt', trails(trail('x')).replace(b'\"x\"', b'\"\\xff\\xfe\"', 1))])"
    run 1 "member '$dt': invalid JSON at line 1, column [0-9]+: (unable to decode byte 0xff|.*UTF-8)" \
        "$ctaudit" load "$tmp/s.tar" -o "$tmp/out.db" ;;
invalid-utf8-name)
    # invalid UTF-8 in member names and in a trail name taken from a path
    python3 - "$tmp/s.tar" "$fx" <<'PY_EOF' || fail "cannot build"
import sys, tarfile, io, os
sys.path.insert(0, os.path.dirname(sys.argv[1]))
os.environ["FX"] = sys.argv[2]
from mk import fixture
A = "111122223333"
with tarfile.open(sys.argv[1], "w", format=tarfile.GNU_FORMAT,
                  encoding="utf-8", errors="surrogateescape") as t:
    ms = fixture("semantics/dup-all") + [
        ("accounts/%s/\udcff\udcfe.json" % A, b"{}"),
        ("accounts/%s/us-east-1/trails/%s/bad\udcffname/get-trail-status.json" % (A, A),
         b'{"IsLogging": true}'),
        ("accounts/%s/us-east-1/errors/GetTrailStatus.%s.bad\udcffname2.json" % (A, A),
         b'{"Operation": "GetTrailStatus", "Code": "X\\u00e9", "Message": "m"}')]
    for n, d in ms:
        ti = tarfile.TarInfo(n); ti.size = len(d)
        t.addfile(ti, io.BytesIO(d))
PY_EOF
    run 0 "not part of the snapshot format: ignored" \
        "$ctaudit" load "$tmp/s.tar" -o "$tmp/out.db"
    safe "$tmp/s.tar"
    # the JSON keeps every key: the name is shown with '?' for bad bytes
    python3 -c "
import json
d = json.load(open('$tmp/report.json'))
f = [x for a in d['accounts'] for x in a['findings'] if 'bad?name2' in x.get('detail', '')]
assert f and len(f[0]) == 11, f
assert f[0]['trail_arns'] == ['arn:aws:cloudtrail:us-east-1:$A:trail/bad?name2'], f
" || fail "the JSON lost the finding's detail or trail" ;;
control-chars)
    # newlines and terminal escapes in member names: warnings and the error
    # line print them as '?', one line each
    mk "write('$tmp/s.tar', $base + [('accounts/x\\n\\x1b[31mRED\\x1b[0m.json', b'{}'), ('accounts/x\\n\\x1b[31mRED\\x1b[0m.json', b'{}')])"
    run 1 "^ctaudit: cannot load '.*': member 'accounts/x\\?\\?\\[31mRED\\?\\[0m.json': appears twice in the snapshot\$" \
        "$ctaudit" load "$tmp/s.tar" -o "$tmp/out.db"
    grep -q "^ctaudit: warning: .*member 'accounts/x??\\[31mRED?\\[0m.json': not part of the snapshot format" "$tmp/err" \
        || fail "the warning is not sanitized"
    [ "$(wc -l <"$tmp/err")" = 2 ] || fail "expected 2 stderr lines"
    ! grep -q "$(printf '\033')" "$tmp/err" || fail "an escape reached stderr" ;;
nul-bytes)
    mk "write('$tmp/s.tar', [m for m in $base if m[0] != '$dt'] + [('$dt', trails(trail('a\\u0000b')))])"
    run 1 "member '$dt': invalid JSON at line 1, column [0-9]+: .*NUL|null" \
        "$ctaudit" load "$tmp/s.tar" -o "$tmp/out.db"
    mk "write('$tmp/s.tar', [m for m in $base if m[0] != '$dt'] + [('$dt', trails(trail('audit-a', bucket='b\\u0000\\';DROP TABLE trails;--')))])"
    run 1 "member '$dt': invalid JSON at line 1, column [0-9]+" \
        "$ctaudit" load "$tmp/s.tar" -o "$tmp/out.db"
    mk "write('$tmp/s.tar', [m for m in $base if m[0] != '$dt'] + [('$dt', b'{\"trailList\": []}\\x00garbage')])"
    run 1 "member '$dt': invalid JSON at line 1, column [0-9]+" \
        "$ctaudit" load "$tmp/s.tar" -o "$tmp/out.db" ;;
hostile-names)
    # trail and bucket names made of shell, SQL, CSV, Markdown and HTML
    # syntax, in two regions so that findings name them
    mk "
names = ['x\\';DROP TABLE trails;--', 'q\"uote\"', 'semi;colon', '\$(touch pwned-sh)',
         '\`touch pwned-bt\`', 'pi|pe|s', 'new\\nline\\r\\nx', '**x**', '[a](b)',
         '<script>alert(1)</script>', 'comma,\"x\",y', '=cmd|\\' /C calc\\'!A0', '# head', 'tab\\tx']
# the display Name may hold '/' and ' ', the ARN's name may not
ts = [trail(n + ' \$(touch $sentinel-n)', bucket=n + '/\`touch $sentinel-b\`', arn_name=n.replace('/', '_').replace(' ', '_')) for n in names]
dt2 = trails(*ts)
st = b'{\"IsLogging\": true}'
ms = [('accounts/$A/us-east-1/describe-trails.json', dt2),
      ('accounts/$A/eu-west-1/describe-trails.json', dt2),
      ('accounts/$A/aliases.json', json.dumps({'AccountAliases': ['<b>|alias|</b>\\n**a**']}).encode())]
ms += [('accounts/$A/us-east-1/trails/$A/%s/get-trail-status.json' % n.replace('/', '_').replace(' ', '_'), st) for n in names]
write('$tmp/s.tar', ms)"
    run 0 "" "$ctaudit" load "$tmp/s.tar" -o "$tmp/out.db"
    safe "$tmp/s.tar" "<script>" "**x**" "[a](b)" "<b>" "|pe|"
    run 0 "" "$ctaudit" sql "$tmp/out.db" "SELECT count(*) FROM trails" --format csv
    [ "$(tail -1 "$tmp/out" | tr -d '\r')" = 14 ] || fail "expected 14 trails"
    grep -qF "| x';DROP TABLE trails;-- " "$tmp/report.md" || fail "the quote name is not in the report"
    grep -q '^- WARNING \[duplicate-management-events\]' "$tmp/report.md" || fail "no duplicate finding"
    run 0 "" "$ctaudit" sql "$tmp/out.db" "SELECT name FROM trails ORDER BY name" --format json
    python3 -c "
import json, sys
names = sorted(r['name'] for r in json.load(open('$tmp/out')))
assert any(n.startswith('new\nline\r\nx ') for n in names), names
assert any(n.startswith('pi|pe|s ') for n in names), names
" || fail "names did not round-trip through sql --format json"
    grep -q "WARNING: duplicate mgmt events on 14 trails in 2 region(s)" "$tmp/report.md" \
        || fail "the summary miscounts the trails"
    # a space in a TrailARN (AWS allows none) would split the space-separated
    # trail lists of findings: refused, in the body and in a member path
    mk "write('$tmp/sp.tar', [('$dt', trails(trail('sp ace')))])"
    run 1 "member '$dt': invalid TrailARN 'arn:aws:cloudtrail:us-east-1:$A:trail/sp ace'" \
        "$ctaudit" load "$tmp/sp.tar" -o "$tmp/sp.db"
    mk "write('$tmp/sp.tar', [('$dt', trails(trail('ok'))), ('accounts/$A/us-east-1/trails/$A/sp ace/get-trail-status.json', b'{\"IsLogging\": true}')])"
    run 1 "member 'accounts/$A/us-east-1/trails/$A/sp ace/get-trail-status.json': invalid trail name in the path" \
        "$ctaudit" load "$tmp/sp.tar" -o "$tmp/sp.db"
    echo "ok [$case]: 14 hostile names: tables, CSV and JSON intact, nothing run" ;;
lying-manifest)
    # ctcollect-style manifest + SHA256SUMS, then lies of every kind
    for lie in member sums missing extra; do
        mk "
import hashlib
ms = $base
lie = '$lie'
sums = ''.join('%s  %s\n' % (hashlib.sha256(d).hexdigest(), n) for n, d in ms)
if lie == 'missing':
    sums += '%s  accounts/$A/eu-west-2/describe-trails.json\n' % ('0' * 64)
if lie == 'member':
    ms = [(n, d + b' ' if n == '$dt' else d) for n, d in ms]
if lie == 'extra':
    ms = ms + [('accounts/$A/eu-west-3/describe-trails.json', b'{\"trailList\": []}')]
sha = hashlib.sha256(sums.encode()).hexdigest()
if lie == 'sums':
    sha = hashlib.sha256(b'other').hexdigest()
man = {'format': 'ctaudit-snapshot', 'format_version': 1, 'complete': True,
       'checksums': {'file': 'SHA256SUMS', 'sha256': sha, 'members': len(ms)}}
write('$tmp/s.tar', [('manifest.json', json.dumps(man).encode()), ('SHA256SUMS', sums.encode())] + ms)"
        case $lie in
        member) re="member '$dt' does not match the manifest" ;;
        sums) re="member 'SHA256SUMS' is missing or does not match the manifest" ;;
        missing) re="member 'accounts/$A/eu-west-2/describe-trails.json' is listed in the manifest but missing" ;;
        extra) re="member 'accounts/$A/eu-west-3/describe-trails.json' is in the snapshot but not listed" ;;
        esac
        run 1 "$re" "$ctaudit" load "$tmp/s.tar" -o "$tmp/out.db"
        run 1 "$re" "$ctaudit" report "$tmp/s.tar"
        [ ! -s "$tmp/out" ] || fail "report printed output for a refused snapshot"
        run 0 "manifest not verified" "$ctaudit" load --no-verify "$tmp/s.tar" -o "$tmp/nv-$lie.db"
    done ;;
same-arn)
    # one TrailARN, two configurations (two accounts list it differently):
    # one warning, the owner's home-region listing wins, in any member order
    B=444455556666
    mk "
a = trails(trail('shared', bucket='bucket-owner'))
b = trails(trail('shared', bucket='bucket-other'))
ms = [('accounts/$A/us-east-1/describe-trails.json', a),
      ('accounts/$B/us-east-1/describe-trails.json', b)]
write('$tmp/s1.tar', ms)
write('$tmp/s2.tar', ms[::-1])"
    for s in s1 s2; do
        run 0 "trail arn:aws:cloudtrail:us-east-1:$A:trail/shared is listed with different configurations .*; using the one from $A/us-east-1" \
            "$ctaudit" load "$tmp/$s.tar" -o "$tmp/$s.db"
        run 0 "" "$ctaudit" sql "$tmp/$s.db" "SELECT trail_arn, s3_bucket_name, listed_by_account_id FROM trails" --format csv
        cp "$tmp/out" "$tmp/$s.csv"
        grep -q "bucket-owner,$A" "$tmp/$s.csv" || fail "$s: the owner's listing did not win"
        run 0 "" "$ctaudit" report "$tmp/$s.tar" --format json
        sed "s/\"label\":\"$s.tar\"//" "$tmp/out" >"$tmp/$s.json"
    done
    cmp -s "$tmp/s1.json" "$tmp/s2.json" || fail "the report depends on member order"
    echo "ok [$case]: same result in both member orders" ;;
sql-guard)
    "$ctaudit" load -q "$fx/semantics/dup-all" -o "$tmp/db.db" 2>"$tmp/err" || fail "load"
    cp "$tmp/db.db" "$tmp/db.orig"
    for input in "$tmp/db.db" "$fx/semantics/dup-all"; do
        for q in "DELETE FROM trails" "INSERT INTO trails (trail_arn) VALUES ('x')" \
            "UPDATE trails SET name = 'x'" "DROP TABLE trails" "CREATE TABLE t (x)" \
            "CREATE TEMP TABLE t (x)" "CREATE TEMP VIEW v AS SELECT 1" \
            "CREATE TEMP TRIGGER tr AFTER INSERT ON trails BEGIN SELECT 1; END" \
            "ATTACH DATABASE '$sentinel-attach.db' AS x" "ATTACH ':memory:' AS x" \
            "DETACH DATABASE main" "PRAGMA query_only = 0" "PRAGMA writable_schema = 1" \
            "PRAGMA journal_mode = DELETE" "PRAGMA main.user_version = 7" \
            "VACUUM" "VACUUM INTO '$sentinel-vacuum.db'" "REINDEX" "ANALYZE" \
            "BEGIN" "SAVEPOINT s" "SELECT 1; DELETE FROM trails" \
            "WITH x AS (SELECT 1) INSERT INTO trails (trail_arn) SELECT * FROM x" \
            "REPLACE INTO trails (trail_arn) VALUES ('x')"; do
            run 1 "read-only|not authorized" "$ctaudit" sql "$input" "$q"
        done
        for q in "SELECT load_extension('$tmp/x.so')" \
            "SELECT load_extension('/usr/lib/x86_64-linux-gnu/libsqlite3.so.0', 'sqlite3_fileio_init')" \
            "SELECT readfile('/etc/passwd')" "SELECT writefile('$sentinel-w', 'x')" \
            "SELECT edit('x', 'sh -c \"touch $sentinel-edit\"')" \
            "SELECT fts3_tokenizer('simple')" \
            "SELECT * FROM fsdir('/etc')" "SELECT * FROM zipfile('$tmp/x.zip')" \
            "SELECT * FROM sqlite_dbpage" "SELECT * FROM pragma_journal_mode('delete')"; do
            run 1 "read-only|not authorized|no such (function|table)|unknown|not allowed|prohibited" \
                "$ctaudit" sql "$input" "$q"
        done
    done
    cmp -s "$tmp/db.db" "$tmp/db.orig" || fail "the database changed"
    run 0 "" "$ctaudit" sql "$tmp/db.db" "SELECT count(*) FROM trails" --format csv
    echo "ok [$case]: every write, ATTACH, extension and file access refused" ;;
rules-dir-guard)
    "$ctaudit" load -q "$fx/semantics/dup-all" -o "$tmp/db.db" 2>"$tmp/err" || fail "load"
    cp "$tmp/db.db" "$tmp/db.orig"
    hdr='-- title: t
-- severity: warning
-- rationale: r
-- remediation: m'
    cols="'evil' AS rule_id, 'warning' AS severity, NULL AS account_id, NULL AS region, NULL AS trail_arns, NULL AS detail, NULL AS read_copies, NULL AS write_copies, NULL AS paid_copies"
    i=0
    for body in "DELETE FROM trails" \
        "SELECT $cols; DELETE FROM trails" \
        "SELECT $cols FROM trails ORDER BY 1; DROP TABLE trails" \
        "ATTACH DATABASE '$sentinel-attach.db' AS x" \
        "CREATE TEMP TABLE x AS SELECT $cols" \
        "PRAGMA query_only = 0" \
        "VACUUM INTO '$sentinel-vacuum.db'" \
        "SELECT load_extension('$tmp/x.so') AS rule_id, 'warning' AS severity, NULL AS account_id, NULL AS region, NULL AS trail_arns, NULL AS detail, NULL AS read_copies, NULL AS write_copies, NULL AS paid_copies" \
        "SELECT readfile('/etc/passwd') AS rule_id, 'warning' AS severity, NULL AS account_id, NULL AS region, NULL AS trail_arns, NULL AS detail, NULL AS read_copies, NULL AS write_copies, NULL AS paid_copies" \
        "SELECT writefile('$sentinel-w', 'x') AS rule_id, 'warning' AS severity, NULL AS account_id, NULL AS region, NULL AS trail_arns, NULL AS detail, NULL AS read_copies, NULL AS write_copies, NULL AS paid_copies" \
        "WITH x AS (SELECT 1) DELETE FROM trails"; do
        i=$((i + 1))
        rm -rf "$tmp/rules"
        mkdir "$tmp/rules"
        printf '%s\n%s\n' "$hdr" "$body" >"$tmp/rules/evil.sql"
        for input in "$tmp/db.db" "$fx/semantics/dup-all"; do
            run 1 "rule 'evil' .*(read-only|not authorized|exactly one SELECT|no such function)" \
                "$ctaudit" report "$input" --rules-dir "$tmp/rules"
            [ ! -s "$tmp/out" ] || fail "attempt $i: a report was printed"
        done
    done
    cmp -s "$tmp/db.db" "$tmp/db.orig" || fail "the database changed"
    echo "ok [$case]: $i hostile rules refused, database unchanged" ;;
*)
    echo "unknown case $case"; exit 1 ;;
esac
exit 0
