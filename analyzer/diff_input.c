/*
 * The inputs of `ctaudit diff`: both snapshots in one temporary on-disk
 * database. A snapshot is loaded as `report` loads one; a database's
 * snapshot is copied in with ATTACH (our statements, never user SQL), its
 * snapshot_id and doc_ids remapped so that two databases never collide.
 */
#include "analyzer/diff.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "analyzer/db.h"

/* Runs sql with ?1..?3 bound to a, b, c (unused ones are ignored). */
static int exec_bound(sqlite3 *db, const char *sql, long long a, long long b,
                      long long c, struct ct_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = 0;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        rc = ct_error_set(err, CT_ESQL, "%s", sqlite3_errmsg(db));
        goto done;
    }
    int n = sqlite3_bind_parameter_count(st);
    if (n >= 1)
        sqlite3_bind_int64(st, 1, a);
    if (n >= 2)
        sqlite3_bind_int64(st, 2, b);
    if (n >= 3)
        sqlite3_bind_int64(st, 3, c);
    if (sqlite3_step(st) == SQLITE_ERROR)
        rc = ct_error_set(err, CT_ESQL, "%s", sqlite3_errmsg(db));
done:
    sqlite3_finalize(st);
    return rc;
}

/* The first column of the first row of sql (?1 bound), or def. */
static int query_int(sqlite3 *db, const char *sql, long long arg, long long def,
                     long long *out, struct ct_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = 0, step;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        rc = ct_error_set(err, CT_ESQL, "%s", sqlite3_errmsg(db));
        goto done;
    }
    if (sqlite3_bind_parameter_count(st) >= 1)
        sqlite3_bind_int64(st, 1, arg);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        *out = sqlite3_column_int64(st, 0);
    else if (step == SQLITE_ROW || step == SQLITE_DONE)
        *out = def;
    else
        rc = ct_error_set(err, CT_ESQL, "%s", sqlite3_errmsg(db));
done:
    sqlite3_finalize(st);
    return rc;
}

/*
 * Copies one table's rows of snapshot src_id from the attached "src" into
 * main: snapshot_id becomes dst_id, doc_id is shifted by doc_offset. Tables
 * with neither column hold reference data (prices, usage type prefixes)
 * that the schema itself writes: they are skipped.
 */
static int copy_table(sqlite3 *db, const char *table, long long src_id,
                      long long dst_id, long long doc_offset,
                      struct ct_error *err)
{
    sqlite3_stmt *st = NULL;
    char *cols = NULL, *exprs = NULL, *sql = NULL;
    int rc = 0, step, has_snapshot = 0, has_doc = 0;

    if (sqlite3_prepare_v2(db,
                           "SELECT name FROM main.pragma_table_info(?1) "
                           "ORDER BY cid",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = ct_error_set(err, CT_ESQL, "%s", sqlite3_errmsg(db));
        goto done;
    }
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *c = (const char *)sqlite3_column_text(st, 0);
        const char *expr = "\"%w\"";
        char *ncols, *nexprs;
        if (strcmp(c, "snapshot_id") == 0) {
            has_snapshot = 1;
            expr = "?1";
        } else if (strcmp(c, "doc_id") == 0) {
            has_doc = 1;
            expr = "\"%w\" + ?2";
        }
        ncols = sqlite3_mprintf("%s%s\"%w\"", cols ? cols : "",
                                cols ? ", " : "", c);
        char *e = sqlite3_mprintf(expr, c);
        nexprs = e ? sqlite3_mprintf("%s%s%s", exprs ? exprs : "",
                                     exprs ? ", " : "", e)
                   : NULL;
        sqlite3_free(e);
        sqlite3_free(cols);
        sqlite3_free(exprs);
        cols = ncols;
        exprs = nexprs;
        if (!cols || !exprs) {
            rc = ct_error_set(err, CT_ENOMEM, "out of memory");
            goto done;
        }
    }
    if (step != SQLITE_DONE) {
        rc = ct_error_set(err, CT_ESQL, "%s", sqlite3_errmsg(db));
        goto done;
    }
    if (!has_snapshot && !has_doc)
        goto done;
    sql = sqlite3_mprintf(
        "INSERT INTO main.\"%w\" (%s) SELECT %s FROM src.\"%w\" WHERE %s",
        table, cols, exprs, table,
        has_snapshot ? "snapshot_id = ?3"
                     : "doc_id IN (SELECT doc_id FROM src.trail_documents "
                       "WHERE snapshot_id = ?3)");
    if (!sql) {
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
        goto done;
    }
    rc = exec_bound(db, sql, dst_id, doc_offset, src_id, err);
done:
    sqlite3_finalize(st);
    sqlite3_free(cols);
    sqlite3_free(exprs);
    sqlite3_free(sql);
    return rc;
}

/* ATTACH, the file name bound as a value. */
static int attach(sqlite3 *db, const char *path, struct ct_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = 0;
    if (sqlite3_prepare_v2(db, "ATTACH ?1 AS src", -1, &st, NULL) !=
        SQLITE_OK) {
        rc = ct_error_set(err, CT_ESQL, "%s", sqlite3_errmsg(db));
        goto done;
    }
    sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = ct_error_set(err, CT_ESQL, "cannot open database '%s': %s", path,
                          sqlite3_errmsg(db));
done:
    sqlite3_finalize(st);
    return rc;
}

/* Copies snapshot `id` (0: the newest) of the database at path into db. */
static int copy_from_database(sqlite3 *db, const char *path, long long id,
                              long long *out_id, long long *out_source_id,
                              struct ct_error *err)
{
    sqlite3 *check = NULL;
    sqlite3_stmt *st = NULL;
    long long src_id = 0, dst_id = 0, doc_offset = 0;
    int rc, attached = 0, in_tx = 0, step;

    /* the version check of every database input, before ATTACH */
    if ((rc = db_open_readonly(&check, path, err)))
        goto done;
    sqlite3_close(check);
    check = NULL;
    if ((rc = attach(db, path, err)))
        goto done;
    attached = 1;
    rc = query_int(db,
                   id ? "SELECT snapshot_id FROM src.snapshots "
                        "WHERE snapshot_id = ?1"
                      : "SELECT max(snapshot_id) FROM src.snapshots",
                   id, 0, &src_id, err);
    if (rc)
        goto done;
    if (!src_id) {
        rc = id ? ct_error_set(err, CT_EINVAL, "no snapshot %lld in '%s'", id,
                               path)
                : ct_error_set(err, CT_EINVAL, "'%s' holds no snapshot", path);
        goto done;
    }
    if ((rc = query_int(db,
                        "SELECT coalesce(max(snapshot_id), 0) + 1 "
                        "FROM main.snapshots",
                        0, 1, &dst_id, err)) ||
        (rc = query_int(db,
                        "SELECT coalesce(max(doc_id), 0) "
                        "FROM main.trail_documents",
                        0, 0, &doc_offset, err)) ||
        (rc = db_exec(db, "BEGIN", err)))
        goto done;
    in_tx = 1;
    if (sqlite3_prepare_v2(db,
                           "SELECT name FROM main.sqlite_schema "
                           "WHERE type = 'table' AND name NOT LIKE 'sqlite%' "
                           "ORDER BY name = 'snapshots' DESC, name",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = ct_error_set(err, CT_ESQL, "%s", sqlite3_errmsg(db));
        goto done;
    }
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        if ((rc = copy_table(db, (const char *)sqlite3_column_text(st, 0),
                             src_id, dst_id, doc_offset, err)))
            goto done;
    if (step != SQLITE_DONE) {
        rc = ct_error_set(err, CT_ESQL, "%s", sqlite3_errmsg(db));
        goto done;
    }
    sqlite3_finalize(st);
    st = NULL;
    in_tx = 0;
    if ((rc = db_exec(db, "COMMIT", err)))
        goto done;
    *out_id = dst_id;
    *out_source_id = src_id;
done:
    sqlite3_finalize(st);
    sqlite3_close(check);
    if (in_tx)
        db_exec(db, "ROLLBACK", NULL);
    if (attached)
        db_exec(db, "DETACH src", NULL);
    return rc;
}

static int add_input(sqlite3 *db, const struct diff_input *in,
                     const struct load_options *opt, long long *out_id,
                     long long *out_source_id, struct ct_error *err)
{
    struct ct_error inner = CT_ERROR_INIT;
    struct stat sb;
    sqlite3_int64 id = 0;
    long long source_id = 0;
    int rc;

    if (stat(in->path, &sb) != 0)
        return ct_error_set(err, CT_EIO, "cannot open '%s': %s", in->path,
                            strerror(errno));
    if (db_is_database_file(in->path)) {
        if ((rc = copy_from_database(db, in->path, in->snapshot_id, out_id,
                                     &source_id, &inner)))
            return ct_error_set(err, rc, "%s", inner.message);
        *out_source_id = source_id;
        return 0;
    }
    if (in->snapshot_id)
        return ct_error_set(err, CT_EINVAL,
                            "'%s' is a snapshot, not a database: "
                            "--before-id/--after-id need a database",
                            in->path);
    if ((rc = db_exec(db, "BEGIN", err)))
        return rc;
    if ((rc = load_snapshot(db, in->path, opt, &id, &inner))) {
        db_exec(db, "ROLLBACK", NULL);
        return ct_error_set(err, rc, "cannot load '%s': %s", in->path,
                            inner.message);
    }
    if ((rc = db_exec(db, "COMMIT", err)))
        return rc;
    *out_id = id;
    *out_source_id = 0;
    return 0;
}

int diff_open(sqlite3 **out, struct diff_ids *out_ids,
              const struct diff_input *before, const struct diff_input *after,
              const struct load_options *opt, struct ct_error *err)
{
    sqlite3 *db = NULL;
    struct diff_ids ids = {0, 0, 0, 0};
    int rc;

    /* "" is SQLite's private temporary on-disk database, as for report */
    if ((rc = db_create(&db, "", err)) ||
        (rc = add_input(db, before, opt, &ids.before, &ids.before_source,
                        err)) ||
        (rc = add_input(db, after, opt, &ids.after, &ids.after_source, err)) ||
        (rc = db_exec(db, "ANALYZE", err)))
        goto done;
    *out = db;
    *out_ids = ids;
    db = NULL;
done:
    sqlite3_close(db);
    return rc;
}
