/*
 * A string-keyed hash map with a fixed-size value per key (open
 * addressing). The loader uses it for what must not cost a database row per
 * member: member paths with their hashes (duplicates, manifest check) and
 * trail fingerprints.
 */
#ifndef CT_ANALYZER_STRMAP_H
#define CT_ANALYZER_STRMAP_H

#include <stddef.h>

struct strmap {
    struct strmap_slot *slots;
    size_t cap, n;       /* cap: 0 or a power of two */
    size_t value_size;   /* bytes of each value */
    struct strmap_block *blocks; /* the entries' memory, newest first */
    char *room;          /* unused part of the newest block */
    size_t room_left;
};

#define STRMAP_INIT(value_size) {NULL, 0, 0, (value_size), NULL, NULL, 0}

/* The value of key, or NULL. Entries never move: a value (and the map's
 * copy of its key) stays where it is until strmap_release. */
void *strmap_get(const struct strmap *m, const char *key);

/*
 * The value of key, added zero-filled if absent (*added set to 1). NULL when
 * out of memory.
 */
void *strmap_put(struct strmap *m, const char *key, int *added);

/* strmap_put, also giving the map's copy of the key (*stored). */
void *strmap_put_stored(struct strmap *m, const char *key, int *added,
                        const char **stored);

/*
 * Interning: the map's own copy of s (added if absent), shared by every
 * caller that interns an equal string. NULL for NULL s or out of memory
 * (*oom set). Valid until strmap_release.
 */
const char *strmap_intern(struct strmap *m, const char *s, int *oom);

/*
 * strmap_intern, first trying *recent (the string this caller interned
 * last, or NULL), which it then updates: rows sorted by a column repeat
 * its values, and a comparison costs less than hashing.
 */
const char *strmap_intern_recent(struct strmap *m, const char *s,
                                 const char **recent, int *oom);

/* Calls fn for every entry, in no particular order. */
void strmap_each(const struct strmap *m,
                 void (*fn)(void *ctx, const char *key, void *value),
                 void *ctx);

void strmap_release(struct strmap *m);

#endif
