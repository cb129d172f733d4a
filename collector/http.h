/*
 * The collector's HTTP transport behind a small function-pointer interface,
 * so that tests and benchmarks can substitute it. The real implementation is
 * one libcurl multi handle: many transfers in flight, connections reused
 * (keep-alive), completions delivered from http_transport.run().
 */
#ifndef CT_COLLECTOR_HTTP_H
#define CT_COLLECTOR_HTTP_H

#include <stddef.h>

#include "core/error.h"

/* A request. Everything is borrowed for the duration of start(): the
 * transport copies what it keeps. */
struct http_request {
    const char *method;         /* "POST" */
    const char *url;            /* "https://host/path" */
    const char *const *headers; /* "Name: value" lines */
    size_t n_headers;
    const char *body;
    size_t body_len;
    long timeout_ms; /* whole transfer; 0 for the default */
};

enum http_failure {
    HTTP_OK = 0,     /* a response arrived (any status) */
    HTTP_ERETRYABLE, /* reset, timeout, refused, empty reply... */
    HTTP_EFATAL      /* bad URL, TLS verification, out of memory... */
};

/* A completed transfer. Borrowed by the done callback: valid only during the
 * call (the callback copies or steals body by setting it to NULL). */
struct http_response {
    enum http_failure failure;
    long status; /* HTTP status; 0 when failure != HTTP_OK */
    char *body;  /* NUL-terminated, owned by the transport */
    size_t body_len;
    char error[256]; /* transport error text (never request data) */
};

typedef void (*http_done_fn)(void *ctx, struct http_response *resp);

struct http_transport {
    void *impl;
    /* Starts a transfer; done(ctx, resp) runs later from run(), exactly once
     * (unless start fails). */
    int (*start)(void *impl, const struct http_request *req, http_done_fn done,
                 void *ctx, struct ct_error *err);
    /* Waits at most timeout_ms for activity and delivers completions. */
    int (*run)(void *impl, int timeout_ms, struct ct_error *err);
    /* Transfers started and not yet delivered. */
    size_t (*in_flight)(void *impl);
    /* Frees the transport; transfers still in flight are dropped without
     * their callbacks. Accepts NULL impl. */
    void (*free)(void *impl);
};

/* libcurl multi implementation; max_connections bounds open connections.
 * Fills out (release with out->free(out->impl)). */
int http_curl_new(struct http_transport *out, long max_connections,
                  struct ct_error *err);

#endif
