/* ctaudit report: what each account and region pays beyond the free copy. */
#include "analyzer/commands.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyzer/cli.h"
#include "analyzer/costs.h"
#include "analyzer/db.h"
#include "analyzer/load.h"
#include "analyzer/report.h"
#include "analyzer/rules.h"
#include "analyzer/trace.h"

static const char usage[] =
    "usage: ctaudit report SNAPSHOT...|DB [options]\n"
    "\n"
    "Classifies every trail and prints what each account and region pays\n"
    "for beyond the free copy of management events, and why: duplicate\n"
    "management events (reads and writes counted apart), organization\n"
    "trail overlap, data, network activity and Insights charges, coverage\n"
    "gaps and what the snapshot could not see. Markdown on stdout by\n"
    "default; progress and diagnostics on stderr.\n"
    "\n"
    "  --format markdown|json|csv  output format (default markdown; json is\n"
    "                           documented in schema/REPORT.md; csv is one\n"
    "                           row per finding)\n"
    "  -o, --output FILE        also write the report to FILE\n"
    "  --account ID             only this account (repeatable)\n"
    "  --findings-only          per-account sections only for accounts\n"
    "                           with findings (the summary lists all)\n"
    "  --fail-on warning|info   exit 3 if findings at or above this level\n"
    "  --rules-dir DIR          add the rules in DIR/*.sql\n"
    "  --snapshot ID            which snapshot of a database (default the\n"
    "                           newest)\n"
    CLI_COST_HELP
    CLI_LOAD_HELP
    "  -h, --help               this help\n"
    "\n"
    "Snapshots are loaded into work files in $TMPDIR (else /tmp), removed\n"
    "before the report is printed; CTAUDIT_TRACE_PERFORMANCE=1 prints the\n"
    "time of each step on stderr.\n"
    "\n"
    "Exit status: 0 ok, 1 error, 2 usage, 3 findings at or above --fail-on.\n";

enum { FMT_MD, FMT_JSON, FMT_CSV };
static const char *const formats[] = {"markdown", "json", "csv", NULL};

/* The stream stays locked while the report is written: once the work
 * threads have run, stdio takes its lock in every fputc and fprintf, and
 * doing so a few million times cost more than the writing. */
static int render(FILE *f, const struct report *r, int fmt, int only)
{
    int rc;
    flockfile(f);
    switch (fmt) {
    case FMT_JSON:
        rc = report_render_json(f, r, only);
        break;
    case FMT_CSV:
        rc = report_render_csv(f, r);
        break;
    default:
        rc = report_render_markdown(f, r, only);
    }
    funlockfile(f);
    return rc;
}

struct render_ctx {
    const struct report *r;
    int fmt, only;
};

static int render_to(FILE *f, const void *ctx)
{
    const struct render_ctx *c = ctx;
    return render(f, c->r, c->fmt, c->only);
}

/* Writes the report to path through a temporary file and a rename. */
static int write_file(const char *path, const struct report *r, int fmt,
                      int only)
{
    struct render_ctx c = {r, fmt, only};
    return cli_write_atomic("report", path, render_to, &c);
}

/* Page caches of 4 MiB for every database of a connection (main, TEMP,
 * and the views' work files: db.c). On the 10,000-account benchmark, 16
 * MiB was no faster and took 60 MiB more peak memory (bench/README.md). */
static const char report_pragmas[] =
    "PRAGMA temp_store = FILE; PRAGMA main.cache_size = -4096;"
    "PRAGMA temp.cache_size = -4096";

/* A second connection to the work file, with the same prices and volumes
 * in TEMP tables; owned (sqlite3_close). It reads the loaded tables and
 * writes only its own views' files (db_materialize_views_split), then goes
 * under the guard like the first. NULL if that fails: the report then
 * runs on one connection, as it does on a database. */
static sqlite3 *open_second(const char *path, const struct cost_options *co)
{
    sqlite3 *db = NULL;
    struct ct_error why = CT_ERROR_INIT;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK)
        ct_error_set(&why, CT_ESQL, "%s", sqlite3_errmsg(db));
    else if (db_exec(db, report_pragmas, &why) == 0
             && costs_prepare(db, co, &why) == 0)
        return db;
    trace_perf(trace_start(), "no second connection: %s", why.message);
    sqlite3_close(db);
    return NULL;
}

/* The rules that can run while the first connection still stores its
 * views (db_materialize_views_split's `early`): on a third connection, to
 * the work files complete so far, the rules that read only those. The
 * second connection stores its views first (0.2 s before the first one, on
 * 10,000 accounts): this uses the core it leaves idle. */
struct early {
    const char *scratch; /* the loaded tables */
    const struct cost_options *co;
    const struct report_options *ro;
    struct rules_batch *batch;
};

static void early_rules(void *arg, const struct views_published *p)
{
    struct early *e = arg;
    struct ct_error err = CT_ERROR_INIT;
    sqlite3 *db = NULL;
    long long id = 0;
    size_t n = 0;
    const char *const *pending = db_views_pending(p, &n);
    /* what waits: the views not stored yet, and v_coverage in any case.
     * The rules over it (a row per account, region and trail) are the
     * longest: the two connections of the views share them, even when
     * v_coverage is complete by now (a small organization) */
    const char **wait = malloc((n + 1) * sizeof(*wait));
    if (!wait)
        return;
    memcpy(wait, pending, n * sizeof(*wait));
    wait[n++] = "v_coverage";
    if (sqlite3_open_v2(e->scratch, &db,
                        SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL)
        != SQLITE_OK)
        ct_error_set(&err, CT_ESQL, "%s", sqlite3_errmsg(db));
    else if (db_exec(db, report_pragmas, &err) == 0
             && costs_prepare(db, e->co, &err) == 0
             && db_views_attach_published(db, p, &err) == 0
             && db_guard_readonly(db, &err) == 0
             && report_snapshot_id(db, e->ro, &id, &err) == 0
             && rules_start_early(e->batch, db, id, wait, n) == 0)
        db = NULL; /* the early thread's */
    if (err.code)
        trace_perf(trace_start(), "no early rules: %s", err.message);
    sqlite3_close(db);
    free(wait);
}

/* The work files of a report from snapshots, in $TMPDIR: the loaded
 * tables, then the files of the views (db_materialize_views_split). */
struct work_files {
    char *path[1 + 8];
    size_t n;
};

static int make_work_files(struct work_files *w)
{
    struct ct_error err = CT_ERROR_INIT;
    size_t views;
    if (db_views_split_files(&views, &err)) {
        cli_error("report: %s", err.message);
        return -1;
    }
    if (views + 1 > sizeof(w->path) / sizeof(*w->path)) {
        cli_error("report: the views need %zu work files", views);
        return -1;
    }
    w->n = views + 1;
    cli_remove_on_signal(w->path, w->n);
    for (size_t i = 0; i < w->n; i++)
        if (cli_temp_file("report", i ? "views" : "report", &w->path[i]))
            return -1;
    return 0;
}

/* Forgets and removes the work files, if any. */
static void drop_work_files(struct work_files *w)
{
    cli_remove_on_signal(NULL, 0);
    for (size_t i = 0; i < w->n; i++) {
        if (w->path[i])
            unlink(w->path[i]);
        free(w->path[i]);
        w->path[i] = NULL;
    }
    w->n = 0;
}

/* Loads the inputs and stores the views: into the work files, on two
 * connections (*db2 set, NULL if the second could not be opened), or,
 * for a database, into TEMP tables of one read-only connection. */
static int open_report_db(sqlite3 **db, sqlite3 **db2,
                          const struct work_files *work,
                          const char *const *inputs, int n_inputs,
                          const struct load_options *lo,
                          const struct cost_options *co, struct early *early,
                          struct ct_error *err)
{
    double t = trace_start();
    int rc;
    const char *scratch = work->n ? work->path[0] : NULL;
    if ((rc = scratch ? load_open_scratch(db, scratch, inputs, n_inputs, lo,
                                          err)
                      : load_open_input(db, inputs, n_inputs, lo, err)))
        return rc;
    trace_perf(t, "load");
    t = trace_start();
    if ((rc = db_exec(*db, report_pragmas, err))
        || (rc = costs_prepare(*db, co, err)))
        return rc;
    if (scratch && (*db2 = open_second(scratch, co)))
        rc = db_materialize_views_split(*db, *db2, work->path + 1,
                                        work->n - 1,
                                        early->batch ? early_rules : NULL,
                                        early, err);
    else
        rc = db_materialize_views(*db, scratch ? "main" : "temp", err);
    if (rc)
        return rc;
    trace_perf(t, "views");
    if (*db2 && db_guard_readonly(*db2, err)) {
        /* everything is readable from the first connection too */
        trace_perf(trace_start(), "no second connection: %s", err->message);
        sqlite3_close(*db2);
        *db2 = NULL;
    }
    return db_guard_readonly(*db, err);
}

/* Closing the connections (their caches, and the work files, removed
 * from the disk only now) takes a few hundredths of a second: once the
 * report is built, a thread does it while the report is written. */
struct closer {
    sqlite3 *db[2];
    pthread_t thread;
    int started;
};

static void *close_all(void *arg)
{
    struct closer *c = arg;
    sqlite3_close(c->db[1]);
    sqlite3_close(c->db[0]);
    return NULL;
}

/* Hands *db and *db2 over to c (set to NULL): closed on another thread if
 * one can be started, else at once. */
static void close_start(struct closer *c, sqlite3 **db, sqlite3 **db2)
{
    c->db[0] = *db;
    c->db[1] = *db2;
    *db = *db2 = NULL;
    c->started = pthread_create(&c->thread, NULL, close_all, c) == 0;
    if (!c->started)
        close_all(c);
}

static void close_finish(struct closer *c)
{
    if (c->started)
        pthread_join(c->thread, NULL);
    c->started = 0;
}

int cmd_report(int argc, char **argv)
{
    enum {
        OPT_FORMAT = 2000, OPT_ACCOUNT, OPT_FINDINGS_ONLY, OPT_FAIL_ON,
        OPT_RULES_DIR, OPT_SNAPSHOT
    };
    static const struct option longopts[] = {
        {"format", required_argument, NULL, OPT_FORMAT},
        {"output", required_argument, NULL, 'o'},
        {"account", required_argument, NULL, OPT_ACCOUNT},
        {"findings-only", no_argument, NULL, OPT_FINDINGS_ONLY},
        {"fail-on", required_argument, NULL, OPT_FAIL_ON},
        {"rules-dir", required_argument, NULL, OPT_RULES_DIR},
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
    struct report rep;
    struct report_options ro = {0, NULL, NULL, NULL};
    const char **accounts = NULL;
    size_t n_accounts = 0;
    const char *output = NULL, *rules_dir = NULL;
    int fmt = FMT_MD, only = 0, fail_on = 0, opt;
    int status = CT_EXIT_ERROR, have_report = 0;
    double t = 0, t_all = trace_start();
    sqlite3 *db = NULL, *db2 = NULL;
    struct work_files work;
    struct closer closer = {{NULL, NULL}, 0, 0};
    struct early early = {NULL, &co, &ro, NULL};

    memset(&rep, 0, sizeof(rep));
    memset(&work, 0, sizeof(work));
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
            if ((fmt = cli_format("report", optarg, formats)) < 0)
                goto usage_error;
            break;
        case 'o': output = optarg; break;
        case OPT_ACCOUNT: {
            const char **na = realloc(accounts, (n_accounts + 2)
                                                    * sizeof(*accounts));
            if (!na) {
                cli_error("report: out of memory");
                goto done;
            }
            accounts = na;
            accounts[n_accounts++] = optarg;
            accounts[n_accounts] = NULL;
            break;
        }
        case OPT_FINDINGS_ONLY: only = 1; break;
        case OPT_FAIL_ON:
            fail_on = severity_rank(optarg);
            if (!fail_on) {
                cli_error("report: --fail-on takes warning or info");
                goto usage_error;
            }
            break;
        case OPT_RULES_DIR: rules_dir = optarg; break;
        case OPT_SNAPSHOT: {
            char *end = NULL;
            ro.snapshot_id = strtoll(optarg, &end, 10);
            if (!end || *end || ro.snapshot_id <= 0) {
                cli_error("report: --snapshot takes a positive number");
                goto usage_error;
            }
            break;
        }
        case 'h':
            fputs(usage, stdout);
            free(accounts);
            return cli_finish_stdout();
        default:
            goto usage_error;
        }
    }
    if (optind >= argc) {
        cli_error("report: missing SNAPSHOT or DB");
        goto usage_error;
    }
    ro.accounts = accounts;
    lo.warn = cli_load_warning;
    lo.warn_ctx = &warnings;
    if (rules_load(&rules, rules_dir, &err)) {
        cli_error("report: %s", err.message);
        goto done;
    }
    const char *const *inputs = (const char *const *)argv + optind;
    int n_inputs = argc - optind;
    /* snapshots are loaded into work files that a second connection can
     * read too (the views and the rules then use both cores); a database
     * is read as it is, with the views in TEMP tables, on one connection */
    if (!(n_inputs == 1 && db_is_database_file(inputs[0]))
        && make_work_files(&work))
        goto done;
    early.scratch = work.n ? work.path[0] : NULL;
    if (early.scratch && rules_prepare(&early.batch, &rules, &err)) {
        cli_error("report: %s", err.message);
        goto done;
    }
    if (open_report_db(&db, &db2, &work, inputs, n_inputs, &lo, &co, &early,
                       &err)) {
        cli_error("report: %s", err.message);
        goto done;
    }
    /* every connection has them open: the names can go */
    drop_work_files(&work);
    ro.db2 = db2;
    cli_warnings_finish(&warnings);
    t = trace_start();
    ro.batch = early.batch; /* report_build's now */
    early.batch = NULL;
    if (report_build(&rep, db, &rules, &ro, &err)) {
        cli_error("report: %s", err.message);
        goto done;
    }
    have_report = 1;
    trace_perf(t, "report");
    close_start(&closer, &db, &db2);
    if ((co.events_per_month >= 0 || co.volumes_file)
        && strcmp(rep.costs.kind, "billing") == 0)
        cli_error("report: warning: --events-per-month/--volumes ignored: "
                  "the billing data in the snapshot is used");
    for (size_t i = 0; i < n_accounts; i++)
        if (!report_find_account(&rep, accounts[i]))
            cli_error("report: warning: account %s is not in the snapshot",
                      accounts[i]);
    t = trace_start();
    if (render(stdout, &rep, fmt, only)) {
        cli_error("report: out of memory");
        goto done;
    }
    trace_perf(t, "render");
    if (output && write_file(output, &rep, fmt, only))
        goto done;
    status = cli_finish_stdout();
    if (status == CT_EXIT_OK && fail_on
        && report_max_severity(&rep) >= fail_on)
        status = CT_EXIT_FINDINGS;
done:
    t = trace_start();
    if (have_report)
        report_release(&rep);
    rules_abandon(early.batch);
    rules_release(&rules);
    close_finish(&closer);
    sqlite3_close(db2);
    sqlite3_close(db);
    drop_work_files(&work);
    trace_perf(t, "release");
    trace_perf(t_all, "total");
    free(accounts);
    return status;
usage_error:
    fputs(usage, stderr);
    free(accounts);
    return CT_EXIT_USAGE;
}
