/*
 * Streams the members of a snapshot (a directory or a tar archive, any
 * compression libarchive knows) to a callback, one at a time, with their
 * SHA-256. Nothing is ever extracted to disk and at most one member is held
 * in memory. Enforces the size limits of schema/SNAPSHOT.md.
 */
#ifndef CT_ANALYZER_SOURCE_H
#define CT_ANALYZER_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/hash.h"

#define SRC_DEFAULT_MAX_MEMBER (64ULL << 20)
#define SRC_DEFAULT_MAX_TOTAL (16ULL << 30)
#define SRC_DEFAULT_MAX_MEMBERS 10000000ULL
#define SRC_DEFAULT_MAX_CHECKSUMS (1ULL << 30)

struct src_limits {
    uint64_t max_member;  /* bytes of one member, uncompressed */
    uint64_t max_total;   /* bytes of all members, uncompressed */
    uint64_t max_members; /* number of regular-file members */
    uint64_t max_checksums; /* bytes of SHA256SUMS, which grows with the
                               number of members */
};

#define SRC_LIMITS_INIT \
    {SRC_DEFAULT_MAX_MEMBER, SRC_DEFAULT_MAX_TOTAL, SRC_DEFAULT_MAX_MEMBERS, \
     SRC_DEFAULT_MAX_CHECKSUMS}

/* One member. Everything is borrowed until the callback returns. */
struct src_member {
    const char *path;          /* relative to the snapshot root, no "./" */
    const unsigned char *data; /* NUL-terminated for convenience */
    size_t size;
    char sha256[CT_SHA256_HEX_LEN + 1];
};

/* Returns 0 to go on, a negative ct_status to stop (err filled). */
typedef int (*src_member_fn)(void *ctx, const struct src_member *m,
                             struct ct_error *err);
/* A non-fatal remark about the member at path (ignored entry...). */
typedef void (*src_warn_fn)(void *ctx, const char *path, const char *msg);

/*
 * Walks source, calling fn for every regular file member. Directories are
 * skipped; symlinks, hard links, devices and FIFOs are never followed and
 * reported through warn. Errors name the member in err's message.
 */
int src_walk(const char *source, const struct src_limits *limits,
             src_member_fn fn, src_warn_fn warn, void *ctx,
             struct ct_error *err);

/* 1 if path is a directory, 0 otherwise (no error: callers stat later). */
int src_is_directory(const char *path);

#endif
