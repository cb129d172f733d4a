/*
 * Snapshot verification against manifest.json and SHA256SUMS. The loader
 * records every member's hash and every SHA256SUMS line in one strmap of
 * struct member_state, then calls verify_members once.
 */
#ifndef CT_ANALYZER_VERIFY_H
#define CT_ANALYZER_VERIFY_H

#include "analyzer/source.h"
#include "analyzer/strmap.h"
#include "core/error.h"

/* What is known of a member path (the strmap value). */
struct member_state {
    unsigned char actual[32]; /* SHA-256 of the member, when present */
    unsigned char listed[32]; /* its SHA256SUMS line, when listed */
    unsigned char flags;      /* MEMBER_PRESENT | MEMBER_LISTED */
};
#define MEMBER_PRESENT 1
#define MEMBER_LISTED 2

/* 64 lowercase hex digits -> 32 bytes; -1 if not hex. */
int verify_hex_digest(unsigned char out[32], const char *hex);

/* The members in the order they were read (each path is paths' copy,
 * each state its value), so that a SHA256SUMS listing them in that order,
 * as ctcollect writes it, is matched line by line rather than looked up:
 * the lookups were most of the single-threaded end of a load. */
struct verify_order {
    const char **path;
    struct member_state **state;
    size_t n, cap;
};
#define VERIFY_ORDER_INIT {NULL, NULL, 0, 0}
int verify_order_add(struct verify_order *o, const char *path,
                     struct member_state *state);
void verify_order_release(struct verify_order *o);

/* Records the lines of SHA256SUMS (member m) in paths, matching them with
 * `order` first (may be empty). A malformed or repeated line is an error
 * naming the line. */
int verify_add_checksums(struct strmap *paths,
                         const struct verify_order *order,
                         const struct src_member *m, struct ct_error *err);

/* Checks SHA256SUMS against the manifest's hash (sums_expected, hex) and
 * every member against SHA256SUMS: CT_EVERIFY naming the first failing
 * member. */
int verify_members(const struct strmap *paths, const char *sums_expected,
                   struct ct_error *err);

#endif
