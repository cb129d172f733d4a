/*
 * The AWS call layer of the collector: endpoints of the six services it
 * talks to, request serialization (AWS JSON 1.1 and the query protocol),
 * SigV4 signing, and one scheduler over an http_transport: a bounded number
 * of requests in flight, round-robin between lanes (one lane per account and
 * region, for fairness), retries with capped exponential backoff and full
 * jitter, and an adaptive per-endpoint slow-down while an endpoint throttles.
 *
 * Single-threaded: everything happens inside aws_client_run(), including the
 * done callbacks, which may start further calls.
 */
#ifndef CT_COLLECTOR_AWS_H
#define CT_COLLECTOR_AWS_H

#include <signal.h>
#include <stddef.h>

#include "collector/credentials.h"
#include "collector/http.h"
#include "core/error.h"

enum aws_service {
    AWS_STS = 0,
    AWS_IAM,
    AWS_EC2,
    AWS_CLOUDTRAIL,
    AWS_ORGANIZATIONS,
    AWS_CE /* Cost Explorer (--costs) */
};

/* Signing name of a service ("sts"...); borrowed, static. */
const char *aws_service_name(enum aws_service s);

/*
 * Endpoint of service for region (global services: iam, organizations, ce
 * use the partition's global endpoint and signing region). Writes the host
 * name and the signing region. CT_EINVAL for an unknown partition, and for
 * ce outside aws and aws-cn ("Cost Explorer is not available in partition
 * X").
 */
int aws_endpoint(char *host, size_t host_size, char *sign_region,
                 size_t region_size, enum aws_service s, const char *region,
                 struct ct_error *err);

/* Outcome of a call, after retries. Borrowed by the done callback; the
 * callback may take body (set it to NULL; free() it later). */
struct aws_result {
    int ok;           /* 1: HTTP 2xx */
    long http_status; /* 0 when no response arrived */
    int attempts;
    char *body; /* NUL-terminated response body; NULL if none */
    size_t body_len;
    char code[128];    /* AWS error code, or "RequestError" */
    char message[512]; /* AWS error message or transport error */
};

typedef void (*aws_done_fn)(void *ctx, struct aws_result *res);
/* A line for --verbose: never contains secrets, headers or bodies. */
typedef void (*aws_log_fn)(void *ctx, const char *line);
typedef void (*aws_tick_fn)(void *ctx);

struct aws_client_options {
    const char *endpoint_url; /* NULL: real AWS endpoints */
    int concurrency;          /* requests in flight, >= 1 */
    int max_attempts;         /* >= 1; 0 for the default (6) */
    int base_delay_ms;        /* backoff base; 0 for the default (100) */
    int max_delay_ms;         /* backoff cap; 0 for the default (10000) */
    struct http_transport *transport; /* NULL: libcurl; borrowed otherwise */
    aws_log_fn log;                   /* may be NULL */
    aws_tick_fn tick; /* called about 5 times a second; may be NULL */
    void *cb_ctx;
    volatile sig_atomic_t *stop; /* run() returns CT_EINVAL soon after *stop */
};

struct aws_stats {
    unsigned long calls; /* HTTP requests sent, retries included */
    unsigned long retries;
    unsigned long throttles; /* throttling answers seen */
    unsigned long failed;    /* calls that failed after retries */
};

struct aws_client;

/* Owned: free with aws_client_free. */
int aws_client_new(struct aws_client **out,
                   const struct aws_client_options *opt, struct ct_error *err);
void aws_client_free(struct aws_client *c);
void aws_client_stats(struct aws_stats *out, const struct aws_client *c);

struct aws_call_spec {
    enum aws_service service;
    const char *operation; /* "DescribeTrails" */
    const char *region;    /* region of the call (any region of the
                            * partition for global services) */
    const char *params;    /* JSON body, or "&K=V..." form fields (values
                            * already URL-encoded) for the query protocol;
                            * NULL for none */
    const struct ct_credentials *creds; /* borrowed until done runs */
    const char *lane; /* fairness key, copied ("<account>/<region>") */
    /* Called instead of done for a call that never completes because the
     * client is freed first (interrupted run), to release ctx; may be NULL. */
    void (*cancel)(void *ctx);
};

/* Queues a call. done(ctx, res) runs exactly once, from aws_client_run; if
 * the client is freed first, spec->cancel(ctx) runs instead. */
int aws_call_start(struct aws_client *c, const struct aws_call_spec *spec,
                   aws_done_fn done, void *ctx, struct ct_error *err);

/* Cancels every queued call (spec->cancel runs for each); calls in flight
 * go on and complete as usual. For an interrupted run: nothing new is sent. */
void aws_client_drain(struct aws_client *c);

/* Runs until no call is queued or in flight (until_flag NULL), or until
 * *until_flag becomes non-zero. */
int aws_client_run(struct aws_client *c, const int *until_flag,
                   struct ct_error *err);

/* URL-encodes s (RFC 3986 unreserved kept) into out. CT_ELIMIT if small. */
int aws_urlencode(char *out, size_t size, const char *s, struct ct_error *err);

/*
 * Parses an error body into code/message: JSON {"__type","message"} (json
 * services) or XML <Error><Code/><Message/></Error> (query services).
 * Leaves them empty when the body says nothing.
 */
void aws_parse_error(char *code, size_t code_size, char *message,
                     size_t msg_size, enum aws_service s, const char *body,
                     size_t len);

/* 1 if code is a throttling error code. */
int aws_is_throttle(const char *code);

#endif
