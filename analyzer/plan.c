/*
 * The remediation plan. The snapshot S is loaded into a writable working
 * database, where its baseline (copies per region, costs, trail states) is
 * computed once. A step only ever changes a trail of the account that owns
 * it, so each account with candidates is copied, with the organization
 * trails, into its own memory database as snapshot P (the planned state).
 * Each candidate step is applied to P's tables inside a SAVEPOINT, and the
 * views of schema/views.sql, read on P, say what it changed: copies per
 * region before and after, what stops being charged, and whether a
 * region, the global service events or the full set of event sources lost
 * its last copy (then the step is rolled back and reported as not
 * planned). Steps are processed in order against the evolving P, so
 * savings never stack: a copy counts as a saving only while it is a paid
 * one.
 */
#include "analyzer/plan.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "analyzer/costs.h"
#include "analyzer/report.h"
#include "analyzer/strmap.h"
#include "core/embedded.h"

extern const struct ct_embedded ct_schema_files[];
extern const size_t ct_schema_files_count;

/* Prepared statements kept for reuse, by SQL text pointer: compiling a
 * query over the views costs far more than running it. */
struct stmt_cache {
    const char *sql;
    sqlite3_stmt *st;
    int busy;
};

#define PLAN_STMT_CACHE 64

struct ctx {
    unsigned n_slices;
    struct stmt_cache cache[PLAN_STMT_CACHE];
    size_t n_cache;
    sqlite3 *db;
    struct plan *p;
    long long s, pid;
    struct ct_error *err;
};

/* ---- allocation owned by the plan --------------------------------------- */

static int track(struct plan *p, void *ptr)
{
    if (p->n_allocs == p->cap_allocs) {
        size_t ncap = p->cap_allocs ? p->cap_allocs * 2 : 64;
        void **na = realloc(p->allocs, ncap * sizeof(*na));
        if (!na)
            return -1;
        p->allocs = na;
        p->cap_allocs = ncap;
    }
    p->allocs[p->n_allocs++] = ptr;
    return 0;
}

static void *palloc(struct plan *p, size_t n)
{
    void *v = calloc(1, n ? n : 1);
    if (v && track(p, v)) {
        free(v);
        return NULL;
    }
    return v;
}

/* A copy owned by the plan; NULL stays NULL. *oom is set on failure. */
static const char *pstr(struct plan *p, const char *s, int *oom)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = palloc(p, n);
    if (!d) {
        *oom = 1;
        return NULL;
    }
    memcpy(d, s, n);
    return d;
}

static const char *pcol(struct plan *p, sqlite3_stmt *st, int i, int *oom)
{
    return pstr(p, (const char *)sqlite3_column_text(st, i), oom);
}

/* Grows *items (of size elem) to hold one more; returns the new slot. */
static void *grow(void **items, size_t *n, size_t *cap, size_t elem)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        void *ni = realloc(*items, ncap * elem);
        if (!ni)
            return NULL;
        *items = ni;
        *cap = ncap;
    }
    void *slot = (char *)*items + *n * elem;
    memset(slot, 0, elem);
    (*n)++;
    return slot;
}

/* ---- SQL helpers: named parameters :s :p :t :x :y -------------------------
 */

static int q_prepare(struct ctx *c, sqlite3_stmt **out, const char *sql,
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

/* Gives back a statement of q_prepare (NULL is fine). */
static void q_release(struct ctx *c, sqlite3_stmt *st)
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

static void q_cache_release(struct ctx *c)
{
    for (size_t k = 0; k < c->n_cache; k++)
        sqlite3_finalize(c->cache[k].st);
    c->n_cache = 0;
}

/* Runs one statement (no rows expected). */
static int q_run(struct ctx *c, const char *sql, const char *t, const char *x,
                 const char *y)
{
    sqlite3_stmt *st = NULL;
    int rc = q_prepare(c, &st, sql, t, x, y);
    if (rc)
        return rc;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        ;
    if (step != SQLITE_DONE)
        rc = ct_error_set(c->err, CT_ESQL, "plan: %s", sqlite3_errmsg(c->db));
    q_release(c, st);
    return rc;
}

/* The first column of the first row as an integer (def when no row). */
static int q_int(struct ctx *c, long long *out, long long def, const char *sql,
                 const char *t, const char *x, const char *y)
{
    sqlite3_stmt *st = NULL;
    int rc = q_prepare(c, &st, sql, t, x, y);
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
    q_release(c, st);
    return rc;
}

static int q_step_error(struct ctx *c, int step)
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
static int copy_snapshot(struct ctx *c, long long off, const char *account)
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

struct tstate {
    char name[512], owner[32], home[64], logging[16], selectors[16];
    int found, org, multi, delivers, reads, writes, data, network, insights;
};

static int trail_state(struct ctx *c, struct tstate *out, long long snap,
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
    int rc = q_prepare(c, &st, snap == c->s ? sql_s : sql, arn, NULL, NULL);
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
    rc = q_step_error(c, step);
    q_release(c, st);
    return rc;
}

/* Comma-separated list of the first column's values (NULL: none). */
static int q_list(struct ctx *c, char **out, const char *sql, const char *t,
                  const char *x)
{
    sqlite3_stmt *st = NULL;
    sqlite3_str *s = sqlite3_str_new(c->db);
    int rc = q_prepare(c, &st, sql, t, x, NULL), n = 0, step;
    if (rc)
        goto done;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(st, 0);
        sqlite3_str_appendf(s, "%s%s", n++ ? ", " : "", v ? v : "");
    }
    rc = q_step_error(c, step);
done:
    q_release(c, st);
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

/* ---- candidates ------------------------------------------------------------
 */

enum cand_kind { C_MGMT, C_DATA, C_NETWORK };

struct cand {
    enum cand_kind kind;
    char *arn;
    char account[32]; /* the trail's owner: its slice */
    char *rtype;      /* data: resource type; network: NetworkActivity */
    char *keeper;     /* the trail that keeps the events */
    long est;         /* charged items removed, alone against the snapshot */
    double dollars;   /* its known monthly saving, alone */
    int multi;
    int quality; /* what makes a trail worth keeping (higher: keep) */
    int done;
};

struct cand_list {
    struct cand *items;
    size_t n, cap;
};

static void cand_list_release(struct cand_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        sqlite3_free(l->items[i].arn);
        sqlite3_free(l->items[i].rtype);
        sqlite3_free(l->items[i].keeper);
    }
    free(l->items);
}

static int cand_add(struct ctx *c, struct cand_list *l, enum cand_kind kind,
                    const char *arn, const char *account, const char *rtype,
                    const char *keeper)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->items[i].kind == kind && strcmp(l->items[i].arn, arn) == 0 &&
            (!rtype || strcmp(l->items[i].rtype, rtype) == 0))
            return 0;
    struct cand *x = grow((void **)&l->items, &l->n, &l->cap, sizeof(*x));
    if (!x)
        return ct_error_set(c->err, CT_ENOMEM, "out of memory");
    x->kind = kind;
    x->arn = sqlite3_mprintf("%s", arn);
    snprintf(x->account, sizeof(x->account), "%s", account);
    x->rtype = rtype ? sqlite3_mprintf("%s", rtype) : NULL;
    x->keeper = keeper ? sqlite3_mprintf("%s", keeper) : NULL;
    if (!x->arn || (rtype && !x->rtype) || (keeper && !x->keeper))
        return ct_error_set(c->err, CT_ENOMEM, "out of memory");
    return 0;
}

static int add_skip(struct ctx *c, const char *arn, const char *account,
                    const char *reason)
{
    struct plan *p = c->p;
    int oom = 0;
    for (size_t i = 0; i < p->n_skips; i++)
        if (strcmp(p->skips[i].trail_arn, arn) == 0)
            return 0;        /* one reason per trail: the first */
    size_t cap = p->n_skips; /* grow() needs a capacity: keep it exact */
    struct plan_skip *s =
        grow((void **)&p->skips, &p->n_skips, &cap, sizeof(*s));
    if (!s)
        return ct_error_set(c->err, CT_ENOMEM, "out of memory");
    s->trail_arn = pstr(p, arn, &oom);
    s->account_id = pstr(p, account, &oom);
    s->reason = pstr(p, reason, &oom);
    return oom ? ct_error_set(c->err, CT_ENOMEM, "out of memory") : 0;
}

/* Trails that deliver a paid management copy somewhere. */
static const char sql_mgmt_candidates[] =
    "SELECT DISTINCT t.trail_arn, t.owner_account_id, t.is_organization_trail,"
    " t.logging, t.is_multi_region "
    "FROM v_trails t "
    "JOIN v_coverage c ON c.snapshot_id = t.snapshot_id "
    " AND c.trail_arn = t.trail_arn "
    "JOIN v_region_mgmt m ON m.snapshot_id = c.snapshot_id "
    " AND m.account_id = c.account_id AND m.region = c.region "
    "WHERE t.snapshot_id = :s AND t.delivers "
    " AND ((t.mgmt_reads = 1 AND m.read_copies > 1) "
    "      OR (t.mgmt_writes = 1 AND m.write_copies > 1)) "
    "ORDER BY t.trail_arn";

/* Trails whose selectors are unknown but that deliver. */
static const char sql_unknown_selectors[] =
    "SELECT trail_arn, owner_account_id FROM v_trails "
    "WHERE snapshot_id = :s AND delivers AND selectors = 'unknown' "
    "ORDER BY trail_arn";

/* Certain overlaps of data or network activity scopes. */
static const char sql_overlaps[] =
    "SELECT o.trail_a, o.trail_b, o.category, o.resource_type "
    "FROM v_scope_overlaps o "
    "JOIN v_trails a ON a.snapshot_id = o.snapshot_id "
    " AND a.trail_arn = o.trail_a "
    "JOIN v_trails b ON b.snapshot_id = o.snapshot_id "
    " AND b.trail_arn = o.trail_b "
    "WHERE o.snapshot_id = :s AND o.overlap = 2 AND a.delivers AND b.delivers "
    "ORDER BY o.trail_a, o.trail_b, o.category, o.resource_type";

/*
 * 1 if trail :t (the keeper) captures every event of category :x and
 * resource type :y that trail :u captures, wherever :u delivers them: every
 * term of :u's scopes is matched by a term of a plain scope of :t (no
 * exclusions or other filters) with the same or more reads and writes, and
 * :t covers every (account, region) that :u covers.
 */
static const char sql_covers[] =
    "SELECT NOT EXISTS ("
    "  SELECT 1 FROM v_trail_scopes d "
    "  JOIN v_scope_terms dt ON dt.snapshot_id = d.snapshot_id "
    "   AND dt.scope_id = d.scope_id AND dt.trail_arn = d.trail_arn "
    "  WHERE d.snapshot_id = :s AND d.trail_arn = :u AND d.category = :x "
    "   AND d.resource_type = :y "
    "   AND NOT EXISTS ("
    "    SELECT 1 FROM v_trail_scopes k "
    "    JOIN v_scope_terms kt ON kt.snapshot_id = k.snapshot_id "
    "     AND kt.scope_id = k.scope_id AND kt.trail_arn = k.trail_arn "
    "    WHERE k.snapshot_id = :s AND k.trail_arn = :t AND k.category = :x "
    "     AND k.resource_type = :y AND NOT k.has_negative "
    "     AND NOT k.has_filter AND k.reads >= d.reads "
    "     AND k.writes >= d.writes "
    "     AND (kt.kind = 'all' "
    "      OR (kt.kind = 'equals' AND dt.kind = 'equals' "
    "          AND kt.value = dt.value) "
    "      OR (kt.kind = 'prefix' AND dt.kind IN ('prefix', 'equals') "
    "          AND substr(dt.value, 1, length(kt.value)) = kt.value)))) "
    "AND NOT EXISTS ("
    "  SELECT 1 FROM v_coverage cd WHERE cd.snapshot_id = :s "
    "   AND cd.trail_arn = :u AND NOT EXISTS ("
    "    SELECT 1 FROM v_coverage ck WHERE ck.snapshot_id = :s "
    "     AND ck.trail_arn = :t AND ck.account_id = cd.account_id "
    "     AND ck.region = cd.region))";

static int covers(struct ctx *c, int *out, const char *keeper, const char *drop,
                  const char *category, const char *rtype)
{
    sqlite3_stmt *st = NULL;
    int rc = q_prepare(c, &st, sql_covers, keeper, category, rtype);
    if (rc)
        return rc;
    sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":u"), drop, -1,
                      SQLITE_TRANSIENT);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        *out = sqlite3_column_int(st, 0);
        step = SQLITE_DONE;
    }
    rc = q_step_error(c, step);
    q_release(c, st);
    return rc;
}

/* Why a trail gets no step (NULL: it may get one). */
static const char *no_step_reason(const struct tstate *t)
{
    if (t->org)
        return "organization trail: kept as the copy of record (member "
               "copies are removed instead; an organization trail is "
               "changed only from its owner account)";
    if (strcmp(t->logging, "unknown") == 0)
        return "logging state unknown (no get-trail-status.json): no step "
               "is suggested for it";
    if (strcmp(t->selectors, "unknown") == 0)
        return "event selectors unknown (no get-event-selectors.json): no "
               "step is suggested for it";
    return NULL;
}

static int collect_candidates(struct ctx *c, struct cand_list *out)
{
    sqlite3_stmt *st = NULL;
    struct tstate ta, tb;
    int rc, step;
    if ((rc = q_prepare(c, &st, sql_mgmt_candidates, NULL, NULL, NULL)))
        return rc;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *arn = (const char *)sqlite3_column_text(st, 0);
        if ((rc = trail_state(c, &ta, c->s, arn)))
            goto done;
        const char *why = no_step_reason(&ta);
        rc = why ? add_skip(c, arn, ta.owner, why)
                 : cand_add(c, out, C_MGMT, arn, ta.owner, NULL, NULL);
        if (rc)
            goto done;
    }
    if ((rc = q_step_error(c, step)))
        goto done;
    q_release(c, st);
    if ((rc = q_prepare(c, &st, sql_unknown_selectors, NULL, NULL, NULL)))
        return rc;
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        if ((rc = add_skip(c, (const char *)sqlite3_column_text(st, 0),
                           (const char *)sqlite3_column_text(st, 1),
                           "event selectors unknown (no "
                           "get-event-selectors.json): its copies are not "
                           "counted and no step is suggested for it")))
            goto done;
    if ((rc = q_step_error(c, step)))
        goto done;
    q_release(c, st);
    if ((rc = q_prepare(c, &st, sql_overlaps, NULL, NULL, NULL)))
        return rc;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *a = (const char *)sqlite3_column_text(st, 0);
        const char *b = (const char *)sqlite3_column_text(st, 1);
        const char *cat = (const char *)sqlite3_column_text(st, 2);
        const char *type = (const char *)sqlite3_column_text(st, 3);
        int a_keeps = 0, b_keeps = 0;
        if ((rc = trail_state(c, &ta, c->s, a)) ||
            (rc = trail_state(c, &tb, c->s, b)) ||
            (rc = covers(c, &a_keeps, a, b, cat, type)) ||
            (rc = covers(c, &b_keeps, b, a, cat, type)))
            goto done;
        /* drop from the trail the other covers; never from an
         * organization trail; between equals, the single-region one, then
         * the larger ARN */
        const char *drop = NULL, *keep = NULL;
        const struct tstate *td = NULL;
        if (a_keeps && !tb.org &&
            (!b_keeps || ta.org || tb.multi <= ta.multi)) {
            drop = b, keep = a, td = &tb;
        } else if (b_keeps && !ta.org) {
            drop = a, keep = b, td = &ta;
        }
        if (!drop) {
            if (!ta.org || !tb.org)
                rc = add_skip(c, ta.org ? b : a, ta.org ? tb.owner : ta.owner,
                              "its data or network activity scope overlaps "
                              "another trail's only in part: narrow the "
                              "selectors by hand");
            if (rc)
                goto done;
            continue;
        }
        const char *why = no_step_reason(td);
        rc = why ? add_skip(c, drop, td->owner, why)
                 : cand_add(c, out,
                            strcmp(cat, "Data") == 0 ? C_DATA : C_NETWORK, drop,
                            td->owner, type, keep);
        if (rc)
            goto done;
    }
    rc = q_step_error(c, step);
done:
    q_release(c, st);
    return rc;
}

/* ---- applying a step to the planned state ------------------------------- */

static int es_doc(struct ctx *c, long long *out, const char *arn)
{
    return q_int(c, out, -1,
                 "SELECT doc_id FROM v_trail_documents WHERE snapshot_id = :p "
                 "AND trail_arn = :t AND kind = 'event_selectors'",
                 arn, NULL, NULL);
}

static int apply_stop(struct ctx *c, const char *arn)
{
    return q_run(c,
                 "UPDATE trail_status SET is_logging = 0 "
                 "WHERE snapshot_id = :p AND trail_arn = :t",
                 arn, NULL, NULL);
}

/* Deletes the advanced selectors of doc :t... selected by cond_sql (a
 * SELECT of selector_index values, parameters :d :x :y). */
static int delete_advanced(struct ctx *c, long long doc, const char *cond,
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
static int drop_empty_basic(struct ctx *c, long long doc)
{
    sqlite3_stmt *st = NULL;
    int rc = q_prepare(c, &st,
                       "DELETE FROM event_selectors WHERE doc_id = :d "
                       "AND include_management_events = 0 "
                       "AND NOT EXISTS (SELECT 1 FROM data_resources r "
                       "WHERE r.doc_id = :d "
                       "AND r.selector_index = event_selectors.selector_index)",
                       NULL, NULL, NULL);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":d"), doc);
    rc = q_step_error(c, sqlite3_step(st));
    q_release(c, st);
    return rc;
}

static int run_doc(struct ctx *c, const char *sql, long long doc, const char *x)
{
    sqlite3_stmt *st = NULL;
    int rc = q_prepare(c, &st, sql, NULL, x, NULL);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":d"), doc);
    rc = q_step_error(c, sqlite3_step(st));
    q_release(c, st);
    return rc;
}

/* Management events off, everything else of the selectors as it was.
 * *applied is 0 when the trail has no selector document (implied). */
static int apply_remove_mgmt(struct ctx *c, int *applied, const char *arn)
{
    long long doc;
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
static int apply_remove_scope(struct ctx *c, int *applied, const char *arn,
                              const char *category, const char *rtype)
{
    long long doc;
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

/* ---- measuring a step ---------------------------------------------------- */

struct region_copies {
    char account[32], region[64];
    int reads, writes;
};

struct measure {
    struct region_copies *r;
    size_t n, cap;
    char *data, *insights; /* sqlite3_malloc'ed lists */
    int delivers, network;
};

static void measure_release(struct measure *m)
{
    free(m->r);
    sqlite3_free(m->data);
    sqlite3_free(m->insights);
    memset(m, 0, sizeof(*m));
}

static int measure(struct ctx *c, struct measure *m, const char *arn,
                   const char *account)
{
    static const char sql[] =
        "SELECT m.account_id, m.region, m.read_copies, m.write_copies "
        "FROM v_coverage c JOIN v_region_mgmt m "
        " ON m.snapshot_id = c.snapshot_id AND m.account_id = c.account_id "
        " AND m.region = c.region "
        "WHERE c.snapshot_id = :p AND c.trail_arn = :t "
        " AND (:x IS NULL OR m.account_id = :x) "
        "ORDER BY m.account_id, m.region";
    sqlite3_stmt *st = NULL;
    struct tstate t;
    int rc, step;
    memset(m, 0, sizeof(*m));
    if ((rc = q_prepare(c, &st, sql, arn, account, NULL)))
        return rc;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        struct region_copies *x =
            grow((void **)&m->r, &m->n, &m->cap, sizeof(*x));
        if (!x) {
            rc = ct_error_set(c->err, CT_ENOMEM, "out of memory");
            goto done;
        }
        snprintf(x->account, sizeof(x->account), "%s",
                 (const char *)sqlite3_column_text(st, 0));
        snprintf(x->region, sizeof(x->region), "%s",
                 (const char *)sqlite3_column_text(st, 1));
        x->reads = sqlite3_column_int(st, 2);
        x->writes = sqlite3_column_int(st, 3);
    }
    if ((rc = q_step_error(c, step)) || (rc = trail_state(c, &t, c->pid, arn)))
        goto done;
    m->delivers = t.delivers;
    m->network = t.delivers && t.network == 1;
    if (t.delivers &&
        ((rc = q_list(c, &m->data,
                      "SELECT DISTINCT resource_type FROM v_trail_scopes "
                      "WHERE snapshot_id = :p AND trail_arn = :t "
                      "AND category = 'Data' ORDER BY 1",
                      arn, NULL)) ||
         (rc = q_list(c, &m->insights,
                      "SELECT insight_type FROM v_trail_insights "
                      "WHERE snapshot_id = :p AND trail_arn = :t "
                      "ORDER BY 1",
                      arn, NULL))))
        goto done;
done:
    q_release(c, st);
    return rc;
}

/* Items of list a ("x, y") missing from list b, as a new list or NULL. */
static char *list_minus(const char *a, const char *b, int *oom)
{
    if (!a)
        return NULL;
    sqlite3_str *s = sqlite3_str_new(NULL);
    int n = 0;
    const char *p = a;
    while (*p) {
        const char *e = strstr(p, ", ");
        size_t len = e ? (size_t)(e - p) : strlen(p);
        int found = 0;
        for (const char *q = b; q && *q;) {
            const char *qe = strstr(q, ", ");
            size_t qlen = qe ? (size_t)(qe - q) : strlen(q);
            if (qlen == len && strncmp(p, q, len) == 0)
                found = 1;
            q = qe ? qe + 2 : q + qlen;
        }
        if (!found)
            sqlite3_str_appendf(s, "%s%.*s", n++ ? ", " : "", (int)len, p);
        p = e ? e + 2 : p + len;
    }
    char *r = sqlite3_str_finish(s);
    if (!r && n)
        *oom = 1;
    if (!n) {
        sqlite3_free(r);
        return NULL;
    }
    return r;
}

/*
 * The first copy the planned state lost against the snapshot, as a
 * sentence into *out (sqlite3_malloc'ed), or NULL when nothing was lost:
 * the last read or write copy of management events of a region, the last
 * copy of global service events, or the last copy that captures every
 * event source (the others skip some).
 */
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
static int save_state(struct ctx *c, const char *name, long long n, int create,
                      const char *account)
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

static int lost_copy(struct ctx *c, char **out, const char *account)
{
    sqlite3_stmt *st = NULL;
    int rc, n = 0, step;
    char *first = NULL;
    *out = NULL;
    if ((rc = save_state(c, "plan_now", c->pid, 0, account)) ||
        (rc = q_prepare(c, &st, sql_lost, NULL, NULL, NULL)))
        return rc;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (!n++)
            first = sqlite3_mprintf(
                "it would leave no copy of %s in account %s, %s",
                (const char *)sqlite3_column_text(st, 2),
                (const char *)sqlite3_column_text(st, 0),
                (const char *)sqlite3_column_text(st, 1));
    }
    rc = q_step_error(c, step);
    if (!rc && n > 1) {
        char *more = sqlite3_mprintf("%s (and %d more)", first, n - 1);
        sqlite3_free(first);
        first = more;
    }
    if (!rc && n && !first)
        rc = ct_error_set(c->err, CT_ENOMEM, "out of memory");
    q_release(c, st);
    if (rc)
        sqlite3_free(first);
    else
        *out = first;
    return rc;
}

/* Own multi-region trails of an account that satisfy AWS Config's
 * multi-region-cloudtrail-enabled and CIS "CloudTrail enabled in all
 * regions": logging, reads and writes, no excluded sources. */
static int compliant_trails(struct ctx *c, long long *out, const char *acct)
{
    return q_int(c, out, 0,
                 "SELECT count(*) FROM v_trails WHERE snapshot_id = :p "
                 "AND owner_account_id = :t AND is_organization_trail = 0 "
                 "AND is_multi_region = 1 AND logging = 'yes' "
                 "AND mgmt_reads = 1 AND mgmt_writes = 1 "
                 "AND excluded_sources IS NULL",
                 acct, NULL, NULL);
}

/* ---- building steps ------------------------------------------------------ */

static const char *action_name(int action)
{
    switch (action) {
    case 0:
        return "stop-logging";
    case 1:
        return "remove-management-events";
    case 2:
        return "remove-data-events";
    default:
        return "remove-network-activity-events";
    }
}

/* Builds the event selectors JSON of trail arn in P from the tables. */
static int selectors_json(struct ctx *c, char **out, int *advanced,
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
    if ((rc = q_int(c, &n_adv, 0,
                    "SELECT count(*) FROM advanced_event_selectors "
                    "WHERE doc_id = CAST(:x AS INTEGER)",
                    NULL, dbuf, NULL)))
        goto done;
    *advanced = n_adv > 0;
    if (*advanced) {
        if ((rc = q_prepare(c, &sel,
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
            if ((rc = q_prepare(c, &sub,
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
            if ((rc = q_step_error(c, step)))
                goto done;
            q_release(c, sub);
            sub = NULL;
        }
    } else {
        if ((rc = q_prepare(c, &sel,
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
            if ((rc = q_prepare(c, &sub,
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
            if ((rc = q_step_error(c, step)))
                goto done;
            q_release(c, sub);
            sub = NULL;
            if ((rc = q_prepare(c, &sub,
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
            if ((rc = q_step_error(c, step)))
                goto done;
            q_release(c, sub);
            sub = NULL;
        }
    }
    if ((rc = q_step_error(c, step)))
        goto done;
    *out = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
    if (!*out)
        rc = ct_error_set(c->err, CT_ENOMEM, "out of memory");
done:
    q_release(c, sel);
    q_release(c, sub);
    json_decref(root);
    return rc;
}

static int set_command(struct plan *p, struct plan_command *cmd,
                       const char *const *argv, size_t n)
{
    int oom = 0;
    cmd->argv = palloc(p, n * sizeof(*cmd->argv));
    if (!cmd->argv)
        return -1;
    for (size_t i = 0; i < n; i++)
        cmd->argv[i] = pstr(p, argv[i], &oom);
    cmd->n_argv = n;
    return oom ? -1 : 0;
}

/* Findings of the snapshot that the step addresses: same trail, a rule
 * about what the step changed, in a region where it changed. */
static int step_findings(struct ctx *c, struct plan_step *s,
                         const struct finding_list *before)
{
    size_t cap = 0;
    int oom = 0;
    size_t alen = strlen(s->trail_arn);
    /* findings are sorted by account (NULL first): the step's account's
     * are one run, found by bisection */
    size_t lo = 0, hi = before->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *a = before->items[mid].account_id;
        if (!a || strcmp(a, s->account_id) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < before->n; i++) {
        const struct finding *f = &before->items[i];
        if (!f->account_id || strcmp(f->account_id, s->account_id) != 0)
            break;
        const char *t = f->trail_arns;
        int has = 0;
        while (t && *t) {
            const char *e = strchr(t, ' ');
            size_t len = e ? (size_t)(e - t) : strlen(t);
            if (len == alen && strncmp(t, s->trail_arn, len) == 0)
                has = 1;
            t = e ? e + 1 : t + len;
        }
        if (!has || !f->account_id || !f->region)
            continue;
        int mg = strcmp(f->rule_id, "duplicate-management-events") == 0 ||
                 strcmp(f->rule_id, "organization-trail-overlap") == 0 ||
                 strcmp(f->rule_id, "duplicate-global-service-events") == 0;
        int da = strcmp(f->rule_id, "data-events") == 0 ||
                 strcmp(f->rule_id, "duplicate-data-events") == 0;
        int nw = strcmp(f->rule_id, "network-activity-events") == 0 ||
                 strcmp(f->rule_id, "duplicate-network-activity-events") == 0;
        int in = strcmp(f->rule_id, "insights") == 0;
        int match = 0;
        for (size_t j = 0; j < s->n_effects && !match; j++) {
            const struct plan_effect *e = &s->effects[j];
            if (strcmp(e->account_id, f->account_id) != 0 ||
                strcmp(e->region, f->region) != 0)
                continue;
            match = (mg && (e->paid_reads_removed || e->paid_writes_removed)) ||
                    (da && e->data_types) || (nw && e->network) ||
                    (in && e->insights);
        }
        if (!match)
            continue;
        struct plan_finding *x =
            grow((void **)&s->findings, &s->n_findings, &cap, sizeof(*x));
        if (!x)
            return ct_error_set(c->err, CT_ENOMEM, "out of memory");
        x->rule_id = pstr(c->p, f->rule_id, &oom);
        x->account_id = pstr(c->p, f->account_id, &oom);
        x->region = pstr(c->p, f->region, &oom);
        x->trail_arns = pstr(c->p, f->trail_arns, &oom);
        x->detail = pstr(c->p, f->detail, &oom);
    }
    return oom ? ct_error_set(c->err, CT_ENOMEM, "out of memory") : 0;
}

/*
 * What an effect saves a month, from the snapshot's own costs (never the
 * planned state's: billing data divided among fewer copies would inflate
 * the price of one). A management copy saves mgmt_copy_monthly only when
 * it was a paid one at this point of the plan (copies counted as
 * max(reads, writes), as v_region_costs does); data, network and Insights
 * save the trail's share when the trail stops delivering all of them
 * there. Parts without a basis make saving_unknown.
 */
static int effect_saving(struct ctx *c, struct plan_effect *e,
                         const struct region_copies *r0,
                         const struct region_copies *r1, const char *arn,
                         int data_left, int insights_left)
{
    static const char sql[] =
        "SELECT r.basis, r.mgmt_copy_monthly, t.data_monthly, "
        " t.network_monthly, t.insights_monthly "
        "FROM plan_region_costs r LEFT JOIN plan_trail_costs t "
        " ON t.account_id = r.account_id AND t.region = r.region "
        " AND t.trail_arn = :t "
        "WHERE r.account_id = :x AND r.region = :y";
    sqlite3_stmt *st = NULL;
    int paid0 = (r0->reads > r0->writes ? r0->reads : r0->writes) - 1;
    int paid1 = (r1->reads > r1->writes ? r1->reads : r1->writes) - 1;
    int copies = (paid0 > 0 ? paid0 : 0) - (paid1 > 0 ? paid1 : 0);
    int rc = q_prepare(c, &st, sql, arn, e->account_id, e->region), step;
    double sum = 0;
    int known = 0, unknown = 0;
    if (rc)
        return rc;
    step = sqlite3_step(st);
    if (step == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        struct {
            int wanted, col;
        } parts[] = {{copies > 0, 1},
                     {e->data_types && !data_left, 2},
                     {e->network, 3},
                     {e->insights && !insights_left, 4}};
        for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
            if (!parts[i].wanted)
                continue;
            if (sqlite3_column_type(st, parts[i].col) == SQLITE_NULL) {
                unknown = 1;
                continue;
            }
            double v = sqlite3_column_double(st, parts[i].col);
            sum += i == 0 ? v * copies : v;
            known = 1;
        }
        /* part of a trail's data types: its share is not split by type */
        if (e->data_types && data_left)
            unknown = 1;
        step = SQLITE_DONE;
    } else if (step == SQLITE_ROW) {
        unknown = copies > 0 || e->data_types || e->network || e->insights;
        step = SQLITE_DONE;
    }
    rc = q_step_error(c, step);
    q_release(c, st);
    e->saving = sum;
    e->saving_known = known;
    e->saving_unknown = unknown;
    return rc;
}

/*
 * Applies candidate x to P inside a savepoint. *kept says whether the step
 * stays applied (it removes something charged and loses no last copy);
 * *reason is set (sqlite3_malloc'ed) when a last copy would be lost. When
 * step is not NULL and the step is kept, it is filled in.
 */
static int try_candidate(struct ctx *c, const struct cand *x, int *kept,
                         long *est, char **reason, struct plan_step *step,
                         const struct finding_list *before)
{
    struct measure m0, m1;
    struct tstate t;
    char *json = NULL, *data_removed = NULL, *ins_removed = NULL;
    int rc, applied = 0, action = 0, advanced = 0, oom = 0;
    long long comp0 = 0, comp1 = 0;
    memset(&m0, 0, sizeof(m0));
    memset(&m1, 0, sizeof(m1));
    *kept = 0;
    *est = 0;
    *reason = NULL;
    if ((rc = q_run(c, "SAVEPOINT plan_step", NULL, NULL, NULL)) ||
        (rc = trail_state(c, &t, c->pid, x->arn)) ||
        (rc = measure(c, &m0, x->arn, t.org ? NULL : t.owner)) ||
        (rc = compliant_trails(c, &comp0, t.owner)))
        goto done;
    if (!t.found || !t.delivers)
        goto rollback;
    if (x->kind == C_MGMT && (t.data == 1 || t.network == 1) &&
        t.insights == 1) {
        /* Insights analyze the trail's own management events: without
         * them they analyze nothing, and stopping loses the data events */
        int paid = 0;
        for (size_t i = 0; i < m0.n; i++)
            paid |= (t.reads == 1 && m0.r[i].reads >= 2) ||
                    (t.writes == 1 && m0.r[i].writes >= 2);
        if (!paid)
            goto rollback;
        *reason = sqlite3_mprintf(
            "it has Insights and data or network activity events: removing "
            "its management events would leave its Insights nothing to "
            "analyze, stopping it would lose the other events; choose by "
            "hand");
        *est = 1;
        if (!*reason) {
            rc = ct_error_set(c->err, CT_ENOMEM, "out of memory");
            goto done;
        }
        goto rollback;
    } else if (x->kind == C_MGMT && (t.data == 1 || t.network == 1)) {
        action = 1;
        rc = apply_remove_mgmt(c, &applied, x->arn);
    } else if (x->kind == C_DATA || x->kind == C_NETWORK) {
        action = x->kind == C_DATA ? 2 : 3;
        rc = apply_remove_scope(c, &applied, x->arn,
                                x->kind == C_DATA ? "Data" : "NetworkActivity",
                                x->rtype);
    }
    if (rc)
        goto done;
    if (applied) {
        struct tstate after;
        if ((rc = trail_state(c, &after, c->pid, x->arn)))
            goto done;
        /* nothing left to capture: stopping is the same and reversible */
        if (after.reads == 0 && after.writes == 0 && after.data == 0 &&
            after.network == 0) {
            if ((rc = q_run(c, "ROLLBACK TO plan_step", NULL, NULL, NULL)))
                goto done;
            applied = 0;
        }
    }
    if (!applied) {
        action = 0;
        if ((rc = apply_stop(c, x->arn)))
            goto done;
    }
    if ((rc = measure(c, &m1, x->arn, t.org ? NULL : t.owner)) ||
        (rc = lost_copy(c, reason, t.org ? NULL : t.owner)) ||
        (rc = compliant_trails(c, &comp1, t.owner)))
        goto done;
    data_removed = list_minus(m0.data, m1.data, &oom);
    ins_removed = list_minus(m0.insights, m1.insights, &oom);
    if (oom) {
        rc = ct_error_set(c->err, CT_ENOMEM, "out of memory");
        goto done;
    }
    long paid = 0, data = 0, net = 0, ins = 0;
    for (size_t i = 0; i < m0.n && i < m1.n; i++) {
        paid += (m0.r[i].reads >= 2 && m1.r[i].reads < m0.r[i].reads) +
                (m0.r[i].writes >= 2 && m1.r[i].writes < m0.r[i].writes);
        data += data_removed != NULL;
        net += m0.network && !m1.network;
        if (ins_removed)
            ins += 1 + (long)(strchr(ins_removed, ',') != NULL);
    }
    *est = paid + data + net + ins;
    if (*reason || *est == 0)
        goto rollback;
    *kept = 1;
    if (step) {
        struct plan *p = c->p;
        size_t cap = 0;
        step->action = action_name(action);
        step->trail_arn = pstr(p, x->arn, &oom);
        step->trail_name = pstr(p, t.name, &oom);
        step->account_id = pstr(p, t.owner, &oom);
        step->home_region = pstr(p, t.home, &oom);
        step->is_organization_trail = t.org;
        step->paid_mgmt_copies = paid;
        step->data_charges = data;
        step->network_charges = net;
        step->insights_charges = ins;
        for (size_t i = 0; i < m0.n && i < m1.n; i++) {
            struct plan_effect *e = grow((void **)&step->effects,
                                         &step->n_effects, &cap, sizeof(*e));
            if (!e) {
                rc = ct_error_set(c->err, CT_ENOMEM, "out of memory");
                goto done;
            }
            e->account_id = pstr(p, m0.r[i].account, &oom);
            e->region = pstr(p, m0.r[i].region, &oom);
            e->reads_before = m0.r[i].reads;
            e->reads_after = m1.r[i].reads;
            e->writes_before = m0.r[i].writes;
            e->writes_after = m1.r[i].writes;
            e->paid_reads_removed =
                m0.r[i].reads >= 2 && m1.r[i].reads < m0.r[i].reads;
            e->paid_writes_removed =
                m0.r[i].writes >= 2 && m1.r[i].writes < m0.r[i].writes;
            e->data_types = pstr(p, data_removed, &oom);
            e->network = m0.network && !m1.network;
            e->insights = pstr(p, ins_removed, &oom);
            if ((rc = effect_saving(c, e, &m0.r[i], &m1.r[i], x->arn,
                                    m1.data != NULL, m1.insights != NULL)))
                goto done;
            if (e->saving_known) {
                step->saving += e->saving;
                step->saving_known = 1;
            }
            if (e->saving_unknown)
                step->saving_partial = 1;
        }
        if (comp0 > 0 && comp1 == 0) {
            char *txt = sqlite3_mprintf(
                "changes compliance posture: this is the last own "
                "multi-region trail of account %s logging all management "
                "events; AWS Config rule multi-region-cloudtrail-enabled "
                "becomes NON_COMPLIANT and CIS \"CloudTrail enabled in all "
                "regions\" fails for the account unless the organization "
                "trail is accepted as evidence",
                t.owner);
            step->compliance = pstr(p, txt, &oom);
            sqlite3_free(txt);
        }
        const char *home = t.home;
        if (action == 0) {
            const char *a[] = {"cloudtrail", "stop-logging", "--name",
                               x->arn,       "--region",     home};
            const char *d[] = {"cloudtrail", "delete-trail", "--name",
                               x->arn,       "--region",     home};
            if (set_command(p, &step->command, a, 6) ||
                set_command(p, &step->alternative, d, 6))
                oom = 1;
        } else {
            if ((rc = selectors_json(c, &json, &advanced, x->arn)))
                goto done;
            const char *a[] = {"cloudtrail",
                               "put-event-selectors",
                               "--trail-name",
                               x->arn,
                               "--region",
                               home,
                               advanced ? "--advanced-event-selectors"
                                        : "--event-selectors",
                               json};
            if (set_command(p, &step->command, a, 8))
                oom = 1;
        }
        char *sum = NULL;
        switch (action) {
        case 0:
            sum = sqlite3_mprintf("stop logging on \"%s\"", t.name);
            break;
        case 1:
            sum = sqlite3_mprintf("remove management events from \"%s\" "
                                  "(its other selectors stay)",
                                  t.name);
            break;
        case 2:
            sum =
                sqlite3_mprintf("remove %s data events from \"%s\" (\"%s\" "
                                "keeps them)",
                                x->rtype, t.name, report_trail_name(x->keeper));
            break;
        default:
            sum = sqlite3_mprintf("remove network activity events from "
                                  "\"%s\" (\"%s\" keeps them)",
                                  t.name, report_trail_name(x->keeper));
        }
        step->summary = pstr(p, sum, &oom);
        sqlite3_free(sum);
        if (oom) {
            rc = ct_error_set(c->err, CT_ENOMEM, "out of memory");
            goto done;
        }
        if ((rc = step_findings(c, step, before)))
            goto done;
    }
    rc = q_run(c, "RELEASE plan_step", NULL, NULL, NULL);
    goto done;
rollback:
    if (!(rc = q_run(c, "ROLLBACK TO plan_step", NULL, NULL, NULL)))
        rc = q_run(c, "RELEASE plan_step", NULL, NULL, NULL);
done:
    measure_release(&m0);
    measure_release(&m1);
    sqlite3_free(data_removed);
    sqlite3_free(ins_removed);
    free(json);
    return rc;
}

static int cmp_cand(const void *pa, const void *pb)
{
    const struct cand *a = pa, *b = pb;
    if (a->dollars != b->dollars)
        return a->dollars > b->dollars ? -1 : 1;
    if (a->est != b->est)
        return a->est > b->est ? -1 : 1;
    if (a->multi != b->multi) /* keep the multi-region copy */
        return a->multi - b->multi;
    if (a->quality != b->quality) /* stop the weaker copy first */
        return a->quality - b->quality;
    if (a->kind != b->kind)
        return (int)a->kind - (int)b->kind;
    int r = strcmp(a->arn, b->arn);
    if (r)
        return r;
    return strcmp(a->rtype ? a->rtype : "", b->rtype ? b->rtype : "");
}

/* ---- the plan -------------------------------------------------------------
 */

/* The snapshot's costs, fixed before any step: what a copy, a trail's
 * data, network and Insights cost there, and the paid usage in total. */
static int cost_tables(struct ctx *c)
{
    struct plan *p = c->p;
    struct cost_basis b;
    sqlite3_stmt *st = NULL;
    int rc, oom = 0;
    if ((rc = q_run(c,
                    "CREATE TEMP TABLE plan_region_costs AS "
                    "SELECT account_id, region, basis, currency, "
                    "mgmt_copy_monthly, paid_mgmt_monthly, data_monthly, "
                    "network_monthly, insights_monthly "
                    "FROM v_region_costs WHERE snapshot_id = :s",
                    NULL, NULL, NULL)) ||
        (rc = q_run(c,
                    "CREATE TEMP TABLE plan_trail_costs AS "
                    "SELECT account_id, region, trail_arn, data_monthly, "
                    "network_monthly, insights_monthly "
                    "FROM v_trail_region_costs WHERE snapshot_id = :s",
                    NULL, NULL, NULL)) ||
        (rc = q_run(c,
                    "CREATE INDEX temp.plan_region_costs_key "
                    "ON plan_region_costs (account_id, region)",
                    NULL, NULL, NULL)) ||
        (rc = q_run(c,
                    "CREATE INDEX temp.plan_trail_costs_key "
                    "ON plan_trail_costs (account_id, region, trail_arn)",
                    NULL, NULL, NULL)) ||
        (rc = costs_basis(&b, c->db, c->s, c->err)))
        return rc;
    if (!b.kind[0])
        return 0;
    p->basis = pstr(p, b.kind, &oom);
    p->currency = pstr(p, b.currency, &oom);
    if (oom)
        return ct_error_set(c->err, CT_ENOMEM, "out of memory");
    /* what is paid beyond the free copy: no plan can save more */
    if ((rc = q_prepare(c, &st,
                        "SELECT sum(coalesce(paid_mgmt_monthly, 0) "
                        "+ coalesce(data_monthly, 0) "
                        "+ coalesce(network_monthly, 0) "
                        "+ coalesce(insights_monthly, 0)) "
                        "FROM plan_region_costs WHERE basis IS NOT NULL",
                        NULL, NULL, NULL)))
        return rc;
    if (sqlite3_step(st) == SQLITE_ROW)
        p->paid_usage = sqlite3_column_double(st, 0);
    q_release(c, st);
    return 0;
}

/* The gaps of the planned slice of account (snapshot c->pid), each
 * compared with the snapshot's: preexisting when the same gap was there. */
static int slice_gaps(struct ctx *c, const struct rule_set *rules,
                      const struct finding_list *before, size_t *cap)
{
    struct finding_list after = FINDING_LIST_INIT;
    struct rule_set one = RULE_SET_INIT;
    int rc = 0, oom = 0;
    for (size_t i = 0; i < rules->n_rules; i++)
        if (strcmp(rules->rules[i].id, "coverage-gap") == 0) {
            one.rules = &rules->rules[i];
            one.n_rules = 1;
        }
    if (!one.n_rules)
        return ct_error_set(c->err, CT_EINVAL,
                            "plan: the coverage-gap rule is missing");
    if ((rc = rules_run(&after, &one, c->db, c->pid, c->err)))
        goto done;
    for (size_t i = 0; i < after.n; i++) {
        const struct finding *f = &after.items[i];
        struct plan_gap *g =
            grow((void **)&c->p->gaps, &c->p->n_gaps, cap, sizeof(*g));
        if (!g) {
            rc = ct_error_set(c->err, CT_ENOMEM, "out of memory");
            goto done;
        }
        g->account_id = pstr(c->p, f->account_id, &oom);
        g->region = pstr(c->p, f->region, &oom);
        g->detail = pstr(c->p, f->detail, &oom);
        for (size_t j = 0; j < before->n; j++) {
            const struct finding *b = &before->items[j];
            if (strcmp(b->rule_id, "coverage-gap") == 0 && b->account_id &&
                f->account_id && b->region && f->region &&
                strcmp(b->account_id, f->account_id) == 0 &&
                strcmp(b->region, f->region) == 0 &&
                strcmp(b->detail, f->detail) == 0)
                g->preexisting = 1;
        }
    }
    if (oom)
        rc = ct_error_set(c->err, CT_ENOMEM, "out of memory");
done:
    finding_list_release(&after);
    return rc;
}

static int cmp_gap(const void *pa, const void *pb)
{
    const struct plan_gap *a = pa, *b = pb;
    int r = strcmp(a->account_id, b->account_id);
    if (!r)
        r = strcmp(a->region, b->region);
    if (!r)
        r = strcmp(a->detail, b->detail);
    return r;
}

static int cmp_cand_account(const void *pa, const void *pb)
{
    const struct cand *a = pa, *b = pb;
    int r = strcmp(a->account, b->account);
    return r ? r : cmp_cand(pa, pb);
}

/* Plan order: the candidates' order (estimated saving first), which keeps
 * the order of the steps of one account (they build on each other). */
static int cmp_step(const void *pa, const void *pb)
{
    const struct plan_step *a = pa, *b = pb;
    const struct cand *x = a->key, *y = b->key;
    return cmp_cand(x, y);
}

/*
 * Opens account's planned slice: a private memory database holding its
 * rows, its own trails and the organization trails (snapshot pid), the
 * snapshot's baseline, costs and trail states for that account, and this
 * build's views. Every view then reads one account, not the organization.
 * *out is owned (sqlite3_close).
 */
static int open_slice(struct ctx *c, sqlite3 **out, const char *account)
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
    if ((rc = q_prepare(c, &st, "ATTACH :t AS slice", uri, NULL, NULL)))
        goto done;
    rc = q_step_error(c, sqlite3_step(st));
    q_release(c, st);
    st = NULL;
    if (rc)
        goto done;
    attached = 1;
    if ((rc = copy_snapshot(c, 0, account)))
        goto done;
    for (size_t i = 0; i < sizeof(copies) / sizeof(copies[0]); i++) {
        if ((rc = q_prepare(c, &st, copies[i], account, NULL, NULL)))
            goto done;
        rc = q_step_error(c, sqlite3_step(st));
        q_release(c, st);
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
        int rc2 = q_run(c, "DETACH slice", NULL, NULL, NULL);
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

static int plan_slice(struct ctx *c, const struct rule_set *rules,
                      struct cand *cands, size_t n,
                      const struct finding_list *before, size_t *cap_steps,
                      size_t *cap_gaps, int *touched);

/*
 * Plans the candidates of one account, cands[0..n), on a fresh planned
 * slice of the snapshot: estimates, orders, applies in order, lists what
 * is unsafe, and computes the slice's gaps.
 */
static int plan_account(struct ctx *c, const struct rule_set *rules,
                        struct cand *cands, size_t n,
                        const struct finding_list *before, size_t *cap_steps,
                        size_t *cap_gaps, int *touched)
{
    sqlite3 *main_db = c->db, *sc = NULL;
    int rc;
    *touched = 0;
    if ((rc = open_slice(c, &sc, cands[0].account)))
        return rc;
    /* statements are per connection */
    q_cache_release(c);
    c->db = sc;
    rc = plan_slice(c, rules, cands, n, before, cap_steps, cap_gaps, touched);
    q_cache_release(c);
    c->db = main_db;
    sqlite3_close(sc);
    return rc;
}

static int plan_slice(struct ctx *c, const struct rule_set *rules,
                      struct cand *cands, size_t n,
                      const struct finding_list *before, size_t *cap_steps,
                      size_t *cap_gaps, int *touched)
{
    struct plan *p = c->p;
    int rc;
    if ((rc = save_state(c, "plan_now", -1, 1, NULL)))
        return rc;
    /* estimate every candidate alone against the snapshot, then order */
    for (size_t i = 0; i < n; i++) {
        struct cand *x = &cands[i];
        struct tstate t;
        struct plan_step probe;
        long long q = 0;
        int kept;
        char *reason = NULL;
        if ((rc = trail_state(c, &t, c->s, x->arn)) ||
            (rc = q_int(c, &q, 0,
                        "SELECT quality FROM plan_s_trails "
                        "WHERE trail_arn = :t",
                        x->arn, NULL, NULL)))
            return rc;
        x->multi = t.multi;
        x->quality = (int)q;
        memset(&probe, 0, sizeof(probe));
        /* a kept estimate is rolled back here: nothing is applied yet */
        if (!(rc = q_run(c, "SAVEPOINT estimate", NULL, NULL, NULL)))
            rc = try_candidate(c, x, &kept, &x->est, &reason, &probe, before);
        x->dollars = probe.saving;
        free(probe.effects);
        free(probe.findings);
        sqlite3_free(reason);
        if (rc || (rc = q_run(c, "ROLLBACK TO estimate", NULL, NULL, NULL)) ||
            (rc = q_run(c, "RELEASE estimate", NULL, NULL, NULL)))
            return rc;
    }
    qsort(cands, n, sizeof(*cands), cmp_cand);
    /* apply in order against the evolving planned state */
    for (size_t i = 0; i < n; i++) {
        struct cand *x = &cands[i];
        struct plan_step step;
        int kept;
        long est;
        char *reason = NULL;
        memset(&step, 0, sizeof(step));
        rc = try_candidate(c, x, &kept, &est, &reason, &step, before);
        sqlite3_free(reason);
        if (rc || !kept) {
            free(step.effects);
            free(step.findings);
            if (rc)
                return rc;
            continue;
        }
        x->done = 1;
        step.key = x;
        struct plan_step *s =
            grow((void **)&p->steps, &p->n_steps, cap_steps, sizeof(*s));
        if (!s) {
            free(step.effects);
            free(step.findings);
            return ct_error_set(c->err, CT_ENOMEM, "out of memory");
        }
        *s = step;
        *touched = 1;
    }
    /* candidates that would still save something but are not safe */
    for (size_t i = 0; i < n; i++) {
        struct cand *x = &cands[i];
        int kept;
        long est;
        char *reason = NULL;
        if (x->done)
            continue;
        if ((rc = q_run(c, "SAVEPOINT recheck", NULL, NULL, NULL)) ||
            (rc = try_candidate(c, x, &kept, &est, &reason, NULL, before)) ||
            (rc = q_run(c, "ROLLBACK TO recheck", NULL, NULL, NULL)) ||
            (rc = q_run(c, "RELEASE recheck", NULL, NULL, NULL))) {
            sqlite3_free(reason);
            return rc;
        }
        if (reason && est > 0) {
            char *why = sqlite3_mprintf("not planned: %s", reason);
            rc = why ? add_skip(c, x->arn, x->account, why)
                     : ct_error_set(c->err, CT_ENOMEM, "out of memory");
            sqlite3_free(why);
        }
        sqlite3_free(reason);
        if (rc)
            return rc;
    }
    return *touched ? slice_gaps(c, rules, before, cap_gaps) : 0;
}

int plan_build(struct plan *out, sqlite3 *db, const struct rule_set *rules,
               long long snapshot_id, struct ct_error *err)
{
    struct plan p;
    struct ctx c;
    struct cand_list cands = {NULL, 0, 0};
    struct finding_list before = FINDING_LIST_INIT;
    struct strmap touched = STRMAP_INIT(1);
    size_t cap_steps = 0, cap_gaps = 0;
    int rc, oom = 0;
    memset(&p, 0, sizeof(p));
    c.n_cache = 0;
    c.db = db;
    c.p = &p;
    c.err = err;
    c.s = snapshot_id;
    c.pid = 0;
    if (!snapshot_id &&
        (rc = q_int(&c, &c.s, 0, "SELECT max(snapshot_id) FROM snapshots", NULL,
                    NULL, NULL)))
        goto done;
    {
        long long n = 0;
        if ((rc = q_int(&c, &n, 0,
                        "SELECT count(*) FROM snapshots "
                        "WHERE snapshot_id = :s",
                        NULL, NULL, NULL)))
            goto done;
        if (!n) {
            rc = ct_error_set(err, CT_EINVAL, "no snapshot %lld", c.s);
            goto done;
        }
    }
    p.snapshot_id = c.s;
    {
        sqlite3_stmt *st = NULL;
        if ((rc = q_prepare(&c, &st,
                            "SELECT label FROM snapshots WHERE snapshot_id = "
                            ":s",
                            NULL, NULL, NULL)))
            goto done;
        if (sqlite3_step(st) == SQLITE_ROW)
            p.label = pcol(&p, st, 0, &oom);
        q_release(&c, st);
    }
    p.savings = "unknown: dollars need billing data in the snapshot "
                "(ctcollect --costs), --events-per-month N or --volumes";
    c.pid = c.s + 1; /* the planned state, in each slice */
    p.planned_id = c.pid;
    if ((rc = rules_run(&before, rules, db, c.s, err)) ||
        (rc = q_run(&c,
                    "CREATE TEMP TABLE plan_s_trails AS "
                    "SELECT v.*, 8 * (v.excluded_sources IS NULL) "
                    "+ 4 * coalesce(t.log_file_validation_enabled, 0) "
                    "+ 2 * (t.kms_key_id IS NOT NULL) "
                    "+ (t.cloud_watch_logs_log_group_arn IS NOT NULL) "
                    "AS quality "
                    "FROM v_trails v JOIN trails t "
                    "ON t.snapshot_id = v.snapshot_id "
                    "AND t.trail_arn = v.trail_arn "
                    "WHERE v.snapshot_id = :s;"
                    "",
                    NULL, NULL, NULL)) ||
        (rc = q_run(&c,
                    "CREATE INDEX temp.plan_s_trails_arn "
                    "ON plan_s_trails (trail_arn)",
                    NULL, NULL, NULL)) ||
        (rc = cost_tables(&c)) ||
        (rc = save_state(&c, "plan_base", c.s, 1, NULL)) ||
        (rc = q_run(&c,
                    "CREATE INDEX temp.plan_base_key "
                    "ON plan_base (account_id, region)",
                    NULL, NULL, NULL)) ||
        (rc = collect_candidates(&c, &cands)))
        goto done;
    /* a step on an account's own trail changes that account only: each
     * account is planned on its own slice, in account order */
    if (cands.n)
        qsort(cands.items, cands.n, sizeof(*cands.items), cmp_cand_account);
    for (size_t i = 0, j; i < cands.n; i = j) {
        int t = 0;
        for (j = i + 1; j < cands.n && strcmp(cands.items[j].account,
                                              cands.items[i].account) == 0;
             j++)
            ;
        int added = 0;
        if ((rc = plan_account(&c, rules, cands.items + i, j - i, &before,
                               &cap_steps, &cap_gaps, &t)))
            goto done;
        if (t && !strmap_put(&touched, cands.items[i].account, &added)) {
            rc = ct_error_set(err, CT_ENOMEM, "out of memory");
            goto done;
        }
    }
    /* the other accounts keep the snapshot's gaps */
    for (size_t i = 0; i < before.n; i++) {
        const struct finding *f = &before.items[i];
        if (strcmp(f->rule_id, "coverage-gap") != 0 || !f->account_id ||
            strmap_get(&touched, f->account_id))
            continue;
        struct plan_gap *g =
            grow((void **)&p.gaps, &p.n_gaps, &cap_gaps, sizeof(*g));
        if (!g) {
            rc = ct_error_set(err, CT_ENOMEM, "out of memory");
            goto done;
        }
        g->account_id = pstr(&p, f->account_id, &oom);
        g->region = pstr(&p, f->region, &oom);
        g->detail = pstr(&p, f->detail, &oom);
        g->preexisting = 1;
    }
    if (p.n_gaps)
        qsort(p.gaps, p.n_gaps, sizeof(*p.gaps), cmp_gap);
    if (p.n_steps)
        qsort(p.steps, p.n_steps, sizeof(*p.steps), cmp_step);
    for (size_t i = 0; i < p.n_steps; i++) {
        p.steps[i].number = (int)i + 1;
        p.steps[i].key = NULL;
        p.total_saving += p.steps[i].saving;
        p.saving_partial |= p.steps[i].saving_partial;
    }
    if (oom) {
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
        goto done;
    }
    *out = p;
    memset(&p, 0, sizeof(p));
done:
    q_cache_release(&c);
    cand_list_release(&cands);
    finding_list_release(&before);
    strmap_release(&touched);
    plan_release(&p);
    return rc;
}

void plan_release(struct plan *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_steps; i++) {
        free(p->steps[i].effects);
        free(p->steps[i].findings);
    }
    free(p->steps);
    free(p->skips);
    free(p->gaps);
    for (size_t i = 0; i < p->n_allocs; i++)
        free(p->allocs[i]);
    free(p->allocs);
    memset(p, 0, sizeof(*p));
}
