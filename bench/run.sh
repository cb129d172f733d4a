#!/usr/bin/env bash
# bench/run.sh: measures `ctaudit load` and `ctaudit report` on a large
# synthetic organization against the decompress-and-parse floor
# (ct_bench_floor), and prints a Markdown table. Builds nothing: point it at
# a build directory (default: build). See bench/README.md.
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")

accounts=10000
regions=17
runs=5
seed=1
build=build
manifest=1

usage() {
    cat <<EOF
usage: bench/run.sh [--accounts N] [--regions K] [--runs R] [--seed S]
                    [--build DIR] [--no-manifest]

Generates (or reuses, from bench/out/) a synthetic organization of N
accounts x K regions with bench/gen_org.py, then times R runs each of
  floor   DIR/bench/ct_bench_floor SNAPSHOT
  load    ctaudit load SNAPSHOT -o TMP.db
  report  ctaudit report SNAPSHOT >/dev/null
with /usr/bin/time, and prints medians, the ratio to the floor and the
peak RSS as a Markdown table.

  --accounts N    accounts in the organization (default 10000)
  --regions K     enabled regions per account (default 17)
  --runs R        runs per step (default 5)
  --seed S        generator seed (default 1)
  --build DIR     build directory (default build; relative to the current
                  directory, else to the repository root)
  --no-manifest   snapshot without manifest.json (no hashing on load)
EOF
}

die() {
    echo "run.sh: $*" >&2
    exit 1
}

is_uint() {
    [[ $1 =~ ^[0-9]+$ ]] && (($1 > 0))
}

while (($#)); do
    case $1 in
    --accounts) accounts=${2-}; shift 2 || { usage >&2; exit 2; } ;;
    --regions) regions=${2-}; shift 2 || { usage >&2; exit 2; } ;;
    --runs) runs=${2-}; shift 2 || { usage >&2; exit 2; } ;;
    --seed) seed=${2-}; shift 2 || { usage >&2; exit 2; } ;;
    --build) build=${2-}; shift 2 || { usage >&2; exit 2; } ;;
    --no-manifest) manifest=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
    esac
done
for v in accounts regions runs; do
    is_uint "${!v}" || { echo "run.sh: --$v must be a positive integer" >&2; exit 2; }
done
[[ $seed =~ ^[0-9]+$ ]] || { echo "run.sh: --seed must be an integer" >&2; exit 2; }

if [[ ! -d $build && -d $root/$build ]]; then
    build=$root/$build
fi
[[ -d $build ]] || die "no build directory '$build' (cmake -B build && cmake --build build)"
build=$(cd "$build" && pwd)
floor=$build/bench/ct_bench_floor
[[ -x $floor ]] || die "no '$floor' (cmake --build $build)"
[[ -x /usr/bin/time ]] || die "/usr/bin/time not found (apt-get install time)"

ctaudit=
for c in "$build/analyzer/ctaudit" "$build/ctaudit"; do
    if [[ -x $c ]]; then
        ctaudit=$c
        break
    fi
done

# The synthetic organization, cached: gen_org.py writes NAME.partial and
# renames it when complete, so an existing file is a finished one.
mkdir -p "$here/out"
suffix=
((manifest)) && suffix=-manifest
snap=$here/out/org-${accounts}x${regions}-seed${seed}${suffix}.tar.gz
if [[ ! -f $snap ]]; then
    echo "run.sh: generating $snap" >&2
    gen=(python3 "$here/gen_org.py" --accounts "$accounts" --regions "$regions"
        --seed "$seed" -o "$snap")
    ((manifest)) && gen+=(--manifest)
    t0=$(date +%s.%N)
    "${gen[@]}"
    t1=$(date +%s.%N)
    gen_seconds=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
else
    echo "run.sh: reusing $snap" >&2
    gen_seconds=
fi
cat "$snap" >/dev/null # warm the page cache: measure CPU, not the disk

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ctbench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# measure NAME CMD...: runs CMD $runs times; leaves "seconds rss_kib" lines
# in $tmp/NAME.times, or the reason in $tmp/NAME.failed.
measure() {
    local name=$1
    shift
    : >"$tmp/$name.times"
    for ((i = 1; i <= runs; i++)); do
        rm -f "$tmp/x.db"
        local rc=0
        /usr/bin/time -f '%e %M' -o "$tmp/time" -- "$@" \
            >"$tmp/$name.out" 2>"$tmp/$name.err" || rc=$?
        if ((rc != 0 && rc != 3)); then
            {
                printf 'exit %d: ' "$rc"
                if [[ -s $tmp/$name.err ]]; then
                    head -n 1 "$tmp/$name.err"
                else
                    echo "no message on stderr"
                fi
            } >"$tmp/$name.failed"
            echo "run.sh: $name failed, run $i: $(cat "$tmp/$name.failed")" >&2
            return 0
        fi
        tail -n 1 "$tmp/time" >>"$tmp/$name.times"
        echo "run.sh: $name run $i/$runs: $(tail -n 1 "$tmp/time") (s KiB)" >&2
    done
}

median() { # column $1 of $2
    sort -n -k"$1","$1" "$2" | awk -v c="$1" '{ v[NR] = $c }
        END { if (NR % 2) print v[(NR + 1) / 2];
              else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

max_rss_mib() {
    awk '$2 > m { m = $2 } END { printf "%.1f", m / 1024 }' "$1"
}

measure floor "$floor" "$snap"
[[ -f $tmp/floor.failed ]] && die "the floor failed: $(cat "$tmp/floor.failed")"
members=$(awk '$1 == "members" { print $2 }' "$tmp/floor.out")
bytes=$(awk '$1 == "bytes" { print $2 }' "$tmp/floor.out")

skip_load=''
skip_report=''
if [[ -z $ctaudit ]]; then
    skip_load="skipped: no ctaudit in $build (analyzer not built yet)"
    skip_report=$skip_load
else
    if "$ctaudit" load --help >/dev/null 2>&1; then
        measure load "$ctaudit" load "$snap" -o "$tmp/x.db"
    else
        skip_load="skipped: ctaudit has no 'load' subcommand yet"
    fi
    if "$ctaudit" report --help >/dev/null 2>&1; then
        measure report "$ctaudit" report "$snap"
    else
        skip_report="skipped: ctaudit has no 'report' subcommand yet"
    fi
fi

floor_med=$(median 1 "$tmp/floor.times")

# row NAME LABEL RATIO_TARGET SKIP
row() {
    local name=$1 label=$2 target=$3 skip=$4
    if [[ -n $skip ]]; then
        printf '| %s | %s | | | | |\n' "$label" "$skip"
        return
    fi
    if [[ -f $tmp/$name.failed ]]; then
        printf '| %s | failed (%s) | | | | |\n' "$label" "$(cat "$tmp/$name.failed")"
        return
    fi
    local med rss ratio verdict
    med=$(median 1 "$tmp/$name.times")
    rss=$(max_rss_mib "$tmp/$name.times")
    ratio=$(awk -v a="$med" -v b="$floor_med" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }')
    if [[ $target == - ]]; then
        verdict="floor"
    else
        verdict=$(awk -v r="$ratio" -v t="$target" -v m="$rss" 'BEGIN {
            s = (r <= t) ? "ok" : "over time target";
            if (m >= 256) s = s ", over RSS target";
            print s }')
        target="<= ${target}x"
    fi
    printf '| %s | %s | %sx | %s | %s | %s |\n' "$label" "$med" "$ratio" \
        "$target" "$rss" "$verdict"
}

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo 2>/dev/null || true)
size=$(stat -c %s "$snap")

echo
echo "### ctaudit benchmark: ${accounts} accounts x ${regions} regions"
echo
echo "- machine: $(nproc) CPUs, ${cpu:-unknown CPU}, ${mem:-? GiB}, $(uname -sr)"
printf -- '- snapshot: %s (%s bytes .tar.gz, %s members, %s bytes uncompressed, manifest %s)\n' \
    "${snap#"$root"/}" "$size" "$members" "$bytes" "$( ((manifest)) && echo yes || echo no)"
[[ -n $gen_seconds ]] && echo "- generated in ${gen_seconds} s by bench/gen_org.py (seed $seed)"
echo "- $runs runs each, median wall seconds; peak RSS is the largest of the runs"
echo
echo "| step | median s | x floor | target | peak RSS MiB (target < 256) | verdict |"
echo "| --- | ---: | ---: | --- | ---: | --- |"
row floor "floor (ct_bench_floor)" - ""
row load "ctaudit load SNAP -o DB" 1.5 "$skip_load"
row report "ctaudit report SNAP" 2 "$skip_report"
