/*
 * Diff renderers: compact Markdown (a summary first, then only the accounts
 * with a change or that cannot be compared) and JSON (the machine contract,
 * schema/DIFF.md, one account per line). They read the model only.
 */
#include "analyzer/diff.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "analyzer/output.h"

/* ---- Markdown ------------------------------------------------------------ */


static void md_num(FILE *f, long long v)
{
    if (v < 0)
        fputs("-", f);
    else
        fprintf(f, "%lld", v);
}

/* "a -> b", or "a" when equal. */
static void md_count(FILE *f, struct diff_count c)
{
    md_num(f, c.before);
    if (c.before != c.after) {
        fputs(" -> ", f);
        md_num(f, c.after);
    }
}

/* Trail names of a space-separated ARN list, comma-separated. */
static void md_names(FILE *f, const char *arns)
{
    const char *p = arns;
    int first = 1;
    while (p && *p) {
        const char *e = strchr(p, ' ');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        char *arn = strndup(p, n);
        const char *name = arn ? strstr(arn, ":trail/") : NULL;
        fputs(first ? "" : ", ", f);
        out_md(f, name ? name + 7 : arn);
        free(arn);
        first = 0;
        p += n;
        while (*p == ' ')
            p++;
    }
}

/* A space-separated list, comma-separated, with its length first. */
static void md_list(FILE *f, const char *sign, const char *list)
{
    size_t n = 1;
    for (const char *p = list; *p; p++)
        n += *p == ' ';
    fprintf(f, "%s%zu (", sign, n);
    for (const char *p = list; *p; p++) {
        if (*p == ' ')
            fputs(", ", f);
        else if (strchr("\\|*_`<>[]#", *p))
            fprintf(f, "\\%c", *p);
        else
            fputc((unsigned char)*p < 0x20 ? ' ' : *p, f);
    }
    fputc(')', f);
}

static void md_summary_row(FILE *f, const char *what, struct diff_count c)
{
    fprintf(f, "| %s | %lld | %lld | %+lld |\n", what, c.before, c.after,
            c.after - c.before);
}

static void md_side(FILE *f, const char *what, const struct diff_side *s)
{
    fprintf(f, "%s: `", what);
    out_md(f, s->label);
    fputs("`", f);
    if (s->source_snapshot_id) {
        fprintf(f, " (snapshot %lld of database `", s->source_snapshot_id);
        out_md(f, s->input);
        fputs("`)", f);
    }
    if (s->started_at) {
        fputs(", collected ", f);
        out_md(f, s->started_at);
    }
    if (s->complete == 0)
        fputs(", **incomplete**", f);
    fputs("\n", f);
}

/* " ($12.34/month)" with the basis of the side the figure comes from. */
static void md_money(FILE *f, const struct cost_basis *b, double v)
{
    char buf[64];
    if (!b->kind[0])
        return;
    costs_format(buf, sizeof(buf), v, b->currency);
    fprintf(f, strcmp(b->kind, "estimate") == 0 ? " (~%s/month, estimate)"
                                                 : " (%s/month)",
            buf);
}

static const struct diff *md_current; /* the diff being rendered */

static void md_finding(FILE *f, const struct diff_finding *x)
{
    static const char *const labels[] = {"Resolved", "Introduced", "Still open",
                                         "Not comparable"};
    const struct finding *k = x->before ? x->before : x->after;
    fprintf(f, "- %s: **%s** `%s`", labels[x->kind], k->severity, k->rule_id);
    if (k->region) {
        fputs(" in ", f);
        out_md(f, k->region);
    }
    if (k->trail_arns) {
        fputs(" (", f);
        md_names(f, k->trail_arns);
        fputs(")", f);
    }
    fputs(": ", f);
    if (x->kind == DIFF_OPEN) {
        fputs("before: ", f);
        out_md(f, x->before->detail);
        fputs("; after: ", f);
        out_md(f, x->after->detail);
    } else {
        out_md(f, k->detail);
        if (x->kind == DIFF_NOT_COMPARABLE)
            fputs(x->before ? " (before only)" : " (after only)", f);
    }
    if (md_current && x->kind == DIFF_RESOLVED && x->before->has_cost)
        md_money(f, &md_current->summary.basis_before,
                 x->before->monthly_cost);
    else if (md_current && x->kind != DIFF_RESOLVED && x->after
             && x->after->has_cost)
        md_money(f, &md_current->summary.basis_after, x->after->monthly_cost);
    fputs("\n", f);
}

/* Findings worth a line: all but those still open with the same detail. */
static int md_findings(FILE *f, const struct diff_finding *items, size_t n)
{
    size_t unchanged = 0;
    int any = 0;
    for (size_t i = 0; i < n; i++) {
        const struct diff_finding *x = &items[i];
        if (x->kind == DIFF_OPEN &&
            strcmp(x->before->detail, x->after->detail) == 0) {
            unchanged++;
            continue;
        }
        md_finding(f, x);
        any = 1;
    }
    if (unchanged)
        fprintf(f, "%s%zu finding(s) still open, unchanged.\n", any ? "\n" : "",
                unchanged);
    return any || unchanged;
}

static void md_trails(FILE *f, const struct diff_account *a)
{
    fputs("\n### Trails\n\n"
          "| Trail | Change | Regions | What changed |\n"
          "| --- | --- | --- | --- |\n",
          f);
    for (size_t i = 0; i < a->n_trails; i++) {
        const struct diff_trail *t = &a->trails[i];
        fputs("| ", f);
        out_md(f, t->name);
        fprintf(f, " | %s | ", t->change);
        if (t->regions_added)
            md_list(f, "+", t->regions_added);
        if (t->regions_added && t->regions_removed)
            fputs(" ", f);
        if (t->regions_removed)
            md_list(f, "-", t->regions_removed);
        fputs(" | ", f);
        for (size_t k = 0; k < t->n_fields; k++) {
            fputs(k ? "; " : "", f);
            out_md(f, t->fields[k].field);
            fputs(": ", f);
            out_md(f, t->fields[k].before);
            fputs(" -> ", f);
            out_md(f, t->fields[k].after);
        }
        fputs(" |\n", f);
    }
}

static void md_regions(FILE *f, const struct diff_account *a)
{
    int header = 0, not_comparable = 0;
    for (size_t i = 0; i < a->n_regions; i++) {
        const struct diff_region *r = &a->regions[i];
        if (!r->comparable) {
            not_comparable = 1;
            continue;
        }
        if (!header)
            fputs("\n### Regions\n\n"
                  "| Region | Read copies | Write copies | Paid copies | "
                  "Data trails | Network trails | Insights | Trails added | "
                  "Trails removed |\n"
                  "| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
                  f);
        header = 1;
        fputs("| ", f);
        out_md(f, r->region);
        fputs(" | ", f);
        md_count(f, r->read_copies);
        fputs(" | ", f);
        md_count(f, r->write_copies);
        fputs(" | ", f);
        md_count(f, r->paid_copies);
        fputs(" | ", f);
        md_count(f, r->data_trails);
        fputs(" | ", f);
        md_count(f, r->network_trails);
        fputs(" | ", f);
        for (size_t k = 0; k < r->n_insights; k++) {
            fputs(k ? "; " : "", f);
            out_md(f, r->insights[k].insight_type);
            fputs(" ", f);
            md_count(f, r->insights[k].trails);
        }
        fputs(" | ", f);
        md_names(f, r->trails_added);
        fputs(" | ", f);
        md_names(f, r->trails_removed);
        fputs(" |\n", f);
    }
    if (!not_comparable)
        return;
    fputs("\nNot comparable:\n\n", f);
    for (size_t i = 0; i < a->n_regions; i++) {
        const struct diff_region *r = &a->regions[i];
        if (r->comparable)
            continue;
        fputs("- ", f);
        out_md(f, r->region);
        fputs(": ", f);
        out_md(f, r->reason);
        fputs("\n", f);
    }
}

int diff_render_markdown(FILE *f, const struct diff *d)
{
    const struct diff_summary *s = &d->summary;
    size_t shown = 0;

    fputs("# CloudTrail diff\n\n", f);
    md_side(f, "Before", &d->before);
    fputs("\n", f);
    md_side(f, "After", &d->after);
    fputs("\n## Summary\n\n"
          "| | Before | After | Change |\n"
          "| --- | ---: | ---: | ---: |\n",
          f);
    md_summary_row(f, "Accounts scanned", s->accounts_scanned);
    md_summary_row(f, "Paid management copies (account-regions)",
                   s->paid_copies);
    md_summary_row(f, "Paid management copies, comparable regions",
                   s->comparable_paid_copies);
    md_summary_row(f, "Trail-regions with data events", s->data_trail_regions);
    md_summary_row(f, "Trail-regions with network activity events",
                   s->network_trail_regions);
    md_summary_row(f, "Trail-regions with Insights (per type)",
                   s->insights_trail_regions);
    md_current = d;
    if (s->basis_before.kind[0] || s->basis_after.kind[0]) {
        char b[64], a[64], c[64];
        const char *cur = s->basis_after.kind[0] ? s->basis_after.currency
                                                 : s->basis_before.currency;
        costs_format(b, sizeof(b), s->monthly_before, cur);
        costs_format(a, sizeof(a), s->monthly_after, cur);
        costs_format(c, sizeof(c), s->monthly_after - s->monthly_before, cur);
        fprintf(f,
                "| Charges beyond the free copy per month (%lld comparable "
                "region(s) with dollars) | %s | %s | %s%s |\n",
                s->monthly_regions, b, a,
                s->monthly_after - s->monthly_before >= 0.005 ? "+" : "", c);
        fprintf(f, "\nDollars: before from %s, after from %s.",
                s->basis_before.kind[0] ? s->basis_before.kind : "nothing",
                s->basis_after.kind[0] ? s->basis_after.kind : "nothing");
        fputs(" The change in charges is the saving; the findings' own "
              "figures overlap (one paid copy can be named by several "
              "rules) and do not add up.\n",
              f);
    } else {
        fputs("\nDollars: neither snapshot has billing data; collect with "
              "`ctcollect --costs`, or estimate with --events-per-month N.\n",
              f);
    }
    fprintf(f,
            "\nFindings: %zu resolved, %zu introduced, %zu still open, %zu "
            "not comparable.\n"
            "Trails: %lld added, %lld removed, %lld changed.\n"
            "Not comparable: %lld account(s), %lld region(s).\n",
            s->findings[DIFF_RESOLVED], s->findings[DIFF_INTRODUCED],
            s->findings[DIFF_OPEN], s->findings[DIFF_NOT_COMPARABLE],
            s->trails_added, s->trails_removed, s->trails_changed,
            s->accounts_not_comparable, s->regions_not_comparable);
    if (d->n_global) {
        fputs("\n## Whole snapshot\n\n", f);
        md_findings(f, d->global, d->n_global);
    }
    for (size_t i = 0; i < d->n_accounts; i++) {
        const struct diff_account *a = &d->accounts[i];
        if (!diff_account_changed(a))
            continue;
        shown++;
        fputs("\n## ", f);
        out_md(f, a->name);
        fputs(" (", f);
        out_md(f, a->account_id);
        fputs(")\n", f);
        if (!a->comparable) {
            fputs("\nNot comparable: ", f);
            out_md(f, a->reason);
            fputs(".\n", f);
        }
        if (a->n_trails)
            md_trails(f, a);
        if (a->n_regions)
            md_regions(f, a);
        if (a->n_findings) {
            fputs("\n### Findings\n\n", f);
            md_findings(f, a->findings, a->n_findings);
        }
    }
    if (!shown)
        fputs("\nNo account changed.\n", f);
    return ferror(f) ? -1 : 0;
}

/* ---- JSON ---------------------------------------------------------------- */

static json_t *jcount(struct diff_count c)
{
    json_t *o = json_object();
    json_object_set_new(o, "before", out_json_num(c.before));
    json_object_set_new(o, "after", out_json_num(c.after));
    return o;
}

/* A space-separated list as an array of strings ([] for NULL). */
static json_t *jlist(const char *list)
{
    json_t *a = json_array();
    const char *p = list;
    while (p && *p) {
        const char *e = strchr(p, ' ');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        json_array_append_new(a, out_json_strn(p, n));
        p += n;
        while (*p == ' ')
            p++;
    }
    return a;
}

static json_t *side_json(const struct diff_side *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "label", out_json_str(s->label));
    json_object_set_new(o, "input", out_json_str(s->input));
    json_object_set_new(
        o, "input_kind",
        json_string(s->source_snapshot_id ? "database" : "snapshot"));
    json_object_set_new(o, "snapshot_id",
                        s->source_snapshot_id
                            ? json_integer(s->source_snapshot_id)
                            : json_null());
    json_object_set_new(o, "started_at", out_json_str(s->started_at));
    json_object_set_new(o, "complete",
                        s->complete < 0 ? json_null()
                                        : json_boolean(s->complete));
    return o;
}

static json_t *finding_side(const struct finding *x)
{
    json_t *o;
    if (!x)
        return json_null();
    o = json_object();
    json_object_set_new(o, "detail", out_json_str(x->detail));
    json_object_set_new(o, "read_copies", out_json_num(x->read_copies));
    json_object_set_new(o, "write_copies", out_json_num(x->write_copies));
    json_object_set_new(o, "paid_copies", out_json_num(x->paid_copies));
    json_object_set_new(o, "monthly_cost",
                        x->has_cost ? json_real(llround(x->monthly_cost * 100)
                                                / 100.0)
                                    : json_null());
    return o;
}

static json_t *finding_json(const struct diff_finding *x)
{
    const struct finding *k = x->before ? x->before : x->after;
    json_t *o = json_object();
    json_object_set_new(o, "kind", json_string(diff_kind_name(x->kind)));
    json_object_set_new(o, "rule_id", out_json_str(k->rule_id));
    json_object_set_new(o, "title", out_json_str(k->rule ? k->rule->title : NULL));
    json_object_set_new(o, "severity", out_json_str(k->severity));
    json_object_set_new(o, "account_id", out_json_str(k->account_id));
    json_object_set_new(o, "region", out_json_str(k->region));
    json_object_set_new(o, "trail_arns", jlist(k->trail_arns));
    json_object_set_new(o, "before", finding_side(x->before));
    json_object_set_new(o, "after", finding_side(x->after));
    return o;
}

static json_t *region_json(const struct diff_region *r)
{
    json_t *o = json_object(), *ins = json_object();
    json_object_set_new(o, "region", out_json_str(r->region));
    json_object_set_new(o, "comparable", json_boolean(r->comparable));
    json_object_set_new(o, "reason", out_json_str(r->reason));
    json_object_set_new(o, "scan_state_before", out_json_str(r->state_before));
    json_object_set_new(o, "scan_state_after", out_json_str(r->state_after));
    json_object_set_new(o, "read_copies", jcount(r->read_copies));
    json_object_set_new(o, "write_copies", jcount(r->write_copies));
    json_object_set_new(o, "paid_copies", jcount(r->paid_copies));
    json_object_set_new(o, "data_trails", jcount(r->data_trails));
    json_object_set_new(o, "network_trails", jcount(r->network_trails));
    json_object_set_new(o, "unknown_trails", jcount(r->unknown_trails));
    for (size_t i = 0; i < r->n_insights; i++)
        json_object_set_new(ins, r->insights[i].insight_type,
                            jcount(r->insights[i].trails));
    json_object_set_new(o, "insights_trails", ins);
    json_object_set_new(o, "trails_added", jlist(r->trails_added));
    json_object_set_new(o, "trails_removed", jlist(r->trails_removed));
    return o;
}

static json_t *trail_json(const struct diff_trail *t)
{
    json_t *o = json_object(), *fields = json_array();
    json_object_set_new(o, "trail_arn", out_json_str(t->trail_arn));
    json_object_set_new(o, "name", out_json_str(t->name));
    json_object_set_new(o, "change", out_json_str(t->change));
    json_object_set_new(o, "regions_before", json_integer(t->regions_before));
    json_object_set_new(o, "regions_after", json_integer(t->regions_after));
    json_object_set_new(o, "regions_added", jlist(t->regions_added));
    json_object_set_new(o, "regions_removed", jlist(t->regions_removed));
    for (size_t i = 0; i < t->n_fields; i++) {
        json_t *x = json_object();
        json_object_set_new(x, "field", out_json_str(t->fields[i].field));
        json_object_set_new(x, "before", out_json_str(t->fields[i].before));
        json_object_set_new(x, "after", out_json_str(t->fields[i].after));
        json_array_append_new(fields, x);
    }
    json_object_set_new(o, "fields", fields);
    return o;
}

static json_t *kinds_json(const size_t *n)
{
    json_t *o = json_object();
    for (int k = 0; k < DIFF_N_KINDS; k++)
        json_object_set_new(o, diff_kind_name((enum diff_kind)k),
                            json_integer((json_int_t)n[k]));
    return o;
}

static json_t *account_json(const struct diff_account *a)
{
    json_t *o = json_object(), *regions = json_array(), *trails = json_array();
    json_t *findings = json_array();
    json_object_set_new(o, "account_id", out_json_str(a->account_id));
    json_object_set_new(o, "name", out_json_str(a->name));
    json_object_set_new(o, "comparable", json_boolean(a->comparable));
    json_object_set_new(o, "reason", out_json_str(a->reason));
    json_object_set_new(o, "scan_status_before", out_json_str(a->status_before));
    json_object_set_new(o, "scan_status_after", out_json_str(a->status_after));
    for (size_t i = 0; i < a->n_regions; i++)
        json_array_append_new(regions, region_json(&a->regions[i]));
    for (size_t i = 0; i < a->n_trails; i++)
        json_array_append_new(trails, trail_json(&a->trails[i]));
    for (size_t i = 0; i < a->n_findings; i++)
        json_array_append_new(findings, finding_json(&a->findings[i]));
    json_object_set_new(o, "regions", regions);
    json_object_set_new(o, "trails", trails);
    json_object_set_new(o, "findings", findings);
    json_object_set_new(o, "finding_counts", kinds_json(a->n_by_kind));
    return o;
}

static int dump(FILE *f, json_t *v)
{
    int rc =
        v ? json_dumpf(v, f, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII)
          : -1;
    json_decref(v);
    return rc;
}

/* Streams one account at a time: memory stays bounded by one account. */
int diff_render_json(FILE *f, const struct diff *d)
{
    const struct diff_summary *s = &d->summary;
    json_t *global = json_array(), *sum = json_object(), *trails;
    int first = 1;

    fputs("{\"accounts\":[", f);
    for (size_t i = 0; i < d->n_accounts; i++) {
        const struct diff_account *a = &d->accounts[i];
        if (!diff_account_changed(a) && !a->n_findings)
            continue;
        fputs(first ? "\n" : ",\n", f);
        first = 0;
        if (dump(f, account_json(a)))
            goto fail;
    }
    fputs("\n],\n\"after\":", f);
    if (dump(f, side_json(&d->after)))
        goto fail;
    fputs(",\n\"before\":", f);
    if (dump(f, side_json(&d->before)))
        goto fail;
    fputs(",\n\"findings\":", f);
    for (size_t i = 0; i < d->n_global; i++)
        json_array_append_new(global, finding_json(&d->global[i]));
    if (dump(f, global)) {
        global = NULL;
        goto fail;
    }
    global = NULL;
    fprintf(f, ",\n\"schema_version\":%d,\n\"summary\":", DIFF_SCHEMA_VERSION);
    json_object_set_new(sum, "accounts_scanned", jcount(s->accounts_scanned));
    json_object_set_new(sum, "accounts_not_comparable",
                        json_integer(s->accounts_not_comparable));
    json_object_set_new(sum, "regions_not_comparable",
                        json_integer(s->regions_not_comparable));
    json_object_set_new(sum, "paid_copies", jcount(s->paid_copies));
    json_object_set_new(sum, "comparable_paid_copies",
                        jcount(s->comparable_paid_copies));
    json_object_set_new(sum, "data_trail_regions",
                        jcount(s->data_trail_regions));
    json_object_set_new(sum, "network_trail_regions",
                        jcount(s->network_trail_regions));
    json_object_set_new(sum, "insights_trail_regions",
                        jcount(s->insights_trail_regions));
    trails = json_object();
    json_object_set_new(trails, "added", json_integer(s->trails_added));
    json_object_set_new(trails, "removed", json_integer(s->trails_removed));
    json_object_set_new(trails, "changed", json_integer(s->trails_changed));
    json_object_set_new(sum, "trails", trails);
    json_object_set_new(sum, "findings", kinds_json(s->findings));
    json_t *costs = json_object();
    json_object_set_new(costs, "basis_before",
                        s->basis_before.kind[0] ? json_string(s->basis_before.kind)
                                                : json_null());
    json_object_set_new(costs, "basis_after",
                        s->basis_after.kind[0] ? json_string(s->basis_after.kind)
                                               : json_null());
    json_object_set_new(costs, "currency",
                        json_string(s->basis_after.kind[0]
                                        ? s->basis_after.currency
                                        : s->basis_before.currency));
    int priced = s->basis_before.kind[0] || s->basis_after.kind[0];
    json_object_set_new(costs, "comparable_regions",
                        json_integer(s->monthly_regions));
    json_object_set_new(costs, "monthly_before",
                        priced ? json_real(llround(s->monthly_before * 100)
                                           / 100.0)
                               : json_null());
    json_object_set_new(costs, "monthly_after",
                        priced ? json_real(llround(s->monthly_after * 100)
                                           / 100.0)
                               : json_null());
    json_object_set_new(sum, "costs", costs);
    if (dump(f, sum))
        return -1;
    fputs("\n}\n", f);
    return ferror(f) ? -1 : 0;
fail:
    json_decref(global);
    json_decref(sum);
    return -1;
}
