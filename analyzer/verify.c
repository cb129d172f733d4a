/*
 * Manifest verification: SHA256SUMS lines and the members' own hashes meet
 * in a string map (one entry per path, in memory: a quarter of a million
 * members would otherwise cost as many database rows), and the first
 * failing path, in byte order, is reported.
 */
#include "analyzer/verify.h"

#include <stdlib.h>
#include <string.h>

#include "core/snapshot.h"

static int hex_value(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                                                 : -1;
}

/* 64 lowercase hex digits -> 32 bytes; -1 if not hex. */
int verify_hex_digest(unsigned char out[32], const char *hex)
{
    for (int i = 0; i < 32; i++) {
        int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

int verify_order_add(struct verify_order *o, const char *path,
                     struct member_state *state)
{
    if (o->n == o->cap) {
        size_t ncap = o->cap ? o->cap * 2 : 1024;
        const char **np = realloc(o->path, ncap * sizeof(*np));
        if (np)
            o->path = np;
        struct member_state **ns = realloc(o->state, ncap * sizeof(*ns));
        if (ns)
            o->state = ns;
        if (!np || !ns)
            return -1;
        o->cap = ncap;
    }
    o->path[o->n] = path;
    o->state[o->n++] = state;
    return 0;
}

void verify_order_release(struct verify_order *o)
{
    free(o->path);
    free(o->state);
    memset(o, 0, sizeof(*o));
}

/* SHA256SUMS: "<64 hex>  <path>" lines, as sha256sum writes them. */
int verify_add_checksums(struct strmap *paths,
                         const struct verify_order *order,
                         const struct src_member *m, struct ct_error *err)
{
    const char *p = (const char *)m->data, *end = p + m->size;
    unsigned long line = 0;
    size_t next = 0; /* the member read after the last line's */
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        char path[CT_MEMBER_PATH_MAX];
        unsigned char digest[32];
        line++;
        size_t n = (size_t)(eol - p);
        if (n == 0) {
            p = eol + 1;
            continue;
        }
        if (!(n > 66 && p[64] == ' ' && (p[65] == ' ' || p[65] == '*')
              && n - 66 < sizeof(path) && verify_hex_digest(digest, p) == 0))
            return ct_error_set(err, CT_EPARSE,
                                "member '%s': line %lu is not '<sha256>  "
                                "<path>'",
                                m->path, line);
        memcpy(path, p + 66, n - 66);
        path[n - 66] = '\0';
        struct member_state *st;
        if (next < order->n && strcmp(order->path[next], path) == 0)
            st = order->state[next++]; /* the same entry, found in order */
        else if (!(st = strmap_put(paths, path, NULL)))
            return ct_error_set(err, CT_ENOMEM, "out of memory");
        if (st->flags & MEMBER_LISTED)
            return ct_error_set(err, CT_EPARSE,
                                "member '%s': line %lu lists '%s' a second "
                                "time",
                                m->path, line, path);
        st->flags |= MEMBER_LISTED;
        memcpy(st->listed, digest, sizeof(digest));
        p = nl ? nl + 1 : end;
    }
    return 0;
}

/* ---- dispatch ----------------------------------------------------------- */

/* The first (smallest) path failing each check, for a stable message. */
struct verify_state {
    const char *mismatch, *missing, *unlisted;
};

static void keep_min(const char **slot, const char *path)
{
    if (!*slot || strcmp(path, *slot) < 0)
        *slot = path;
}

static void verify_one(void *ctx, const char *path, void *value)
{
    struct verify_state *v = ctx;
    const struct member_state *st = value;
    int present = st->flags & MEMBER_PRESENT, listed = st->flags & MEMBER_LISTED;
    if (present && listed && memcmp(st->actual, st->listed, 32) != 0)
        keep_min(&v->mismatch, path);
    else if (listed && !present)
        keep_min(&v->missing, path);
    else if (present && !listed && strcmp(path, CT_SNAPSHOT_MANIFEST) != 0
             && strcmp(path, CT_SNAPSHOT_CHECKSUMS) != 0)
        keep_min(&v->unlisted, path);
}

/* Checks every member against SHA256SUMS and SHA256SUMS against the
 * manifest. */
int verify_members(const struct strmap *paths, const char *sums_expected,
                   struct ct_error *err)
{
    struct verify_state v = {NULL, NULL, NULL};
    const struct member_state *sums;
    unsigned char expected[32];
    if (!sums_expected || !sums_expected[0])
        return ct_error_set(err, CT_EVERIFY,
                            "member 'manifest.json' has no checksums: it "
                            "cannot be verified (use --no-verify to load "
                            "anyway)");
    sums = strmap_get(paths, CT_SNAPSHOT_CHECKSUMS);
    if (!sums || !(sums->flags & MEMBER_PRESENT)
        || verify_hex_digest(expected, sums_expected) != 0
        || memcmp(sums->actual, expected, 32) != 0)
        return ct_error_set(err, CT_EVERIFY,
                            "member 'SHA256SUMS' is missing or does not "
                            "match the manifest (use --no-verify to load "
                            "anyway)");
    strmap_each(paths, verify_one, &v);
    if (v.mismatch)
        return ct_error_set(err, CT_EVERIFY,
                            "member '%s' does not match the manifest "
                            "(SHA-256 differs) (use --no-verify to load "
                            "anyway)",
                            v.mismatch);
    if (v.missing)
        return ct_error_set(err, CT_EVERIFY,
                            "member '%s' is listed in the manifest but "
                            "missing from the snapshot (use --no-verify to "
                            "load anyway)",
                            v.missing);
    if (v.unlisted)
        return ct_error_set(err, CT_EVERIFY,
                            "member '%s' is in the snapshot but not listed "
                            "in the manifest (use --no-verify to load "
                            "anyway)",
                            v.unlisted);
    return 0;
}

