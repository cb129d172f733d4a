/*
 * Rules: one read-only SELECT per file, schema/rules/<rule-id>.sql, opening
 * with "-- key: value" lines (title, severity, rationale, remediation).
 * Built-in rules are embedded at build time; --rules-dir adds a user's.
 */
#ifndef CT_ANALYZER_RULES_H
#define CT_ANALYZER_RULES_H

#include <stddef.h>

#include <sqlite3.h>

#include "core/error.h"

struct rule {
    char *id;          /* the file name without .sql */
    char *title;
    char *severity;    /* "warning" or "info" */
    char *rationale;
    char *remediation;
    char *sql;
    char *origin;      /* "built-in" or the file's path */
};

struct rule_set {
    struct rule *rules; /* sorted by id */
    size_t n_rules;
};

#define RULE_SET_INIT {NULL, 0}

#include "analyzer/strmap.h"

/* One finding: a row of a rule. Strings are interned in the finding_list
 * (equal strings shared: a large organization repeats them a lot). */
struct finding {
    const struct rule *rule;
    const char *rule_id;
    const char *severity;
    const char *account_id;  /* NULL: the whole snapshot */
    const char *region;      /* NULL: the whole account */
    const char *trail_arns;  /* space-separated, may be NULL */
    const char *detail;
    long long read_copies, write_copies, paid_copies; /* -1: NULL */
    double monthly_cost; /* the optional 10th column; valid if has_cost */
    int has_cost;
};

struct finding_list {
    struct finding *items;
    size_t n, cap;
    struct strmap strings; /* owns every string of the findings */
    struct strmap *more;   /* and these (rules_finish), n_more of them */
    size_t n_more;
};

#define FINDING_LIST_INIT {NULL, 0, 0, STRMAP_INIT(0), NULL, 0}

/* The columns every rule returns, in this order; the last one
 * (monthly_cost) is optional. */
extern const char *const rule_columns[];
#define RULE_N_COLUMNS 9

/* Loads the built-in rules, then every *.sql of dir (may be NULL). */
int rules_load(struct rule_set *out, const char *dir, struct ct_error *err);
void rules_release(struct rule_set *set);

/*
 * Runs every rule against snapshot_id (db must be under the read-only
 * guard) and appends the findings, sorted by account, region, rule,
 * trails, detail.
 */
int rules_run(struct finding_list *out, const struct rule_set *set,
              sqlite3 *db, long long snapshot_id, struct ct_error *err);

/*
 * The same, on two connections at once. rules_start starts a thread that
 * takes rules one after another and runs them on `db2` (a second
 * connection to the same data, under the guard; NULL: no thread). The
 * caller may do other work on its own connection meanwhile, then calls
 * rules_finish, which takes the remaining rules on `db` until none are
 * left, waits for the thread, and appends every finding to *out in the
 * same order as rules_run (rule order, then sorted), whichever connection
 * ran which rule. On an error, the first failing rule's is returned.
 * rules_finish always releases the batch; with db NULL it only stops the
 * thread (after its current rule) and appends nothing.
 */
struct rules_batch;
int rules_start(struct rules_batch **out, const struct rule_set *set,
                sqlite3 *db2, long long snapshot_id, struct ct_error *err);

/*
 * rules_start in steps, for a caller with a connection to spare before the
 * second one is free (cmd_report: while the views are still being
 * stored). rules_prepare makes the batch (released by rules_finish or
 * rules_abandon). rules_start_early starts a thread that runs on db,
 * against snapshot_id, every rule that names none of the n_pending views
 * `pending` (whole identifiers outside comments, in any case): what db
 * cannot read yet. It takes db (the thread closes it); -1 if no such rule
 * or no thread (db is then still the caller's). rules_launch then starts
 * the thread on db2 (may be NULL) for the other rules, as rules_start does.
 * rules_finish waits for the early thread too; a rule that failed there,
 * or ran against another snapshot than rules_launch's, runs again on its
 * connection, so any error comes from one that reads everything.
 */
int rules_prepare(struct rules_batch **out, const struct rule_set *set,
                  struct ct_error *err);
int rules_start_early(struct rules_batch *b, sqlite3 *db,
                      long long snapshot_id, const char *const *pending,
                      size_t n_pending);
void rules_launch(struct rules_batch *b, sqlite3 *db2, long long snapshot_id);
/* Stops and releases b (may be NULL), whatever it ran: rules_finish with
 * no connection. */
void rules_abandon(struct rules_batch *b);
int rules_finish(struct finding_list *out, struct rules_batch *b, sqlite3 *db,
                 struct ct_error *err);
void finding_list_release(struct finding_list *list);

/* Severity rank: info 1, warning 2, anything else 0. */
int severity_rank(const char *severity);

#endif
