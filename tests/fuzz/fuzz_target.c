/*
 * libFuzzer entry point over the whole analyzer path (harness.h), with a
 * tar-aware mutator: byte mutations of a tar mostly break its header
 * checksums, so half of the mutations parse the (uncompressed ustar) input,
 * mutate one member's content or name with libFuzzer's own mutator, and
 * write the archive back with correct sizes and checksums.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
                               unsigned int seed);
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_one(data, size);
}

#define BLOCK 512
#define MAX_MEMBERS 512

struct tar_member {
    size_t header; /* offset of the header block */
    size_t size;   /* content bytes */
};

static size_t octal(const uint8_t *p, size_t n)
{
    size_t v = 0;
    for (size_t i = 0; i < n && p[i] >= '0' && p[i] <= '7'; i++)
        v = v * 8 + (size_t)(p[i] - '0');
    return v;
}

static void set_checksum(uint8_t *h)
{
    unsigned sum = 0;
    memset(h + 148, ' ', 8);
    for (int i = 0; i < BLOCK; i++)
        sum += h[i];
    snprintf((char *)h + 148, 8, "%06o", sum & 0777777);
    h[155] = ' ';
}

static size_t parse_tar(const uint8_t *d, size_t size, struct tar_member *m)
{
    size_t off = 0, n = 0;
    while (off + BLOCK <= size && n < MAX_MEMBERS) {
        const uint8_t *h = d + off;
        if (h[0] == 0)
            break;
        if (memcmp(h + 257, "ustar", 5) != 0)
            return 0;
        size_t len = octal(h + 124, 12);
        if (len > size || off + BLOCK + len > size)
            return 0;
        m[n].header = off;
        m[n].size = len;
        n++;
        off += BLOCK + (len + BLOCK - 1) / BLOCK * BLOCK;
    }
    return n;
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
                               unsigned int seed)
{
    static struct tar_member m[MAX_MEMBERS];
    srand(seed);
    size_t n = rand() % 2 ? parse_tar(data, size, m) : 0;
    if (n == 0)
        return LLVMFuzzerMutate(data, size, max_size);
    size_t pick = (size_t)rand() % n;
    int rename = rand() % 8 == 0;
    size_t cap = m[pick].size + 4096;
    uint8_t *content = malloc(cap);
    uint8_t *out = malloc(max_size);
    size_t len = m[pick].size, o = 0;
    if (!content || !out) {
        free(content);
        free(out);
        return LLVMFuzzerMutate(data, size, max_size);
    }
    memcpy(content, data + m[pick].header + BLOCK, len);
    if (!rename)
        len = LLVMFuzzerMutate(content, len, cap);
    for (size_t i = 0; i < n; i++) {
        size_t clen = i == pick ? len : m[i].size;
        size_t padded = (clen + BLOCK - 1) / BLOCK * BLOCK;
        if (o + BLOCK + padded + 2 * BLOCK > max_size)
            break;
        uint8_t *h = out + o;
        memcpy(h, data + m[i].header, BLOCK);
        if (i == pick && rename) {
            size_t nl = strnlen((char *)h, 100);
            nl = LLVMFuzzerMutate(h, nl, 99);
            memset(h + nl, 0, 100 - nl);
        }
        snprintf((char *)h + 124, 12, "%011zo", clen);
        set_checksum(h);
        o += BLOCK;
        memcpy(out + o, i == pick ? content : data + m[i].header + BLOCK,
               clen);
        memset(out + o + clen, 0, padded - clen);
        o += padded;
    }
    memset(out + o, 0, 2 * BLOCK);
    o += 2 * BLOCK;
    memcpy(data, out, o);
    free(content);
    free(out);
    return o;
}
