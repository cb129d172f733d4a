/*
 * The analyzer's database: creation from the embedded schema, opening of an
 * existing file, and the read-only guard under which rules and user SQL run.
 */
#ifndef CT_ANALYZER_DB_H
#define CT_ANALYZER_DB_H

#include <stddef.h>

#include <sqlite3.h>

#include "core/error.h"

/* Schema version this build writes and reads (PRAGMA user_version). */
int db_schema_version(void);

/* Process-wide SQLite settings, before any connection is opened: no
 * memory statistics (a global mutex around every allocation). */
void db_global_init(void);

/*
 * Creates a new database at path (":memory:" for in-memory) and applies the
 * embedded schema. The file must not exist or be empty. Bulk-load pragmas
 * are set: no journal (callers write to a temporary file and rename it).
 * *out is owned: close with sqlite3_close.
 */
int db_create(sqlite3 **out, const char *path, struct ct_error *err);

/*
 * Like db_create, without the views: a private work database into which
 * db_materialize_views(db, "main", ...) then stores every view as a table
 * of the same name, readable by other connections to the same file.
 */
int db_create_scratch(sqlite3 **out, const char *path, struct ct_error *err);

/* Opens an existing database read-only and checks its schema version. */
int db_open_readonly(sqlite3 **out, const char *path, struct ct_error *err);

/* 1 if the file at path starts with the SQLite header, else 0. */
int db_is_database_file(const char *path);

/*
 * Puts db under the read-only guard: PRAGMA query_only, no extension
 * loading, defensive mode, and an authorizer that refuses writes, ATTACH,
 * DETACH, and pragmas other than a few read-only ones. Irreversible.
 */
int db_guard_readonly(sqlite3 *db, struct ct_error *err);

/*
 * Computes every view once into a table of the same name in `schema`
 * ("temp", or "main" of a db_create_scratch database), in creation order,
 * each from the tables of the views before it, and indexes them. With
 * "temp", unqualified names (rules, report queries) then read the TEMP
 * tables and the main schema is untouched (works on a read-only
 * database). Call before db_guard_readonly.
 */
int db_materialize_views(sqlite3 *db, const char *schema, struct ct_error *err);

/*
 * db_materialize_views on two connections at once, for a report from
 * snapshots: a and b are connections to the same db_create_scratch
 * database, which neither writes. The views are shared between them (the
 * plan is in db.c) and stored in files[0..n_files): empty work files,
 * attached as work_0, work_1, ..., each written by one connection and read
 * by the other once complete. Afterwards both connections read every view.
 * Call before db_guard_readonly.
 */
struct views_published;
typedef void (*views_early_fn)(void *ctx, const struct views_published *p);
int db_materialize_views_split(sqlite3 *a, sqlite3 *b, char *const *files,
                               size_t n_files, views_early_fn early,
                               void *early_ctx, struct ct_error *err);

/*
 * What can be read while b's views are stored and a's may not all be:
 * early (may be NULL) is called with it on b's thread, once b's views are
 * stored, so that a third connection can read them meanwhile. On such a
 * connection (to the same scratch database) db_views_attach_published
 * attaches the work files complete so far and makes the views computed
 * where they are used that read only those (as TEMP views);
 * db_views_pending gives the views it cannot read yet (owned by p, valid
 * during the call). Call before db_guard_readonly.
 */
int db_views_attach_published(sqlite3 *db, const struct views_published *p,
                              struct ct_error *err);
const char *const *db_views_pending(const struct views_published *p,
                                    size_t *n);

/* How many work files db_materialize_views_split needs (at most 8). */
int db_views_split_files(size_t *n, struct ct_error *err);

/* Runs sql (no results expected). */
int db_exec(sqlite3 *db, const char *sql, struct ct_error *err);

/*
 * Prepares one statement from *sql under the guard and advances *sql past
 * it. *out is NULL when only whitespace/comments remain. Refuses statements
 * that are not read-only. Owned: sqlite3_finalize.
 */
int db_prepare_readonly(sqlite3_stmt **out, sqlite3 *db, const char **sql,
                        struct ct_error *err);

#endif
