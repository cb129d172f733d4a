/*
 * Loads snapshots into a database created by db_create. One snapshot per
 * call, inside the caller's transaction; on failure the caller rolls back
 * (cmd_load never renames a failed database into place).
 */
#ifndef CT_ANALYZER_LOAD_H
#define CT_ANALYZER_LOAD_H

#include <sqlite3.h>

#include "analyzer/source.h"
#include "core/error.h"

/* A non-fatal remark: member is the snapshot member ("" for none). */
typedef void (*load_warn_fn)(void *ctx, const char *source,
                             const char *member, const char *msg);

struct load_options {
    struct src_limits limits;
    int verify;           /* verify against manifest.json when present */
    load_warn_fn warn;    /* may be NULL */
    void *warn_ctx;
};

#define LOAD_OPTIONS_INIT {SRC_LIMITS_INIT, 1, NULL, NULL}

/*
 * Streams source (directory or archive) into db as a new snapshot and
 * writes its snapshot_id into *out_id. Errors name the member and the
 * problem: "member 'accounts/.../describe-trails.json': line 3, column 9:
 * ...". Warnings (unknown members, ignored links) go to opt->warn and to the
 * load_warnings table.
 */
int load_snapshot(sqlite3 *db, const char *source,
                  const struct load_options *opt, sqlite3_int64 *out_id,
                  struct ct_error *err);

/*
 * Opens what a read command was given: a database file read-only, or a
 * snapshot loaded into a new in-memory database. *out is owned
 * (sqlite3_close); the guard is NOT applied here.
 */
int load_open_input(sqlite3 **out, const char *const *inputs, int n_inputs,
                    const struct load_options *opt, struct ct_error *err);

/*
 * Loads snapshots (never a database) into a new work database at path (an
 * empty file the caller created, and removes when done), without the
 * views: db_materialize_views(db, "main", ...) stores them there, so that
 * other connections to the file can read everything. *out is owned.
 */
int load_open_scratch(sqlite3 **out, const char *path,
                      const char *const *inputs, int n_inputs,
                      const struct load_options *opt, struct ct_error *err);

#endif
