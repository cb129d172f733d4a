/*
 * AWS Signature Version 4 as a pure function: (request, credentials, time)
 * -> headers to add. No I/O, no clock, no globals. Implemented over
 * OpenSSL's HMAC/SHA-256 and tested against the official test suites.
 */
#ifndef CT_COLLECTOR_SIGV4_H
#define CT_COLLECTOR_SIGV4_H

#include <stddef.h>
#include <time.h>

#include "collector/credentials.h"
#include "core/error.h"

struct sigv4_header {
    const char *name;  /* any case; signed lowercased and trimmed */
    const char *value;
};

struct sigv4_request {
    const char *method;  /* "GET", "POST" */
    const char *host;    /* as sent in Host, e.g. "cloudtrail.us-east-1.amazonaws.com" or "127.0.0.1:5000" */
    const char *path;    /* as sent on the request line, e.g. "/" */
    const char *query;   /* as sent after '?', without it; NULL or "" for none */
    const struct sigv4_header *headers; /* extra headers to sign (Content-Type, X-Amz-Target...) */
    size_t n_headers;
    const void *body;
    size_t body_len;
};

/* Headers to add to the request. Owned by the struct; release with
 * sigv4_signed_release. security_token is "" when no session token. */
struct sigv4_signed {
    char amz_date[17];        /* X-Amz-Date: 20150830T123600Z */
    char authorization[1024]; /* Authorization: AWS4-HMAC-SHA256 Credential=... */
    char content_sha256[65];  /* hex SHA-256 of the body (X-Amz-Content-Sha256 is not sent for these services) */
};

#define SIGV4_SIGNED_INIT {{0}, {0}, {0}}

/*
 * Signs req for service/region at time now with creds (session token, when
 * present, is signed as X-Amz-Security-Token and must be sent by the
 * caller). Fills out. Derived keys are wiped before return.
 */
int sigv4_sign(struct sigv4_signed *out, const struct sigv4_request *req,
               const struct ct_credentials *creds, const char *region,
               const char *service, time_t now, struct ct_error *err);

/* Wipes out (it contains a signature, which is not secret but is never logged). */
void sigv4_signed_release(struct sigv4_signed *out);

#endif
