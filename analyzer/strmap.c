/*
 * Open-addressing string map with linear probing and a word-at-a-time
 * hash. Each slot keeps its key's hash, so probing compares strings only on
 * a hash match and growing never rehashes. Entries (the value, then the
 * key's bytes) are carved from blocks of 64 KiB, freed all at once: the
 * report interns about a million strings.
 */
#include "analyzer/strmap.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct strmap_block {
    struct strmap_block *next;
    max_align_t data[]; /* the entries */
};

#define BLOCK_BYTES 65536

/* size bytes from the newest block, aligned for any value; NULL: no
 * memory. An entry larger than a block gets a block of its own. */
static void *carve(struct strmap *m, size_t size)
{
    size = (size + alignof(max_align_t) - 1) / alignof(max_align_t)
           * alignof(max_align_t);
    if (size > m->room_left) {
        size_t bytes = size > BLOCK_BYTES ? size : BLOCK_BYTES;
        struct strmap_block *b = malloc(sizeof(*b) + bytes);
        if (!b)
            return NULL;
        b->next = m->blocks;
        m->blocks = b;
        m->room = (char *)b->data;
        m->room_left = bytes;
    }
    void *p = m->room;
    m->room += size;
    m->room_left -= size;
    return p;
}

struct strmap_slot {
    char *key;     /* inside the entry; NULL: empty */
    void *value;   /* the entry: value_size bytes, then the key */
    size_t hash;
};

/* Eight bytes at a time (keys are ARNs, paths and ids of 12 to 100
 * bytes), then a final mix so that the low bits, which pick the slot,
 * depend on every byte. */
static size_t hash(const char *s, size_t *len)
{
    const size_t n = strlen(s);
    const unsigned char *p = (const unsigned char *)s;
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ n, w;
    size_t left = n;
    for (; left >= 8; p += 8, left -= 8) {
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xFF51AFD7ED558CCDULL;
        h ^= h >> 32;
    }
    w = 0;
    memcpy(&w, p, left);
    h = (h ^ w) * 0xFF51AFD7ED558CCDULL;
    h ^= h >> 29;
    h *= 0xC4CEB9FE1A85EC53ULL;
    h ^= h >> 32;
    *len = n;
    return (size_t)h;
}

/* The slot of key, or the empty slot where it belongs (cap > 0). */
static struct strmap_slot *probe(const struct strmap *m, const char *key,
                                 size_t h)
{
    size_t i = h & (m->cap - 1);
    while (m->slots[i].key) {
        if (m->slots[i].hash == h && strcmp(m->slots[i].key, key) == 0)
            break;
        i = (i + 1) & (m->cap - 1);
    }
    return &m->slots[i];
}

void *strmap_get(const struct strmap *m, const char *key)
{
    size_t len;
    if (!m->cap)
        return NULL;
    struct strmap_slot *s = probe(m, key, hash(key, &len));
    return s->key ? s->value : NULL;
}

static int grow(struct strmap *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 1024;
    struct strmap_slot *ns = calloc(ncap, sizeof(*ns));
    if (!ns)
        return -1;
    for (size_t k = 0; k < m->cap; k++) {
        if (!m->slots[k].key)
            continue;
        size_t i = m->slots[k].hash & (ncap - 1);
        while (ns[i].key)
            i = (i + 1) & (ncap - 1);
        ns[i] = m->slots[k];
    }
    free(m->slots);
    m->slots = ns;
    m->cap = ncap;
    return 0;
}

/* The slot of key, added (value zero-filled) if absent; NULL: no memory. */
static struct strmap_slot *put_slot(struct strmap *m, const char *key,
                                    int *added)
{
    size_t len, h = hash(key, &len);
    struct strmap_slot *s;
    if (added)
        *added = 0;
    if (m->cap) {
        s = probe(m, key, h);
        if (s->key)
            return s;
    }
    if ((m->n + 1) * 2 > m->cap) {
        if (grow(m))
            return NULL;
    }
    s = probe(m, key, h);
    /* the key follows the value, which keeps malloc's alignment */
    size_t vsize = (m->value_size + alignof(max_align_t) - 1)
                   / alignof(max_align_t) * alignof(max_align_t);
    char *block = carve(m, vsize + len + 1);
    if (!block)
        return NULL;
    memset(block, 0, vsize);
    memcpy(block + vsize, key, len + 1);
    s->key = block + vsize;
    s->value = block;
    s->hash = h;
    m->n++;
    if (added)
        *added = 1;
    return s;
}

void *strmap_put(struct strmap *m, const char *key, int *added)
{
    struct strmap_slot *s = put_slot(m, key, added);
    return s ? s->value : NULL;
}

void *strmap_put_stored(struct strmap *m, const char *key, int *added,
                        const char **stored)
{
    struct strmap_slot *s = put_slot(m, key, added);
    *stored = s ? s->key : NULL;
    return s ? s->value : NULL;
}

const char *strmap_intern(struct strmap *m, const char *s, int *oom)
{
    struct strmap_slot *slot;
    if (!s)
        return NULL;
    if (!(slot = put_slot(m, s, NULL))) {
        *oom = 1;
        return NULL;
    }
    return slot->key;
}

const char *strmap_intern_recent(struct strmap *m, const char *s,
                                 const char **recent, int *oom)
{
    if (s && *recent && strcmp(*recent, s) == 0)
        return *recent;
    const char *k = strmap_intern(m, s, oom);
    if (k)
        *recent = k;
    return k;
}

void strmap_each(const struct strmap *m,
                 void (*fn)(void *ctx, const char *key, void *value),
                 void *ctx)
{
    for (size_t k = 0; k < m->cap; k++)
        if (m->slots[k].key)
            fn(ctx, m->slots[k].key, m->slots[k].value);
}

void strmap_release(struct strmap *m)
{
    while (m->blocks) {
        struct strmap_block *next = m->blocks->next;
        free(m->blocks);
        m->blocks = next;
    }
    m->room = NULL;
    m->room_left = 0;
    free(m->slots);
    m->slots = NULL;
    m->cap = m->n = 0;
}
