/*
 * The libcurl multi transport: one multi handle, one easy handle per
 * transfer, connection reuse through the multi handle's connection cache.
 */
#include "collector/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

struct xfer {
    CURL *easy;
    struct curl_slist *headers;
    char *body_copy;
    char *buf;
    size_t len, cap;
    http_done_fn done;
    void *ctx;
    struct xfer *prev, *next; /* in curl_impl.xfers */
};

struct curl_impl {
    CURLM *multi;
    size_t n_in_flight;
    struct xfer *xfers; /* in flight */
};

static void xfer_unlink(struct curl_impl *c, struct xfer *x)
{
    if (x->prev)
        x->prev->next = x->next;
    else
        c->xfers = x->next;
    if (x->next)
        x->next->prev = x->prev;
    x->prev = x->next = NULL;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *user)
{
    struct xfer *x = user;
    size_t n = size * nmemb;
    if (x->len + n + 1 > x->cap) {
        size_t cap = x->cap ? x->cap : 4096;
        while (cap < x->len + n + 1)
            cap *= 2;
        char *p = realloc(x->buf, cap);
        if (!p)
            return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
        x->buf = p;
        x->cap = cap;
    }
    memcpy(x->buf + x->len, data, n);
    x->len += n;
    x->buf[x->len] = '\0';
    return n;
}

static void xfer_free(struct xfer *x)
{
    if (!x)
        return;
    if (x->easy)
        curl_easy_cleanup(x->easy);
    curl_slist_free_all(x->headers);
    free(x->body_copy);
    free(x->buf);
    free(x);
}

static int curl_start(void *impl, const struct http_request *req,
                      http_done_fn done, void *ctx, struct ct_error *err)
{
    struct curl_impl *c = impl;
    struct xfer *x = calloc(1, sizeof(*x));
    int rc = 0;

    if (!x)
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    x->done = done;
    x->ctx = ctx;
    x->easy = curl_easy_init();
    x->body_copy = malloc(req->body_len + 1);
    if (!x->easy || !x->body_copy) {
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
        goto done;
    }
    if (req->body_len)
        memcpy(x->body_copy, req->body, req->body_len);
    x->body_copy[req->body_len] = '\0';
    for (size_t i = 0; i < req->n_headers; i++) {
        struct curl_slist *l = curl_slist_append(x->headers, req->headers[i]);
        if (!l) {
            rc = ct_error_set(err, CT_ENOMEM, "out of memory");
            goto done;
        }
        x->headers = l;
    }
    /* no "Expect: 100-continue" round trip; we sign what we send */
    struct curl_slist *l = curl_slist_append(x->headers, "Expect:");
    if (!l) {
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
        goto done;
    }
    x->headers = l;

    curl_easy_setopt(x->easy, CURLOPT_URL, req->url);
    curl_easy_setopt(x->easy, CURLOPT_CUSTOMREQUEST, req->method);
    curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, x->body_copy);
    curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE_LARGE,
                     (curl_off_t)req->body_len);
    curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->headers);
    curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
    curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(x->easy, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS,
                     req->timeout_ms > 0 ? req->timeout_ms : 60000L);
    curl_easy_setopt(x->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(x->easy, CURLOPT_USERAGENT, "ctcollect/0.1.0");
    curl_easy_setopt(x->easy, CURLOPT_ACCEPT_ENCODING, "");
    if (curl_multi_add_handle(c->multi, x->easy) != CURLM_OK) {
        rc = ct_error_set(err, CT_EHTTP, "cannot start transfer");
        goto done;
    }
    c->n_in_flight++;
    x->next = c->xfers;
    if (c->xfers)
        c->xfers->prev = x;
    c->xfers = x;
    x = NULL;
done:
    xfer_free(x);
    return rc;
}

static enum http_failure classify(CURLcode code)
{
    switch (code) {
    case CURLE_OK:
        return HTTP_OK;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
        return HTTP_ERETRYABLE;
    default:
        return HTTP_EFATAL;
    }
}

static int curl_run(void *impl, int timeout_ms, struct ct_error *err)
{
    struct curl_impl *c = impl;
    int running = 0, n_msgs = 0;
    CURLMsg *msg;

    if (curl_multi_perform(c->multi, &running) != CURLM_OK)
        return ct_error_set(err, CT_EHTTP, "curl_multi_perform failed");
    if (c->n_in_flight > 0 && running > 0) {
        if (curl_multi_poll(c->multi, NULL, 0, timeout_ms, NULL) != CURLM_OK)
            return ct_error_set(err, CT_EHTTP, "curl_multi_poll failed");
        if (curl_multi_perform(c->multi, &running) != CURLM_OK)
            return ct_error_set(err, CT_EHTTP, "curl_multi_perform failed");
    }
    while ((msg = curl_multi_info_read(c->multi, &n_msgs)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct xfer *x = NULL;
        CURLcode code = msg->data.result;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        curl_multi_remove_handle(c->multi, msg->easy_handle);
        c->n_in_flight--;
        xfer_unlink(c, x);
        struct http_response resp;
        memset(&resp, 0, sizeof(resp));
        resp.failure = classify(code);
        if (resp.failure == HTTP_OK) {
            curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &resp.status);
            if (!x->buf) {
                x->buf = calloc(1, 1);
                if (!x->buf) {
                    resp.failure = HTTP_EFATAL;
                    snprintf(resp.error, sizeof(resp.error), "out of memory");
                }
            }
            resp.body = x->buf;
            resp.body_len = x->len;
        } else {
            /* curl_easy_strerror never contains request data */
            snprintf(resp.error, sizeof(resp.error), "%s",
                     curl_easy_strerror(code));
        }
        /* a failed transfer hands no body over: what a cut answer left
         * in x->buf is still ours */
        int has_body = resp.body != NULL;
        x->done(x->ctx, &resp);
        if (has_body && !resp.body)
            x->buf = NULL; /* stolen by the callback */
        xfer_free(x);
    }
    return 0;
}

static size_t curl_in_flight(void *impl)
{
    return ((struct curl_impl *)impl)->n_in_flight;
}

static void curl_free_impl(void *impl)
{
    struct curl_impl *c = impl;
    if (!c)
        return;
    while (c->xfers) {
        struct xfer *x = c->xfers;
        xfer_unlink(c, x);
        curl_multi_remove_handle(c->multi, x->easy);
        xfer_free(x);
    }
    if (c->multi)
        curl_multi_cleanup(c->multi);
    free(c);
}

int http_curl_new(struct http_transport *out, long max_connections,
                  struct ct_error *err)
{
    struct curl_impl *c = calloc(1, sizeof(*c));
    if (!c)
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    c->multi = curl_multi_init();
    if (!c->multi) {
        free(c);
        return ct_error_set(err, CT_ENOMEM, "cannot create curl multi handle");
    }
    curl_multi_setopt(c->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
                      max_connections);
    curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, max_connections);
    curl_multi_setopt(c->multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
    out->impl = c;
    out->start = curl_start;
    out->run = curl_run;
    out->in_flight = curl_in_flight;
    out->free = curl_free_impl;
    return 0;
}
