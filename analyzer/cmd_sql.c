/* ctaudit sql: read-only ad-hoc SQL over a snapshot or a database. */
#include "analyzer/commands.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "analyzer/cli.h"
#include "analyzer/db.h"
#include "analyzer/load.h"
#include "analyzer/output.h"

static const char usage[] =
    "usage: ctaudit sql SNAPSHOT...|DB 'SELECT ...' [options]\n"
    "\n"
    "Runs read-only SQL over a database written by `ctaudit load`, or over\n"
    "snapshots loaded into memory first. Tables and views are documented in\n"
    "schema/README.md. Writes, ATTACH, pragmas that change state and\n"
    "extension loading are refused. Several statements separated by ';'\n"
    "run in order. Put -- before a query that starts with '-' (a comment):\n"
    "  ctaudit sql snap.tgz -- \"$(cat query.sql)\"\n"
    "\n"
    "  --format table|csv|json  output format (default table)\n"
    CLI_LOAD_HELP
    "  -h, --help               this help\n"
    "\n"
    "Exit status: 0 ok, 1 error (bad input, SQL error, refused statement),\n"
    "2 usage.\n";

int cmd_sql(int argc, char **argv)
{
    enum { OPT_FORMAT = 2000 };
    static const struct option longopts[] = {
        {"format", required_argument, NULL, OPT_FORMAT},
        {"help", no_argument, NULL, 'h'},
        CLI_LOAD_LONG_OPTIONS,
        {NULL, 0, NULL, 0}};
    struct load_options lo = LOAD_OPTIONS_INIT;
    struct cli_warnings warnings = {0, 0, 0};
    struct ct_error err = CT_ERROR_INIT;
    int fmt = OUT_TABLE, opt, status = CT_EXIT_ERROR;
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;

    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        int r = cli_load_option(opt, optarg, &lo);
        if (r < 0)
            return CT_EXIT_USAGE;
        if (r > 0)
            continue;
        switch (opt) {
        case OPT_FORMAT:
            fmt = out_parse_format(optarg);
            if (fmt < 0) {
                cli_error("sql: unknown format '%s' (table, csv, json)",
                          optarg);
                return CT_EXIT_USAGE;
            }
            break;
        case 'h': fputs(usage, stdout); return cli_finish_stdout();
        default: fputs(usage, stderr); return CT_EXIT_USAGE;
        }
    }
    if (argc - optind < 2) {
        cli_error("sql: need a SNAPSHOT or DB and a query");
        fputs(usage, stderr);
        return CT_EXIT_USAGE;
    }
    const char *query = argv[argc - 1];
    lo.warn = cli_load_warning;
    lo.warn_ctx = &warnings;
    if (load_open_input(&db, (const char *const *)argv + optind,
                        argc - optind - 1, &lo, &err)
        || db_guard_readonly(db, &err)) {
        cli_error("sql: %s", err.message);
        goto done;
    }
    cli_warnings_finish(&warnings);
    const char *rest = query;
    int ran = 0;
    for (;;) {
        if (db_prepare_readonly(&st, db, &rest, &err)) {
            cli_error("sql: %s", err.message);
            goto done;
        }
        if (!st)
            break;
        if (out_write_rows(stdout, st, (enum out_format)fmt, &err)) {
            cli_error("sql: %s", err.message);
            goto done;
        }
        sqlite3_finalize(st);
        st = NULL;
        ran++;
    }
    if (!ran) {
        cli_error("sql: the query is empty");
        status = CT_EXIT_USAGE;
        goto done;
    }
    status = cli_finish_stdout();
done:
    sqlite3_finalize(st);
    sqlite3_close(db);
    return status;
}
