/*
 * The plan's working databases: the snapshot's working copy with this
 * build's views, one private memory database per planned account (its
 * slice), SQL helpers with a statement cache, the table changes of each
 * kind of step, the state compared before and after a step, and the event
 * selectors JSON rebuilt from the tables.
 */
#include "analyzer/plan_db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "core/embedded.h"

extern const struct ct_embedded ct_schema_files[];
extern const size_t ct_schema_files_count;

/* ---- SQL helpers: named parameters :s :p :t :x :y -------------------------
 */

int plan_db_prepare(struct plan_ctx *c, sqlite3_stmt **out, const char *sql,
                    const char *t, const char *x, const char *y)
{
    sqlite3_stmt *st = NULL;
    for (size_t k = 0; k < c->n_cache && !st; k++)
        if (c->cache[k].sql == sql && !c->cache[k].busy) {
            st = c->cache[k].st;
            c->cache[k].busy = 1;
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
        }
    if (!st) {
        if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK)
            return ct_error_set(c->err, CT_ESQL, "plan: %s",
                                sqlite3_errmsg(c->db));
        if (c->n_cache < PLAN_STMT_CACHE) {
            c->cache[c->n_cache].sql = sql;
            c->cache[c->n_cache].st = st;
            c->cache[c->n_cache++].busy = 1;
        }
    }
    int i;
    if ((i = sqlite3_bind_parameter_index(st, ":s")))
        sqlite3_bind_int64(st, i, c->s);
    if ((i = sqlite3_bind_parameter_index(st, ":p")))
        sqlite3_bind_int64(st, i, c->pid);
    if ((i = sqlite3_bind_parameter_index(st, ":t")))
        sqlite3_bind_text(st, i, t, -1, SQLITE_TRANSIENT);
    if ((i = sqlite3_bind_parameter_index(st, ":x")))
        sqlite3_bind_text(st, i, x, -1, SQLITE_TRANSIENT);
    if ((i = sqlite3_bind_parameter_index(st, ":y")))
        sqlite3_bind_text(st, i, y, -1, SQLITE_TRANSIENT);
    *out = st;
    return 0;
}

/* Gives back a statement of plan_db_prepare (NULL is fine). */
void plan_db_release(struct plan_ctx *c, sqlite3_stmt *st)
{
    if (!st)
        return;
    for (size_t k = 0; k < c->n_cache; k++)
        if (c->cache[k].st == st) {
            sqlite3_reset(st);
            c->cache[k].busy = 0;
            return;
        }
    sqlite3_finalize(st);
}

void plan_db_cache_release(struct plan_ctx *c)
{
    for (size_t k = 0; k < c->n_cache; k++)
        sqlite3_finalize(c->cache[k].st);
    c->n_cache = 0;
}

/* Runs one statement (no rows expected). */
int plan_db_run(struct plan_ctx *c, const char *sql, const char *t,
                const char *x, const char *y)
{
    sqlite3_stmt *st = NULL;
    int rc = plan_db_prepare(c, &st, sql, t, x, y);
    if (rc)
        return rc;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        ;
    if (step != SQLITE_DONE)
        rc = ct_error_set(c->err, CT_ESQL, "plan: %s", sqlite3_errmsg(c->db));
    plan_db_release(c, st);
    return rc;
}

/* The first column of the first row as an integer (def when no row). */
int plan_db_int(struct plan_ctx *c, long long *out, long long def,
                const char *sql, const char *t, const char *x, const char *y)
{
    sqlite3_stmt *st = NULL;
    int rc = plan_db_prepare(c, &st, sql, t, x, y);
    if (rc)
        return rc;
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        *out = sqlite3_column_type(st, 0) == SQLITE_NULL
                   ? def
                   : sqlite3_column_int64(st, 0);
    else if (step == SQLITE_DONE)
        *out = def;
    else
        rc = ct_error_set(c->err, CT_ESQL, "plan: %s", sqlite3_errmsg(c->db));
    plan_db_release(c, st);
    return rc;
}

int plan_db_step_error(struct plan_ctx *c, int step)
{
    if (step == SQLITE_DONE)
        return 0;
    return ct_error_set(c->err, CT_ESQL, "plan: %s", sqlite3_errmsg(c->db));
}

/* ---- the working database ------------------------------------------------ */

/* The views of this build as TEMP views: unqualified names see
 * temp.pricing and temp.volume_estimates (costs_prepare) before the
 * stored tables, and the stored views are never used. */
static int create_views(sqlite3 *db, struct ct_error *err)
{
    const char *views = NULL;
    char *sql = NULL;
    int rc = 0;
    for (size_t i = 0; i < ct_schema_files_count; i++)
        if (strcmp(ct_schema_files[i].name, "views.sql") == 0)
            views = ct_schema_files[i].text;
    if (!views)
        return ct_error_set(err, CT_ESQL, "plan: views.sql is not embedded");
    sqlite3_str *q = sqlite3_str_new(db);
    const char *p = views, *hit;
    while ((hit = strstr(p, "CREATE VIEW "))) {
        sqlite3_str_appendf(q, "%.*sCREATE TEMP VIEW ", (int)(hit - p), p);
        p = hit + strlen("CREATE VIEW ");
    }
    sqlite3_str_appendall(q, p);
    sql = sqlite3_str_finish(q);
    if (!sql)
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        rc = ct_error_set(err, CT_ESQL, "plan: views: %s", sqlite3_errmsg(db));
    sqlite3_free(sql);
    return rc;
}

int plan_open_db(sqlite3 **out, sqlite3 *src, struct ct_error *err)
{
    sqlite3 *db = NULL;
    sqlite3_backup *b = NULL;
    sqlite3_stmt *st = NULL;
    char *sql = NULL;
    int rc = 0;
    /* "": a private temporary database, spilled to an unlinked file; URI
     * names allowed for ATTACH of the planned slices (memory databases) */
    if (sqlite3_open_v2("", &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                            SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI,
                        NULL) != SQLITE_OK) {
        rc = ct_error_set(err, CT_ESQL, "plan: cannot open a work database");
        goto done;
    }
    b = sqlite3_backup_init(db, "main", src, "main");
    if (!b || sqlite3_backup_step(b, -1) != SQLITE_DONE) {
        rc = ct_error_set(err, CT_ESQL, "plan: cannot copy the database: %s",
                          sqlite3_errmsg(db));
        goto done;
    }
    sqlite3_backup_finish(b);
    b = NULL;
    /* the views of this build, not those stored in a database file */
    if (sqlite3_exec(db,
                     "PRAGMA temp_store = FILE; PRAGMA synchronous = OFF; "
                     "PRAGMA cache_size = -262144; "
                     "PRAGMA journal_mode = MEMORY",
                     NULL, NULL, NULL) != SQLITE_OK) {
        rc = ct_error_set(err, CT_ESQL, "plan: %s", sqlite3_errmsg(db));
        goto done;
    }
    for (;;) {
        if (sqlite3_prepare_v2(db,
                               "SELECT name FROM sqlite_master WHERE "
                               "type = 'view' ORDER BY name LIMIT 1",
                               -1, &st, NULL) != SQLITE_OK) {
            rc = ct_error_set(err, CT_ESQL, "plan: %s", sqlite3_errmsg(db));
            goto done;
        }
        if (sqlite3_step(st) != SQLITE_ROW)
            break;
        sql = sqlite3_mprintf("DROP VIEW \"%w\"",
                              (const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
        st = NULL;
        if (!sql) {
            rc = ct_error_set(err, CT_ENOMEM, "out of memory");
            goto done;
        }
        if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
            rc = ct_error_set(err, CT_ESQL, "plan: %s", sqlite3_errmsg(db));
            goto done;
        }
        sqlite3_free(sql);
        sql = NULL;
    }
    if ((rc = create_views(db, err)))
        goto done;
    *out = db;
    db = NULL;
done:
    if (b)
        sqlite3_backup_finish(b);
    sqlite3_finalize(st);
    sqlite3_free(sql);
    sqlite3_close(db);
    return rc;
}

/*
 * Copies the rows of snapshot s into snapshot pid: tables with a
 * snapshot_id column by it, per-document tables through trail_documents
 * (doc ids shifted by off). With account, only a slice: that account's
 * rows, its own trails and the organization trails, which is everything
 * a step on one of its trails can change (steps never touch organization
 * trails). Column lists come from the schema itself, so new tables follow.
 */
static int copy_snapshot(struct plan_ctx *c, long long off, const char *account)
{
    sqlite3_stmt *tables = NULL, *cols = NULL, *ins = NULL;
    sqlite3_str *q = NULL;
    char *sql = NULL, *info = NULL;
    int rc = 0, step;
    if (sqlite3_prepare_v2(c->db,
                           "SELECT name FROM sqlite_master WHERE type = "
                           "'table' AND name NOT LIKE 'sqlite_%' "
                           "AND name NOT LIKE 'plan_%' ORDER BY "
                           "name = 'trail_documents' DESC, name",
                           -1, &tables, NULL) != SQLITE_OK)
        goto sql_error;
    while ((step = sqlite3_step(tables)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(tables, 0);
        int has_snap = 0, has_doc = 0, has_acct = 0, n = 0;
        info = sqlite3_mprintf("PRAGMA table_info(\"%w\")", name);
        q = sqlite3_str_new(c->db);
        if (!info)
            goto oom;
        if (sqlite3_prepare_v2(c->db, info, -1, &cols, NULL) != SQLITE_OK)
            goto sql_error;
        sqlite3_str_appendf(q, "INSERT INTO %s.\"%w\" SELECT ",
                            account ? "slice" : "main", name);
        while (sqlite3_step(cols) == SQLITE_ROW) {
            const char *col = (const char *)sqlite3_column_text(cols, 1);
            if (n++)
                sqlite3_str_appendall(q, ", ");
            if (strcmp(col, "snapshot_id") == 0) {
                has_snap = 1;
                sqlite3_str_appendall(q, ":p");
            } else if (strcmp(col, "doc_id") == 0) {
                has_doc = 1;
                sqlite3_str_appendall(q, "doc_id + :off");
            } else {
                has_acct |= strcmp(col, "account_id") == 0;
                sqlite3_str_appendf(q, "\"%w\"", col);
            }
        }
        sqlite3_finalize(cols);
        cols = NULL;
        sqlite3_free(info);
        info = NULL;
        /* a slice: the account's rows, its trails and every organization
         * trail (all that can cover it) */
        const char *slice_trails =
            account ? " AND trail_arn IN (SELECT trail_arn FROM trails "
                      "WHERE snapshot_id = :s AND (owner_account_id = :a "
                      "OR is_organization_trail = 1))"
                    : "";
        if (strcmp(name, "trail_documents") == 0)
            sqlite3_str_appendf(q, " FROM main.\"%w\" WHERE snapshot_id = :s%s",
                                name, slice_trails);
        else if (has_doc)
            sqlite3_str_appendf(
                q,
                " FROM main.\"%w\" WHERE doc_id IN (SELECT doc_id "
                "FROM trail_documents WHERE snapshot_id = "
                ":s%s)",
                name, slice_trails);
        else if (account && strcmp(name, "trails") == 0)
            sqlite3_str_appendf(q,
                                " FROM main.\"%w\" WHERE snapshot_id = :s AND "
                                "(owner_account_id = :a OR "
                                "is_organization_trail = 1)",
                                name);
        else if (account && has_acct)
            sqlite3_str_appendf(q,
                                " FROM main.\"%w\" WHERE snapshot_id = :s AND "
                                "(account_id = :a OR account_id IS NULL)",
                                name);
        else
            sqlite3_str_appendf(q, " FROM main.\"%w\" WHERE snapshot_id = :s",
                                name);
        sql = sqlite3_str_finish(q);
        q = NULL;
        if (!sql)
            goto oom;
        if (!has_snap && !has_doc) {
            sqlite3_free(sql);
            sql = NULL;
            continue;
        }
        if (sqlite3_prepare_v2(c->db, sql, -1, &ins, NULL) != SQLITE_OK)
            goto sql_error;
        sqlite3_bind_int64(ins, sqlite3_bind_parameter_index(ins, ":p"),
                           c->pid);
        sqlite3_bind_int64(ins, sqlite3_bind_parameter_index(ins, ":s"), c->s);
        if (has_doc)
            sqlite3_bind_int64(ins, sqlite3_bind_parameter_index(ins, ":off"),
                               off);
        if (account)
            sqlite3_bind_text(ins, sqlite3_bind_parameter_index(ins, ":a"),
                              account, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(ins) != SQLITE_DONE)
            goto sql_error;
        sqlite3_finalize(ins);
        ins = NULL;
        sqlite3_free(sql);
        sql = NULL;
    }
    if (step != SQLITE_DONE)
        goto sql_error;
    goto done;
oom:
    rc = ct_error_set(c->err, CT_ENOMEM, "out of memory");
    goto done;
sql_error:
    rc = ct_error_set(c->err, CT_ESQL, "plan: copying the snapshot: %s",
                      sqlite3_errmsg(c->db));
done:
    sqlite3_finalize(tables);
    sqlite3_finalize(cols);
    sqlite3_finalize(ins);
    sqlite3_free(sqlite3_str_finish(q));
    sqlite3_free(sql);
    sqlite3_free(info);
    return rc;
}

/* ---- trail state ----------------------------------------------------------
 */

int plan_db_trail(struct plan_ctx *c, struct plan_trail *out, long long snap,
                  const char *arn)
{
#define TRAIL_STATE_COLUMNS                                                    \
    "SELECT name, owner_account_id, home_region, is_organization_trail, "      \
    "is_multi_region, logging, selectors, delivers, "                          \
    "coalesce(mgmt_reads, -1), coalesce(mgmt_writes, -1), "                    \
    "coalesce(has_data, -1), coalesce(has_network, -1), "                      \
    "coalesce(has_insights, -1) "
    static const char sql[] = TRAIL_STATE_COLUMNS
        "FROM v_trails WHERE snapshot_id = :n AND trail_arn = :t";
    /* the snapshot's trails are computed once (plan_s_trails) */
    static const char sql_s[] = TRAIL_STATE_COLUMNS
        "FROM plan_s_trails WHERE :n IS NOT NULL AND trail_arn = :t";
    sqlite3_stmt *st = NULL;
    int rc =
        plan_db_prepare(c, &st, snap == c->s ? sql_s : sql, arn, NULL, NULL);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":n"), snap);
    memset(out, 0, sizeof(*out));
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        out->found = 1;
        snprintf(out->name, sizeof(out->name), "%s",
                 (const char *)sqlite3_column_text(st, 0));
        snprintf(out->owner, sizeof(out->owner), "%s",
                 (const char *)sqlite3_column_text(st, 1));
        snprintf(out->home, sizeof(out->home), "%s",
                 (const char *)sqlite3_column_text(st, 2));
        out->org = sqlite3_column_int(st, 3);
        out->multi = sqlite3_column_int(st, 4);
        snprintf(out->logging, sizeof(out->logging), "%s",
                 (const char *)sqlite3_column_text(st, 5));
        snprintf(out->selectors, sizeof(out->selectors), "%s",
                 (const char *)sqlite3_column_text(st, 6));
        out->delivers = sqlite3_column_int(st, 7);
        out->reads = sqlite3_column_int(st, 8);
        out->writes = sqlite3_column_int(st, 9);
        out->data = sqlite3_column_int(st, 10);
        out->network = sqlite3_column_int(st, 11);
        out->insights = sqlite3_column_int(st, 12);
        step = SQLITE_DONE;
    }
    rc = plan_db_step_error(c, step);
    plan_db_release(c, st);
    return rc;
}

/* Comma-separated list of the first column's values (NULL: none). */
int plan_db_list(struct plan_ctx *c, char **out, const char *sql, const char *t,
                 const char *x)
{
    sqlite3_stmt *st = NULL;
    sqlite3_str *s = sqlite3_str_new(c->db);
    int rc = plan_db_prepare(c, &st, sql, t, x, NULL), n = 0, step;
    if (rc)
        goto done;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(st, 0);
        sqlite3_str_appendf(s, "%s%s", n++ ? ", " : "", v ? v : "");
    }
    rc = plan_db_step_error(c, step);
done:
    plan_db_release(c, st);
    {
        char *r = sqlite3_str_finish(s);
        if (!rc && n) {
            *out = r;
        } else {
            *out = NULL;
            sqlite3_free(r);
        }
    }
    return rc;
}

/* ---- applying a step to the planned state ------------------------------- */

static int es_doc(struct plan_ctx *c, long long *out, const char *arn)
{
    return plan_db_int(
        c, out, -1,
        "SELECT doc_id FROM v_trail_documents WHERE snapshot_id = :p "
        "AND trail_arn = :t AND kind = 'event_selectors'",
        arn, NULL, NULL);
}

int plan_db_stop(struct plan_ctx *c, const char *arn)
{
    return plan_db_run(c,
                       "UPDATE trail_status SET is_logging = 0 "
                       "WHERE snapshot_id = :p AND trail_arn = :t",
                       arn, NULL, NULL);
}

/* Deletes the advanced selectors of doc :t... selected by cond_sql (a
 * SELECT of selector_index values, parameters :d :x :y). */
static int delete_advanced(struct plan_ctx *c, long long doc, const char *cond,
                           const char *x, const char *y)
{
    char *sql = sqlite3_mprintf(
        "DELETE FROM advanced_field_selectors WHERE doc_id = :d "
        "AND selector_index IN (%s);"
        "DELETE FROM advanced_event_selectors WHERE doc_id = :d "
        "AND NOT EXISTS (SELECT 1 FROM advanced_field_selectors f "
        "WHERE f.doc_id = :d "
        "AND f.selector_index = advanced_event_selectors.selector_index)",
        cond);
    const char *tail = sql;
    int rc = 0;
    if (!sql)
        return ct_error_set(c->err, CT_ENOMEM, "out of memory");
    while (!rc && tail && *tail) {
        sqlite3_stmt *st = NULL;
        const char *next = NULL;
        if (sqlite3_prepare_v2(c->db, tail, -1, &st, &next) != SQLITE_OK) {
            rc = ct_error_set(c->err, CT_ESQL, "plan: %s",
                              sqlite3_errmsg(c->db));
            break;
        }
        tail = next;
        if (!st)
            continue;
        int i;
        if ((i = sqlite3_bind_parameter_index(st, ":d")))
            sqlite3_bind_int64(st, i, doc);
        if ((i = sqlite3_bind_parameter_index(st, ":x")))
            sqlite3_bind_text(st, i, x, -1, SQLITE_TRANSIENT);
        if ((i = sqlite3_bind_parameter_index(st, ":y")))
            sqlite3_bind_text(st, i, y, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = ct_error_set(c->err, CT_ESQL, "plan: %s",
                              sqlite3_errmsg(c->db));
        sqlite3_finalize(st);
    }
    sqlite3_free(sql);
    return rc;
}

/* Basic selectors of doc :d that capture nothing any more are removed. */
static int drop_empty_basic(struct plan_ctx *c, long long doc)
{
    sqlite3_stmt *st = NULL;
    int rc = plan_db_prepare(
        c, &st,
        "DELETE FROM event_selectors WHERE doc_id = :d "
        "AND include_management_events = 0 "
        "AND NOT EXISTS (SELECT 1 FROM data_resources r "
        "WHERE r.doc_id = :d "
        "AND r.selector_index = event_selectors.selector_index)",
        NULL, NULL, NULL);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":d"), doc);
    rc = plan_db_step_error(c, sqlite3_step(st));
    plan_db_release(c, st);
    return rc;
}

static int run_doc(struct plan_ctx *c, const char *sql, long long doc,
                   const char *x)
{
    sqlite3_stmt *st = NULL;
    int rc = plan_db_prepare(c, &st, sql, NULL, x, NULL);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":d"), doc);
    rc = plan_db_step_error(c, sqlite3_step(st));
    plan_db_release(c, st);
    return rc;
}

/* Management events off, everything else of the selectors as it was.
 * *applied is 0 when the trail has no selector document (implied). */
int plan_db_remove_mgmt(struct plan_ctx *c, int *applied, const char *arn)
{
    long long doc = -1;
    int rc = es_doc(c, &doc, arn);
    *applied = 0;
    if (rc || doc < 0)
        return rc;
    /* basic: IncludeManagementEvents false (exclusions mean nothing then) */
    if ((rc = run_doc(c,
                      "UPDATE event_selectors SET include_management_events "
                      "= 0 WHERE doc_id = :d",
                      doc, NULL)) ||
        (rc = run_doc(c,
                      "DELETE FROM event_selector_excluded_sources "
                      "WHERE doc_id = :d",
                      doc, NULL)) ||
        (rc = drop_empty_basic(c, doc)))
        return rc;
    /* advanced: the selectors of eventCategory Management go */
    rc = delete_advanced(c, doc,
                         "SELECT selector_index FROM advanced_field_selectors "
                         "WHERE doc_id = :d AND field = 'eventCategory' "
                         "AND operator = 'Equals' AND value = 'Management'",
                         NULL, NULL);
    *applied = rc == 0;
    return rc;
}

/* The scopes of category/type go: basic DataResources of that type,
 * advanced selectors of that category (and resources.type). */
int plan_db_remove_scope(struct plan_ctx *c, int *applied, const char *arn,
                         const char *category, const char *rtype)
{
    long long doc = -1;
    int rc = es_doc(c, &doc, arn);
    *applied = 0;
    if (rc || doc < 0)
        return rc;
    if (strcmp(category, "Data") == 0 &&
        ((rc = run_doc(c,
                       "DELETE FROM data_resources WHERE doc_id = :d "
                       "AND type = :x",
                       doc, rtype)) ||
         (rc = drop_empty_basic(c, doc))))
        return rc;
    rc = delete_advanced(
        c, doc,
        "SELECT a.selector_index FROM advanced_event_selectors a "
        "WHERE a.doc_id = :d AND EXISTS (SELECT 1 FROM "
        "advanced_field_selectors f WHERE f.doc_id = :d "
        "AND f.selector_index = a.selector_index AND f.field = "
        "'eventCategory' AND f.operator = 'Equals' AND f.value = :x) "
        "AND (:x = 'NetworkActivity' OR EXISTS (SELECT 1 FROM "
        "advanced_field_selectors f WHERE f.doc_id = :d "
        "AND f.selector_index = a.selector_index AND f.field = "
        "'resources.type' AND f.operator = 'Equals' AND f.value = :y))",
        category, rtype);
    *applied = rc == 0;
    return rc;
}

/* Per (account, region) of snapshot :n (and account :a when
 * SQL_STATE_ACCOUNT is used): read and write copies, global service event
 * copies, and whether a copy captures every event source. */
#define SQL_STATE(T_WHERE, M_WHERE)                                            \
    "WITH t AS MATERIALIZED ("                                                 \
    " SELECT trail_arn, mgmt_reads, mgmt_writes, excluded_sources"             \
    " FROM v_trails WHERE snapshot_id = :n AND delivers" T_WHERE "),"          \
    "m AS MATERIALIZED ("                                                      \
    " SELECT account_id, region, read_copies, write_copies"                    \
    " FROM v_region_mgmt WHERE snapshot_id = :n" M_WHERE "),"                  \
    "g AS MATERIALIZED ("                                                      \
    " SELECT account_id, region, read_copies, write_copies"                    \
    " FROM v_global_events WHERE snapshot_id = :n" M_WHERE "),"                \
    "f AS ("                                                                   \
    " SELECT c.account_id, c.region,"                                          \
    "  max(t.mgmt_reads = 1 AND t.excluded_sources IS NULL) AS fr,"            \
    "  max(t.mgmt_writes = 1 AND t.excluded_sources IS NULL) AS fw"            \
    " FROM v_coverage c JOIN t ON t.trail_arn = c.trail_arn"                   \
    " WHERE c.snapshot_id = :n" M_WHERE " GROUP BY c.account_id, c.region)"    \
    "SELECT m.account_id, m.region, m.read_copies AS reads,"                   \
    " m.write_copies AS writes, coalesce(g.read_copies, 0) AS g_reads,"        \
    " coalesce(g.write_copies, 0) AS g_writes, coalesce(f.fr, 0) AS fr,"       \
    " coalesce(f.fw, 0) AS fw "                                                \
    "FROM m LEFT JOIN g ON g.account_id = m.account_id"                        \
    " AND g.region = m.region "                                                \
    "LEFT JOIN f ON f.account_id = m.account_id AND f.region = m.region"

static const char sql_state_all[] = SQL_STATE("", "");
/* a step on an account's own trail changes that account only */
static const char sql_state_account[] =
    SQL_STATE(" AND trail_arn IN (SELECT trail_arn FROM v_coverage"
              " WHERE snapshot_id = :n AND account_id = :a)",
              " AND account_id = :a");

/*
 * The first copy the planned state lost against the snapshot, as a
 * sentence into *out (sqlite3_malloc'ed), or NULL when nothing was lost:
 * the last read or write copy of management events of a region, the last
 * copy of global service events, or the last copy that captures every
 * event source (the others skip some).
 */
/*
 * The first copy the planned state lost against the snapshot (its state
 * is kept in plan_base), as a sentence into *out (sqlite3_malloc'ed), or
 * NULL when nothing was lost: the last read or write copy of management
 * events of a region, the last copy of global service events, or the last
 * copy that captures every event source (the others skip some).
 */
static const char sql_lost[] =
    "SELECT a.account_id, a.region, CASE"
    " WHEN a.reads = 0 AND b.reads > 0 THEN 'read management events'"
    " WHEN a.writes = 0 AND b.writes > 0 THEN 'write management events'"
    " WHEN (a.g_reads = 0 AND b.g_reads > 0)"
    "   OR (a.g_writes = 0 AND b.g_writes > 0)"
    "   THEN 'global service events'"
    " ELSE 'management events of every event source' END "
    "FROM plan_now a JOIN plan_base b ON b.account_id = a.account_id"
    " AND b.region = a.region "
    "WHERE (a.reads = 0 AND b.reads > 0) OR (a.writes = 0 AND b.writes > 0)"
    " OR (a.g_reads = 0 AND b.g_reads > 0)"
    " OR (a.g_writes = 0 AND b.g_writes > 0)"
    " OR (b.fr AND NOT a.fr) OR (b.fw AND NOT a.fw) "
    "ORDER BY 1, 2, 3";

/* Writes the state of snapshot n into TEMP table name: created when
 * create is set, else refilled (no schema change: the cached statements
 * stay compiled). */
int plan_db_save_state(struct plan_ctx *c, const char *name, long long n,
                       int create, const char *account)
{
    char *sql =
        create ? sqlite3_mprintf("CREATE TEMP TABLE \"%w\" AS %s", name,
                                 sql_state_all)
               : sqlite3_mprintf("DELETE FROM temp.\"%w\";"
                                 "INSERT INTO temp.\"%w\" %s",
                                 name, name,
                                 account ? sql_state_account : sql_state_all);
    const char *tail = sql;
    int rc = 0;
    if (!sql)
        return ct_error_set(c->err, CT_ENOMEM, "out of memory");
    while (!rc && tail && *tail) {
        sqlite3_stmt *st = NULL;
        const char *next = NULL;
        if (sqlite3_prepare_v2(c->db, tail, -1, &st, &next) != SQLITE_OK) {
            rc = ct_error_set(c->err, CT_ESQL, "plan: %s",
                              sqlite3_errmsg(c->db));
            break;
        }
        tail = next;
        if (!st)
            continue;
        int i = sqlite3_bind_parameter_index(st, ":n");
        if (i)
            sqlite3_bind_int64(st, i, n);
        if ((i = sqlite3_bind_parameter_index(st, ":a")))
            sqlite3_bind_text(st, i, account, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = ct_error_set(c->err, CT_ESQL, "plan: %s",
                              sqlite3_errmsg(c->db));
        sqlite3_finalize(st);
    }
    sqlite3_free(sql);
    return rc;
}

int plan_db_lost_copy(struct plan_ctx *c, char **out, const char *account)
{
    sqlite3_stmt *st = NULL;
    int rc, n = 0, step;
    char *first = NULL;
    *out = NULL;
    if ((rc = plan_db_save_state(c, "plan_now", c->pid, 0, account)) ||
        (rc = plan_db_prepare(c, &st, sql_lost, NULL, NULL, NULL)))
        return rc;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (!n++)
            first = sqlite3_mprintf(
                "it would leave no copy of %s in account %s, %s",
                (const char *)sqlite3_column_text(st, 2),
                (const char *)sqlite3_column_text(st, 0),
                (const char *)sqlite3_column_text(st, 1));
    }
    rc = plan_db_step_error(c, step);
    if (!rc && n > 1) {
        char *more = sqlite3_mprintf("%s (and %d more)", first, n - 1);
        sqlite3_free(first);
        first = more;
    }
    if (!rc && n && !first)
        rc = ct_error_set(c->err, CT_ENOMEM, "out of memory");
    plan_db_release(c, st);
    if (rc)
        sqlite3_free(first);
    else
        *out = first;
    return rc;
}

/* Own multi-region trails of an account that satisfy AWS Config's
 * multi-region-cloudtrail-enabled and CIS "CloudTrail enabled in all
 * regions": logging, reads and writes, no excluded sources. */
int plan_db_compliant_trails(struct plan_ctx *c, long long *out,
                             const char *acct)
{
    return plan_db_int(
        c, out, 0,
        "SELECT count(*) FROM v_trails WHERE snapshot_id = :p "
        "AND owner_account_id = :t AND is_organization_trail = 0 "
        "AND is_multi_region = 1 AND logging = 'yes' "
        "AND mgmt_reads = 1 AND mgmt_writes = 1 "
        "AND excluded_sources IS NULL",
        acct, NULL, NULL);
}

/* Builds the event selectors JSON of trail arn in P from the tables. */
int plan_db_selectors_json(struct plan_ctx *c, char **out, int *advanced,
                           const char *arn)
{
    sqlite3_stmt *sel = NULL, *sub = NULL;
    json_t *root = json_array();
    long long doc, n_adv;
    int rc, step;
    *out = NULL;
    if (!root)
        return ct_error_set(c->err, CT_ENOMEM, "out of memory");
    if ((rc = es_doc(c, &doc, arn)))
        goto done;
    char dbuf[32];
    snprintf(dbuf, sizeof(dbuf), "%lld", doc);
    if ((rc = plan_db_int(c, &n_adv, 0,
                          "SELECT count(*) FROM advanced_event_selectors "
                          "WHERE doc_id = CAST(:x AS INTEGER)",
                          NULL, dbuf, NULL)))
        goto done;
    *advanced = n_adv > 0;
    if (*advanced) {
        if ((rc = plan_db_prepare(c, &sel,
                                  "SELECT selector_index, name FROM "
                                  "advanced_event_selectors WHERE doc_id = "
                                  "CAST(:x AS INTEGER) ORDER BY selector_index",
                                  NULL, dbuf, NULL)))
            goto done;
        while ((step = sqlite3_step(sel)) == SQLITE_ROW) {
            json_t *o = json_object(), *fields = json_array();
            json_t *cur = NULL;
            char idx[32];
            snprintf(idx, sizeof(idx), "%d", sqlite3_column_int(sel, 0));
            json_array_append_new(root, o);
            if (sqlite3_column_type(sel, 1) != SQLITE_NULL)
                json_object_set_new(
                    o, "Name",
                    json_string((const char *)sqlite3_column_text(sel, 1)));
            json_object_set_new(o, "FieldSelectors", fields);
            if ((rc =
                     plan_db_prepare(c, &sub,
                                     "SELECT field, operator, value FROM "
                                     "advanced_field_selectors WHERE doc_id = "
                                     "CAST(:x AS INTEGER) AND selector_index = "
                                     "CAST(:y AS INTEGER) "
                                     "ORDER BY field, operator, value",
                                     NULL, dbuf, idx)))
                goto done;
            const char *last_field = NULL;
            while ((step = sqlite3_step(sub)) == SQLITE_ROW) {
                const char *f = (const char *)sqlite3_column_text(sub, 0);
                const char *op = (const char *)sqlite3_column_text(sub, 1);
                const char *v = (const char *)sqlite3_column_text(sub, 2);
                if (!cur || strcmp(last_field, f) != 0) {
                    cur = json_object();
                    json_object_set_new(cur, "Field", json_string(f));
                    json_array_append_new(fields, cur);
                }
                last_field = json_string_value(json_object_get(cur, "Field"));
                json_t *vals = json_object_get(cur, op);
                if (!vals) {
                    vals = json_array();
                    json_object_set_new(cur, op, vals);
                }
                json_array_append_new(vals, json_string(v));
            }
            if ((rc = plan_db_step_error(c, step)))
                goto done;
            plan_db_release(c, sub);
            sub = NULL;
        }
    } else {
        if ((rc = plan_db_prepare(
                 c, &sel,
                 "SELECT selector_index, read_write_type, "
                 "include_management_events FROM event_selectors "
                 "WHERE doc_id = CAST(:x AS INTEGER) "
                 "ORDER BY selector_index",
                 NULL, dbuf, NULL)))
            goto done;
        while ((step = sqlite3_step(sel)) == SQLITE_ROW) {
            json_t *o = json_object(), *res = json_array();
            char idx[32];
            snprintf(idx, sizeof(idx), "%d", sqlite3_column_int(sel, 0));
            json_array_append_new(root, o);
            if (sqlite3_column_type(sel, 1) != SQLITE_NULL)
                json_object_set_new(
                    o, "ReadWriteType",
                    json_string((const char *)sqlite3_column_text(sel, 1)));
            if (sqlite3_column_type(sel, 2) != SQLITE_NULL)
                json_object_set_new(o, "IncludeManagementEvents",
                                    json_boolean(sqlite3_column_int(sel, 2)));
            json_object_set_new(o, "DataResources", res);
            if ((rc =
                     plan_db_prepare(c, &sub,
                                     "SELECT resource_index, type, value FROM "
                                     "data_resources WHERE doc_id = "
                                     "CAST(:x AS INTEGER) AND selector_index = "
                                     "CAST(:y AS INTEGER) "
                                     "ORDER BY resource_index, value",
                                     NULL, dbuf, idx)))
                goto done;
            json_t *cur = NULL;
            int last = -1;
            while ((step = sqlite3_step(sub)) == SQLITE_ROW) {
                int ri = sqlite3_column_int(sub, 0);
                if (!cur || ri != last) {
                    cur = json_object();
                    json_object_set_new(
                        cur, "Type",
                        json_string((const char *)sqlite3_column_text(sub, 1)));
                    json_object_set_new(cur, "Values", json_array());
                    json_array_append_new(res, cur);
                    last = ri;
                }
                json_array_append_new(
                    json_object_get(cur, "Values"),
                    json_string((const char *)sqlite3_column_text(sub, 2)));
            }
            if ((rc = plan_db_step_error(c, step)))
                goto done;
            plan_db_release(c, sub);
            sub = NULL;
            if ((rc = plan_db_prepare(
                     c, &sub,
                     "SELECT event_source FROM "
                     "event_selector_excluded_sources WHERE doc_id "
                     "= CAST(:x AS INTEGER) AND selector_index = "
                     "CAST(:y AS INTEGER) ORDER BY event_source",
                     NULL, dbuf, idx)))
                goto done;
            json_t *ex = json_array();
            while ((step = sqlite3_step(sub)) == SQLITE_ROW)
                json_array_append_new(
                    ex, json_string((const char *)sqlite3_column_text(sub, 0)));
            if (json_array_size(ex))
                json_object_set_new(o, "ExcludeManagementEventSources", ex);
            else
                json_decref(ex);
            if ((rc = plan_db_step_error(c, step)))
                goto done;
            plan_db_release(c, sub);
            sub = NULL;
        }
    }
    if ((rc = plan_db_step_error(c, step)))
        goto done;
    *out = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
    if (!*out)
        rc = ct_error_set(c->err, CT_ENOMEM, "out of memory");
done:
    plan_db_release(c, sel);
    plan_db_release(c, sub);
    json_decref(root);
    return rc;
}

/* ---- Insights ------------------------------------------------------------
 */

/*
 * The Insights types of trail :t that another delivering trail of higher
 * rank also analyzes, with the same or more event categories, in every
 * (account, region) that :t covers. Rank: an organization trail first,
 * then the trail covering more (account, region)s, then the smaller ARN,
 * so the top-ranked trail of a region always keeps its types and two
 * trails never remove a type from each other.
 */
static const char sql_dup_insights[] =
    "WITH me AS ("
    "  SELECT t.trail_arn, t.is_organization_trail AS org, "
    "   (SELECT count(*) FROM v_coverage c WHERE c.snapshot_id = :p "
    "    AND c.trail_arn = t.trail_arn) AS n_cov "
    "  FROM v_trails t WHERE t.snapshot_id = :p AND t.trail_arn = :t), "
    "other AS ("
    "  SELECT t.trail_arn, t.is_organization_trail AS org, "
    "   t.mgmt_reads, t.mgmt_writes, "
    "   (SELECT count(*) FROM v_coverage c WHERE c.snapshot_id = :p "
    "    AND c.trail_arn = t.trail_arn) AS n_cov "
    "  FROM v_trails t WHERE t.snapshot_id = :p AND t.delivers "
    "   AND t.trail_arn <> :t) "
    "SELECT i.insight_type FROM v_trail_insights i, me "
    "WHERE i.snapshot_id = :p AND i.trail_arn = :t "
    " AND EXISTS (SELECT 1 FROM v_coverage c WHERE c.snapshot_id = :p "
    "  AND c.trail_arn = :t) "
    " AND NOT EXISTS ("
    "  SELECT 1 FROM v_coverage c WHERE c.snapshot_id = :p "
    "   AND c.trail_arn = :t AND NOT EXISTS ("
    "    SELECT 1 FROM v_coverage k "
    "    JOIN other o ON o.trail_arn = k.trail_arn "
    "    JOIN v_trail_insights ki ON ki.snapshot_id = k.snapshot_id "
    "     AND ki.trail_arn = k.trail_arn "
    "     AND ki.insight_type = i.insight_type "
    "    WHERE k.snapshot_id = :p AND k.account_id = c.account_id "
    "     AND k.region = c.region "
    /* Insights analyze the trail's own management events */
    "     AND o.mgmt_writes = 1 "
    "     AND (i.insight_type = 'ApiCallRateInsight' OR o.mgmt_reads = 1) "
    "     AND (ki.event_categories = i.event_categories "
    "          OR ki.event_categories = 'Data,Management') "
    "     AND (o.org > me.org OR (o.org = me.org AND (o.n_cov > me.n_cov "
    "      OR (o.n_cov = me.n_cov AND o.trail_arn < me.trail_arn)))))) "
    "ORDER BY 1";

int plan_db_dup_insights(struct plan_ctx *c, char **out, const char *arn)
{
    return plan_db_list(c, out, sql_dup_insights, arn, NULL);
}

int plan_db_remove_insight(struct plan_ctx *c, const char *arn,
                           const char *type)
{
    return plan_db_run(c,
                       "DELETE FROM insight_selectors WHERE insight_type = :x "
                       "AND doc_id IN (SELECT doc_id FROM v_trail_documents "
                       "WHERE snapshot_id = :p AND trail_arn = :t "
                       "AND kind = 'insight_selectors')",
                       arn, type, NULL);
}

int plan_db_insights_json(struct plan_ctx *c, char **out, const char *arn)
{
    sqlite3_stmt *st = NULL;
    json_t *root = json_array();
    int rc, step;
    *out = NULL;
    if (!root)
        return ct_error_set(c->err, CT_ENOMEM, "out of memory");
    if ((rc = plan_db_prepare(c, &st,
                              "SELECT insight_type, event_categories "
                              "FROM v_trail_insights WHERE snapshot_id = :p "
                              "AND trail_arn = :t ORDER BY insight_type",
                              arn, NULL, NULL)))
        goto done;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *type = (const char *)sqlite3_column_text(st, 0);
        const char *cats = (const char *)sqlite3_column_text(st, 1);
        json_t *o = json_object();
        json_array_append_new(root, o);
        json_object_set_new(o, "InsightType", json_string(type));
        /* "Management" is also what an absent EventCategories was loaded
         * as, and what AWS applies without one: said only when it differs
         * (older CLIs do not know the key) */
        if (cats && strcmp(cats, "Management") != 0) {
            json_t *a = json_array();
            json_object_set_new(o, "EventCategories", a);
            for (const char *p = cats; *p;) {
                const char *e = strchr(p, ',');
                size_t len = e ? (size_t)(e - p) : strlen(p);
                json_array_append_new(a, json_stringn(p, len));
                p = e ? e + 1 : p + len;
            }
        }
    }
    if ((rc = plan_db_step_error(c, step)))
        goto done;
    *out = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
    if (!*out)
        rc = ct_error_set(c->err, CT_ENOMEM, "out of memory");
done:
    plan_db_release(c, st);
    json_decref(root);
    return rc;
}

/*
 * Opens account's planned slice: a private memory database holding its
 * rows, its own trails and the organization trails (snapshot pid), the
 * snapshot's baseline, costs and trail states for that account, and this
 * build's views. Every view then reads one account, not the organization.
 * *out is owned (sqlite3_close).
 */
int plan_db_open_slice(struct plan_ctx *c, sqlite3 **out, const char *account)
{
    static const char *const copies[] = {
        "CREATE TABLE slice.plan_base AS SELECT * FROM temp.plan_base "
        "WHERE account_id = :t",
        "CREATE TABLE slice.plan_region_costs AS SELECT * FROM "
        "temp.plan_region_costs WHERE account_id = :t",
        "CREATE TABLE slice.plan_trail_costs AS SELECT * FROM "
        "temp.plan_trail_costs WHERE account_id = :t",
        "CREATE TABLE slice.plan_s_trails AS SELECT * FROM "
        "temp.plan_s_trails WHERE owner_account_id = :t "
        "OR is_organization_trail = 1",
    };
    static const char indexes[] =
        "CREATE INDEX plan_base_key ON plan_base (account_id, region);"
        "CREATE INDEX plan_region_costs_key ON plan_region_costs "
        "(account_id, region);"
        "CREATE INDEX plan_trail_costs_key ON plan_trail_costs "
        "(account_id, region, trail_arn);"
        "CREATE INDEX plan_s_trails_arn ON plan_s_trails (trail_arn);"
        "PRAGMA synchronous = OFF; PRAGMA journal_mode = MEMORY";
    sqlite3 *sc = NULL;
    sqlite3_stmt *st = NULL;
    char *uri =
        sqlite3_mprintf("file:ctaudit-plan-%ld-%u?mode=memory&cache=shared",
                        (long)getpid(), c->n_slices++);
    int rc = 0, attached = 0;
    if (!uri)
        return ct_error_set(c->err, CT_ENOMEM, "out of memory");
    if (sqlite3_open_v2(uri, &sc,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                            SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        rc = ct_error_set(c->err, CT_ESQL, "plan: cannot open a slice: %s",
                          sc ? sqlite3_errmsg(sc) : "out of memory");
        goto done;
    }
    for (size_t i = 0; i < ct_schema_files_count; i++)
        if (strcmp(ct_schema_files[i].name, "views.sql") != 0 &&
            sqlite3_exec(sc, ct_schema_files[i].text, NULL, NULL, NULL) !=
                SQLITE_OK) {
            rc = ct_error_set(c->err, CT_ESQL, "plan: slice schema: %s",
                              sqlite3_errmsg(sc));
            goto done;
        }
    /* the slice's copy of pricing.sql rows: the costs come from the
     * snapshot's tables, computed before any step */
    if ((rc = plan_db_prepare(c, &st, "ATTACH :t AS slice", uri, NULL, NULL)))
        goto done;
    rc = plan_db_step_error(c, sqlite3_step(st));
    plan_db_release(c, st);
    st = NULL;
    if (rc)
        goto done;
    attached = 1;
    if ((rc = copy_snapshot(c, 0, account)))
        goto done;
    for (size_t i = 0; i < sizeof(copies) / sizeof(copies[0]); i++) {
        if ((rc = plan_db_prepare(c, &st, copies[i], account, NULL, NULL)))
            goto done;
        rc = plan_db_step_error(c, sqlite3_step(st));
        plan_db_release(c, st);
        st = NULL;
        if (rc)
            goto done;
    }
    if (sqlite3_exec(sc, indexes, NULL, NULL, NULL) != SQLITE_OK) {
        rc = ct_error_set(c->err, CT_ESQL, "plan: %s", sqlite3_errmsg(sc));
        goto done;
    }
    rc = create_views(sc, c->err);
done:
    if (attached) {
        int rc2 = plan_db_run(c, "DETACH slice", NULL, NULL, NULL);
        if (!rc)
            rc = rc2;
    }
    sqlite3_free(uri);
    if (rc) {
        sqlite3_close(sc);
        return rc;
    }
    *out = sc;
    return 0;
}
