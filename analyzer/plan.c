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

#include <jansson.h>

#include "analyzer/costs.h"
#include "analyzer/plan_db.h"
#include "analyzer/report.h"
#include "analyzer/strmap.h"

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

/* ---- candidates ------------------------------------------------------------
 */

/* C_INSIGHTS: Insights types another trail also analyzes; always planned
 * after the other kinds (they decide which trails survive) */
enum cand_kind { C_MGMT, C_DATA, C_NETWORK, C_INSIGHTS };

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

static int cand_add(struct plan_ctx *c, struct cand_list *l,
                    enum cand_kind kind, const char *arn, const char *account,
                    const char *rtype, const char *keeper)
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

static int add_skip(struct plan_ctx *c, const char *arn, const char *account,
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

/* Delivering trails that share an Insights type with another delivering
 * trail in some (account, region): which of them keeps it is decided on
 * the planned state (plan_db_dup_insights). */
static const char sql_insights_candidates[] =
    "SELECT DISTINCT a.trail_arn, t.owner_account_id "
    "FROM v_trail_insights a "
    "JOIN v_trails t ON t.snapshot_id = a.snapshot_id "
    " AND t.trail_arn = a.trail_arn "
    "JOIN v_coverage ca ON ca.snapshot_id = a.snapshot_id "
    " AND ca.trail_arn = a.trail_arn "
    "JOIN v_coverage cb ON cb.snapshot_id = ca.snapshot_id "
    " AND cb.account_id = ca.account_id AND cb.region = ca.region "
    " AND cb.trail_arn <> ca.trail_arn "
    "JOIN v_trail_insights b ON b.snapshot_id = cb.snapshot_id "
    " AND b.trail_arn = cb.trail_arn AND b.insight_type = a.insight_type "
    "JOIN v_trails u ON u.snapshot_id = b.snapshot_id "
    " AND u.trail_arn = b.trail_arn "
    "WHERE a.snapshot_id = :s AND t.delivers AND u.delivers "
    "ORDER BY a.trail_arn";

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

static int covers(struct plan_ctx *c, int *out, const char *keeper,
                  const char *drop, const char *category, const char *rtype)
{
    sqlite3_stmt *st = NULL;
    int rc = plan_db_prepare(c, &st, sql_covers, keeper, category, rtype);
    if (rc)
        return rc;
    sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":u"), drop, -1,
                      SQLITE_TRANSIENT);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        *out = sqlite3_column_int(st, 0);
        step = SQLITE_DONE;
    }
    rc = plan_db_step_error(c, step);
    plan_db_release(c, st);
    return rc;
}

/* Why a trail gets no step (NULL: it may get one). */
static const char *no_step_reason(const struct plan_trail *t)
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

static int collect_candidates(struct plan_ctx *c, struct cand_list *out)
{
    sqlite3_stmt *st = NULL;
    struct plan_trail ta, tb;
    int rc, step;
    if ((rc = plan_db_prepare(c, &st, sql_mgmt_candidates, NULL, NULL, NULL)))
        return rc;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *arn = (const char *)sqlite3_column_text(st, 0);
        if ((rc = plan_db_trail(c, &ta, c->s, arn)))
            goto done;
        const char *why = no_step_reason(&ta);
        rc = why ? add_skip(c, arn, ta.owner, why)
                 : cand_add(c, out, C_MGMT, arn, ta.owner, NULL, NULL);
        if (rc)
            goto done;
    }
    if ((rc = plan_db_step_error(c, step)))
        goto done;
    plan_db_release(c, st);
    if ((rc = plan_db_prepare(c, &st, sql_unknown_selectors, NULL, NULL, NULL)))
        return rc;
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        if ((rc = add_skip(c, (const char *)sqlite3_column_text(st, 0),
                           (const char *)sqlite3_column_text(st, 1),
                           "event selectors unknown (no "
                           "get-event-selectors.json): its copies are not "
                           "counted and no step is suggested for it")))
            goto done;
    if ((rc = plan_db_step_error(c, step)))
        goto done;
    plan_db_release(c, st);
    if ((rc = plan_db_prepare(c, &st, sql_overlaps, NULL, NULL, NULL)))
        return rc;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *a = (const char *)sqlite3_column_text(st, 0);
        const char *b = (const char *)sqlite3_column_text(st, 1);
        const char *cat = (const char *)sqlite3_column_text(st, 2);
        const char *type = (const char *)sqlite3_column_text(st, 3);
        int a_keeps = 0, b_keeps = 0;
        if ((rc = plan_db_trail(c, &ta, c->s, a)) ||
            (rc = plan_db_trail(c, &tb, c->s, b)) ||
            (rc = covers(c, &a_keeps, a, b, cat, type)) ||
            (rc = covers(c, &b_keeps, b, a, cat, type)))
            goto done;
        /* drop from the trail the other covers; never from an
         * organization trail; between equals, the single-region one, then
         * the larger ARN */
        const char *drop = NULL, *keep = NULL;
        const struct plan_trail *td = NULL;
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
    if ((rc = plan_db_step_error(c, step)))
        goto done;
    plan_db_release(c, st);
    st = NULL;
    if ((rc = plan_db_prepare(c, &st, sql_insights_candidates, NULL, NULL,
                              NULL)))
        return rc;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *arn = (const char *)sqlite3_column_text(st, 0);
        if ((rc = plan_db_trail(c, &ta, c->s, arn)))
            goto done;
        /* an organization trail is the one that keeps its Insights */
        if (ta.org)
            continue;
        const char *why = no_step_reason(&ta);
        if (!why && ta.insights < 0)
            why = "Insights state unknown (no get-insight-selectors.json): "
                  "no step is suggested for it";
        rc = why ? add_skip(c, arn, ta.owner, why)
                 : cand_add(c, out, C_INSIGHTS, arn, ta.owner, NULL, NULL);
        if (rc)
            goto done;
    }
    rc = plan_db_step_error(c, step);
done:
    plan_db_release(c, st);
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

static int measure(struct plan_ctx *c, struct measure *m, const char *arn,
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
    struct plan_trail t;
    int rc, step;
    memset(m, 0, sizeof(*m));
    if ((rc = plan_db_prepare(c, &st, sql, arn, account, NULL)))
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
    if ((rc = plan_db_step_error(c, step)) ||
        (rc = plan_db_trail(c, &t, c->pid, arn)))
        goto done;
    m->delivers = t.delivers;
    m->network = t.delivers && t.network == 1;
    if (t.delivers &&
        ((rc = plan_db_list(c, &m->data,
                            "SELECT DISTINCT resource_type FROM v_trail_scopes "
                            "WHERE snapshot_id = :p AND trail_arn = :t "
                            "AND category = 'Data' ORDER BY 1",
                            arn, NULL)) ||
         (rc = plan_db_list(c, &m->insights,
                            "SELECT insight_type FROM v_trail_insights "
                            "WHERE snapshot_id = :p AND trail_arn = :t "
                            "ORDER BY 1",
                            arn, NULL))))
        goto done;
done:
    plan_db_release(c, st);
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

/* The number of items of a list ("x, y"); 0 for NULL. */
static size_t list_len(const char *a)
{
    size_t n = a && *a;
    for (const char *p = a; p && (p = strstr(p, ", ")); p += 2)
        n++;
    return n;
}

/*
 * The first copy the planned state lost against the snapshot, as a
 * sentence into *out (sqlite3_malloc'ed), or NULL when nothing was lost:
 * the last read or write copy of management events of a region, the last
 * copy of global service events, or the last copy that captures every
 * event source (the others skip some).
 */
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
    case 4:
        return "put-insight-selectors";
    default:
        return "remove-network-activity-events";
    }
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
static int step_findings(struct plan_ctx *c, struct plan_step *s,
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
 * there, Insights insights_share of it (the types removed out of the
 * types the trail had at this point of the plan; 0: nothing). Parts
 * without a basis make saving_unknown.
 */
static int effect_saving(struct plan_ctx *c, struct plan_effect *e,
                         const struct region_copies *r0,
                         const struct region_copies *r1, const char *arn,
                         int data_left, double insights_share)
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
    int rc = plan_db_prepare(c, &st, sql, arn, e->account_id, e->region), step;
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
                     {e->insights && insights_share > 0, 4}};
        for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
            if (!parts[i].wanted)
                continue;
            if (sqlite3_column_type(st, parts[i].col) == SQLITE_NULL) {
                unknown = 1;
                continue;
            }
            double v = sqlite3_column_double(st, parts[i].col);
            sum += i == 0 ? v * copies : i == 3 ? v * insights_share : v;
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
    rc = plan_db_step_error(c, step);
    plan_db_release(c, st);
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
static int try_candidate(struct plan_ctx *c, const struct cand *x, int *kept,
                         long *est, char **reason, struct plan_step *step,
                         const struct finding_list *before)
{
    struct measure m0, m1;
    struct plan_trail t;
    char *json = NULL, *data_removed = NULL, *ins_removed = NULL;
    char *ins_dup = NULL;
    int rc, applied = 0, action = 0, advanced = 0, oom = 0;
    long long comp0 = 0, comp1 = 0;
    memset(&m0, 0, sizeof(m0));
    memset(&m1, 0, sizeof(m1));
    *kept = 0;
    *est = 0;
    *reason = NULL;
    if ((rc = plan_db_run(c, "SAVEPOINT plan_step", NULL, NULL, NULL)) ||
        (rc = plan_db_trail(c, &t, c->pid, x->arn)) ||
        (rc = measure(c, &m0, x->arn, t.org ? NULL : t.owner)) ||
        (rc = plan_db_compliant_trails(c, &comp0, t.owner)))
        goto done;
    if (!t.found || !t.delivers)
        goto rollback;
    if (x->kind == C_INSIGHTS && (t.org || t.insights != 1)) {
        goto rollback;
    } else if (x->kind == C_INSIGHTS) {
        /* on the planned state: the trails earlier steps stopped keep
         * nothing, so a type goes only while a surviving trail keeps it */
        if ((rc = plan_db_dup_insights(c, &ins_dup, x->arn)))
            goto done;
        if (!ins_dup)
            goto rollback;
        for (const char *q = ins_dup; *q && !rc;) {
            const char *e = strstr(q, ", ");
            size_t len = e ? (size_t)(e - q) : strlen(q);
            char type[128];
            snprintf(type, sizeof(type), "%.*s", (int)len, q);
            rc = plan_db_remove_insight(c, x->arn, type);
            q = e ? e + 2 : q + len;
        }
        action = 4;
        applied = 1;
    } else if (x->kind == C_MGMT && (t.data == 1 || t.network == 1) &&
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
        rc = plan_db_remove_mgmt(c, &applied, x->arn);
    } else if (x->kind == C_DATA || x->kind == C_NETWORK) {
        action = x->kind == C_DATA ? 2 : 3;
        rc = plan_db_remove_scope(
            c, &applied, x->arn, x->kind == C_DATA ? "Data" : "NetworkActivity",
            x->rtype);
    }
    if (rc)
        goto done;
    if (applied && action != 4) {
        struct plan_trail after;
        if ((rc = plan_db_trail(c, &after, c->pid, x->arn)))
            goto done;
        /* nothing left to capture: stopping is the same and reversible */
        if (after.reads == 0 && after.writes == 0 && after.data == 0 &&
            after.network == 0) {
            if ((rc =
                     plan_db_run(c, "ROLLBACK TO plan_step", NULL, NULL, NULL)))
                goto done;
            applied = 0;
        }
    }
    if (!applied) {
        action = 0;
        if ((rc = plan_db_stop(c, x->arn)))
            goto done;
    }
    if ((rc = measure(c, &m1, x->arn, t.org ? NULL : t.owner)) ||
        (rc = plan_db_lost_copy(c, reason, t.org ? NULL : t.owner)) ||
        (rc = plan_db_compliant_trails(c, &comp1, t.owner)))
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
        ins += (long)list_len(ins_removed);
    }
    *est = paid + data + net + ins;
    /* Insights are charged per type: a put-insight-selectors step saves
     * the removed types' part of the trail's share, a stopped trail all of
     * it, once none of its types is left */
    double ins_share = action == 4 ? (double)list_len(ins_removed) /
                                         (double)list_len(m0.insights)
                                   : m1.insights == NULL;
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
                                    m1.data != NULL, ins_share)))
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
        } else if (action == 4) {
            if ((rc = plan_db_insights_json(c, &json, x->arn)))
                goto done;
            const char *a[] = {"cloudtrail",
                               "put-insight-selectors",
                               "--trail-name",
                               x->arn,
                               "--region",
                               home,
                               "--insight-selectors",
                               json};
            if (set_command(p, &step->command, a, 8))
                oom = 1;
        } else {
            if ((rc = plan_db_selectors_json(c, &json, &advanced, x->arn)))
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
        case 4:
            sum = sqlite3_mprintf("remove Insights %s from \"%s\" (another "
                                  "trail analyzes the same events in every "
                                  "region it covers)",
                                  ins_removed, t.name);
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
    rc = plan_db_run(c, "RELEASE plan_step", NULL, NULL, NULL);
    goto done;
rollback:
    if (!(rc = plan_db_run(c, "ROLLBACK TO plan_step", NULL, NULL, NULL)))
        rc = plan_db_run(c, "RELEASE plan_step", NULL, NULL, NULL);
done:
    measure_release(&m0);
    measure_release(&m1);
    sqlite3_free(data_removed);
    sqlite3_free(ins_removed);
    sqlite3_free(ins_dup);
    free(json);
    return rc;
}

static int cmp_cand(const void *pa, const void *pb)
{
    const struct cand *a = pa, *b = pb;
    /* Insights steps come last: the steps before decide which trails
     * survive to keep them */
    if ((a->kind == C_INSIGHTS) != (b->kind == C_INSIGHTS))
        return a->kind == C_INSIGHTS ? 1 : -1;
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
static int cost_tables(struct plan_ctx *c)
{
    struct plan *p = c->p;
    struct cost_basis b;
    sqlite3_stmt *st = NULL;
    int rc, oom = 0;
    if ((rc = plan_db_run(c,
                          "CREATE TEMP TABLE plan_region_costs AS "
                          "SELECT account_id, region, basis, currency, "
                          "mgmt_copy_monthly, paid_mgmt_monthly, data_monthly, "
                          "network_monthly, insights_monthly "
                          "FROM v_region_costs WHERE snapshot_id = :s",
                          NULL, NULL, NULL)) ||
        (rc = plan_db_run(c,
                          "CREATE TEMP TABLE plan_trail_costs AS "
                          "SELECT account_id, region, trail_arn, data_monthly, "
                          "network_monthly, insights_monthly "
                          "FROM v_trail_region_costs WHERE snapshot_id = :s",
                          NULL, NULL, NULL)) ||
        (rc = plan_db_run(c,
                          "CREATE INDEX temp.plan_region_costs_key "
                          "ON plan_region_costs (account_id, region)",
                          NULL, NULL, NULL)) ||
        (rc = plan_db_run(c,
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
    if ((rc = plan_db_prepare(c, &st,
                              "SELECT sum(coalesce(paid_mgmt_monthly, 0) "
                              "+ coalesce(data_monthly, 0) "
                              "+ coalesce(network_monthly, 0) "
                              "+ coalesce(insights_monthly, 0)) "
                              "FROM plan_region_costs WHERE basis IS NOT NULL",
                              NULL, NULL, NULL)))
        return rc;
    if (sqlite3_step(st) == SQLITE_ROW)
        p->paid_usage = sqlite3_column_double(st, 0);
    plan_db_release(c, st);
    return 0;
}

/* The gaps of the planned slice of account (snapshot c->pid), each
 * compared with the snapshot's: preexisting when the same gap was there. */
static int slice_gaps(struct plan_ctx *c, const struct rule_set *rules,
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

static int plan_slice(struct plan_ctx *c, const struct rule_set *rules,
                      struct cand *cands, size_t n,
                      const struct finding_list *before, size_t *cap_steps,
                      size_t *cap_gaps, int *touched);

/*
 * Plans the candidates of one account, cands[0..n), on a fresh planned
 * slice of the snapshot: estimates, orders, applies in order, lists what
 * is unsafe, and computes the slice's gaps.
 */
static int plan_account(struct plan_ctx *c, const struct rule_set *rules,
                        struct cand *cands, size_t n,
                        const struct finding_list *before, size_t *cap_steps,
                        size_t *cap_gaps, int *touched)
{
    sqlite3 *main_db = c->db, *sc = NULL;
    int rc;
    *touched = 0;
    if ((rc = plan_db_open_slice(c, &sc, cands[0].account)))
        return rc;
    /* statements are per connection */
    plan_db_cache_release(c);
    c->db = sc;
    rc = plan_slice(c, rules, cands, n, before, cap_steps, cap_gaps, touched);
    plan_db_cache_release(c);
    c->db = main_db;
    sqlite3_close(sc);
    return rc;
}

static int plan_slice(struct plan_ctx *c, const struct rule_set *rules,
                      struct cand *cands, size_t n,
                      const struct finding_list *before, size_t *cap_steps,
                      size_t *cap_gaps, int *touched)
{
    struct plan *p = c->p;
    int rc;
    if ((rc = plan_db_save_state(c, "plan_now", -1, 1, NULL)))
        return rc;
    /* estimate every candidate alone against the snapshot, then order */
    for (size_t i = 0; i < n; i++) {
        struct cand *x = &cands[i];
        struct plan_trail t;
        struct plan_step probe;
        long long q = 0;
        int kept;
        char *reason = NULL;
        if ((rc = plan_db_trail(c, &t, c->s, x->arn)) ||
            (rc = plan_db_int(c, &q, 0,
                              "SELECT quality FROM plan_s_trails "
                              "WHERE trail_arn = :t",
                              x->arn, NULL, NULL)))
            return rc;
        x->multi = t.multi;
        x->quality = (int)q;
        memset(&probe, 0, sizeof(probe));
        /* a kept estimate is rolled back here: nothing is applied yet */
        if (!(rc = plan_db_run(c, "SAVEPOINT estimate", NULL, NULL, NULL)))
            rc = try_candidate(c, x, &kept, &x->est, &reason, &probe, before);
        x->dollars = probe.saving;
        free(probe.effects);
        free(probe.findings);
        sqlite3_free(reason);
        if (rc ||
            (rc = plan_db_run(c, "ROLLBACK TO estimate", NULL, NULL, NULL)) ||
            (rc = plan_db_run(c, "RELEASE estimate", NULL, NULL, NULL)))
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
        if ((rc = plan_db_run(c, "SAVEPOINT recheck", NULL, NULL, NULL)) ||
            (rc = try_candidate(c, x, &kept, &est, &reason, NULL, before)) ||
            (rc = plan_db_run(c, "ROLLBACK TO recheck", NULL, NULL, NULL)) ||
            (rc = plan_db_run(c, "RELEASE recheck", NULL, NULL, NULL))) {
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
    struct plan_ctx c;
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
        (rc = plan_db_int(&c, &c.s, 0, "SELECT max(snapshot_id) FROM snapshots",
                          NULL, NULL, NULL)))
        goto done;
    {
        long long n = 0;
        if ((rc = plan_db_int(&c, &n, 0,
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
        if ((rc = plan_db_prepare(
                 &c, &st,
                 "SELECT label FROM snapshots WHERE snapshot_id = "
                 ":s",
                 NULL, NULL, NULL)))
            goto done;
        if (sqlite3_step(st) == SQLITE_ROW)
            p.label = pcol(&p, st, 0, &oom);
        plan_db_release(&c, st);
    }
    p.savings = "unknown: dollars need billing data in the snapshot "
                "(ctcollect --costs), --events-per-month N or --volumes";
    c.pid = c.s + 1; /* the planned state, in each slice */
    p.planned_id = c.pid;
    if ((rc = rules_run(&before, rules, db, c.s, err)) ||
        (rc = plan_db_run(&c,
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
        (rc = plan_db_run(&c,
                          "CREATE INDEX temp.plan_s_trails_arn "
                          "ON plan_s_trails (trail_arn)",
                          NULL, NULL, NULL)) ||
        (rc = cost_tables(&c)) ||
        (rc = plan_db_save_state(&c, "plan_base", c.s, 1, NULL)) ||
        (rc = plan_db_run(&c,
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
    plan_db_cache_release(&c);
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
