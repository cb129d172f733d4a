/*
 * The plan's working databases (plan_db.c): statements cached per
 * connection, the snapshot's working copy, the per-account planned slices,
 * the changes a step makes to a slice's tables, and the state the views
 * give. Internal to plan.c and plan_db.c.
 */
#ifndef CT_ANALYZER_PLAN_DB_H
#define CT_ANALYZER_PLAN_DB_H

#include <sqlite3.h>

#include "analyzer/plan.h"
#include "core/error.h"

/* Prepared statements kept for reuse, by SQL text pointer: compiling a
 * query over the views costs far more than running it. */
struct stmt_cache {
    const char *sql;
    sqlite3_stmt *st;
    int busy;
};

#define PLAN_STMT_CACHE 64

struct plan_ctx {
    unsigned n_slices;
    struct stmt_cache cache[PLAN_STMT_CACHE];
    size_t n_cache;
    sqlite3 *db;
    struct plan *p;
    long long s, pid;
    struct ct_error *err;
};

/* A trail as the views see it in one snapshot. */
struct plan_trail {
    char name[512], owner[32], home[64], logging[16], selectors[16];
    int found, org, multi, delivers, reads, writes, data, network, insights;
};

/* ---- SQL helpers: named parameters :s :p :t :x :y -------------------------
 */
int plan_db_prepare(struct plan_ctx *c, sqlite3_stmt **out, const char *sql,
                    const char *t, const char *x, const char *y);

/* Gives back a statement of plan_db_prepare (NULL is fine). */
void plan_db_release(struct plan_ctx *c, sqlite3_stmt *st);

/* Finalizes every cached statement (before switching connections). */
void plan_db_cache_release(struct plan_ctx *c);

/* Runs one statement (no rows expected). */
int plan_db_run(struct plan_ctx *c, const char *sql, const char *t,
                const char *x, const char *y);

/* The first column of the first row as an integer (def when no row). */
int plan_db_int(struct plan_ctx *c, long long *out, long long def,
                const char *sql, const char *t, const char *x, const char *y);

/* 0 for SQLITE_DONE, else the connection's error in c->err. */
int plan_db_step_error(struct plan_ctx *c, int step);

/* Comma-separated list of the first column's values (NULL: none). */
int plan_db_list(struct plan_ctx *c, char **out, const char *sql, const char *t,
                 const char *x);

/* ---- trail state ----------------------------------------------------------
 */
int plan_db_trail(struct plan_ctx *c, struct plan_trail *out, long long snap,
                  const char *arn);

/* Step changes, applied to the planned snapshot of the slice: logging
 * stopped; management events removed (*applied 0: no selector document,
 * nothing changed); the data or network activity scopes of a category
 * and resource type removed. Everything else stays as it was. */
int plan_db_stop(struct plan_ctx *c, const char *arn);

/* Management events off, everything else of the selectors as it was.
 * *applied is 0 when the trail has no selector document (implied). */
int plan_db_remove_mgmt(struct plan_ctx *c, int *applied, const char *arn);

/* The scopes of category/type go: basic DataResources of that type,
 * advanced selectors of that category (and resources.type). */
int plan_db_remove_scope(struct plan_ctx *c, int *applied, const char *arn,
                         const char *category, const char *rtype);

/* Writes the state of snapshot n into TEMP table name: created when
 * create is set, else refilled (no schema change: the cached statements
 * stay compiled). */
int plan_db_save_state(struct plan_ctx *c, const char *name, long long n,
                       int create, const char *account);

int plan_db_lost_copy(struct plan_ctx *c, char **out, const char *account);

/* Own multi-region trails of an account that satisfy AWS Config's
 * multi-region-cloudtrail-enabled and CIS "CloudTrail enabled in all
 * regions": logging, reads and writes, no excluded sources. */
int plan_db_compliant_trails(struct plan_ctx *c, long long *out,
                             const char *acct);

/* Builds the event selectors JSON of trail arn in P from the tables. */
int plan_db_selectors_json(struct plan_ctx *c, char **out, int *advanced,
                           const char *arn);

/* The Insights types of trail arn in P that a delivering trail of higher
 * rank (organization trail, then more coverage, then smaller ARN) also
 * analyzes in every (account, region) arn covers, as a list ("A, B";
 * NULL: none; sqlite3_malloc'ed). */
int plan_db_dup_insights(struct plan_ctx *c, char **out, const char *arn);

/* Removes Insights type from trail arn's insight selectors in P. */
int plan_db_remove_insight(struct plan_ctx *c, const char *arn,
                           const char *type);

/* The insight selectors JSON of trail arn in P (`[]`: none), each type
 * with its EventCategories when they are not just Management. *out is
 * owned (free). */
int plan_db_insights_json(struct plan_ctx *c, char **out, const char *arn);

/*
 * Opens account's planned slice: a private memory database holding its
 * rows, its own trails and the organization trails (snapshot pid), the
 * snapshot's baseline, costs and trail states for that account, and this
 * build's views. Every view then reads one account, not the organization.
 * *out is owned (sqlite3_close).
 */
int plan_db_open_slice(struct plan_ctx *c, sqlite3 **out, const char *account);

#endif
