/*
 * The diff model: queries the materialized views of both snapshots once,
 * runs the rules on both, and matches findings on their key (rule_id,
 * account_id, region, trail_arns). Comparisons are SQL; C only files the
 * rows under their account and counts.
 */
#include "analyzer/diff.h"

#include <stdlib.h>
#include <string.h>

#include "analyzer/report.h"

/* ---- SQL ------------------------------------------------------------------
 * ?1 is the before snapshot, ?2 the after snapshot, in every query. */

/* Every compared field of every trail of both snapshots, as text, and the
 * fields that differ for trails present in both. Lists are built from
 * ordered subqueries (group_concat keeps its input order). */
#define TRAIL_FIELDS_CTE                                                       \
    "tf AS (\n"                                                                \
    "    SELECT snapshot_id, trail_arn, 'logging' AS field,\n"                 \
    "        logging AS value\n"                                               \
    "    FROM v_trails WHERE snapshot_id IN (?1, ?2)\n"                        \
    "    UNION ALL\n"                                                          \
    "    SELECT snapshot_id, trail_arn, 'selectors', selectors\n"              \
    "    FROM v_trails WHERE snapshot_id IN (?1, ?2)\n"                        \
    "    UNION ALL\n"                                                          \
    "    SELECT snapshot_id, trail_arn, 'management_reads',\n"                 \
    "        CASE mgmt_reads WHEN 1 THEN 'yes' WHEN 0 THEN 'no'\n"             \
    "            ELSE 'unknown' END\n"                                         \
    "    FROM v_trails WHERE snapshot_id IN (?1, ?2)\n"                        \
    "    UNION ALL\n"                                                          \
    "    SELECT snapshot_id, trail_arn, 'management_writes',\n"                \
    "        CASE mgmt_writes WHEN 1 THEN 'yes' WHEN 0 THEN 'no'\n"            \
    "            ELSE 'unknown' END\n"                                         \
    "    FROM v_trails WHERE snapshot_id IN (?1, ?2)\n"                        \
    "    UNION ALL\n"                                                          \
    "    SELECT snapshot_id, trail_arn, 'excluded_sources',\n"                 \
    "        CASE WHEN selectors = 'unknown' THEN 'unknown'\n"                 \
    "            ELSE coalesce(excluded_sources, 'none') END\n"                \
    "    FROM v_trails WHERE snapshot_id IN (?1, ?2)\n"                        \
    "    UNION ALL\n"                                                          \
    "    SELECT snapshot_id, trail_arn, 'multi_region',\n"                     \
    "        CASE is_multi_region WHEN 1 THEN 'yes' ELSE 'no' END\n"           \
    "    FROM v_trails WHERE snapshot_id IN (?1, ?2)\n"                        \
    "    UNION ALL\n"                                                          \
    "    SELECT snapshot_id, trail_arn, 'organization_trail',\n"               \
    "        CASE is_organization_trail WHEN 1 THEN 'yes' ELSE 'no' END\n"     \
    "    FROM v_trails WHERE snapshot_id IN (?1, ?2)\n"                        \
    "    UNION ALL\n"                                                          \
    "    SELECT snapshot_id, trail_arn, 'global_service_events',\n"            \
    "        CASE include_global_events WHEN 1 THEN 'yes' ELSE 'no' END\n"     \
    "    FROM v_trails WHERE snapshot_id IN (?1, ?2)\n"                        \
    "    UNION ALL\n"                                                          \
    "    SELECT t.snapshot_id, t.trail_arn, 'insights',\n"                     \
    "        CASE WHEN t.has_insights IS NULL THEN 'unknown'\n"                \
    "            ELSE coalesce((\n"                                            \
    "                SELECT group_concat(x, '; ') FROM (\n"                    \
    "                    SELECT i.insight_type || ' ('\n"                      \
    "                        || i.event_categories || ')' AS x\n"              \
    "                    FROM v_trail_insights i\n"                            \
    "                    WHERE i.snapshot_id = t.snapshot_id\n"                \
    "                      AND i.trail_arn = t.trail_arn\n"                    \
    "                    ORDER BY x)), 'none') END\n"                          \
    "    FROM v_trails t WHERE t.snapshot_id IN (?1, ?2)\n"                    \
    "    UNION ALL\n"                                                          \
    "    SELECT t.snapshot_id, t.trail_arn, k.field,\n"                        \
    "        CASE WHEN t.selectors = 'unknown' THEN 'unknown'\n"               \
    "            ELSE coalesce((\n"                                            \
    "                SELECT group_concat(x, '; ') FROM (\n"                    \
    "                    SELECT DISTINCT s.resource_type || ' '\n"             \
    "                        || CASE WHEN s.reads AND s.writes\n"              \
    "                               THEN 'read/write'\n"                       \
    "                               WHEN s.reads THEN 'read'\n"                \
    "                               ELSE 'write' END\n"                        \
    "                        || coalesce(' ' || (\n"                           \
    "                            SELECT group_concat(term, ', ') FROM (\n"     \
    "                                SELECT DISTINCT CASE v.kind\n"            \
    "                                    WHEN 'all' THEN 'all'\n"              \
    "                                    ELSE v.kind || ' ' || v.value\n"      \
    "                                    END AS term\n"                        \
    "                                FROM v_scope_terms v\n"                   \
    "                                WHERE v.snapshot_id = s.snapshot_id\n"    \
    "                                  AND v.scope_id = s.scope_id\n"          \
    "                                  AND v.trail_arn = s.trail_arn\n"        \
    "                                ORDER BY term)), '')\n"                   \
    "                        || CASE WHEN s.has_negative OR s.has_filter\n"    \
    "                               THEN ' (with exclusions or filters)'\n"    \
    "                               ELSE '' END AS x\n"                        \
    "                    FROM v_trail_scopes s\n"                              \
    "                    WHERE s.snapshot_id = t.snapshot_id\n"                \
    "                      AND s.trail_arn = t.trail_arn\n"                    \
    "                      AND s.category = k.category\n"                      \
    "                    ORDER BY x)), 'none') END\n"                          \
    "    FROM v_trails t\n"                                                    \
    "    CROSS JOIN (SELECT 'data_scopes' AS field, 'Data' AS category\n"      \
    "                UNION ALL SELECT 'network_scopes', 'NetworkActivity') "   \
    "k\n"                                                                      \
    "    WHERE t.snapshot_id IN (?1, ?2)\n"                                    \
    "),\n"                                                                     \
    "field_changes AS (\n"                                                     \
    "    SELECT b.trail_arn, b.field, b.value AS before, a.value AS after\n"   \
    "    FROM tf b\n"                                                          \
    "    JOIN tf a ON a.snapshot_id = ?2 AND a.trail_arn = b.trail_arn\n"      \
    "        AND a.field = b.field\n"                                          \
    "    WHERE b.snapshot_id = ?1\n"                                           \
    "      AND b.value IS NOT a.value\n"                                       \
    ")"

/* The (account, region) pairs scanned in both snapshots, in accounts
 * scanned in both: only there is a difference a change. */
#define COMPARABLE_CTE                                                         \
    "cmp AS (\n"                                                               \
    "    SELECT b.account_id, b.region\n"                                      \
    "    FROM v_account_regions b\n"                                           \
    "    JOIN v_account_regions a ON a.snapshot_id = ?2\n"                     \
    "        AND a.account_id = b.account_id AND a.region = b.region\n"        \
    "        AND a.scan_state = 'scanned'\n"                                   \
    "    JOIN v_accounts xb ON xb.snapshot_id = ?1\n"                          \
    "        AND xb.account_id = b.account_id\n"                               \
    "        AND xb.scan_status = 'scanned'\n"                                 \
    "    JOIN v_accounts xa ON xa.snapshot_id = ?2\n"                          \
    "        AND xa.account_id = b.account_id\n"                               \
    "        AND xa.scan_status = 'scanned'\n"                                 \
    "    WHERE b.snapshot_id = ?1 AND b.scan_state = 'scanned'\n"              \
    ")"

static const char sql_side[] =
    "SELECT label, started_at, complete FROM snapshots\n"
    "WHERE snapshot_id = ?1";

/* Every account of either snapshot, with its scan status on each side. */
static const char sql_accounts[] =
    "WITH ids AS (\n"
    "    SELECT account_id FROM v_accounts\n"
    "    WHERE snapshot_id IN (?1, ?2)\n"
    "    GROUP BY account_id\n"
    ")\n"
    "SELECT i.account_id, coalesce(a.display_name, b.display_name),\n"
    "    b.scan_status, a.scan_status, b.scan_reason, a.scan_reason\n"
    "FROM ids i\n"
    "LEFT JOIN v_accounts b ON b.snapshot_id = ?1\n"
    "    AND b.account_id = i.account_id\n"
    "LEFT JOIN v_accounts a ON a.snapshot_id = ?2\n"
    "    AND a.account_id = i.account_id\n"
    "ORDER BY i.account_id";

/* Every (account, region) of either snapshot: management copies (reads and
 * writes apart, as v_region_mgmt counts them), delivering trails with data
 * and network activity events, and the trails whose coverage of the region
 * began or ended. */
static const char sql_regions[] =
    "WITH cov AS (\n"
    "    SELECT c.snapshot_id, c.account_id, c.region,\n"
    "        sum(t.delivers AND t.has_data = 1) AS data_trails,\n"
    "        sum(t.delivers AND t.has_network = 1) AS network_trails\n"
    "    FROM v_coverage c\n"
    "    JOIN v_trails t ON t.snapshot_id = c.snapshot_id\n"
    "        AND t.trail_arn = c.trail_arn\n"
    "    WHERE c.snapshot_id IN (?1, ?2)\n"
    "    GROUP BY c.snapshot_id, c.account_id, c.region\n"
    "),\n"
    "r AS (\n"
    "    SELECT m.snapshot_id, m.account_id, m.region, m.scan_state,\n"
    "        m.read_copies, m.write_copies,\n"
    "        max(max(m.read_copies, m.write_copies) - 1, 0) AS paid_copies,\n"
    "        m.unknown_trails,\n"
    "        coalesce(cov.data_trails, 0) AS data_trails,\n"
    "        coalesce(cov.network_trails, 0) AS network_trails\n"
    "    FROM v_region_mgmt m\n"
    "    LEFT JOIN cov ON cov.snapshot_id = m.snapshot_id\n"
    "        AND cov.account_id = m.account_id AND cov.region = m.region\n"
    "    WHERE m.snapshot_id IN (?1, ?2)\n"
    "),\n"
    "moved AS (\n"
    "    SELECT account_id, region, trail_arn,\n"
    "        max(snapshot_id = ?1) AS in_before,\n"
    "        max(snapshot_id = ?2) AS in_after\n"
    "    FROM v_coverage\n"
    "    WHERE snapshot_id IN (?1, ?2)\n"
    "    GROUP BY account_id, region, trail_arn\n"
    "),\n"
    "moved_lists AS (\n"
    "    SELECT account_id, region,\n"
    "        group_concat(CASE WHEN in_after THEN trail_arn END, ' ')\n"
    "            AS added,\n"
    "        group_concat(CASE WHEN in_before THEN trail_arn END, ' ')\n"
    "            AS removed\n"
    "    FROM (\n"
    "        SELECT account_id, region, trail_arn, in_before, in_after\n"
    "        FROM moved\n"
    "        WHERE in_before <> in_after\n"
    "        ORDER BY account_id, region, trail_arn\n"
    "    )\n"
    "    GROUP BY account_id, region\n"
    "),\n"
    "keys AS (\n"
    "    SELECT account_id, region FROM r GROUP BY account_id, region\n"
    ")\n"
    "SELECT k.account_id, k.region, b.scan_state, a.scan_state,\n"
    "    b.read_copies, a.read_copies, b.write_copies, a.write_copies,\n"
    "    b.paid_copies, a.paid_copies, b.data_trails, a.data_trails,\n"
    "    b.network_trails, a.network_trails,\n"
    "    b.unknown_trails, a.unknown_trails,\n"
    "    ml.added, ml.removed\n"
    "FROM keys k\n"
    "LEFT JOIN r b ON b.snapshot_id = ?1\n"
    "    AND b.account_id = k.account_id AND b.region = k.region\n"
    "LEFT JOIN r a ON a.snapshot_id = ?2\n"
    "    AND a.account_id = k.account_id AND a.region = k.region\n"
    "LEFT JOIN moved_lists ml ON ml.account_id = k.account_id\n"
    "    AND ml.region = k.region\n"
    "ORDER BY k.account_id, k.region";

/* Delivering trails per Insights type covering each (account, region). */
static const char sql_insights[] =
    "WITH x AS (\n"
    "    SELECT c.snapshot_id, c.account_id, c.region, i.insight_type,\n"
    "        count(*) AS n\n"
    "    FROM v_coverage c\n"
    "    JOIN v_trails t ON t.snapshot_id = c.snapshot_id\n"
    "        AND t.trail_arn = c.trail_arn AND t.delivers\n"
    "    JOIN v_trail_insights i ON i.snapshot_id = c.snapshot_id\n"
    "        AND i.trail_arn = c.trail_arn\n"
    "    WHERE c.snapshot_id IN (?1, ?2)\n"
    "    GROUP BY c.snapshot_id, c.account_id, c.region, i.insight_type\n"
    ")\n"
    "SELECT account_id, region, insight_type,\n"
    "    sum(CASE WHEN snapshot_id = ?1 THEN n ELSE 0 END),\n"
    "    sum(CASE WHEN snapshot_id = ?2 THEN n ELSE 0 END)\n"
    "FROM x\n"
    "GROUP BY account_id, region, insight_type\n"
    "ORDER BY account_id, region, insight_type";

static const char sql_fields[] = "WITH " TRAIL_FIELDS_CTE "\n"
                                 "SELECT trail_arn, field, before, after\n"
                                 "FROM field_changes\n"
                                 "ORDER BY trail_arn, field";

/* Per account and trail, over the comparable regions: the regions it
 * covered before and after, where its coverage began or ended; only trails
 * with such a change or a changed field. */
static const char sql_trails[] =
    "WITH " TRAIL_FIELDS_CTE ",\n" COMPARABLE_CTE ",\n"
    "cov AS (\n"
    "    SELECT c.account_id, c.region, c.trail_arn,\n"
    "        max(c.snapshot_id = ?1) AS in_before,\n"
    "        max(c.snapshot_id = ?2) AS in_after\n"
    "    FROM v_coverage c\n"
    "    JOIN cmp ON cmp.account_id = c.account_id AND cmp.region = c.region\n"
    "    WHERE c.snapshot_id IN (?1, ?2)\n"
    "    GROUP BY c.account_id, c.region, c.trail_arn\n"
    ")\n"
    "SELECT account_id, trail_arn, sum(in_before), sum(in_after),\n"
    "    group_concat(CASE WHEN in_after AND NOT in_before THEN region END,\n"
    "                 ' '),\n"
    "    group_concat(CASE WHEN in_before AND NOT in_after THEN region END,\n"
    "                 ' ')\n"
    "FROM (\n"
    "    SELECT account_id, trail_arn, region, in_before, in_after\n"
    "    FROM cov\n"
    "    ORDER BY account_id, trail_arn, region\n"
    ")\n"
    "GROUP BY account_id, trail_arn\n"
    "HAVING sum(in_before) < count(*) OR sum(in_after) < count(*)\n"
    "    OR trail_arn IN (SELECT trail_arn FROM field_changes)\n"
    "ORDER BY account_id, trail_arn";

/* ---- helpers ------------------------------------------------------------- */

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

static const char *col(struct diff *d, sqlite3_stmt *st, int i, int *oom)
{
    return strmap_intern(&d->strings, (const char *)sqlite3_column_text(st, i),
                         oom);
}

static long long num(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL
               ? -1
               : sqlite3_column_int64(st, i);
}

static struct diff_count count2(sqlite3_stmt *st, int i)
{
    struct diff_count c = {num(st, i), num(st, i + 1)};
    return c;
}

static int prepare(sqlite3_stmt **out, sqlite3 *db, const char *sql,
                   const struct diff_ids *ids, struct ct_error *err)
{
    if (sqlite3_prepare_v2(db, sql, -1, out, NULL) != SQLITE_OK)
        return ct_error_set(err, CT_ESQL, "%s", sqlite3_errmsg(db));
    sqlite3_bind_int64(*out, 1, ids->before);
    if (sqlite3_bind_parameter_count(*out) >= 2)
        sqlite3_bind_int64(*out, 2, ids->after);
    return 0;
}

static int step_done(sqlite3 *db, int step, struct ct_error *err)
{
    return step == SQLITE_DONE
               ? 0
               : ct_error_set(err, CT_ESQL, "%s", sqlite3_errmsg(db));
}

static int oom_error(struct ct_error *err)
{
    return ct_error_set(err, CT_ENOMEM, "out of memory");
}

static int is_scanned(const char *s)
{
    return s && strcmp(s, "scanned") == 0;
}

static int cmp_account_id(const void *key, const void *elem)
{
    return strcmp(key, ((const struct diff_account *)elem)->account_id);
}

static struct diff_account *find_account(struct diff *d, const char *id)
{
    if (!id || !d->n_accounts)
        return NULL;
    return bsearch(id, d->accounts, d->n_accounts, sizeof(*d->accounts),
                   cmp_account_id);
}

const char *diff_kind_name(enum diff_kind kind)
{
    static const char *const names[] = {"resolved", "introduced", "still_open",
                                        "not_comparable"};
    return kind < DIFF_N_KINDS ? names[kind] : "?";
}

int diff_account_changed(const struct diff_account *a)
{
    return !a->comparable || a->n_regions || a->n_trails ||
           a->n_by_kind[DIFF_RESOLVED] || a->n_by_kind[DIFF_INTRODUCED] ||
           a->n_by_kind[DIFF_NOT_COMPARABLE] || a->open_changed;
}

/* ---- sides and accounts -------------------------------------------------- */

/* The last component of path, without trailing slashes (owned). */
static char *base_name(const char *path)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        n--;
    size_t start = n;
    while (start > 0 && path[start - 1] != '/')
        start--;
    return strndup(path + start, n - start);
}

static int load_side(struct diff_side *side, sqlite3 *db, long long id,
                     long long source_id, const char *path,
                     struct ct_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = 0, oom = 0;
    if (sqlite3_prepare_v2(db, sql_side, -1, &st, NULL) != SQLITE_OK) {
        rc = ct_error_set(err, CT_ESQL, "%s", sqlite3_errmsg(db));
        goto done;
    }
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) != SQLITE_ROW) {
        rc = ct_error_set(err, CT_ESQL, "snapshot %lld vanished", id);
        goto done;
    }
    side->snapshot_id = id;
    side->source_snapshot_id = source_id;
    side->input = base_name(path);
    side->label = strdup((const char *)sqlite3_column_text(st, 0));
    side->started_at = sqlite3_column_type(st, 1) == SQLITE_NULL
                           ? NULL
                           : strdup((const char *)sqlite3_column_text(st, 1));
    side->complete = (int)num(st, 2);
    oom = !side->input || !side->label ||
          (sqlite3_column_type(st, 1) != SQLITE_NULL && !side->started_at);
    if (oom)
        rc = oom_error(err);
done:
    sqlite3_finalize(st);
    return rc;
}

/* Why an account cannot be compared, from its scan status on each side. */
static const char *account_reason(struct diff *d, const char *before,
                                  const char *after, const char *reason_b,
                                  const char *reason_a, int *oom)
{
    char buf[1024];
    if (!before)
        snprintf(buf, sizeof(buf), "not in the before snapshot");
    else if (!after)
        snprintf(buf, sizeof(buf), "not in the after snapshot");
    else if (!is_scanned(before))
        snprintf(buf, sizeof(buf), "%s in the before snapshot%s%s",
                 strcmp(before, "skipped") == 0 ? "skipped" : "not collected",
                 reason_b ? ": " : "", reason_b ? reason_b : "");
    else
        snprintf(buf, sizeof(buf), "%s in the after snapshot%s%s",
                 strcmp(after, "skipped") == 0 ? "skipped" : "not collected",
                 reason_a ? ": " : "", reason_a ? reason_a : "");
    return strmap_intern(&d->strings, buf, oom);
}

static int load_accounts(struct diff *d, sqlite3 *db,
                         const struct diff_ids *ids, struct ct_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc, step, oom = 0;
    if ((rc = prepare(&st, db, sql_accounts, ids, err)))
        goto done;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (grow((void **)&d->accounts, &d->cap_accounts, d->n_accounts,
                 sizeof(*d->accounts))) {
            rc = oom_error(err);
            goto done;
        }
        struct diff_account *a = &d->accounts[d->n_accounts++];
        memset(a, 0, sizeof(*a));
        a->account_id = col(d, st, 0, &oom);
        a->name = col(d, st, 1, &oom);
        a->status_before = col(d, st, 2, &oom);
        a->status_after = col(d, st, 3, &oom);
        a->comparable =
            is_scanned(a->status_before) && is_scanned(a->status_after);
        if (!a->comparable) {
            const char *rb = (const char *)sqlite3_column_text(st, 4);
            const char *ra = (const char *)sqlite3_column_text(st, 5);
            a->reason = account_reason(d, a->status_before, a->status_after, rb,
                                       ra, &oom);
            d->summary.accounts_not_comparable++;
        }
        d->summary.accounts_scanned.before += is_scanned(a->status_before);
        d->summary.accounts_scanned.after += is_scanned(a->status_after);
        if (oom) {
            rc = oom_error(err);
            goto done;
        }
    }
    rc = step_done(db, step, err);
done:
    sqlite3_finalize(st);
    return rc;
}

/* ---- regions ------------------------------------------------------------- */

static const char *region_reason(struct diff *d, const char *before,
                                 const char *after, int *oom)
{
    char buf[256];
    const char *side = is_scanned(before) ? "after" : "before";
    const char *state = is_scanned(before) ? after : before;
    if (!state)
        snprintf(buf, sizeof(buf), "not in the %s snapshot", side);
    else if (strcmp(state, "error") == 0)
        snprintf(buf, sizeof(buf), "DescribeTrails failed in the %s snapshot",
                 side);
    else
        snprintf(buf, sizeof(buf), "not scanned in the %s snapshot", side);
    return strmap_intern(&d->strings, buf, oom);
}

static int differs(struct diff_count c)
{
    return c.before != c.after;
}

static void add_count(struct diff_count *sum, struct diff_count c, int before,
                      int after)
{
    if (before && c.before > 0)
        sum->before += c.before;
    if (after && c.after > 0)
        sum->after += c.after;
}

static int load_regions(struct diff *d, sqlite3 *db, const struct diff_ids *ids,
                        struct ct_error *err)
{
    sqlite3_stmt *st = NULL, *ins = NULL;
    int rc, step, ins_step, oom = 0;
    struct diff_account *a = NULL;
    size_t next = 0;

    if ((rc = prepare(&st, db, sql_regions, ids, err)) ||
        (rc = prepare(&ins, db, sql_insights, ids, err)))
        goto done;
    ins_step = sqlite3_step(ins);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        const char *region = (const char *)sqlite3_column_text(st, 1);
        struct diff_region r;
        memset(&r, 0, sizeof(r));
        /* both queries and the accounts are ordered by account id */
        while (next < d->n_accounts &&
               strcmp(d->accounts[next].account_id, id) <= 0)
            a = &d->accounts[next++];
        if (!a || strcmp(a->account_id, id) != 0) {
            rc = ct_error_set(err, CT_ESQL, "region of unknown account %s", id);
            goto done;
        }
        r.region = col(d, st, 1, &oom);
        r.state_before = col(d, st, 2, &oom);
        r.state_after = col(d, st, 3, &oom);
        r.read_copies = count2(st, 4);
        r.write_copies = count2(st, 6);
        r.paid_copies = count2(st, 8);
        r.data_trails = count2(st, 10);
        r.network_trails = count2(st, 12);
        r.unknown_trails = count2(st, 14);
        r.trails_added = col(d, st, 16, &oom);
        r.trails_removed = col(d, st, 17, &oom);
        r.comparable = a->comparable && is_scanned(r.state_before) &&
                       is_scanned(r.state_after);
        int sb = is_scanned(a->status_before), sa = is_scanned(a->status_after);
        int changed = differs(r.read_copies) || differs(r.write_copies) ||
                      differs(r.paid_copies) || differs(r.data_trails) ||
                      differs(r.network_trails) || differs(r.unknown_trails) ||
                      r.trails_added || r.trails_removed;
        while (ins_step == SQLITE_ROW) {
            int c = strcmp((const char *)sqlite3_column_text(ins, 0), id);
            if (c == 0)
                c = strcmp((const char *)sqlite3_column_text(ins, 1), region);
            if (c > 0)
                break;
            if (c == 0) {
                if (grow((void **)&r.insights, &r.cap_insights, r.n_insights,
                         sizeof(*r.insights))) {
                    free(r.insights);
                    rc = oom_error(err);
                    goto done;
                }
                struct diff_insight *x = &r.insights[r.n_insights++];
                x->insight_type = col(d, ins, 2, &oom);
                x->trails = count2(ins, 3);
                changed |= differs(x->trails);
                add_count(&d->summary.insights_trail_regions, x->trails, sb,
                          sa);
            }
            ins_step = sqlite3_step(ins);
        }
        add_count(&d->summary.paid_copies, r.paid_copies, sb, sa);
        add_count(&d->summary.data_trail_regions, r.data_trails, sb, sa);
        add_count(&d->summary.network_trail_regions, r.network_trails, sb, sa);
        if (r.comparable)
            add_count(&d->summary.comparable_paid_copies, r.paid_copies, 1, 1);
        if (a->comparable && !r.comparable) {
            r.reason = region_reason(d, r.state_before, r.state_after, &oom);
            d->summary.regions_not_comparable++;
        }
        /* a not comparable account is shown whole, not region by region */
        if (!a->comparable || (r.comparable && !changed)) {
            free(r.insights);
            if (oom) {
                rc = oom_error(err);
                goto done;
            }
            continue;
        }
        if (oom || grow((void **)&a->regions, &a->cap_regions, a->n_regions,
                        sizeof(*a->regions))) {
            free(r.insights);
            rc = oom_error(err);
            goto done;
        }
        a->regions[a->n_regions++] = r;
    }
    if ((rc = step_done(db, step, err)))
        goto done;
    if (ins_step != SQLITE_ROW)
        rc = step_done(db, ins_step, err);
done:
    sqlite3_finalize(st);
    sqlite3_finalize(ins);
    return rc;
}

/* ---- trails -------------------------------------------------------------- */

static int load_fields(struct diff *d, sqlite3 *db, const struct diff_ids *ids,
                       struct ct_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc, step, oom = 0;
    if ((rc = prepare(&st, db, sql_fields, ids, err)))
        goto done;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (grow((void **)&d->fields, &d->cap_fields, d->n_fields,
                 sizeof(*d->fields))) {
            rc = oom_error(err);
            goto done;
        }
        struct diff_field *f = &d->fields[d->n_fields++];
        f->trail_arn = col(d, st, 0, &oom);
        f->field = col(d, st, 1, &oom);
        f->before = col(d, st, 2, &oom);
        f->after = col(d, st, 3, &oom);
        if (oom) {
            rc = oom_error(err);
            goto done;
        }
    }
    rc = step_done(db, step, err);
done:
    sqlite3_finalize(st);
    return rc;
}

/* Adds key to a set (a strmap of one byte); returns 1 if it was new. */
static int set_add(struct strmap *set, const char *key, int *oom)
{
    int added = 0;
    if (!strmap_put(set, key, &added))
        *oom = 1;
    return added;
}

static int load_trails(struct diff *d, sqlite3 *db, const struct diff_ids *ids,
                       struct ct_error *err)
{
    sqlite3_stmt *st = NULL;
    struct strmap seen[3] = {STRMAP_INIT(1), STRMAP_INIT(1), STRMAP_INIT(1)};
    int rc, step, oom = 0;
    if ((rc = prepare(&st, db, sql_trails, ids, err)))
        goto done;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        struct diff_account *a =
            find_account(d, (const char *)sqlite3_column_text(st, 0));
        if (!a)
            continue;
        if (grow((void **)&a->trails, &a->cap_trails, a->n_trails,
                 sizeof(*a->trails))) {
            rc = oom_error(err);
            goto done;
        }
        struct diff_trail *t = &a->trails[a->n_trails++];
        memset(t, 0, sizeof(*t));
        t->trail_arn = col(d, st, 1, &oom);
        t->name = t->trail_arn ? report_trail_name(t->trail_arn) : NULL;
        t->regions_before = num(st, 2);
        t->regions_after = num(st, 3);
        t->regions_added = col(d, st, 4, &oom);
        t->regions_removed = col(d, st, 5, &oom);
        int kind = t->regions_before == 0 ? 0 : t->regions_after == 0 ? 1 : 2;
        t->change = kind == 0 ? "added" : kind == 1 ? "removed" : "changed";
        /* the fields, by ARN (d->fields is sorted by ARN, field) */
        for (size_t i = 0; i < d->n_fields && t->trail_arn; i++) {
            if (strcmp(d->fields[i].trail_arn, t->trail_arn) != 0)
                continue;
            if (!t->fields)
                t->fields = &d->fields[i];
            t->n_fields++;
        }
        if (t->trail_arn)
            set_add(&seen[kind], t->trail_arn, &oom);
        if (oom) {
            rc = oom_error(err);
            goto done;
        }
    }
    rc = step_done(db, step, err);
    d->summary.trails_added = (long long)seen[0].n;
    d->summary.trails_removed = (long long)seen[1].n;
    d->summary.trails_changed = (long long)seen[2].n;
done:
    for (int i = 0; i < 3; i++)
        strmap_release(&seen[i]);
    sqlite3_finalize(st);
    return rc;
}

/* ---- findings ------------------------------------------------------------ */

static int cmp_nullable(const char *a, const char *b)
{
    if (!a || !b)
        return (a != NULL) - (b != NULL);
    return strcmp(a, b);
}

/* The key: (account_id, region, rule_id, trail_arns), in rules_run's order
 * (which sorts by this key, then detail). */
static int cmp_key(const struct finding *a, const struct finding *b)
{
    int c;
    if ((c = cmp_nullable(a->account_id, b->account_id)))
        return c;
    if ((c = cmp_nullable(a->region, b->region)))
        return c;
    if ((c = strcmp(a->rule_id, b->rule_id)))
        return c;
    return cmp_nullable(a->trail_arns, b->trail_arns);
}

/* Whether a finding's (account, region) can be compared. */
static int finding_comparable(struct diff *d, const struct finding *f)
{
    const struct diff_account *a = find_account(d, f->account_id);
    if (!f->account_id)
        return 1;
    if (!a || !a->comparable)
        return 0;
    if (!f->region)
        return 1;
    for (size_t i = 0; i < a->n_regions; i++)
        if (strcmp(a->regions[i].region, f->region) == 0)
            return a->regions[i].comparable;
    return 1;
}

static int add_finding(struct diff *d, enum diff_kind kind,
                       const struct finding *before,
                       const struct finding *after)
{
    const struct finding *f = before ? before : after;
    struct diff_account *a = find_account(d, f->account_id);
    struct diff_finding **list = a ? &a->findings : &d->global;
    size_t *n = a ? &a->n_findings : &d->n_global;
    size_t *cap = a ? &a->cap_findings : &d->cap_global;
    if (kind != DIFF_OPEN && !finding_comparable(d, f))
        kind = DIFF_NOT_COMPARABLE;
    if (grow((void **)list, cap, *n, sizeof(**list)))
        return -1;
    (*list)[(*n)++] = (struct diff_finding){kind, before, after};
    d->summary.findings[kind]++;
    if (a) {
        a->n_by_kind[kind]++;
        if (kind == DIFF_OPEN && strcmp(before->detail, after->detail) != 0)
            a->open_changed = 1;
    }
    return 0;
}

/* Matches one group of equal keys: equal details pair first, then the
 * rest in order; what is left is resolved or introduced. */
static int match_group(struct diff *d, const struct finding *b, size_t nb,
                       const struct finding *a, size_t na)
{
    char *used_b = calloc(nb + 1, 1), *used_a = calloc(na + 1, 1);
    int rc = -1;
    size_t j = 0;
    if (!used_b || !used_a)
        goto done;
    for (size_t i = 0; i < nb; i++)
        for (size_t k = 0; k < na; k++)
            if (!used_a[k] && strcmp(b[i].detail, a[k].detail) == 0) {
                used_b[i] = used_a[k] = 1;
                break;
            }
    /* output in before order: each before finding with its partner */
    for (size_t i = 0; i < nb; i++) {
        const struct finding *partner = NULL;
        if (used_b[i]) {
            for (size_t k = 0; k < na && !partner; k++)
                if (used_a[k] == 1 && strcmp(b[i].detail, a[k].detail) == 0) {
                    partner = &a[k];
                    used_a[k] = 2;
                }
        } else {
            while (j < na && used_a[j])
                j++;
            if (j < na) {
                partner = &a[j];
                used_a[j] = 2;
            }
        }
        if (add_finding(d, partner ? DIFF_OPEN : DIFF_RESOLVED, &b[i], partner))
            goto done;
    }
    for (size_t k = 0; k < na; k++)
        if (!used_a[k] && add_finding(d, DIFF_INTRODUCED, NULL, &a[k]))
            goto done;
    rc = 0;
done:
    free(used_b);
    free(used_a);
    return rc;
}

static int match_findings(struct diff *d)
{
    const struct finding *b = d->findings_before.items;
    const struct finding *a = d->findings_after.items;
    size_t nb = d->findings_before.n, na = d->findings_after.n;
    size_t i = 0, j = 0;
    while (i < nb || j < na) {
        int c = i >= nb ? 1 : j >= na ? -1 : cmp_key(&b[i], &a[j]);
        size_t gi = i, gj = j;
        const struct finding *key = c <= 0 ? &b[i] : &a[j];
        while (gi < nb && cmp_key(&b[gi], key) == 0)
            gi++;
        while (gj < na && cmp_key(&a[gj], key) == 0)
            gj++;
        if (match_group(d, b + i, gi - i, a + j, gj - j))
            return -1;
        i = gi;
        j = gj;
    }
    return 0;
}

/* ---- build --------------------------------------------------------------- */

/* Dollars of both sides over the regions both can compare and price. */
static const char sql_costs[] =
    "SELECT sum(b.paid_mgmt_monthly + b.data_monthly + b.network_monthly"
    "          + b.insights_monthly),"
    "  sum(a.paid_mgmt_monthly + a.data_monthly + a.network_monthly"
    "      + a.insights_monthly), count(*) "
    "FROM v_region_costs b "
    "JOIN v_region_costs a ON a.snapshot_id = ?2"
    "  AND a.account_id = b.account_id AND a.region = b.region "
    "JOIN v_account_regions rb ON rb.snapshot_id = ?1"
    "  AND rb.account_id = b.account_id AND rb.region = b.region"
    "  AND rb.scan_state = 'scanned' "
    "JOIN v_account_regions ra ON ra.snapshot_id = ?2"
    "  AND ra.account_id = b.account_id AND ra.region = b.region"
    "  AND ra.scan_state = 'scanned' "
    "JOIN v_accounts xb ON xb.snapshot_id = ?1"
    "  AND xb.account_id = b.account_id AND xb.scan_status = 'scanned' "
    "JOIN v_accounts xa ON xa.snapshot_id = ?2"
    "  AND xa.account_id = b.account_id AND xa.scan_status = 'scanned' "
    "WHERE b.snapshot_id = ?1"
    "  AND b.paid_mgmt_monthly + b.data_monthly + b.network_monthly"
    "      + b.insights_monthly IS NOT NULL"
    "  AND a.paid_mgmt_monthly + a.data_monthly + a.network_monthly"
    "      + a.insights_monthly IS NOT NULL";

static int load_costs(struct diff *d, sqlite3 *db, const struct diff_ids *ids,
                      struct ct_error *err)
{
    sqlite3_stmt *st = NULL;
    struct diff_summary *s = &d->summary;
    int rc;
    if ((rc = costs_basis(&s->basis_before, db, ids->before, err)) ||
        (rc = costs_basis(&s->basis_after, db, ids->after, err)) ||
        (rc = prepare(&st, db, sql_costs, ids, err)))
        goto done;
    if (sqlite3_step(st) != SQLITE_ROW) {
        rc = ct_error_set(err, CT_ESQL, "%s", sqlite3_errmsg(db));
        goto done;
    }
    s->monthly_before = sqlite3_column_double(st, 0);
    s->monthly_after = sqlite3_column_double(st, 1);
    s->monthly_regions = sqlite3_column_int64(st, 2);
done:
    sqlite3_finalize(st);
    return rc;
}

int diff_build(struct diff *out, sqlite3 *db, const struct rule_set *rules,
               const struct diff_ids *ids, const char *before_path,
               const char *after_path, struct ct_error *err)
{
    struct diff d;
    int rc;
    /* all zero is the initial state of every member */
    memset(&d, 0, sizeof(d));

    if ((rc = load_side(&d.before, db, ids->before, ids->before_source,
                        before_path, err)) ||
        (rc = load_side(&d.after, db, ids->after, ids->after_source, after_path,
                        err)) ||
        (rc = load_accounts(&d, db, ids, err)) ||
        (rc = load_regions(&d, db, ids, err)) ||
        (rc = load_fields(&d, db, ids, err)) ||
        (rc = load_trails(&d, db, ids, err)) ||
        (rc = rules_run(&d.findings_before, rules, db, ids->before, err)) ||
        (rc = rules_run(&d.findings_after, rules, db, ids->after, err)))
        goto fail;
    if (match_findings(&d)) {
        rc = oom_error(err);
        goto fail;
    }
    if ((rc = load_costs(&d, db, ids, err)))
        goto fail;
    *out = d;
    return 0;
fail:
    diff_release(&d);
    return rc;
}

void diff_release(struct diff *d)
{
    for (size_t i = 0; i < d->n_accounts; i++) {
        struct diff_account *a = &d->accounts[i];
        for (size_t k = 0; k < a->n_regions; k++)
            free(a->regions[k].insights);
        free(a->regions);
        free(a->trails);
        free(a->findings);
    }
    free(d->accounts);
    free(d->global);
    free(d->fields);
    finding_list_release(&d->findings_before);
    finding_list_release(&d->findings_after);
    strmap_release(&d->strings);
    free(d->before.input);
    free(d->before.label);
    free(d->before.started_at);
    free(d->after.input);
    free(d->after.label);
    free(d->after.started_at);
    memset(d, 0, sizeof(*d));
}
