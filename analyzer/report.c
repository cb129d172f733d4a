/*
 * The report model: queries the views once, runs the rules, and derives
 * the article's per-region lines and per-account summary phrases.
 */
#include "analyzer/report.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/trace.h"

const char *report_trail_name(const char *arn)
{
    const char *p = arn ? strstr(arn, ":trail/") : NULL;
    return p ? p + 7 : (arn ? arn : "");
}

static char *dup_col(sqlite3_stmt *st, int i, int *oom)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    char *s;
    if (!t)
        return NULL;
    s = strdup((const char *)t);
    if (!s)
        *oom = 1;
    return s;
}

static int tri_col(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL
               ? -1
               : sqlite3_column_int(st, i) != 0;
}

static int grow(void **items, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 16;
    void *p = realloc(*items, ncap * size);
    if (!p)
        return -1;
    *items = p;
    *cap = ncap;
    return 0;
}

static void account_release(struct account_report *a)
{
    free(a->rows);
    free(a->regions);
    free(a->findings);
    free(a->account_id);
    free(a->name);
    free(a->scan_status);
    free(a->scan_reason);
    free(a->probable_causes);
    free(a->error_code);
    free(a->status);
}

void report_release(struct report *r)
{
    for (size_t i = 0; i < r->n_accounts; i++)
        account_release(&r->accounts[i]);
    free(r->accounts);
    free(r->by_id);
    free(r->global);
    finding_list_release(&r->findings);
    strmap_release(&r->strings);
    free(r->label);
    free(r->started_at);
    free(r->collector);
    memset(r, 0, sizeof(*r));
}

static int cmp_by_id(const void *key, const void *elem)
{
    return strcmp(key,
                  (*(struct account_report *const *)elem)->account_id);
}

const struct account_report *report_find_account(const struct report *r,
                                                 const char *account_id)
{
    struct account_report *const *hit;
    if (!account_id || !r->n_accounts)
        return NULL;
    hit = bsearch(account_id, r->by_id, r->n_accounts, sizeof(*r->by_id),
                  cmp_by_id);
    return hit ? *hit : NULL;
}

int report_max_severity(const struct report *r)
{
    int max = 0;
    for (size_t i = 0; i < r->findings.n; i++) {
        int s = severity_rank(r->findings.items[i].severity);
        if (s > max)
            max = s;
    }
    return max;
}

/* Index of accounts by id, for attaching rows and findings. */
struct account_index {
    const char *id;
    struct account_report *account;
};

static int cmp_index(const void *a, const void *b)
{
    return strcmp(((const struct account_index *)a)->id,
                  ((const struct account_index *)b)->id);
}

static struct account_report *find_account(struct account_index *idx,
                                           size_t n, const char *id)
{
    struct account_index key = {id, NULL};
    struct account_index *hit;
    if (!id || n == 0)
        return NULL;
    hit = bsearch(&key, idx, n, sizeof(*idx), cmp_index);
    return hit ? hit->account : NULL;
}

static int wanted(const struct report_options *opt, const char *id)
{
    if (!opt->accounts || !opt->accounts[0])
        return 1;
    for (size_t i = 0; opt->accounts[i]; i++)
        if (strcmp(opt->accounts[i], id) == 0)
            return 1;
    return 0;
}

/* Runs sql (parameter ?1 = the report's snapshot) and calls fn per row. */
static int query_each(struct report *r, sqlite3 *db, const char *sql,
                      int (*fn)(struct report *r, sqlite3_stmt *st,
                                void *ctx, struct ct_error *err),
                      void *ctx, struct ct_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = 0, step;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        rc = ct_error_set(err, CT_ESQL, "%s", sqlite3_errmsg(db));
        goto done;
    }
    sqlite3_bind_int64(st, 1, r->snapshot_id);
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        if ((rc = fn(r, st, ctx, err)))
            goto done;
    if (step != SQLITE_DONE)
        rc = ct_error_set(err, CT_ESQL, "%s", sqlite3_errmsg(db));
done:
    sqlite3_finalize(st);
    return rc;
}

static int load_snapshot_info(struct report *r, sqlite3 *db,
                              const struct report_options *opt,
                              struct ct_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = 0, oom = 0;
    const char *sql =
        opt->snapshot_id
            ? "SELECT snapshot_id, label, has_manifest, verified, complete, "
              "started_at, collector_name || ' ' || collector_version "
              "FROM snapshots WHERE snapshot_id = ?1"
            : "SELECT snapshot_id, label, has_manifest, verified, complete, "
              "started_at, collector_name || ' ' || collector_version "
              "FROM snapshots ORDER BY snapshot_id DESC LIMIT 1";
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        rc = ct_error_set(err, CT_ESQL, "%s", sqlite3_errmsg(db));
        goto done;
    }
    if (opt->snapshot_id)
        sqlite3_bind_int64(st, 1, opt->snapshot_id);
    if (sqlite3_step(st) != SQLITE_ROW) {
        rc = ct_error_set(err, CT_EINVAL,
                          opt->snapshot_id ? "no snapshot %lld in the database"
                                           : "the database holds no snapshot%.0lld",
                          opt->snapshot_id);
        goto done;
    }
    r->snapshot_id = sqlite3_column_int64(st, 0);
    r->label = dup_col(st, 1, &oom);
    r->has_manifest = sqlite3_column_int(st, 2);
    r->verified = sqlite3_column_int(st, 3);
    r->complete = tri_col(st, 4);
    r->started_at = dup_col(st, 5, &oom);
    r->collector = dup_col(st, 6, &oom);
    if (oom)
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
done:
    sqlite3_finalize(st);
    return rc;
}

int report_snapshot_id(sqlite3 *db, const struct report_options *opt,
                       long long *out, struct ct_error *err)
{
    struct report r;
    int rc;
    memset(&r, 0, sizeof(r));
    if ((rc = load_snapshot_info(&r, db, opt, err)) == 0)
        *out = r.snapshot_id;
    free(r.label);
    free(r.started_at);
    free(r.collector);
    return rc;
}

struct accounts_ctx {
    const struct report_options *opt;
    size_t cap;
};

static int account_row(struct report *r, sqlite3_stmt *st, void *ctx,
                       struct ct_error *err)
{
    struct accounts_ctx *c = ctx;
    int oom = 0;
    const char *id = (const char *)sqlite3_column_text(st, 0);
    if (!wanted(c->opt, id))
        return 0;
    if (grow((void **)&r->accounts, &c->cap, r->n_accounts,
             sizeof(*r->accounts)))
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    struct account_report *a = &r->accounts[r->n_accounts++];
    memset(a, 0, sizeof(*a));
    a->account_id = dup_col(st, 0, &oom);
    a->name = dup_col(st, 1, &oom);
    a->scan_status = dup_col(st, 2, &oom);
    a->scan_reason = dup_col(st, 3, &oom);
    a->probable_causes = dup_col(st, 4, &oom);
    a->error_code = dup_col(st, 5, &oom);
    return oom ? ct_error_set(err, CT_ENOMEM, "out of memory") : 0;
}

static int load_accounts(struct report *r, sqlite3 *db,
                         const struct report_options *opt,
                         struct ct_error *err)
{
    struct accounts_ctx c = {opt, 0};
    return query_each(r, db,
                      "SELECT account_id, display_name, scan_status, "
                      "scan_reason, probable_causes, error_code FROM "
                      "v_accounts WHERE snapshot_id = ?1 ORDER BY "
                      "listing_index IS NULL, listing_index, account_id",
                      account_row, &c, err);
}

/* Column i of a row, interned; rows sorted by a column repeat values
 * (strmap_intern_recent). */
static const char *intern_col(struct report *r, sqlite3_stmt *st, int i,
                              int *oom)
{
    const char *s = (const char *)sqlite3_column_text(st, i);
    if (i < 0 || (size_t)i >= sizeof(r->recent) / sizeof(*r->recent))
        return strmap_intern(&r->strings, s, oom);
    return strmap_intern_recent(&r->strings, s, &r->recent[i], oom);
}

static int trail_row(struct report *r, sqlite3_stmt *st, void *ctx,
                     struct ct_error *err)
{
    struct account_index *idx = ctx;
    int oom = 0;
    struct account_report *a = find_account(
        idx, r->n_accounts, (const char *)sqlite3_column_text(st, 0));
    if (!a)
        return 0;
    if (grow((void **)&a->rows, &a->cap_rows, a->n_rows, sizeof(*a->rows)))
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    struct trail_row *row = &a->rows[a->n_rows++];
    memset(row, 0, sizeof(*row));
    row->region = intern_col(r, st, 1, &oom);
    row->name = intern_col(r, st, 2, &oom);
    row->trail_arn = intern_col(r, st, 3, &oom);
    row->home_region = intern_col(r, st, 4, &oom);
    row->multi = sqlite3_column_int(st, 5);
    row->org = sqlite3_column_int(st, 6);
    row->shadow = sqlite3_column_int(st, 7);
    row->listed = sqlite3_column_int(st, 8);
    row->reads = tri_col(st, 9);
    row->writes = tri_col(st, 10);
    row->data = tri_col(st, 11);
    row->insights = tri_col(st, 12);
    row->network = tri_col(st, 13);
    row->logging = intern_col(r, st, 14, &oom);
    row->selectors = intern_col(r, st, 15, &oom);
    return oom ? ct_error_set(err, CT_ENOMEM, "out of memory") : 0;
}

/* NULLs first, then byte order: SQLite's order of TEXT values. */
static int cmp_text(const char *a, const char *b)
{
    if (!a || !b)
        return (a != NULL) - (b != NULL);
    return strcmp(a, b);
}

static int cmp_row(const void *pa, const void *pb)
{
    const struct trail_row *a = pa, *b = pb;
    int c;
    if ((c = cmp_text(a->region, b->region))
        || (c = cmp_text(a->name, b->name)))
        return c;
    return cmp_text(a->trail_arn, b->trail_arn);
}

/* The trail rows of each account, by region, name and ARN. Sorted here,
 * account by account, rather than by SQLite: a sort of every row there
 * cost more than the query. */
static int load_rows(struct report *r, sqlite3 *db, struct account_index *idx,
                     struct ct_error *err)
{
    int rc = query_each(
        r, db,
        "SELECT c.account_id, c.region, t.name, t.trail_arn, t.home_region, "
        "t.is_multi_region, t.is_organization_trail, "
        "c.region <> t.home_region, c.listed, t.mgmt_reads, t.mgmt_writes, "
        "t.has_data, t.has_insights, t.has_network, t.logging, t.selectors "
        "FROM v_coverage c JOIN v_trails t "
        "ON t.snapshot_id = c.snapshot_id AND t.trail_arn = c.trail_arn "
        "WHERE c.snapshot_id = ?1",
        trail_row, idx, err);
    for (size_t i = 0; rc == 0 && i < r->n_accounts; i++)
        if (r->accounts[i].n_rows > 1)
            qsort(r->accounts[i].rows, r->accounts[i].n_rows,
                  sizeof(*r->accounts[i].rows), cmp_row);
    return rc;
}

static int region_row(struct report *r, sqlite3_stmt *st, void *ctx,
                      struct ct_error *err)
{
    struct account_index *idx = ctx;
    int oom = 0;
    struct account_report *a = find_account(
        idx, r->n_accounts, (const char *)sqlite3_column_text(st, 0));
    if (!a)
        return 0;
    if (grow((void **)&a->regions, &a->cap_regions, a->n_regions,
             sizeof(*a->regions)))
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    struct region_line *l = &a->regions[a->n_regions++];
    memset(l, 0, sizeof(*l));
    l->region = intern_col(r, st, 1, &oom);
    l->scan_state = intern_col(r, st, 2, &oom);
    l->trails = sqlite3_column_int(st, 3);
    l->active = sqlite3_column_int(st, 4);
    l->read_copies = sqlite3_column_int(st, 5);
    l->write_copies = sqlite3_column_int(st, 6);
    l->unknown_trails = sqlite3_column_int(st, 7);
    l->has_monthly = sqlite3_column_type(st, 8) != SQLITE_NULL;
    l->monthly = sqlite3_column_double(st, 8);
    if (l->has_monthly) {
        a->monthly += l->monthly;
        a->monthly_regions++;
    } else {
        a->unknown_regions++;
    }
    return oom ? ct_error_set(err, CT_ENOMEM, "out of memory") : 0;
}

static int load_regions(struct report *r, sqlite3 *db,
                        struct account_index *idx, struct ct_error *err)
{
    /* with no basis for dollars (costs_basis), every region's cost is
     * NULL: no lookup into v_region_costs */
    return query_each(r, db,
                      r->costs.kind[0]
                          ? "SELECT m.account_id, m.region, m.scan_state, "
                            "m.trails, m.active_trails, m.read_copies, "
                            "m.write_copies, m.unknown_trails, "
                            "c.paid_mgmt_monthly + c.data_monthly + "
                            "c.network_monthly + c.insights_monthly "
                            "FROM v_region_mgmt m LEFT JOIN v_region_costs c "
                            "ON c.snapshot_id = m.snapshot_id AND "
                            "c.account_id = m.account_id AND c.region = "
                            "m.region AND c.basis IS NOT NULL "
                            "WHERE m.snapshot_id = ?1 "
                            "ORDER BY m.account_id, m.region"
                          : "SELECT m.account_id, m.region, m.scan_state, "
                            "m.trails, m.active_trails, m.read_copies, "
                            "m.write_copies, m.unknown_trails, NULL "
                            "FROM v_region_mgmt m WHERE m.snapshot_id = ?1 "
                            "ORDER BY m.account_id, m.region",
                      region_row, idx, err);
}

/* Marks, per region line, whether an active trail delivers data, Insights
 * or network activity events (rows and lines are both sorted by region). */
static void mark_region_kinds(struct account_report *a)
{
    size_t j = 0;
    for (size_t i = 0; i < a->n_regions; i++) {
        struct region_line *l = &a->regions[i];
        while (j < a->n_rows && strcmp(a->rows[j].region, l->region) < 0)
            j++;
        for (size_t k = j; k < a->n_rows
                           && strcmp(a->rows[k].region, l->region) == 0;
             k++) {
            const struct trail_row *row = &a->rows[k];
            if (strcmp(row->logging, "no") == 0)
                continue;
            l->data |= row->data == 1;
            l->insights |= row->insights == 1;
            l->network |= row->network == 1;
        }
    }
}

/* Adds s to a set of strings (linear: the sets are small). */
static int set_add(const char ***set, size_t *n, size_t *cap, const char *s)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*set)[i], s) == 0)
            return 0;
    if (grow((void **)set, cap, *n, sizeof(**set)))
        return -1;
    (*set)[(*n)++] = s;
    return 1;
}

struct text {
    char *buf;
    size_t len, cap;
    int oom;
};

static void text_add(struct text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void text_add(struct text *t, const char *fmt, ...)
{
    va_list ap;
    if (t->oom)
        return;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(t->buf ? t->buf + t->len : NULL,
                          t->buf ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->oom = 1;
            return;
        }
        if (t->buf && t->len + (size_t)n < t->cap) {
            t->len += (size_t)n;
            return;
        }
        size_t ncap = (t->cap ? t->cap * 2 : 128) + (size_t)n;
        char *nb = realloc(t->buf, ncap);
        if (!nb) {
            t->oom = 1;
            return;
        }
        t->buf = nb;
        t->cap = ncap;
    }
}

/* Counts the regions of findings of rule_id per trail ARN (one-trail
 * rules) and adds "WARNING: <what> on "<name>" in K region(s)". */
static int status_per_trail(struct text *t, struct account_report *a,
                            const char *rule_id, const char *what)
{
    const char **arns = NULL;
    size_t n = 0, cap = 0;
    for (size_t i = 0; i < a->n_findings; i++) {
        struct finding *f = a->findings[i];
        if (strcmp(f->rule_id, rule_id) == 0 && f->trail_arns
            && set_add(&arns, &n, &cap, f->trail_arns) < 0) {
            free(arns);
            return -1;
        }
    }
    /* order by trail name, then ARN */
    for (size_t i = 1; i < n; i++)
        for (size_t k = i; k > 0; k--) {
            int c = strcmp(report_trail_name(arns[k - 1]),
                           report_trail_name(arns[k]));
            if (c < 0 || (c == 0 && strcmp(arns[k - 1], arns[k]) <= 0))
                break;
            const char *tmp = arns[k];
            arns[k] = arns[k - 1];
            arns[k - 1] = tmp;
        }
    for (size_t i = 0; i < n; i++) {
        int regions = 0;
        for (size_t k = 0; k < a->n_findings; k++)
            if (strcmp(a->findings[k]->rule_id, rule_id) == 0
                && a->findings[k]->trail_arns
                && strcmp(a->findings[k]->trail_arns, arns[i]) == 0)
                regions++;
        text_add(t, "%sWARNING: %s on \"%s\" in %d region(s)",
                 t->len ? "; " : "", what, report_trail_name(arns[i]),
                 regions);
    }
    free(arns);
    return 0;
}

/* The article's status phrase for an account. */
static int account_status(struct account_report *a)
{
    struct text t = {NULL, 0, 0, 0};
    if (strcmp(a->scan_status, "skipped") == 0) {
        if (a->error_code && (strstr(a->error_code, "AccessDenied")
                              || strstr(a->error_code, "Unauthorized")))
            text_add(&t, "Skipped (no access)");
        else
            text_add(&t, "Skipped (%s)",
                     a->error_code ? a->error_code : "error");
    } else if (strcmp(a->scan_status, "not_collected") == 0) {
        text_add(&t, "Not collected (%s)",
                 a->scan_reason ? a->scan_reason : "not in this snapshot");
    } else {
        /* duplicate management events: trails involved, regions */
        char **arns = NULL;
        size_t n_arns = 0, cap = 0;
        int regions = 0;
        for (size_t i = 0; i < a->n_findings && !t.oom; i++) {
            struct finding *f = a->findings[i];
            if (strcmp(f->rule_id, "duplicate-management-events") != 0
                || !f->trail_arns)
                continue;
            regions++;
            char *copy = strdup(f->trail_arns);
            char *save = NULL;
            if (!copy)
                t.oom = 1;
            for (char *p = copy ? strtok_r(copy, " ", &save) : NULL; p;
                 p = strtok_r(NULL, " ", &save)) {
                int seen = 0;
                for (size_t k = 0; k < n_arns && !seen; k++)
                    seen = strcmp(arns[k], p) == 0;
                if (seen)
                    continue;
                char *d = strdup(p);
                if (!d || grow((void **)&arns, &cap, n_arns, sizeof(*arns))) {
                    free(d);
                    t.oom = 1;
                    break;
                }
                arns[n_arns++] = d;
            }
            free(copy);
        }
        for (size_t k = 0; k < n_arns; k++)
            free(arns[k]);
        free(arns);
        if (regions)
            text_add(&t,
                     "WARNING: duplicate mgmt events on %zu trails in %d "
                     "region(s)",
                     n_arns, regions);
        if (status_per_trail(&t, a, "data-events", "data events")
            || status_per_trail(&t, a, "insights", "Insights")
            || status_per_trail(&t, a, "network-activity-events",
                                "network activity events"))
            t.oom = 1;
        a->cost_warning = t.len > 0;
        if (!t.len) {
            if (a->n_trails == 0)
                text_add(&t, "No trails");
            else
                text_add(&t, "%d trail(s), no extra costs", a->n_trails);
        }
    }
    if (t.oom) {
        free(t.buf);
        return -1;
    }
    a->status = t.buf;
    return 0;
}

static int count_trails(struct account_report *a)
{
    const char **arns = NULL;
    size_t n = 0, cap = 0;
    for (size_t i = 0; i < a->n_rows; i++)
        if (set_add(&arns, &n, &cap, a->rows[i].trail_arn) < 0) {
            free(arns);
            return -1;
        }
    free(arns);
    a->n_trails = (int)n;
    return 0;
}

int report_build(struct report *out, sqlite3 *db, const struct rule_set *rules,
                 const struct report_options *opt, struct ct_error *err)
{
    struct report r;
    struct account_index *idx = NULL;
    struct rules_batch *unlaunched = opt->batch; /* ours to release */
    int rc;
    memset(&r, 0, sizeof(r));

    if ((rc = load_snapshot_info(&r, db, opt, err))
        || (rc = load_accounts(&r, db, opt, err))
        || (rc = costs_basis(&r.costs, db, r.snapshot_id, err)))
        goto fail;
    idx = calloc(r.n_accounts ? r.n_accounts : 1, sizeof(*idx));
    if (!idx) {
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < r.n_accounts; i++) {
        idx[i].id = r.accounts[i].account_id;
        idx[i].account = &r.accounts[i];
    }
    qsort(idx, r.n_accounts, sizeof(*idx), cmp_index);
    /* the rules start on the second connection (if any) while this one
     * reads the trail rows and regions, then both share what is left */
    double t = trace_start(), t_rules = t;
    struct rules_batch *batch = opt->batch;
    unlaunched = NULL;
    if (batch)
        rules_launch(batch, opt->db2, r.snapshot_id);
    else if ((rc = rules_start(&batch, rules, opt->db2, r.snapshot_id, err)))
        goto fail;
    if ((rc = load_rows(&r, db, idx, err)) == 0) {
        trace_perf(t, "report: trail rows");
        t = trace_start();
        if ((rc = load_regions(&r, db, idx, err)) == 0)
            trace_perf(t, "report: regions");
    }
    /* what the rows and regions alone tell, while the second connection
     * still runs rules */
    for (size_t i = 0; rc == 0 && i < r.n_accounts; i++) {
        mark_region_kinds(&r.accounts[i]);
        if (count_trails(&r.accounts[i]))
            rc = ct_error_set(err, CT_ENOMEM, "out of memory");
    }
    if (rc) {
        /* stop the thread (and release the batch) before failing */
        rules_finish(&r.findings, batch, NULL, err);
        goto fail;
    }
    if ((rc = rules_finish(&r.findings, batch, db, err)))
        goto fail;
    trace_perf(t_rules, "report: rows, regions and rules (%zu findings)",
               r.findings.n);

    /* attach findings: global ones, and each account's. They are sorted
     * by account: each account's are one run, attached at once. */
    for (size_t i = 0, j; i < r.findings.n; i = j) {
        const char *id = r.findings.items[i].account_id;
        for (j = i + 1; j < r.findings.n; j++) {
            const char *next = r.findings.items[j].account_id;
            if (!id != !next || (id && strcmp(id, next) != 0))
                break;
        }
        struct account_report *a = find_account(idx, r.n_accounts, id);
        struct finding ***list = a ? &a->findings : &r.global;
        size_t *n = a ? &a->n_findings : &r.n_global;
        if (!a && id && !wanted(opt, id))
            continue;
        struct finding **nl = realloc(*list, (*n + j - i) * sizeof(**list));
        if (!nl) {
            rc = ct_error_set(err, CT_ENOMEM, "out of memory");
            goto fail;
        }
        *list = nl;
        for (size_t k = i; k < j; k++) {
            struct finding *f = &r.findings.items[k];
            (*list)[(*n)++] = f;
            if (severity_rank(f->severity) == 2)
                r.n_warning++;
            else
                r.n_info++;
        }
    }
    for (size_t i = 0; i < r.n_accounts; i++) {
        struct account_report *a = &r.accounts[i];
        if (account_status(a)) {
            rc = ct_error_set(err, CT_ENOMEM, "out of memory");
            goto fail;
        }
        if (strcmp(a->scan_status, "scanned") == 0)
            r.scanned++;
        else
            r.skipped++;
        r.with_cost_warnings += a->cost_warning;
        r.monthly += a->monthly;
        r.monthly_regions += a->monthly_regions;
        r.unknown_regions += a->unknown_regions;
    }
    r.by_id = malloc((r.n_accounts ? r.n_accounts : 1) * sizeof(*r.by_id));
    if (!r.by_id) {
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < r.n_accounts; i++)
        r.by_id[i] = idx[i].account;
    free(idx);
    *out = r;
    return 0;
fail:
    rules_abandon(unlaunched);
    free(idx);
    report_release(&r);
    return rc;
}
