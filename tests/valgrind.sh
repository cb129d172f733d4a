#!/bin/sh
# valgrind memcheck over the CLI golden tests: every fixture of
# tests/cli/golden.sh (Markdown and JSON reports) with a ctaudit built
# without sanitizers (ASan and valgrind do not mix). Any memcheck error or
# definite/indirect leak fails (exit 99 from valgrind), as does a report
# that differs from its golden file.
#   tests/valgrind.sh [BUILD_DIR]     default: build-valgrind (configured
#                                     and built here when missing)
# Run by .ci/run after ctest.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build-valgrind}
command -v valgrind >/dev/null 2>&1 ||
    { echo "valgrind.sh: valgrind is not installed (sh .ci/deps --test)" >&2; exit 1; }
if [ ! -f "$build/CMakeCache.txt" ]; then
    cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCT_WERROR=ON -DCT_SANITIZE=OFF -DBUILD_TESTING=OFF >/dev/null
fi
cmake --build "$build" -j"$(nproc)" --target ctaudit >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/ctaudit" <<WRAP
#!/bin/sh
exec valgrind -q --tool=memcheck --leak-check=full --error-exitcode=99 \\
    --errors-for-leak-kinds=definite,indirect \\
    --show-leak-kinds=definite,indirect \\
    "$build/analyzer/ctaudit" "\$@"
WRAP
chmod +x "$tmp/ctaudit"
# the fixtures of tests/cli/analyzer.cmake's golden tests
{
    for f in example-org cli-v2-dump raw-api org-trail; do echo "$f"; done
    for d in "$src"/fixtures/semantics/*/; do
        echo "semantics/$(basename "$d")"
    done
} >"$tmp/fixtures"
start=$(date +%s)
export LC_ALL=C
if xargs -P "$(nproc)" -I{} sh -c \
    'sh "$1/tests/cli/golden.sh" "$2" "$1" "$3" >"$4/$(echo "$3" | tr / _).log" 2>&1 ||
     { cat "$4/$(echo "$3" | tr / _).log"; exit 1; }' \
    sh "$src" "$tmp/ctaudit" {} "$tmp" <"$tmp/fixtures"; then
    n=$(wc -l <"$tmp/fixtures")
    echo "valgrind: $n fixtures x 2 formats clean ($(($(date +%s) - start)) s)"
else
    echo "valgrind: FAIL (memcheck errors or leaks above)"
    exit 1
fi
