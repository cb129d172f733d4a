/* SHA-256 helpers over OpenSSL's EVP interface (manifest hashes). */
#ifndef CT_CORE_HASH_H
#define CT_CORE_HASH_H

#include <stddef.h>

#include "core/error.h"

#define CT_SHA256_HEX_LEN 64

struct ct_sha256; /* opaque streaming context */

/* Starts a streaming hash. Owned: free with ct_sha256_free. */
int ct_sha256_new(struct ct_sha256 **out, struct ct_error *err);
int ct_sha256_update(struct ct_sha256 *h, const void *data, size_t len,
                     struct ct_error *err);
/* Writes 64 lowercase hex digits and a NUL into hex (65 bytes). */
int ct_sha256_final_hex(struct ct_sha256 *h, char hex[CT_SHA256_HEX_LEN + 1],
                        struct ct_error *err);
void ct_sha256_free(struct ct_sha256 *h);

/* One-shot hash of a buffer into hex (65 bytes). */
int ct_sha256_hex(char hex[CT_SHA256_HEX_LEN + 1], const void *data,
                  size_t len, struct ct_error *err);

#endif
