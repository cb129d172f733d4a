/*
 * AWS calls: endpoints, serialization, signing, and the request scheduler
 * (lanes, bounded in-flight requests, retries, adaptive slow-down).
 */
#include "collector/aws.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "collector/awsxml.h"
#include "collector/sigv4.h"
#include "core/snapshot.h"

#define DEFAULT_ATTEMPTS 6
#define DEFAULT_BASE_MS 100
#define DEFAULT_CAP_MS 10000
#define HOST_MAX 128
#define SLOWDOWN_MAX_MS 2000

struct host {
    char name[HOST_MAX];  /* logical endpoint, e.g. cloudtrail.us-east-1... */
    long delay_ms;        /* minimum spacing of requests while throttled */
    long long next_ok_ms; /* no request before this time */
};

struct lane;

struct call {
    struct call *next;          /* in lane->queue */
    struct call *iprev, *inext; /* in client->in_flight while sent */
    void (*cancel)(void *ctx);
    struct aws_client *client;
    struct lane *lane;
    size_t host_index;
    enum aws_service service;
    char operation[CT_OPERATION_MAX + 1];
    char sign_region[CT_REGION_MAX + 1];
    char host_name[HOST_MAX];
    char *body;
    size_t body_len;
    const struct ct_credentials *creds;
    int attempts;
    long long not_before_ms;
    long long sent_ms;
    aws_done_fn done;
    void *ctx;
};

struct lane {
    char *key;
    struct call *queue; /* FIFO: head first */
    size_t n_in_flight;
};

struct aws_client {
    struct aws_client_options opt;
    struct http_transport own_transport;
    struct http_transport *tr;
    char url_base[512]; /* endpoint_url without trailing '/' */
    char url_host[256]; /* host[:port] of endpoint_url */
    char url_path[256]; /* its path with a trailing '/', at least "/" */
    struct lane **lanes;
    size_t n_lanes, cap_lanes, cursor;
    struct host *hosts;
    size_t n_hosts, cap_hosts;
    size_t n_queued, n_in_flight;
    struct call *in_flight; /* sent, not completed */
    struct aws_stats stats;
    uint64_t rng;
    long long last_tick_ms;
};

static const char *const service_names[] = {
    [AWS_STS] = "sts",
    [AWS_IAM] = "iam",
    [AWS_EC2] = "ec2",
    [AWS_CLOUDTRAIL] = "cloudtrail",
    [AWS_ORGANIZATIONS] = "organizations",
    [AWS_CE] = "ce",
};

const char *aws_service_name(enum aws_service s)
{
    return service_names[s];
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t rng_next(struct aws_client *c)
{
    /* xorshift64*: jitter only, not security */
    c->rng ^= c->rng >> 12;
    c->rng ^= c->rng << 25;
    c->rng ^= c->rng >> 27;
    return c->rng * 2685821657736338717ULL;
}

int aws_endpoint(char *host, size_t host_size, char *sign_region,
                 size_t region_size, enum aws_service s, const char *region,
                 struct ct_error *err)
{
    const char *part = ct_region_partition(region);
    const char *suffix = NULL, *global = NULL;
    const char *iam_host = NULL, *org_region = NULL, *ce_region = NULL;
    int n;

    /* From botocore's endpoints.json: iam and organizations are global
     * (one endpoint and signing region per partition), sts, ec2 and
     * cloudtrail regional. Cost Explorer has one endpoint in aws
     * (us-east-1) and one in aws-cn (cn-northwest-1), nowhere else. */
    if (strcmp(part, "aws") == 0) {
        suffix = "amazonaws.com";
        global = "us-east-1";
        iam_host = "iam.amazonaws.com";
        org_region = "us-east-1";
        ce_region = "us-east-1";
    } else if (strcmp(part, "aws-cn") == 0) {
        suffix = "amazonaws.com.cn";
        global = "cn-north-1";
        iam_host = "iam.cn-north-1.amazonaws.com.cn";
        org_region = "cn-northwest-1";
        ce_region = "cn-northwest-1";
    } else if (strcmp(part, "aws-us-gov") == 0) {
        suffix = "amazonaws.com";
        global = "us-gov-west-1";
        iam_host = "iam.us-gov.amazonaws.com";
        org_region = "us-gov-west-1";
    } else {
        return ct_error_set(err, CT_EINVAL, "unsupported partition '%s'", part);
    }
    switch (s) {
    case AWS_IAM:
        n = snprintf(host, host_size, "%s", iam_host);
        region = global;
        break;
    case AWS_ORGANIZATIONS:
        n = snprintf(host, host_size, "organizations.%s.%s", org_region,
                     suffix);
        region = org_region;
        break;
    case AWS_CE:
        if (!ce_region)
            return ct_error_set(err, CT_EINVAL,
                                "Cost Explorer is not available in "
                                "partition %s",
                                part);
        n = snprintf(host, host_size, "ce.%s.%s", ce_region, suffix);
        region = ce_region;
        break;
    default:
        n = snprintf(host, host_size, "%s.%s.%s", service_names[s], region,
                     suffix);
        break;
    }
    if (n < 0 || (size_t)n >= host_size ||
        (size_t)snprintf(sign_region, region_size, "%s", region) >= region_size)
        return ct_error_set(err, CT_ELIMIT, "endpoint name too long");
    return 0;
}

int aws_urlencode(char *out, size_t size, const char *s, struct ct_error *err)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        int plain = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' ||
                    ch == '.' || ch == '~';
        if (o + (plain ? 1 : 3) >= size)
            return ct_error_set(err, CT_ELIMIT, "value too long");
        if (plain) {
            out[o++] = (char)ch;
        } else {
            out[o++] = '%';
            out[o++] = hex[ch >> 4];
            out[o++] = hex[ch & 15];
        }
    }
    if (o >= size)
        return ct_error_set(err, CT_ELIMIT, "value too long");
    out[o] = '\0';
    return 0;
}

int aws_is_throttle(const char *code)
{
    static const char *const codes[] = {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException"};
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        if (strcmp(code, codes[i]) == 0)
            return 1;
    return 0;
}

static int is_transient_code(const char *code)
{
    static const char *const codes[] = {"RequestTimeout",
                                        "RequestTimeoutException",
                                        "InternalError",
                                        "InternalFailure",
                                        "InternalServerError",
                                        "ServiceUnavailable",
                                        "ServiceUnavailableException",
                                        "IDPCommunicationError"};
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        if (strcmp(code, codes[i]) == 0)
            return 1;
    return 0;
}

static int is_json_service(enum aws_service s)
{
    return s == AWS_CLOUDTRAIL || s == AWS_ORGANIZATIONS || s == AWS_CE;
}

void aws_parse_error(char *code, size_t code_size, char *message,
                     size_t msg_size, enum aws_service s, const char *body,
                     size_t len)
{
    code[0] = message[0] = '\0';
    if (!body || len == 0)
        return;
    if (is_json_service(s) || body[0] == '{') {
        json_t *root = json_loadb(body, len, 0, NULL);
        if (!root) {
            /* an XML error from a JSON service: what IAM policy
             * evaluation in front of the service (moto) answers */
            if (body[0] == '<')
                awsxml_error(code, code_size, message, msg_size, body, len);
            return;
        }
        const char *type = json_string_value(json_object_get(root, "__type"));
        if (!type)
            type = json_string_value(json_object_get(root, "code"));
        const char *msg = json_string_value(json_object_get(root, "message"));
        if (!msg)
            msg = json_string_value(json_object_get(root, "Message"));
        if (type) {
            /* "com.amazonaws...#ThrottlingException" or "Code:http://..." */
            const char *hash = strrchr(type, '#');
            if (hash)
                type = hash + 1;
            size_t n = strcspn(type, ":");
            if (n >= code_size)
                n = code_size - 1;
            memcpy(code, type, n);
            code[n] = '\0';
        }
        if (msg)
            snprintf(message, msg_size, "%s", msg);
        json_decref(root);
        return;
    }
    awsxml_error(code, code_size, message, msg_size, body, len);
}

static void emit_log(struct aws_client *c, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void emit_log(struct aws_client *c, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    if (!c->opt.log)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    c->opt.log(c->opt.cb_ctx, line);
}

static int parse_endpoint_url(struct aws_client *c, const char *url,
                              struct ct_error *err)
{
    const char *p = strstr(url, "://");
    size_t n = strlen(url);
    if (!p ||
        (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0))
        return ct_error_set(err, CT_EINVAL,
                            "endpoint url must start with http:// or https://");
    while (n > 0 && url[n - 1] == '/')
        n--;
    if (n >= sizeof(c->url_base))
        return ct_error_set(err, CT_ELIMIT, "endpoint url too long");
    memcpy(c->url_base, url, n);
    c->url_base[n] = '\0';
    const char *h = c->url_base + (p - url) + 3;
    size_t hn = strcspn(h, "/?#");
    if (hn == 0 || hn >= sizeof(c->url_host))
        return ct_error_set(err, CT_EINVAL, "endpoint url has no host");
    if (h[hn] == '?' || h[hn] == '#')
        return ct_error_set(err, CT_EINVAL,
                            "endpoint url must not have a query");
    memcpy(c->url_host, h, hn);
    c->url_host[hn] = '\0';
    /* the path (as sent, so as signed), e.g. "/" or "/aws/" */
    if ((size_t)snprintf(c->url_path, sizeof(c->url_path), "%s/", h + hn) >=
        sizeof(c->url_path))
        return ct_error_set(err, CT_ELIMIT, "endpoint url too long");
    return 0;
}

int aws_client_new(struct aws_client **out,
                   const struct aws_client_options *opt, struct ct_error *err)
{
    struct aws_client *c = calloc(1, sizeof(*c));
    int rc = 0;
    if (!c)
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    c->opt = *opt;
    if (c->opt.concurrency < 1)
        c->opt.concurrency = 1;
    if (c->opt.max_attempts < 1)
        c->opt.max_attempts = DEFAULT_ATTEMPTS;
    if (c->opt.base_delay_ms < 1)
        c->opt.base_delay_ms = DEFAULT_BASE_MS;
    if (c->opt.max_delay_ms < 1)
        c->opt.max_delay_ms = DEFAULT_CAP_MS;
    c->rng = (uint64_t)time(NULL) * 6364136223846793005ULL ^
             (uint64_t)getpid() ^ (uint64_t)(uintptr_t)c;
    if (!c->rng)
        c->rng = 88172645463325252ULL;
    if (opt->endpoint_url) {
        rc = parse_endpoint_url(c, opt->endpoint_url, err);
        if (rc)
            goto done;
    }
    c->opt.endpoint_url = NULL; /* borrowed string not kept */
    if (opt->transport) {
        c->tr = opt->transport;
    } else {
        rc = http_curl_new(&c->own_transport, c->opt.concurrency, err);
        if (rc)
            goto done;
        c->tr = &c->own_transport;
    }
    *out = c;
    c = NULL;
done:
    aws_client_free(c);
    return rc;
}

static void call_free(struct call *k)
{
    if (!k)
        return;
    free(k->body);
    free(k);
}

static void in_flight_unlink(struct aws_client *c, struct call *k)
{
    if (k->iprev)
        k->iprev->inext = k->inext;
    else
        c->in_flight = k->inext;
    if (k->inext)
        k->inext->iprev = k->iprev;
    k->iprev = k->inext = NULL;
}

void aws_client_drain(struct aws_client *c)
{
    for (size_t i = 0; i < c->n_lanes; i++) {
        struct call *k = c->lanes[i]->queue;
        c->lanes[i]->queue = NULL;
        while (k) {
            struct call *next = k->next;
            c->n_queued--;
            if (k->cancel)
                k->cancel(k->ctx);
            call_free(k);
            k = next;
        }
    }
}

void aws_client_free(struct aws_client *c)
{
    if (!c)
        return;
    /* the transport drops its transfers without callbacks: release the
     * calls they carried, and the queued ones */
    if (c->own_transport.free)
        c->own_transport.free(c->own_transport.impl);
    while (c->in_flight) {
        struct call *k = c->in_flight;
        in_flight_unlink(c, k);
        if (k->cancel)
            k->cancel(k->ctx);
        call_free(k);
    }
    for (size_t i = 0; i < c->n_lanes; i++) {
        struct call *k = c->lanes[i]->queue;
        while (k) {
            struct call *next = k->next;
            if (k->cancel)
                k->cancel(k->ctx);
            call_free(k);
            k = next;
        }
        free(c->lanes[i]->key);
        free(c->lanes[i]);
    }
    free(c->lanes);
    free(c->hosts);
    free(c);
}

void aws_client_stats(struct aws_stats *out, const struct aws_client *c)
{
    *out = c->stats;
}

static struct lane *lane_get(struct aws_client *c, const char *key,
                             struct ct_error *err)
{
    for (size_t i = 0; i < c->n_lanes; i++)
        if (strcmp(c->lanes[i]->key, key) == 0)
            return c->lanes[i];
    if (c->n_lanes == c->cap_lanes) {
        size_t cap = c->cap_lanes ? c->cap_lanes * 2 : 16;
        struct lane **p = realloc(c->lanes, cap * sizeof(*p));
        if (!p) {
            ct_error_set(err, CT_ENOMEM, "out of memory");
            return NULL;
        }
        c->lanes = p;
        c->cap_lanes = cap;
    }
    struct lane *l = calloc(1, sizeof(*l));
    if (!l || !(l->key = strdup(key))) {
        free(l);
        ct_error_set(err, CT_ENOMEM, "out of memory");
        return NULL;
    }
    c->lanes[c->n_lanes++] = l;
    return l;
}

static int host_get(size_t *out, struct aws_client *c, const char *name,
                    struct ct_error *err)
{
    for (size_t i = 0; i < c->n_hosts; i++)
        if (strcmp(c->hosts[i].name, name) == 0) {
            *out = i;
            return 0;
        }
    if (c->n_hosts == c->cap_hosts) {
        size_t cap = c->cap_hosts ? c->cap_hosts * 2 : 16;
        struct host *p = realloc(c->hosts, cap * sizeof(*p));
        if (!p)
            return ct_error_set(err, CT_ENOMEM, "out of memory");
        c->hosts = p;
        c->cap_hosts = cap;
    }
    struct host *h = &c->hosts[c->n_hosts];
    memset(h, 0, sizeof(*h));
    snprintf(h->name, sizeof(h->name), "%s", name);
    *out = c->n_hosts++;
    return 0;
}

static void lane_push(struct lane *l, struct call *k)
{
    struct call **p = &l->queue;
    while (*p)
        p = &(*p)->next;
    k->next = NULL;
    *p = k;
}

int aws_call_start(struct aws_client *c, const struct aws_call_spec *spec,
                   aws_done_fn done, void *ctx, struct ct_error *err)
{
    struct call *k = calloc(1, sizeof(*k));
    int rc = 0;
    const char *params = spec->params ? spec->params : "";
    size_t cap;

    if (!k)
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    k->client = c;
    k->service = spec->service;
    k->creds = spec->creds;
    k->done = done;
    k->ctx = ctx;
    k->cancel = spec->cancel;
    if (!ct_valid_operation(spec->operation)) {
        rc = ct_error_set(err, CT_EINVAL, "invalid operation");
        goto done;
    }
    snprintf(k->operation, sizeof(k->operation), "%s", spec->operation);
    rc = aws_endpoint(k->host_name, sizeof(k->host_name), k->sign_region,
                      sizeof(k->sign_region), spec->service, spec->region, err);
    if (rc)
        goto done;
    cap = strlen(params) + 128;
    k->body = malloc(cap);
    if (!k->body) {
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
        goto done;
    }
    if (is_json_service(spec->service)) {
        k->body_len =
            (size_t)snprintf(k->body, cap, "%s", *params ? params : "{}");
    } else {
        const char *version = spec->service == AWS_STS   ? "2011-06-15"
                              : spec->service == AWS_IAM ? "2010-05-08"
                                                         : "2016-11-15";
        k->body_len = (size_t)snprintf(k->body, cap, "Action=%s&Version=%s%s",
                                       k->operation, version, params);
    }
    rc = host_get(&k->host_index, c, k->host_name, err);
    if (rc)
        goto done;
    k->lane = lane_get(c, spec->lane ? spec->lane : "-", err);
    if (!k->lane) {
        rc = CT_ENOMEM;
        goto done;
    }
    lane_push(k->lane, k);
    c->n_queued++;
    k = NULL;
done:
    call_free(k);
    return rc;
}

static void call_finish(struct aws_client *c, struct call *k,
                        struct aws_result *res)
{
    res->attempts = k->attempts;
    if (!res->ok)
        c->stats.failed++;
    k->done(k->ctx, res);
    call_free(k);
}

static void on_http_done(void *ctx, struct http_response *resp);

/* Signs and sends k; on a local failure finishes it with an error. */
static void call_send(struct aws_client *c, struct call *k)
{
    char url[768], host_hdr[300], date_hdr[64], auth_hdr[1100], target[160];
    char target_hdr[180];
    char *token_hdr = NULL;
    const char *hdrs[6];
    size_t n_hdrs = 0;
    struct sigv4_header sh[2];
    size_t n_sh = 0;
    struct sigv4_signed sig = SIGV4_SIGNED_INIT;
    struct ct_error err = CT_ERROR_INIT;
    const char *host = c->url_base[0] ? c->url_host : k->host_name;
    const char *ctype =
        is_json_service(k->service)
            ? "application/x-amz-json-1.1"
            : "application/x-www-form-urlencoded; charset=utf-8";
    char ctype_hdr[96];

    if (c->url_base[0])
        snprintf(url, sizeof(url), "%s/", c->url_base);
    else
        snprintf(url, sizeof(url), "https://%s/", k->host_name);
    sh[n_sh].name = "Content-Type";
    sh[n_sh++].value = ctype;
    if (is_json_service(k->service)) {
        snprintf(target, sizeof(target), "%s.%s",
                 k->service == AWS_CLOUDTRAIL
                     ? "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101"
                 : k->service == AWS_CE ? "AWSInsightsIndexService"
                                        : "AWSOrganizationsV20161128",
                 k->operation);
        sh[n_sh].name = "X-Amz-Target";
        sh[n_sh++].value = target;
    }
    struct sigv4_request req = {
        "POST",  host,       c->url_base[0] ? c->url_path : "/", "", sh, n_sh,
        k->body, k->body_len};
    k->attempts++;
    c->stats.calls++;
    if (!k->creds || !k->creds->access_key_id ||
        sigv4_sign(&sig, &req, k->creds, k->sign_region,
                   service_names[k->service], time(NULL), &err)) {
        struct aws_result res;
        memset(&res, 0, sizeof(res));
        snprintf(res.code, sizeof(res.code), "SigningError");
        snprintf(res.message, sizeof(res.message), "%s",
                 err.message[0] ? err.message : "no credentials");
        call_finish(c, k, &res);
        return;
    }
    snprintf(ctype_hdr, sizeof(ctype_hdr), "Content-Type: %s", ctype);
    hdrs[n_hdrs++] = ctype_hdr;
    if (is_json_service(k->service)) {
        snprintf(target_hdr, sizeof(target_hdr), "X-Amz-Target: %s", target);
        hdrs[n_hdrs++] = target_hdr;
    }
    snprintf(host_hdr, sizeof(host_hdr), "Host: %s", host);
    hdrs[n_hdrs++] = host_hdr;
    snprintf(date_hdr, sizeof(date_hdr), "X-Amz-Date: %s", sig.amz_date);
    hdrs[n_hdrs++] = date_hdr;
    snprintf(auth_hdr, sizeof(auth_hdr), "Authorization: %s",
             sig.authorization);
    hdrs[n_hdrs++] = auth_hdr;
    if (k->creds->session_token) {
        size_t n = strlen(k->creds->session_token) + 32;
        token_hdr = malloc(n);
        if (token_hdr) {
            snprintf(token_hdr, n, "X-Amz-Security-Token: %s",
                     k->creds->session_token);
            hdrs[n_hdrs++] = token_hdr;
        }
    }
    struct http_request hr = {"POST",  url,         hdrs, n_hdrs,
                              k->body, k->body_len, 30000};
    k->sent_ms = now_ms();
    int rc = token_hdr || !k->creds->session_token
                 ? c->tr->start(c->tr->impl, &hr, on_http_done, k, &err)
                 : ct_error_set(&err, CT_ENOMEM, "out of memory");
    sigv4_signed_release(&sig);
    memset(auth_hdr, 0, sizeof(auth_hdr));
    if (token_hdr) {
        memset(token_hdr, 0, strlen(token_hdr));
        free(token_hdr);
    }
    if (rc) {
        struct aws_result res;
        memset(&res, 0, sizeof(res));
        snprintf(res.code, sizeof(res.code), "RequestError");
        snprintf(res.message, sizeof(res.message), "%s", err.message);
        call_finish(c, k, &res);
        return;
    }
    c->n_in_flight++;
    k->lane->n_in_flight++;
    k->iprev = NULL;
    k->inext = c->in_flight;
    if (c->in_flight)
        c->in_flight->iprev = k;
    c->in_flight = k;
}

static long backoff_ms(struct aws_client *c, int attempts)
{
    long long ceil = c->opt.base_delay_ms;
    for (int i = 1; i < attempts && ceil < c->opt.max_delay_ms; i++)
        ceil *= 2;
    if (ceil > c->opt.max_delay_ms)
        ceil = c->opt.max_delay_ms;
    /* full jitter: uniform in [0, ceil] */
    return (long)(rng_next(c) % (uint64_t)(ceil + 1));
}

static void on_http_done(void *ctx, struct http_response *resp)
{
    struct call *k = ctx;
    struct aws_client *c = k->client;
    struct host *h = &c->hosts[k->host_index];
    struct aws_result res;
    int retry = 0, throttled = 0;

    c->n_in_flight--;
    k->lane->n_in_flight--;
    in_flight_unlink(c, k);
    memset(&res, 0, sizeof(res));
    res.http_status = resp->status;
    if (resp->failure != HTTP_OK) {
        snprintf(res.code, sizeof(res.code), "RequestError");
        snprintf(res.message, sizeof(res.message), "%s", resp->error);
        retry = resp->failure == HTTP_ERETRYABLE;
    } else if (resp->status >= 200 && resp->status < 300) {
        res.ok = 1;
    } else {
        aws_parse_error(res.code, sizeof(res.code), res.message,
                        sizeof(res.message), k->service, resp->body,
                        resp->body_len);
        if (!res.code[0])
            snprintf(res.code, sizeof(res.code), "HTTP%ld", resp->status);
        throttled = aws_is_throttle(res.code) || resp->status == 429;
        retry = throttled || is_transient_code(res.code) ||
                resp->status == 500 || resp->status == 502 ||
                resp->status == 503 || resp->status == 504;
    }
    emit_log(c, "%s %s %s -> %ld%s%s (attempt %d, %lld ms)",
             service_names[k->service], k->sign_region, k->operation,
             resp->status, res.code[0] ? " " : "", res.code, k->attempts,
             now_ms() - k->sent_ms);
    /* adaptive slow-down: widen the spacing while the endpoint throttles,
     * narrow it again on success */
    if (throttled) {
        c->stats.throttles++;
        h->delay_ms = h->delay_ms ? h->delay_ms * 2 : 50;
        if (h->delay_ms > SLOWDOWN_MAX_MS)
            h->delay_ms = SLOWDOWN_MAX_MS;
    } else if (res.ok && h->delay_ms) {
        h->delay_ms = h->delay_ms * 3 / 4;
        if (h->delay_ms < 5)
            h->delay_ms = 0;
    }
    if (retry && k->attempts < c->opt.max_attempts) {
        c->stats.retries++;
        k->not_before_ms = now_ms() + backoff_ms(c, k->attempts);
        lane_push(k->lane, k);
        c->n_queued++;
        return;
    }
    if (resp->failure == HTTP_OK) {
        res.body = resp->body;
        res.body_len = resp->body_len;
    }
    res.attempts = k->attempts;
    if (!res.ok)
        c->stats.failed++;
    k->done(k->ctx, &res);
    if (resp->failure == HTTP_OK && !res.body)
        resp->body = NULL; /* the callback took it */
    call_free(k);
}

/* Takes the first due call of lane l whose endpoint is not slowed down. */
static struct call *lane_take(struct aws_client *c, struct lane *l,
                              long long now, long long *next_due)
{
    for (struct call **p = &l->queue; *p; p = &(*p)->next) {
        struct call *k = *p;
        struct host *h = &c->hosts[k->host_index];
        long long due = k->not_before_ms;
        if (h->next_ok_ms > due)
            due = h->next_ok_ms;
        if (due <= now) {
            *p = k->next;
            k->next = NULL;
            h->next_ok_ms = now + h->delay_ms;
            return k;
        }
        if (*next_due == 0 || due < *next_due)
            *next_due = due;
    }
    return NULL;
}

/* Fills free slots round-robin over lanes. Returns the earliest time a
 * waiting call becomes due (0: none waiting). */
static long long dispatch(struct aws_client *c)
{
    long long now = now_ms(), next_due = 0;
    int progress = 1;
    while (progress && c->n_in_flight < (size_t)c->opt.concurrency &&
           c->n_queued > 0) {
        progress = 0;
        for (size_t i = 0;
             i < c->n_lanes && c->n_in_flight < (size_t)c->opt.concurrency;
             i++) {
            struct lane *l = c->lanes[(c->cursor + i) % c->n_lanes];
            if (!l->queue)
                continue;
            struct call *k = lane_take(c, l, now, &next_due);
            if (!k)
                continue;
            c->n_queued--;
            progress = 1;
            call_send(c, k);
        }
        if (c->n_lanes)
            c->cursor = (c->cursor + 1) % c->n_lanes;
    }
    return next_due;
}

/* Drops lanes that are empty and idle, so that round-robin stays short. */
static void lanes_compact(struct aws_client *c)
{
    size_t o = 0;
    for (size_t i = 0; i < c->n_lanes; i++) {
        struct lane *l = c->lanes[i];
        if (!l->queue && l->n_in_flight == 0) {
            free(l->key);
            free(l);
        } else {
            c->lanes[o++] = l;
        }
    }
    c->n_lanes = o;
    if (c->cursor >= o)
        c->cursor = 0;
}

int aws_client_run(struct aws_client *c, const int *until_flag,
                   struct ct_error *err)
{
    for (;;) {
        if (until_flag ? *until_flag
                       : (c->n_queued == 0 && c->n_in_flight == 0))
            return 0;
        if (c->opt.stop && *c->opt.stop)
            return ct_error_set(err, CT_EINVAL, "interrupted");
        long long next_due = dispatch(c);
        long long now = now_ms();
        int wait = 200;
        if (next_due && next_due - now < wait)
            wait = next_due > now ? (int)(next_due - now) : 0;
        if (c->n_in_flight == 0) {
            if (wait > 0) {
                struct timespec ts = {wait / 1000,
                                      (long)(wait % 1000) * 1000000L};
                nanosleep(&ts, NULL);
            }
        } else {
            int rc = c->tr->run(c->tr->impl, wait, err);
            if (rc)
                return rc;
        }
        if (c->opt.tick && now_ms() - c->last_tick_ms >= 200) {
            c->last_tick_ms = now_ms();
            c->opt.tick(c->opt.cb_ctx);
        }
        if (c->n_lanes > 64)
            lanes_compact(c);
    }
}
