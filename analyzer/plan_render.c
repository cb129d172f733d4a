/*
 * Plan renderers: Markdown (for review), JSON (the machine contract,
 * schema/PLAN.md) and a POSIX shell script whose commands are commented
 * out. Every value inside a command is single-quoted; text from the
 * snapshot is escaped for Markdown and made one line in shell comments.
 */
#include "analyzer/plan.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "analyzer/output.h"

#include "analyzer/costs.h"

void plan_sh_quote(FILE *f, const char *s, int one_line)
{
    fputc('\'', f);
    for (; s && *s; s++) {
        if (*s == '\'')
            fputs("'\\''", f);
        else if (*s == '\n' && one_line)
            fputs("'\"$nl\"'", f);
        else
            fputc(*s, f);
    }
    fputc('\'', f);
}

/* "aws ARGV..." with every argument quoted; options are quoted too (they
 * are plain words, quoting them changes nothing). */
static void sh_command(FILE *f, const struct plan_command *c, int one_line)
{
    fputs("aws", f);
    for (size_t i = 0; i < c->n_argv; i++) {
        fputc(' ', f);
        const char *a = c->argv[i];
        int plain = a[0] != '\0';
        for (const char *p = a; *p; p++)
            if (!strchr("abcdefghijklmnopqrstuvwxyz-", *p))
                plain = 0;
        if (plain)
            fputs(a, f);
        else
            plan_sh_quote(f, a, one_line);
    }
}

/* One line of text for a shell comment: control characters become '?'. */
static void comment_text(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        fputc(c < 0x20 || c == 0x7f ? '?' : c, f);
    }
}

/* ---- Markdown ------------------------------------------------------------ */


/* A fenced code block longer than any run of backticks in the command. */
static void md_code(FILE *f, const struct plan_command *c)
{
    size_t longest = 0;
    for (size_t i = 0; i < c->n_argv; i++) {
        size_t run = 0;
        for (const char *p = c->argv[i]; *p; p++) {
            run = *p == '`' ? run + 1 : 0;
            if (run > longest)
                longest = run;
        }
    }
    size_t fence = longest < 3 ? 3 : longest + 1;
    for (size_t i = 0; i < fence; i++)
        fputc('`', f);
    fputs("sh\n", f);
    sh_command(f, c, 0);
    fputc('\n', f);
    for (size_t i = 0; i < fence; i++)
        fputc('`', f);
    fputc('\n', f);
}

static void effect_stops(FILE *f, const struct plan_effect *e, int markdown)
{
    int n = 0;
    if (e->paid_reads_removed)
        fprintf(f, "%spaid read copy", n++ ? ", " : "");
    if (e->paid_writes_removed)
        fprintf(f, "%spaid write copy", n++ ? ", " : "");
    if (e->data_types) {
        fprintf(f, "%sdata events (", n++ ? ", " : "");
        if (markdown)
            out_md(f, e->data_types);
        else
            comment_text(f, e->data_types);
        fputc(')', f);
    }
    if (e->network)
        fprintf(f, "%snetwork activity events", n++ ? ", " : "");
    if (e->insights) {
        fprintf(f, "%sInsights (", n++ ? ", " : "");
        if (markdown)
            out_md(f, e->insights);
        else
            comment_text(f, e->insights);
        fputc(')', f);
    }
    if (!n)
        fputs("nothing charged", f);
}

/* "N paid management copies removed in R region(s); ..." */
static void step_effect_line(FILE *f, const struct plan_step *s)
{
    size_t regions = 0;
    int n = 0;
    for (size_t i = 0; i < s->n_effects; i++)
        regions += s->effects[i].paid_reads_removed ||
                   s->effects[i].paid_writes_removed;
    if (s->paid_mgmt_copies)
        fprintf(f,
                "%s%ld paid management cop%s (reads and writes counted "
                "apart) removed in %zu region(s)",
                n++ ? "; " : "", s->paid_mgmt_copies,
                s->paid_mgmt_copies == 1 ? "y" : "ies", regions);
    if (s->data_charges)
        fprintf(f,
                "%sdata events stop being charged on this trail in %ld "
                "region(s)",
                n++ ? "; " : "", s->data_charges);
    if (s->network_charges)
        fprintf(f,
                "%snetwork activity events stop being charged on this "
                "trail in %ld region(s)",
                n++ ? "; " : "", s->network_charges);
    if (s->insights_charges)
        fprintf(f,
                "%sInsights stop being charged on this trail (%ld "
                "type-region(s))",
                n++ ? "; " : "", s->insights_charges);
    if (!n)
        fputs("nothing charged", f);
}

static void md_findings(FILE *f, const struct plan_step *s)
{
    /* grouped by rule and account: the regions listed */
    for (size_t i = 0; i < s->n_findings; i++) {
        const struct plan_finding *x = &s->findings[i];
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(s->findings[j].rule_id, x->rule_id) == 0 &&
                   strcmp(s->findings[j].account_id, x->account_id) == 0;
        if (seen)
            continue;
        fputs("  - ", f);
        out_md(f, x->rule_id);
        fputs(", account ", f);
        out_md(f, x->account_id);
        fputs(": ", f);
        int n = 0;
        for (size_t j = i; j < s->n_findings; j++)
            if (strcmp(s->findings[j].rule_id, x->rule_id) == 0 &&
                strcmp(s->findings[j].account_id, x->account_id) == 0) {
                int dup = 0;
                for (size_t k = i; k < j && !dup; k++)
                    dup =
                        strcmp(s->findings[k].rule_id, x->rule_id) == 0 &&
                        strcmp(s->findings[k].account_id, x->account_id) == 0 &&
                        strcmp(s->findings[k].region, s->findings[j].region) ==
                            0;
                if (dup)
                    continue;
                if (n++)
                    fputs(", ", f);
                out_md(f, s->findings[j].region);
            }
        fputc('\n', f);
    }
}

/* "$12.34", "$12.34 (parts unknown)" or "unknown" */
static void money(FILE *f, const struct plan *p, double v, int known,
                  int partial)
{
    char buf[64];
    if (!p->basis || !known) {
        fputs(partial || !p->basis ? "unknown" : "nothing", f);
        return;
    }
    costs_format(buf, sizeof(buf), v, p->currency);
    fprintf(f, "%s%s%s", strcmp(p->basis, "estimate") == 0 ? "~" : "", buf,
            partial ? " (some parts unknown)" : "");
}

static void savings_line(FILE *f, const struct plan *p)
{
    char buf[64];
    fputs("Estimated monthly savings: ", f);
    if (!p->basis) {
        fputs(p->savings, f);
        return;
    }
    money(f, p, p->total_saving, 1, p->saving_partial);
    costs_format(buf, sizeof(buf), p->paid_usage, p->currency);
    fprintf(f, " (basis: %s; paid today beyond the free copies: %s)",
            strcmp(p->basis, "billing") == 0
                ? "billing, Cost Explorer data of the snapshot"
                : "estimate from --events-per-month or --volumes and the "
                  "prices",
            buf);
}

static void totals(FILE *f, const struct plan *p)
{
    long paid = 0, data = 0, net = 0, ins = 0;
    for (size_t i = 0; i < p->n_steps; i++) {
        paid += p->steps[i].paid_mgmt_copies;
        data += p->steps[i].data_charges;
        net += p->steps[i].network_charges;
        ins += p->steps[i].insights_charges;
    }
    fprintf(f,
            "%zu step(s): %ld paid management cop%s removed; data events "
            "stop on %ld trail-region(s), network activity events on %ld, "
            "Insights on %ld type-region(s)",
            p->n_steps, paid, paid == 1 ? "y" : "ies", data, net, ins);
}

static size_t gaps_caused(const struct plan *p)
{
    size_t n = 0;
    for (size_t i = 0; i < p->n_gaps; i++)
        n += !p->gaps[i].preexisting;
    return n;
}

static int same_gap_group(const struct plan_gap *a, const struct plan_gap *b)
{
    return a->preexisting == b->preexisting &&
           strcmp(a->account_id, b->account_id) == 0 &&
           strcmp(a->detail, b->detail) == 0;
}

/* One line per (account, detail, cause), the regions listed. */
static void gap_groups(FILE *f, const struct plan *p, int markdown)
{
    void (*text)(FILE *, const char *) = markdown ? out_md : comment_text;
    for (size_t i = 0; i < p->n_gaps; i++) {
        const struct plan_gap *g = &p->gaps[i];
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = same_gap_group(&p->gaps[j], g);
        if (seen)
            continue;
        fputs(markdown ? "- account " : "#   account ", f);
        text(f, g->account_id);
        fputs(": ", f);
        text(f, g->detail);
        fputs(g->preexisting ? " (already in the snapshot) in "
                             : " (CAUSED BY THE PLAN) in ",
              f);
        int n = 0;
        for (size_t j = i; j < p->n_gaps; j++)
            if (same_gap_group(&p->gaps[j], g)) {
                fputs(n++ ? ", " : "", f);
                text(f, p->gaps[j].region);
            }
        fputc('\n', f);
    }
}

int plan_render_markdown(FILE *f, const struct plan *p)
{
    fputs("# CloudTrail remediation plan\n\n", f);
    fputs("Snapshot: ", f);
    out_md(f, p->label);
    fprintf(f,
            " (snapshot %lld). Nothing below has been run. Run the "
            "steps in order (each assumes the ones before), each with "
            "credentials of the account it names.\n\n",
            p->snapshot_id);
    totals(f, p);
    fputs(".\n\n", f);
    savings_line(f, p);
    fputs(".\n", f);
    for (size_t i = 0; i < p->n_steps; i++) {
        const struct plan_step *s = &p->steps[i];
        fprintf(f, "\n## Step %d: ", s->number);
        out_md(f, s->summary);
        fputs("\n\n- Trail: ", f);
        out_md(f, s->trail_arn);
        fputs("\n- Run in: account ", f);
        out_md(f, s->account_id);
        fputs(", region ", f);
        out_md(f, s->home_region);
        fputs("\n- Effect: ", f);
        step_effect_line(f, s);
        fputs("\n- Estimated monthly saving: ", f);
        money(f, p, s->saving, s->saving_known, s->saving_partial);
        fputs("\n", f);
        fputs("- Compliance: ", f);
        if (s->compliance) {
            fputs("**FLAG** ", f);
            out_md(f, s->compliance);
        } else {
            fputs("no change", f);
        }
        fputs("\n", f);
        if (s->n_findings) {
            fputs("- Findings addressed:\n", f);
            md_findings(f, s);
        }
        fputs("\n", f);
        md_code(f, &s->command);
        if (s->alternative.n_argv) {
            fputs("\nAlternative, irreversible (once the stop has shown "
                  "nothing is missed): delete the trail.\n\n",
                  f);
            md_code(f, &s->alternative);
        }
        fputs("\n| Account | Region | Read copies | Write copies | Stops "
              "being charged |\n| --- | --- | --- | --- | --- |\n",
              f);
        for (size_t j = 0; j < s->n_effects; j++) {
            const struct plan_effect *e = &s->effects[j];
            fputs("| ", f);
            out_md(f, e->account_id);
            fputs(" | ", f);
            out_md(f, e->region);
            fprintf(f, " | %d -> %d | %d -> %d | ", e->reads_before,
                    e->reads_after, e->writes_before, e->writes_after);
            effect_stops(f, e, 1);
            fputs(" |\n", f);
        }
    }
    if (p->n_skips) {
        fputs("\n## Not planned\n\n", f);
        for (size_t i = 0; i < p->n_skips; i++) {
            fputs("- ", f);
            out_md(f, p->skips[i].trail_arn);
            fputs(" (account ", f);
            out_md(f, p->skips[i].account_id);
            fputs("): ", f);
            out_md(f, p->skips[i].reason);
            fputc('\n', f);
        }
    }
    fputs("\n## Coverage after the plan\n\n", f);
    if (!p->n_gaps) {
        fputs("Coverage after the plan: no gaps\n", f);
    } else {
        fprintf(f,
                "Coverage after the plan: %zu gap(s), %zu caused by the "
                "plan\n\n",
                p->n_gaps, gaps_caused(p));
        gap_groups(f, p, 1);
    }
    return ferror(f) ? -1 : 0;
}

/* ---- JSON ---------------------------------------------------------------- */

/* a "x, y" list as an array */
static json_t *jlist(const char *s)
{
    json_t *a = json_array();
    while (s && *s) {
        const char *e = strstr(s, ", ");
        size_t len = e ? (size_t)(e - s) : strlen(s);
        json_array_append_new(a, out_json_strn(s, len));
        s = e ? e + 2 : s + len;
    }
    return a;
}

static json_t *command_json(const struct plan_command *c)
{
    json_t *o = json_object(), *argv = json_array();
    char *buf = NULL;
    size_t len = 0;
    FILE *mf = open_memstream(&buf, &len);
    json_array_append_new(argv, json_string("aws"));
    for (size_t i = 0; i < c->n_argv; i++)
        json_array_append_new(argv, out_json_str(c->argv[i]));
    json_object_set_new(o, "argv", argv);
    if (mf) {
        sh_command(mf, c, 0);
        fclose(mf);
        json_object_set_new(o, "shell", out_json_strn(buf, len));
    }
    free(buf);
    return o;
}

int plan_render_json(FILE *f, const struct plan *p)
{
    json_t *root = json_object(), *steps = json_array(), *skips = json_array();
    json_t *gaps = json_array(), *snap = json_object(), *sav = json_object();
    json_t *cov = json_object();
    json_object_set_new(root, "schema_version",
                        json_integer(PLAN_SCHEMA_VERSION));
    json_object_set_new(snap, "snapshot_id", json_integer(p->snapshot_id));
    json_object_set_new(snap, "label", out_json_str(p->label));
    json_object_set_new(root, "snapshot", snap);
    json_object_set_new(root, "planned_snapshot_id",
                        json_integer(p->planned_id));
    json_object_set_new(sav, "basis", out_json_str(p->basis));
    json_object_set_new(sav, "currency", out_json_str(p->currency));
    json_object_set_new(sav, "total_monthly",
                        p->basis ? json_real(p->total_saving) : json_null());
    json_object_set_new(sav, "paid_usage_monthly",
                        p->basis ? json_real(p->paid_usage) : json_null());
    json_object_set_new(sav, "partial", json_boolean(p->saving_partial));
    json_object_set_new(sav, "note", p->basis ? json_null() : out_json_str(p->savings));
    json_object_set_new(root, "savings", sav);
    for (size_t i = 0; i < p->n_steps; i++) {
        const struct plan_step *s = &p->steps[i];
        json_t *o = json_object(), *effects = json_array();
        json_t *findings = json_array();
        json_object_set_new(o, "number", json_integer(s->number));
        json_object_set_new(o, "action", out_json_str(s->action));
        json_object_set_new(o, "summary", out_json_str(s->summary));
        json_object_set_new(o, "trail_arn", out_json_str(s->trail_arn));
        json_object_set_new(o, "trail_name", out_json_str(s->trail_name));
        json_object_set_new(o, "account_id", out_json_str(s->account_id));
        json_object_set_new(o, "region", out_json_str(s->home_region));
        json_object_set_new(o, "organization_trail",
                            json_boolean(s->is_organization_trail));
        json_object_set_new(o, "command", command_json(&s->command));
        json_object_set_new(o, "alternative",
                            s->alternative.n_argv
                                ? command_json(&s->alternative)
                                : json_null());
        json_object_set_new(o, "compliance", out_json_str(s->compliance));
        json_object_set_new(o, "paid_management_copies_removed",
                            json_integer(s->paid_mgmt_copies));
        json_object_set_new(o, "data_charges_stopped",
                            json_integer(s->data_charges));
        json_object_set_new(o, "network_charges_stopped",
                            json_integer(s->network_charges));
        json_object_set_new(o, "insights_charges_stopped",
                            json_integer(s->insights_charges));
        json_object_set_new(o, "estimated_monthly_saving",
                            p->basis && s->saving_known ? json_real(s->saving)
                                                        : json_null());
        json_object_set_new(o, "saving_partial",
                            json_boolean(s->saving_partial));
        for (size_t j = 0; j < s->n_effects; j++) {
            const struct plan_effect *e = &s->effects[j];
            json_t *x = json_object();
            json_object_set_new(x, "account_id", out_json_str(e->account_id));
            json_object_set_new(x, "region", out_json_str(e->region));
            json_object_set_new(x, "read_copies_before",
                                json_integer(e->reads_before));
            json_object_set_new(x, "read_copies_after",
                                json_integer(e->reads_after));
            json_object_set_new(x, "write_copies_before",
                                json_integer(e->writes_before));
            json_object_set_new(x, "write_copies_after",
                                json_integer(e->writes_after));
            json_object_set_new(x, "paid_read_copy_removed",
                                json_boolean(e->paid_reads_removed));
            json_object_set_new(x, "paid_write_copy_removed",
                                json_boolean(e->paid_writes_removed));
            json_object_set_new(x, "data_types_stopped", jlist(e->data_types));
            json_object_set_new(x, "network_stopped", json_boolean(e->network));
            json_object_set_new(x, "insights_types_stopped",
                                jlist(e->insights));
            json_array_append_new(effects, x);
        }
        json_object_set_new(o, "effects", effects);
        for (size_t j = 0; j < s->n_findings; j++) {
            const struct plan_finding *x = &s->findings[j];
            json_t *fo = json_object();
            json_object_set_new(fo, "rule_id", out_json_str(x->rule_id));
            json_object_set_new(fo, "account_id", out_json_str(x->account_id));
            json_object_set_new(fo, "region", out_json_str(x->region));
            json_object_set_new(fo, "trail_arns", out_json_str(x->trail_arns));
            json_object_set_new(fo, "detail", out_json_str(x->detail));
            json_array_append_new(findings, fo);
        }
        json_object_set_new(o, "findings", findings);
        json_array_append_new(steps, o);
    }
    json_object_set_new(root, "steps", steps);
    for (size_t i = 0; i < p->n_skips; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "trail_arn", out_json_str(p->skips[i].trail_arn));
        json_object_set_new(o, "account_id", out_json_str(p->skips[i].account_id));
        json_object_set_new(o, "reason", out_json_str(p->skips[i].reason));
        json_array_append_new(skips, o);
    }
    json_object_set_new(root, "not_planned", skips);
    for (size_t i = 0; i < p->n_gaps; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "account_id", out_json_str(p->gaps[i].account_id));
        json_object_set_new(o, "region", out_json_str(p->gaps[i].region));
        json_object_set_new(o, "detail", out_json_str(p->gaps[i].detail));
        json_object_set_new(o, "preexisting",
                            json_boolean(p->gaps[i].preexisting));
        json_array_append_new(gaps, o);
    }
    json_object_set_new(cov, "gaps", gaps);
    json_object_set_new(cov, "caused_by_plan",
                        json_integer((json_int_t)gaps_caused(p)));
    json_object_set_new(root, "coverage_after", cov);

    int rc = json_dumpf(root, f,
                        JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENSURE_ASCII |
                            JSON_REAL_PRECISION(12));
    fputc('\n', f);
    json_decref(root);
    return rc || ferror(f) ? -1 : 0;
}

/* ---- shell -----------------------------------------------------------------
 */

int plan_render_sh(FILE *f, const struct plan *p)
{
    fputs("#!/bin/sh\n# ctaudit plan for snapshot ", f);
    comment_text(f, p->label);
    fputs(".\n# Nothing here has been run, and every command is commented "
          "out: review each\n# step, then remove the '# ' in front of "
          "'aws' on the lines to run, and run\n# them in order, each with "
          "credentials of the account it names.\n# ",
          f);
    totals(f, p);
    fputs(".\n# ", f);
    savings_line(f, p);
    fprintf(f, ".\n# Coverage after the plan: %s\n",
            p->n_gaps ? "see the gaps listed at the end" : "no gaps");
    fputs("set -eu\n# nl is a newline, for names that contain one\nnl='\n'\n",
          f);
    for (size_t i = 0; i < p->n_steps; i++) {
        const struct plan_step *s = &p->steps[i];
        fprintf(f, "\n# Step %d: ", s->number);
        comment_text(f, s->summary);
        fputs("\n# Run in account ", f);
        comment_text(f, s->account_id);
        fputs(", region ", f);
        comment_text(f, s->home_region);
        fputs("\n", f);
        for (size_t j = 0; j < s->n_findings; j++) {
            fputs("# Finding: ", f);
            comment_text(f, s->findings[j].rule_id);
            fputc(' ', f);
            comment_text(f, s->findings[j].account_id);
            fputc(' ', f);
            comment_text(f, s->findings[j].region);
            fputs(": ", f);
            comment_text(f, s->findings[j].detail);
            fputc('\n', f);
        }
        fputs("# Effect: ", f);
        step_effect_line(f, s);
        fputs("\n# Estimated monthly saving: ", f);
        money(f, p, s->saving, s->saving_known, s->saving_partial);
        fputs("\n# Compliance: ", f);
        if (s->compliance) {
            fputs("FLAG: ", f);
            comment_text(f, s->compliance);
        } else {
            fputs("no change", f);
        }
        fputc('\n', f);
        if (s->alternative.n_argv) {
            fputs("# Alternative, irreversible: ", f);
            sh_command(f, &s->alternative, 1);
            fputc('\n', f);
        }
        fputs("# ", f);
        sh_command(f, &s->command, 1);
        fputc('\n', f);
    }
    if (p->n_skips) {
        fputs("\n# Not planned:\n", f);
        for (size_t i = 0; i < p->n_skips; i++) {
            fputs("#   ", f);
            comment_text(f, p->skips[i].trail_arn);
            fputs(": ", f);
            comment_text(f, p->skips[i].reason);
            fputc('\n', f);
        }
    }
    fputs("\n# Coverage after the plan: ", f);
    if (!p->n_gaps)
        fputs("no gaps\n", f);
    else
        fprintf(f, "%zu gap(s), %zu caused by the plan\n", p->n_gaps,
                gaps_caused(p));
    gap_groups(f, p, 0);
    return ferror(f) ? -1 : 0;
}
