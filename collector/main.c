/*
 * ctcollect: collects the read-only AWS answers that ctaudit analyzes
 * (CloudTrail trails, selectors, status; the organization's accounts) into a
 * snapshot. See README.md, section "Collector", and schema/SNAPSHOT.md.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <libxml/parser.h>

#include "collector/progress.h"
#include "collector/scan.h"
#include "collector/snapwriter.h"
#include "core/snapshot.h"
#include "core/timefmt.h"

#define EXIT_OK 0
#define EXIT_FAIL 1
#define EXIT_USAGE 2

static volatile sig_atomic_t g_stop;

/* The first SIGINT/SIGTERM asks for an incomplete snapshot of what was
 * collected, the second aborts. */
static void on_signal(int sig)
{
    (void)sig;
    if (g_stop < 2)
        g_stop++;
}

static const char usage_text[] =
    "usage: ctcollect [options]\n"
    "\n"
    "Collects CloudTrail configuration (read-only AWS calls) into a snapshot\n"
    "for `ctaudit load`.\n"
    "\n"
    "  --profile P            credentials profile (default: AWS_PROFILE or "
    "default)\n"
    "  --region r1,r2         scan only these regions (default: each "
    "account's\n"
    "                         enabled regions, from ec2 DescribeRegions)\n"
    "  --org                  scan every ACTIVE account of the organization\n"
    "  --role-name NAME       role assumed in member accounts\n"
    "                         (default: OrganizationAccountAccessRole)\n"
    "  --external-id ID       external id for AssumeRole\n"
    "  --accounts id,...      with --org: only these accounts\n"
    "  --exclude-accounts id,... with --org: skip these accounts\n"
    "  --concurrency N        requests in flight (default 32)\n"
    "  --costs                also read CloudTrail's billed usage from Cost\n"
    "                         Explorer (GetCostAndUsage, by linked account "
    "and\n"
    "                         usage type, monthly), with the caller's own\n"
    "                         (management account) credentials; needs\n"
    "                         ce:GetCostAndUsage. AWS charges $0.01 per "
    "request:\n"
    "                         N pages cost N cents\n"
    "  --cost-months N        with --costs: the last N complete calendar "
    "months\n"
    "                         (1-12, default 3)\n"
    "  --endpoint-url URL     send every call to URL (tests, VPC endpoints)\n"
    "  -o FILE                output: .tar.gz/.tgz (default), .tar.zst, "
    ".tar.xz,\n"
    "                         .tar, or DIR/ for a directory; default\n"
    "                         ctaudit-snapshot-<account>-<UTC time>.tar.gz\n"
    "  --verbose              log every call (never credentials) on stderr\n"
    "  --resume SNAPSHOT      continue an interrupted (incomplete) snapshot:\n"
    "                         collect only what it lacks, with its options,\n"
    "                         and write a new, complete one (-o)\n"
    "  --whoami               print which credential provider answered and "
    "the\n"
    "                         caller identity (GetCallerIdentity), then exit\n"
    "  --help                 this text\n"
    "\n"
    "Ctrl-C (SIGINT) or SIGTERM stops new calls, lets those under way finish\n"
    "(10 s at most) and writes an incomplete snapshot (manifest \"complete\":\n"
    "false, \"not_collected\"); a second one aborts without writing.\n"
    "\n"
    "Exit status: 0 snapshot written (failed calls, if any, are recorded in "
    "it\n"
    "and counted in a warning), 1 operational error (no credentials, caller\n"
    "unknown, nothing could be collected, output not writable, interrupted:\n"
    "an incomplete snapshot may have been written), 2 usage error.\n";

struct list {
    char **v;
    size_t n;
};

static void list_free(struct list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

/* Appends the comma-separated items of s; -1 on OOM or an empty item. */
static int list_parse(struct list *l, const char *s)
{
    const char *p = s;
    for (;;) {
        size_t n = strcspn(p, ",");
        if (n == 0)
            return -1;
        char **v = realloc(l->v, (l->n + 1) * sizeof(*v));
        if (!v)
            return -1;
        l->v = v;
        l->v[l->n] = strndup(p, n);
        if (!l->v[l->n])
            return -1;
        l->n++;
        if (!p[n])
            return 0;
        p += n + 1;
    }
}

static int usage_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

static int usage_error(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "ctcollect: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'ctcollect --help'.\n");
    return EXIT_USAGE;
}

/* --resume: what the incomplete snapshot lacks, and its options. */
struct resume {
    json_t *manifest;        /* the old one */
    struct list redo;        /* accounts scanned again */
    struct list done;        /* accounts kept as they are */
    int redo_org;            /* the organization is read again */
    size_t old_trails_files; /* describe-trails.json members kept */
};

static int in_strlist(const struct list *l, const char *s, size_t n)
{
    for (size_t i = 0; i < l->n; i++)
        if (strlen(l->v[i]) == n && strncmp(l->v[i], s, n) == 0)
            return 1;
    return 0;
}

static int list_add(struct list *l, const char *s, size_t n)
{
    char **v = realloc(l->v, (l->n + 1) * sizeof(*v));
    if (!v)
        return -1;
    l->v = v;
    l->v[l->n] = strndup(s, n);
    if (!l->v[l->n])
        return -1;
    l->n++;
    return 0;
}

/* snapwriter_load keep callback: drops what is collected again. */
static int resume_keep(void *ctx, const char *path)
{
    struct resume *rs = ctx;
    if (strncmp(path, "organization/", 13) == 0)
        return !rs->redo_org;
    if (strncmp(path, "accounts/", 9) == 0) {
        const char *id = path + 9;
        size_t n = strcspn(id, "/");
        if (in_strlist(&rs->redo, id, n))
            return 0;
        if (!in_strlist(&rs->done, id, n) && list_add(&rs->done, id, n) != 0)
            return 0;
        size_t len = strlen(path);
        if (len > 20 && strcmp(path + len - 20, "describe-trails.json") == 0)
            rs->old_trails_files++;
    }
    return 1;
}

static int drop_all(void *ctx, const char *path)
{
    (void)ctx;
    (void)path;
    return 0;
}

/* Reads the snapshot twice: its manifest first, then the members kept. */
static int resume_prepare(struct resume *rs, struct snapwriter *w,
                          const char *path, struct ct_error *err)
{
    int rc = snapwriter_load(w, &rs->manifest, path, drop_all, NULL, err);
    if (rc)
        return rc;
    json_t *complete = json_object_get(rs->manifest, "complete");
    if (!json_is_boolean(complete) || json_is_true(complete))
        return ct_error_set(err, CT_EINVAL,
                            "its manifest says it is complete: nothing to "
                            "resume");
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(rs->manifest, "not_collected"), i, e)
    {
        const char *acct = json_string_value(json_object_get(e, "account"));
        if (!acct)
            rs->redo_org = 1;
        else if (!ct_valid_account_id(acct))
            return ct_error_set(err, CT_EPARSE,
                                "invalid account '%s' in not_collected", acct);
        else if (!in_strlist(&rs->redo, acct, strlen(acct)) &&
                 list_add(&rs->redo, acct, strlen(acct)) != 0)
            return ct_error_set(err, CT_ENOMEM, "out of memory");
    }
    return snapwriter_load(w, NULL, path, resume_keep, rs, err);
}

/* Copies a manifest string list into l (borrowed by so). */
static void strings_into(struct list *l, const json_t *a)
{
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
    {
        const char *s = json_string_value(v);
        if (s)
            list_add(l, s, strlen(s));
    }
}

/* The old run's options (manifest "options") and what to collect. */
static void resume_apply(struct resume *rs, struct scan_options *so,
                         struct list *regions, struct list *accounts,
                         struct list *exclude)
{
    const json_t *o = json_object_get(rs->manifest, "options");
    so->org = json_is_true(json_object_get(o, "org"));
    so->role_name = json_string_value(json_object_get(o, "role_name"));
    strings_into(regions, json_object_get(o, "regions"));
    strings_into(accounts, json_object_get(o, "accounts"));
    strings_into(exclude, json_object_get(o, "exclude_accounts"));
    so->costs = json_is_true(json_object_get(o, "costs"));
    json_int_t months = json_integer_value(json_object_get(o, "cost_months"));
    so->cost_months =
        months >= 1 && months <= SCAN_COST_MONTHS_MAX ? (int)months : 0;
    so->regions = (const char *const *)regions->v;
    so->n_regions = regions->n;
    so->accounts = (const char *const *)accounts->v;
    so->n_accounts = accounts->n;
    so->exclude = (const char *const *)exclude->v;
    so->n_exclude = exclude->n;
    so->is_resume = 1;
    so->resume_org = rs->redo_org;
    so->resume_accounts = (const char *const *)rs->redo.v;
    so->n_resume_accounts = rs->redo.n;
    so->resume_done = (const char *const *)rs->done.v;
    so->n_resume_done = rs->done.n;
    so->resume_caller = json_string_value(
        json_object_get(json_object_get(rs->manifest, "caller"), "Account"));
}

static void resume_release(struct resume *rs)
{
    json_decref(rs->manifest);
    list_free(&rs->redo);
    list_free(&rs->done);
}

/* --whoami: the provider and the caller identity on stdout, no secret. */
static int print_whoami(const struct scan_options *so, struct progress *pr)
{
    struct scan_identity id = SCAN_IDENTITY_INIT;
    struct ct_error err = CT_ERROR_INIT;
    int rc = scan_whoami(&id, so, &err);
    progress_clear(pr);
    if (rc) {
        fprintf(stderr, "ctcollect: whoami failed: %s\n", err.message);
        return EXIT_FAIL;
    }
    const json_t *c = id.caller;
    printf("provider: %s\n", id.provider);
    if (id.profile)
        printf("profile: %s\n", id.profile);
    printf("account: %s\n", json_string_value(json_object_get(c, "Account")));
    const char *arn = json_string_value(json_object_get(c, "Arn"));
    const char *user = json_string_value(json_object_get(c, "UserId"));
    printf("arn: %s\n", arn ? arn : "");
    printf("user_id: %s\n", user ? user : "");
    printf("region: %s\n", id.region);
    if (id.expiration) {
        char when[CT_ISO_TIME_MAX];
        ct_time_format_utc(when, id.expiration);
        printf("expires: %s\n", when);
    }
    scan_identity_release(&id);
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    enum {
        OPT_PROFILE = 256,
        OPT_REGION,
        OPT_ORG,
        OPT_ROLE,
        OPT_EXTID,
        OPT_ACCOUNTS,
        OPT_EXCLUDE,
        OPT_CONC,
        OPT_ENDPOINT,
        OPT_VERBOSE,
        OPT_WHOAMI,
        OPT_RESUME,
        OPT_COSTS,
        OPT_COST_MONTHS,
        OPT_HELP
    };
    static const struct option longopts[] = {
        {"profile", required_argument, NULL, OPT_PROFILE},
        {"region", required_argument, NULL, OPT_REGION},
        {"org", no_argument, NULL, OPT_ORG},
        {"role-name", required_argument, NULL, OPT_ROLE},
        {"external-id", required_argument, NULL, OPT_EXTID},
        {"accounts", required_argument, NULL, OPT_ACCOUNTS},
        {"exclude-accounts", required_argument, NULL, OPT_EXCLUDE},
        {"concurrency", required_argument, NULL, OPT_CONC},
        {"endpoint-url", required_argument, NULL, OPT_ENDPOINT},
        {"output", required_argument, NULL, 'o'},
        {"verbose", no_argument, NULL, OPT_VERBOSE},
        {"whoami", no_argument, NULL, OPT_WHOAMI},
        {"resume", required_argument, NULL, OPT_RESUME},
        {"costs", no_argument, NULL, OPT_COSTS},
        {"cost-months", required_argument, NULL, OPT_COST_MONTHS},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0}};
    struct scan_options so;
    struct list regions = {NULL, 0}, accounts = {NULL, 0}, exclude = {NULL, 0};
    const char *output = NULL;
    char default_output[128];
    int verbose = 0, whoami = 0, c, status = EXIT_FAIL;
    const char *resume_path = NULL;
    struct resume rs;
    memset(&rs, 0, sizeof(rs));
    struct snapwriter *w = NULL;
    json_t *manifest = NULL;
    struct scan_summary sum = SCAN_SUMMARY_INIT;
    struct ct_error err = CT_ERROR_INIT;
    struct progress pr;
    time_t started = time(NULL);
    int curl_ready = 0;

    memset(&so, 0, sizeof(so));
    while ((c = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_PROFILE:
            so.profile = optarg;
            break;
        case OPT_REGION:
            if (list_parse(&regions, optarg) != 0) {
                status = usage_error("invalid --region '%s'", optarg);
                goto done;
            }
            break;
        case OPT_ORG:
            so.org = 1;
            break;
        case OPT_ROLE:
            if (!*optarg || strchr(optarg, ':')) {
                status = usage_error("invalid --role-name '%s'", optarg);
                goto done;
            }
            so.role_name = optarg;
            break;
        case OPT_EXTID:
            so.external_id = optarg;
            break;
        case OPT_ACCOUNTS:
            if (list_parse(&accounts, optarg) != 0) {
                status = usage_error("invalid --accounts '%s'", optarg);
                goto done;
            }
            break;
        case OPT_EXCLUDE:
            if (list_parse(&exclude, optarg) != 0) {
                status = usage_error("invalid --exclude-accounts '%s'", optarg);
                goto done;
            }
            break;
        case OPT_CONC: {
            char *end = NULL;
            errno = 0;
            long n = strtol(optarg, &end, 10);
            if (errno || !end || *end || n < 1 || n > 1024) {
                status =
                    usage_error("invalid --concurrency '%s' (1-1024)", optarg);
                goto done;
            }
            so.concurrency = (int)n;
            break;
        }
        case OPT_ENDPOINT:
            if (strncmp(optarg, "http://", 7) != 0 &&
                strncmp(optarg, "https://", 8) != 0) {
                status = usage_error("invalid --endpoint-url '%s'", optarg);
                goto done;
            }
            so.endpoint_url = optarg;
            break;
        case 'o':
            output = optarg;
            break;
        case OPT_VERBOSE:
            verbose = 1;
            break;
        case OPT_WHOAMI:
            whoami = 1;
            break;
        case OPT_RESUME:
            resume_path = optarg;
            break;
        case OPT_COSTS:
            so.costs = 1;
            break;
        case OPT_COST_MONTHS: {
            char *end = NULL;
            errno = 0;
            long n = strtol(optarg, &end, 10);
            if (errno || !end || *end || n < 1 || n > SCAN_COST_MONTHS_MAX) {
                status =
                    usage_error("invalid --cost-months '%s' (1-12)", optarg);
                goto done;
            }
            so.cost_months = (int)n;
            break;
        }
        case OPT_HELP:
            fputs(usage_text, stdout);
            status = EXIT_OK;
            goto done;
        default:
            fprintf(stderr, "Try 'ctcollect --help'.\n");
            status = EXIT_USAGE;
            goto done;
        }
    }
    if (optind < argc) {
        status = usage_error("unexpected argument '%s'", argv[optind]);
        goto done;
    }
    for (size_t i = 0; i < regions.n; i++)
        if (!ct_valid_region(regions.v[i])) {
            status = usage_error("invalid region '%s'", regions.v[i]);
            goto done;
        }
    for (size_t i = 0; i < accounts.n; i++)
        if (!ct_valid_account_id(accounts.v[i])) {
            status = usage_error("invalid account id '%s'", accounts.v[i]);
            goto done;
        }
    for (size_t i = 0; i < exclude.n; i++)
        if (!ct_valid_account_id(exclude.v[i])) {
            status = usage_error("invalid account id '%s'", exclude.v[i]);
            goto done;
        }
    if ((accounts.n || exclude.n) && !so.org) {
        status =
            usage_error("%s", "--accounts and --exclude-accounts need --org");
        goto done;
    }
    if ((so.role_name || so.external_id) && !so.org && !resume_path) {
        status = usage_error("%s", "--role-name and --external-id need --org");
        goto done;
    }
    if (so.cost_months && !so.costs) {
        status = usage_error("%s", "--cost-months needs --costs");
        goto done;
    }
    if (whoami && (output || so.org || accounts.n || exclude.n || so.costs)) {
        status = usage_error("%s", "--whoami takes no -o, --org, --accounts, "
                                   "--exclude-accounts or --costs");
        goto done;
    }
    if (resume_path && (so.org || regions.n || accounts.n || exclude.n ||
                        so.role_name || whoami || so.costs)) {
        status = usage_error("%s", "--resume takes --org, --region, "
                                   "--role-name, --accounts, "
                                   "--exclude-accounts and --costs from the "
                                   "snapshot");
        goto done;
    }
    if (output) {
        enum snapwriter_kind kind;
        if (snapwriter_kind(&kind, output, &err) != 0) {
            status = usage_error("%s", err.message);
            goto done;
        }
    }
    so.regions = (const char *const *)regions.v;
    so.n_regions = regions.n;
    so.accounts = (const char *const *)accounts.v;
    so.n_accounts = accounts.n;
    so.exclude = (const char *const *)exclude.v;
    so.n_exclude = exclude.n;

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "ctcollect: cannot initialize libcurl\n");
        goto done;
    }
    curl_ready = 1;
    xmlInitParser();
    progress_init(&pr, stderr, verbose);
    so.log = progress_log;
    so.progress = progress_update;
    so.warn = progress_warn;
    so.cb_ctx = &pr;
    so.stop = &g_stop;

    if (whoami) {
        status = print_whoami(&so, &pr);
        goto done;
    }
    if (snapwriter_new(&w, &err) != 0) {
        fprintf(stderr, "ctcollect: %s\n", err.message);
        goto done;
    }
    if (resume_path) {
        if (resume_prepare(&rs, w, resume_path, &err) != 0) {
            fprintf(stderr, "ctcollect: cannot resume '%s': %s\n", resume_path,
                    err.message);
            goto done;
        }
        resume_apply(&rs, &so, &regions, &accounts, &exclude);
    }
    int rc = scan_run(&manifest, &sum, w, &so, &err);
    progress_clear(&pr);
    if (rc) {
        if (g_stop)
            fprintf(stderr, "ctcollect: interrupted: no snapshot written\n");
        else
            fprintf(stderr, "ctcollect: collection failed: %s\n", err.message);
        goto done;
    }
    if (resume_path)
        sum.trails_files += rs.old_trails_files;
    if (sum.trails_files == 0 && sum.is_interrupted) {
        fprintf(stderr, "ctcollect: interrupted before anything was "
                        "collected: no snapshot written\n");
        goto done;
    }
    if (sum.trails_files == 0) {
        fprintf(stderr,
                "ctcollect: nothing could be collected: %zu errors, no "
                "region could be read; no snapshot written\n",
                sum.final.errors);
        goto done;
    }
    if (!output) {
        struct tm tm;
        char ts[32];
        gmtime_r(&started, &tm);
        strftime(ts, sizeof(ts), "%Y%m%dT%H%M%SZ", &tm);
        snprintf(default_output, sizeof(default_output),
                 "ctaudit-snapshot-%s-%s.tar.gz", sum.caller_account, ts);
        output = default_output;
    }
    snapwriter_set_abort(w, &g_stop, 2);
    if (snapwriter_commit(w, output, manifest, time(NULL), &err) != 0) {
        if (g_stop >= 2)
            fprintf(stderr, "ctcollect: interrupted twice: no snapshot "
                            "written\n");
        else
            fprintf(stderr, "ctcollect: cannot write snapshot '%s': %s\n",
                    output, err.message);
        goto done;
    }
    if (sum.is_interrupted) {
        size_t n = json_array_size(json_object_get(manifest, "not_collected"));
        fprintf(stderr,
                "ctcollect: interrupted: wrote incomplete snapshot '%s' "
                "(complete: false; %zu accounts or regions not collected, "
                "listed in its manifest)\n",
                output, n);
        goto done; /* exit 1: the collection did not complete */
    }
    fprintf(stderr,
            "ctcollect: wrote '%s': %zu accounts, %zu members, %lu calls, "
            "%lu retries, %zu errors recorded, %.1fs\n",
            output, sum.final.accounts_total, snapwriter_count(w) + 1,
            sum.final.calls, sum.final.retries, sum.final.errors,
            sum.final.elapsed);
    if (sum.final.errors > 0)
        fprintf(stderr,
                "ctcollect: warning: %zu errors recorded in the snapshot "
                "(some accounts or regions could not be read; see the "
                "error members)\n",
                sum.final.errors);
    status = EXIT_OK;
done:
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "ctcollect: cannot write to standard output\n");
        status = EXIT_FAIL;
    }
    json_decref(manifest);
    snapwriter_free(w);
    resume_release(&rs);
    list_free(&regions);
    list_free(&accounts);
    list_free(&exclude);
    if (curl_ready) {
        xmlCleanupParser();
        curl_global_cleanup();
    }
    return status;
}
