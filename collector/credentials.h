/*
 * The credential chain: a list of providers tried in the AWS SDKs' order.
 * Issue 4 implemented environment variables, shared config/credentials
 * profiles (static keys, role_arn + source_profile, credential_process);
 * issue 5 added providers (IAM Identity Center, credential_source, web
 * identity, container, IMDSv2) as rows of the same table, their network
 * calls behind the creds_http_fn callback of creds_options.
 */
#ifndef CT_COLLECTOR_CREDENTIALS_H
#define CT_COLLECTOR_CREDENTIALS_H

#include <stddef.h>
#include <time.h>

#include "core/error.h"

/* Owned strings; ct_credentials_release wipes (OPENSSL_cleanse) and frees. */
struct ct_credentials {
    char *access_key_id;
    char *secret_access_key;
    char *session_token;  /* NULL when none */
    time_t expiration;    /* 0 when the credentials do not expire */
    const char *provider; /* static name of the provider that answered */
};

#define CT_CREDENTIALS_INIT                                                    \
    {                                                                          \
        NULL, NULL, NULL, 0, NULL                                              \
    }

void ct_credentials_release(struct ct_credentials *c);
/* Deep copy; out is assigned only on success. */
int ct_credentials_copy(struct ct_credentials *out,
                        const struct ct_credentials *src, struct ct_error *err);

/*
 * sts:AssumeRole, supplied by the collector engine (the chain itself does
 * no network I/O). Fills out with the role's temporary credentials.
 */
typedef int (*creds_assume_role_fn)(
    void *ctx, struct ct_credentials *out, const struct ct_credentials *source,
    const char *role_arn, const char *session_name, const char *external_id,
    int duration_seconds, const char *region, struct ct_error *err);

/*
 * One HTTP exchange for the providers that need the network (IAM Identity
 * Center portal and OIDC, STS AssumeRoleWithWebIdentity, container and EC2
 * instance metadata endpoints). None of them is SigV4-signed. Everything in
 * the request is borrowed for the call. The callback returns 0 when a
 * response arrived (any status) and fills out (body owned by out: release
 * with creds_http_response_release, which wipes it); CT_EHTTP when no
 * response arrived (refused, timeout...). The chain retries, not the
 * callback. Its messages never quote headers or bodies.
 */
struct creds_http_request {
    const char *method; /* "GET", "PUT", "POST" */
    const char *url;
    const char *const *headers; /* "Name: value" lines */
    size_t n_headers;
    const char *body; /* may be NULL */
    size_t body_len;
    long timeout_ms; /* whole exchange, connection included */
};

struct creds_http_response {
    long status;
    char *body; /* NUL-terminated; may hold secrets */
    size_t body_len;
};

#define CREDS_HTTP_RESPONSE_INIT                                               \
    {                                                                          \
        0, NULL, 0                                                             \
    }

void creds_http_response_release(struct creds_http_response *r);

typedef int (*creds_http_fn)(void *ctx, struct creds_http_response *out,
                             const struct creds_http_request *req,
                             struct ct_error *err);

/* Receives a warning (e.g. a group-readable credentials file); msg is
 * borrowed for the call and never holds a secret. */
typedef void (*creds_warn_fn)(void *ctx, const char *msg);

struct creds_options {
    const char *profile; /* --profile; NULL: AWS_PROFILE, else "default" */
    creds_assume_role_fn assume_role;
    void *assume_role_ctx;
    /* Added fields; zero values mean the defaults. */
    creds_warn_fn warn; /* NULL: warnings are dropped */
    void *warn_ctx;
    time_t now;             /* 0: time(NULL); session names and expiry */
    int process_timeout_ms; /* credential_process limit; 0: 60000 */
    /* Network providers (SSO, web identity, container, IMDS); NULL: those
     * are skipped (container, IMDS) or refused (the others). */
    creds_http_fn http;
    void *http_ctx;
    const char *sts_endpoint_url; /* AssumeRoleWithWebIdentity; NULL: AWS */
};

/*
 * What the chain resolved. region is the profile's region (NULL when the
 * profile has none); the caller applies --region/AWS_REGION/AWS_DEFAULT_REGION
 * precedence with creds_default_region().
 */
struct creds_result {
    struct ct_credentials creds;
    char *region;  /* owned, may be NULL */
    char *profile; /* owned: the profile used, NULL for environment */
};

#define CREDS_RESULT_INIT                                                      \
    {                                                                          \
        CT_CREDENTIALS_INIT, NULL, NULL                                        \
    }

/*
 * Runs the chain, in the SDKs' order: environment keys and web identity
 * from the environment (both skipped when opt->profile is set), the
 * profile opt->profile / AWS_PROFILE / "default" of AWS_CONFIG_FILE
 * (~/.aws/config) and AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials)
 * (role_arn with source_profile or credential_source, web_identity_token_
 * file, IAM Identity Center, static keys, credential_process), container
 * credentials, EC2 instance metadata (the last two need opt->http and are
 * skipped without it). Fills out (owned; creds_result_release) only on
 * success. Errors: CT_EAUTH when no provider has credentials (the message
 * lists what was tried), for a missing explicit profile, mfa_serial, a
 * source_profile cycle, a failed credential_process, a refused or
 * malformed answer of an endpoint, an IAM Identity Center token to renew
 * with aws sso login; CT_EHTTP when an endpoint that must answer does not;
 * CT_EIO/CT_EPARSE/CT_ELIMIT for unreadable or malformed files; CT_EINVAL
 * when a role or a network source is needed and opt has no assume_role or
 * http callback; the assume_role callback's own code when it fails.
 * Messages never contain secrets, tokens nor credential_process stdout.
 */
int creds_resolve(struct creds_result *out, const struct creds_options *opt,
                  struct ct_error *err);
void creds_result_release(struct creds_result *r);

/* Region precedence: cli (may be NULL), AWS_REGION, AWS_DEFAULT_REGION,
 * profile_region; NULL if none. Borrowed from its source. */
const char *creds_default_region(const char *cli, const char *profile_region);

#endif
