/*
 * Report renderers: Markdown (the article's shape, and more), JSON (the
 * machine contract, schema/REPORT.md), CSV (one row per finding). They read
 * the model only. Text from snapshots is escaped for each format.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "analyzer/output.h"
#include "analyzer/report.h"

/* " ($12.34/month)", " (~$12.34/month, estimate)" or "" without a basis. */
static void md_money(FILE *f, const struct report *r, double amount)
{
    char buf[64];
    if (!r->costs.kind[0])
        return;
    costs_format(buf, sizeof(buf), amount, r->costs.currency);
    if (strcmp(r->costs.kind, "estimate") == 0)
        fprintf(f, " (~%s/month, estimate)", buf);
    else
        fprintf(f, " (%s/month)", buf);
}

#define RULE_LINE \
    "================================================================================"

/* ---- Markdown ------------------------------------------------------------ */


static size_t md_len(const char *s)
{
    size_t n = 0;
    for (; s && *s; s++) {
        if ((*s & 0xC0) == 0x80)
            continue; /* UTF-8 continuation: same column */
        n += strchr("\\|*_`<>[]#", *s) && *s ? 2 : 1;
    }
    return n;
}

static const char *yn(int v)
{
    return v < 0 ? "unknown" : v ? "yes" : "no";
}

static const char *read_write(const struct trail_row *r)
{
    if (r->reads < 0 || r->writes < 0)
        return "unknown";
    if (r->reads && r->writes)
        return "All";
    if (r->reads)
        return "ReadOnly";
    if (r->writes)
        return "WriteOnly";
    return "-";
}

static void md_table(FILE *f, const struct account_report *a)
{
    fputs("| Region | TrailName | HomeRegion | IsMultiRegion | Org | Shadow | "
          "Mgmt | Data | Insights | Network | IsLogging | ReadWrite | "
          "Listed |\n",
          f);
    fputs("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- "
          "| --- | --- |\n",
          f);
    for (size_t i = 0; i < a->n_rows; i++) {
        const struct trail_row *r = &a->rows[i];
        int mgmt = r->reads < 0 || r->writes < 0 ? -1
                                                 : (r->reads || r->writes);
        fputs("| ", f);
        out_md(f, r->region);
        fputs(" | ", f);
        out_md(f, r->name);
        fputs(" | ", f);
        out_md(f, r->home_region);
        fprintf(f, " | %s | %s | %s | %s | %s | %s | %s | ", yn(r->multi),
                yn(r->org), yn(r->shadow), yn(mgmt), yn(r->data),
                yn(r->insights), yn(r->network));
        if (strcmp(r->logging, "yes") == 0)
            fputs("**yes**", f);
        else
            out_md(f, r->logging);
        fprintf(f, " | %s | %s |\n", read_write(r), yn(r->listed));
    }
}

static void md_region_lines(FILE *f, const struct report *r,
                            const struct account_report *a)
{
    for (size_t i = 0; i < a->n_regions; i++) {
        const struct region_line *l = &a->regions[i];
        if (l->trails == 0)
            continue;
        int copies = l->read_copies > l->write_copies ? l->read_copies
                                                      : l->write_copies;
        int cond_mgmt = copies > 1;
        int cond_other = l->data || l->insights || l->network;
        if (!cond_mgmt && !cond_other) {
            fprintf(f, "OK %s (%d trails, %d active): no extra costs detected\n",
                    l->region, l->trails, l->active);
            continue;
        }
        fprintf(f, "WARNING %s (%d trails, %d active): costs apply: ",
                l->region, l->trails, l->active);
        if (cond_mgmt)
            fprintf(f,
                    "more than one active trail capturing management events "
                    "(%d)",
                    copies);
        if (cond_mgmt && cond_other)
            fputs(" AND ", f);
        if (cond_other) {
            const char *sep = "";
            fputs("active trails capturing ", f);
            if (l->data) {
                fputs("data", f);
                sep = "/";
            }
            if (l->insights) {
                fprintf(f, "%sinsights", sep);
                sep = "/";
            }
            if (l->network)
                fprintf(f, "%snetwork", sep);
            fputs(" events", f);
        }
        if (l->has_monthly)
            md_money(f, r, l->monthly);
        fputc('\n', f);
    }
}

static int same_group(const struct finding *a, const struct finding *b)
{
    return strcmp(a->rule_id, b->rule_id) == 0
           && strcmp(a->severity, b->severity) == 0
           && strcmp(a->detail ? a->detail : "", b->detail ? b->detail : "")
                  == 0
           && strcmp(a->trail_arns ? a->trail_arns : "",
                     b->trail_arns ? b->trail_arns : "")
                  == 0;
}

static int cmp_group(const void *pa, const void *pb)
{
    const struct finding *a = *(const struct finding *const *)pa;
    const struct finding *b = *(const struct finding *const *)pb;
    int c = severity_rank(b->severity) - severity_rank(a->severity);
    if (c)
        return c;
    if ((c = strcmp(a->rule_id, b->rule_id)))
        return c;
    if ((c = strcmp(a->detail ? a->detail : "", b->detail ? b->detail : "")))
        return c;
    if ((c = strcmp(a->trail_arns ? a->trail_arns : "",
                    b->trail_arns ? b->trail_arns : "")))
        return c;
    return strcmp(a->region ? a->region : "", b->region ? b->region : "");
}

static void md_trail_names(FILE *f, const char *arns)
{
    const char *p = arns;
    int first = 1;
    while (p && *p) {
        const char *e = strchr(p, ' ');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        char buf[512];
        snprintf(buf, sizeof(buf), "%.*s", (int)n, p);
        fputs(first ? "" : ", ", f);
        out_md(f, report_trail_name(buf));
        first = 0;
        p += n;
        while (*p == ' ')
            p++;
    }
}

/* Findings grouped by (rule, detail, trails) with their regions. */
static int md_findings(FILE *f, const struct report *r,
                       struct finding **items, size_t n)
{
    struct finding **sorted;
    if (n == 0)
        return 0;
    sorted = malloc(n * sizeof(*sorted));
    if (!sorted)
        return -1;
    memcpy(sorted, items, n * sizeof(*sorted));
    qsort(sorted, n, sizeof(*sorted), cmp_group);
    fputs("Findings:\n", f);
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && same_group(sorted[i], sorted[j]))
            j++;
        const struct finding *g = sorted[i];
        fprintf(f, "- %s [%s] ",
                severity_rank(g->severity) == 2 ? "WARNING" : "info",
                g->rule_id);
        out_md(f, g->detail);
        size_t regions = 0;
        for (size_t k = i; k < j; k++)
            regions += sorted[k]->region != NULL;
        if (regions) {
            fprintf(f, " (%zu region(s): ", regions);
            int first = 1;
            for (size_t k = i; k < j; k++) {
                if (!sorted[k]->region)
                    continue;
                fputs(first ? "" : ", ", f);
                out_md(f, sorted[k]->region);
                first = 0;
            }
            fputc(')', f);
        }
        if (g->trail_arns && *g->trail_arns) {
            fputs(" [trails: ", f);
            md_trail_names(f, g->trail_arns);
            fputc(']', f);
        }
        double cost = 0;
        int has_cost = 0;
        for (size_t k = i; k < j; k++)
            if (sorted[k]->has_cost) {
                cost += sorted[k]->monthly_cost;
                has_cost = 1;
            }
        if (has_cost)
            md_money(f, r, cost);
        fputc('\n', f);
        i = j;
    }
    free(sorted);
    return 0;
}

struct rule_count {
    const struct rule *rule;
    size_t warnings, infos, accounts;
    const char *last_account;
};

static void md_padded(FILE *f, const char *name, const char *id, size_t width)
{
    size_t len = md_len(name) + strlen(id) + 3;
    out_md(f, name);
    fprintf(f, " (%s)", id);
    for (; len < width; len++)
        fputc(' ', f);
}

/* The organization's dollars, and what they rest on. */
static void md_cost_summary(FILE *f, const struct report *r)
{
    char buf[64];
    costs_format(buf, sizeof(buf), r->monthly, r->costs.currency);
    if (strcmp(r->costs.kind, "billing") == 0)
        fprintf(f,
                "Charges beyond the free copy: %s/month (Cost Explorer: "
                "average of %d month(s) to %s)\n",
                buf, r->costs.months, r->costs.through);
    else if (strcmp(r->costs.kind, "estimate") == 0)
        fprintf(f,
                "Estimated charges beyond the free copy: %s/month (an "
                "ESTIMATE from --events-per-month/--volumes at list prices, "
                "not billing data)\n",
                buf);
    else
        fputs("Dollars: no billing data in this snapshot; collect it with "
              "`ctcollect --costs`, or estimate with --events-per-month N\n",
              f);
    if (r->costs.kind[0] && r->unknown_regions)
        fprintf(f, "Dollars unknown in %d region(s): no price or volume for "
                   "them\n",
                r->unknown_regions);
}

/* One account's section: header, trail table, region lines, findings. */
static int md_account(FILE *f, const struct report *r,
                      const struct account_report *a)
{
    fprintf(f, "%s\nAccount: ", RULE_LINE);
    out_md(f, a->name);
    fprintf(f, " (%s)\n%s\n", a->account_id, RULE_LINE);
    if (strcmp(a->scan_status, "scanned") != 0) {
        fputs(a->status, f);
        if (a->scan_reason) {
            fputs(": ", f);
            out_md(f, a->scan_reason);
        }
        fputc('\n', f);
        if (a->probable_causes) {
            fputs("Probable causes: ", f);
            out_md(f, a->probable_causes);
            fputc('\n', f);
        }
    } else if (a->n_rows == 0) {
        fputs("No trails deliver events in this account.\n", f);
    } else {
        md_table(f, a);
        fputc('\n', f);
        md_region_lines(f, r, a);
        if (r->costs.kind[0] && a->monthly_regions) {
            char buf[64];
            costs_format(buf, sizeof(buf), a->monthly, r->costs.currency);
            fprintf(f, "%s beyond the free copy: %s/month%s\n",
                    strcmp(r->costs.kind, "estimate") == 0
                        ? "Estimated charges"
                        : "Charges",
                    buf,
                    a->unknown_regions ? " (some regions unknown)" : "");
        }
    }
    if (a->n_findings) {
        fputc('\n', f);
        if (md_findings(f, r, a->findings, a->n_findings))
            return -1;
    }
    fputc('\n', f);
    return 0;
}

/*
 * The accounts' sections, in chunks of MD_CHUNK accounts: a helper thread
 * renders every other chunk into memory while this one renders the others
 * straight to f and writes the helper's in order. The helper is at most
 * MD_AHEAD chunks ahead, so at most that many are held in memory (about
 * 1 MiB each at 10,000 accounts). Without a thread, one chunk after the
 * other. The output is the same byte for byte.
 */
#define MD_CHUNK 128
#define MD_AHEAD 2

struct md_chunk {
    char *buf;
    size_t len;
    int state; /* 0 free, 1 ready, -1 failed */
};

struct md_helper {
    const struct report *r;
    int only;
    size_t n_chunks;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct md_chunk slot[MD_AHEAD];
    int stop; /* the writer failed: render no more */
};

static int md_chunk(FILE *f, const struct report *r, int only, size_t c)
{
    size_t end = (c + 1) * MD_CHUNK;
    if (end > r->n_accounts)
        end = r->n_accounts;
    for (size_t i = c * MD_CHUNK; i < end; i++) {
        const struct account_report *a = &r->accounts[i];
        if (only && a->n_findings == 0)
            continue;
        if (md_account(f, r, a))
            return -1;
    }
    return 0;
}

static void *md_helper_main(void *arg)
{
    struct md_helper *h = arg;
    for (size_t c = 1; c < h->n_chunks; c += 2) {
        struct md_chunk *s = &h->slot[(c / 2) % MD_AHEAD];
        char *buf = NULL;
        size_t len = 0;
        int state = -1;
        pthread_mutex_lock(&h->lock);
        while (s->state != 0 && !h->stop)
            pthread_cond_wait(&h->cond, &h->lock);
        int stop = h->stop;
        pthread_mutex_unlock(&h->lock);
        if (stop)
            break;
        FILE *m = open_memstream(&buf, &len);
        if (m) {
            flockfile(m);
            int rc = md_chunk(m, h->r, h->only, c);
            funlockfile(m);
            state = fclose(m) == 0 && rc == 0 ? 1 : -1;
        }
        pthread_mutex_lock(&h->lock);
        s->buf = buf;
        s->len = len;
        s->state = state;
        pthread_cond_broadcast(&h->cond);
        pthread_mutex_unlock(&h->lock);
        if (state < 0)
            break;
    }
    return NULL;
}

static int md_accounts(FILE *f, const struct report *r, int only)
{
    struct md_helper h;
    pthread_t thread;
    int rc = 0;
    memset(&h, 0, sizeof(h));
    h.r = r;
    h.only = only;
    h.n_chunks = (r->n_accounts + MD_CHUNK - 1) / MD_CHUNK;
    if (h.n_chunks < 2) /* nothing to share */
        return md_chunk(f, r, only, 0);
    pthread_mutex_init(&h.lock, NULL);
    pthread_cond_init(&h.cond, NULL);
    int threaded = pthread_create(&thread, NULL, md_helper_main, &h) == 0;
    for (size_t c = 0; c < h.n_chunks && rc == 0; c++) {
        if (!threaded || c % 2 == 0) {
            rc = md_chunk(f, r, only, c);
            continue;
        }
        struct md_chunk *s = &h.slot[(c / 2) % MD_AHEAD];
        pthread_mutex_lock(&h.lock);
        while (s->state == 0)
            pthread_cond_wait(&h.cond, &h.lock);
        pthread_mutex_unlock(&h.lock);
        if (s->state < 0)
            rc = -1;
        else if (s->len)
            fwrite(s->buf, 1, s->len, f);
        free(s->buf);
        pthread_mutex_lock(&h.lock);
        s->buf = NULL;
        s->state = 0;
        pthread_cond_broadcast(&h.cond);
        pthread_mutex_unlock(&h.lock);
    }
    if (threaded) {
        pthread_mutex_lock(&h.lock);
        h.stop = 1;
        pthread_cond_broadcast(&h.cond);
        pthread_mutex_unlock(&h.lock);
        pthread_join(thread, NULL);
        for (int i = 0; i < MD_AHEAD; i++)
            free(h.slot[i].buf);
    }
    pthread_cond_destroy(&h.cond);
    pthread_mutex_destroy(&h.lock);
    return rc;
}

int report_render_markdown(FILE *f, const struct report *r, int findings_only)
{
    if (r->complete == 0)
        fputs("WARNING: this snapshot is incomplete: the collection was "
              "interrupted; what it lacks is listed below and nothing here "
              "is clean.\n\n",
              f);
    if (r->n_global && md_findings(f, r, r->global, r->n_global))
        return -1;
    if (r->n_global)
        fputc('\n', f);
    if (md_accounts(f, r, findings_only))
        return -1;
    fprintf(f, "%s\nORGANIZATION SUMMARY\n%s\n", RULE_LINE, RULE_LINE);
    fprintf(f, "%-35s %s\n", "Account", "Status");
    fputs("----------------------------------- "
          "--------------------------------------------------\n",
          f);
    for (size_t i = 0; i < r->n_accounts; i++) {
        const struct account_report *a = &r->accounts[i];
        md_padded(f, a->name, a->account_id, 35);
        fputc(' ', f);
        out_md(f, a->status);
        fputc('\n', f);
    }
    fprintf(f, "Scanned: %d | Skipped: %d | With cost warnings: %d\n",
            r->scanned, r->skipped, r->with_cost_warnings);
    md_cost_summary(f, r);

    /* what the article's checks cannot say: counts per rule (findings
     * are sorted by account, so a rule's accounts change monotonically) */
    if (r->findings.n) {
        struct rule_count per[64];
        size_t n_per = 0;
        for (size_t i = 0; i < r->findings.n; i++) {
            const struct finding *x = &r->findings.items[i];
            size_t k = 0;
            while (k < n_per && per[k].rule != x->rule)
                k++;
            if (k == n_per) {
                if (n_per == sizeof(per) / sizeof(per[0]))
                    continue;
                memset(&per[n_per++], 0, sizeof(per[0]));
                per[k].rule = x->rule;
            }
            if (severity_rank(x->severity) == 2)
                per[k].warnings++;
            else
                per[k].infos++;
            if (x->account_id && (!per[k].last_account
                                  || strcmp(per[k].last_account,
                                            x->account_id) != 0)) {
                per[k].accounts++;
                per[k].last_account = x->account_id;
            }
        }
        /* rules sort by id: print in that order */
        for (size_t a = 1; a < n_per; a++)
            for (size_t b = a; b > 0 && strcmp(per[b - 1].rule->id,
                                               per[b].rule->id) > 0; b--) {
                struct rule_count tmp = per[b];
                per[b] = per[b - 1];
                per[b - 1] = tmp;
            }
        fprintf(f, "\nFindings: %d warning, %d info\n", r->n_warning,
                r->n_info);
        for (size_t k = 0; k < n_per; k++) {
            fprintf(f, "  %s: ", per[k].rule->id);
            if (per[k].warnings)
                fprintf(f, "%zu warning%s", per[k].warnings,
                        per[k].infos ? ", " : "");
            if (per[k].infos)
                fprintf(f, "%zu info", per[k].infos);
            fprintf(f, " in %zu account(s)\n", per[k].accounts);
        }
    }
    return 0;
}

/* ---- JSON ------------------------------------------------------------------ */

static json_t *jtri(int v)
{
    return v < 0 ? json_null() : json_boolean(v);
}

/* An amount in the report's currency, rounded to cents; null if unknown. */
static json_t *jmoney(int known, double v)
{
    return known ? json_real(llround(v * 100.0) / 100.0) : json_null();
}

static json_t *finding_json(const struct finding *x)
{
    json_t *o = json_object(), *arns = json_array();
    const char *p = x->trail_arns;
    while (p && *p) {
        const char *e = strchr(p, ' ');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        json_array_append_new(arns, out_json_strn(p, n));
        p += n;
        while (*p == ' ')
            p++;
    }
    json_object_set_new(o, "rule_id", out_json_str(x->rule_id));
    json_object_set_new(o, "severity", out_json_str(x->severity));
    json_object_set_new(o, "title", out_json_str(x->rule ? x->rule->title : NULL));
    json_object_set_new(o, "account_id", out_json_str(x->account_id));
    json_object_set_new(o, "region", out_json_str(x->region));
    json_object_set_new(o, "trail_arns", arns);
    json_object_set_new(o, "detail", out_json_str(x->detail));
    json_object_set_new(o, "read_copies", out_json_num(x->read_copies));
    json_object_set_new(o, "write_copies", out_json_num(x->write_copies));
    json_object_set_new(o, "paid_copies", out_json_num(x->paid_copies));
    json_object_set_new(o, "monthly_cost", jmoney(x->has_cost,
                                                  x->monthly_cost));
    return o;
}

static json_t *account_json(const struct account_report *a)
{
    json_t *o = json_object(), *regions = json_array(), *rows = json_array();
    json_t *findings = json_array();
    json_object_set_new(o, "account_id", out_json_str(a->account_id));
    json_object_set_new(o, "name", out_json_str(a->name));
    json_object_set_new(o, "scan_status", out_json_str(a->scan_status));
    json_object_set_new(o, "scan_reason", out_json_str(a->scan_reason));
    json_object_set_new(o, "probable_causes", out_json_str(a->probable_causes));
    json_object_set_new(o, "status", out_json_str(a->status));
    json_object_set_new(o, "cost_warning", json_boolean(a->cost_warning));
    json_object_set_new(o, "trail_count", json_integer(a->n_trails));
    json_object_set_new(o, "monthly_cost",
                        jmoney(a->monthly_regions > 0, a->monthly));
    json_object_set_new(o, "monthly_cost_unknown_regions",
                        json_integer(a->unknown_regions));
    for (size_t i = 0; i < a->n_regions; i++) {
        const struct region_line *l = &a->regions[i];
        json_t *x = json_object();
        int copies = l->read_copies > l->write_copies ? l->read_copies
                                                      : l->write_copies;
        json_object_set_new(x, "region", out_json_str(l->region));
        json_object_set_new(x, "scan_state", out_json_str(l->scan_state));
        json_object_set_new(x, "trails", json_integer(l->trails));
        json_object_set_new(x, "active_trails", json_integer(l->active));
        json_object_set_new(x, "read_copies", json_integer(l->read_copies));
        json_object_set_new(x, "write_copies", json_integer(l->write_copies));
        json_object_set_new(x, "paid_copies",
                            json_integer(copies > 1 ? copies - 1 : 0));
        json_object_set_new(x, "unknown_trails",
                            json_integer(l->unknown_trails));
        json_object_set_new(x, "data_events", json_boolean(l->data));
        json_object_set_new(x, "insights", json_boolean(l->insights));
        json_object_set_new(x, "network_activity_events",
                            json_boolean(l->network));
        json_object_set_new(x, "monthly_cost",
                            jmoney(l->has_monthly, l->monthly));
        json_array_append_new(regions, x);
    }
    for (size_t i = 0; i < a->n_rows; i++) {
        const struct trail_row *r = &a->rows[i];
        json_t *x = json_object();
        json_object_set_new(x, "region", out_json_str(r->region));
        json_object_set_new(x, "trail_name", out_json_str(r->name));
        json_object_set_new(x, "trail_arn", out_json_str(r->trail_arn));
        json_object_set_new(x, "home_region", out_json_str(r->home_region));
        json_object_set_new(x, "is_multi_region", json_boolean(r->multi));
        json_object_set_new(x, "is_organization_trail", json_boolean(r->org));
        json_object_set_new(x, "shadow", json_boolean(r->shadow));
        json_object_set_new(x, "listed", json_boolean(r->listed));
        json_object_set_new(x, "management_reads", jtri(r->reads));
        json_object_set_new(x, "management_writes", jtri(r->writes));
        json_object_set_new(x, "data_events", jtri(r->data));
        json_object_set_new(x, "insights", jtri(r->insights));
        json_object_set_new(x, "network_activity_events", jtri(r->network));
        json_object_set_new(x, "logging", out_json_str(r->logging));
        json_object_set_new(x, "selectors", out_json_str(r->selectors));
        json_array_append_new(rows, x);
    }
    for (size_t i = 0; i < a->n_findings; i++)
        json_array_append_new(findings, finding_json(a->findings[i]));
    json_object_set_new(o, "regions", regions);
    json_object_set_new(o, "trails", rows);
    json_object_set_new(o, "findings", findings);
    return o;
}

static int dump(FILE *f, json_t *v)
{
    int rc = json_dumpf(v, f, JSON_COMPACT | JSON_SORT_KEYS
                                  | JSON_ENSURE_ASCII);
    json_decref(v);
    return rc;
}

/* Streams one account at a time: memory stays bounded by one account. */
int report_render_json(FILE *f, const struct report *r, int findings_only)
{
    json_t *snap = json_object(), *summary = json_object();
    json_t *sev = json_object(), *global = json_array();
    int first = 1;

    fputs("{\"accounts\":[", f);
    for (size_t i = 0; i < r->n_accounts; i++) {
        if (findings_only && r->accounts[i].n_findings == 0)
            continue;
        fputs(first ? "\n" : ",\n", f);
        first = 0;
        if (dump(f, account_json(&r->accounts[i])))
            return -1;
    }
    fputs("\n],\n\"findings\":", f);
    for (size_t i = 0; i < r->n_global; i++)
        json_array_append_new(global, finding_json(r->global[i]));
    if (dump(f, global))
        return -1;
    fprintf(f, ",\n\"schema_version\":%d,\n\"snapshot\":",
            REPORT_SCHEMA_VERSION);
    json_object_set_new(snap, "snapshot_id", json_integer(r->snapshot_id));
    json_object_set_new(snap, "label", out_json_str(r->label));
    json_object_set_new(snap, "started_at", out_json_str(r->started_at));
    json_object_set_new(snap, "collector", out_json_str(r->collector));
    json_object_set_new(snap, "has_manifest", json_boolean(r->has_manifest));
    json_object_set_new(snap, "verified", json_boolean(r->verified));
    json_object_set_new(snap, "complete", jtri(r->complete));
    if (dump(f, snap))
        return -1;
    fputs(",\n\"summary\":", f);
    json_object_set_new(summary, "scanned", json_integer(r->scanned));
    json_object_set_new(summary, "skipped", json_integer(r->skipped));
    json_object_set_new(summary, "with_cost_warnings",
                        json_integer(r->with_cost_warnings));
    json_object_set_new(sev, "warning", json_integer(r->n_warning));
    json_object_set_new(sev, "info", json_integer(r->n_info));
    json_object_set_new(summary, "findings_by_severity", sev);
    json_t *costs = json_object();
    json_object_set_new(costs, "basis",
                        r->costs.kind[0] ? out_json_str(r->costs.kind) : json_null());
    json_object_set_new(costs, "currency", out_json_str(r->costs.currency));
    json_object_set_new(costs, "billing_months",
                        json_integer(r->costs.months));
    json_object_set_new(costs, "billing_through",
                        r->costs.through[0] ? out_json_str(r->costs.through)
                                            : json_null());
    json_object_set_new(costs, "monthly_cost",
                        jmoney(r->costs.kind[0] && r->monthly_regions > 0,
                               r->monthly));
    json_object_set_new(costs, "unknown_regions",
                        json_integer(r->unknown_regions));
    json_object_set_new(summary, "costs", costs);
    if (dump(f, summary))
        return -1;
    fputs("\n}\n", f);
    return 0;
}

/* ---- CSV ------------------------------------------------------------------- */

int report_render_csv(FILE *f, const struct report *r)
{
    fputs("rule_id,severity,account_id,account_name,region,trail_arns,"
          "detail,read_copies,write_copies,paid_copies,monthly_cost,"
          "cost_basis\r\n",
          f);
    for (size_t i = 0; i < r->findings.n; i++) {
        const struct finding *x = &r->findings.items[i];
        const struct account_report *a = report_find_account(r, x->account_id);
        const char *name = a ? a->name : NULL;
        if (x->account_id && !a)
            continue; /* outside --account */
        out_csv_field(f, x->rule_id);
        fputc(',', f);
        out_csv_field(f, x->severity);
        fputc(',', f);
        out_csv_field(f, x->account_id);
        fputc(',', f);
        out_csv_field(f, name);
        fputc(',', f);
        out_csv_field(f, x->region);
        fputc(',', f);
        out_csv_field(f, x->trail_arns);
        fputc(',', f);
        out_csv_field(f, x->detail);
        if (x->read_copies >= 0)
            fprintf(f, ",%lld", x->read_copies);
        else
            fputc(',', f);
        if (x->write_copies >= 0)
            fprintf(f, ",%lld", x->write_copies);
        else
            fputc(',', f);
        if (x->paid_copies >= 0)
            fprintf(f, ",%lld", x->paid_copies);
        else
            fputc(',', f);
        if (x->has_cost && r->costs.kind[0])
            fprintf(f, ",%.2f,%s", x->monthly_cost, r->costs.kind);
        else
            fputs(",,", f);
        fputs("\r\n", f);
    }
    return 0;
}
