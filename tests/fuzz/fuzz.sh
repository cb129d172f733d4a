#!/bin/sh
# Long fuzzing of the analyzer (not part of ctest; see README.md).
#   tests/fuzz/fuzz.sh [SECONDS]          default 1800 (30 minutes)
# Environment: BUILD (default build-fuzz, configured here with clang-14 and
# -DCT_FUZZ=ON if missing), WORK (default /tmp/ctaudit-fuzz: seeds/,
# corpus/, artifacts/, fuzz.log), JOBS (default 2: at most 2 processes).
# Crashes, leaks, timeouts and sanitizer reports land in $WORK/artifacts/;
# reproduce one with $BUILD/tests/fuzz/ctaudit_fuzz FILE, fix it, and copy
# it to tests/fuzz/regressions/ so that ctest replays it.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
seconds=${1:-1800}
build=${BUILD:-$src/build-fuzz}
work=${WORK:-/tmp/ctaudit-fuzz}
jobs=${JOBS:-2}
export LC_ALL=C

if [ ! -x "$build/tests/fuzz/ctaudit_fuzz" ]; then
    CC=clang-14 cmake -S "$src" -B "$build" -DCT_FUZZ=ON >/dev/null
    cmake --build "$build" -j"$jobs" --target ctaudit_fuzz
fi
mkdir -p "$work/corpus" "$work/artifacts"
"$here/make_seeds.sh" "$src" "$work/seeds" >/dev/null
cp "$here"/regressions/* "$work/seeds/" 2>/dev/null || true
rm -f "$work/seeds/README.md"

# -fork: $jobs worker processes that survive each other's crashes; every
# finding is kept in artifacts/ and the run goes on.
cd "$work"
"$build/tests/fuzz/ctaudit_fuzz" -fork="$jobs" -ignore_crashes=1 \
    -ignore_timeouts=1 -ignore_ooms=1 -max_total_time="$seconds" \
    -timeout=20 -rss_limit_mb=2048 -max_len=262144 \
    -dict="$here/ctaudit.dict" -artifact_prefix="$work/artifacts/" \
    "$work/corpus" "$work/seeds" 2>&1 | tee "$work/fuzz.log" | grep -E \
    "^#[0-9]+: cov|INFO: fuzzed|crash|leak|timeout|ERROR|Done" || true
echo "fuzz.sh: $(ls "$work/corpus" | wc -l) corpus inputs," \
    "$(ls "$work/artifacts" | wc -l) artifacts in $work/artifacts"
