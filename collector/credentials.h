/*
 * The credential chain: a list of providers tried in the AWS SDKs' order.
 * Issue 4 implements environment variables, shared config/credentials
 * profiles (static keys, role_arn + source_profile, credential_process);
 * issue 5 adds providers (SSO, container, IMDS, web identity) as rows of
 * the same table without changing this interface.
 */
#ifndef CT_COLLECTOR_CREDENTIALS_H
#define CT_COLLECTOR_CREDENTIALS_H

#include <time.h>

#include "core/error.h"

/* Owned strings; ct_credentials_release wipes (OPENSSL_cleanse) and frees. */
struct ct_credentials {
    char *access_key_id;
    char *secret_access_key;
    char *session_token;   /* NULL when none */
    time_t expiration;     /* 0 when the credentials do not expire */
    const char *provider;  /* static name of the provider that answered */
};

#define CT_CREDENTIALS_INIT {NULL, NULL, NULL, 0, NULL}

void ct_credentials_release(struct ct_credentials *c);
/* Deep copy; out is assigned only on success. */
int ct_credentials_copy(struct ct_credentials *out,
                        const struct ct_credentials *src,
                        struct ct_error *err);

/*
 * sts:AssumeRole, supplied by the collector engine (the chain itself does
 * no network I/O). Fills out with the role's temporary credentials.
 */
typedef int (*creds_assume_role_fn)(void *ctx, struct ct_credentials *out,
                                    const struct ct_credentials *source,
                                    const char *role_arn,
                                    const char *session_name,
                                    const char *external_id,
                                    int duration_seconds, const char *region,
                                    struct ct_error *err);

struct creds_options {
    const char *profile;    /* --profile; NULL: AWS_PROFILE, else "default" */
    creds_assume_role_fn assume_role;
    void *assume_role_ctx;
};

/*
 * What the chain resolved. region is the profile's region (NULL when the
 * profile has none); the caller applies --region/AWS_REGION/AWS_DEFAULT_REGION
 * precedence with creds_default_region().
 */
struct creds_result {
    struct ct_credentials creds;
    char *region;           /* owned, may be NULL */
    char *profile;          /* owned: the profile used, NULL for environment */
};

#define CREDS_RESULT_INIT {CT_CREDENTIALS_INIT, NULL, NULL}

int creds_resolve(struct creds_result *out, const struct creds_options *opt,
                  struct ct_error *err);
void creds_result_release(struct creds_result *r);

/* Region precedence: cli (may be NULL), AWS_REGION, AWS_DEFAULT_REGION,
 * profile_region; NULL if none. Borrowed from its source. */
const char *creds_default_region(const char *cli, const char *profile_region);

#endif
