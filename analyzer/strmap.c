/* Open-addressing string map with linear probing and FNV-1a hashing. */
#include "analyzer/strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct strmap_slot {
    char *key;   /* owned; NULL: empty */
    void *value; /* owned, value_size bytes */
};

static size_t hash(const char *s)
{
    uint64_t h = 14695981039346656037ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return (size_t)h;
}

static struct strmap_slot *find(const struct strmap *m, const char *key)
{
    if (!m->cap)
        return NULL;
    size_t i = hash(key) & (m->cap - 1);
    while (m->slots[i].key) {
        if (strcmp(m->slots[i].key, key) == 0)
            return &m->slots[i];
        i = (i + 1) & (m->cap - 1);
    }
    return NULL;
}

void *strmap_get(const struct strmap *m, const char *key)
{
    struct strmap_slot *s = find(m, key);
    return s ? s->value : NULL;
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
        size_t i = hash(m->slots[k].key) & (ncap - 1);
        while (ns[i].key)
            i = (i + 1) & (ncap - 1);
        ns[i] = m->slots[k];
    }
    free(m->slots);
    m->slots = ns;
    m->cap = ncap;
    return 0;
}

void *strmap_put(struct strmap *m, const char *key, int *added)
{
    struct strmap_slot *s = find(m, key);
    if (added)
        *added = 0;
    if (s)
        return s->value;
    if ((m->n + 1) * 2 > m->cap && grow(m))
        return NULL;
    char *k = strdup(key);
    void *v = calloc(1, m->value_size ? m->value_size : 1);
    if (!k || !v) {
        free(k);
        free(v);
        return NULL;
    }
    size_t i = hash(key) & (m->cap - 1);
    while (m->slots[i].key)
        i = (i + 1) & (m->cap - 1);
    m->slots[i].key = k;
    m->slots[i].value = v;
    m->n++;
    if (added)
        *added = 1;
    return v;
}

const char *strmap_intern(struct strmap *m, const char *s, int *oom)
{
    struct strmap_slot *slot;
    if (!s)
        return NULL;
    if (!strmap_put(m, s, NULL)) {
        *oom = 1;
        return NULL;
    }
    slot = find(m, s);
    return slot->key;
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
    for (size_t k = 0; k < m->cap; k++) {
        free(m->slots[k].key);
        free(m->slots[k].value);
    }
    free(m->slots);
    m->slots = NULL;
    m->cap = m->n = 0;
}
