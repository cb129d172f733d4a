/*
 * AWS Signature Version 4 (header signing) for the non-S3 services the
 * collector calls. Pure: the request, credentials and time come in as
 * arguments; HMAC and SHA-256 come from OpenSSL.
 */
#include "collector/sigv4.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "collector/sigv4_internal.h"
#include "core/hash.h"

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"

/* Growable string; an allocation failure sticks and is checked once. */
struct sbuf {
    char *p;
    size_t len;
    size_t cap;
    int has_failed;
};

#define SBUF_INIT                                                              \
    {                                                                          \
        NULL, 0, 0, 0                                                          \
    }

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
    if (b->has_failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->has_failed = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_adds(struct sbuf *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

static void sb_addc(struct sbuf *b, char c)
{
    sb_add(b, &c, 1);
}

/* Hands the string over (owned by the caller), or NULL after a failure. */
static char *sb_take(struct sbuf *b)
{
    char *p = NULL;
    if (b->has_failed)
        free(b->p);
    else
        p = b->p ? b->p : calloc(1, 1);
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}

static void sb_release(struct sbuf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

static int is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
           c == '~';
}

/* RFC 3986 encoding of every byte outside the unreserved set. */
static void sb_add_encoded(struct sbuf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_unreserved(c)) {
            sb_addc(b, (char)c);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            sb_add(b, e, 3);
        }
    }
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * Decodes %XX sequences of s[0..n) into a new string (owned). A '%' that
 * does not start a valid sequence stays literal; '+' stays '+' (callers
 * encode spaces as %20, as the AWS SDKs do).
 */
static char *percent_decode(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n) {
            int hi = hex_value(s[i + 1]);
            int lo = hex_value(s[i + 2]);
            if (hi >= 0 && lo >= 0) {
                out[j++] = (char)(hi * 16 + lo);
                i += 2;
                continue;
            }
        }
        out[j++] = s[i];
    }
    out[j] = '\0';
    return out;
}

/*
 * Canonical URI for non-S3 services: remove empty and dot segments (keeping
 * a trailing slash), then encode each segment. The path arrives encoded as
 * sent, so an existing %XX becomes %25XX: AWS specifies this double
 * encoding for every service except S3.
 */
static int canonical_uri(struct sbuf *b, const char *path)
{
    if (!path || !*path) {
        sb_addc(b, '/');
        return 0;
    }
    size_t n = strlen(path);
    /* at most n/2+1 segments; each is (start, length) */
    size_t max_segs = n / 2 + 2, n_segs = 0;
    size_t *start = malloc(max_segs * sizeof(*start));
    size_t *len = malloc(max_segs * sizeof(*len));
    if (!start || !len) {
        free(start);
        free(len);
        return CT_ENOMEM;
    }
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && path[j] != '/')
            j++;
        size_t seg = j - i;
        if (seg == 0 || (seg == 1 && path[i] == '.')) {
            /* empty or "." segment: dropped */
        } else if (seg == 2 && path[i] == '.' && path[i + 1] == '.') {
            if (n_segs > 0)
                n_segs--;
        } else {
            start[n_segs] = i;
            len[n_segs] = seg;
            n_segs++;
        }
        i = j + 1;
    }
    sb_addc(b, '/');
    for (size_t k = 0; k < n_segs; k++) {
        if (k > 0)
            sb_addc(b, '/');
        sb_add_encoded(b, path + start[k], len[k]);
    }
    if (n_segs > 0 && path[n - 1] == '/')
        sb_addc(b, '/');
    free(start);
    free(len);
    return 0;
}

struct query_param {
    char *name;  /* encoded */
    char *value; /* encoded */
};

static int query_param_cmp(const void *a, const void *b)
{
    const struct query_param *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->value, y->value);
}

/* Decodes and re-encodes one name or value into a new string. */
static char *reencode(const char *s, size_t n)
{
    struct sbuf b = SBUF_INIT;
    char *raw = percent_decode(s, n);
    if (!raw)
        return NULL;
    sb_add_encoded(&b, raw, strlen(raw));
    free(raw);
    return sb_take(&b);
}

/* Canonical query string: parameters re-encoded, sorted by name, value. */
static int canonical_query(struct sbuf *b, const char *query)
{
    int rc = 0;
    struct query_param *params = NULL;
    size_t n_params = 0;
    if (!query || !*query)
        return 0;
    size_t n = strlen(query), max_params = 1;
    for (size_t i = 0; i < n; i++)
        max_params += query[i] == '&';
    params = calloc(max_params, sizeof(*params));
    if (!params)
        return CT_ENOMEM;
    size_t i = 0;
    while (i <= n) {
        size_t j = i;
        while (j < n && query[j] != '&')
            j++;
        if (j > i) {
            size_t eq = i;
            while (eq < j && query[eq] != '=')
                eq++;
            struct query_param *p = &params[n_params++];
            p->name = reencode(query + i, eq - i);
            p->value =
                eq < j ? reencode(query + eq + 1, j - eq - 1) : reencode("", 0);
            if (!p->name || !p->value) {
                rc = CT_ENOMEM;
                goto done;
            }
        }
        i = j + 1;
    }
    qsort(params, n_params, sizeof(*params), query_param_cmp);
    for (size_t k = 0; k < n_params; k++) {
        if (k > 0)
            sb_addc(b, '&');
        sb_adds(b, params[k].name);
        sb_addc(b, '=');
        sb_adds(b, params[k].value);
    }
done:
    for (size_t k = 0; k < n_params; k++) {
        free(params[k].name);
        free(params[k].value);
    }
    free(params);
    return rc;
}

struct canon_header {
    char *name;  /* lowercase, trimmed; owned */
    char *value; /* trimmed, spaces collapsed; owned */
    size_t order;
};

static int canon_header_cmp(const void *a, const void *b)
{
    const struct canon_header *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* Lowercased, trimmed copy of a header name (owned), NULL on OOM. */
static char *header_name(const char *s)
{
    while (is_space(*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && is_space(s[n - 1]))
        n--;
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        out[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    out[n] = '\0';
    return out;
}

/* Trimmed copy with runs of spaces collapsed to one (owned). */
static char *header_value(const char *s)
{
    size_t n = strlen(s), j = 0;
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    int pending_space = 0;
    for (size_t i = 0; i < n; i++) {
        if (is_space(s[i])) {
            pending_space = j > 0;
            continue;
        }
        if (pending_space)
            out[j++] = ' ';
        pending_space = 0;
        out[j++] = s[i];
    }
    out[j] = '\0';
    return out;
}

static int is_reserved_header(const char *lname)
{
    static const char *const reserved[] = {
        "host", "x-amz-date", "x-amz-security-token", "authorization"};
    for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
        if (strcmp(lname, reserved[i]) == 0)
            return 1;
    return 0;
}

static int has_newline(const char *s)
{
    return strchr(s, '\r') != NULL || strchr(s, '\n') != NULL;
}

/*
 * Appends the canonical header block (each "name:value\n") to b and the
 * signed header list to sh.
 */
static int canonical_headers(struct sbuf *b, struct sbuf *sh,
                             const struct sigv4_request *req,
                             const char *amz_date, const char *token,
                             struct ct_error *err)
{
    int rc = 0;
    size_t n = req->n_headers + 3, n_used = 0;
    struct canon_header *h = calloc(n, sizeof(*h));
    if (!h)
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    for (size_t i = 0; i < req->n_headers; i++) {
        const struct sigv4_header *in = &req->headers[i];
        if (!in->name || !in->value || has_newline(in->name) ||
            has_newline(in->value)) {
            rc = ct_error_set(err, CT_EINVAL,
                              "sigv4: header %zu is NULL or has a line break",
                              i);
            goto done;
        }
        h[n_used].name = header_name(in->name);
        h[n_used].value = header_value(in->value);
        h[n_used].order = n_used;
        n_used++;
        if (!h[n_used - 1].name || !h[n_used - 1].value) {
            rc = ct_error_set(err, CT_ENOMEM, "out of memory");
            goto done;
        }
        if (h[n_used - 1].name[0] == '\0') {
            rc = ct_error_set(err, CT_EINVAL, "sigv4: empty header name");
            goto done;
        }
        if (is_reserved_header(h[n_used - 1].name)) {
            rc = ct_error_set(err, CT_EINVAL,
                              "sigv4: header '%s' is set by the signer",
                              h[n_used - 1].name);
            goto done;
        }
    }
    const char *own[3][2] = {{"host", req->host},
                             {"x-amz-date", amz_date},
                             {"x-amz-security-token", token}};
    for (size_t i = 0; i < 3; i++) {
        if (!own[i][1])
            continue;
        h[n_used].name = header_name(own[i][0]);
        h[n_used].value = header_value(own[i][1]);
        h[n_used].order = n_used;
        n_used++;
        if (!h[n_used - 1].name || !h[n_used - 1].value) {
            rc = ct_error_set(err, CT_ENOMEM, "out of memory");
            goto done;
        }
    }
    qsort(h, n_used, sizeof(*h), canon_header_cmp);
    for (size_t i = 0; i < n_used; i++) {
        int same = i > 0 && strcmp(h[i].name, h[i - 1].name) == 0;
        if (same) {
            /* duplicate header: values joined in request order */
            if (!b->has_failed)
                b->len--; /* drop the previous "\n" */
            sb_addc(b, ',');
        } else {
            if (i > 0)
                sb_addc(sh, ';');
            sb_adds(sh, h[i].name);
            sb_adds(b, h[i].name);
            sb_addc(b, ':');
        }
        sb_adds(b, h[i].value);
        sb_addc(b, '\n');
    }
done:
    for (size_t i = 0; i < n; i++) {
        free(h[i].name);
        free(h[i].value);
    }
    free(h);
    return rc;
}

static void to_hex(char *out, const unsigned char *in, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static int hmac(unsigned char out[32], const void *key, size_t key_len,
                const char *data)
{
    unsigned int out_len = 0;
    if (!HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)data,
              strlen(data), out, &out_len) ||
        out_len != 32)
        return -1;
    return 0;
}

/* kSigning = HMAC chain over date, region, service; then the signature. */
static int compute_signature(char out[65], const char *secret,
                             const char *date8, const char *region,
                             const char *service, const char *sts,
                             struct ct_error *err)
{
    int rc = 0;
    unsigned char k1[32], k2[32], sig[32];
    size_t secret_len = strlen(secret);
    char *key0 = malloc(secret_len + 5);
    if (!key0)
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    memcpy(key0, "AWS4", 4);
    memcpy(key0 + 4, secret, secret_len + 1);
    if (hmac(k1, key0, secret_len + 4, date8) || hmac(k2, k1, 32, region) ||
        hmac(k1, k2, 32, service) || hmac(k2, k1, 32, "aws4_request") ||
        hmac(sig, k2, 32, sts)) {
        rc = ct_error_set(err, CT_EINVAL, "sigv4: HMAC-SHA256 failed");
        goto done;
    }
    to_hex(out, sig, 32);
done:
    OPENSSL_cleanse(key0, secret_len + 5);
    free(key0);
    OPENSSL_cleanse(k1, sizeof(k1));
    OPENSSL_cleanse(k2, sizeof(k2));
    OPENSSL_cleanse(sig, sizeof(sig));
    return rc;
}

static int is_token(const char *s)
{
    /* region and service go into the scope: keep them to a safe set */
    if (!s || !*s)
        return 0;
    for (; *s; s++)
        if (!is_unreserved((unsigned char)*s))
            return 0;
    return 1;
}

int sigv4_compute(struct sigv4_steps *out, const struct sigv4_request *req,
                  const struct ct_credentials *creds, const char *region,
                  const char *service, time_t now, struct ct_error *err)
{
    int rc = 0;
    struct sigv4_steps s = SIGV4_STEPS_INIT;
    struct sbuf creq = SBUF_INIT, sh = SBUF_INIT, sts = SBUF_INIT,
                scope = SBUF_INIT;
    char creq_hash[CT_SHA256_HEX_LEN + 1];
    struct tm tm;

    if (!req || !req->method || !*req->method || !req->host || !*req->host ||
        has_newline(req->host) || (req->body_len > 0 && !req->body)) {
        rc = ct_error_set(err, CT_EINVAL, "sigv4: incomplete request");
        goto done;
    }
    if (!creds || !creds->access_key_id || !*creds->access_key_id ||
        !creds->secret_access_key || !*creds->secret_access_key) {
        rc = ct_error_set(err, CT_EAUTH, "sigv4: no credentials to sign with");
        goto done;
    }
    if (!is_token(region) || !is_token(service)) {
        rc = ct_error_set(err, CT_EINVAL, "sigv4: invalid region or service");
        goto done;
    }
    const char *token = creds->session_token && *creds->session_token
                            ? creds->session_token
                            : NULL;
    if (token && has_newline(token)) {
        rc = ct_error_set(err, CT_EINVAL,
                          "sigv4: session token has a line break");
        goto done;
    }
    if (!gmtime_r(&now, &tm) || tm.tm_year + 1900 < 1970 ||
        tm.tm_year + 1900 > 9999) {
        rc = ct_error_set(err, CT_EINVAL, "sigv4: time out of range");
        goto done;
    }
    if (strftime(s.amz_date, sizeof(s.amz_date), "%Y%m%dT%H%M%SZ", &tm) != 16) {
        rc = ct_error_set(err, CT_EINVAL, "sigv4: time out of range");
        goto done;
    }
    rc = ct_sha256_hex(s.content_sha256, req->body ? req->body : "",
                       req->body_len, err);
    if (rc)
        goto done;

    sb_adds(&creq, req->method);
    sb_addc(&creq, '\n');
    rc = canonical_uri(&creq, req->path);
    if (rc == 0) {
        sb_addc(&creq, '\n');
        rc = canonical_query(&creq, req->query);
    }
    if (rc) {
        rc = ct_error_set(err, rc, "out of memory");
        goto done;
    }
    sb_addc(&creq, '\n');
    rc = canonical_headers(&creq, &sh, req, s.amz_date, token, err);
    if (rc)
        goto done;
    sb_addc(&creq, '\n');
    sb_add(&creq, sh.p ? sh.p : "", sh.len);
    sb_addc(&creq, '\n');
    sb_adds(&creq, s.content_sha256);

    sb_add(&scope, s.amz_date, 8);
    sb_addc(&scope, '/');
    sb_adds(&scope, region);
    sb_addc(&scope, '/');
    sb_adds(&scope, service);
    sb_adds(&scope, "/aws4_request");
    if (creq.has_failed || sh.has_failed || scope.has_failed) {
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
        goto done;
    }

    rc = ct_sha256_hex(creq_hash, creq.p, creq.len, err);
    if (rc)
        goto done;
    sb_adds(&sts, SIGV4_ALGORITHM "\n");
    sb_adds(&sts, s.amz_date);
    sb_addc(&sts, '\n');
    sb_adds(&sts, scope.p);
    sb_addc(&sts, '\n');
    sb_adds(&sts, creq_hash);
    if (sts.has_failed) {
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
        goto done;
    }
    char date8[9];
    memcpy(date8, s.amz_date, 8);
    date8[8] = '\0';
    rc = compute_signature(s.signature, creds->secret_access_key, date8, region,
                           service, sts.p, err);
    if (rc)
        goto done;

    s.canonical_request = sb_take(&creq);
    s.signed_headers = sb_take(&sh);
    s.scope = sb_take(&scope);
    s.string_to_sign = sb_take(&sts);
    if (!s.canonical_request || !s.signed_headers || !s.scope ||
        !s.string_to_sign) {
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
        goto done;
    }
    *out = s;
    s = (struct sigv4_steps)SIGV4_STEPS_INIT;
done:
    sigv4_steps_release(&s);
    sb_release(&creq);
    sb_release(&sh);
    sb_release(&sts);
    sb_release(&scope);
    return rc;
}

void sigv4_steps_release(struct sigv4_steps *s)
{
    if (!s)
        return;
    free(s->canonical_request);
    free(s->signed_headers);
    free(s->scope);
    free(s->string_to_sign);
    OPENSSL_cleanse(s, sizeof(*s));
}

int sigv4_sign(struct sigv4_signed *out, const struct sigv4_request *req,
               const struct ct_credentials *creds, const char *region,
               const char *service, time_t now, struct ct_error *err)
{
    struct sigv4_steps s = SIGV4_STEPS_INIT;
    struct sigv4_signed r = SIGV4_SIGNED_INIT;
    int rc = sigv4_compute(&s, req, creds, region, service, now, err);
    if (rc)
        goto done;
    int n = snprintf(
        r.authorization, sizeof(r.authorization),
        SIGV4_ALGORITHM " Credential=%s/%s, SignedHeaders=%s, Signature=%s",
        creds->access_key_id, s.scope, s.signed_headers, s.signature);
    if (n < 0 || (size_t)n >= sizeof(r.authorization)) {
        rc = ct_error_set(err, CT_ELIMIT,
                          "sigv4: Authorization header longer than %zu bytes",
                          sizeof(r.authorization) - 1);
        goto done;
    }
    memcpy(r.amz_date, s.amz_date, sizeof(r.amz_date));
    memcpy(r.content_sha256, s.content_sha256, sizeof(r.content_sha256));
    *out = r;
done:
    sigv4_steps_release(&s);
    OPENSSL_cleanse(&r, sizeof(r));
    return rc;
}

void sigv4_signed_release(struct sigv4_signed *out)
{
    if (out)
        OPENSSL_cleanse(out, sizeof(*out));
}
