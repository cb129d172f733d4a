/* ctaudit plan: the remediation plan a security team can approve. */
#include "analyzer/commands.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyzer/cli.h"
#include "analyzer/costs.h"
#include "analyzer/load.h"
#include "analyzer/plan.h"
#include "analyzer/rules.h"

static const char usage[] =
    "usage: ctaudit plan SNAPSHOT...|DB [options]\n"
    "\n"
    "Turns the findings into remediation steps, ordered by what they save:\n"
    "stop logging on duplicate trails (delete as the irreversible\n"
    "alternative), or put-event-selectors that remove only the duplicated\n"
    "events and keep every other selector as it is, or put-insight-selectors\n"
    "that drop an Insights type another trail already analyzes there.\n"
    "Each step names the findings it addresses, the account and region\n"
    "to run it in, and its effect per region. Every step is applied to\n"
    "a planned copy of the snapshot and checked with the report's own\n"
    "views: a step that would leave a region without a read or write\n"
    "copy of management events, without global service events or with\n"
    "only copies that skip event sources is not planned. Organization\n"
    "trails are kept; trails whose selectors or logging state are\n"
    "unknown get no step. Steps that change compliance posture (AWS\n"
    "Config multi-region-cloudtrail-enabled, CIS) are flagged. Nothing\n"
    "is executed.\n"
    "\n"
    "Dollars: with billing data in the snapshot, or --events-per-month or\n"
    "--volumes (as for report), each step's estimated monthly saving comes\n"
    "from the snapshot's v_region_costs and v_trail_region_costs; a copy\n"
    "saves only while it is a paid one at that point of the plan, so the\n"
    "total never exceeds what is paid beyond the free copies.\n"
    "\n"
    "  --format markdown|json|sh  output format (default markdown; json is\n"
    "                           documented in schema/PLAN.md; sh is a POSIX\n"
    "                           script with every command commented out)\n"
    "  -o, --output FILE        also write the plan to FILE\n"
    "  --snapshot ID            which snapshot of a database (default the\n"
    "                           newest)\n" CLI_COST_HELP CLI_LOAD_HELP
    "  -h, --help               this help\n"
    "\n"
    "Exit status: 0 ok, 1 error, 2 usage.\n";

enum { FMT_MD, FMT_JSON, FMT_SH };
static const char *const formats[] = {"markdown", "json", "sh", NULL};

static int render(FILE *f, const struct plan *p, int fmt)
{
    switch (fmt) {
    case FMT_JSON:
        return plan_render_json(f, p);
    case FMT_SH:
        return plan_render_sh(f, p);
    default:
        return plan_render_markdown(f, p);
    }
}

struct render_ctx {
    const struct plan *p;
    int fmt;
};

static int render_to(FILE *f, const void *ctx)
{
    const struct render_ctx *c = ctx;
    return render(f, c->p, c->fmt);
}

/* Writes the plan to path through a temporary file and a rename. */
static int write_file(const char *path, const struct plan *p, int fmt)
{
    struct render_ctx c = {p, fmt};
    return cli_write_atomic("plan", path, render_to, &c);
}

int cmd_plan(int argc, char **argv)
{
    enum { OPT_FORMAT = 2000, OPT_SNAPSHOT };
    static const struct option longopts[] = {
        {"format", required_argument, NULL, OPT_FORMAT},
        {"output", required_argument, NULL, 'o'},
        {"snapshot", required_argument, NULL, OPT_SNAPSHOT},
        {"help", no_argument, NULL, 'h'},
        CLI_LOAD_LONG_OPTIONS,
        CLI_COST_LONG_OPTIONS,
        {NULL, 0, NULL, 0}};
    struct cost_options co = COST_OPTIONS_INIT;
    struct load_options lo = LOAD_OPTIONS_INIT;
    struct cli_warnings warnings = {0, 0, 0};
    struct ct_error err = CT_ERROR_INIT;
    struct rule_set rules = RULE_SET_INIT;
    struct plan plan;
    const char *output = NULL;
    long long snapshot_id = 0;
    int fmt = FMT_MD, opt, status = CT_EXIT_ERROR, have_plan = 0;
    sqlite3 *input = NULL, *db = NULL;

    memset(&plan, 0, sizeof(plan));
    while ((opt = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
        int r = cli_load_option(opt, optarg, &lo);
        if (r == 0)
            r = cost_option(opt, optarg, &co);
        if (r < 0)
            goto usage_error;
        if (r > 0)
            continue;
        switch (opt) {
        case OPT_FORMAT:
            if ((fmt = cli_format("plan", optarg, formats)) < 0)
                goto usage_error;
            break;
        case 'o':
            output = optarg;
            break;
        case OPT_SNAPSHOT: {
            char *end = NULL;
            errno = 0;
            snapshot_id = strtoll(optarg, &end, 10);
            if (errno || !end || *end || snapshot_id <= 0) {
                cli_error("plan: --snapshot takes a positive number");
                goto usage_error;
            }
            break;
        }
        case 'h':
            fputs(usage, stdout);
            return cli_finish_stdout();
        default:
            goto usage_error;
        }
    }
    if (optind >= argc) {
        cli_error("plan: missing SNAPSHOT or DB");
        goto usage_error;
    }
    lo.warn = cli_load_warning;
    lo.warn_ctx = &warnings;
    if (rules_load(&rules, NULL, &err) ||
        load_open_input(&input, (const char *const *)argv + optind,
                        argc - optind, &lo, &err) ||
        plan_open_db(&db, input, &err) || costs_prepare(db, &co, &err)) {
        cli_error("plan: %s", err.message);
        goto done;
    }
    cli_warnings_finish(&warnings);
    sqlite3_close(input);
    input = NULL;
    if (plan_build(&plan, db, &rules, snapshot_id, &err)) {
        cli_error("plan: %s", err.message);
        goto done;
    }
    have_plan = 1;
    if (render(stdout, &plan, fmt)) {
        cli_error("plan: cannot write the plan");
        goto done;
    }
    if (output && write_file(output, &plan, fmt))
        goto done;
    status = cli_finish_stdout();
done:
    if (have_plan)
        plan_release(&plan);
    rules_release(&rules);
    sqlite3_close(input);
    sqlite3_close(db);
    return status;
usage_error:
    fputs(usage, stderr);
    return CT_EXIT_USAGE;
}
