/*
 * TEMPORARY stand-in for collector/sigv4.c and collector/credentials.c
 * (branch auth), so that the engine builds and is tested before those land.
 * Environment credentials only, and a plain SigV4 header signer. Built only
 * when auth.cmake lists no sources (see engine.cmake); delete on merge.
 */
#include "collector/credentials.h"
#include "collector/sigv4.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

void ct_credentials_release(struct ct_credentials *c)
{
    if (!c)
        return;
    char *fields[] = {c->access_key_id, c->secret_access_key,
                      c->session_token};
    for (size_t i = 0; i < 3; i++)
        if (fields[i]) {
            OPENSSL_cleanse(fields[i], strlen(fields[i]));
            free(fields[i]);
        }
    c->access_key_id = c->secret_access_key = c->session_token = NULL;
    c->expiration = 0;
    c->provider = NULL;
}

int ct_credentials_copy(struct ct_credentials *out,
                        const struct ct_credentials *src, struct ct_error *err)
{
    struct ct_credentials c = CT_CREDENTIALS_INIT;
    c.access_key_id = dup_or_null(src->access_key_id);
    c.secret_access_key = dup_or_null(src->secret_access_key);
    c.session_token = dup_or_null(src->session_token);
    c.expiration = src->expiration;
    c.provider = src->provider;
    if ((src->access_key_id && !c.access_key_id)
        || (src->secret_access_key && !c.secret_access_key)
        || (src->session_token && !c.session_token)) {
        ct_credentials_release(&c);
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    }
    *out = c;
    return 0;
}

int creds_resolve(struct creds_result *out, const struct creds_options *opt,
                  struct ct_error *err)
{
    (void)opt;
    const char *ak = getenv("AWS_ACCESS_KEY_ID");
    const char *sk = getenv("AWS_SECRET_ACCESS_KEY");
    const char *tok = getenv("AWS_SESSION_TOKEN");
    if (!ak || !*ak || !sk || !*sk)
        return ct_error_set(err, CT_EAUTH,
                            "no credentials (temporary stub: environment "
                            "variables only)");
    struct ct_credentials src = {(char *)ak, (char *)sk,
                                 (char *)(tok && *tok ? tok : NULL), 0,
                                 "environment"};
    struct creds_result r = CREDS_RESULT_INIT;
    int rc = ct_credentials_copy(&r.creds, &src, err);
    if (rc)
        return rc;
    r.creds.provider = "environment";
    *out = r;
    return 0;
}

void creds_result_release(struct creds_result *r)
{
    if (!r)
        return;
    ct_credentials_release(&r->creds);
    free(r->region);
    free(r->profile);
    r->region = r->profile = NULL;
}

const char *creds_default_region(const char *cli, const char *profile_region)
{
    const char *v;
    if (cli && *cli)
        return cli;
    v = getenv("AWS_REGION");
    if (v && *v)
        return v;
    v = getenv("AWS_DEFAULT_REGION");
    if (v && *v)
        return v;
    return profile_region;
}

static void hex_encode(char *out, const unsigned char *in, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static void sha256_hex(char out[65], const void *data, size_t len)
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(data, len, md);
    hex_encode(out, md, sizeof(md));
}

static void hmac(unsigned char out[32], const void *key, size_t key_len,
                 const char *msg)
{
    unsigned int n = 32;
    HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)msg,
         strlen(msg), out, &n);
}

struct hdr {
    char name[64];
    const char *value;
};

static int hdr_cmp(const void *a, const void *b)
{
    return strcmp(((const struct hdr *)a)->name, ((const struct hdr *)b)->name);
}

int sigv4_sign(struct sigv4_signed *out, const struct sigv4_request *req,
               const struct ct_credentials *creds, const char *region,
               const char *service, time_t now, struct ct_error *err)
{
    struct hdr h[16];
    size_t n = 0;
    char date[9], body_hash[65], creq_hash[65], sig_hex[65];
    char *creq = NULL, *sts = NULL, *key = NULL;
    unsigned char k[32];
    struct tm tm;
    int rc = 0;
    size_t cap = 4096 + req->body_len;
    struct sigv4_signed s = SIGV4_SIGNED_INIT;

    if (req->n_headers + 3 > sizeof(h) / sizeof(h[0]))
        return ct_error_set(err, CT_EINVAL, "too many headers to sign");
    gmtime_r(&now, &tm);
    strftime(s.amz_date, sizeof(s.amz_date), "%Y%m%dT%H%M%SZ", &tm);
    strftime(date, sizeof(date), "%Y%m%d", &tm);
    snprintf(h[n].name, sizeof(h[n].name), "host");
    h[n++].value = req->host;
    snprintf(h[n].name, sizeof(h[n].name), "x-amz-date");
    h[n++].value = s.amz_date;
    if (creds->session_token) {
        snprintf(h[n].name, sizeof(h[n].name), "x-amz-security-token");
        h[n++].value = creds->session_token;
    }
    for (size_t i = 0; i < req->n_headers; i++, n++) {
        size_t j = 0;
        for (; req->headers[i].name[j] && j < sizeof(h[n].name) - 1; j++) {
            char c = req->headers[i].name[j];
            h[n].name[j] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
        h[n].name[j] = '\0';
        h[n].value = req->headers[i].value;
    }
    qsort(h, n, sizeof(h[0]), hdr_cmp);
    sha256_hex(body_hash, req->body ? req->body : "", req->body_len);
    memcpy(s.content_sha256, body_hash, sizeof(body_hash));

    creq = malloc(cap);
    sts = malloc(1024);
    if (!creq || !sts) {
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
        goto done;
    }
    size_t off = (size_t)snprintf(creq, cap, "%s\n%s\n%s\n", req->method,
                                  req->path, req->query ? req->query : "");
    for (size_t i = 0; i < n && off < cap; i++)
        off += (size_t)snprintf(creq + off, cap - off, "%s:%s\n", h[i].name,
                                h[i].value);
    char signed_headers[256];
    size_t so = 0;
    signed_headers[0] = '\0';
    for (size_t i = 0; i < n && so < sizeof(signed_headers); i++)
        so += (size_t)snprintf(signed_headers + so, sizeof(signed_headers) - so,
                               "%s%s", i ? ";" : "", h[i].name);
    if (off < cap)
        off += (size_t)snprintf(creq + off, cap - off, "\n%s\n%s",
                                signed_headers, body_hash);
    if (off >= cap || so >= sizeof(signed_headers)) {
        rc = ct_error_set(err, CT_ELIMIT, "request too large to sign");
        goto done;
    }
    sha256_hex(creq_hash, creq, off);
    snprintf(sts, 1024, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s",
             s.amz_date, date, region, service, creq_hash);

    size_t klen = strlen(creds->secret_access_key) + 5;
    key = malloc(klen);
    if (!key) {
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
        goto done;
    }
    snprintf(key, klen, "AWS4%s", creds->secret_access_key);
    hmac(k, key, klen - 1, date);
    hmac(k, k, 32, region);
    hmac(k, k, 32, service);
    hmac(k, k, 32, "aws4_request");
    hmac(k, k, 32, sts);
    hex_encode(sig_hex, k, 32);
    snprintf(s.authorization, sizeof(s.authorization),
             "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, "
             "SignedHeaders=%s, Signature=%s",
             creds->access_key_id, date, region, service, signed_headers,
             sig_hex);
    *out = s;
done:
    OPENSSL_cleanse(k, sizeof(k));
    if (key) {
        OPENSSL_cleanse(key, strlen(key));
        free(key);
    }
    free(creq);
    free(sts);
    return rc;
}

void sigv4_signed_release(struct sigv4_signed *out)
{
    if (out)
        OPENSSL_cleanse(out, sizeof(*out));
}
