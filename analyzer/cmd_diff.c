/* ctaudit diff: what changed between two snapshots, and which findings a
 * remediation resolved. */
#include "analyzer/commands.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyzer/cli.h"
#include "analyzer/costs.h"
#include "analyzer/db.h"
#include "analyzer/diff.h"
#include "analyzer/rules.h"

static const char usage[] =
    "usage: ctaudit diff BEFORE AFTER [options]\n"
    "\n"
    "Compares two snapshots: per account and region, the trails added,\n"
    "removed and changed, management copies (reads and writes), paid\n"
    "copies, trails delivering data, network activity and Insights events,\n"
    "and the findings resolved, introduced and still open. BEFORE and AFTER\n"
    "are each a snapshot (directory or archive) or a database made by\n"
    "`ctaudit load` (its newest snapshot unless --before-id/--after-id).\n"
    "An account or region missing, skipped or not scanned on either side is\n"
    "\"not comparable\", and so are its findings: never \"resolved\".\n"
    "Markdown on stdout by default: a summary, then only the accounts with\n"
    "a change or that cannot be compared.\n"
    "\n"
    "  --format markdown|json   output format (default markdown; json is\n"
    "                           documented in schema/DIFF.md)\n"
    "  -o, --output FILE        also write the diff to FILE (atomically)\n"
    "  --before-id N            snapshot N of the BEFORE database\n"
    "  --after-id N             snapshot N of the AFTER database\n"
    "  --fail-on-introduced     exit 3 if a finding was introduced\n"
    "  --rules-dir DIR          add the rules in DIR/*.sql\n" CLI_COST_HELP CLI_LOAD_HELP
    "  -h, --help               this help\n"
    "\n"
    "Exit status: 0 ok, 1 error, 2 usage, 3 a finding was introduced (with\n"
    "--fail-on-introduced).\n";

enum { FMT_MD, FMT_JSON };
static const char *const formats[] = {"markdown", "json", NULL};

struct render_ctx {
    const struct diff *d;
    int fmt;
};

static int render(FILE *f, const void *ctx)
{
    const struct render_ctx *c = ctx;
    return c->fmt == FMT_JSON ? diff_render_json(f, c->d)
                              : diff_render_markdown(f, c->d);
}

static int parse_id(const char *arg, const char *opt, long long *out)
{
    char *end = NULL;
    long long v = strtoll(arg, &end, 10);
    if (!end || end == arg || *end || v <= 0) {
        cli_error("diff: %s takes a positive number", opt);
        return -1;
    }
    *out = v;
    return 0;
}

int cmd_diff(int argc, char **argv)
{
    enum {
        OPT_FORMAT = 2000,
        OPT_BEFORE_ID,
        OPT_AFTER_ID,
        OPT_FAIL_INTRODUCED,
        OPT_RULES_DIR
    };
    static const struct option longopts[] = {
        {"format", required_argument, NULL, OPT_FORMAT},
        {"output", required_argument, NULL, 'o'},
        {"before-id", required_argument, NULL, OPT_BEFORE_ID},
        {"after-id", required_argument, NULL, OPT_AFTER_ID},
        {"fail-on-introduced", no_argument, NULL, OPT_FAIL_INTRODUCED},
        {"rules-dir", required_argument, NULL, OPT_RULES_DIR},
        {"help", no_argument, NULL, 'h'},
        CLI_LOAD_LONG_OPTIONS,
        CLI_COST_LONG_OPTIONS,
        {NULL, 0, NULL, 0}};
    struct load_options lo = LOAD_OPTIONS_INIT;
    struct cost_options co = COST_OPTIONS_INIT;
    struct cli_warnings warnings = {0, 0, 0};
    struct ct_error err = CT_ERROR_INIT;
    struct rule_set rules = RULE_SET_INIT;
    struct diff_input before = {NULL, 0}, after = {NULL, 0};
    struct diff_ids ids;
    struct diff d;
    const char *output = NULL, *rules_dir = NULL;
    int fmt = FMT_MD, fail_introduced = 0, opt, have_diff = 0;
    int status = CT_EXIT_ERROR;
    sqlite3 *db = NULL;

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
            if ((fmt = cli_format("diff", optarg, formats)) < 0)
                goto usage_error;
            break;
        case 'o':
            output = optarg;
            break;
        case OPT_BEFORE_ID:
            if (parse_id(optarg, "--before-id", &before.snapshot_id))
                goto usage_error;
            break;
        case OPT_AFTER_ID:
            if (parse_id(optarg, "--after-id", &after.snapshot_id))
                goto usage_error;
            break;
        case OPT_FAIL_INTRODUCED:
            fail_introduced = 1;
            break;
        case OPT_RULES_DIR:
            rules_dir = optarg;
            break;
        case 'h':
            fputs(usage, stdout);
            return cli_finish_stdout();
        default:
            goto usage_error;
        }
    }
    if (argc - optind != 2) {
        cli_error("diff: expected BEFORE and AFTER, got %d argument(s)",
                  argc - optind);
        goto usage_error;
    }
    before.path = argv[optind];
    after.path = argv[optind + 1];
    if ((before.snapshot_id && !db_is_database_file(before.path) &&
         access(before.path, F_OK) == 0) ||
        (after.snapshot_id && !db_is_database_file(after.path) &&
         access(after.path, F_OK) == 0)) {
        cli_error("diff: --%s-id needs a database, '%s' is a snapshot",
                  before.snapshot_id && !db_is_database_file(before.path)
                      ? "before"
                      : "after",
                  before.snapshot_id && !db_is_database_file(before.path)
                      ? before.path
                      : after.path);
        goto usage_error;
    }
    lo.warn = cli_load_warning;
    lo.warn_ctx = &warnings;
    if (rules_load(&rules, rules_dir, &err)) {
        cli_error("diff: %s", err.message);
        goto done;
    }
    if (diff_open(&db, &ids, &before, &after, &lo, &err) ||
        db_exec(db, "PRAGMA temp_store = FILE", &err) ||
        costs_prepare(db, &co, &err) ||
        db_materialize_views(db, "temp", &err) ||
        db_guard_readonly(db, &err)) {
        cli_error("diff: %s", err.message);
        goto done;
    }
    cli_warnings_finish(&warnings);
    if (diff_build(&d, db, &rules, &ids, before.path, after.path, &err)) {
        cli_error("diff: %s", err.message);
        goto done;
    }
    have_diff = 1;
    struct render_ctx ctx = {&d, fmt};
    if (render(stdout, &ctx)) {
        cli_error("diff: cannot write the output");
        goto done;
    }
    if (output && cli_write_atomic("diff", output, render, &ctx))
        goto done;
    status = cli_finish_stdout();
    if (status == CT_EXIT_OK && fail_introduced &&
        d.summary.findings[DIFF_INTRODUCED] > 0)
        status = CT_EXIT_FINDINGS;
done:
    if (have_diff)
        diff_release(&d);
    rules_release(&rules);
    sqlite3_close(db);
    return status;
usage_error:
    fputs(usage, stderr);
    return CT_EXIT_USAGE;
}
