/*
 * The network credential providers (container, EC2 instance metadata, web
 * identity, IAM Identity Center, credential_source) through the chain, with
 * a fake HTTP callback that serves canned answers and records every
 * request. No network: the stand-in servers of tests/collector test the
 * real transport.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collector/credentials.h"
#include "collector/creds_internal.h"

#define NOW ((time_t)1700000000) /* 2023-11-14T22:13:20Z */
#define LATER "2023-11-15T00:00:00Z"
#define WEB_TOKEN "eyJhbGciOiJSUzI1NiJ9.webTOKENdoNotLeak"
#define MAX_REQ 8
#define MAX_ANS 8

struct fake_req {
    char method[8];
    char url[512];
    char headers[1024]; /* "\n"-joined */
    char body[2048];
    long timeout_ms;
};

struct fake_ans {
    const char *method;
    const char *url_prefix;
    long status; /* 0: no answer (transport failure) */
    const char *body;
};

struct fixture {
    char dir[512];
    char config[600];
    char credentials[600];
    struct fake_req req[MAX_REQ];
    int n_req;
    struct fake_ans ans[MAX_ANS];
    int n_ans;
    int n_assume;
    char assume_source[64];
};

static const char *const env_vars[] = {"AWS_ACCESS_KEY_ID",
                                       "AWS_SECRET_ACCESS_KEY",
                                       "AWS_SESSION_TOKEN",
                                       "AWS_PROFILE",
                                       "AWS_REGION",
                                       "AWS_DEFAULT_REGION",
                                       "AWS_WEB_IDENTITY_TOKEN_FILE",
                                       "AWS_ROLE_ARN",
                                       "AWS_ROLE_SESSION_NAME",
                                       "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                                       "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                                       "AWS_CONTAINER_AUTHORIZATION_TOKEN",
                                       "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                                       "AWS_EC2_METADATA_DISABLED",
                                       "AWS_EC2_METADATA_SERVICE_ENDPOINT",
                                       "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
                                       "AWS_ENDPOINT_URL_STS",
                                       "AWS_ENDPOINT_URL_SSO",
                                       "AWS_ENDPOINT_URL_SSO_OIDC"};

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_true(fputs(text, f) >= 0);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, 0600), 0);
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    if (!fx)
        return -1;
    const char *tmp = getenv("TMPDIR");
    snprintf(fx->dir, sizeof(fx->dir), "%s/ct_remote.XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(fx->dir))
        return -1;
    for (size_t i = 0; i < sizeof(env_vars) / sizeof(env_vars[0]); i++)
        unsetenv(env_vars[i]);
    snprintf(fx->config, sizeof(fx->config), "%s/config", fx->dir);
    snprintf(fx->credentials, sizeof(fx->credentials), "%s/credentials",
             fx->dir);
    setenv("HOME", fx->dir, 1);
    setenv("AWS_CONFIG_FILE", fx->config, 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", fx->credentials, 1);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    char cmd[700];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
    assert_int_equal(system(cmd), 0);
    free(fx);
    return 0;
}

static void answer(struct fixture *fx, const char *method,
                   const char *url_prefix, long status, const char *body)
{
    assert_true(fx->n_ans < MAX_ANS);
    fx->ans[fx->n_ans++] = (struct fake_ans){method, url_prefix, status, body};
}

static int fake_http(void *ctx, struct creds_http_response *out,
                     const struct creds_http_request *req, struct ct_error *err)
{
    struct fixture *fx = ctx;
    assert_true(fx->n_req < MAX_REQ);
    struct fake_req *r = &fx->req[fx->n_req++];
    memset(r, 0, sizeof(*r));
    snprintf(r->method, sizeof(r->method), "%s", req->method);
    snprintf(r->url, sizeof(r->url), "%s", req->url);
    for (size_t i = 0; i < req->n_headers; i++) {
        size_t n = strlen(r->headers);
        snprintf(r->headers + n, sizeof(r->headers) - n, "%s\n",
                 req->headers[i]);
    }
    if (req->body)
        snprintf(r->body, sizeof(r->body), "%.*s", (int)req->body_len,
                 req->body);
    assert_true(req->timeout_ms > 0);
    r->timeout_ms = req->timeout_ms;
    for (int i = 0; i < fx->n_ans; i++) {
        const struct fake_ans *a = &fx->ans[i];
        if (strcmp(a->method, req->method) != 0 ||
            strncmp(a->url_prefix, req->url, strlen(a->url_prefix)) != 0)
            continue;
        if (a->status == 0)
            return ct_error_set(err, CT_EHTTP, "Connection timed out");
        out->status = a->status;
        out->body = strdup(a->body);
        assert_non_null(out->body);
        out->body_len = strlen(a->body);
        return 0;
    }
    return ct_error_set(err, CT_EHTTP, "Failed to connect");
}

static int fake_assume_role(void *ctx, struct ct_credentials *out,
                            const struct ct_credentials *source,
                            const char *role_arn, const char *session_name,
                            const char *external_id, int duration_seconds,
                            const char *region, struct ct_error *err)
{
    struct fixture *fx = ctx;
    (void)role_arn, (void)session_name, (void)external_id;
    (void)duration_seconds, (void)region;
    fx->n_assume++;
    snprintf(fx->assume_source, sizeof(fx->assume_source), "%s",
             source->access_key_id);
    struct ct_credentials r = {"ASIAROLE", "roleSecret", "roleToken",
                               NOW + 3600, "assume-role"};
    return ct_credentials_copy(out, &r, err);
}

static struct creds_options options(struct fixture *fx, const char *profile)
{
    struct creds_options o;
    memset(&o, 0, sizeof(o));
    o.profile = profile;
    o.assume_role = fake_assume_role;
    o.assume_role_ctx = fx;
    o.now = NOW;
    o.http = fake_http;
    o.http_ctx = fx;
    return o;
}

static void resolve_ok(struct creds_result *r, struct fixture *fx,
                       const char *profile)
{
    struct ct_error err = CT_ERROR_INIT;
    struct creds_options o = options(fx, profile);
    int rc = creds_resolve(r, &o, &err);
    if (rc)
        fail_msg("creds_resolve: %s", err.message);
}

static const char *resolve_error(struct fixture *fx, const char *profile,
                                 int expected_code)
{
    static struct ct_error err;
    struct creds_result r = CREDS_RESULT_INIT;
    struct creds_options o = options(fx, profile);
    ct_error_clear(&err);
    assert_int_equal(creds_resolve(&r, &o, &err), expected_code);
    assert_null(r.creds.access_key_id);
    assert_null(strstr(err.message, WEB_TOKEN));
    assert_null(strstr(err.message, "ssoTOKEN"));
    return err.message;
}

static const char creds_json[] =
    "{\"AccessKeyId\": \"ASIACONTAINER\", \"SecretAccessKey\": \"cSecret\", "
    "\"Token\": \"cToken\", \"Expiration\": \"" LATER "\"}";

/* ---- container ---- */

static void test_creds_remote_container_relative(void **state)
{
    struct fixture *fx = *state;
    struct creds_result r = CREDS_RESULT_INIT;
    setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc", 1);
    answer(fx, "GET", "http://169.254.170.2/v2/credentials/abc", 200,
           creds_json);
    resolve_ok(&r, fx, NULL);
    assert_string_equal(r.creds.provider, "container");
    assert_string_equal(r.creds.access_key_id, "ASIACONTAINER");
    assert_string_equal(r.creds.session_token, "cToken");
    assert_int_equal(r.creds.expiration, 1700006400);
    assert_int_equal(fx->n_req, 1);
    assert_string_equal(fx->req[0].headers, "");
    creds_result_release(&r);
}

static void test_creds_remote_container_full_uri_token(void **state)
{
    struct fixture *fx = *state;
    struct creds_result r = CREDS_RESULT_INIT;
    char token[600];
    snprintf(token, sizeof(token), "%s/token", fx->dir);
    write_file(token, "podIdentityToken\n");
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI",
           "http://169.254.170.23/v1/credentials", 1);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "envToken", 1);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", token, 1);
    answer(fx, "GET", "http://169.254.170.23/v1/credentials", 200, creds_json);
    resolve_ok(&r, fx, NULL);
    /* the file wins over the variable, as in the SDKs */
    assert_string_equal(fx->req[0].headers,
                        "Authorization: podIdentityToken\n");
    creds_result_release(&r);
    unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    fx->n_req = 0;
    resolve_ok(&r, fx, NULL);
    assert_string_equal(fx->req[0].headers, "Authorization: envToken\n");
    creds_result_release(&r);
}

static void test_creds_remote_container_hosts(void **state)
{
    struct fixture *fx = *state;
    static const char *const allowed[] = {
        "http://127.0.0.1:8080/creds", "http://localhost/creds",
        "http://[::1]:9/creds",        "http://[fd00:ec2::23]/creds",
        "https://169.254.170.2/creds", "http://127.1.2.3/x"};
    static const char *const refused[] = {
        "http://evil.example.com/creds", "http://127.0.0.1.evil.com/x",
        "http://169.254.169.254/latest", "http://10.0.0.1/creds",
        "ftp://127.0.0.1/creds",         "http://user@evil.com/creds"};
    for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
        struct creds_result r = CREDS_RESULT_INIT;
        setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", allowed[i], 1);
        fx->n_ans = 0;
        answer(fx, "GET", allowed[i], 200, creds_json);
        resolve_ok(&r, fx, NULL);
        creds_result_release(&r);
    }
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", refused[i], 1);
        fx->n_req = 0;
        const char *msg = resolve_error(fx, NULL, CT_EAUTH);
        assert_non_null(strstr(msg, "is not allowed"));
        assert_int_equal(fx->n_req, 0);
    }
}

static void test_creds_remote_container_errors(void **state)
{
    struct fixture *fx = *state;
    setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/x", 1);
    answer(fx, "GET", "http://169.254.170.2/v2/x", 403,
           "{\"code\": \"AccessDenied\"}");
    const char *msg = resolve_error(fx, NULL, CT_EAUTH);
    assert_non_null(strstr(msg, "answered HTTP 403"));
    setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/none", 1);
    fx->n_req = 0;
    msg = resolve_error(fx, NULL, CT_EHTTP);
    assert_non_null(strstr(msg, "did not answer"));
    assert_int_equal(fx->n_req, CREDS_CONTAINER_ATTEMPTS);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "a\r\nX-Injected: 1", 1);
    msg = resolve_error(fx, NULL, CT_EAUTH);
    assert_non_null(strstr(msg, "line break"));
}

/* ---- EC2 instance metadata ---- */

static const char imds_creds[] =
    "{\"Code\": \"Success\", \"LastUpdated\": \"2023-11-14T22:00:00Z\", "
    "\"Type\": \"AWS-HMAC\", \"AccessKeyId\": \"ASIAIMDS\", "
    "\"SecretAccessKey\": \"iSecret\", \"Token\": \"iToken\", "
    "\"Expiration\": \"" LATER "\"}";

static void imds_answers(struct fixture *fx, const char *base)
{
    char url[3][256];
    snprintf(url[0], sizeof(url[0]), "%s/latest/api/token", base);
    snprintf(url[1], sizeof(url[1]),
             "%s/latest/meta-data/iam/security-credentials/ec2-role", base);
    snprintf(url[2], sizeof(url[2]),
             "%s/latest/meta-data/iam/security-credentials/", base);
    /* static copies: answers keep pointers */
    static char keep[3][256];
    for (int i = 0; i < 3; i++)
        snprintf(keep[i], sizeof(keep[i]), "%s", url[i]);
    answer(fx, "PUT", keep[0], 200, "imdsSessionToken");
    answer(fx, "GET", keep[1], 200, imds_creds);
    answer(fx, "GET", keep[2], 200, "ec2-role\n");
}

static void test_creds_remote_imds(void **state)
{
    struct fixture *fx = *state;
    struct creds_result r = CREDS_RESULT_INIT;
    imds_answers(fx, "http://169.254.169.254");
    resolve_ok(&r, fx, NULL);
    assert_string_equal(r.creds.provider, "ec2-instance-metadata");
    assert_string_equal(r.creds.access_key_id, "ASIAIMDS");
    assert_int_equal(r.creds.expiration, 1700006400);
    assert_int_equal(fx->n_req, 3);
    assert_string_equal(fx->req[0].method, "PUT");
    assert_string_equal(fx->req[0].headers,
                        "X-aws-ec2-metadata-token-ttl-seconds: 21600\n");
    assert_string_equal(fx->req[1].url, "http://169.254.169.254/latest/"
                                        "meta-data/iam/security-credentials/");
    assert_string_equal(fx->req[2].headers,
                        "X-aws-ec2-metadata-token: imdsSessionToken\n");
    /* the SDKs' short metadata timeout: a laptop does not hang on it */
    for (int i = 0; i < 3; i++)
        assert_int_equal(fx->req[i].timeout_ms, 1000);
    creds_result_release(&r);

    /* moved by the environment (the tests' loopback stand-in) */
    fx->n_ans = fx->n_req = 0;
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:9/", 1);
    imds_answers(fx, "http://127.0.0.1:9");
    resolve_ok(&r, fx, NULL);
    assert_string_equal(fx->req[0].url, "http://127.0.0.1:9/latest/api/token");
    creds_result_release(&r);
}

static void test_creds_remote_imds_absent(void **state)
{
    struct fixture *fx = *state;
    /* nothing answers: one retry, then the chain ends */
    const char *msg = resolve_error(fx, NULL, CT_EAUTH);
    assert_non_null(strstr(msg, "EC2 instance metadata (no answer)"));
    assert_int_equal(fx->n_req, CREDS_IMDS_ATTEMPTS);
    /* disabled: not even tried */
    fx->n_req = 0;
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    imds_answers(fx, "http://169.254.169.254");
    msg = resolve_error(fx, NULL, CT_EAUTH);
    assert_non_null(
        strstr(msg, "EC2 instance metadata (AWS_EC2_METADATA_DISABLED)"));
    assert_int_equal(fx->n_req, 0);
}

static void test_creds_remote_imds_v1_refused(void **state)
{
    struct fixture *fx = *state;
    answer(fx, "PUT", "http://169.254.169.254/latest/api/token", 403, "");
    answer(fx, "GET", "http://169.254.169.254/", 200, "ec2-role");
    const char *msg = resolve_error(fx, NULL, CT_EAUTH);
    assert_non_null(strstr(msg, "does not use IMDSv1"));
    assert_int_equal(fx->n_req, 1);
}

/* ---- web identity ---- */

static const char sts_ok[] =
    "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult>"
    "<Credentials><AccessKeyId>ASIAWEB</AccessKeyId>"
    "<SecretAccessKey>wSecret</SecretAccessKey>"
    "<SessionToken>wToken</SessionToken>"
    "<Expiration>" LATER "</Expiration></Credentials>"
    "</AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>";

static void test_creds_remote_web_identity_env(void **state)
{
    struct fixture *fx = *state;
    struct creds_result r = CREDS_RESULT_INIT;
    char token[600];
    snprintf(token, sizeof(token), "%s/web-token", fx->dir);
    write_file(token, WEB_TOKEN "\n");
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", token, 1);
    setenv("AWS_ROLE_ARN", "arn:aws:iam::111122223333:role/ci", 1);
    setenv("AWS_ROLE_SESSION_NAME", "build 42", 1);
    setenv("AWS_REGION", "eu-west-1", 1);
    answer(fx, "POST", "https://sts.eu-west-1.amazonaws.com/", 200, sts_ok);
    resolve_ok(&r, fx, NULL);
    assert_string_equal(r.creds.provider, "web-identity");
    assert_string_equal(r.creds.access_key_id, "ASIAWEB");
    assert_int_equal(r.creds.expiration, 1700006400);
    assert_string_equal(
        fx->req[0].body,
        "Action=AssumeRoleWithWebIdentity&Version=2011-06-15"
        "&RoleArn=arn%3Aaws%3Aiam%3A%3A111122223333%3Arole%2Fci"
        "&RoleSessionName=build%2042&WebIdentityToken=" WEB_TOKEN);
    /* unsigned */
    assert_null(strstr(fx->req[0].headers, "Authorization"));
    creds_result_release(&r);

    /* --profile skips the environment's web identity */
    write_file(fx->credentials,
               "[p]\naws_access_key_id = AKIDP\naws_secret_access_key = s\n");
    resolve_ok(&r, fx, "p");
    assert_string_equal(r.creds.access_key_id, "AKIDP");
    creds_result_release(&r);
}

static void test_creds_remote_web_identity_profile(void **state)
{
    struct fixture *fx = *state;
    struct creds_result r = CREDS_RESULT_INIT;
    char token[600], cfg[1600];
    snprintf(token, sizeof(token), "%s/web-token", fx->dir);
    write_file(token, WEB_TOKEN);
    snprintf(cfg, sizeof(cfg),
             "[profile irsa]\nrole_arn = arn:aws:iam::111122223333:role/r\n"
             "web_identity_token_file = %s\nrole_session_name = s1\n"
             "region = us-west-2\n",
             token);
    write_file(fx->config, cfg);
    answer(fx, "POST", "https://sts.us-west-2.amazonaws.com/", 200, sts_ok);
    resolve_ok(&r, fx, "irsa");
    assert_string_equal(r.creds.provider, "web-identity");
    assert_non_null(strstr(fx->req[0].body, "&RoleSessionName=s1&"));
    creds_result_release(&r);

    /* an STS error names its code, never the token */
    fx->n_ans = 0;
    answer(fx, "POST", "https://sts.us-west-2.amazonaws.com/", 400,
           "<ErrorResponse><Error><Code>InvalidIdentityToken</Code>"
           "<Message>No OpenIDConnect provider found</Message></Error>"
           "</ErrorResponse>");
    const char *msg = resolve_error(fx, "irsa", CT_EAUTH);
    assert_non_null(strstr(msg, "HTTP 400 InvalidIdentityToken"));
    /* a missing token file */
    snprintf(cfg, sizeof(cfg),
             "[profile irsa]\nrole_arn = arn:aws:iam::1:role/r\n"
             "web_identity_token_file = %s/absent\n",
             fx->dir);
    write_file(fx->config, cfg);
    msg = resolve_error(fx, "irsa", CT_EAUTH);
    assert_non_null(strstr(msg, "cannot read the web identity token file"));
}

/* ---- IAM Identity Center ---- */

static const char portal_ok[] =
    "{\"roleCredentials\": {\"accessKeyId\": \"ASIASSO\", "
    "\"secretAccessKey\": \"sSecret\", \"sessionToken\": \"sToken\", "
    "\"expiration\": 1700006400000}}";

static void write_cache(struct fixture *fx, const char *key_source,
                        const char *json, char *path_out, size_t cap)
{
    char key[41], dir[700];
    assert_int_equal(creds_sso_cache_key(key, key_source), 0);
    snprintf(dir, sizeof(dir), "%s/.aws", fx->dir);
    mkdir(dir, 0700);
    snprintf(dir, sizeof(dir), "%s/.aws/sso", fx->dir);
    mkdir(dir, 0700);
    snprintf(dir, sizeof(dir), "%s/.aws/sso/cache", fx->dir);
    mkdir(dir, 0700);
    snprintf(path_out, cap, "%s/%s.json", dir, key);
    write_file(path_out, json);
}

static const char sso_config[] =
    "[profile dev]\nsso_session = corp\nsso_account_id = 111122223333\n"
    "sso_role_name = ReadOnly+Audit\nregion = eu-west-1\n"
    "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\n"
    "sso_region = eu-central-1\n"
    "sso_registration_scopes = sso:account:access\n"
    "[profile legacy]\nsso_start_url = https://old.awsapps.com/start\n"
    "sso_region = us-east-1\nsso_account_id = 111122223333\n"
    "sso_role_name = Admin\n"
    "[profile audit]\nrole_arn = arn:aws:iam::444455556666:role/Audit\n"
    "source_profile = dev\n";

static void test_creds_remote_sso_cache_key(void **state)
{
    (void)state;
    char key[41];
    assert_int_equal(creds_sso_cache_key(key, "abc"), 0);
    assert_string_equal(key, "a9993e364706816aba3e25717850c26c9cd0d89d");
}

static void test_creds_remote_sso_session(void **state)
{
    struct fixture *fx = *state;
    struct creds_result r = CREDS_RESULT_INIT;
    char path[800];
    write_file(fx->config, sso_config);
    write_cache(fx, "corp",
                "{\"startUrl\": \"https://corp.awsapps.com/start\", "
                "\"region\": \"eu-central-1\", \"accessToken\": \"ssoTOKEN1\", "
                "\"expiresAt\": \"" LATER "\"}",
                path, sizeof(path));
    answer(fx, "GET", "https://portal.sso.eu-central-1.amazonaws.com/", 200,
           portal_ok);
    resolve_ok(&r, fx, "dev");
    assert_string_equal(r.creds.provider, "sso");
    assert_string_equal(r.creds.access_key_id, "ASIASSO");
    assert_string_equal(r.creds.session_token, "sToken");
    assert_int_equal(r.creds.expiration, 1700006400);
    assert_string_equal(r.region, "eu-west-1");
    assert_string_equal(fx->req[0].url,
                        "https://portal.sso.eu-central-1.amazonaws.com/"
                        "federation/credentials?account_id=111122223333"
                        "&role_name=ReadOnly%2BAudit");
    assert_string_equal(fx->req[0].headers,
                        "x-amz-sso_bearer_token: ssoTOKEN1\n");
    creds_result_release(&r);

    /* a role profile whose source is the SSO profile */
    resolve_ok(&r, fx, "audit");
    assert_int_equal(fx->n_assume, 1);
    assert_string_equal(fx->assume_source, "ASIASSO");
    creds_result_release(&r);

    /* the portal refuses the token */
    fx->n_ans = 0;
    answer(fx, "GET", "https://portal.sso.eu-central-1.amazonaws.com/", 401,
           "{\"message\": \"Session token not found or invalid\"}");
    const char *msg = resolve_error(fx, "dev", CT_EAUTH);
    assert_non_null(strstr(msg, "run aws sso login --profile dev"));
}

static void test_creds_remote_sso_legacy(void **state)
{
    struct fixture *fx = *state;
    struct creds_result r = CREDS_RESULT_INIT;
    char path[800];
    write_file(fx->config, sso_config);
    write_cache(fx, "https://old.awsapps.com/start",
                "{\"accessToken\": \"ssoTOKEN2\", "
                "\"expiresAt\": \"2023-11-15T00:00:00UTC\"}",
                path, sizeof(path));
    answer(fx, "GET", "https://portal.sso.us-east-1.amazonaws.com/", 200,
           portal_ok);
    resolve_ok(&r, fx, "legacy");
    assert_string_equal(r.creds.access_key_id, "ASIASSO");
    assert_non_null(strstr(fx->req[0].url, "role_name=Admin"));
    creds_result_release(&r);
}

static void test_creds_remote_sso_login_needed(void **state)
{
    struct fixture *fx = *state;
    char path[800];
    write_file(fx->config, sso_config);
    /* no cache at all */
    const char *msg = resolve_error(fx, "dev", CT_EAUTH);
    assert_string_equal(msg, "IAM Identity Center token of profile 'dev' is "
                             "not cached; run aws sso login --profile dev");
    /* expired, nothing to refresh with */
    write_cache(fx, "corp",
                "{\"accessToken\": \"ssoTOKEN3\", "
                "\"expiresAt\": \"2023-11-14T22:00:00Z\"}",
                path, sizeof(path));
    msg = resolve_error(fx, "dev", CT_EAUTH);
    assert_string_equal(msg, "IAM Identity Center token of profile 'dev' has "
                             "expired; run aws sso login --profile dev");
    assert_int_equal(fx->n_req, 0);
    /* the role profile names itself in the hint */
    msg = resolve_error(fx, "audit", CT_EAUTH);
    assert_non_null(strstr(msg, "run aws sso login --profile audit"));
}

static const char refreshable[] =
    "{\"accessToken\": \"ssoTOKENold\", "
    "\"expiresAt\": \"2023-11-14T22:00:00Z\", \"clientId\": \"cid\", "
    "\"clientSecret\": \"csecret\", \"refreshToken\": \"rtOld\", "
    "\"registrationExpiresAt\": \"2024-01-01T00:00:00Z\", "
    "\"region\": \"eu-central-1\", "
    "\"startUrl\": \"https://corp.awsapps.com/start\"}";

static void test_creds_remote_sso_refresh(void **state)
{
    struct fixture *fx = *state;
    struct creds_result r = CREDS_RESULT_INIT;
    char path[800];
    write_file(fx->config, sso_config);
    write_cache(fx, "corp", refreshable, path, sizeof(path));
    answer(fx, "POST", "https://oidc.eu-central-1.amazonaws.com/token", 200,
           "{\"accessToken\": \"ssoTOKENnew\", \"expiresIn\": 3600, "
           "\"refreshToken\": \"rtNew\", \"tokenType\": \"Bearer\"}");
    answer(fx, "GET", "https://portal.sso.eu-central-1.amazonaws.com/", 200,
           portal_ok);
    resolve_ok(&r, fx, "dev");
    assert_int_equal(fx->n_req, 2);
    assert_string_equal(fx->req[0].body,
                        "{\"clientId\":\"cid\",\"clientSecret\":\"csecret\","
                        "\"grantType\":\"refresh_token\","
                        "\"refreshToken\":\"rtOld\"}");
    assert_string_equal(fx->req[1].headers,
                        "x-amz-sso_bearer_token: ssoTOKENnew\n");
    creds_result_release(&r);
    /* written back as the SDKs do */
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(creds_read_file(&text, &len, path, 65536, NULL), 0);
    assert_non_null(strstr(text, "\"accessToken\": \"ssoTOKENnew\""));
    assert_non_null(strstr(text, "\"refreshToken\": \"rtNew\""));
    assert_non_null(strstr(text, "\"expiresAt\": \"2023-11-14T23:13:20Z\""));
    assert_non_null(strstr(text, "\"startUrl\""));
    free(text);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 077, 0);
}

static void test_creds_remote_sso_refresh_refused(void **state)
{
    struct fixture *fx = *state;
    char path[800];
    write_file(fx->config, sso_config);
    write_cache(fx, "corp", refreshable, path, sizeof(path));
    answer(fx, "POST", "https://oidc.eu-central-1.amazonaws.com/token", 400,
           "{\"error\": \"invalid_grant\"}");
    const char *msg = resolve_error(fx, "dev", CT_EAUTH);
    assert_non_null(strstr(msg, "invalid_grant"));
    assert_non_null(strstr(msg, "run aws sso login --profile dev"));
    assert_int_equal(fx->n_req, 1); /* a 4xx is final; no portal call */
}

/* ---- credential_source ---- */

static void test_creds_remote_credential_source(void **state)
{
    struct fixture *fx = *state;
    struct creds_result r = CREDS_RESULT_INIT;
    write_file(fx->config, "[profile env]\nrole_arn = arn:aws:iam::1:role/A\n"
                           "credential_source = Environment\n"
                           "[profile ec2]\nrole_arn = arn:aws:iam::1:role/A\n"
                           "credential_source = Ec2InstanceMetadata\n"
                           "[profile ecs]\nrole_arn = arn:aws:iam::1:role/A\n"
                           "credential_source = EcsContainer\n");
    const char *msg = resolve_error(fx, "env", CT_EAUTH);
    assert_non_null(strstr(msg, "credential_source Environment"));
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "envSecret", 1);
    resolve_ok(&r, fx, "env");
    assert_string_equal(fx->assume_source, "AKIDENV");
    assert_string_equal(r.creds.access_key_id, "ASIAROLE");
    creds_result_release(&r);

    imds_answers(fx, "http://169.254.169.254");
    resolve_ok(&r, fx, "ec2");
    assert_string_equal(fx->assume_source, "ASIAIMDS");
    creds_result_release(&r);

    msg = resolve_error(fx, "ecs", CT_EAUTH);
    assert_non_null(strstr(msg, "neither AWS_CONTAINER_CREDENTIALS"));
    setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/c", 1);
    answer(fx, "GET", "http://169.254.170.2/v2/c", 200, creds_json);
    resolve_ok(&r, fx, "ecs");
    assert_string_equal(fx->assume_source, "ASIACONTAINER");
    creds_result_release(&r);

    /* IMDS disabled: the explicit source fails instead of being skipped */
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    msg = resolve_error(fx, "ec2", CT_EAUTH);
    assert_non_null(strstr(msg, "AWS_EC2_METADATA_DISABLED"));
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_creds_remote_container_relative),
        T(test_creds_remote_container_full_uri_token),
        T(test_creds_remote_container_hosts),
        T(test_creds_remote_container_errors),
        T(test_creds_remote_imds),
        T(test_creds_remote_imds_absent),
        T(test_creds_remote_imds_v1_refused),
        T(test_creds_remote_web_identity_env),
        T(test_creds_remote_web_identity_profile),
        T(test_creds_remote_sso_cache_key),
        T(test_creds_remote_sso_session),
        T(test_creds_remote_sso_legacy),
        T(test_creds_remote_sso_login_needed),
        T(test_creds_remote_sso_refresh),
        T(test_creds_remote_sso_refresh_refused),
        T(test_creds_remote_credential_source),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
