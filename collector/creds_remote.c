/*
 * The credential providers that answer over HTTP from the machine itself or
 * from STS without a signature: container credentials (ECS, EKS Pod
 * Identity, CloudShell), EC2 instance metadata (IMDSv2 only) and
 * sts:AssumeRoleWithWebIdentity (EKS IRSA, CI systems), plus the helpers
 * the chain shares with them. All I/O goes through the creds_options HTTP
 * callback, so that the unit tests run without a network.
 */
#include "collector/creds_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "collector/awsxml.h"
#include "core/snapshot.h"
#include "core/timefmt.h"

#define CREDS_TOKEN_FILE_MAX (64 * 1024) /* web identity, container tokens */
#define CREDS_HOST_MAX 256

char *creds_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

void creds_free_secret(char *s)
{
    if (s) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

const char *creds_env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

int creds_env_true(const char *name)
{
    const char *v = creds_env(name);
    return v && (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

void creds_http_response_release(struct creds_http_response *r)
{
    if (!r)
        return;
    if (r->body) {
        OPENSSL_cleanse(r->body, r->body_len);
        free(r->body);
    }
    *r = (struct creds_http_response)CREDS_HTTP_RESPONSE_INIT;
}

static long long days_from_civil(long long y, unsigned m, unsigned d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long long)doe - 719468;
}

int creds_parse_time(time_t *out, const char *s)
{
    char utc[CT_ISO_TIME_MAX], buf[64];
    int y, mo, d, h, mi, sec;
    size_t n = strlen(s);
    /* AWS CLI v2 once wrote SSO cache times as "2020-06-17T10:18:43UTC" */
    if (n > 3 && n < sizeof(buf) && strcmp(s + n - 3, "UTC") == 0) {
        snprintf(buf, sizeof(buf), "%.*sZ", (int)(n - 3), s);
        s = buf;
    }
    if (ct_time_from_iso(utc, s) != 0)
        return -1;
    if (sscanf(utc, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &sec) != 6)
        return -1;
    *out = (time_t)(days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 +
                    h * 3600 + mi * 60 + sec);
    return 0;
}

int creds_home_path(char **out, const char *rel, struct ct_error *err)
{
    const char *home = creds_env("HOME");
    struct passwd pw, *res = NULL;
    char buf[4096];
    if (!home && getpwuid_r(getuid(), &pw, buf, sizeof(buf), &res) == 0 &&
        res && res->pw_dir && *res->pw_dir)
        home = res->pw_dir;
    if (!home)
        return ct_error_set(err, CT_EIO, "cannot find the home directory");
    size_t n = strlen(home) + strlen(rel) + 2;
    char *p = malloc(n);
    if (!p)
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    snprintf(p, n, "%s/%s", home, rel);
    *out = p;
    return 0;
}

int creds_read_file(char **out, size_t *out_len, const char *path, size_t max,
                    struct ct_error *err)
{
    int rc = 0;
    struct stat st;
    char *text = NULL;
    size_t len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ct_error_set(err, errno == ENOENT ? CT_EAUTH : CT_EIO,
                            "cannot open '%s': %s", path, strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = ct_error_set(err, CT_EIO, "'%s' is not a regular file", path);
        goto done;
    }
    if ((unsigned long long)st.st_size > max) {
        rc = ct_error_set(err, CT_ELIMIT, "'%s' is larger than %zu bytes", path,
                          max);
        goto done;
    }
    text = malloc((size_t)st.st_size + 1);
    if (!text) {
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
        goto done;
    }
    while (len < (size_t)st.st_size) {
        ssize_t n = read(fd, text + len, (size_t)st.st_size - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    text[len] = '\0';
    *out = text;
    *out_len = len;
    text = NULL;
done:
    free(text);
    close(fd);
    return rc;
}

int creds_http_call(struct creds_http_response *out,
                    const struct creds_options *opt,
                    const struct creds_http_request *req, int attempts,
                    struct ct_error *err)
{
    struct creds_http_response resp = CREDS_HTTP_RESPONSE_INIT;
    struct ct_error last = CT_ERROR_INIT;
    int rc = CT_EHTTP;
    if (!opt || !opt->http)
        return ct_error_set(err, CT_EINVAL,
                            "this program cannot make the HTTP call to '%s'",
                            req->url);
    for (int i = 0; i < (attempts > 0 ? attempts : 1); i++) {
        creds_http_response_release(&resp);
        ct_error_clear(&last);
        rc = opt->http(opt->http_ctx, &resp, req, &last);
        if (rc == 0 && resp.status != 429 && resp.status < 500)
            break;
        if (rc == 0 && i + 1 == attempts)
            break; /* the last 5xx answer is the result */
    }
    if (rc != 0) {
        creds_http_response_release(&resp);
        return ct_error_set(err, rc, "%s", last.message);
    }
    *out = resp;
    return 0;
}

int creds_from_json(struct ct_credentials *out, const json_t *obj,
                    const char *ak, const char *sk, const char *tok,
                    const char *exp, int exp_is_ms, time_t now,
                    const char *provider, const char *what,
                    struct ct_error *err)
{
    const char *akid = json_string_value(json_object_get(obj, ak));
    const char *secret = json_string_value(json_object_get(obj, sk));
    const char *token = json_string_value(json_object_get(obj, tok));
    json_t *jexp = json_object_get(obj, exp);
    time_t expiration = 0;
    if (!akid || !*akid || !secret || !*secret)
        return ct_error_set(err, CT_EAUTH, "%s returned no %s or %s", what, ak,
                            sk);
    if (exp_is_ms && json_is_integer(jexp)) {
        expiration = (time_t)(json_integer_value(jexp) / 1000);
    } else if (!exp_is_ms && json_is_string(jexp)) {
        if (creds_parse_time(&expiration, json_string_value(jexp)) != 0)
            return ct_error_set(err, CT_EAUTH,
                                "%s returned an %s that is not a time", what,
                                exp);
    } else if (jexp && !json_is_null(jexp)) {
        return ct_error_set(err, CT_EAUTH, "%s returned an invalid %s", what,
                            exp);
    }
    if (expiration && expiration <= now) {
        char when[CT_ISO_TIME_MAX];
        ct_time_format_utc(when, expiration);
        return ct_error_set(err, CT_EAUTH,
                            "%s returned credentials that expired at %s", what,
                            when);
    }
    struct ct_credentials src = {(char *)akid, (char *)secret,
                                 token && *token ? (char *)token : NULL,
                                 expiration, provider};
    return ct_credentials_copy(out, &src, err);
}

static const char *dns_suffix(const char *region)
{
    const char *p = ct_region_partition(region);
    if (strcmp(p, "aws-cn") == 0)
        return "amazonaws.com.cn";
    return "amazonaws.com";
}

int creds_service_url(char **out, const char *env_name, const char *prefix,
                      const char *region, struct ct_error *err)
{
    const char *url = env_name ? creds_env(env_name) : NULL;
    char buf[512];
    if (!url) {
        if (!region || !ct_valid_region(region))
            return ct_error_set(err, CT_EINVAL, "invalid region '%s' for %s",
                                region ? region : "", prefix);
        snprintf(buf, sizeof(buf), "https://%s.%s.%s", prefix, region,
                 dns_suffix(region));
        url = buf;
    }
    size_t n = strlen(url);
    while (n > 0 && url[n - 1] == '/')
        n--; /* callers append the path */
    char *p = strndup(url, n);
    if (!p)
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    *out = p;
    return 0;
}

/* Parses a JSON answer body; NULL when it is none (error already set). */
static json_t *json_body(const struct creds_http_response *resp,
                         const char *what, struct ct_error *err)
{
    json_t *j =
        json_loadb(resp->body ? resp->body : "", resp->body_len, 0, NULL);
    if (!json_is_object(j)) {
        json_decref(j);
        ct_error_set(err, CT_EAUTH, "%s: the answer is not a JSON object",
                     what);
        return NULL;
    }
    return j;
}

/* Frees a parsed answer that held secrets, wiping its strings first. */
static void json_wipe(json_t *j)
{
    const char *key;
    json_t *v;
    if (json_object_size(j) == 0) {
        json_decref(j);
        return;
    }
    json_object_foreach(j, key, v)
    {
        if (json_is_string(v))
            OPENSSL_cleanse((char *)json_string_value(v),
                            json_string_length(v));
        else if (json_is_object(v))
            json_wipe(json_incref(v));
    }
    json_decref(j);
}

/* ---- container --------------------------------------------------------- */

/* Host part of an http(s) URL (brackets of an IPv6 literal removed). */
static int url_host(char *out, size_t cap, const char *url)
{
    const char *p = strstr(url, "://");
    if (!p)
        return -1;
    if (strncasecmp(url, "http://", 7) != 0 &&
        strncasecmp(url, "https://", 8) != 0)
        return -1;
    p += 3;
    const char *at = NULL;
    size_t auth = strcspn(p, "/?#");
    for (size_t i = 0; i < auth; i++)
        if (p[i] == '@')
            at = p + i;
    if (at)
        p = at + 1; /* user info is not part of the host */
    size_t n;
    if (*p == '[') {
        p++;
        n = strcspn(p, "]");
        if (p[n] != ']')
            return -1;
    } else {
        n = strcspn(p, ":/?#");
    }
    if (n == 0 || n >= cap)
        return -1;
    memcpy(out, p, n);
    out[n] = '\0';
    return 0;
}

/* The hosts the SDKs accept in AWS_CONTAINER_CREDENTIALS_FULL_URI. */
static int container_host_allowed(const char *host)
{
    unsigned char a4[4], a6[16], want6[16];
    if (strcasecmp(host, "localhost") == 0)
        return 1;
    if (inet_pton(AF_INET, host, a4) == 1)
        return a4[0] == 127 || strcmp(host, "169.254.170.2") == 0 ||
               strcmp(host, "169.254.170.23") == 0;
    if (inet_pton(AF_INET6, host, a6) == 1) {
        static const unsigned char loop6[16] = {0, 0, 0, 0, 0, 0, 0, 0,
                                                0, 0, 0, 0, 0, 0, 0, 1};
        if (memcmp(a6, loop6, 16) == 0)
            return 1;
        return inet_pton(AF_INET6, "fd00:ec2::23", want6) == 1 &&
               memcmp(a6, want6, 16) == 0;
    }
    return 0;
}

static int has_newline(const char *s)
{
    return strchr(s, '\r') || strchr(s, '\n');
}

int creds_container(struct ct_credentials *out, const struct creds_options *opt,
                    time_t now, struct ct_error *err)
{
    const char *rel = creds_env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    const char *full = creds_env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    const char *token_file =
        creds_env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    const char *token_env = creds_env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    char *url = NULL, *token = NULL, *header = NULL;
    size_t token_len = 0;
    struct creds_http_response resp = CREDS_HTTP_RESPONSE_INIT;
    json_t *j = NULL;
    int rc = 0;

    if (!rel && !full)
        return CREDS_NOT_FOUND;
    if (rel) {
        size_t n = strlen(rel) + 32;
        url = malloc(n);
        if (!url)
            return ct_error_set(err, CT_ENOMEM, "out of memory");
        snprintf(url, n, "http://169.254.170.2%s%s", rel[0] == '/' ? "" : "/",
                 rel);
    } else {
        char host[CREDS_HOST_MAX];
        if (url_host(host, sizeof(host), full) != 0 ||
            !container_host_allowed(host))
            return ct_error_set(
                err, CT_EAUTH,
                "AWS_CONTAINER_CREDENTIALS_FULL_URI '%s' is not allowed: "
                "only loopback, 169.254.170.2, 169.254.170.23 and "
                "fd00:ec2::23 are",
                full);
        url = creds_strdup(full);
        if (!url)
            return ct_error_set(err, CT_ENOMEM, "out of memory");
    }
    if (token_file) {
        rc = creds_read_file(&token, &token_len, token_file,
                             CREDS_TOKEN_FILE_MAX, err);
        if (rc) {
            ct_error_reset(err, rc,
                           "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE "
                           "'%s'",
                           token_file);
            goto done;
        }
        while (token_len > 0 &&
               (token[token_len - 1] == '\n' || token[token_len - 1] == '\r'))
            token[--token_len] = '\0';
    } else if (token_env) {
        token = creds_strdup(token_env);
        if (!token) {
            rc = ct_error_set(err, CT_ENOMEM, "out of memory");
            goto done;
        }
    }
    if (token && has_newline(token)) {
        rc = ct_error_set(err, CT_EAUTH,
                          "the container authorization token holds a line "
                          "break");
        goto done;
    }
    const char *headers[1];
    size_t n_headers = 0;
    if (token) {
        size_t n = strlen(token) + 32;
        header = malloc(n);
        if (!header) {
            rc = ct_error_set(err, CT_ENOMEM, "out of memory");
            goto done;
        }
        snprintf(header, n, "Authorization: %s", token);
        headers[n_headers++] = header;
    }
    struct creds_http_request req = {
        "GET", url, headers, n_headers, NULL, 0, CREDS_CONTAINER_TIMEOUT_MS};
    rc = creds_http_call(&resp, opt, &req, CREDS_CONTAINER_ATTEMPTS, err);
    if (rc) {
        ct_error_reset(err, rc,
                       "container credentials endpoint '%s' did not answer: "
                       "%s",
                       url, err ? err->message : "");
        goto done;
    }
    if (resp.status != 200) {
        rc = ct_error_set(err, CT_EAUTH,
                          "container credentials endpoint '%s' answered HTTP "
                          "%ld",
                          url, resp.status);
        goto done;
    }
    j = json_body(&resp, "container credentials endpoint", err);
    if (!j) {
        rc = CT_EAUTH;
        goto done;
    }
    rc = creds_from_json(out, j, "AccessKeyId", "SecretAccessKey", "Token",
                         "Expiration", 0, now, "container",
                         "the container credentials endpoint", err);
done:
    json_wipe(j);
    creds_http_response_release(&resp);
    if (token) {
        OPENSSL_cleanse(token, strlen(token));
        free(token);
    }
    creds_free_secret(header);
    free(url);
    return rc;
}

/* ---- EC2 instance metadata --------------------------------------------- */

static int imds_get(struct creds_http_response *out,
                    const struct creds_options *opt, const char *base,
                    const char *path, const char *token_header,
                    struct ct_error *err)
{
    char url[1024];
    snprintf(url, sizeof(url), "%s%s", base, path);
    const char *headers[] = {token_header};
    struct creds_http_request req = {
        "GET", url, headers, 1, NULL, 0, CREDS_IMDS_TIMEOUT_MS};
    return creds_http_call(out, opt, &req, CREDS_IMDS_ATTEMPTS, err);
}

int creds_imds(struct ct_credentials *out, const struct creds_options *opt,
               time_t now, int is_required, struct ct_error *err)
{
    const char *endpoint = creds_env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    const char *mode = creds_env("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
    char base[512], *token_header = NULL, role[256];
    struct creds_http_response resp = CREDS_HTTP_RESPONSE_INIT;
    struct ct_error local = CT_ERROR_INIT;
    json_t *j = NULL;
    int rc = 0;

    if (creds_env_true("AWS_EC2_METADATA_DISABLED")) {
        if (is_required)
            return ct_error_set(err, CT_EAUTH,
                                "credential_source Ec2InstanceMetadata, but "
                                "AWS_EC2_METADATA_DISABLED is set");
        return CREDS_NOT_FOUND;
    }
    if (!endpoint)
        endpoint = mode && strcasecmp(mode, "IPv6") == 0
                       ? "http://[fd00:ec2::254]"
                       : "http://169.254.169.254";
    size_t n = strlen(endpoint);
    while (n > 0 && endpoint[n - 1] == '/')
        n--;
    if (n >= sizeof(base) - 64)
        return ct_error_set(err, CT_EINVAL,
                            "AWS_EC2_METADATA_SERVICE_ENDPOINT is too long");
    snprintf(base, sizeof(base), "%.*s", (int)n, endpoint);

    /* IMDSv2: a session token first; no fallback to IMDSv1 */
    char url[600];
    snprintf(url, sizeof(url), "%s/latest/api/token", base);
    const char *put_headers[] = {"X-aws-ec2-metadata-token-ttl-seconds: 21600"};
    struct creds_http_request put = {"PUT", url, put_headers,          1,
                                     NULL,  0,   CREDS_IMDS_TIMEOUT_MS};
    rc = creds_http_call(&resp, opt, &put, CREDS_IMDS_ATTEMPTS, &local);
    if (rc == CT_EINVAL && !is_required)
        return CREDS_NOT_FOUND; /* no HTTP in this program */
    if (rc) {
        if (!is_required)
            return CREDS_NOT_FOUND; /* not on EC2 */
        return ct_error_set(err, CT_EAUTH,
                            "EC2 instance metadata at %s did not answer: %s",
                            base, local.message);
    }
    if (resp.status != 200 || !resp.body || !*resp.body ||
        has_newline(resp.body)) {
        rc = ct_error_set(err, CT_EAUTH,
                          "EC2 instance metadata at %s refused an IMDSv2 "
                          "token (HTTP %ld); ctcollect does not use IMDSv1",
                          base, resp.status);
        goto done;
    }
    n = strlen(resp.body) + 32;
    token_header = malloc(n);
    if (!token_header) {
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
        goto done;
    }
    snprintf(token_header, n, "X-aws-ec2-metadata-token: %s", resp.body);
    creds_http_response_release(&resp);

    rc = imds_get(&resp, opt, base,
                  "/latest/meta-data/iam/security-credentials/", token_header,
                  err);
    if (rc)
        goto done;
    if (resp.status == 404) {
        rc = ct_error_set(err, CT_EAUTH,
                          "EC2 instance metadata: the instance has no IAM "
                          "role (instance profile)");
        goto done;
    }
    size_t rn = resp.body ? strcspn(resp.body, "\r\n") : 0;
    if (resp.status != 200 || rn == 0 || rn >= sizeof(role)) {
        rc = ct_error_set(err, CT_EAUTH,
                          "EC2 instance metadata: no role name (HTTP %ld)",
                          resp.status);
        goto done;
    }
    memcpy(role, resp.body, rn);
    role[rn] = '\0';
    if (strchr(role, '/') || strchr(role, '?') || strchr(role, '#')) {
        rc = ct_error_set(err, CT_EAUTH,
                          "EC2 instance metadata: invalid role name");
        goto done;
    }
    creds_http_response_release(&resp);
    char path[512];
    snprintf(path, sizeof(path),
             "/latest/meta-data/iam/security-credentials/%s", role);
    rc = imds_get(&resp, opt, base, path, token_header, err);
    if (rc)
        goto done;
    if (resp.status != 200) {
        rc = ct_error_set(err, CT_EAUTH,
                          "EC2 instance metadata: credentials of role '%s': "
                          "HTTP %ld",
                          role, resp.status);
        goto done;
    }
    j = json_body(&resp, "EC2 instance metadata", err);
    if (!j) {
        rc = CT_EAUTH;
        goto done;
    }
    const char *code = json_string_value(json_object_get(j, "Code"));
    if (code && strcmp(code, "Success") != 0) {
        rc = ct_error_set(err, CT_EAUTH,
                          "EC2 instance metadata: credentials of role '%s': "
                          "%.64s",
                          role, code);
        goto done;
    }
    rc = creds_from_json(out, j, "AccessKeyId", "SecretAccessKey", "Token",
                         "Expiration", 0, now, "ec2-instance-metadata",
                         "EC2 instance metadata", err);
done:
    json_wipe(j);
    creds_http_response_release(&resp);
    creds_free_secret(token_header);
    return rc;
}

/* ---- web identity ------------------------------------------------------ */

int creds_urlencode(char *out, size_t cap, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        int keep = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                   (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
                   *p == '.' || *p == '~';
        if (o + (keep ? 1 : 3) >= cap)
            return CT_ELIMIT;
        if (keep) {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    out[o] = '\0';
    return 0;
}

/* Appends "&name=<urlencoded value>" to the heap buffer *buf (secrets:
 * a grown buffer's old copy is wiped). */
static int form_add(char **buf, size_t *len, size_t *cap, const char *name,
                    const char *value)
{
    size_t need = *len + strlen(name) + 3 * strlen(value) + 3;
    if (need > *cap) {
        size_t nc = need * 2;
        char *p = malloc(nc);
        if (!p)
            return CT_ENOMEM;
        if (*buf) {
            memcpy(p, *buf, *len);
            OPENSSL_cleanse(*buf, *len);
            free(*buf);
        }
        *buf = p;
        *cap = nc;
    }
    int n = snprintf(*buf + *len, *cap - *len, "&%s=", name);
    *len += (size_t)n;
    if (creds_urlencode(*buf + *len, *cap - *len, value) != 0)
        return CT_ELIMIT;
    *len += strlen(*buf + *len);
    return 0;
}

int creds_web_identity(struct ct_credentials *out,
                       const struct creds_options *opt, const char *token_file,
                       const char *role_arn, const char *session_name,
                       const char *region, struct ct_error *err)
{
    char *token = NULL, *body = NULL, *base = NULL;
    size_t token_len = 0, len = 0, cap = 0;
    struct creds_http_response resp = CREDS_HTTP_RESPONSE_INIT;
    int rc = creds_read_file(&token, &token_len, token_file,
                             CREDS_TOKEN_FILE_MAX, err);
    if (rc)
        return ct_error_reset(err, rc,
                              "cannot read the web identity token file '%s'",
                              token_file);
    while (token_len > 0 &&
           (token[token_len - 1] == '\n' || token[token_len - 1] == '\r' ||
            token[token_len - 1] == ' '))
        token[--token_len] = '\0';
    if (token_len == 0) {
        rc = ct_error_set(err, CT_EAUTH,
                          "the web identity token file '%s' is empty",
                          token_file);
        goto done;
    }
    if (opt && opt->sts_endpoint_url) {
        base = creds_strdup(opt->sts_endpoint_url);
        if (!base)
            rc = ct_error_set(err, CT_ENOMEM, "out of memory");
    } else {
        rc = creds_service_url(&base, "AWS_ENDPOINT_URL_STS", "sts",
                               region && *region ? region : "us-east-1", err);
    }
    if (rc)
        goto done;
    if (form_add(&body, &len, &cap, "Action", "AssumeRoleWithWebIdentity") ||
        form_add(&body, &len, &cap, "Version", "2011-06-15") ||
        form_add(&body, &len, &cap, "RoleArn", role_arn) ||
        form_add(&body, &len, &cap, "RoleSessionName", session_name) ||
        form_add(&body, &len, &cap, "WebIdentityToken", token)) {
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
        goto done;
    }
    const char *headers[] = {
        "Content-Type: application/x-www-form-urlencoded; charset=utf-8"};
    size_t bl = strlen(base);
    char url[1024];
    snprintf(url, sizeof(url), "%.*s/",
             (int)(bl && base[bl - 1] == '/' ? bl - 1 : bl), base);
    /* form_add puts '&' before every field, the first one included */
    struct creds_http_request req = {
        "POST", url, headers, 1, body + 1, len - 1, CREDS_REMOTE_TIMEOUT_MS};
    rc = creds_http_call(&resp, opt, &req, 3, err);
    if (rc) {
        ct_error_reset(err, rc,
                       "sts:AssumeRoleWithWebIdentity for '%s': no answer "
                       "from %s: %s",
                       role_arn, url, err ? err->message : "");
        goto done;
    }
    if (resp.status != 200) {
        char code[128] = "", msg[512] = "";
        awsxml_error(code, sizeof(code), msg, sizeof(msg),
                     resp.body ? resp.body : "", resp.body_len);
        rc = ct_error_set(err, CT_EAUTH,
                          "sts:AssumeRoleWithWebIdentity for '%s' failed: "
                          "HTTP %ld %s%s%s",
                          role_arn, resp.status, code, *msg ? ": " : "", msg);
        goto done;
    }
    rc = awsxml_assume_role(out, resp.body, resp.body_len, err);
    if (rc == 0)
        out->provider = "web-identity";
done:
    creds_http_response_release(&resp);
    if (token) {
        OPENSSL_cleanse(token, token_len);
        free(token);
    }
    if (body) {
        OPENSSL_cleanse(body, len);
        free(body);
    }
    free(base);
    return rc;
}
