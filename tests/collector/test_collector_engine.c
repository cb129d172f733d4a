/*
 * Unit tests of the collector engine without a network: the scheduler in
 * aws.c over a fake http_transport (retries, give-up, concurrency bound,
 * lane fairness, request shape), error parsing, endpoints, and the XML to
 * CLI-JSON conversions of awsxml.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "collector/aws.h"
#include "collector/awsxml.h"
#include "collector/http.h"

/* ---- fake transport ---- */

#define FAKE_MAX 64

struct fake_xfer {
    http_done_fn done;
    void *ctx;
    char url[256];
    char headers[1024];
    char body[512];
};

struct fake {
    struct fake_xfer pending[FAKE_MAX];
    struct fake_xfer last; /* the last transfer started */
    size_t n_pending, max_in_flight, n_started;
    int fail_first; /* first N transfers of each body fail */
    long fail_status;
    const char *fail_body;
    char order[FAKE_MAX][64]; /* bodies in start order */
    char seen_bodies[FAKE_MAX][512];
    int seen_count[FAKE_MAX];
    size_t n_seen;
};

static int fake_start(void *impl, const struct http_request *req,
                      http_done_fn done, void *ctx, struct ct_error *err)
{
    struct fake *f = impl;
    (void)err;
    assert_true(f->n_pending < FAKE_MAX);
    struct fake_xfer *x = &f->pending[f->n_pending++];
    memset(x, 0, sizeof(*x));
    x->done = done;
    x->ctx = ctx;
    snprintf(x->url, sizeof(x->url), "%s", req->url);
    for (size_t i = 0; i < req->n_headers; i++) {
        strncat(x->headers, req->headers[i],
                sizeof(x->headers) - strlen(x->headers) - 2);
        strncat(x->headers, "\n", sizeof(x->headers) - strlen(x->headers) - 1);
    }
    snprintf(x->body, sizeof(x->body), "%.*s", (int)req->body_len, req->body);
    f->last = *x;
    if (f->n_started < FAKE_MAX)
        snprintf(f->order[f->n_started], sizeof(f->order[0]), "%.*s",
                 (int)req->body_len, req->body);
    f->n_started++;
    if (f->n_pending > f->max_in_flight)
        f->max_in_flight = f->n_pending;
    return 0;
}

static int fake_seen(struct fake *f, const char *body)
{
    for (size_t i = 0; i < f->n_seen; i++)
        if (strcmp(f->seen_bodies[i], body) == 0)
            return f->seen_count[i]++;
    snprintf(f->seen_bodies[f->n_seen], sizeof(f->seen_bodies[0]), "%s", body);
    f->seen_count[f->n_seen++] = 1;
    return 0;
}

static int fake_run(void *impl, int timeout_ms, struct ct_error *err)
{
    struct fake *f = impl;
    struct fake_xfer batch[FAKE_MAX];
    size_t n = f->n_pending;
    (void)timeout_ms;
    (void)err;
    memcpy(batch, f->pending, n * sizeof(batch[0]));
    f->n_pending = 0;
    for (size_t i = 0; i < n; i++) {
        struct http_response r;
        char ok_body[] = "{}";
        char fail_body[256];
        memset(&r, 0, sizeof(r));
        r.failure = HTTP_OK;
        if (fake_seen(f, batch[i].body) < f->fail_first) {
            r.status = f->fail_status;
            snprintf(fail_body, sizeof(fail_body), "%s", f->fail_body);
            r.body = fail_body;
            r.body_len = strlen(fail_body);
        } else {
            r.status = 200;
            r.body = ok_body;
            r.body_len = 2;
        }
        batch[i].done(batch[i].ctx, &r);
    }
    return 0;
}

static size_t fake_in_flight(void *impl)
{
    return ((struct fake *)impl)->n_pending;
}

static void fake_free(void *impl)
{
    (void)impl;
}

struct done_rec {
    int n_done;
    int ok, attempts;
    long status;
    char code[128];
};

static void on_done(void *ctx, struct aws_result *res)
{
    struct done_rec *d = ctx;
    d->n_done++;
    d->ok = res->ok;
    d->attempts = res->attempts;
    d->status = res->http_status;
    snprintf(d->code, sizeof(d->code), "%s", res->code);
}

static char ak[] = "AKIDEXAMPLE";
static char sk[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

static struct aws_client *new_client(struct fake *f, struct http_transport *t,
                                     int concurrency)
{
    struct aws_client *c = NULL;
    t->impl = f;
    t->start = fake_start;
    t->run = fake_run;
    t->in_flight = fake_in_flight;
    t->free = fake_free;
    struct aws_client_options o;
    memset(&o, 0, sizeof(o));
    o.endpoint_url = "http://127.0.0.1:1";
    o.concurrency = concurrency;
    o.max_attempts = 3;
    o.base_delay_ms = 1;
    o.max_delay_ms = 2;
    o.transport = t;
    assert_int_equal(aws_client_new(&c, &o, NULL), 0);
    return c;
}

static void start_call(struct aws_client *c, const char *params,
                       const char *lane, struct done_rec *d)
{
    static struct ct_credentials creds;
    creds.access_key_id = ak;
    creds.secret_access_key = sk;
    struct aws_call_spec s = {AWS_CLOUDTRAIL,
                              "DescribeTrails",
                              "eu-west-1",
                              params,
                              &creds,
                              lane,
                              NULL};
    assert_int_equal(aws_call_start(c, &s, on_done, d, NULL), 0);
}

static void test_collector_engine_retries_throttling(void **state)
{
    struct fake f;
    struct http_transport t;
    struct done_rec d;
    struct aws_stats st;
    (void)state;
    memset(&f, 0, sizeof(f));
    memset(&d, 0, sizeof(d));
    f.fail_first = 2;
    f.fail_status = 400;
    f.fail_body = "{\"__type\":\"ThrottlingException\",\"message\":\"Rate\"}";
    struct aws_client *c = new_client(&f, &t, 4);
    start_call(c, "{\"includeShadowTrails\":true}", "a/eu-west-1", &d);
    assert_int_equal(aws_client_run(c, NULL, NULL), 0);
    assert_int_equal(d.n_done, 1);
    assert_true(d.ok);
    assert_int_equal(d.attempts, 3);
    aws_client_stats(&st, c);
    assert_int_equal(st.calls, 3);
    assert_int_equal(st.retries, 2);
    assert_int_equal(st.throttles, 2);
    aws_client_free(c);
}

static void test_collector_engine_gives_up(void **state)
{
    struct fake f;
    struct http_transport t;
    struct done_rec d;
    (void)state;
    memset(&f, 0, sizeof(f));
    memset(&d, 0, sizeof(d));
    f.fail_first = 100;
    f.fail_status = 500;
    f.fail_body = "{\"__type\":\"InternalFailure\",\"message\":\"boom\"}";
    struct aws_client *c = new_client(&f, &t, 4);
    start_call(c, NULL, "a", &d);
    assert_int_equal(aws_client_run(c, NULL, NULL), 0);
    assert_int_equal(d.n_done, 1);
    assert_false(d.ok);
    assert_int_equal(d.attempts, 3);
    assert_int_equal(d.status, 500);
    assert_string_equal(d.code, "InternalFailure");
    aws_client_free(c);
}

static void test_collector_engine_not_retried(void **state)
{
    struct fake f;
    struct http_transport t;
    struct done_rec d;
    (void)state;
    memset(&f, 0, sizeof(f));
    memset(&d, 0, sizeof(d));
    f.fail_first = 100;
    f.fail_status = 400;
    f.fail_body = "{\"__type\":\"TrailNotFoundException\",\"message\":\"x\"}";
    struct aws_client *c = new_client(&f, &t, 4);
    start_call(c, NULL, "a", &d);
    assert_int_equal(aws_client_run(c, NULL, NULL), 0);
    assert_int_equal(d.attempts, 1);
    assert_string_equal(d.code, "TrailNotFoundException");
    aws_client_free(c);
}

static void test_collector_engine_concurrency_and_fairness(void **state)
{
    struct fake f;
    struct http_transport t;
    struct done_rec d[12];
    char params[12][32];
    (void)state;
    memset(&f, 0, sizeof(f));
    memset(d, 0, sizeof(d));
    struct aws_client *c = new_client(&f, &t, 2);
    /* ten calls in lane A first, then two in lane B */
    for (int i = 0; i < 12; i++) {
        snprintf(params[i], sizeof(params[i]), "{\"n\":%d}", i);
        start_call(c, params[i], i < 10 ? "A" : "B", &d[i]);
    }
    assert_int_equal(aws_client_run(c, NULL, NULL), 0);
    for (int i = 0; i < 12; i++)
        assert_int_equal(d[i].n_done, 1);
    assert_true(f.max_in_flight <= 2);
    /* lane B's first call goes out among the first two, not 11th */
    int b_pos = -1;
    for (int i = 0; i < 12; i++)
        if (strcmp(f.order[i], "{\"n\":10}") == 0)
            b_pos = i;
    assert_true(b_pos >= 0 && b_pos <= 1);
    aws_client_free(c);
}

static void test_collector_engine_request_shape(void **state)
{
    struct fake f;
    struct http_transport t;
    struct done_rec d;
    (void)state;
    memset(&f, 0, sizeof(f));
    memset(&d, 0, sizeof(d));
    struct aws_client *c = new_client(&f, &t, 1);
    start_call(c, "{\"includeShadowTrails\":true}", "a", &d);
    assert_int_equal(aws_client_run(c, NULL, NULL), 0);
    assert_string_equal(f.last.url, "http://127.0.0.1:1/");
    assert_string_equal(f.last.body, "{\"includeShadowTrails\":true}");
    const char *h = f.last.headers;
    assert_non_null(strstr(h, "Content-Type: application/x-amz-json-1.1\n"));
    assert_non_null(strstr(h,
                           "X-Amz-Target: com.amazonaws.cloudtrail."
                           "v20131101.CloudTrail_20131101.DescribeTrails\n"));
    assert_non_null(strstr(h, "Host: 127.0.0.1:1\n"));
    assert_non_null(strstr(h, "/eu-west-1/cloudtrail/aws4_request"));
    assert_null(strstr(h, sk));
    assert_int_equal(d.n_done, 1);
    aws_client_free(c);
}

static void test_collector_engine_endpoints(void **state)
{
    char host[128], region[32];
    (void)state;
    assert_int_equal(aws_endpoint(host, sizeof(host), region, sizeof(region),
                                  AWS_IAM, "eu-west-1", NULL),
                     0);
    assert_string_equal(host, "iam.amazonaws.com");
    assert_string_equal(region, "us-east-1");
    assert_int_equal(aws_endpoint(host, sizeof(host), region, sizeof(region),
                                  AWS_ORGANIZATIONS, "cn-north-1", NULL),
                     0);
    assert_string_equal(host, "organizations.cn-northwest-1.amazonaws.com.cn");
    assert_string_equal(region, "cn-northwest-1");
    assert_int_equal(aws_endpoint(host, sizeof(host), region, sizeof(region),
                                  AWS_IAM, "us-gov-east-1", NULL),
                     0);
    assert_string_equal(host, "iam.us-gov.amazonaws.com");
    assert_string_equal(region, "us-gov-west-1");
    assert_int_equal(aws_endpoint(host, sizeof(host), region, sizeof(region),
                                  AWS_STS, "eu-central-1", NULL),
                     0);
    assert_string_equal(host, "sts.eu-central-1.amazonaws.com");
    assert_int_equal(aws_endpoint(host, sizeof(host), region, sizeof(region),
                                  AWS_CLOUDTRAIL, "cn-north-1", NULL),
                     0);
    assert_string_equal(host, "cloudtrail.cn-north-1.amazonaws.com.cn");
}

static void test_collector_engine_parse_errors(void **state)
{
    char code[128], msg[512];
    (void)state;
    const char *j = "{\"__type\":\"com.amazonaws.cloudtrail#"
                    "ThrottlingException\",\"message\":\"Rate exceeded\"}";
    aws_parse_error(code, sizeof(code), msg, sizeof(msg), AWS_CLOUDTRAIL, j,
                    strlen(j));
    assert_string_equal(code, "ThrottlingException");
    assert_string_equal(msg, "Rate exceeded");
    const char *x = "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/"
                    "2011-06-15/\"><Error><Type>Sender</Type><Code>AccessDenied"
                    "</Code><Message>no</Message></Error></ErrorResponse>";
    aws_parse_error(code, sizeof(code), msg, sizeof(msg), AWS_STS, x,
                    strlen(x));
    assert_string_equal(code, "AccessDenied");
    assert_string_equal(msg, "no");
    const char *e =
        "<Response><Errors><Error><Code>RequestLimitExceeded"
        "</Code><Message>slow</Message></Error></Errors></Response>";
    aws_parse_error(code, sizeof(code), msg, sizeof(msg), AWS_EC2, e,
                    strlen(e));
    assert_string_equal(code, "RequestLimitExceeded");
    assert_true(aws_is_throttle(code));
    aws_parse_error(code, sizeof(code), msg, sizeof(msg), AWS_EC2, "junk", 4);
    assert_string_equal(code, "");
}

static void assert_json(const json_t *j, const char *want)
{
    json_t *w = json_loads(want, 0, NULL);
    assert_non_null(w);
    if (!json_equal(j, w)) {
        char *s = json_dumps(j, JSON_SORT_KEYS);
        print_error("got %s\n", s);
        free(s);
        fail();
    }
    json_decref(w);
}

static void test_collector_engine_xml_conversions(void **state)
{
    json_t *j = NULL;
    (void)state;
    const char *id =
        "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/"
        "2011-06-15/\"><GetCallerIdentityResult><Arn>arn:aws:iam::"
        "123456789012:user/Alice</Arn><UserId>AIDAEXAMPLE</UserId><Account>"
        "123456789012</Account></GetCallerIdentityResult>"
        "</GetCallerIdentityResponse>";
    assert_int_equal(awsxml_caller_identity(&j, id, strlen(id), NULL), 0);
    assert_json(j, "{\"UserId\":\"AIDAEXAMPLE\",\"Account\":\"123456789012\","
                   "\"Arn\":\"arn:aws:iam::123456789012:user/Alice\"}");
    json_decref(j);
    const char *al =
        "<ListAccountAliasesResponse><ListAccountAliasesResult><IsTruncated>"
        "false</IsTruncated><AccountAliases><member>foocorporation</member>"
        "</AccountAliases></ListAccountAliasesResult>"
        "</ListAccountAliasesResponse>";
    assert_int_equal(awsxml_account_aliases(&j, al, strlen(al), NULL), 0);
    assert_json(j, "{\"AccountAliases\":[\"foocorporation\"]}");
    json_decref(j);
    const char *rg =
        "<DescribeRegionsResponse xmlns=\"http://ec2.amazonaws.com/doc/"
        "2016-11-15/\"><requestId>r</requestId><regionInfo><item><regionName>"
        "eu-west-1</regionName><regionEndpoint>ec2.eu-west-1.amazonaws.com"
        "</regionEndpoint><optInStatus>opt-in-not-required</optInStatus>"
        "</item><item><regionName>af-south-1</regionName><regionEndpoint>"
        "ec2.af-south-1.amazonaws.com</regionEndpoint><optInStatus>opted-in"
        "</optInStatus></item></regionInfo></DescribeRegionsResponse>";
    assert_int_equal(awsxml_regions(&j, rg, strlen(rg), NULL), 0);
    assert_json(j, "{\"Regions\":[{\"RegionName\":\"eu-west-1\",\"Endpoint\":"
                   "\"ec2.eu-west-1.amazonaws.com\",\"OptInStatus\":"
                   "\"opt-in-not-required\"},{\"RegionName\":\"af-south-1\","
                   "\"Endpoint\":\"ec2.af-south-1.amazonaws.com\","
                   "\"OptInStatus\":\"opted-in\"}]}");
    json_decref(j);
    struct ct_error err = CT_ERROR_INIT;
    assert_int_equal(awsxml_regions(&j, "<x/>", 4, &err), CT_EPARSE);
    assert_int_equal(awsxml_caller_identity(&j, "", 0, NULL), CT_EPARSE);
}

static void test_collector_engine_assume_role(void **state)
{
    struct ct_credentials c = CT_CREDENTIALS_INIT;
    (void)state;
    const char *x =
        "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/"
        "\"><AssumeRoleResult><Credentials><SessionToken>TOKEN</SessionToken>"
        "<SecretAccessKey>SECRET</SecretAccessKey><Expiration>"
        "2019-11-09T13:34:41Z</Expiration><AccessKeyId>ASIAEXAMPLE"
        "</AccessKeyId></Credentials><AssumedRoleUser><Arn>arn:aws:sts::"
        "123456789012:assumed-role/demo/s</Arn><AssumedRoleId>AROA:s"
        "</AssumedRoleId></AssumedRoleUser></AssumeRoleResult>"
        "</AssumeRoleResponse>";
    assert_int_equal(awsxml_assume_role(&c, x, strlen(x), NULL), 0);
    assert_string_equal(c.access_key_id, "ASIAEXAMPLE");
    assert_string_equal(c.secret_access_key, "SECRET");
    assert_string_equal(c.session_token, "TOKEN");
    assert_int_equal((long long)c.expiration, 1573306481LL);
    ct_credentials_release(&c);
    assert_int_equal(awsxml_assume_role(&c, "<a/>", 4, NULL), CT_EPARSE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_collector_engine_retries_throttling),
        cmocka_unit_test(test_collector_engine_gives_up),
        cmocka_unit_test(test_collector_engine_not_retried),
        cmocka_unit_test(test_collector_engine_concurrency_and_fairness),
        cmocka_unit_test(test_collector_engine_request_shape),
        cmocka_unit_test(test_collector_engine_endpoints),
        cmocka_unit_test(test_collector_engine_parse_errors),
        cmocka_unit_test(test_collector_engine_xml_conversions),
        cmocka_unit_test(test_collector_engine_assume_role),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
