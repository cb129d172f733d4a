/*
 * The intermediate steps of SigV4 signing, exposed so that unit tests can
 * compare them with the published test suites. Only sigv4.c and the tests
 * include this header; the engine uses sigv4_sign() from sigv4.h.
 */
#ifndef CT_COLLECTOR_SIGV4_INTERNAL_H
#define CT_COLLECTOR_SIGV4_INTERNAL_H

#include "collector/sigv4.h"

/* All strings owned; release with sigv4_steps_release. */
struct sigv4_steps {
    char amz_date[17];       /* 20150830T123600Z */
    char *canonical_request; /* method\nuri\nquery\nheaders\nsigned\nhash */
    char *signed_headers;    /* host;x-amz-date... */
    char *scope;             /* 20150830/us-east-1/service/aws4_request */
    char *string_to_sign;    /* AWS4-HMAC-SHA256\ndate\nscope\nhash */
    char signature[65];      /* lowercase hex HMAC-SHA256 */
    char content_sha256[65]; /* lowercase hex SHA-256 of the body */
};

#define SIGV4_STEPS_INIT                                                       \
    {                                                                          \
        {0}, NULL, NULL, NULL, NULL, {0},                                      \
        {                                                                      \
            0                                                                  \
        }                                                                      \
    }

/*
 * Computes every step of signing req (same arguments and errors as
 * sigv4_sign). out is assigned only on success. Derived keys are wiped
 * before return.
 */
int sigv4_compute(struct sigv4_steps *out, const struct sigv4_request *req,
                  const struct ct_credentials *creds, const char *region,
                  const char *service, time_t now, struct ct_error *err);

/* Frees the strings of s and zeroes it (accepts NULL). */
void sigv4_steps_release(struct sigv4_steps *s);

#endif
