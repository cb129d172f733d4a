/*
 * Dollars: the prices (schema/pricing.sql or --pricing FILE) and the
 * volume estimates (--events-per-month, --volumes) that the cost views
 * (v_region_costs, v_trail_region_costs in schema/views.sql) read. Billing
 * data itself comes from the snapshot (organization/cost-and-usage*.json).
 */
#ifndef CT_ANALYZER_COSTS_H
#define CT_ANALYZER_COSTS_H

#include <stddef.h>

#include <sqlite3.h>

#include "core/error.h"

struct cost_options {
    const char *pricing_file; /* NULL: the built-in prices */
    const char *volumes_file; /* CSV of per-account, per-region volumes */
    double events_per_month;  /* management events per account and region;
                                 < 0: not given */
};
#define COST_OPTIONS_INIT {NULL, NULL, -1.0}

#define CLI_OPT_PRICING 1101
#define CLI_OPT_EVENTS_PER_MONTH 1102
#define CLI_OPT_VOLUMES 1103

#define CLI_COST_LONG_OPTIONS                                                 \
    {"pricing", required_argument, NULL, CLI_OPT_PRICING},                    \
        {"events-per-month", required_argument, NULL,                         \
         CLI_OPT_EVENTS_PER_MONTH},                                           \
        {"volumes", required_argument, NULL, CLI_OPT_VOLUMES}

#define CLI_COST_HELP                                                         \
    "      --pricing FILE       unit prices: INSERTs into `pricing`, as in\n" \
    "                           schema/pricing.sql (default: built in)\n"     \
    "      --events-per-month N estimate dollars without billing data: N\n"   \
    "                           management events a month in every account\n" \
    "                           and region (clearly labelled an estimate)\n"  \
    "      --volumes FILE.csv   the same per account and region: header\n"    \
    "                           account_id,region,management_events[,\n"      \
    "                           data_events,network_events]; an empty\n"      \
    "                           account_id or region means every one\n"

/* Parses one of the options above into co. 1: handled, 0: not a cost
 * option, -1: bad value (the error is printed). */
int cost_option(int opt, const char *arg, struct cost_options *co);

/*
 * Creates temp.pricing (from the file or the built-in prices) and
 * temp.volume_estimates (from the options), which shadow the database's
 * own tables for the views. A pricing file may only INSERT into
 * `pricing`: anything else is refused. Call before db_materialize_views.
 */
int costs_prepare(sqlite3 *db, const struct cost_options *co,
                  struct ct_error *err);

/* What the dollars of a snapshot rest on (see costs_basis). */
struct cost_basis {
    char kind[16];      /* "billing", "estimate" or "" (none) */
    char currency[8];   /* of the billing data, or of the prices */
    int months;         /* billing months */
    char through[16];   /* end (exclusive) of the last billing month */
};

/* Reads the basis of snapshot_id's dollars (after costs_prepare). */
int costs_basis(struct cost_basis *out, sqlite3 *db, long long snapshot_id,
                struct ct_error *err);

/* Formats an amount: "$1,234.56" for USD, "1,234.56 CNY" otherwise. */
void costs_format(char *buf, size_t size, double amount,
                  const char *currency);

#endif
