/*
 * The credential chain over temporary config/credentials files (mkstemp
 * under TMPDIR) and environment variables. AssumeRole goes through the
 * creds_options callback seam: the test callback records its arguments
 * and returns fixed credentials. credential_process runs small shell
 * scripts written by the tests.
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

#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define PROC_SECRET "procSECRETdoNotLeak0123456789"
#define NOW ((time_t)1700000000) /* 2023-11-14T22:13:20Z */

struct assume_call {
    int n_calls;
    char source_akid[64];
    char source_secret[64];
    char role_arn[128];
    char session_name[128];
    char external_id[64];
    int has_external_id;
    int duration;
    char region[32];
    int rc; /* what the callback returns */
};

struct fixture {
    char dir[512];
    char config[600];
    char credentials[600];
    char script[600];
    struct assume_call call;
    int n_warnings;
    char warning[512];
};

static void make_temp(char *out, size_t cap, const char *dir, const char *stem)
{
    int n = snprintf(out, cap, "%s/%s.XXXXXX", dir, stem);
    assert_true(n > 0 && (size_t)n < cap);
    int fd = mkstemp(out);
    assert_true(fd >= 0);
    close(fd);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, mode), 0);
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    if (!fx)
        return -1;
    const char *tmp = getenv("TMPDIR");
    snprintf(fx->dir, sizeof(fx->dir), "%s/ct_creds.XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(fx->dir))
        return -1;
    make_temp(fx->config, sizeof(fx->config), fx->dir, "config");
    make_temp(fx->credentials, sizeof(fx->credentials), fx->dir, "credentials");
    make_temp(fx->script, sizeof(fx->script), fx->dir, "process");
    static const char *const vars[] = {"AWS_ACCESS_KEY_ID",
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
                                       "AWS_EC2_METADATA_DISABLED"};
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
        unsetenv(vars[i]);
    /* never the real ~/.aws */
    setenv("HOME", fx->dir, 1);
    setenv("AWS_CONFIG_FILE", fx->config, 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", fx->credentials, 1);
    chmod(fx->config, 0600);
    chmod(fx->credentials, 0600);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    unlink(fx->config);
    unlink(fx->credentials);
    unlink(fx->script);
    rmdir(fx->dir);
    free(fx);
    return 0;
}

static void copy_str(char *out, size_t cap, const char *s)
{
    snprintf(out, cap, "%s", s ? s : "");
}

static int fake_assume_role(void *ctx, struct ct_credentials *out,
                            const struct ct_credentials *source,
                            const char *role_arn, const char *session_name,
                            const char *external_id, int duration_seconds,
                            const char *region, struct ct_error *err)
{
    struct assume_call *c = ctx;
    c->n_calls++;
    copy_str(c->source_akid, sizeof(c->source_akid), source->access_key_id);
    copy_str(c->source_secret, sizeof(c->source_secret),
             source->secret_access_key);
    copy_str(c->role_arn, sizeof(c->role_arn), role_arn);
    copy_str(c->session_name, sizeof(c->session_name), session_name);
    c->has_external_id = external_id != NULL;
    copy_str(c->external_id, sizeof(c->external_id), external_id);
    c->duration = duration_seconds;
    copy_str(c->region, sizeof(c->region), region);
    if (c->rc)
        return ct_error_set(err, c->rc, "AccessDenied");
    /* each hop returns distinct keys, so chains are visible */
    char akid[32];
    snprintf(akid, sizeof(akid), "ASIAROLE%d", c->n_calls);
    struct ct_credentials r = {akid, "roleSecret", "roleToken", NOW + 3600,
                               "assume-role"};
    return ct_credentials_copy(out, &r, err);
}

static void record_warning(void *ctx, const char *msg)
{
    struct fixture *fx = ctx;
    fx->n_warnings++;
    copy_str(fx->warning, sizeof(fx->warning), msg);
}

static struct creds_options options(struct fixture *fx, const char *profile)
{
    struct creds_options o;
    memset(&o, 0, sizeof(o));
    o.profile = profile;
    o.assume_role = fake_assume_role;
    o.assume_role_ctx = &fx->call;
    o.warn = record_warning;
    o.warn_ctx = fx;
    o.now = NOW;
    o.process_timeout_ms = 5000;
    return o;
}

static void assert_no_secret(const char *msg)
{
    assert_null(strstr(msg, SECRET));
    assert_null(strstr(msg, PROC_SECRET));
    assert_null(strstr(msg, "roleSecret"));
}

/* Resolves and expects failure; returns the message (static). */
static const char *resolve_error(struct fixture *fx, const char *profile,
                                 int expected_code)
{
    static struct ct_error err;
    struct creds_result r = CREDS_RESULT_INIT;
    struct creds_options o = options(fx, profile);
    ct_error_clear(&err);
    assert_int_equal(creds_resolve(&r, &o, &err), expected_code);
    assert_int_equal(err.code, expected_code);
    assert_null(r.creds.access_key_id);
    assert_no_secret(err.message);
    return err.message;
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

static void test_credentials_environment(void **state)
{
    struct fixture *fx = *state;
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
    setenv("AWS_SESSION_TOKEN", "envToken", 1);
    write_file(fx->config, "[default]\nregion = eu-west-3\n", 0600);
    struct creds_result r = CREDS_RESULT_INIT;
    resolve_ok(&r, fx, NULL);
    assert_string_equal(r.creds.access_key_id, "AKIDENV");
    assert_string_equal(r.creds.secret_access_key, SECRET);
    assert_string_equal(r.creds.session_token, "envToken");
    assert_string_equal(r.creds.provider, "environment");
    assert_null(r.profile);
    assert_string_equal(r.region, "eu-west-3");
    creds_result_release(&r);
    assert_null(r.creds.access_key_id);
    assert_null(r.region);
}

static void test_credentials_environment_partial(void **state)
{
    struct fixture *fx = *state;
    setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
    const char *msg = resolve_error(fx, NULL, CT_EAUTH);
    assert_non_null(strstr(msg, "AWS_ACCESS_KEY_ID"));
}

/* --profile skips the environment, as the SDKs do; AWS_PROFILE does not */
static void test_credentials_explicit_profile_skips_env(void **state)
{
    struct fixture *fx = *state;
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
    write_file(fx->credentials,
               "[dev]\naws_access_key_id = AKIDDEV\n"
               "aws_secret_access_key = " SECRET "\n",
               0600);
    struct creds_result r = CREDS_RESULT_INIT;
    resolve_ok(&r, fx, "dev");
    assert_string_equal(r.creds.access_key_id, "AKIDDEV");
    assert_string_equal(r.profile, "dev");
    creds_result_release(&r);

    setenv("AWS_PROFILE", "dev", 1);
    resolve_ok(&r, fx, NULL);
    assert_string_equal(r.creds.access_key_id, "AKIDENV");
    creds_result_release(&r);
}

static void test_credentials_static_profile(void **state)
{
    struct fixture *fx = *state;
    write_file(fx->config,
               "[default]\nregion = us-west-2\n"
               "[profile dev]\nregion = eu-central-1\n",
               0600);
    write_file(fx->credentials,
               "# comment\n[default]\naws_access_key_id = AKIDDEFAULT\n"
               "aws_secret_access_key = " SECRET "\n"
               "aws_session_token = tok\n"
               "[dev]\naws_access_key_id = AKIDDEV\n"
               "aws_secret_access_key = " SECRET "\n",
               0600);
    struct creds_result r = CREDS_RESULT_INIT;
    resolve_ok(&r, fx, NULL);
    assert_string_equal(r.creds.access_key_id, "AKIDDEFAULT");
    assert_string_equal(r.creds.session_token, "tok");
    assert_string_equal(r.creds.provider, "shared-credentials-file");
    assert_string_equal(r.profile, "default");
    assert_string_equal(r.region, "us-west-2");
    assert_int_equal(r.creds.expiration, 0);
    creds_result_release(&r);

    setenv("AWS_PROFILE", "dev", 1);
    resolve_ok(&r, fx, NULL);
    assert_string_equal(r.creds.access_key_id, "AKIDDEV");
    assert_null(r.creds.session_token);
    assert_string_equal(r.profile, "dev");
    assert_string_equal(r.region, "eu-central-1");
    creds_result_release(&r);
    assert_int_equal(fx->n_warnings, 0);
}

static void test_credentials_credentials_file_wins(void **state)
{
    struct fixture *fx = *state;
    write_file(fx->config,
               "[profile dev]\naws_access_key_id = AKIDCONFIG\n"
               "aws_secret_access_key = configSecret\n"
               "region = ap-south-1\n",
               0600);
    write_file(fx->credentials,
               "[dev]\naws_access_key_id = AKIDCREDS\n"
               "aws_secret_access_key = " SECRET "\n",
               0600);
    struct creds_result r = CREDS_RESULT_INIT;
    resolve_ok(&r, fx, "dev");
    assert_string_equal(r.creds.access_key_id, "AKIDCREDS");
    assert_string_equal(r.creds.secret_access_key, SECRET);
    assert_string_equal(r.region, "ap-south-1");
    creds_result_release(&r);

    /* config-only keys still work, and "[profile dev]" beats "[dev]" */
    write_file(fx->credentials, "", 0600);
    write_file(fx->config,
               "[dev]\naws_access_key_id = AKIDIGNORED\n"
               "aws_secret_access_key = x\n"
               "[profile dev]\naws_access_key_id = AKIDCONFIG\n"
               "aws_secret_access_key = configSecret\n",
               0600);
    resolve_ok(&r, fx, "dev");
    assert_string_equal(r.creds.access_key_id, "AKIDCONFIG");
    assert_string_equal(r.creds.provider, "config-file");
    creds_result_release(&r);
}

/* A session token is longer than inih's default line of 200 bytes. */
static void test_credentials_long_session_token(void **state)
{
    struct fixture *fx = *state;
    char token[1601];
    for (size_t i = 0; i < sizeof(token) - 1; i++)
        token[i] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/"[i % 38];
    token[sizeof(token) - 3] = '=';
    token[sizeof(token) - 2] = '=';
    token[sizeof(token) - 1] = '\0';
    char text[2048];
    snprintf(text, sizeof(text),
             "[default]\naws_access_key_id = AKIDLONG\n"
             "aws_secret_access_key = %s\naws_session_token = %s\n",
             SECRET, token);
    write_file(fx->credentials, text, 0600);
#ifdef CT_HAVE_INIH_RUNTIME_OPTIONS
    struct creds_result r = CREDS_RESULT_INIT;
    resolve_ok(&r, fx, NULL);
    assert_string_equal(r.creds.session_token, token);
    creds_result_release(&r);
#else
    /* an inih without run-time options: refused, never truncated */
    const char *msg = resolve_error(fx, NULL, CT_ELIMIT);
    assert_non_null(strstr(msg, "line 4"));
#endif
}

static void test_credentials_assume_role(void **state)
{
    struct fixture *fx = *state;
    write_file(fx->config,
               "[profile audit]\n"
               "role_arn = arn:aws:iam::123456789012:role/Audit\n"
               "source_profile = base\n"
               "external_id = ext-42\n"
               "duration_seconds = 1800\n"
               "region = eu-west-1\n",
               0600);
    write_file(fx->credentials,
               "[base]\naws_access_key_id = AKIDBASE\n"
               "aws_secret_access_key = " SECRET "\n",
               0600);
    struct creds_result r = CREDS_RESULT_INIT;
    resolve_ok(&r, fx, "audit");
    assert_int_equal(fx->call.n_calls, 1);
    assert_string_equal(fx->call.source_akid, "AKIDBASE");
    assert_string_equal(fx->call.source_secret, SECRET);
    assert_string_equal(fx->call.role_arn,
                        "arn:aws:iam::123456789012:role/Audit");
    assert_string_equal(fx->call.session_name, "ctcollect-1700000000");
    assert_true(fx->call.has_external_id);
    assert_string_equal(fx->call.external_id, "ext-42");
    assert_int_equal(fx->call.duration, 1800);
    assert_string_equal(fx->call.region, "eu-west-1");
    assert_string_equal(r.creds.access_key_id, "ASIAROLE1");
    assert_string_equal(r.creds.session_token, "roleToken");
    assert_int_equal(r.creds.expiration, NOW + 3600);
    assert_string_equal(r.profile, "audit");
    assert_string_equal(r.region, "eu-west-1");
    creds_result_release(&r);
}

/* role -> role -> static keys: the first role's credentials source the
 * second; explicit session name; no external id or duration. */
static void test_credentials_assume_role_chain(void **state)
{
    struct fixture *fx = *state;
    write_file(fx->config,
               "[profile outer]\nrole_arn = arn:aws:iam::1:role/Outer\n"
               "source_profile = inner\nrole_session_name = audit-run\n"
               "[profile inner]\nrole_arn = arn:aws:iam::1:role/Inner\n"
               "source_profile = base\n"
               "[profile base]\naws_access_key_id = AKIDBASE\n"
               "aws_secret_access_key = " SECRET "\n",
               0600);
    struct creds_result r = CREDS_RESULT_INIT;
    resolve_ok(&r, fx, "outer");
    assert_int_equal(fx->call.n_calls, 2);
    /* the last call is the outer role, sourced by the inner role's keys */
    assert_string_equal(fx->call.source_akid, "ASIAROLE1");
    assert_string_equal(fx->call.role_arn, "arn:aws:iam::1:role/Outer");
    assert_string_equal(fx->call.session_name, "audit-run");
    assert_false(fx->call.has_external_id);
    assert_int_equal(fx->call.duration, 0);
    assert_string_equal(r.creds.access_key_id, "ASIAROLE2");
    creds_result_release(&r);
}

static void test_credentials_assume_role_self_source(void **state)
{
    struct fixture *fx = *state;
    write_file(fx->credentials,
               "[me]\naws_access_key_id = AKIDME\n"
               "aws_secret_access_key = " SECRET "\n"
               "role_arn = arn:aws:iam::1:role/Me\nsource_profile = me\n",
               0600);
    struct creds_result r = CREDS_RESULT_INIT;
    resolve_ok(&r, fx, "me");
    assert_int_equal(fx->call.n_calls, 1);
    assert_string_equal(fx->call.source_akid, "AKIDME");
    creds_result_release(&r);
}

static void test_credentials_assume_role_cycle(void **state)
{
    struct fixture *fx = *state;
    write_file(fx->config,
               "[profile a]\nrole_arn = arn:aws:iam::1:role/A\n"
               "source_profile = b\n"
               "[profile b]\nrole_arn = arn:aws:iam::1:role/B\n"
               "source_profile = a\n"
               "[profile self]\nrole_arn = arn:aws:iam::1:role/S\n"
               "source_profile = self\n",
               0600);
    const char *msg = resolve_error(fx, "a", CT_EAUTH);
    assert_non_null(strstr(msg, "cycle"));
    assert_non_null(strstr(msg, "a -> b -> a"));
    assert_int_equal(fx->call.n_calls, 0);
    msg = resolve_error(fx, "self", CT_EAUTH);
    assert_non_null(strstr(msg, "cycle"));
}

static void test_credentials_assume_role_errors(void **state)
{
    struct fixture *fx = *state;
    write_file(fx->config,
               "[profile lost]\nrole_arn = arn:aws:iam::1:role/L\n"
               "source_profile = nowhere\n"
               "[profile long]\nrole_arn = arn:aws:iam::1:role/L\n"
               "source_profile = base\nduration_seconds = 99999\n"
               "[profile ok]\nrole_arn = arn:aws:iam::1:role/L\n"
               "source_profile = base\n"
               "[profile base]\naws_access_key_id = AKIDBASE\n"
               "aws_secret_access_key = " SECRET "\n",
               0600);
    const char *msg = resolve_error(fx, "lost", CT_EAUTH);
    assert_non_null(strstr(msg, "source_profile 'nowhere' of profile 'lost'"));
    msg = resolve_error(fx, "long", CT_EINVAL);
    assert_non_null(strstr(msg, "duration_seconds"));
    fx->call.rc = CT_EHTTP;
    msg = resolve_error(fx, "ok", CT_EHTTP);
    assert_non_null(strstr(msg, "AccessDenied"));
}

static void write_script(struct fixture *fx, const char *body)
{
    char text[2048];
    snprintf(text, sizeof(text), "#!/bin/sh\n%s\n", body);
    write_file(fx->script, text, 0700);
    snprintf(text, sizeof(text),
             "[profile proc]\ncredential_process = %s --profile proc\n"
             "region = sa-east-1\n",
             fx->script);
    write_file(fx->config, text, 0600);
}

static void test_credentials_process_success(void **state)
{
    struct fixture *fx = *state;
    write_script(fx, "echo 'some progress' >&2\n"
                     "test \"$1\" = --profile || exit 9\n"
                     "cat <<'EOF'\n"
                     "{\"Version\": 1, \"AccessKeyId\": \"AKIDPROC\",\n"
                     " \"SecretAccessKey\": \"" PROC_SECRET "\",\n"
                     " \"SessionToken\": \"procToken\",\n"
                     " \"Expiration\": \"2030-01-01T00:00:00Z\"}\n"
                     "EOF");
    struct creds_result r = CREDS_RESULT_INIT;
    resolve_ok(&r, fx, "proc");
    assert_string_equal(r.creds.access_key_id, "AKIDPROC");
    assert_string_equal(r.creds.secret_access_key, PROC_SECRET);
    assert_string_equal(r.creds.session_token, "procToken");
    assert_int_equal(r.creds.expiration, (time_t)1893456000);
    assert_string_equal(r.creds.provider, "credential-process");
    assert_string_equal(r.region, "sa-east-1");
    creds_result_release(&r);

    /* no token, no expiration, offset time form */
    write_script(fx, "echo '{\"Version\":1,\"AccessKeyId\":\"AKIDP2\","
                     "\"SecretAccessKey\":\"s\"}'");
    resolve_ok(&r, fx, "proc");
    assert_string_equal(r.creds.access_key_id, "AKIDP2");
    assert_null(r.creds.session_token);
    assert_int_equal(r.creds.expiration, 0);
    creds_result_release(&r);
}

/* ';' is not an inline comment: the whole command reaches the shell. */
static void test_credentials_process_semicolon(void **state)
{
    struct fixture *fx = *state;
    char text[1024];
    write_script(fx, "echo '{\"Version\":1,\"AccessKeyId\":\"AKIDSEMI\","
                     "\"SecretAccessKey\":\"s\"}'");
    snprintf(text, sizeof(text),
             "[profile proc]\ncredential_process = true ; %s\n", fx->script);
    write_file(fx->config, text, 0600);
    struct creds_result r = CREDS_RESULT_INIT;
#ifdef CT_HAVE_INIH_RUNTIME_OPTIONS
    resolve_ok(&r, fx, "proc");
    assert_string_equal(r.creds.access_key_id, "AKIDSEMI");
    creds_result_release(&r);
#else
    (void)r;
    const char *msg = resolve_error(fx, "proc", CT_EAUTH);
    assert_non_null(strstr(msg, "invalid JSON"));
#endif
}

static void test_credentials_process_failure(void **state)
{
    struct fixture *fx = *state;
    write_script(fx, "echo '{\"Version\":1,\"AccessKeyId\":\"A\","
                     "\"SecretAccessKey\":\"" PROC_SECRET "\"}'\n"
                     "echo 'token expired, run aws sso login' >&2\n"
                     "exit 3");
    const char *msg = resolve_error(fx, "proc", CT_EAUTH);
    assert_non_null(strstr(msg, "profile 'proc'"));
    assert_non_null(strstr(msg, "status 3"));
    assert_non_null(strstr(msg, "token expired, run aws sso login"));
}

static void test_credentials_process_bad_json(void **state)
{
    struct fixture *fx = *state;
    write_script(fx, "echo 'AccessKeyId=" PROC_SECRET " oops'");
    const char *msg = resolve_error(fx, "proc", CT_EAUTH);
    assert_non_null(strstr(msg, "invalid JSON"));
    assert_non_null(strstr(msg, "profile 'proc'"));

    write_script(fx, "echo '{\"Version\":2,\"AccessKeyId\":\"A\","
                     "\"SecretAccessKey\":\"" PROC_SECRET "\"}'");
    msg = resolve_error(fx, "proc", CT_EAUTH);
    assert_non_null(strstr(msg, "\"Version\": 1"));

    write_script(fx, "echo '{\"Version\":1,\"AccessKeyId\":\"A\"}'");
    msg = resolve_error(fx, "proc", CT_EAUTH);
    assert_non_null(strstr(msg, "SecretAccessKey"));

    write_script(fx, "echo '{\"Version\":1,\"AccessKeyId\":\"A\","
                     "\"SecretAccessKey\":\"" PROC_SECRET "\","
                     "\"Expiration\":\"2020-01-01T00:00:00Z\"}'");
    msg = resolve_error(fx, "proc", CT_EAUTH);
    assert_non_null(strstr(msg, "expired at 2020-01-01T00:00:00Z"));

    write_script(fx, "echo '{\"Version\":1,\"AccessKeyId\":\"A\","
                     "\"SecretAccessKey\":\"" PROC_SECRET "\","
                     "\"Expiration\":\"tomorrow\"}'");
    msg = resolve_error(fx, "proc", CT_EAUTH);
    assert_non_null(strstr(msg, "ISO-8601"));
}

static void test_credentials_process_timeout(void **state)
{
    struct fixture *fx = *state;
    write_script(fx, "exec sleep 30");
    struct creds_result r = CREDS_RESULT_INIT;
    struct ct_error err = CT_ERROR_INIT;
    struct creds_options o = options(fx, "proc");
    o.process_timeout_ms = 300;
    time_t start = time(NULL);
    assert_int_equal(creds_resolve(&r, &o, &err), CT_EAUTH);
    assert_true(time(NULL) - start < 10);
    assert_non_null(strstr(err.message, "did not finish within 300 ms"));
}

/* Network sources without an HTTP callback, and what stays unsupported. */
static void test_credentials_unsupported_sources(void **state)
{
    struct fixture *fx = *state;
    write_file(fx->config,
               "[profile dev]\nsso_session = corp\n"
               "sso_account_id = 123456789012\n"
               "[sso-session corp]\nsso_start_url = https://x/start\n"
               "[profile web]\nrole_arn = arn:aws:iam::1:role/W\n"
               "web_identity_token_file = /tmp/token\n"
               "[profile webless]\nweb_identity_token_file = /tmp/token\n"
               "[profile mfa]\nrole_arn = arn:aws:iam::1:role/M\n"
               "source_profile = base\nmfa_serial = arn:aws:iam::1:mfa/u\n"
               "[profile both]\nrole_arn = arn:aws:iam::1:role/B\n"
               "source_profile = base\ncredential_source = Environment\n"
               "[profile badsrc]\nrole_arn = arn:aws:iam::1:role/B\n"
               "credential_source = Laptop\n"
               "[profile nosession]\nsso_session = missing\n"
               "sso_account_id = 1\nsso_role_name = R\n",
               0600);
    const char *msg = resolve_error(fx, "dev", CT_EAUTH);
    assert_string_equal(msg, "profile 'dev' lacks one of sso_start_url, "
                             "sso_region, sso_account_id, sso_role_name");
    msg = resolve_error(fx, "web", CT_EINVAL);
    assert_non_null(strstr(msg, "AssumeRoleWithWebIdentity, which this "
                                "program cannot call"));
    msg = resolve_error(fx, "webless", CT_EAUTH);
    assert_non_null(strstr(msg, "web_identity_token_file but no role_arn"));
    msg = resolve_error(fx, "mfa", CT_EAUTH);
    assert_non_null(strstr(msg, "profile 'mfa' uses mfa_serial"));
    msg = resolve_error(fx, "both", CT_EAUTH);
    assert_non_null(strstr(msg, "both source_profile and credential_source"));
    msg = resolve_error(fx, "badsrc", CT_EAUTH);
    assert_non_null(strstr(msg, "credential_source 'Laptop' is not"));
    msg = resolve_error(fx, "nosession", CT_EAUTH);
    assert_non_null(strstr(msg, "no [sso-session missing]"));
}

static void test_credentials_missing_profile(void **state)
{
    struct fixture *fx = *state;
    write_file(fx->credentials,
               "[default]\naws_access_key_id = AKIDDEFAULT\n"
               "aws_secret_access_key = " SECRET "\n",
               0600);
    const char *msg = resolve_error(fx, "nope", CT_EAUTH);
    assert_non_null(strstr(msg, "profile 'nope' is not in"));
    assert_non_null(strstr(msg, fx->credentials));
    setenv("AWS_PROFILE", "gone", 1);
    msg = resolve_error(fx, NULL, CT_EAUTH);
    assert_non_null(strstr(msg, "profile 'gone' is not in"));
}

static void test_credentials_none_found(void **state)
{
    struct fixture *fx = *state;
    write_file(fx->config, "[default]\nregion = us-east-1\n", 0600);
    const char *msg = resolve_error(fx, NULL, CT_EAUTH);
    assert_non_null(strstr(msg, "no AWS credentials found; tried: "
                                "environment (AWS_ACCESS_KEY_ID not set); "
                                "web identity (AWS_WEB_IDENTITY_TOKEN_FILE or "
                                "AWS_ROLE_ARN not set); "
                                "profile 'default' (no credentials in it); "
                                "container (AWS_CONTAINER_CREDENTIALS_"
                                "RELATIVE_URI and _FULL_URI not set); "
                                "EC2 instance metadata (no answer)"));
    /* no options at all: the same chain with every default */
    struct creds_result r = CREDS_RESULT_INIT;
    struct ct_error err = CT_ERROR_INIT;
    assert_int_equal(creds_resolve(&r, NULL, &err), CT_EAUTH);
    assert_non_null(strstr(err.message, "no AWS credentials found"));
    /* files that do not exist are not an error */
    unsetenv("AWS_CONFIG_FILE");
    unsetenv("AWS_SHARED_CREDENTIALS_FILE");
    msg = resolve_error(fx, NULL, CT_EAUTH);
    assert_non_null(strstr(msg, "profile 'default' (not in '"));
    assert_non_null(strstr(msg, "/.aws/credentials')"));
    assert_non_null(strstr(msg, fx->dir));
}

static void test_credentials_partial_static_keys(void **state)
{
    struct fixture *fx = *state;
    write_file(fx->credentials,
               "[default]\naws_secret_access_key = " SECRET "\n", 0600);
    const char *msg = resolve_error(fx, NULL, CT_EAUTH);
    assert_non_null(strstr(msg, "only one of aws_access_key_id"));
}

static void test_credentials_bad_ini_line(void **state)
{
    struct fixture *fx = *state;
    write_file(fx->credentials,
               "[default]\naws_access_key_id = AKID\n" SECRET "\n", 0600);
    const char *msg = resolve_error(fx, NULL, CT_EPARSE);
    assert_non_null(strstr(msg, "line 3"));
}

static void test_credentials_warns_group_readable(void **state)
{
    struct fixture *fx = *state;
    /* a readable config file without secrets is fine */
    write_file(fx->config, "[default]\nregion = us-east-1\n", 0644);
    write_file(fx->credentials,
               "[default]\naws_access_key_id = AKID\n"
               "aws_secret_access_key = " SECRET "\n",
               0640);
    struct creds_result r = CREDS_RESULT_INIT;
    resolve_ok(&r, fx, NULL);
    creds_result_release(&r);
    assert_int_equal(fx->n_warnings, 1);
    assert_non_null(strstr(fx->warning, "readable by its group"));
    assert_non_null(strstr(fx->warning, fx->credentials));
    assert_no_secret(fx->warning);

    fx->n_warnings = 0;
    assert_int_equal(chmod(fx->credentials, 0600), 0);
    resolve_ok(&r, fx, NULL);
    creds_result_release(&r);
    assert_int_equal(fx->n_warnings, 0);
}

static void test_credentials_default_region(void **state)
{
    (void)state;
    assert_null(creds_default_region(NULL, NULL));
    assert_string_equal(creds_default_region(NULL, "p-1"), "p-1");
    setenv("AWS_DEFAULT_REGION", "d-1", 1);
    assert_string_equal(creds_default_region(NULL, "p-1"), "d-1");
    setenv("AWS_REGION", "r-1", 1);
    assert_string_equal(creds_default_region(NULL, "p-1"), "r-1");
    assert_string_equal(creds_default_region("c-1", "p-1"), "c-1");
    assert_string_equal(creds_default_region("", "p-1"), "r-1");
}

static void test_credentials_copy_release(void **state)
{
    (void)state;
    struct ct_credentials src = {"AKID", SECRET, NULL, 42, "test"};
    struct ct_credentials c = CT_CREDENTIALS_INIT;
    struct ct_error err = CT_ERROR_INIT;
    assert_int_equal(ct_credentials_copy(&c, &src, &err), 0);
    assert_string_equal(c.secret_access_key, SECRET);
    assert_ptr_not_equal(c.secret_access_key, src.secret_access_key);
    assert_null(c.session_token);
    assert_int_equal(c.expiration, 42);
    ct_credentials_release(&c);
    assert_null(c.access_key_id);
    assert_null(c.secret_access_key);
    ct_credentials_release(NULL);
    creds_result_release(NULL);
    src.secret_access_key = NULL;
    assert_int_equal(ct_credentials_copy(&c, &src, &err), CT_EINVAL);
    assert_null(c.access_key_id);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_credentials_environment),
        T(test_credentials_environment_partial),
        T(test_credentials_explicit_profile_skips_env),
        T(test_credentials_static_profile),
        T(test_credentials_credentials_file_wins),
        T(test_credentials_long_session_token),
        T(test_credentials_assume_role),
        T(test_credentials_assume_role_chain),
        T(test_credentials_assume_role_self_source),
        T(test_credentials_assume_role_cycle),
        T(test_credentials_assume_role_errors),
        T(test_credentials_process_success),
        T(test_credentials_process_semicolon),
        T(test_credentials_process_failure),
        T(test_credentials_process_bad_json),
        T(test_credentials_process_timeout),
        T(test_credentials_unsupported_sources),
        T(test_credentials_missing_profile),
        T(test_credentials_none_found),
        T(test_credentials_partial_static_keys),
        T(test_credentials_bad_ini_line),
        T(test_credentials_warns_group_readable),
        T(test_credentials_default_region),
        T(test_credentials_copy_release),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
