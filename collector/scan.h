/*
 * The collection itself: resolves credentials, identifies the caller, lists
 * the organization's accounts (--org), and scans every account: identity,
 * alias (caller's account only), enabled regions, DescribeTrails in each
 * region, and the three per-trail calls once per distinct trail ARN in the
 * trail's home region. With --costs, Cost Explorer GetCostAndUsage (all
 * pages) as the caller. Every answer or recorded error becomes a snapshot
 * member in the given writer; failures after retries are recorded and the
 * scan goes on.
 */
#ifndef CT_COLLECTOR_SCAN_H
#define CT_COLLECTOR_SCAN_H

#include <signal.h>
#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "collector/aws.h"
#include "collector/credentials.h"
#include "collector/snapwriter.h"
#include "core/error.h"
#include "core/snapshot.h"

#define SCAN_DEFAULT_ROLE "OrganizationAccountAccessRole"
#define SCAN_DEFAULT_CONCURRENCY 32
#define SCAN_DEFAULT_COST_MONTHS 3
#define SCAN_COST_MONTHS_MAX 12
/* GetCostAndUsage pages followed at most: each costs $0.01 */
#define SCAN_COST_PAGES_MAX 1000

struct scan_progress {
    size_t accounts_total; /* 0 until known */
    size_t accounts_done;
    unsigned long calls, retries, throttles;
    size_t errors;  /* error members recorded so far */
    double elapsed; /* seconds */
};

typedef void (*scan_progress_fn)(void *ctx, const struct scan_progress *p);

struct scan_options {
    const char *profile;        /* NULL: chain default */
    const char *const *regions; /* --region; NULL: enabled regions */
    size_t n_regions;
    int org;
    const char *role_name;       /* NULL: SCAN_DEFAULT_ROLE */
    const char *external_id;     /* may be NULL */
    const char *const *accounts; /* --accounts (with org) */
    size_t n_accounts;
    const char *const *exclude; /* --exclude-accounts */
    size_t n_exclude;
    int concurrency;                  /* 0: SCAN_DEFAULT_CONCURRENCY */
    const char *endpoint_url;         /* may be NULL */
    struct http_transport *transport; /* NULL: libcurl; borrowed */
    aws_log_fn log;                   /* --verbose lines; may be NULL */
    scan_progress_fn progress;        /* may be NULL */
    aws_log_fn warn;                  /* credential warnings; may be NULL */
    void *cb_ctx;
    volatile sig_atomic_t *stop; /* set by a signal handler */
    /* --resume: scan only resume_accounts (their old members dropped) or,
     * with resume_org, list the organization again and scan every account
     * not in resume_done; the caller must be resume_caller. */
    int is_resume;
    int resume_org;
    const char *const *resume_accounts;
    size_t n_resume_accounts;
    const char *const *resume_done;
    size_t n_resume_done;
    const char *resume_caller;
    /* HTTP of the network credential providers; NULL: libcurl easy */
    creds_http_fn creds_http;
    void *creds_http_ctx;
    /* --costs: GetCostAndUsage (CloudTrail, by linked account and usage
     * type, monthly) over the last cost_months complete months, with the
     * caller's credentials; cost_months 0: SCAN_DEFAULT_COST_MONTHS */
    int costs;
    int cost_months;
    time_t now; /* the cost period is computed from it; 0: time(NULL) */
};

struct scan_summary {
    char caller_account[CT_ACCOUNT_ID_LEN + 1];
    char partition[16];
    struct scan_progress final;
    size_t accounts_scanned; /* accounts with at least one DescribeTrails */
    size_t trails_files;     /* describe-trails.json members */
    int is_interrupted; /* SIGINT/SIGTERM: the manifest says complete: false */
};

#define SCAN_SUMMARY_INIT                                                      \
    {                                                                          \
        {0}, {0}, {0, 0, 0, 0, 0, 0, 0.0}, 0, 0, 0                             \
    }

/*
 * Runs the collection into w and builds the manifest without "files"
 * (*manifest, owned: json_decref). Returns 0 when the caller could be
 * identified and the scan ran (recorded errors included), CT_EAUTH when no
 * credentials or the caller identity failed, CT_EINVAL when interrupted
 * before the scan started or twice (*opt->stop >= 2). An interrupt during
 * the scan (*opt->stop == 1) stops new calls, lets those under way finish
 * (10 s at most), and returns 0 with summary->is_interrupted set and a
 * manifest saying "complete": false and listing "not_collected".
 */
int scan_run(json_t **manifest, struct scan_summary *summary,
             struct snapwriter *w, const struct scan_options *opt,
             struct ct_error *err);

/* Who the credentials are: what scan_whoami fills. */
struct scan_identity {
    const char *provider; /* static name of the provider that answered */
    char *profile;        /* owned; NULL for the environment and others */
    char region[CT_REGION_MAX + 1]; /* region of the STS call */
    time_t expiration;              /* 0: the credentials do not expire */
    json_t *caller;                 /* owned: {"UserId","Account","Arn"} */
};

#define SCAN_IDENTITY_INIT                                                     \
    {                                                                          \
        NULL, NULL, {0}, 0, NULL                                               \
    }

void scan_identity_release(struct scan_identity *id);

/*
 * Resolves the credentials as scan_run does and calls GetCallerIdentity,
 * nothing else. Fills out (release with scan_identity_release); CT_EAUTH
 * when no credentials or the call failed. Never exposes a secret.
 */
int scan_whoami(struct scan_identity *out, const struct scan_options *opt,
                struct ct_error *err);

#endif
