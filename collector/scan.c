/*
 * The collection state machine. Everything runs inside aws_client_run():
 * each completed call records its member (or error member) and starts the
 * calls that depend on it. An account is finished when its last call
 * completes; then the next waiting account starts, so that at most
 * max_active accounts hold credentials and queue calls at a time.
 */
#include "collector/scan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "collector/awsxml.h"
#include "collector/creds_http.h"
#include "collector/credentials.h"
#include "core/timefmt.h"

#define SESSION_NAME "ctcollect"
#define ROLE_DURATION 3600
/* temporary credentials are renewed this long before they expire, as the
 * SDKs do (botocore: 15 min advisory, 10 min mandatory; 5 min here, which
 * still outlasts every retry schedule of a call) */
#define REFRESH_MARGIN 300
#define REFRESH_RETRY 30 /* seconds between attempts after a failure */
/* after the first SIGINT/SIGTERM, calls under way may finish this long */
#define DRAIN_MS 10000

struct scan;

struct account {
    struct scan *s;
    char id[CT_ACCOUNT_ID_LEN + 1];
    int is_caller;
    struct ct_credentials creds; /* assumed-role credentials (members) */
    const struct ct_credentials *use;
    int pending; /* calls in flight or queued */
    int started;
    int is_refreshing;      /* a renewing AssumeRole is under way */
    int has_refresh_failed; /* recorded once; no more attempts */
    int has_trails;
    char **arns; /* distinct trail ARNs seen */
    size_t n_arns, cap_arns;
};

struct scan {
    const struct scan_options *opt;
    struct aws_client *client;
    struct snapwriter *w;
    struct creds_result cr;
    char home[CT_REGION_MAX + 1];
    char partition[16];
    json_t *caller; /* GetCallerIdentity of the caller */
    char caller_account[CT_ACCOUNT_ID_LEN + 1];
    struct account **accounts;
    size_t n_accounts;
    size_t next_account, n_active, max_active, n_done;
    json_t *org_accounts; /* merged ListAccounts pages */
    size_t errors;
    int fatal; /* a local failure (OOM, write) */
    struct ct_error fatal_err;
    struct timespec t0;
    size_t trails_files;
    struct creds_options cro; /* to resolve the caller's credentials again */
    int is_refreshing_caller;
    int has_caller_refresh_failed; /* recorded once */
    time_t caller_retry_at;
    unsigned long refreshes;         /* renewals that succeeded */
    int is_scanning;                 /* setup done: an interrupt drains */
    int is_draining;                 /* interrupted: no new calls */
    long long drain_deadline;        /* monotonic ms */
    volatile sig_atomic_t hard_stop; /* the client's stop flag */
    json_t *not_collected;           /* "account/region" -> entry */
    struct aws_stats last_stats;     /* once the client is freed */
    /* --costs TimePeriod, YYYY-MM-DD */
    char cost_start[32], cost_end[32];
};

/* What a completed call was for. */
enum step {
    STEP_ASSUME_ROLE,
    STEP_IDENTITY,
    STEP_ALIASES,
    STEP_REGIONS,
    STEP_DESCRIBE_TRAILS,
    STEP_EVENT_SELECTORS,
    STEP_INSIGHT_SELECTORS,
    STEP_TRAIL_STATUS,
    STEP_LIST_ACCOUNTS,
    STEP_DESCRIBE_ORG,
    STEP_REFRESH_ROLE,
    STEP_COSTS
};

struct req {
    struct scan *s;
    struct account *a; /* NULL for organization calls */
    enum step step;
    char operation[CT_OPERATION_MAX + 1];
    char region[CT_REGION_MAX + 1];
    char owner[CT_ACCOUNT_ID_LEN + 1];
    char trail[CT_TRAIL_NAME_MAX + 1];
    char *arn;
    unsigned long page; /* STEP_COSTS: page number, from 1 */
    char *token;        /* STEP_COSTS: the NextPageToken sent, or NULL */
};

static double elapsed_s(const struct scan *s)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - s->t0.tv_sec) +
           (double)(t.tv_nsec - s->t0.tv_nsec) / 1e9;
}

static void fill_progress(struct scan_progress *p, const struct scan *s)
{
    struct aws_stats st = s->last_stats;
    if (s->client)
        aws_client_stats(&st, s->client);
    p->accounts_total = s->n_accounts;
    p->accounts_done = s->n_done;
    p->calls = st.calls;
    p->retries = st.retries;
    p->throttles = st.throttles;
    p->errors = s->errors;
    p->elapsed = elapsed_s(s);
}

static void refresh_due(struct scan *s);

static long long mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void on_log(void *ctx, const char *line);

/*
 * The first SIGINT/SIGTERM (*stop == 1) stops new calls and lets those
 * under way finish for at most DRAIN_MS; a second one (*stop >= 2), the
 * deadline, or an interrupt before the scan started stops the client now.
 */
static void check_stop(struct scan *s)
{
    if (!s->opt->stop || !*s->opt->stop)
        return;
    if (!s->is_scanning || *s->opt->stop >= 2) {
        s->hard_stop = 1;
        return;
    }
    if (!s->is_draining) {
        s->is_draining = 1;
        s->drain_deadline = mono_ms() + DRAIN_MS;
        /* queued calls are never sent: on_cancel lists them */
        if (s->client)
            aws_client_drain(s->client);
        on_log(s, "interrupted: finishing the calls under way (at most 10 "
                  "s; interrupt again to abort)");
    }
    if (mono_ms() >= s->drain_deadline)
        s->hard_stop = 1;
}

/* Lists what an interrupted run did not collect (once per account and
 * region; region NULL for the whole account, account NULL for the
 * organization). */
static void note_not_collected(struct scan *s, const char *account,
                               const char *region, const char *reason)
{
    char key[CT_ACCOUNT_ID_LEN + CT_REGION_MAX + 8];
    snprintf(key, sizeof(key), "%s/%s", account ? account : "",
             region ? region : "");
    if (!s->not_collected)
        s->not_collected = json_object();
    if (!s->not_collected || json_object_get(s->not_collected, key))
        return;
    json_object_set_new(s->not_collected, key,
                        json_pack("{s:s?,s:s?,s:s}", "account", account,
                                  "region", region, "reason", reason));
}

static void on_tick(void *ctx)
{
    struct scan *s = ctx;
    struct scan_progress p;
    check_stop(s);
    if (!s->is_draining)
        refresh_due(s);
    if (!s->opt->progress)
        return;
    fill_progress(&p, s);
    s->opt->progress(s->opt->cb_ctx, &p);
}

static void on_log(void *ctx, const char *line)
{
    struct scan *s = ctx;
    if (s->opt->log)
        s->opt->log(s->opt->cb_ctx, line);
}

static void set_fatal(struct scan *s, const struct ct_error *e)
{
    if (!s->fatal) {
        s->fatal = 1;
        s->fatal_err = *e;
    }
}

/* Adds a member at the path of ref; raw bytes or a JSON value. */
static void put_member(struct scan *s, const struct ct_member_ref *ref,
                       const char *raw, size_t len, const json_t *j)
{
    char path[CT_MEMBER_PATH_MAX];
    struct ct_error e = CT_ERROR_INIT;
    int rc = ct_snapshot_member_path(path, sizeof(path), ref, &e);
    if (!rc)
        rc = j ? snapwriter_add_json(s->w, path, j, &e)
               : snapwriter_add(s->w, path, raw, len, &e);
    if (rc)
        set_fatal(s, &e);
}

static void ref_init(struct ct_member_ref *ref, enum ct_member_kind kind,
                     const struct req *r)
{
    memset(ref, 0, sizeof(*ref));
    ref->kind = kind;
    if (r->a)
        memcpy(ref->account, r->a->id, sizeof(ref->account));
    snprintf(ref->region, sizeof(ref->region), "%s", r->region);
    snprintf(ref->owner, sizeof(ref->owner), "%s", r->owner);
    snprintf(ref->trail_name, sizeof(ref->trail_name), "%s", r->trail);
    snprintf(ref->operation, sizeof(ref->operation), "%s", r->operation);
}

static const char *const assume_role_causes[] = {
    "The role does not exist in the target account: accounts invited into "
    "the organization (rather than created through it) do not get "
    "OrganizationAccountAccessRole automatically; create the role with a "
    "trust policy for the management account.",
    "The role's trust policy points to a different management account (the "
    "account was moved between organizations); update the trust policy to "
    "trust this organization's management account."};

/* Records res as an error member for r (kind chosen by the caller). */
static void record_error(struct scan *s, const struct req *r,
                         enum ct_member_kind kind, const struct aws_result *res)
{
    struct ct_member_ref ref;
    json_t *j = json_pack("{s:s,s:s,s:s,s:i}", "Operation", r->operation,
                          "Code", res->code[0] ? res->code : "Unknown",
                          "Message", res->message, "Attempts", res->attempts);
    if (!j) {
        struct ct_error e = CT_ERROR_INIT;
        ct_error_set(&e, CT_ENOMEM, "out of memory");
        set_fatal(s, &e);
        return;
    }
    if (res->http_status > 0)
        json_object_set_new(j, "HttpStatus", json_integer(res->http_status));
    if (kind == CT_MEMBER_ACCOUNT_ERROR &&
        strcmp(r->operation, "AssumeRole") == 0 &&
        (strcmp(res->code, "AccessDenied") == 0 ||
         strcmp(res->code, "AccessDeniedException") == 0)) {
        json_t *causes = json_array();
        for (size_t i = 0; causes && i < 2; i++)
            json_array_append_new(causes, json_string(assume_role_causes[i]));
        json_object_set_new(j, "ProbableCauses", causes);
    }
    ref_init(&ref, kind, r);
    put_member(s, &ref, NULL, 0, j);
    json_decref(j);
    s->errors++;
}

static struct req *req_new(struct scan *s, struct account *a, enum step step,
                           const char *operation, const char *region)
{
    struct req *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->s = s;
    r->a = a;
    r->step = step;
    snprintf(r->operation, sizeof(r->operation), "%s", operation);
    snprintf(r->region, sizeof(r->region), "%s", region ? region : "");
    return r;
}

static void req_free(struct req *r)
{
    if (!r)
        return;
    free(r->arn);
    free(r->token);
    free(r);
}

static void on_done(void *ctx, struct aws_result *res);

/* A call an interrupted run did not make or did not see complete. */
static void note_req(struct scan *s, const struct req *r)
{
    if (r->step == STEP_REFRESH_ROLE)
        return; /* nothing of the snapshot depends on it */
    if (!r->a) {
        note_not_collected(s, NULL, NULL,
                           r->step == STEP_COSTS
                               ? "interrupted: the cost and usage pages were "
                                 "not read completely"
                               : "interrupted: the organization was not read "
                                 "completely");
        return;
    }
    note_not_collected(s, r->a->id, r->region[0] ? r->region : NULL,
                       r->region[0] ? "interrupted: the region was not read "
                                      "completely"
                                    : "interrupted: the account was not read "
                                      "completely");
}

static void on_cancel(void *ctx)
{
    struct req *r = ctx;
    if (r->s->is_draining)
        note_req(r->s, r);
    req_free(r);
}

/* Queues a call for r (taking r). On failure records a local error. */
static void start(struct scan *s, struct req *r, enum aws_service svc,
                  const char *region, const char *params, const char *lane)
{
    struct ct_error e = CT_ERROR_INIT;
    if (!r) {
        ct_error_set(&e, CT_ENOMEM, "out of memory");
        set_fatal(s, &e);
        return;
    }
    if (s->is_draining) {
        note_req(s, r);
        req_free(r);
        return;
    }
    /* AssumeRole (first or renewing) runs as the caller */
    const struct ct_credentials *creds =
        r->a && r->step != STEP_REFRESH_ROLE ? r->a->use : &s->cr.creds;
    struct aws_call_spec spec = {svc,   r->operation, region,   params,
                                 creds, lane,         on_cancel};
    if (aws_call_start(s->client, &spec, on_done, r, &e) != 0) {
        set_fatal(s, &e);
        req_free(r);
        return;
    }
    if (r->a)
        r->a->pending++;
}

static int in_list(const char *id, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(id, list[i]) == 0)
            return 1;
    return 0;
}

/* ---- accounts ---- */

static void account_free(struct account *a)
{
    if (!a)
        return;
    ct_credentials_release(&a->creds);
    for (size_t i = 0; i < a->n_arns; i++)
        free(a->arns[i]);
    free(a->arns);
    free(a);
}

static void start_next_accounts(struct scan *s);

static void account_finish(struct account *a)
{
    struct scan *s = a->s;
    ct_credentials_release(&a->creds);
    a->use = NULL;
    s->n_done++;
    s->n_active--;
    start_next_accounts(s);
}

/* Called after each completion for an account. */
static void account_settle(struct account *a)
{
    if (a->pending == 0)
        account_finish(a);
}

static void account_calls(struct account *a)
{
    struct scan *s = a->s;
    char lane[64];
    snprintf(lane, sizeof(lane), "%s", a->id);
    if (a->is_caller) {
        struct ct_member_ref ref;
        memset(&ref, 0, sizeof(ref));
        ref.kind = CT_MEMBER_IDENTITY;
        memcpy(ref.account, a->id, sizeof(ref.account));
        put_member(s, &ref, NULL, 0, s->caller);
        /* the member role (article's policy) has no iam:ListAccountAliases:
         * the alias is read for the caller's own account only */
        start(s, req_new(s, a, STEP_ALIASES, "ListAccountAliases", NULL),
              AWS_IAM, s->home, NULL, lane);
    } else {
        start(s, req_new(s, a, STEP_IDENTITY, "GetCallerIdentity", NULL),
              AWS_STS, s->home, NULL, lane);
    }
    start(s, req_new(s, a, STEP_REGIONS, "DescribeRegions", NULL), AWS_EC2,
          s->home, NULL, lane);
}

/* Queues the member role's AssumeRole (step: first or renewing). */
static void assume_role_start(struct account *a, enum step step)
{
    struct scan *s = a->s;
    char params[1024], enc[512], arn[300];
    struct ct_error e = CT_ERROR_INIT;
    snprintf(arn, sizeof(arn), "arn:%s:iam::%s:role/%s", s->partition, a->id,
             s->opt->role_name ? s->opt->role_name : SCAN_DEFAULT_ROLE);
    if (aws_urlencode(enc, sizeof(enc), arn, &e) != 0) {
        set_fatal(s, &e);
        return;
    }
    int n = snprintf(params, sizeof(params),
                     "&RoleArn=%s&RoleSessionName=%s&DurationSeconds=%d", enc,
                     SESSION_NAME, ROLE_DURATION);
    if (s->opt->external_id && *s->opt->external_id) {
        if (aws_urlencode(enc, sizeof(enc), s->opt->external_id, &e)) {
            set_fatal(s, &e);
            return;
        }
        snprintf(params + n, sizeof(params) - (size_t)n, "&ExternalId=%s", enc);
    }
    start(s, req_new(s, a, step, "AssumeRole", NULL), AWS_STS, s->home, params,
          a->id);
}

static void account_begin(struct account *a)
{
    struct scan *s = a->s;
    a->started = 1;
    s->n_active++;
    /* the caller's account uses the caller's credentials; AssumeRole runs
     * as the caller too */
    a->use = &s->cr.creds;
    if (a->is_caller)
        account_calls(a);
    else
        assume_role_start(a, STEP_ASSUME_ROLE);
    account_settle(a);
}

/* ---- renewal of temporary credentials ---- */

/* Records that the credentials of account id (or the caller's, for every
 * account) could not be renewed: accounts/<id>/errors/<operation>.json. */
static void record_refresh_error(struct scan *s, struct account *a,
                                 const char *id, const char *operation,
                                 const char *code, const char *message)
{
    struct req r;
    struct aws_result res;
    memset(&r, 0, sizeof(r));
    memset(&res, 0, sizeof(res));
    r.s = s;
    r.a = a;
    snprintf(r.operation, sizeof(r.operation), "%s", operation);
    snprintf(res.code, sizeof(res.code), "%s", code);
    snprintf(res.message, sizeof(res.message),
             "the %s credentials could not be renewed before they expire; "
             "later calls for this account may fail: %s",
             a ? "member role's" : "caller's", message);
    res.attempts = 1;
    if (!a) {
        /* not bound to one account: recorded under the caller's */
        struct account tmp;
        memset(&tmp, 0, sizeof(tmp));
        snprintf(tmp.id, sizeof(tmp.id), "%s", id);
        r.a = &tmp;
        record_error(s, &r, CT_MEMBER_ACCOUNT_OP_ERROR, &res);
        return;
    }
    record_error(s, &r, CT_MEMBER_ACCOUNT_OP_ERROR, &res);
}

/*
 * The caller's credentials, resolved again through the chain (SSO portal,
 * IMDS, container, web identity, credential_process, or AssumeRole for a
 * role profile, which runs a nested aws_client_run). The new keys replace
 * the old ones in place: queued calls and retries hold a pointer to
 * s->cr.creds and sign when they are sent.
 */
static void refresh_caller(struct scan *s, time_t now)
{
    struct creds_result r = CREDS_RESULT_INIT;
    struct ct_error e = CT_ERROR_INIT;
    s->is_refreshing_caller = 1;
    int rc = creds_resolve(&r, &s->cro, &e);
    s->is_refreshing_caller = 0;
    if (rc == 0 && r.creds.expiration != 0 &&
        r.creds.expiration - REFRESH_MARGIN <= now) {
        /* the source hands out nothing fresher yet: keep the old ones */
        s->caller_retry_at = now + REFRESH_RETRY;
    }
    if (rc == 0) {
        ct_credentials_release(&s->cr.creds);
        s->cr.creds = r.creds;
        r.creds = (struct ct_credentials)CT_CREDENTIALS_INIT;
        s->refreshes++;
        char line[160], when[CT_ISO_TIME_MAX] = "never";
        if (s->cr.creds.expiration)
            ct_time_format_utc(when, s->cr.creds.expiration);
        snprintf(line, sizeof(line),
                 "credentials renewed: caller (%s), now expire %s",
                 s->cr.creds.provider ? s->cr.creds.provider : "unknown", when);
        on_log(s, line);
    } else {
        s->caller_retry_at = now + REFRESH_RETRY;
        if (!s->has_caller_refresh_failed && !(s->opt->stop && *s->opt->stop)) {
            s->has_caller_refresh_failed = 1;
            record_refresh_error(s, NULL, s->caller_account,
                                 "RefreshCredentials", "CredentialsNotRenewed",
                                 e.message);
        }
    }
    creds_result_release(&r);
}

static void refresh_due(struct scan *s)
{
    time_t now = time(NULL);
    if (s->is_refreshing_caller)
        return; /* a nested run inside refresh_caller */
    if (s->cr.creds.expiration &&
        now >= s->cr.creds.expiration - REFRESH_MARGIN &&
        now >= s->caller_retry_at)
        refresh_caller(s, now);
    for (size_t i = 0; i < s->next_account && i < s->n_accounts; i++) {
        struct account *a = s->accounts[i];
        if (a->use != &a->creds || a->is_refreshing || a->has_refresh_failed ||
            !a->creds.expiration || now < a->creds.expiration - REFRESH_MARGIN)
            continue;
        a->is_refreshing = 1;
        assume_role_start(a, STEP_REFRESH_ROLE);
    }
}

static void on_refresh_role(struct req *r, struct aws_result *res)
{
    struct account *a = r->a;
    struct ct_credentials c = CT_CREDENTIALS_INIT;
    struct ct_error e = CT_ERROR_INIT;
    a->is_refreshing = 0;
    if (res->ok && awsxml_assume_role(&c, res->body, res->body_len, &e) != 0) {
        res->ok = 0;
        snprintf(res->code, sizeof(res->code), "InvalidResponse");
        snprintf(res->message, sizeof(res->message), "%s", e.message);
    }
    if (res->body)
        OPENSSL_cleanse(res->body, res->body_len);
    if (!res->ok) {
        a->has_refresh_failed = 1;
        record_refresh_error(r->s, a, a->id, "AssumeRole", res->code,
                             res->message);
        return;
    }
    if (a->use == &a->creds) {
        /* in place: queued calls of the account hold &a->creds */
        ct_credentials_release(&a->creds);
        a->creds = c;
        r->s->refreshes++;
        char line[160], when[CT_ISO_TIME_MAX];
        ct_time_format_utc(when, a->creds.expiration);
        snprintf(line, sizeof(line),
                 "credentials renewed: account %s (AssumeRole), now expire "
                 "%s",
                 a->id, when);
        on_log(r->s, line);
    } else {
        ct_credentials_release(&c);
    }
}

static void start_next_accounts(struct scan *s)
{
    while (!s->fatal && !s->is_draining && s->n_active < s->max_active &&
           s->next_account < s->n_accounts)
        account_begin(s->accounts[s->next_account++]);
}

static int add_account(struct scan *s, const char *id, int is_caller)
{
    struct account **p = realloc(s->accounts, (s->n_accounts + 1) * sizeof(*p));
    if (!p)
        return CT_ENOMEM;
    s->accounts = p;
    struct account *a = calloc(1, sizeof(*a));
    if (!a)
        return CT_ENOMEM;
    a->s = s;
    snprintf(a->id, sizeof(a->id), "%s", id);
    a->is_caller = is_caller;
    s->accounts[s->n_accounts++] = a;
    return 0;
}

/* ---- per-step handlers ---- */

static void on_assume_role(struct req *r, struct aws_result *res)
{
    struct account *a = r->a;
    struct scan *s = r->s;
    if (!res->ok) {
        record_error(s, r, CT_MEMBER_ACCOUNT_ERROR, res);
        a->use = NULL;
        return;
    }
    struct ct_error e = CT_ERROR_INIT;
    struct ct_credentials c = CT_CREDENTIALS_INIT;
    int rc = awsxml_assume_role(&c, res->body, res->body_len, &e);
    OPENSSL_cleanse(res->body, res->body_len);
    if (rc) {
        struct aws_result bad = *res;
        bad.ok = 0;
        snprintf(bad.code, sizeof(bad.code), "InvalidResponse");
        snprintf(bad.message, sizeof(bad.message), "%s", e.message);
        record_error(s, r, CT_MEMBER_ACCOUNT_ERROR, &bad);
        a->use = NULL;
        return;
    }
    a->creds = c;
    a->use = &a->creds;
    account_calls(a);
}

/* A query-protocol answer converted to CLI JSON and stored as kind. */
static void
on_converted(struct req *r, struct aws_result *res, enum ct_member_kind kind,
             int (*conv)(json_t **, const char *, size_t, struct ct_error *),
             json_t **keep)
{
    struct ct_member_ref ref;
    json_t *j = NULL;
    struct ct_error e = CT_ERROR_INIT;
    if (res->ok && conv(&j, res->body, res->body_len, &e) != 0) {
        res->ok = 0;
        snprintf(res->code, sizeof(res->code), "InvalidResponse");
        snprintf(res->message, sizeof(res->message), "%s", e.message);
    }
    if (!res->ok) {
        record_error(r->s, r,
                     r->a ? CT_MEMBER_ACCOUNT_OP_ERROR : CT_MEMBER_ORG_ERROR,
                     res);
        return;
    }
    ref_init(&ref, kind, r);
    put_member(r->s, &ref, NULL, 0, j);
    if (keep)
        *keep = j;
    else
        json_decref(j);
}

static int partition_region(const struct scan *s, const char *region)
{
    return strcmp(ct_region_partition(region), s->partition) == 0;
}

static void scan_region(struct account *a, const char *region)
{
    char lane[64];
    snprintf(lane, sizeof(lane), "%s/%s", a->id, region);
    start(a->s,
          req_new(a->s, a, STEP_DESCRIBE_TRAILS, "DescribeTrails", region),
          AWS_CLOUDTRAIL, region, "{\"includeShadowTrails\":true}", lane);
}

static void on_regions(struct req *r, struct aws_result *res)
{
    struct account *a = r->a;
    struct scan *s = r->s;
    const struct scan_options *o = s->opt;
    json_t *j = NULL;
    on_converted(r, res, CT_MEMBER_REGIONS, awsxml_regions, &j);
    if (!a->use)
        return;
    if (!j) {
        /* regions unknown: scan what was asked, or the home region */
        if (o->n_regions)
            for (size_t i = 0; i < o->n_regions; i++)
                scan_region(a, o->regions[i]);
        else
            scan_region(a, s->home);
        return;
    }
    size_t i;
    json_t *reg;
    json_array_foreach(json_object_get(j, "Regions"), i, reg)
    {
        const char *name =
            json_string_value(json_object_get(reg, "RegionName"));
        const char *opt =
            json_string_value(json_object_get(reg, "OptInStatus"));
        if (!name || !ct_valid_region(name) || !partition_region(s, name))
            continue;
        if (opt && strcmp(opt, "not-opted-in") == 0)
            continue;
        if (o->n_regions && !in_list(name, o->regions, o->n_regions))
            continue;
        scan_region(a, name);
    }
    json_decref(j);
}

static int arn_seen(struct account *a, const char *arn)
{
    for (size_t i = 0; i < a->n_arns; i++)
        if (strcmp(a->arns[i], arn) == 0)
            return 1;
    return 0;
}

static int arn_add(struct account *a, const char *arn)
{
    if (a->n_arns == a->cap_arns) {
        size_t cap = a->cap_arns ? a->cap_arns * 2 : 8;
        char **p = realloc(a->arns, cap * sizeof(*p));
        if (!p)
            return CT_ENOMEM;
        a->arns = p;
        a->cap_arns = cap;
    }
    a->arns[a->n_arns] = strdup(arn);
    if (!a->arns[a->n_arns])
        return CT_ENOMEM;
    a->n_arns++;
    return 0;
}

/* arn:<partition>:cloudtrail:<region>:<owner>:trail/<name> */
static int parse_trail_arn(char *region, char *owner, char *name,
                           const char *arn)
{
    const char *p = arn;
    const char *f[6];
    for (int i = 0; i < 5; i++) {
        f[i] = p;
        p = strchr(p, ':');
        if (!p)
            return -1;
        p++;
    }
    f[5] = p;
    size_t rlen = (size_t)(f[4] - f[3] - 1), olen = (size_t)(f[5] - f[4] - 1);
    if (strncmp(f[0], "arn:", 4) != 0 ||
        strncmp(f[2], "cloudtrail:", 11) != 0 || rlen > CT_REGION_MAX ||
        olen != CT_ACCOUNT_ID_LEN || strncmp(f[5], "trail/", 6) != 0 ||
        strlen(f[5] + 6) > CT_TRAIL_NAME_MAX)
        return -1;
    memcpy(region, f[3], rlen);
    region[rlen] = '\0';
    memcpy(owner, f[4], olen);
    owner[olen] = '\0';
    snprintf(name, CT_TRAIL_NAME_MAX + 1, "%s", f[5] + 6);
    return ct_valid_region(region) && ct_valid_account_id(owner) &&
                   ct_valid_trail_name(name)
               ? 0
               : -1;
}

static void trail_calls(struct account *a, const char *arn)
{
    static const struct {
        enum step step;
        const char *op;
        const char *key;
    } calls[] = {
        {STEP_EVENT_SELECTORS, "GetEventSelectors", "TrailName"},
        {STEP_INSIGHT_SELECTORS, "GetInsightSelectors", "TrailName"},
        {STEP_TRAIL_STATUS, "GetTrailStatus", "Name"},
    };
    struct scan *s = a->s;
    char region[CT_REGION_MAX + 1], owner[CT_ACCOUNT_ID_LEN + 1];
    char name[CT_TRAIL_NAME_MAX + 1], lane[64];
    struct ct_error e = CT_ERROR_INIT;

    if (arn_seen(a, arn))
        return;
    if (arn_add(a, arn) != 0) {
        ct_error_set(&e, CT_ENOMEM, "out of memory");
        set_fatal(s, &e);
        return;
    }
    if (parse_trail_arn(region, owner, name, arn) != 0)
        return; /* not a trail ARN we can name a member after: skipped */
    snprintf(lane, sizeof(lane), "%s/%s", a->id, region);
    for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
        json_t *p = json_pack("{s:s}", calls[i].key, arn);
        char *params = p ? json_dumps(p, JSON_COMPACT) : NULL;
        struct req *r =
            params ? req_new(s, a, calls[i].step, calls[i].op, region) : NULL;
        if (r) {
            snprintf(r->owner, sizeof(r->owner), "%s", owner);
            snprintf(r->trail, sizeof(r->trail), "%s", name);
            r->arn = strdup(arn);
            if (!r->arn) {
                req_free(r);
                r = NULL;
            }
        }
        start(s, r, AWS_CLOUDTRAIL, region, params, lane);
        free(params);
        json_decref(p);
    }
}

static void on_describe_trails(struct req *r, struct aws_result *res)
{
    struct ct_member_ref ref;
    struct account *a = r->a;
    json_t *j = NULL;
    if (res->ok) {
        j = json_loadb(res->body, res->body_len, 0, NULL);
        if (!j || !json_is_object(j)) {
            res->ok = 0;
            snprintf(res->code, sizeof(res->code), "InvalidResponse");
            snprintf(res->message, sizeof(res->message),
                     "DescribeTrails answer is not a JSON object");
        }
    }
    if (!res->ok) {
        record_error(r->s, r, CT_MEMBER_REGION_ERROR, res);
        json_decref(j);
        return;
    }
    ref_init(&ref, CT_MEMBER_DESCRIBE_TRAILS, r);
    put_member(r->s, &ref, res->body, res->body_len, NULL);
    r->s->trails_files++;
    a->has_trails = 1;
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(j, "trailList"), i, t)
    {
        const char *arn = json_string_value(json_object_get(t, "TrailARN"));
        if (arn)
            trail_calls(a, arn);
    }
    json_decref(j);
}

/* A 2xx answer whose body is not a JSON object is recorded as an error:
 * the analyzer could not read it. */
static void require_json_object(struct aws_result *res)
{
    if (!res->ok)
        return;
    json_t *j = json_loadb(res->body, res->body_len, 0, NULL);
    if (!json_is_object(j)) {
        res->ok = 0;
        snprintf(res->code, sizeof(res->code), "InvalidResponse");
        snprintf(res->message, sizeof(res->message),
                 "answer is not a JSON object");
    }
    json_decref(j);
}

static void on_trail_call(struct req *r, struct aws_result *res,
                          enum ct_member_kind kind)
{
    struct ct_member_ref ref;
    require_json_object(res);
    if (!res->ok && kind == CT_MEMBER_INSIGHT_SELECTORS &&
        strcmp(res->code, "InsightNotEnabledException") == 0) {
        /* AWS's way of saying "no Insights" (schema/SNAPSHOT.md) */
        json_t *j =
            json_pack("{s:s,s:[]}", "TrailARN", r->arn, "InsightSelectors");
        ref_init(&ref, kind, r);
        if (j)
            put_member(r->s, &ref, NULL, 0, j);
        json_decref(j);
        return;
    }
    if (!res->ok) {
        record_error(r->s, r, CT_MEMBER_REGION_ERROR, res);
        return;
    }
    ref_init(&ref, kind, r);
    put_member(r->s, &ref, res->body, res->body_len, NULL);
}

/* ---- organization ---- */

static void start_list_accounts(struct scan *s, const char *token)
{
    char *params = NULL;
    if (token) {
        json_t *p = json_pack("{s:s}", "NextToken", token);
        params = p ? json_dumps(p, JSON_COMPACT) : NULL;
        json_decref(p);
    }
    start(s, req_new(s, NULL, STEP_LIST_ACCOUNTS, "ListAccounts", NULL),
          AWS_ORGANIZATIONS, s->home, params, "org");
    free(params);
}

static void add_org_accounts(struct scan *s)
{
    const struct scan_options *o = s->opt;
    size_t i;
    json_t *acct;
    json_array_foreach(s->org_accounts, i, acct)
    {
        const char *id = json_string_value(json_object_get(acct, "Id"));
        const char *status = json_string_value(json_object_get(acct, "Status"));
        const char *state = json_string_value(json_object_get(acct, "State"));
        if (!id || !ct_valid_account_id(id))
            continue;
        /* Status is being replaced by State; either says ACTIVE */
        if (!((status && strcmp(status, "ACTIVE") == 0) ||
              (!status && state && strcmp(state, "ACTIVE") == 0)))
            continue;
        if (o->n_accounts && !in_list(id, o->accounts, o->n_accounts))
            continue;
        if (in_list(id, o->exclude, o->n_exclude))
            continue;
        if (in_list(id, o->resume_done, o->n_resume_done))
            continue; /* --resume: collected before */
        if (add_account(s, id, strcmp(id, s->caller_account) == 0) != 0) {
            struct ct_error e = CT_ERROR_INIT;
            ct_error_set(&e, CT_ENOMEM, "out of memory");
            set_fatal(s, &e);
            return;
        }
    }
}

static void on_list_accounts(struct req *r, struct aws_result *res)
{
    struct scan *s = r->s;
    json_t *j = NULL;
    if (res->ok) {
        j = json_loadb(res->body, res->body_len, 0, NULL);
        if (!j || !json_is_array(json_object_get(j, "Accounts"))) {
            res->ok = 0;
            snprintf(res->code, sizeof(res->code), "InvalidResponse");
            snprintf(res->message, sizeof(res->message),
                     "ListAccounts answer has no Accounts list");
        }
    }
    if (!res->ok) {
        record_error(s, r, CT_MEMBER_ORG_ERROR, res);
        json_decref(j);
        /* the organization is unknown: scan the caller's own account */
        if (!in_list(s->caller_account, s->opt->exclude, s->opt->n_exclude) &&
            add_account(s, s->caller_account, 1) != 0) {
            struct ct_error e = CT_ERROR_INIT;
            ct_error_set(&e, CT_ENOMEM, "out of memory");
            set_fatal(s, &e);
        }
        start_next_accounts(s);
        return;
    }
    json_array_extend(s->org_accounts, json_object_get(j, "Accounts"));
    const char *next = json_string_value(json_object_get(j, "NextToken"));
    if (next && *next) {
        start_list_accounts(s, next);
    } else {
        json_t *all = json_pack("{s:O}", "Accounts", s->org_accounts);
        struct ct_member_ref ref;
        memset(&ref, 0, sizeof(ref));
        ref.kind = CT_MEMBER_ORG_ACCOUNTS;
        if (all)
            put_member(s, &ref, NULL, 0, all);
        json_decref(all);
        add_org_accounts(s);
        start_next_accounts(s);
    }
    json_decref(j);
}

static void on_describe_org(struct req *r, struct aws_result *res)
{
    struct ct_member_ref ref;
    require_json_object(res);
    if (!res->ok) {
        record_error(r->s, r, CT_MEMBER_ORG_ERROR, res);
        return;
    }
    memset(&ref, 0, sizeof(ref));
    ref.kind = CT_MEMBER_ORG_DESCRIBE;
    put_member(r->s, &ref, res->body, res->body_len, NULL);
}

/* ---- Cost Explorer (--costs) ---- */

/* The last months complete calendar months before now, UTC: End is the
 * first day of the current month (exclusive), Start months earlier. */
static void cost_period(struct scan *s, time_t now, int months)
{
    struct tm tm;
    gmtime_r(&now, &tm);
    int end = (tm.tm_year + 1900) * 12 + tm.tm_mon; /* months since year 0 */
    int start = end - months;
    snprintf(s->cost_end, sizeof(s->cost_end), "%04d-%02d-01", end / 12,
             end % 12 + 1);
    snprintf(s->cost_start, sizeof(s->cost_start), "%04d-%02d-01", start / 12,
             start % 12 + 1);
}

/* An organization-level error record for GetCostAndUsage that no call
 * produced (partition without Cost Explorer, runaway pagination). */
static void record_costs_error(struct scan *s, const char *code,
                               const char *message)
{
    struct req r;
    struct aws_result res;
    memset(&r, 0, sizeof(r));
    memset(&res, 0, sizeof(res));
    r.s = s;
    snprintf(r.operation, sizeof(r.operation), "GetCostAndUsage");
    snprintf(res.code, sizeof(res.code), "%s", code);
    snprintf(res.message, sizeof(res.message), "%s", message);
    record_error(s, &r, CT_MEMBER_ORG_ERROR, &res);
}

/* Queues page `page` of GetCostAndUsage (token NULL for the first). The
 * caller's own credentials: Cost Explorer answers for the whole
 * organization only in the management account. */
static void start_costs(struct scan *s, const char *token, unsigned long page)
{
    char host[128], region[CT_REGION_MAX + 1];
    struct ct_error e = CT_ERROR_INIT;
    if (aws_endpoint(host, sizeof(host), region, sizeof(region), AWS_CE,
                     s->home, &e) != 0) {
        record_costs_error(s, "UnsupportedPartition", e.message);
        return;
    }
    json_t *p = json_pack(
        "{s:{s:s,s:s},s:s,s:{s:{s:s,s:[s]}},s:[s,s],s:[{s:s,s:s},{s:s,s:s}]}",
        "TimePeriod", "Start", s->cost_start, "End", s->cost_end, "Granularity",
        "MONTHLY", "Filter", "Dimensions", "Key", "SERVICE", "Values",
        "AWS CloudTrail", "Metrics", "UnblendedCost", "UsageQuantity",
        "GroupBy", "Type", "DIMENSION", "Key", "LINKED_ACCOUNT", "Type",
        "DIMENSION", "Key", "USAGE_TYPE");
    if (p && token)
        json_object_set_new(p, "NextPageToken", json_string(token));
    char *params = p ? json_dumps(p, JSON_COMPACT) : NULL;
    struct req *r =
        params ? req_new(s, NULL, STEP_COSTS, "GetCostAndUsage", NULL) : NULL;
    if (r) {
        r->page = page;
        if (token && !(r->token = strdup(token))) {
            req_free(r);
            r = NULL;
        }
    }
    start(s, r, AWS_CE, s->home, params, "costs");
    free(params);
    json_decref(p);
}

/* A page is stored verbatim; its NextPageToken, if any, asks for the next. */
static void on_costs(struct req *r, struct aws_result *res)
{
    struct scan *s = r->s;
    struct ct_member_ref ref;
    json_t *j = NULL;
    if (res->ok) {
        j = json_loadb(res->body, res->body_len, 0, NULL);
        if (!j || !json_is_array(json_object_get(j, "ResultsByTime"))) {
            res->ok = 0;
            snprintf(res->code, sizeof(res->code), "InvalidResponse");
            snprintf(res->message, sizeof(res->message),
                     "GetCostAndUsage answer has no ResultsByTime list");
        }
    }
    if (!res->ok) {
        record_error(s, r, CT_MEMBER_ORG_ERROR, res);
        json_decref(j);
        return;
    }
    memset(&ref, 0, sizeof(ref));
    ref.kind = CT_MEMBER_ORG_COSTS;
    ref.page = r->page;
    put_member(s, &ref, res->body, res->body_len, NULL);
    const char *next = json_string_value(json_object_get(j, "NextPageToken"));
    if (next && *next) {
        if (r->token && strcmp(r->token, next) == 0)
            record_costs_error(s, "InvalidResponse",
                               "GetCostAndUsage returned the same "
                               "NextPageToken twice: pagination stopped");
        else if (r->page >= SCAN_COST_PAGES_MAX)
            record_costs_error(s, "TooManyPages",
                               "GetCostAndUsage: more than 1000 pages (each "
                               "costs $0.01): pagination stopped");
        else
            start_costs(s, next, r->page + 1);
    }
    json_decref(j);
}

static void on_done(void *ctx, struct aws_result *res)
{
    struct req *r = ctx;
    struct account *a = r->a;
    switch (r->step) {
    case STEP_ASSUME_ROLE:
        on_assume_role(r, res);
        break;
    case STEP_IDENTITY:
        on_converted(r, res, CT_MEMBER_IDENTITY, awsxml_caller_identity, NULL);
        break;
    case STEP_ALIASES:
        on_converted(r, res, CT_MEMBER_ALIASES, awsxml_account_aliases, NULL);
        break;
    case STEP_REGIONS:
        on_regions(r, res);
        break;
    case STEP_DESCRIBE_TRAILS:
        on_describe_trails(r, res);
        break;
    case STEP_EVENT_SELECTORS:
        on_trail_call(r, res, CT_MEMBER_EVENT_SELECTORS);
        break;
    case STEP_INSIGHT_SELECTORS:
        on_trail_call(r, res, CT_MEMBER_INSIGHT_SELECTORS);
        break;
    case STEP_TRAIL_STATUS:
        on_trail_call(r, res, CT_MEMBER_TRAIL_STATUS);
        break;
    case STEP_LIST_ACCOUNTS:
        on_list_accounts(r, res);
        break;
    case STEP_DESCRIBE_ORG:
        on_describe_org(r, res);
        break;
    case STEP_REFRESH_ROLE:
        on_refresh_role(r, res);
        break;
    case STEP_COSTS:
        on_costs(r, res);
        break;
    }
    req_free(r);
    if (a) {
        a->pending--;
        account_settle(a);
    }
}

/* ---- setup ---- */

struct sync_call {
    int done;
    struct ct_credentials creds;
    int rc;
    struct ct_error err;
};

static void on_sync_assume(void *ctx, struct aws_result *res)
{
    struct sync_call *sc = ctx;
    sc->done = 1;
    if (!res->ok) {
        sc->rc = ct_error_set(&sc->err, CT_EAUTH, "AssumeRole failed: %s: %s",
                              res->code, res->message);
        return;
    }
    sc->rc = awsxml_assume_role(&sc->creds, res->body, res->body_len, &sc->err);
    OPENSSL_cleanse(res->body, res->body_len);
}

/* creds_assume_role_fn for profiles with role_arn (runs before the scan). */
static int assume_role_sync(void *ctx, struct ct_credentials *out,
                            const struct ct_credentials *source,
                            const char *role_arn, const char *session_name,
                            const char *external_id, int duration_seconds,
                            const char *region, struct ct_error *err)
{
    struct scan *s = ctx;
    char params[2048], e1[512], e2[256], e3[512];
    struct sync_call sc = {0, CT_CREDENTIALS_INIT, 0, CT_ERROR_INIT};
    int rc;
    const char *reg = region && *region ? region : s->home;

    if ((rc = aws_urlencode(e1, sizeof(e1), role_arn, err)) != 0 ||
        (rc = aws_urlencode(e2, sizeof(e2),
                            session_name ? session_name : SESSION_NAME, err)) !=
            0)
        return rc;
    int n =
        snprintf(params, sizeof(params),
                 "&RoleArn=%s&RoleSessionName=%s&DurationSeconds=%d", e1, e2,
                 duration_seconds > 0 ? duration_seconds : ROLE_DURATION);
    if (external_id && *external_id) {
        if ((rc = aws_urlencode(e3, sizeof(e3), external_id, err)) != 0)
            return rc;
        snprintf(params + n, sizeof(params) - (size_t)n, "&ExternalId=%s", e3);
    }
    struct aws_call_spec spec = {AWS_STS, "AssumeRole", reg, params,
                                 source,  "setup",      NULL};
    rc = aws_call_start(s->client, &spec, on_sync_assume, &sc, err);
    if (rc)
        return rc;
    rc = aws_client_run(s->client, &sc.done, err);
    if (rc)
        return rc;
    if (sc.rc) {
        if (err)
            ct_error_set(err, sc.rc, "%s", sc.err.message);
        return sc.rc;
    }
    *out = sc.creds;
    return 0;
}

struct sync_identity {
    int done;
    json_t *j;
    struct aws_result res;
};

static void on_sync_identity(void *ctx, struct aws_result *res)
{
    struct sync_identity *si = ctx;
    si->done = 1;
    si->res = *res;
    si->res.body = NULL;
    if (res->ok) {
        struct ct_error e = CT_ERROR_INIT;
        if (awsxml_caller_identity(&si->j, res->body, res->body_len, &e)) {
            si->res.ok = 0;
            snprintf(si->res.code, sizeof(si->res.code), "InvalidResponse");
            snprintf(si->res.message, sizeof(si->res.message), "%s", e.message);
        }
    }
}

static json_t *string_list(const char *const *v, size_t n)
{
    if (!v || n == 0)
        return json_null();
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The not_collected entries sorted by account and region (new ref). */
static json_t *not_collected_list(const struct scan *s)
{
    json_t *out = json_array();
    size_t n = json_object_size(s->not_collected), i = 0;
    const char **keys = n ? calloc(n, sizeof(*keys)) : NULL;
    const char *k;
    json_t *v;
    if (!out || (n && !keys)) {
        free(keys);
        json_decref(out);
        return NULL;
    }
    json_object_foreach(s->not_collected, k, v) keys[i++] = k;
    if (n > 1)
        qsort(keys, n, sizeof(*keys), cmp_str);
    for (i = 0; i < n; i++)
        json_array_append(out, json_object_get(s->not_collected, keys[i]));
    free(keys);
    return out;
}

static int build_manifest(json_t **out, struct scan *s, time_t started,
                          time_t ended, struct ct_error *err)
{
    const struct scan_options *o = s->opt;
    char t0[CT_ISO_TIME_MAX], t1[CT_ISO_TIME_MAX];
    ct_time_format_utc(t0, started);
    ct_time_format_utc(t1, ended);
    json_t *opts = json_pack(
        "{s:b,s:o,s:o,s:o,s:o,s:i}", "org", o->org, "regions",
        string_list(o->regions, o->n_regions), "role_name",
        o->org ? json_string(o->role_name ? o->role_name : SCAN_DEFAULT_ROLE)
               : json_null(),
        "accounts", string_list(o->accounts, o->n_accounts), "exclude_accounts",
        string_list(o->exclude, o->n_exclude), "concurrency",
        o->concurrency > 0 ? o->concurrency : SCAN_DEFAULT_CONCURRENCY);
    if (opts && o->endpoint_url)
        json_object_set_new(opts, "endpoint_url", json_string(o->endpoint_url));
    if (opts) {
        json_object_set_new(opts, "costs", json_boolean(o->costs));
        json_object_set_new(opts, "cost_months",
                            o->costs
                                ? json_integer(o->cost_months > 0
                                                   ? o->cost_months
                                                   : SCAN_DEFAULT_COST_MONTHS)
                                : json_null());
    }
    json_t *nc = not_collected_list(s);
    json_t *m =
        opts && nc
            ? json_pack("{s:s,s:i,s:{s:s,s:s},s:s,s:s,s:b,s:s,s:O,s:o,s:o}",
                        "format", CT_SNAPSHOT_FORMAT, "format_version",
                        CT_SNAPSHOT_VERSION, "collector", "name", "ctcollect",
                        "version", "0.1.0", "started_at", t0, "ended_at", t1,
                        /* a signal after the last call leaves nothing out:
                         * the snapshot is complete */
                        "complete",
                        !(s->is_draining && json_array_size(nc) > 0),
                        "partition", s->partition,
                        "caller", s->caller, "options", opts, "not_collected",
                        nc)
            : NULL;
    if (!m && !opts)
        json_decref(nc);
    if (!m && opts && !nc)
        json_decref(opts);
    if (!m)
        return ct_error_set(err, CT_ENOMEM, "cannot build the manifest");
    *out = m;
    return 0;
}

/*
 * Common start of scan_run and scan_whoami: the client, the credentials,
 * the home region and partition, and the caller's GetCallerIdentity (in
 * s->caller).
 */
static int scan_setup(struct scan *s, const struct scan_options *opt,
                      struct ct_error *err)
{
    struct sync_identity si;
    int rc;
    memset(&si, 0, sizeof(si));
    s->opt = opt;
    s->cr = (struct creds_result)CREDS_RESULT_INIT;
    clock_gettime(CLOCK_MONOTONIC, &s->t0);
    struct aws_client_options co = {
        opt->endpoint_url,
        opt->concurrency > 0 ? opt->concurrency : SCAN_DEFAULT_CONCURRENCY,
        0,
        0,
        0,
        opt->transport,
        on_log,
        on_tick,
        s,
        &s->hard_stop};
    s->max_active = (size_t)co.concurrency < 4 ? 4 : (size_t)co.concurrency;
    rc = aws_client_new(&s->client, &co, err);
    if (rc)
        goto done;
    /* a provisional home region for role_arn profiles; fixed below */
    snprintf(s->home, sizeof(s->home), "%s",
             opt->n_regions ? opt->regions[0] : "us-east-1");
    struct creds_options *cro = &s->cro;
    memset(cro, 0, sizeof(*cro));
    cro->profile = opt->profile;
    cro->assume_role = assume_role_sync;
    cro->assume_role_ctx = s;
    cro->warn = opt->warn;
    cro->warn_ctx = opt->cb_ctx;
    cro->http = opt->creds_http ? opt->creds_http : creds_http_curl;
    cro->http_ctx = opt->creds_http ? opt->creds_http_ctx : NULL;
    cro->sts_endpoint_url = opt->endpoint_url;
    /* the first resolution runs before any call: no renewal inside it */
    s->is_refreshing_caller = 1;
    rc = creds_resolve(&s->cr, cro, err);
    s->is_refreshing_caller = 0;
    if (rc) {
        if (rc != CT_EINVAL || !(opt->stop && *opt->stop))
            rc = CT_EAUTH;
        goto done;
    }
    const char *home = creds_default_region(NULL, s->cr.region);
    if (home && ct_valid_region(home))
        snprintf(s->home, sizeof(s->home), "%s", home);
    snprintf(s->partition, sizeof(s->partition), "%s",
             ct_region_partition(s->home));

    struct aws_call_spec spec = {AWS_STS, "GetCallerIdentity", s->home,
                                 NULL,    &s->cr.creds,        "setup",
                                 NULL};
    rc = aws_call_start(s->client, &spec, on_sync_identity, &si, err);
    if (!rc)
        rc = aws_client_run(s->client, &si.done, err);
    if (rc)
        goto done;
    if (!si.res.ok) {
        rc = ct_error_set(err, CT_EAUTH, "GetCallerIdentity failed: %s: %s",
                          si.res.code, si.res.message);
        goto done;
    }
    s->caller = si.j;
    si.j = NULL;
    const char *acct = json_string_value(json_object_get(s->caller, "Account"));
    const char *arn = json_string_value(json_object_get(s->caller, "Arn"));
    if (!acct || !ct_valid_account_id(acct)) {
        rc = ct_error_set(err, CT_EAUTH, "GetCallerIdentity: no account id");
        goto done;
    }
    snprintf(s->caller_account, sizeof(s->caller_account), "%s", acct);
    if (opt->resume_caller && strcmp(opt->resume_caller, acct) != 0) {
        rc = ct_error_set(err, CT_EAUTH,
                          "the snapshot was collected as account %s, these "
                          "credentials are account %s: --resume needs the "
                          "same caller",
                          opt->resume_caller, acct);
        goto done;
    }
    if (arn && strncmp(arn, "arn:", 4) == 0) {
        /* the caller's ARN names the partition for certain */
        size_t n = strcspn(arn + 4, ":");
        if (n > 0 && n < sizeof(s->partition)) {
            memcpy(s->partition, arn + 4, n);
            s->partition[n] = '\0';
        }
    }
done:
    json_decref(si.j);
    return rc;
}

static void scan_release(struct scan *s)
{
    /* first: the cancel callbacks of calls still queued see the accounts */
    aws_client_free(s->client);
    s->client = NULL;
    json_decref(s->not_collected);
    json_decref(s->caller);
    json_decref(s->org_accounts);
    for (size_t i = 0; i < s->n_accounts; i++)
        account_free(s->accounts[i]);
    free(s->accounts);
    creds_result_release(&s->cr);
}

void scan_identity_release(struct scan_identity *id)
{
    if (!id)
        return;
    free(id->profile);
    json_decref(id->caller);
    *id = (struct scan_identity)SCAN_IDENTITY_INIT;
}

int scan_whoami(struct scan_identity *out, const struct scan_options *opt,
                struct ct_error *err)
{
    struct scan s;
    memset(&s, 0, sizeof(s));
    int rc = scan_setup(&s, opt, err);
    if (rc == 0) {
        struct scan_identity id = SCAN_IDENTITY_INIT;
        id.provider = s.cr.creds.provider ? s.cr.creds.provider : "unknown";
        id.expiration = s.cr.creds.expiration;
        snprintf(id.region, sizeof(id.region), "%s", s.home);
        if (s.cr.profile) {
            id.profile = strdup(s.cr.profile);
            if (!id.profile)
                rc = ct_error_set(err, CT_ENOMEM, "out of memory");
        }
        id.caller = s.caller;
        s.caller = NULL;
        if (rc == 0)
            *out = id;
        else
            scan_identity_release(&id);
    }
    scan_release(&s);
    return rc;
}

int scan_run(json_t **manifest, struct scan_summary *summary,
             struct snapwriter *w, const struct scan_options *opt,
             struct ct_error *err)
{
    struct scan s;
    int rc = 0;
    time_t started = time(NULL);

    memset(&s, 0, sizeof(s));
    s.w = w;
    rc = scan_setup(&s, opt, err);
    if (rc)
        goto done;

    if (opt->is_resume && !(opt->resume_org && opt->org)) {
        /* the organization was read (or there is none; resume_org then
         * means the cost pages): only the accounts left to collect */
        for (size_t i = 0; i < opt->n_resume_accounts; i++) {
            const char *id = opt->resume_accounts[i];
            if (add_account(&s, id, strcmp(id, s.caller_account) == 0) != 0) {
                rc = ct_error_set(err, CT_ENOMEM, "out of memory");
                goto done;
            }
        }
        start_next_accounts(&s);
    } else if (opt->org) {
        s.org_accounts = json_array();
        if (!s.org_accounts) {
            rc = ct_error_set(err, CT_ENOMEM, "out of memory");
            goto done;
        }
        start_list_accounts(&s, NULL);
        start(
            &s,
            req_new(&s, NULL, STEP_DESCRIBE_ORG, "DescribeOrganization", NULL),
            AWS_ORGANIZATIONS, s.home, NULL, "org");
    } else {
        if (add_account(&s, s.caller_account, 1) != 0) {
            rc = ct_error_set(err, CT_ENOMEM, "out of memory");
            goto done;
        }
        start_next_accounts(&s);
    }
    /* a resumed run reads the cost pages again only when it drops the old
     * organization/ members (an interrupted costs call says so) */
    if (opt->costs && (!opt->is_resume || opt->resume_org)) {
        cost_period(&s, opt->now ? opt->now : time(NULL),
                    opt->cost_months > 0 ? opt->cost_months
                                         : SCAN_DEFAULT_COST_MONTHS);
        start_costs(&s, NULL, 1);
    }
    s.is_scanning = 1;
    rc = aws_client_run(s.client, NULL, err);
    if (s.is_draining) {
        if (opt->stop && *opt->stop >= 2) {
            rc = ct_error_reset(err, CT_EINVAL, "interrupted twice");
            goto done;
        }
        /* the deadline passed: calls still queued or under way are
         * dropped (their cancel callbacks list them), and so are the
         * accounts never started */
        ct_error_clear(err);
        rc = 0;
        aws_client_stats(&s.last_stats, s.client);
        aws_client_free(s.client);
        s.client = NULL;
        for (size_t i = s.next_account; i < s.n_accounts; i++)
            note_not_collected(&s, s.accounts[i]->id, NULL,
                               "interrupted before the account was scanned");
        /* interrupted only if something was actually left out */
        summary->is_interrupted = json_object_size(s.not_collected) > 0;
    }
    if (rc)
        goto done;
    if (s.fatal) {
        rc = ct_error_set(err, s.fatal_err.code, "%s", s.fatal_err.message);
        goto done;
    }
    rc = build_manifest(manifest, &s, started, time(NULL), err);
    if (rc)
        goto done;
    fill_progress(&summary->final, &s);
    snprintf(summary->caller_account, sizeof(summary->caller_account), "%s",
             s.caller_account);
    snprintf(summary->partition, sizeof(summary->partition), "%s", s.partition);
    summary->trails_files = s.trails_files;
    summary->accounts_scanned = 0;
    for (size_t i = 0; i < s.n_accounts; i++)
        summary->accounts_scanned += s.accounts[i]->has_trails != 0;
done:
    scan_release(&s);
    return rc;
}
