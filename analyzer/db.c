/* Database creation, opening and the read-only guard. */
#include "analyzer/db.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/trace.h"
#include "core/embedded.h"

extern const struct ct_embedded ct_schema_files[];
extern const size_t ct_schema_files_count;

int db_schema_version(void)
{
    return 2;
}

void db_global_init(void)
{
    /* fails harmlessly (SQLITE_MISUSE) if SQLite is already initialized */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int db_exec(sqlite3 *db, const char *sql, struct ct_error *err)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        int rc = ct_error_set(err, CT_ESQL, "%s",
                              msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return rc;
    }
    return 0;
}

int db_is_database_file(const char *path)
{
    static const char magic[16] = "SQLite format 3";
    char head[16];
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    size_t n = fread(head, 1, sizeof(head), f);
    fclose(f);
    return n == sizeof(head) && memcmp(head, magic, sizeof(head)) == 0;
}

static int db_check_version(sqlite3 *db, const char *path,
                            struct ct_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = 0;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL)
            != SQLITE_OK
        || sqlite3_step(st) != SQLITE_ROW) {
        rc = ct_error_set(err, CT_ESQL, "'%s': %s", path, sqlite3_errmsg(db));
        goto done;
    }
    int v = sqlite3_column_int(st, 0);
    if (v != db_schema_version())
        rc = ct_error_set(err, CT_EINVAL,
                          "'%s': database schema version %d, this ctaudit "
                          "reads version %d: load the snapshots again",
                          path, v, db_schema_version());
done:
    sqlite3_finalize(st);
    return rc;
}

static int create(sqlite3 **out, const char *path, int with_views,
                  struct ct_error *err)
{
    sqlite3 *db = NULL;
    int rc = 0;
    if (sqlite3_open_v2(path, &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                            | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        rc = ct_error_set(err, CT_ESQL, "cannot create database '%s': %s",
                          path, db ? sqlite3_errmsg(db) : "out of memory");
        goto done;
    }
    /* 16 KiB pages (SQLite's default is 4): a quarter of the page reads
     * and writes, each a system call through the OS cache, and shallower
     * trees (10,000 accounts: load 2.40 -> 2.32 s; with the views' work
     * files too, views 0.98 -> 0.84 s; 8, 32 and 64 KiB were no better) */
    rc = db_exec(db,
                 "PRAGMA page_size=16384; PRAGMA journal_mode=OFF;"
                 "PRAGMA synchronous=OFF;"
                 "PRAGMA locking_mode=EXCLUSIVE; PRAGMA temp_store=MEMORY;"
                 "PRAGMA cache_size=-32768; PRAGMA foreign_keys=OFF;",
                 err);
    for (size_t i = 0; rc == 0 && i < ct_schema_files_count; i++)
        if (with_views || strcmp(ct_schema_files[i].name, "views.sql") != 0)
            rc = db_exec(db, ct_schema_files[i].text, err);
    if (rc)
        goto done;
    *out = db;
    db = NULL;
done:
    sqlite3_close(db);
    return rc;
}

int db_create(sqlite3 **out, const char *path, struct ct_error *err)
{
    return create(out, path, 1, err);
}

int db_create_scratch(sqlite3 **out, const char *path, struct ct_error *err)
{
    return create(out, path, 0, err);
}

/* Views stored as WITHOUT ROWID tables keyed by these columns (a key
 * they never repeat): the table is then its own covering index, in the
 * order that later views, the rules and the report read it. Their rows
 * come out of the view mostly in key order, so filling the table costs
 * about what a rowid table did, and no index is built after it (10,000
 * accounts: v_account_regions 0.25 -> 0.19 s, v_region_mgmt 0.45 ->
 * 0.35 s). */
static const struct {
    const char *view;
    const char *key;
} keyed[] = {
    {"v_account_regions", "snapshot_id, account_id, region"},
    /* read by region, the trails by ARN (duplicate-management-events
     * merges them with an account's own without sorting) */
    {"v_organization_trail_regions", "snapshot_id, region, trail_arn"},
    /* v_region_mgmt groups in this order without sorting */
    {"v_own_coverage", "snapshot_id, account_id, region, trail_arn"},
    {"v_region_mgmt", "snapshot_id, account_id, region"},
    {"v_region_costs", "snapshot_id, account_id, region"},
};

/* Indexes on the materialized views: what the later views, the rules and
 * the report join on. Created as soon as their table exists. */
static const struct {
    const char *view;
    const char *name;
    const char *columns;
} materialized_indexes[] = {
    {"v_accounts", "m_accounts", "snapshot_id, account_id"},
    {"v_trail_documents", "m_docs", "snapshot_id, trail_arn, kind"},
    {"v_trail_documents", "m_docs_id", "doc_id"},
    {"v_mgmt_selectors", "m_mgmt_sel", "snapshot_id, trail_arn"},
    {"v_trail_scopes", "m_scopes", "snapshot_id, trail_arn"},
    {"v_trail_scopes", "m_scopes_id", "snapshot_id, scope_id"},
    {"v_scope_terms", "m_terms", "snapshot_id, scope_id"},
    /* covering every column: hundreds of thousands of lookups by ARN from
     * v_coverage rows (v_region_mgmt, the rules, the report) read the
     * index only */
    {"v_trails", "m_trails",
     "snapshot_id, trail_arn, name, owner_account_id, home_region, "
     "partition, is_multi_region, is_organization_trail, "
     "include_global_events, logging, delivers, selectors, mgmt_reads, "
     "mgmt_writes, excluded_sources, insights_source, has_insights, "
     "insight_types, has_data, has_network"},
    /* both covering (v_coverage has six columns) */
    {"v_coverage", "m_cov",
     "snapshot_id, account_id, region, trail_arn, via, listed"},
    {"v_coverage", "m_cov_trail",
     "snapshot_id, trail_arn, account_id, region, via, listed"},
    /* v_cost_basis: "does this snapshot have dollars at all" */
    {"v_region_costs", "m_rcost_basis", "snapshot_id, basis"},
};

/* Views computed where they are used rather than stored, views all the
 * same, in the target schema, from this binary's definition:
 * v_trail_region_costs is read only by per-row lookups of a few rules,
 * made only when the snapshot has dollars, where three index seeks into
 * the tables below cost less than storing ~200,000 rows and their index;
 * v_cost_basis is one test per rule (and reads v_region_costs, which is
 * not always stored: costs_view). */
static const char *const unmaterialized[] = {"v_trail_region_costs",
                                             "v_cost_basis"};

/* One statement of views.sql: "CREATE VIEW name AS body". */
struct view_def {
    char name[64];
    const char *body; /* after AS, up to the ';' (excluded) */
    size_t len;
    int as_view;      /* in `unmaterialized` */
};

/* Parses the statement [stmt, stmt + len) into v; 1 if it is a view, 0 if
 * it is something else (nothing to materialize). */
static int parse_view(struct view_def *v, const char *stmt, size_t len,
                      struct ct_error *err)
{
    static const char prefix[] = "CREATE VIEW ";
    const char *p = stmt, *end = stmt + len;
    size_t n = 0;
    /* skip comments and blank lines before the statement */
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\n' || *p == '\t'))
            p++;
        if (end - p >= 2 && p[0] == '-' && p[1] == '-') {
            while (p < end && *p != '\n')
                p++;
            continue;
        }
        break;
    }
    if ((size_t)(end - p) < sizeof(prefix)
        || strncmp(p, prefix, sizeof(prefix) - 1) != 0)
        return 0;
    p += sizeof(prefix) - 1;
    while (p < end && n + 1 < sizeof(v->name) && *p != ' ' && *p != '\n')
        v->name[n++] = *p++;
    v->name[n] = '\0';
    while (p < end && (*p == ' ' || *p == '\n'))
        p++;
    if (end - p < 2 || sqlite3_strnicmp(p, "AS", 2) != 0)
        return ct_error_set(err, CT_ESQL, "views.sql: view '%s': no AS",
                            v->name);
    v->body = p + 2;
    v->len = (size_t)(end - p - 2);
    v->as_view = 0;
    for (size_t i = 0; i < sizeof(unmaterialized) / sizeof(*unmaterialized);
         i++)
        v->as_view |= strcmp(unmaterialized[i], v->name) == 0;
    return 1;
}

/* The views of the binary's own views.sql, in creation order: not the
 * views stored in a file, so a report always means what this ctaudit's
 * rules mean. *out is owned (free). */
static int collect_views(struct view_def **out, size_t *n_out,
                         struct ct_error *err)
{
    const char *text = NULL;
    struct view_def *v = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    for (size_t i = 0; i < ct_schema_files_count; i++)
        if (strcmp(ct_schema_files[i].name, "views.sql") == 0)
            text = ct_schema_files[i].text;
    if (!text)
        return ct_error_set(err, CT_ESQL, "views.sql is not embedded");
    const char *start = text;
    for (const char *p = text; *p; p++) {
        if (*p != ';')
            continue;
        /* a statement ends at a ';' that completes it */
        size_t len = (size_t)(p - start) + 1;
        char *candidate = sqlite3_mprintf("%.*s", (int)len, start);
        if (!candidate) {
            rc = ct_error_set(err, CT_ENOMEM, "out of memory");
            goto done;
        }
        int complete = sqlite3_complete(candidate);
        sqlite3_free(candidate);
        if (!complete)
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 32;
            struct view_def *nv = realloc(v, ncap * sizeof(*v));
            if (!nv) {
                rc = ct_error_set(err, CT_ENOMEM, "out of memory");
                goto done;
            }
            v = nv;
            cap = ncap;
        }
        rc = parse_view(&v[n], start, len - 1, err);
        if (rc < 0)
            goto done;
        n += (size_t)rc;
        rc = 0;
        start = p + 1;
    }
    *out = v;
    *n_out = n;
    v = NULL;
done:
    free(v);
    return rc;
}

/* Formats SQL as sqlite3_mprintf does (%w, %.*s) and runs it. */
static int exec_printf(sqlite3 *db, struct ct_error *err, const char *fmt,
                       ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *sql = sqlite3_vmprintf(fmt, ap);
    va_end(ap);
    int rc = sql ? db_exec(db, sql, err)
                 : ct_error_set(err, CT_ENOMEM, "out of memory");
    sqlite3_free(sql);
    return rc;
}

/* Stores view v as a WITHOUT ROWID table of schema `schema` keyed by
 * `key`, with the column names and declared types that CREATE TABLE AS
 * would give it (hence the same affinities and values). */
static int create_keyed(sqlite3 *db, const char *schema,
                        const struct view_def *v, const char *key,
                        struct ct_error *err)
{
    sqlite3_stmt *st = NULL;
    sqlite3_str *cols = sqlite3_str_new(db);
    char *list = NULL;
    int rc;
    /* the types: an empty table made as CREATE TABLE AS makes it */
    if ((rc = exec_printf(db, err,
                          "CREATE TABLE %s.\"%w\" AS SELECT * FROM (%.*s) "
                          "LIMIT 0",
                          schema, v->name, (int)v->len, v->body)))
        goto done;
    if (sqlite3_prepare_v2(db,
                           "SELECT name, type FROM pragma_table_info(?1, ?2)",
                           -1, &st, NULL) != SQLITE_OK
        || sqlite3_bind_text(st, 1, v->name, -1, SQLITE_STATIC) != SQLITE_OK
        || sqlite3_bind_text(st, 2, schema, -1, SQLITE_STATIC) != SQLITE_OK) {
        rc = ct_error_set(err, CT_ESQL, "%s", sqlite3_errmsg(db));
        goto done;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        sqlite3_str_appendf(cols, "\"%w\" %s, ",
                            (const char *)sqlite3_column_text(st, 0),
                            (const char *)sqlite3_column_text(st, 1));
    if (rc != SQLITE_DONE) {
        rc = ct_error_set(err, CT_ESQL, "%s", sqlite3_errmsg(db));
        goto done;
    }
    list = sqlite3_str_finish(cols);
    cols = NULL;
    rc = !list ? ct_error_set(err, CT_ENOMEM, "out of memory")
               : exec_printf(db, err,
                             "DROP TABLE %s.\"%w\";"
                             "CREATE TABLE %s.\"%w\" (%sPRIMARY KEY (%s)) "
                             "WITHOUT ROWID;"
                             "INSERT INTO %s.\"%w\" SELECT * FROM (%.*s)",
                             schema, v->name, schema, v->name, list, key,
                             schema, v->name, (int)v->len, v->body);
done:
    sqlite3_finalize(st);
    sqlite3_free(sqlite3_str_finish(cols));
    sqlite3_free(list);
    return rc;
}

/* Stores view v as a table of schema `schema`, then its indexes and
 * statistics; an unmaterialized view becomes a view of `view_schema`. */
static int materialize_one(sqlite3 *db, const char *schema,
                           const char *view_schema, const struct view_def *v,
                           const char *who, struct ct_error *err)
{
    int rc = 0;
    double t = trace_start();
    const char *key = NULL;
    for (size_t i = 0; !v->as_view && i < sizeof(keyed) / sizeof(*keyed); i++)
        if (strcmp(keyed[i].view, v->name) == 0)
            key = keyed[i].key;
    rc = key ? create_keyed(db, schema, v, key, err)
             : exec_printf(db, err, "CREATE %s %s.\"%w\" AS %.*s",
                           v->as_view ? "VIEW" : "TABLE",
                           v->as_view ? view_schema : schema, v->name,
                           (int)v->len, v->body);
    if (rc || v->as_view)
        goto done;
    for (size_t i = 0;
         i < sizeof(materialized_indexes) / sizeof(materialized_indexes[0]);
         i++)
        if (strcmp(materialized_indexes[i].view, v->name) == 0
            && (rc = exec_printf(db, err, "CREATE INDEX %s.%s ON \"%w\" (%s)",
                                 schema, materialized_indexes[i].name,
                                 v->name, materialized_indexes[i].columns)))
            goto done;
    /* statistics, so that the next views and the rules plan well */
    rc = exec_printf(db, err, "ANALYZE %s.\"%w\"", schema, v->name);
done:
    if (rc == 0)
        trace_perf(t, "view %s%s", v->name, who);
    return rc;
}

int db_materialize_views(sqlite3 *db, const char *schema,
                         struct ct_error *err)
{
    struct view_def *v = NULL;
    size_t n = 0;
    int rc = collect_views(&v, &n, err);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = materialize_one(db, schema, schema, &v[i], "", err);
    free(v);
    return rc;
}

/*
 * Two connections (db_materialize_views_split), called lanes. The second
 * lane stores the views below, the first every other one; each lane in
 * views.sql order, each view into a work file of its own lane, since two
 * connections cannot write one SQLite file at once. A lane reads the other
 * lane's views only from files that lane has finished ("published"), so no
 * reader ever holds a lock that a writer waits for.
 *
 * The plan (plan_split) is made from views.sql alone, before anything
 * runs: which views a view reads (mentions) decides where a lane must wait
 * and where a file ends. A file ends before its lane waits for the other
 * one, and after a view that the other lane reads, unless the lane's next
 * view is read there too and comes before that first reader (views.sql
 * order). Every file is therefore complete before its first reader's
 * position in views.sql order: the plan also runs on one thread, one view
 * after the other, which is what happens when no thread can be started.
 *
 * The split: the first lane makes the longest chain, each view of which
 * reads the one before: the regions, the accounts' regions, the coverage
 * by the accounts' own trails, then v_coverage (the largest view: a row
 * per account, region and trail, and two indexes). The second lane makes
 * everything else: the accounts, the trails' documents, selectors and
 * scopes, then the copies per region (v_region_mgmt), their prices and the
 * global service events, which read v_coverage's two parts rather than
 * v_coverage so that they need not wait for it.
 * A view edited to read other views changes the plan by itself.
 */
static const char *const second_views[] = {
    "v_accounts",       "v_trail_documents", "v_mgmt_selectors",
    "v_mgmt_selector_exclusions", "v_trail_scopes", "v_scope_terms",
    "v_trails",         "v_scope_overlaps",  "v_trail_insights",
    "v_region_mgmt",    "v_usage_monthly",   "v_region_costs",
    "v_global_events"};

/* Stored only when the database holds cost inputs (has_cost_inputs):
 * without billing data or volume estimates no region has a cost basis,
 * nothing in a report reads its rows (the rules test v_cost_basis first),
 * and storing ~250,000 rows of NULLs cost a quarter of a second on 10,000
 * accounts. It stays a view, so `--rules-dir` rules still read it. */
static const char costs_view[] = "v_region_costs";

/* Page cache of the views' work files, KiB: as for the other databases of
 * a report (cmd_report.c), a larger one was no faster. */
#define WORK_CACHE_KIB 4096

/* Work files at most: each lane ends up attaching every one of them, and
 * SQLite attaches at most 10 databases. */
#define MAX_WORK_FILES 8

static int is_ident(char c)
{
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9');
}

/* Whether v's body mentions the identifier name. */
static int mentions(const struct view_def *v, const char *name)
{
    size_t n = strlen(name);
    const char *end = v->body + v->len;
    for (const char *p = v->body; p + n <= end; p++)
        if (memcmp(p, name, n) == 0 && !(p > v->body && is_ident(p[-1]))
            && !(p + n < end && is_ident(p[n])))
            return 1;
    return 0;
}

/* What a lane does for one view. */
struct split_step {
    int lane;       /* 0 first, 1 second; -1: a TEMP view made at the end */
    int file;       /* the work file it is stored in */
    int opens;      /* its file's first view: attach the file for writing */
    int closes;     /* its file's last view: publish the file */
    unsigned waits; /* bit f: the other lane's file f, to wait for and attach */
};

struct split_plan {
    struct view_def *v;
    struct split_step *step;
    size_t n;
    int files;                  /* work files used */
    int owner[MAX_WORK_FILES];  /* each file's lane */
};

static void split_plan_release(struct split_plan *p)
{
    free(p->v);
    free(p->step);
    memset(p, 0, sizeof(*p));
}

/* Index of the first view after i on lane `lane` (n if none). */
static size_t next_on_lane(const struct split_plan *p, size_t i, int lane)
{
    for (i++; i < p->n; i++)
        if (p->step[i].lane == lane)
            break;
    return i;
}

/* Index of the first view of the other lane that reads view i (n: none). */
static size_t first_reader(const struct split_plan *p, size_t i)
{
    for (size_t k = i + 1; k < p->n; k++)
        if (p->step[k].lane >= 0 && p->step[k].lane != p->step[i].lane
            && mentions(&p->v[k], p->v[i].name))
            return k;
    return p->n;
}

/* The plan; v_region_costs stays a view unless store_costs. */
static int plan_split(struct split_plan *p, int store_costs,
                      struct ct_error *err)
{
    int cur[2] = {-1, -1};       /* each lane's open file */
    size_t last[2] = {0, 0};     /* each lane's latest view */
    size_t deadline[2] = {0, 0}; /* first reader of its open file */
    unsigned attached[2] = {0, 0};
    int rc;
    memset(p, 0, sizeof(*p));
    if ((rc = collect_views(&p->v, &p->n, err)))
        return rc;
    if (!(p->step = calloc(p->n ? p->n : 1, sizeof(*p->step))))
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    for (size_t i = 0; i < p->n; i++) {
        int second = 0;
        for (size_t k = 0; k < sizeof(second_views) / sizeof(*second_views);
             k++)
            second |= strcmp(second_views[k], p->v[i].name) == 0;
        if (!store_costs && strcmp(p->v[i].name, costs_view) == 0)
            p->v[i].as_view = 1;
        p->step[i].lane = p->v[i].as_view ? -1 : second;
    }
    for (size_t i = 0; i < p->n; i++) {
        struct split_step *s = &p->step[i];
        int lane = s->lane;
        unsigned need = 0;
        if (lane < 0)
            continue;
        for (size_t j = 0; j < i; j++) {
            if (!mentions(&p->v[i], p->v[j].name))
                continue;
            if (p->step[j].lane < 0)
                return ct_error_set(err, CT_ESQL,
                                    "views.sql: stored view '%s' reads '%s', "
                                    "which is not stored",
                                    p->v[i].name, p->v[j].name);
            if (p->step[j].lane != lane)
                need |= 1u << p->step[j].file;
        }
        need &= ~attached[lane];
        if (need && cur[lane] >= 0) { /* never wait with a file open */
            p->step[last[lane]].closes = 1;
            cur[lane] = -1;
        }
        s->waits = need;
        attached[lane] |= need;
        if (cur[lane] < 0) {
            if (p->files == MAX_WORK_FILES)
                return ct_error_set(err, CT_ESQL,
                                    "views.sql: the views need more than %d "
                                    "work files",
                                    MAX_WORK_FILES);
            cur[lane] = p->files;
            p->owner[p->files++] = lane;
            s->opens = 1;
            attached[lane] |= 1u << cur[lane];
            deadline[lane] = p->n;
        }
        s->file = cur[lane];
        last[lane] = i;
        size_t reader = first_reader(p, i);
        if (reader < deadline[lane])
            deadline[lane] = reader;
        size_t next = next_on_lane(p, i, lane);
        /* end the file if the other lane reads from it before this lane's
         * next view, or the next view is not read there at all */
        if (deadline[lane] < p->n
            && (next >= deadline[lane] || first_reader(p, next) == p->n)) {
            s->closes = 1;
            cur[lane] = -1;
        }
    }
    for (int lane = 0; lane < 2; lane++)
        if (cur[lane] >= 0)
            p->step[last[lane]].closes = 1;
    return 0;
}

int db_views_split_files(size_t *n, struct ct_error *err)
{
    struct split_plan p;
    int rc = 0;
    *n = 0;
    /* the plan with v_region_costs stored, and without */
    for (int store = 0; rc == 0 && store < 2; store++) {
        if ((rc = plan_split(&p, store, err)) == 0 && (size_t)p.files > *n)
            *n = (size_t)p.files;
        split_plan_release(&p);
    }
    return rc;
}

/* ATTACHes the file at path as schema `as`; if `own`, for writing, with a
 * cache of cache_kib. */
static int attach(sqlite3 *db, const char *path, const char *as, int own,
                  int cache_kib, struct ct_error *err)
{
    sqlite3_stmt *st = NULL;
    char *sql = sqlite3_mprintf("ATTACH ?1 AS %s", as);
    int rc = 0;
    if (!sql)
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK
        || sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC) != SQLITE_OK
        || sqlite3_step(st) != SQLITE_DONE) {
        rc = ct_error_set(err, CT_ESQL, "cannot open work file '%s': %s",
                          path, sqlite3_errmsg(db));
        goto done;
    }
    if (own) /* a work file: no journal, no sync; pages and a cache like
                main's (create) */
        rc = exec_printf(db, err,
                         "PRAGMA %s.page_size = 16384;"
                         "PRAGMA %s.journal_mode = OFF;"
                         "PRAGMA %s.synchronous = OFF;"
                         "PRAGMA %s.cache_size = %d",
                         as, as, as, as, -cache_kib);
done:
    sqlite3_finalize(st);
    sqlite3_free(sql);
    return rc;
}

/* What the lanes share while they run. */
struct split_run {
    const struct split_plan *plan;
    char *const *files;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    unsigned published; /* bit f: work file f is complete */
    int failed;         /* a lane failed: the other stops waiting */
    views_early_fn early;
    void *early_ctx;
};

struct views_published {
    const struct split_plan *plan;
    char *const *files;
    unsigned published; /* bit f: work file f is complete */
    const char **pending;
    size_t n_pending;
};

struct lane {
    struct split_run *run;
    sqlite3 *db;
    int id;
    unsigned attached; /* bit f: work file f is attached to db */
    int gave_up;       /* stopped because the other lane failed */
    int rc;
    struct ct_error err;
};

static void file_schema(char *buf, size_t size, int f)
{
    snprintf(buf, size, "work_%d", f);
}

/* Waits until the files `want` are published; -1 if a lane failed. */
static int wait_files(struct split_run *r, unsigned want)
{
    int ok;
    pthread_mutex_lock(&r->lock);
    while ((r->published & want) != want && !r->failed)
        pthread_cond_wait(&r->cond, &r->lock);
    ok = (r->published & want) == want;
    pthread_mutex_unlock(&r->lock);
    return ok ? 0 : -1;
}

static void publish(struct split_run *r, unsigned files, int failed)
{
    pthread_mutex_lock(&r->lock);
    r->published |= files;
    r->failed |= failed;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
}

/* Attaches the files `want` of the other lane, once published. */
static int attach_other(struct lane *l, unsigned want)
{
    char as[16];
    want &= ~l->attached;
    if (!want)
        return 0;
    if (wait_files(l->run, want)) {
        l->gave_up = 1;
        return ct_error_set(&l->err, CT_ESQL, "the other connection failed");
    }
    for (int f = 0; f < l->run->plan->files; f++) {
        if (!(want & (1u << f)))
            continue;
        file_schema(as, sizeof(as), f);
        if (attach(l->db, l->run->files[f], as, 0, 0, &l->err))
            return -1;
        l->attached |= 1u << f;
    }
    return 0;
}

/* Stores view i on lane l. */
static int run_step(struct lane *l, size_t i)
{
    const struct split_plan *p = l->run->plan;
    const struct split_step *s = &p->step[i];
    char as[16];
    file_schema(as, sizeof(as), s->file);
    if (attach_other(l, s->waits))
        return -1;
    if (s->opens) {
        if (attach(l->db, l->run->files[s->file], as, 1, WORK_CACHE_KIB,
                   &l->err))
            return -1;
        l->attached |= 1u << s->file;
    }
    if (materialize_one(l->db, as, "temp", &p->v[i],
                        l->id ? " (second connection)" : "", &l->err))
        return -1;
    if (s->closes)
        publish(l->run, 1u << s->file, 0);
    return 0;
}

/* The views that cannot be read yet: those of files not published, and
 * the views computed where they are used that read one of them. */
static void run_early(struct split_run *r)
{
    const struct split_plan *p = r->plan;
    struct views_published vp = {p, r->files, 0, NULL, 0};
    if (!(vp.pending = calloc(p->n ? p->n : 1, sizeof(*vp.pending))))
        return;
    pthread_mutex_lock(&r->lock);
    vp.published = r->published;
    pthread_mutex_unlock(&r->lock);
    for (size_t i = 0; i < p->n; i++) {
        int later = p->step[i].lane >= 0
                    && !(vp.published & (1u << p->step[i].file));
        for (size_t k = 0; p->step[i].lane < 0 && k < vp.n_pending; k++)
            later |= mentions(&p->v[i], vp.pending[k]);
        if (later)
            vp.pending[vp.n_pending++] = p->v[i].name;
    }
    r->early(r->early_ctx, &vp);
    free(vp.pending);
}

int db_views_attach_published(sqlite3 *db, const struct views_published *p,
                              struct ct_error *err)
{
    char as[16];
    int rc = 0;
    for (int f = 0; rc == 0 && f < p->plan->files; f++)
        if (p->published & (1u << f)) {
            file_schema(as, sizeof(as), f);
            rc = attach(db, p->files[f], as, 0, 0, err);
        }
    for (size_t i = 0; rc == 0 && i < p->plan->n; i++) {
        int pending = 0;
        for (size_t k = 0; k < p->n_pending; k++)
            pending |= strcmp(p->pending[k], p->plan->v[i].name) == 0;
        if (p->plan->step[i].lane < 0 && !pending)
            rc = materialize_one(db, "temp", "temp", &p->plan->v[i],
                                 " (early connection)", err);
    }
    return rc;
}

const char *const *db_views_pending(const struct views_published *p,
                                    size_t *n)
{
    *n = p->n_pending;
    return p->pending;
}

static void *lane_main(void *arg)
{
    struct lane *l = arg;
    const struct split_plan *p = l->run->plan;
    for (size_t i = 0; i < p->n && l->rc == 0; i++)
        if (p->step[i].lane == l->id && run_step(l, i))
            l->rc = l->err.code;
    if (l->rc)
        publish(l->run, 0, 1);
    else if (l->id == 1 && l->run->early)
        run_early(l->run);
    return NULL;
}

/* *out: whether the database holds billing data or volume estimates. */
static int has_cost_inputs(sqlite3 *db, int *out, struct ct_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = 0;
    if (sqlite3_prepare_v2(db,
                           "SELECT EXISTS (SELECT 1 FROM cost_usage) "
                           "OR EXISTS (SELECT 1 FROM volume_estimates)",
                           -1, &st, NULL) != SQLITE_OK
        || sqlite3_step(st) != SQLITE_ROW)
        rc = ct_error_set(err, CT_ESQL, "%s", sqlite3_errmsg(db));
    else
        *out = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return rc;
}

int db_materialize_views_split(sqlite3 *a, sqlite3 *b, char *const *files,
                               size_t n_files, views_early_fn early,
                               void *early_ctx, struct ct_error *err)
{
    struct split_plan plan;
    struct split_run run;
    struct lane lanes[2];
    pthread_t thread;
    int rc, sync_made = 0, store_costs = 1;
    memset(&run, 0, sizeof(run));
    memset(lanes, 0, sizeof(lanes));
    if ((rc = has_cost_inputs(a, &store_costs, err))
        || (rc = plan_split(&plan, store_costs, err)))
        goto done;
    if ((size_t)plan.files > n_files) {
        rc = ct_error_set(err, CT_EINVAL, "%d work files needed, %zu given",
                          plan.files, n_files);
        goto done;
    }
    run.plan = &plan;
    run.files = files;
    run.early = early;
    run.early_ctx = early_ctx;
    pthread_mutex_init(&run.lock, NULL);
    pthread_cond_init(&run.cond, NULL);
    sync_made = 1;
    for (int i = 0; i < 2; i++) {
        lanes[i].run = &run;
        lanes[i].db = i ? b : a;
        lanes[i].id = i;
        lanes[i].err = (struct ct_error)CT_ERROR_INIT;
    }
    if (pthread_create(&thread, NULL, lane_main, &lanes[1]) == 0) {
        lane_main(&lanes[0]);
        pthread_join(thread, NULL);
    } else {
        /* one view after the other: every file is published before its
         * first reader (plan_split), so no step waits */
        for (size_t i = 0; i < plan.n && !lanes[0].rc && !lanes[1].rc; i++)
            if (plan.step[i].lane >= 0
                && run_step(&lanes[plan.step[i].lane], i))
                lanes[plan.step[i].lane].rc =
                    lanes[plan.step[i].lane].err.code;
    }
    /* the failure itself, not "the other connection failed" */
    for (int i = 0; i < 2 && !rc; i++)
        if (lanes[i].rc && !lanes[i].gave_up)
            rc = ct_error_set(err, lanes[i].rc, "%s", lanes[i].err.message);
    /* every view complete: each lane reads all of them */
    for (int i = 0; rc == 0 && i < 2; i++) {
        unsigned all = (1u << plan.files) - 1;
        if (attach_other(&lanes[i], all))
            rc = ct_error_set(err, CT_ESQL, "%s", lanes[i].err.message);
    }
    for (size_t i = 0; rc == 0 && i < plan.n; i++)
        if (plan.step[i].lane < 0
            && ((rc = materialize_one(a, "temp", "temp", &plan.v[i], "", err))
                || (rc = materialize_one(b, "temp", "temp", &plan.v[i],
                                         " (second connection)", err))))
            break;
done:
    if (sync_made) {
        pthread_cond_destroy(&run.cond);
        pthread_mutex_destroy(&run.lock);
    }
    split_plan_release(&plan);
    return rc;
}

int db_open_readonly(sqlite3 **out, const char *path, struct ct_error *err)
{
    sqlite3 *db = NULL;
    int rc = 0;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        rc = ct_error_set(err, CT_ESQL, "cannot open database '%s': %s", path,
                          db ? sqlite3_errmsg(db) : "out of memory");
        goto done;
    }
    rc = db_check_version(db, path, err);
    if (rc)
        goto done;
    *out = db;
    db = NULL;
done:
    sqlite3_close(db);
    return rc;
}

/* Pragmas that only read. Those in `with_arg` take an object name as their
 * argument; the others are read-only only without one ("PRAGMA x = 5"
 * writes). */
static int pragma_is_readonly(const char *name, const char *arg)
{
    static const char *const with_arg[] = {
        "table_info", "table_xinfo", "index_list", "index_info",
        "index_xinfo", "foreign_key_list", NULL};
    static const char *const no_arg[] = {
        "user_version", "schema_version", "table_list", "function_list",
        "pragma_list", "collation_list", "database_list", "compile_options",
        "query_only", "encoding", NULL};
    if (!name)
        return 0;
    for (int i = 0; with_arg[i]; i++)
        if (sqlite3_stricmp(name, with_arg[i]) == 0)
            return 1;
    for (int i = 0; no_arg[i]; i++)
        if (sqlite3_stricmp(name, no_arg[i]) == 0)
            return arg == NULL;
    return 0;
}

static int guard_authorizer(void *ctx, int action, const char *a1,
                            const char *a2, const char *dbname,
                            const char *trigger)
{
    (void)ctx;
    (void)dbname;
    (void)trigger;
    switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_RECURSIVE:
        return SQLITE_OK;
    case SQLITE_FUNCTION:
        /* a2 is the function name */
        if (a2 && (sqlite3_stricmp(a2, "load_extension") == 0
                   || sqlite3_stricmp(a2, "readfile") == 0
                   || sqlite3_stricmp(a2, "writefile") == 0
                   || sqlite3_stricmp(a2, "edit") == 0
                   || sqlite3_stricmp(a2, "fts3_tokenizer") == 0))
            return SQLITE_DENY;
        return SQLITE_OK;
    case SQLITE_PRAGMA:
        return pragma_is_readonly(a1, a2) ? SQLITE_OK : SQLITE_DENY;
    default:
        /* writes, DDL, ATTACH, DETACH, transactions, savepoints, ANALYZE */
        return SQLITE_DENY;
    }
}

int db_guard_readonly(sqlite3 *db, struct ct_error *err)
{
    int rc = db_exec(db, "PRAGMA query_only=ON", err);
    if (rc)
        return rc;
    sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, NULL);
    sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
    sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
    sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 0);
    sqlite3_limit(db, SQLITE_LIMIT_LENGTH, 256 << 20);
    sqlite3_set_authorizer(db, guard_authorizer, NULL);
    return 0;
}

int db_prepare_readonly(sqlite3_stmt **out, sqlite3 *db, const char **sql,
                        struct ct_error *err)
{
    sqlite3_stmt *st = NULL;
    const char *tail = NULL;
    *out = NULL;
    if (sqlite3_prepare_v2(db, *sql, -1, &st, &tail) != SQLITE_OK) {
        const char *msg = sqlite3_errmsg(db);
        int denied = strstr(msg, "not authorized") != NULL;
        if (denied)
            return ct_error_set(err, CT_EDENIED,
                                "refused: the database is read-only here "
                                "(no writes, ATTACH, state-changing PRAGMA "
                                "or extensions)");
        return ct_error_set(err, CT_ESQL, "%s", msg);
    }
    *sql = tail;
    if (st && !sqlite3_stmt_readonly(st)) {
        sqlite3_finalize(st);
        return ct_error_set(err, CT_EDENIED,
                            "refused: the database is read-only here (only "
                            "read-only statements run)");
    }
    *out = st;
    return 0;
}
