/*
 * SigV4 against the published test suites, read at run time from
 * CT_REFERENCE_DIR with a fixed clock (2015-08-30T12:36:00Z):
 *
 * - botocore aws4_testsuite: every case directory holding NAME.req; the
 *   .req is parsed here and the canonical request, string to sign and
 *   Authorization are compared with .creq, .sts and .authz. None skipped:
 *   - get-vanilla-with-session-token: signed with botocore's fixed token
 *     6e86...4267 (its test_sigv4.py does the same for "session-token").
 *   - post-sts-token/post-sts-header-before: the X-Amz-Security-Token of
 *     the .req becomes the credentials' session token (the signer owns that
 *     header); post-sts-header-after carries no token, as the token is
 *     added after signing.
 *   - normalize-path/get-space and the query-order cases, which botocore
 *     itself skips, pass here.
 * - aws-c-auth v4: the header-signing variant of every case; canonical
 *   request, string to sign, signature and the Authorization line of
 *   header-signed-request.txt are compared. Skipped:
 *   - every query-*.txt file (all 38 cases): presigned query-parameter
 *     signing, which the collector never uses.
 *   - cases with "normalize": false (get-relative-unnormalized,
 *     get-relative-relative-unnormalized, get-slash-unnormalized,
 *     get-slash-dot-slash-unnormalized, get-slash-pointless-dot-unnormalized,
 *     get-slashes-unnormalized, get-space-unnormalized): S3-style signing
 *     without path normalization; the collector signs no S3 requests.
 *   - "sign_body": true (post-x-www-form-urlencoded*) is applicable: the
 *     test adds X-Amz-Content-Sha256 as an extra signed header.
 *   - "omit_session_token": true (post-sts-header-after): the token is not
 *     signed, so the case is signed with credentials without a token.
 *   The v4a/ (SigV4a, ECDSA) cases were not copied into the reference.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <jansson.h>

#include "collector/sigv4.h"
#include "collector/sigv4_internal.h"
#include "core/hash.h"

#define BOTOCORE_DIR                                                           \
    CT_REFERENCE_DIR "/sigv4-botocore-aws4_testsuite/aws4_testsuite"
#define AWSC_DIR CT_REFERENCE_DIR "/sigv4-aws-c-auth/v4"

#define TEST_AKID "AKIDEXAMPLE"
#define TEST_SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define BOTOCORE_TOKEN                                                         \
    "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267"
#define TEST_TIME ((time_t)1440938160) /* 2015-08-30T12:36:00Z */

#define MAX_HEADERS 32
#define MIN_BOTOCORE_CASES 34
#define MIN_AWSC_CASES 31

/* A request parsed from a .req / request.txt file. */
struct parsed_req {
    char *text; /* owned buffer; the fields below point into it */
    char method[16];
    char *target;
    char *path;
    char *query;
    char *host;
    char *amz_date;
    char *token;
    struct sigv4_header headers[MAX_HEADERS];
    size_t n_headers;
    char *body;
    size_t body_len;
};

/* snprintf into a path buffer; truncation fails the test. */
static void fmt_path(char *out, size_t cap, const char *a, const char *b,
                     const char *c)
{
    int n = snprintf(out, cap, "%s%s%s", a, b, c);
    if (n < 0 || (size_t)n >= cap)
        fail_msg("path too long: %s%s%s", a, b, c);
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        if (n == 0)
            break;
        len += n;
        if (cap - len - 1 == 0) {
            char *p = realloc(buf, cap * 2);
            if (!p) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = p;
            cap *= 2;
        }
    }
    assert_false(ferror(f));
    fclose(f);
    if (buf)
        buf[len] = '\0';
    return buf;
}

/* Reads an expected-output file; a missing file fails the test. */
static char *read_expected(const char *dir, const char *name)
{
    char path[1024];
    fmt_path(path, sizeof(path), dir, "/", name);
    char *s = read_text(path);
    if (!s)
        fail_msg("cannot read %s", path);
    return s;
}

/*
 * Parses "METHOD target HTTP/1.1", header lines (continuation lines are
 * unfolded into one value, as RFC 7230 obs-fold), a blank line and a body.
 * Host, X-Amz-Date and X-Amz-Security-Token are taken out of the header
 * list: the signer sets them.
 */
static void parse_request(struct parsed_req *r, char *text)
{
    memset(r, 0, sizeof(*r));
    r->text = text;
    char *line_end = strchr(text, '\n');
    assert_non_null(line_end);
    *line_end = '\0';
    if (line_end > text && line_end[-1] == '\r')
        line_end[-1] = '\0';
    char *sp = strchr(text, ' ');
    char *proto = strstr(text, " HTTP/");
    assert_non_null(sp);
    assert_non_null(proto);
    assert_true((size_t)(sp - text) < sizeof(r->method));
    memcpy(r->method, text, (size_t)(sp - text));
    *proto = '\0';
    r->target = sp + 1;
    r->path = r->target;
    char *q = strchr(r->target, '?');
    if (q) {
        *q = '\0';
        r->query = q + 1;
    }

    char *p = line_end + 1;
    char *last_value = NULL;
    while (*p) {
        char *eol = strchr(p, '\n');
        char *next = eol ? eol + 1 : p + strlen(p);
        if (eol) {
            *eol = '\0';
            if (eol > p && eol[-1] == '\r')
                eol[-1] = '\0';
        }
        if (*p == '\0') { /* blank line: the body follows */
            r->body = next;
            r->body_len = strlen(next);
            break;
        }
        if ((*p == ' ' || *p == '\t') && last_value) {
            /* obs-fold: the line break becomes a space */
            size_t lv = strlen(last_value);
            assert_true(last_value + lv + 1 == p);
            last_value[lv] = ' ';
        } else {
            char *colon = strchr(p, ':');
            assert_non_null(colon);
            *colon = '\0';
            assert_true(r->n_headers < MAX_HEADERS);
            r->headers[r->n_headers].name = p;
            r->headers[r->n_headers].value = colon + 1;
            last_value = colon + 1;
            r->n_headers++;
        }
        p = next;
    }

    /* take out the headers the signer owns */
    size_t j = 0;
    for (size_t i = 0; i < r->n_headers; i++) {
        const char *name = r->headers[i].name;
        char *value = (char *)r->headers[i].value;
        if (strcasecmp(name, "host") == 0)
            r->host = value;
        else if (strcasecmp(name, "x-amz-date") == 0)
            r->amz_date = value;
        else if (strcasecmp(name, "x-amz-security-token") == 0)
            r->token = value;
        else
            r->headers[j++] = r->headers[i];
    }
    r->n_headers = j;
    assert_non_null(r->host);
}

static void request_from_parsed(struct sigv4_request *req,
                                const struct parsed_req *r)
{
    memset(req, 0, sizeof(*req));
    req->method = r->method;
    req->host = r->host;
    req->path = r->path;
    req->query = r->query;
    req->headers = r->headers;
    req->n_headers = r->n_headers;
    req->body = r->body;
    req->body_len = r->body_len;
}

/* Expected files may or may not end with a newline. */
static void chomp(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
}

static void assert_text_eq(const char *what, const char *dir,
                           const char *actual, char *expected)
{
    chomp(expected);
    if (strcmp(actual, expected) != 0)
        fail_msg("%s: %s differs\n--- expected\n%s\n--- actual\n%s", dir, what,
                 expected, actual);
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted subdirectory names of dir (owned, NULL-terminated); fails loudly. */
static char **list_dirs(const char *dir, size_t *n_out)
{
    DIR *d = opendir(dir);
    if (!d)
        fail_msg("cannot open test-suite directory %s", dir);
    size_t n = 0, cap = 64;
    char **names = calloc(cap + 1, sizeof(*names));
    assert_non_null(names);
    for (;;) {
        struct dirent *e = readdir(d);
        if (!e)
            break;
        if (e->d_name[0] == '.')
            continue;
        char path[1024];
        fmt_path(path, sizeof(path), dir, "/", e->d_name);
        if (!is_dir(path))
            continue;
        assert_true(n < cap);
        names[n] = strdup(e->d_name);
        assert_non_null(names[n]);
        n++;
    }
    closedir(d);
    qsort(names, n, sizeof(*names), name_cmp);
    *n_out = n;
    return names;
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static void run_botocore_case(const char *dir, const char *name)
{
    char path[1024];
    struct parsed_req r;
    struct ct_error err = CT_ERROR_INIT;
    fmt_path(path, sizeof(path), dir, "/", name);
    fmt_path(path + strlen(path), sizeof(path) - strlen(path), ".req", "", "");
    char *text = read_text(path);
    if (!text)
        fail_msg("cannot read %s", path);
    parse_request(&r, text);
    assert_non_null(r.amz_date);
    assert_string_equal(r.amz_date, "20150830T123600Z");

    struct ct_credentials creds = {(char *)TEST_AKID, (char *)TEST_SECRET, NULL,
                                   0, "test"};
    if (strstr(name, "session-token"))
        creds.session_token = (char *)BOTOCORE_TOKEN;
    if (r.token)
        creds.session_token = r.token;

    struct sigv4_request req;
    request_from_parsed(&req, &r);
    struct sigv4_steps s = SIGV4_STEPS_INIT;
    int rc = sigv4_compute(&s, &req, &creds, "us-east-1", "service", TEST_TIME,
                           &err);
    if (rc)
        fail_msg("%s: sigv4_compute: %s", dir, err.message);
    struct sigv4_signed out = SIGV4_SIGNED_INIT;
    rc =
        sigv4_sign(&out, &req, &creds, "us-east-1", "service", TEST_TIME, &err);
    if (rc)
        fail_msg("%s: sigv4_sign: %s", dir, err.message);

    char file[256];
    fmt_path(file, sizeof(file), name, ".creq", "");
    char *creq = read_expected(dir, file);
    fmt_path(file, sizeof(file), name, ".sts", "");
    char *sts = read_expected(dir, file);
    fmt_path(file, sizeof(file), name, ".authz", "");
    char *authz = read_expected(dir, file);
    assert_text_eq("canonical request", dir, s.canonical_request, creq);
    assert_text_eq("string to sign", dir, s.string_to_sign, sts);
    assert_text_eq("authorization", dir, out.authorization, authz);
    assert_string_equal(out.amz_date, "20150830T123600Z");
    free(creq);
    free(sts);
    free(authz);
    sigv4_signed_release(&out);
    sigv4_steps_release(&s);
    free(text);
}

/* Runs every case below dir (recursing into grouping folders). */
static void walk_botocore(const char *dir, int *n_run)
{
    size_t n = 0;
    char **names = list_dirs(dir, &n);
    for (size_t i = 0; i < n; i++) {
        char sub[1024], req[1280];
        fmt_path(sub, sizeof(sub), dir, "/", names[i]);
        fmt_path(req, sizeof(req), sub, "/", names[i]);
        fmt_path(req + strlen(req), sizeof(req) - strlen(req), ".req", "", "");
        struct stat st;
        if (stat(req, &st) == 0) {
            run_botocore_case(sub, names[i]);
            (*n_run)++;
        } else {
            walk_botocore(sub, n_run);
        }
    }
    free_names(names, n);
}

static void test_sigv4_botocore_suite(void **state)
{
    (void)state;
    int n_run = 0;
    walk_botocore(BOTOCORE_DIR, &n_run);
    print_message("botocore aws4_testsuite: %d cases run, 0 skipped\n", n_run);
    assert_true(n_run >= MIN_BOTOCORE_CASES);
}

static const char *json_str(json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* Returns 1 when the case ran, 0 when skipped as inapplicable. */
static int run_awsc_case(const char *dir)
{
    char path[1024];
    json_error_t jerr;
    fmt_path(path, sizeof(path), dir, "/context.json", "");
    json_t *ctx = json_load_file(path, 0, &jerr);
    if (!ctx)
        fail_msg("%s: %s", path, jerr.text);
    if (!json_is_true(json_object_get(ctx, "normalize"))) {
        json_decref(ctx);
        return 0;
    }
    json_t *jc = json_object_get(ctx, "credentials");
    struct ct_credentials creds = {(char *)json_str(jc, "access_key_id"),
                                   (char *)json_str(jc, "secret_access_key"),
                                   (char *)json_str(jc, "token"), 0, "test"};
    assert_non_null(creds.access_key_id);
    assert_non_null(creds.secret_access_key);
    if (json_is_true(json_object_get(ctx, "omit_session_token")))
        creds.session_token = NULL;
    assert_string_equal(json_str(ctx, "timestamp"), "2015-08-30T12:36:00Z");
    const char *region = json_str(ctx, "region");
    const char *service = json_str(ctx, "service");
    assert_non_null(region);
    assert_non_null(service);

    struct parsed_req r;
    fmt_path(path, sizeof(path), dir, "/request.txt", "");
    char *text = read_text(path);
    if (!text)
        fail_msg("cannot read %s", path);
    parse_request(&r, text);
    assert_null(r.token);
    char body_hash[CT_SHA256_HEX_LEN + 1];
    if (json_is_true(json_object_get(ctx, "sign_body"))) {
        struct ct_error herr = CT_ERROR_INIT;
        assert_int_equal(
            ct_sha256_hex(body_hash, r.body ? r.body : "", r.body_len, &herr),
            0);
        assert_true(r.n_headers < MAX_HEADERS);
        r.headers[r.n_headers].name = "X-Amz-Content-Sha256";
        r.headers[r.n_headers].value = body_hash;
        r.n_headers++;
    }

    struct sigv4_request req;
    request_from_parsed(&req, &r);
    struct ct_error err = CT_ERROR_INIT;
    struct sigv4_steps s = SIGV4_STEPS_INIT;
    if (sigv4_compute(&s, &req, &creds, region, service, TEST_TIME, &err))
        fail_msg("%s: sigv4_compute: %s", dir, err.message);
    struct sigv4_signed out = SIGV4_SIGNED_INIT;
    if (sigv4_sign(&out, &req, &creds, region, service, TEST_TIME, &err))
        fail_msg("%s: sigv4_sign: %s", dir, err.message);

    char *creq = read_expected(dir, "header-canonical-request.txt");
    char *sts = read_expected(dir, "header-string-to-sign.txt");
    char *sig = read_expected(dir, "header-signature.txt");
    char *signed_req = read_expected(dir, "header-signed-request.txt");
    assert_text_eq("canonical request", dir, s.canonical_request, creq);
    assert_text_eq("string to sign", dir, s.string_to_sign, sts);
    assert_text_eq("signature", dir, s.signature, sig);
    char *auth = strstr(signed_req, "\nAuthorization:");
    assert_non_null(auth);
    auth += strlen("\nAuthorization:");
    char *eol = strchr(auth, '\n');
    assert_non_null(eol);
    *eol = '\0';
    assert_text_eq("Authorization", dir, out.authorization, auth);
    assert_string_equal(out.content_sha256, s.content_sha256);

    free(creq);
    free(sts);
    free(sig);
    free(signed_req);
    sigv4_signed_release(&out);
    sigv4_steps_release(&s);
    free(text);
    json_decref(ctx);
    return 1;
}

static void test_sigv4_aws_c_auth_suite(void **state)
{
    (void)state;
    size_t n = 0;
    int n_run = 0, n_skipped = 0;
    char **names = list_dirs(AWSC_DIR, &n);
    for (size_t i = 0; i < n; i++) {
        char sub[1024];
        fmt_path(sub, sizeof(sub), AWSC_DIR, "/", names[i]);
        if (run_awsc_case(sub))
            n_run++;
        else
            n_skipped++;
    }
    free_names(names, n);
    print_message("aws-c-auth v4: %d cases run, %d skipped (normalize: "
                  "false)\n",
                  n_run, n_skipped);
    assert_true(n_run >= MIN_AWSC_CASES);
    assert_true(n_skipped <= 7);
}

static void vanilla_request(struct sigv4_request *req)
{
    memset(req, 0, sizeof(*req));
    req->method = "GET";
    req->host = "example.amazonaws.com";
    req->path = "/";
}

static void test_sigv4_sign_vanilla(void **state)
{
    (void)state;
    struct sigv4_request req;
    vanilla_request(&req);
    struct ct_credentials creds = {(char *)TEST_AKID, (char *)TEST_SECRET, NULL,
                                   0, "test"};
    struct sigv4_signed out = SIGV4_SIGNED_INIT;
    struct ct_error err = CT_ERROR_INIT;
    assert_int_equal(
        sigv4_sign(&out, &req, &creds, "us-east-1", "service", TEST_TIME, &err),
        0);
    assert_string_equal(out.amz_date, "20150830T123600Z");
    assert_string_equal(
        out.content_sha256,
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_string_equal(
        out.authorization,
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
        "aws4_request, SignedHeaders=host;x-amz-date, "
        "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d76"
        "3fbf31");
    sigv4_signed_release(&out);
    assert_int_equal(out.authorization[0], '\0');
}

/* A path sent already encoded is encoded again (non-S3 rule). */
static void test_sigv4_double_encodes_path(void **state)
{
    (void)state;
    struct sigv4_request req;
    vanilla_request(&req);
    req.path = "/a%20b/./c//";
    req.query = "k%20x=v+1&a=";
    struct ct_credentials creds = {(char *)TEST_AKID, (char *)TEST_SECRET, NULL,
                                   0, "test"};
    struct sigv4_steps s = SIGV4_STEPS_INIT;
    struct ct_error err = CT_ERROR_INIT;
    assert_int_equal(sigv4_compute(&s, &req, &creds, "us-east-1", "service",
                                   TEST_TIME, &err),
                     0);
    assert_non_null(
        strstr(s.canonical_request, "GET\n/a%2520b/c/\na=&k%20x=v%2B1\n"));
    sigv4_steps_release(&s);
}

static void test_sigv4_rejects_signer_headers(void **state)
{
    (void)state;
    static const char *names[] = {"Host", "X-Amz-Date", " x-amz-security-token",
                                  "Authorization"};
    struct ct_credentials creds = {(char *)TEST_AKID, (char *)TEST_SECRET, NULL,
                                   0, "test"};
    for (size_t i = 0; i < 4; i++) {
        struct sigv4_header h = {names[i], "x"};
        struct sigv4_request req;
        vanilla_request(&req);
        req.headers = &h;
        req.n_headers = 1;
        struct sigv4_signed out = SIGV4_SIGNED_INIT;
        struct ct_error err = CT_ERROR_INIT;
        assert_int_equal(sigv4_sign(&out, &req, &creds, "us-east-1", "service",
                                    TEST_TIME, &err),
                         CT_EINVAL);
        assert_non_null(strstr(err.message, "set by the signer"));
    }
}

static void test_sigv4_rejects_line_breaks(void **state)
{
    (void)state;
    struct sigv4_header h = {"X-Test", "a\r\nInjected: 1"};
    struct sigv4_request req;
    vanilla_request(&req);
    req.headers = &h;
    req.n_headers = 1;
    struct ct_credentials creds = {(char *)TEST_AKID, (char *)TEST_SECRET, NULL,
                                   0, "test"};
    struct sigv4_signed out = SIGV4_SIGNED_INIT;
    struct ct_error err = CT_ERROR_INIT;
    assert_int_equal(
        sigv4_sign(&out, &req, &creds, "us-east-1", "service", TEST_TIME, &err),
        CT_EINVAL);
}

static void test_sigv4_requires_credentials(void **state)
{
    (void)state;
    struct sigv4_request req;
    vanilla_request(&req);
    struct ct_credentials creds = {(char *)TEST_AKID, NULL, NULL, 0, "test"};
    struct sigv4_signed out = SIGV4_SIGNED_INIT;
    struct ct_error err = CT_ERROR_INIT;
    assert_int_equal(
        sigv4_sign(&out, &req, &creds, "us-east-1", "service", TEST_TIME, &err),
        CT_EAUTH);
    assert_int_equal(
        sigv4_sign(&out, &req, NULL, "us-east-1", "service", TEST_TIME, &err),
        CT_EAUTH);
    creds.secret_access_key = (char *)TEST_SECRET;
    assert_int_equal(sigv4_sign(&out, &req, &creds, "us-east-1/x", "service",
                                TEST_TIME, &err),
                     CT_EINVAL);
}

/* Too many signed headers for the fixed Authorization buffer. */
static void test_sigv4_authorization_limit(void **state)
{
    (void)state;
    enum { N = 80 };
    char names[N][16];
    struct sigv4_header h[N];
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof(names[i]), "x-header-%04d", i);
        h[i].name = names[i];
        h[i].value = "v";
    }
    struct sigv4_request req;
    vanilla_request(&req);
    req.headers = h;
    req.n_headers = N;
    struct ct_credentials creds = {(char *)TEST_AKID, (char *)TEST_SECRET, NULL,
                                   0, "test"};
    struct sigv4_signed out = SIGV4_SIGNED_INIT;
    struct ct_error err = CT_ERROR_INIT;
    assert_int_equal(
        sigv4_sign(&out, &req, &creds, "us-east-1", "service", TEST_TIME, &err),
        CT_ELIMIT);
    assert_int_equal(out.authorization[0], '\0');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sigv4_botocore_suite),
        cmocka_unit_test(test_sigv4_aws_c_auth_suite),
        cmocka_unit_test(test_sigv4_sign_vanilla),
        cmocka_unit_test(test_sigv4_double_encodes_path),
        cmocka_unit_test(test_sigv4_rejects_signer_headers),
        cmocka_unit_test(test_sigv4_rejects_line_breaks),
        cmocka_unit_test(test_sigv4_requires_credentials),
        cmocka_unit_test(test_sigv4_authorization_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
