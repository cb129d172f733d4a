/*
 * The diff model: what changed between two snapshots of one database
 * (`ctaudit diff BEFORE AFTER`), computed in SQL over the materialized views
 * and from the rules run on both snapshots. The renderers (Markdown, JSON)
 * consume this model and never query. JSON: schema/DIFF.md.
 */
#ifndef CT_ANALYZER_DIFF_H
#define CT_ANALYZER_DIFF_H

#include <stdio.h>

#include <sqlite3.h>

#include "analyzer/costs.h"
#include "analyzer/load.h"
#include "analyzer/rules.h"
#include "core/error.h"

#define DIFF_SCHEMA_VERSION 1

/* One side of the diff. */
struct diff_side {
    long long snapshot_id;        /* in the diff's database */
    long long source_snapshot_id; /* in the input database; 0: a snapshot */
    char *input;                  /* base name of the argument */
    char *label, *started_at;
    int complete; /* -1 unknown */
};

/* A number before and after; -1 when the side has no such row. */
struct diff_count {
    long long before, after;
};

/* A field of a trail that differs (v_trails and its lists, as text). */
struct diff_field {
    const char *trail_arn, *field, *before, *after; /* diff.strings */
};

/* A trail that covers an account, added, removed or changed there. */
struct diff_trail {
    const char *trail_arn, *name, *change;       /* added | removed | changed */
    const char *regions_added, *regions_removed; /* space-separated or NULL */
    long long regions_before, regions_after;     /* comparable regions */
    const struct diff_field *fields;             /* borrowed from diff.fields */
    size_t n_fields;
};

struct diff_insight {
    const char *insight_type;
    struct diff_count trails; /* delivering trails with this type */
};

/* An (account, region) with a change, or that cannot be compared. */
struct diff_region {
    const char *region, *state_before, *state_after; /* NULL: absent */
    int comparable;
    const char *reason; /* why not comparable, else NULL */
    struct diff_count read_copies, write_copies, paid_copies;
    struct diff_count data_trails, network_trails, unknown_trails;
    struct diff_insight *insights; /* types with a trail on either side */
    size_t n_insights, cap_insights;
    const char *trails_added, *trails_removed; /* space-separated or NULL */
};

enum diff_kind {
    DIFF_RESOLVED,
    DIFF_INTRODUCED,
    DIFF_OPEN,
    DIFF_NOT_COMPARABLE,
    DIFF_N_KINDS
};

/* A finding matched on (rule_id, account_id, region, trail_arns). */
struct diff_finding {
    enum diff_kind kind;
    const struct finding *before, *after; /* NULL on the side without it */
};

struct diff_account {
    const char *account_id, *name;
    const char *status_before, *status_after; /* scan_status, NULL: absent */
    int comparable;
    const char *reason;          /* why not comparable, else NULL */
    struct diff_region *regions; /* changed or not comparable, by region */
    size_t n_regions, cap_regions;
    struct diff_trail *trails; /* by trail name, ARN */
    size_t n_trails, cap_trails;
    struct diff_finding *findings; /* sorted like rules_run's */
    size_t n_findings, cap_findings;
    size_t n_by_kind[DIFF_N_KINDS];
    int open_changed; /* still-open findings whose detail changed */
};

struct diff_summary {
    struct diff_count accounts_scanned;
    long long accounts_not_comparable, regions_not_comparable;
    struct diff_count paid_copies;            /* every scanned account */
    struct diff_count comparable_paid_copies; /* comparable regions only */
    struct diff_count data_trail_regions, network_trail_regions;
    struct diff_count insights_trail_regions;
    long long trails_added, trails_removed, trails_changed; /* distinct ARNs */
    size_t findings[DIFF_N_KINDS];
    /* dollars (v_region_costs): what each side rests on; the charges per
     * month of the regions comparable and priced on both sides; the
     * findings' own figures (the rules' monthly_cost) */
    struct cost_basis basis_before, basis_after;
    double monthly_before, monthly_after;
    long long monthly_regions;
};

struct diff {
    struct diff_side before, after;
    struct diff_account *accounts; /* every account of either, by id */
    size_t n_accounts, cap_accounts;
    struct diff_finding *global; /* findings without an account */
    size_t n_global, cap_global;
    struct diff_field *fields; /* by trail ARN, field */
    size_t n_fields, cap_fields;
    struct diff_summary summary;
    struct finding_list findings_before, findings_after;
    struct strmap strings; /* owns the model's strings */
};

/* An input of diff: a snapshot, or a database and one of its snapshots
 * (snapshot_id 0: the newest). */
struct diff_input {
    const char *path;
    long long snapshot_id;
};

/* The snapshot ids of both sides in the diff's database, and in their
 * input database (0: the input was a snapshot). */
struct diff_ids {
    long long before, after, before_source, after_source;
};

/*
 * Creates a temporary on-disk database holding both inputs: a snapshot is
 * loaded (load_snapshot), a database's snapshot copied in through ATTACH
 * with its snapshot_id and doc_ids remapped. *out is owned (sqlite3_close);
 * the views are not materialized and the guard is not applied. Errors:
 * "cannot open 'PATH': ...", "no snapshot N in 'PATH'", "'PATH' holds no
 * snapshot", "cannot load 'PATH': ...".
 */
int diff_open(sqlite3 **out, struct diff_ids *out_ids,
              const struct diff_input *before, const struct diff_input *after,
              const struct load_options *opt, struct ct_error *err);

/* Builds the diff of two snapshots of db (views materialized, under the
 * read-only guard). before_path/after_path name the inputs (base names are
 * kept). */
int diff_build(struct diff *out, sqlite3 *db, const struct rule_set *rules,
               const struct diff_ids *ids, const char *before_path,
               const char *after_path, struct ct_error *err);
void diff_release(struct diff *d);

/* "resolved", "introduced", "still_open", "not_comparable". */
const char *diff_kind_name(enum diff_kind kind);

/* 1 if the account has something to show in the compact Markdown. */
int diff_account_changed(const struct diff_account *a);

int diff_render_markdown(FILE *f, const struct diff *d);
int diff_render_json(FILE *f, const struct diff *d);

#endif
