/* ctaudit load: snapshots into a database file, atomically. */
#include "analyzer/commands.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyzer/cli.h"
#include "analyzer/db.h"
#include "analyzer/load.h"

static const char usage[] =
    "usage: ctaudit load SNAPSHOT... -o FILE.db [options]\n"
    "\n"
    "Loads one or more snapshots (directories or .tar, .tar.gz, .tgz,\n"
    ".tar.zst, .tar.xz files) into a new SQLite database. The database is\n"
    "written to a temporary file and renamed only when every snapshot\n"
    "loaded: a failed load leaves no output and never touches an existing\n"
    "file.\n"
    "\n"
    "  -o, --output FILE        the database to write (required)\n"
    "  -f, --force              replace FILE if it exists\n"
    "  -q, --quiet              no summary or warnings on stderr\n"
    CLI_LOAD_HELP
    "  -h, --help               this help\n"
    "\n"
    "Exit status: 0 loaded, 1 a snapshot could not be loaded, 2 usage.\n";

static int count(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s = NULL;
    int n = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK
        && sqlite3_step(s) == SQLITE_ROW)
        n = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    return n;
}

int cmd_load(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"force", no_argument, NULL, 'f'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        CLI_LOAD_LONG_OPTIONS,
        {NULL, 0, NULL, 0}};
    struct load_options lo = LOAD_OPTIONS_INIT;
    struct cli_warnings warnings = {0, 0, 0};
    struct ct_error err = CT_ERROR_INIT;
    const char *output = NULL;
    int force = 0, quiet = 0, opt, status = CT_EXIT_ERROR;
    char *tmp = NULL;
    sqlite3 *db = NULL;
    struct stat st;

    while ((opt = getopt_long(argc, argv, "o:fqh", longopts, NULL)) != -1) {
        int r = cli_load_option(opt, optarg, &lo);
        if (r < 0)
            return CT_EXIT_USAGE;
        if (r > 0)
            continue;
        switch (opt) {
        case 'o': output = optarg; break;
        case 'f': force = 1; break;
        case 'q': quiet = 1; break;
        case 'h': fputs(usage, stdout); return cli_finish_stdout();
        default: fputs(usage, stderr); return CT_EXIT_USAGE;
        }
    }
    if (!output || optind >= argc) {
        cli_error("load: %s", !output ? "missing -o FILE.db"
                                      : "missing SNAPSHOT");
        fputs(usage, stderr);
        return CT_EXIT_USAGE;
    }
    if (stat(output, &st) == 0 && !force) {
        cli_error("load: '%s' exists: use --force to replace it", output);
        return CT_EXIT_ERROR;
    }
    warnings.quiet = quiet;
    lo.warn = cli_load_warning;
    lo.warn_ctx = &warnings;

    size_t n = strlen(output) + 16;
    tmp = malloc(n);
    if (!tmp) {
        cli_error("load: out of memory");
        goto done;
    }
    snprintf(tmp, n, "%s.tmp.XXXXXX", output);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        cli_error("load: cannot create '%s': %s", tmp, strerror(errno));
        free(tmp);
        tmp = NULL;
        goto done;
    }
    close(fd);

    if (db_create(&db, tmp, &err) || db_exec(db, "BEGIN", &err)) {
        cli_error("load: %s", err.message);
        goto done;
    }
    for (int i = optind; i < argc; i++) {
        ct_error_clear(&err);
        if (load_snapshot(db, argv[i], &lo, NULL, &err)) {
            cli_error("cannot load '%s': %s", argv[i], err.message);
            goto done;
        }
    }
    /* statistics for the query planner: reports join large tables */
    if (db_exec(db, "ANALYZE", &err) || db_exec(db, "COMMIT", &err)) {
        cli_error("load: '%s': %s", output, err.message);
        goto done;
    }
    int n_accounts = count(db, "SELECT count(*) FROM accounts");
    int n_trails = count(db, "SELECT count(*) FROM trails");
    int n_errors = count(db, "SELECT count(*) FROM errors");
    int n_warn = count(db, "SELECT count(*) FROM load_warnings");
    if (sqlite3_close(db) != SQLITE_OK) {
        cli_error("load: cannot close '%s': %s", tmp, sqlite3_errmsg(db));
        db = NULL;
        goto done;
    }
    db = NULL;
    if (rename(tmp, output) != 0) {
        cli_error("load: cannot rename to '%s': %s", output,
                  strerror(errno));
        goto done;
    }
    free(tmp);
    tmp = NULL;
    cli_warnings_finish(&warnings);
    if (!quiet)
        fprintf(stderr,
                "%s: loaded %d snapshot(s) into '%s': %d accounts, %d "
                "trails, %d recorded errors, %d warnings\n",
                CT_PROGRAM, argc - optind, output, n_accounts, n_trails,
                n_errors, n_warn);
    status = CT_EXIT_OK;
done:
    sqlite3_close(db);
    if (tmp) {
        unlink(tmp);
        free(tmp);
    }
    return status;
}
