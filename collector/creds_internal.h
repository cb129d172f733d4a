/*
 * Internal interface of the credential chain: helpers shared by
 * credentials.c and the network providers (creds_remote.c: container, EC2
 * instance metadata, web identity; creds_sso.c: IAM Identity Center). Not
 * for the engine: it sees only credentials.h. The unit tests call these
 * directly.
 */
#ifndef CT_COLLECTOR_CREDS_INTERNAL_H
#define CT_COLLECTOR_CREDS_INTERNAL_H

#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "collector/credentials.h"
#include "core/error.h"

#define CREDS_NOT_FOUND 1 /* provider: nothing here, try next */

#define CREDS_IMDS_TIMEOUT_MS 1000 /* the SDKs' metadata timeout */
#define CREDS_IMDS_ATTEMPTS 2      /* one retry */
#define CREDS_CONTAINER_TIMEOUT_MS 2000
#define CREDS_CONTAINER_ATTEMPTS 3
#define CREDS_REMOTE_TIMEOUT_MS 10000 /* STS, SSO portal and OIDC */
#define CREDS_SSO_REFRESH_WINDOW 600  /* refresh tokens expiring this soon */

/* Owned copy of s (malloc); NULL on OOM. */
char *creds_strdup(const char *s);
/* Wipes and frees a string holding a secret; accepts NULL. */
void creds_free_secret(char *s);
/* Non-empty environment variable or NULL (borrowed). */
const char *creds_env(const char *name);
/* 1 if the variable says true ("true"/"1", any case). */
int creds_env_true(const char *name);

/* RFC 3986 percent-encoding (unreserved characters kept) into out;
 * CT_ELIMIT when out is too small. */
int creds_urlencode(char *out, size_t cap, const char *s);

/* ISO-8601 (also "...UTC") to epoch seconds; -1 if not a time. */
int creds_parse_time(time_t *out, const char *s);

/* "$HOME/rel" (getpwuid when HOME is unset); owned. */
int creds_home_path(char **out, const char *rel, struct ct_error *err);

/* Reads a whole small file (at most max bytes) into an owned, NUL-
 * terminated buffer; wipe with OPENSSL_cleanse when it is a secret. */
int creds_read_file(char **out, size_t *out_len, const char *path, size_t max,
                    struct ct_error *err);

/* opt->http with up to attempts tries: a transport failure or a 5xx/429
 * answer is retried. CT_EINVAL when opt has no http callback. */
int creds_http_call(struct creds_http_response *out,
                    const struct creds_options *opt,
                    const struct creds_http_request *req, int attempts,
                    struct ct_error *err);

/* Credentials from the string members ak/sk/tok/exp (exp: ISO-8601 text,
 * or integer epoch milliseconds when exp_is_ms) of obj. CT_EAUTH naming
 * what when one is missing or already expired (before now). */
int creds_from_json(struct ct_credentials *out, const json_t *obj,
                    const char *ak, const char *sk, const char *tok,
                    const char *exp, int exp_is_ms, time_t now,
                    const char *provider, const char *what,
                    struct ct_error *err);

/* https://<service>.<region>.<partition's DNS suffix>; env_name (e.g.
 * AWS_ENDPOINT_URL_SSO) overrides it. Owned. */
int creds_service_url(char **out, const char *env_name, const char *prefix,
                      const char *region, struct ct_error *err);

/*
 * Container credentials (ECS, EKS Pod Identity, CloudShell) from
 * AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI (loopback,
 * 169.254.170.2, 169.254.170.23, fd00:ec2::23 or localhost only), with
 * AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE or _TOKEN as the Authorization
 * header. CREDS_NOT_FOUND when neither URI variable is set.
 */
int creds_container(struct ct_credentials *out, const struct creds_options *opt,
                    time_t now, struct ct_error *err);

/*
 * EC2 instance metadata, IMDSv2 only: PUT /latest/api/token, then the
 * role's credentials. AWS_EC2_METADATA_DISABLED=true skips it;
 * AWS_EC2_METADATA_SERVICE_ENDPOINT (or _ENDPOINT_MODE=IPv6) moves it.
 * CREDS_NOT_FOUND when disabled or when nothing answers the token request
 * (not on EC2) unless is_required (credential_source).
 */
int creds_imds(struct ct_credentials *out, const struct creds_options *opt,
               time_t now, int is_required, struct ct_error *err);

/*
 * sts:AssumeRoleWithWebIdentity (unsigned) with the token read from
 * token_file, to opt->sts_endpoint_url, AWS_ENDPOINT_URL_STS or the
 * regional STS endpoint of region (NULL: us-east-1).
 */
int creds_web_identity(struct ct_credentials *out,
                       const struct creds_options *opt, const char *token_file,
                       const char *role_arn, const char *session_name,
                       const char *region, struct ct_error *err);

/* An IAM Identity Center profile, as read from the config file. */
struct creds_sso_config {
    const char *profile;      /* for messages ("aws sso login --profile P") */
    const char *session_name; /* sso_session; NULL for a legacy profile */
    const char *start_url;
    const char *sso_region;
    const char *account_id;
    const char *role_name;
};

/*
 * The cached token of `aws sso login` (~/.aws/sso/cache/<sha1>.json, of the
 * session name, or of the start URL for legacy profiles), refreshed through
 * the OIDC CreateToken call (and written back) when it expires within
 * CREDS_SSO_REFRESH_WINDOW and the cache holds a refresh token, then
 * exchanged at the portal's GetRoleCredentials. A missing or expired token:
 * CT_EAUTH "... run aws sso login --profile P".
 */
int creds_sso(struct ct_credentials *out, const struct creds_options *opt,
              const struct creds_sso_config *cfg, time_t now,
              struct ct_error *err);

/* Lowercase hex SHA-1 of s (the cache file stem). */
int creds_sso_cache_key(char out[41], const char *s);

#endif
