/*
 * The credential chain's HTTP callback over libcurl's easy interface: one
 * blocking exchange per call (the chain runs before the collection's multi
 * loop starts, or between its rounds).
 */
#ifndef CT_COLLECTOR_CREDS_HTTP_H
#define CT_COLLECTOR_CREDS_HTTP_H

#include "collector/credentials.h"

/*
 * creds_http_fn: ctx is unused (NULL). http and https only, no redirects,
 * no proxy for plain-http URLs (instance metadata, container endpoints),
 * answers of at most 1 MiB. CT_EHTTP when no answer arrived (the message
 * is libcurl's, without request data).
 */
int creds_http_curl(void *ctx, struct creds_http_response *out,
                    const struct creds_http_request *req, struct ct_error *err);

#endif
