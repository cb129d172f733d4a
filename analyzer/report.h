/*
 * The report model: everything `ctaudit report` prints, computed once from
 * the database and the rules. The renderers (Markdown, JSON, CSV) consume
 * this model and never query.
 */
#ifndef CT_ANALYZER_REPORT_H
#define CT_ANALYZER_REPORT_H

#include <stdio.h>

#include <sqlite3.h>

#include "analyzer/costs.h"
#include "analyzer/rules.h"
#include "core/error.h"

#define REPORT_SCHEMA_VERSION 1

/* A trail as seen from one account and region (a row of the table). */
struct trail_row {
    /* interned in report.strings */
    const char *region, *name, *trail_arn, *home_region, *logging, *selectors;
    int multi, org, shadow, listed;
    int reads, writes;           /* 1, 0, or -1 unknown */
    int data, insights, network; /* 1, 0, or -1 unknown */
};

struct region_line {
    const char *region, *scan_state; /* interned in report.strings */
    int trails, active, read_copies, write_copies, unknown_trails;
    int data, insights, network; /* an active trail delivers them */
    double monthly;              /* charges beyond the free copy */
    int has_monthly;             /* 0: unknown (no basis for dollars) */
};

struct account_report {
    char *account_id, *name, *scan_status, *scan_reason, *probable_causes;
    char *error_code;
    struct trail_row *rows;
    size_t n_rows, cap_rows;
    struct region_line *regions;
    size_t n_regions, cap_regions;
    struct finding **findings; /* borrowed from report.findings */
    size_t n_findings;
    char *status;              /* the article's summary phrase */
    double monthly;            /* sum of the known region charges */
    int monthly_regions, unknown_regions; /* regions with/without dollars */
    int cost_warning;
    int n_trails;
};

struct report {
    long long snapshot_id;
    char *label, *started_at, *collector;
    int has_manifest, verified, complete; /* complete: -1 unknown */
    struct account_report *accounts;     /* in ListAccounts order */
    size_t n_accounts;
    struct account_report **by_id;       /* the same, sorted by id */
    struct finding_list findings;        /* all, sorted */
    struct finding **global;             /* findings without an account */
    size_t n_global;
    int scanned, skipped, with_cost_warnings;
    struct cost_basis costs;             /* what the dollars rest on */
    double monthly;                      /* all accounts' known charges */
    int monthly_regions, unknown_regions;
    int n_warning, n_info;
    struct strmap strings;               /* owns the rows' strings */
    const char *recent[16];              /* last interned, per column */
};

struct report_options {
    long long snapshot_id;     /* 0: the newest snapshot of the database */
    const char *const *accounts; /* --account filter, NULL-terminated, may be NULL */
    /* a second connection to the same data, under the guard, or NULL: the
     * rules then run on both connections at once (rules_start) */
    sqlite3 *db2;
    /* the rules' batch, made by the caller (rules_prepare), maybe with
     * some rules started early (rules_start_early); NULL: report_build makes
     * one. report_build launches and finishes it either way. */
    struct rules_batch *batch;
};

/* The snapshot report_build reports on (opt->snapshot_id, else the newest
 * of the database). */
int report_snapshot_id(sqlite3 *db, const struct report_options *opt,
                       long long *out, struct ct_error *err);

/* Builds the report. db must be under the read-only guard. */
int report_build(struct report *out, sqlite3 *db, const struct rule_set *rules,
                 const struct report_options *opt, struct ct_error *err);
void report_release(struct report *r);

/* The highest severity rank among the report's findings (rules.h). */
int report_max_severity(const struct report *r);

int report_render_markdown(FILE *f, const struct report *r, int findings_only);
int report_render_json(FILE *f, const struct report *r, int findings_only);
int report_render_csv(FILE *f, const struct report *r);

/* The account with this id, or NULL (outside --account, or NULL id). */
const struct account_report *report_find_account(const struct report *r,
                                                 const char *account_id);

/* Trail name of an ARN (after "trail/"); borrowed from arn. */
const char *report_trail_name(const char *arn);

#endif
