/* SHA-256 through OpenSSL: never hand-written crypto. */
#include "core/hash.h"

#include <stdlib.h>

#include <openssl/evp.h>

struct ct_sha256 {
    EVP_MD_CTX *md;
};

int ct_sha256_new(struct ct_sha256 **out, struct ct_error *err)
{
    struct ct_sha256 *h = calloc(1, sizeof(*h));
    if (!h)
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    h->md = EVP_MD_CTX_new();
    if (!h->md || EVP_DigestInit_ex(h->md, EVP_sha256(), NULL) != 1) {
        ct_sha256_free(h);
        return ct_error_set(err, CT_ENOMEM, "cannot start SHA-256");
    }
    *out = h;
    return 0;
}

int ct_sha256_update(struct ct_sha256 *h, const void *data, size_t len,
                     struct ct_error *err)
{
    if (len && EVP_DigestUpdate(h->md, data, len) != 1)
        return ct_error_set(err, CT_EIO, "SHA-256 update failed");
    return 0;
}

int ct_sha256_final_hex(struct ct_sha256 *h, char hex[CT_SHA256_HEX_LEN + 1],
                        struct ct_error *err)
{
    static const char digits[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_DigestFinal_ex(h->md, md, &n) != 1 || n != 32)
        return ct_error_set(err, CT_EIO, "SHA-256 final failed");
    for (unsigned int i = 0; i < n; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[64] = '\0';
    return 0;
}

void ct_sha256_free(struct ct_sha256 *h)
{
    if (!h)
        return;
    EVP_MD_CTX_free(h->md);
    free(h);
}

int ct_sha256_hex(char hex[CT_SHA256_HEX_LEN + 1], const void *data,
                  size_t len, struct ct_error *err)
{
    struct ct_sha256 *h = NULL;
    int rc = ct_sha256_new(&h, err);
    if (rc == 0)
        rc = ct_sha256_update(h, data, len, err);
    if (rc == 0)
        rc = ct_sha256_final_hex(h, hex, err);
    ct_sha256_free(h);
    return rc;
}
