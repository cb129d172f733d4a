/*
 * Snapshot writer: members are collected in memory (a snapshot is small:
 * JSON answers), then written in one go, sorted by path, manifest last, to a
 * temporary name in the output's directory and renamed into place, so that
 * a failed or killed run never leaves a file under the final name.
 */
#ifndef CT_COLLECTOR_SNAPWRITER_H
#define CT_COLLECTOR_SNAPWRITER_H

#include <signal.h>
#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "core/error.h"

struct snapwriter;

/* Owned: free with snapwriter_free (which discards uncommitted members). */
int snapwriter_new(struct snapwriter **out, struct ct_error *err);
void snapwriter_free(struct snapwriter *w);

/* Adds a member (data copied). A duplicate path makes commit fail. */
int snapwriter_add(struct snapwriter *w, const char *path, const void *data,
                   size_t len, struct ct_error *err);

/* Adds a member serialized from j (sorted keys, 2-space indent). Borrows j. */
int snapwriter_add_json(struct snapwriter *w, const char *path, const json_t *j,
                        struct ct_error *err);

size_t snapwriter_count(const struct snapwriter *w);

/* Makes commit stop, remove its temporary file or directory and fail with
 * CT_EINVAL once *flag >= level (a signal handler's flag; borrowed). */
void snapwriter_set_abort(struct snapwriter *w,
                          const volatile sig_atomic_t *flag, int level);

/* 1 if path is already a member (linear: for tests and rare checks). */
int snapwriter_has(const struct snapwriter *w, const char *path);

/* Output kind from a file name: 0 directory ("DIR/"), or the archive
 * compression; CT_EINVAL for an unsupported extension. */
enum snapwriter_kind {
    SNAPWRITER_DIR = 0,
    SNAPWRITER_TAR,
    SNAPWRITER_TAR_GZ,
    SNAPWRITER_TAR_ZST,
    SNAPWRITER_TAR_XZ
};
int snapwriter_kind(enum snapwriter_kind *out, const char *output,
                    struct ct_error *err);

/*
 * Reads an existing snapshot (directory or tar archive, any compression)
 * back: checks every member against SHA256SUMS and SHA256SUMS against the
 * manifest (CT_EVERIFY), then adds to w the members keep(ctx, path) accepts
 * (all when keep is NULL), never manifest.json or SHA256SUMS. *manifest
 * gets the old manifest (owned: json_decref).
 */
int snapwriter_load(struct snapwriter *w, json_t **manifest, const char *path,
                    int (*keep)(void *ctx, const char *path), void *ctx,
                    struct ct_error *err);

/*
 * Writes every member, then SHA256SUMS (sha256sum lines of every member),
 * then manifest.json: manifest (borrowed) plus "checksums": {"file":
 * "SHA256SUMS", "sha256", "members"}. output ending in '/'
 * is a directory (must not exist, or be empty). mtime stamps archive
 * members.
 */
int snapwriter_commit(struct snapwriter *w, const char *output,
                      const json_t *manifest, time_t mtime,
                      struct ct_error *err);

#endif
