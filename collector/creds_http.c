/*
 * libcurl easy implementation of the credential chain's HTTP callback.
 * Bodies may hold secrets (tokens, keys): every buffer is wiped before it
 * is freed.
 */
#include "collector/creds_http.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#define CREDS_HTTP_MAX_BODY (1024 * 1024)

struct body_buf {
    char *data;
    size_t len, cap;
    int is_too_big;
};

static size_t on_write(char *ptr, size_t size, size_t n, void *ctx)
{
    struct body_buf *b = ctx;
    size_t add = size * n;
    if (b->len + add + 1 > CREDS_HTTP_MAX_BODY) {
        b->is_too_big = 1;
        return 0;
    }
    if (b->len + add + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + add + 1)
            cap *= 2;
        char *p = malloc(cap);
        if (!p)
            return 0;
        if (b->data) {
            memcpy(p, b->data, b->len);
            OPENSSL_cleanse(b->data, b->len);
            free(b->data);
        }
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, ptr, add);
    b->len += add;
    b->data[b->len] = '\0';
    return add;
}

int creds_http_curl(void *ctx, struct creds_http_response *out,
                    const struct creds_http_request *req, struct ct_error *err)
{
    (void)ctx;
    int rc = 0;
    struct body_buf b = {NULL, 0, 0, 0};
    struct curl_slist *hdrs = NULL;
    char errbuf[CURL_ERROR_SIZE] = "";
    long status = 0;
    CURL *h = curl_easy_init();
    if (!h)
        return ct_error_set(err, CT_ENOMEM, "cannot create a libcurl handle");
    for (size_t i = 0; i < req->n_headers; i++) {
        struct curl_slist *n = curl_slist_append(hdrs, req->headers[i]);
        if (!n) {
            rc = ct_error_set(err, CT_ENOMEM, "out of memory");
            goto done;
        }
        hdrs = n;
    }
    /* no "Expect: 100-continue" round trip for small bodies */
    struct curl_slist *n = curl_slist_append(hdrs, "Expect:");
    if (!n) {
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
        goto done;
    }
    hdrs = n;
    curl_easy_setopt(h, CURLOPT_URL, req->url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
#if CURL_AT_LEAST_VERSION(7, 85, 0)
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(h, CURLOPT_PROTOCOLS,
                     (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    if (strncasecmp(req->url, "http://", 7) == 0)
        curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    if (req->timeout_ms > 0) {
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, req->timeout_ms);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, req->timeout_ms);
    }
    if (req->body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)req->body_len);
    } else if (strcmp(req->method, "GET") != 0) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
    }
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    CURLcode cc = curl_easy_perform(h);
    if (b.is_too_big) {
        rc = ct_error_set(err, CT_ELIMIT, "answer larger than %d bytes",
                          CREDS_HTTP_MAX_BODY);
        goto done;
    }
    if (cc != CURLE_OK) {
        rc = ct_error_set(err, CT_EHTTP, "%s",
                          *errbuf ? errbuf : curl_easy_strerror(cc));
        goto done;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (!b.data) {
        b.data = calloc(1, 1);
        if (!b.data) {
            rc = ct_error_set(err, CT_ENOMEM, "out of memory");
            goto done;
        }
    }
    out->status = status;
    out->body = b.data;
    out->body_len = b.len;
    b.data = NULL;
done:
    if (b.data) {
        OPENSSL_cleanse(b.data, b.len);
        free(b.data);
    }
    /* header lines may carry a bearer or metadata token */
    for (struct curl_slist *h2 = hdrs; h2; h2 = h2->next)
        OPENSSL_cleanse(h2->data, strlen(h2->data));
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    return rc;
}
