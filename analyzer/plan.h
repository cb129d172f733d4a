/*
 * The remediation plan (`ctaudit plan`): steps that remove paid copies of
 * CloudTrail events, chosen and checked in SQL against a *planned* copy of
 * the snapshot (a second snapshot_id, one private database per account),
 * so that every effect and every safety verdict is computed by the same
 * views as the report. The renderers (Markdown, JSON, shell) consume this model and
 * never query.
 */
#ifndef CT_ANALYZER_PLAN_H
#define CT_ANALYZER_PLAN_H

#include <stddef.h>
#include <stdio.h>

#include <sqlite3.h>

#include "analyzer/rules.h"
#include "core/error.h"

#define PLAN_SCHEMA_VERSION 1

/* What one step changes in one (account, region) the trail covers. */
struct plan_effect {
    const char *account_id, *region;
    int reads_before, reads_after, writes_before, writes_after;
    int paid_reads_removed, paid_writes_removed; /* 1: a paid copy stops */
    const char *data_types; /* data resource types that stop, or NULL */
    int network;            /* network activity events stop */
    const char *insights;   /* Insights types that stop, or NULL */
    double saving;          /* monthly, the known parts */
    int saving_known;       /* some part has a dollar basis */
    int saving_unknown;     /* some part has none */
};

/* A finding of the snapshot that the step addresses. */
struct plan_finding {
    const char *rule_id, *account_id, *region, *trail_arns, *detail;
};

/* A command: argv after "aws". */
struct plan_command {
    const char **argv;
    size_t n_argv;
};

struct plan_step {
    int number;          /* 1-based, in plan order */
    const char *action;  /* stop-logging | remove-management-events |
                            remove-data-events |
                            remove-network-activity-events |
                            put-insight-selectors */
    const char *summary; /* one line, plain text */
    const char *trail_arn, *trail_name, *account_id, *home_region;
    int is_organization_trail;
    struct plan_command command;     /* what to run */
    struct plan_command alternative; /* delete-trail, or n_argv 0 */
    const char *compliance;          /* NULL, or what the step changes */
    struct plan_effect *effects;
    size_t n_effects;
    struct plan_finding *findings;
    size_t n_findings;
    long paid_mgmt_copies; /* paid management copies removed */
    long data_charges, network_charges, insights_charges; /* (region, item) */
    double saving; /* estimated monthly saving, known parts */
    int saving_known, saving_partial;
    const void *key; /* while planning: the candidate (order) */
};

/* A trail that needs a step but gets none, and why. */
struct plan_skip {
    const char *trail_arn, *account_id, *reason;
};

/* A management coverage gap of the planned state. */
struct plan_gap {
    const char *account_id, *region, *detail;
    int preexisting; /* 1: already a gap in the snapshot */
};

struct plan {
    long long snapshot_id;
    long long planned_id; /* the first planned slice's snapshot_id */
    const char *label;
    struct plan_step *steps;
    size_t n_steps;
    struct plan_skip *skips;
    size_t n_skips;
    struct plan_gap *gaps;
    size_t n_gaps;
    const char *savings; /* why dollars are unknown */
    const char *basis;   /* billing | estimate | NULL (unknown) */
    const char *currency;
    double total_saving; /* sum of the steps' known savings */
    int saving_partial;  /* some step has parts without dollars */
    double paid_usage;   /* paid beyond the free copies, monthly */
    void **allocs;       /* every string and array above */
    size_t n_allocs, cap_allocs;
};

/*
 * Builds the plan for snapshot_id (0: the newest). db must be writable
 * (plan_open_db) and is modified: the planned state is a new snapshot_id.
 * Release with plan_release.
 */
int plan_build(struct plan *out, sqlite3 *db, const struct rule_set *rules,
               long long snapshot_id, struct ct_error *err);
void plan_release(struct plan *p);

/*
 * Makes a writable working copy of src (a database opened by
 * load_open_input) with this build's views: *out is owned (sqlite3_close).
 * src is left as it was.
 */
int plan_open_db(sqlite3 **out, sqlite3 *src, struct ct_error *err);

int plan_render_markdown(FILE *f, const struct plan *p);
int plan_render_json(FILE *f, const struct plan *p);
int plan_render_sh(FILE *f, const struct plan *p);

/* Appends s single-quoted for a POSIX shell (' as '\''). In `one_line`
 * mode a newline becomes '"$nl"' (the script defines nl). */
void plan_sh_quote(FILE *f, const char *s, int one_line);

#endif
