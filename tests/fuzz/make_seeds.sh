#!/bin/sh
# Seeds the fuzz corpus: every snapshot directory of fixtures/ as a tar
# (plain), and a few as .tar.gz, .tar.xz, .tar.zst and with a top folder.
#   make_seeds.sh SOURCE_DIR OUT_DIR
set -eu
src=$1 out=$2
mkdir -p "$out"
fx="$src/fixtures"
n=0
for dir in "$fx"/example-org "$fx"/cli-v2-dump "$fx"/raw-api "$fx"/org-trail \
    "$fx"/semantics/* "$fx"/bad/*; do
    [ -d "$dir" ] || continue
    name=$(echo "${dir#"$fx"/}" | tr / _)
    tar cf "$out/$name.tar" --sort=name --owner=0 --group=0 --numeric-owner \
        --mtime=@0 -C "$dir" .
    n=$((n + 1))
done
# compressed and folder-prefixed variants of a few
for name in example-org raw-api semantics/dup-all; do
    base=$(echo "$name" | tr / _)
    parent=$(dirname "$fx/$name") leaf=$(basename "$name")
    tar cf - --sort=name --mtime=@0 -C "$parent" "$leaf" | gzip -n >"$out/$base.top.tgz"
    tar cf - --sort=name --mtime=@0 -C "$fx/$name" . | xz >"$out/$base.tar.xz"
    tar cf - --sort=name --mtime=@0 -C "$fx/$name" . | zstd -q >"$out/$base.tar.zst"
    n=$((n + 3))
done
echo "make_seeds: $n seeds in $out"
