/*
 * IAM Identity Center (SSO) profiles: the token `aws sso login` cached,
 * refreshed as the SDKs do when it is about to expire (OIDC CreateToken
 * with the cached refresh token, sso_session profiles only, written back to
 * the cache), then exchanged for the role's credentials at the portal's
 * GetRoleCredentials (bearer token, no SigV4).
 */
#include "collector/creds_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "core/timefmt.h"

#define SSO_CACHE_MAX (1024 * 1024)

int creds_sso_cache_key(char out[41], const char *s)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (!EVP_Digest(s, strlen(s), md, &n, EVP_sha1(), NULL) || n != 20)
        return CT_EINVAL;
    for (unsigned int i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    return 0;
}

static int login_error(struct ct_error *err, const char *profile,
                       const char *why)
{
    return ct_error_set(err, CT_EAUTH,
                        "IAM Identity Center token of profile '%s' %s; run "
                        "aws sso login --profile %s",
                        profile, why, profile);
}

/* Writes the updated cache next to the old one, then renames it over. */
static int cache_write(const char *path, const json_t *cache)
{
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    int rc = -1, fd = -1;
    char *text = json_dumps(cache, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (!tmp || !text)
        goto done;
    snprintf(tmp, n, "%s.XXXXXX", path);
    fd = mkstemp(tmp);
    if (fd < 0)
        goto done;
    fchmod(fd, 0600);
    size_t len = strlen(text), off = 0;
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    if (off == len && fsync(fd) == 0 && close(fd) == 0) {
        fd = -1;
        rc = rename(tmp, path);
    }
    if (rc != 0)
        unlink(tmp);
done:
    if (fd >= 0) {
        close(fd);
        unlink(tmp);
    }
    if (text) {
        OPENSSL_cleanse(text, strlen(text));
        free(text);
    }
    free(tmp);
    return rc;
}

/*
 * OIDC CreateToken with the refresh token; on success updates cache
 * (accessToken, expiresAt, refreshToken) and writes it back. Returns 0 or
 * an error (the caller decides whether the old token still serves).
 */
static int sso_refresh(json_t *cache, const char *path,
                       const struct creds_options *opt,
                       const struct creds_sso_config *cfg, time_t now,
                       struct ct_error *err)
{
    char *base = NULL, *body = NULL, url[1024];
    struct creds_http_response resp = CREDS_HTTP_RESPONSE_INIT;
    json_t *req_j = NULL, *ans = NULL;
    int rc = creds_service_url(&base, "AWS_ENDPOINT_URL_SSO_OIDC", "oidc",
                               cfg->sso_region, err);
    if (rc)
        return rc;
    snprintf(url, sizeof(url), "%s/token", base);
    req_j = json_pack("{s:O,s:O,s:s,s:O}", "clientId",
                      json_object_get(cache, "clientId"), "clientSecret",
                      json_object_get(cache, "clientSecret"), "grantType",
                      "refresh_token", "refreshToken",
                      json_object_get(cache, "refreshToken"));
    body = req_j ? json_dumps(req_j, JSON_COMPACT) : NULL;
    if (!body) {
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
        goto done;
    }
    const char *headers[] = {"Content-Type: application/json"};
    struct creds_http_request req = {
        "POST", url, headers, 1, body, strlen(body), CREDS_REMOTE_TIMEOUT_MS};
    rc = creds_http_call(&resp, opt, &req, 2, err);
    if (rc)
        goto done;
    ans = json_loadb(resp.body ? resp.body : "", resp.body_len, 0, NULL);
    const char *token = json_string_value(json_object_get(ans, "accessToken"));
    json_t *expires_in = json_object_get(ans, "expiresIn");
    if (resp.status != 200 || !token || !*token ||
        !json_is_integer(expires_in) || json_integer_value(expires_in) <= 0) {
        const char *code = json_string_value(json_object_get(ans, "error"));
        rc = ct_error_set(err, CT_EAUTH,
                          "OIDC CreateToken refused the refresh token (HTTP "
                          "%ld%s%.64s)",
                          resp.status, code ? " " : "", code ? code : "");
        goto done;
    }
    char when[CT_ISO_TIME_MAX];
    ct_time_format_utc(when, now + (time_t)json_integer_value(expires_in));
    json_object_set(cache, "accessToken", json_object_get(ans, "accessToken"));
    json_object_set_new(cache, "expiresAt", json_string(when));
    if (json_is_string(json_object_get(ans, "refreshToken")))
        json_object_set(cache, "refreshToken",
                        json_object_get(ans, "refreshToken"));
    /* a cache that cannot be written back only costs a refresh next time */
    cache_write(path, cache);
done:
    /* the new tokens now live in cache too (shared values): cache_wipe
     * wipes them once the caller is done */
    json_decref(ans);
    json_decref(req_j);
    if (body) {
        OPENSSL_cleanse(body, strlen(body));
        free(body);
    }
    creds_http_response_release(&resp);
    free(base);
    return rc;
}

static int cache_is_refreshable(const json_t *cache, time_t now)
{
    const char *reg =
        json_string_value(json_object_get(cache, "registrationExpiresAt"));
    time_t reg_exp = 0;
    if (!json_is_string(json_object_get(cache, "refreshToken")) ||
        !json_is_string(json_object_get(cache, "clientId")) ||
        !json_is_string(json_object_get(cache, "clientSecret")))
        return 0;
    return !reg || (creds_parse_time(&reg_exp, reg) == 0 && reg_exp > now);
}

static void cache_wipe(json_t *cache)
{
    static const char *const keys[] = {"accessToken", "refreshToken",
                                       "clientSecret"};
    for (size_t i = 0; i < 3; i++) {
        json_t *v = json_object_get(cache, keys[i]);
        if (json_is_string(v))
            OPENSSL_cleanse((char *)json_string_value(v),
                            json_string_length(v));
    }
    json_decref(cache);
}

int creds_sso(struct ct_credentials *out, const struct creds_options *opt,
              const struct creds_sso_config *cfg, time_t now,
              struct ct_error *err)
{
    char key[41], rel[128], *path = NULL, *text = NULL, *base = NULL;
    char *header = NULL, url[1024], acct[64], role[256];
    size_t len = 0;
    json_t *cache = NULL, *ans = NULL;
    struct creds_http_response resp = CREDS_HTTP_RESPONSE_INIT;
    time_t expires = 0;
    int rc;

    if (!cfg->start_url || !*cfg->start_url || !cfg->sso_region ||
        !*cfg->sso_region || !cfg->account_id || !*cfg->account_id ||
        !cfg->role_name || !*cfg->role_name)
        return ct_error_set(err, CT_EAUTH,
                            "profile '%s' lacks one of sso_start_url, "
                            "sso_region, sso_account_id, sso_role_name",
                            cfg->profile);
    if (creds_sso_cache_key(key, cfg->session_name ? cfg->session_name
                                                   : cfg->start_url) != 0)
        return ct_error_set(err, CT_EINVAL, "SHA-1 unavailable");
    snprintf(rel, sizeof(rel), ".aws/sso/cache/%s.json", key);
    rc = creds_home_path(&path, rel, err);
    if (rc)
        return rc;
    rc = creds_read_file(&text, &len, path, SSO_CACHE_MAX, NULL);
    if (rc) {
        rc = login_error(err, cfg->profile, "is not cached");
        goto done;
    }
    cache = json_loadb(text, len, 0, NULL);
    const char *exp_s = json_string_value(json_object_get(cache, "expiresAt"));
    if (!json_is_object(cache) ||
        !json_is_string(json_object_get(cache, "accessToken")) || !exp_s ||
        creds_parse_time(&expires, exp_s) != 0) {
        rc = login_error(err, cfg->profile, "cache is unreadable");
        goto done;
    }
    if (cfg->session_name && expires - now < CREDS_SSO_REFRESH_WINDOW &&
        cache_is_refreshable(cache, now)) {
        struct ct_error rerr = CT_ERROR_INIT;
        if (sso_refresh(cache, path, opt, cfg, now, &rerr) == 0)
            creds_parse_time(&expires, json_string_value(json_object_get(
                                           cache, "expiresAt")));
        else if (expires <= now) {
            rc = ct_error_set(err, CT_EAUTH,
                              "IAM Identity Center token of profile '%s' "
                              "expired and could not be refreshed (%s); run "
                              "aws sso login --profile %s",
                              cfg->profile, rerr.message, cfg->profile);
            goto done;
        }
    }
    if (expires <= now) {
        rc = login_error(err, cfg->profile, "has expired");
        goto done;
    }
    const char *token =
        json_string_value(json_object_get(cache, "accessToken"));
    if (strchr(token, '\r') || strchr(token, '\n')) {
        rc = login_error(err, cfg->profile, "cache is unreadable");
        goto done;
    }
    rc = creds_service_url(&base, "AWS_ENDPOINT_URL_SSO", "portal.sso",
                           cfg->sso_region, err);
    if (rc)
        goto done;
    if (creds_urlencode(acct, sizeof(acct), cfg->account_id) != 0 ||
        creds_urlencode(role, sizeof(role), cfg->role_name) != 0) {
        rc = ct_error_set(err, CT_EAUTH,
                          "profile '%s': sso_account_id or sso_role_name is "
                          "too long",
                          cfg->profile);
        goto done;
    }
    snprintf(url, sizeof(url),
             "%s/federation/credentials?account_id=%s&role_name=%s", base, acct,
             role);
    size_t hn = strlen(token) + 32;
    header = malloc(hn);
    if (!header) {
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
        goto done;
    }
    snprintf(header, hn, "x-amz-sso_bearer_token: %s", token);
    const char *headers[] = {header};
    struct creds_http_request req = {
        "GET", url, headers, 1, NULL, 0, CREDS_REMOTE_TIMEOUT_MS};
    rc = creds_http_call(&resp, opt, &req, 3, err);
    if (rc) {
        ct_error_reset(err, rc,
                       "IAM Identity Center portal for profile '%s' did not "
                       "answer: %s",
                       cfg->profile, err ? err->message : "");
        goto done;
    }
    ans = json_loadb(resp.body ? resp.body : "", resp.body_len, 0, NULL);
    if (resp.status == 401 || resp.status == 403) {
        rc = login_error(err, cfg->profile, "was refused by the portal");
        goto done;
    }
    if (resp.status != 200 || !json_is_object(ans)) {
        const char *m = json_string_value(json_object_get(ans, "message"));
        rc = ct_error_set(err, CT_EAUTH,
                          "IAM Identity Center GetRoleCredentials for "
                          "profile '%s' (account %s, role %s) failed: HTTP "
                          "%ld%s%.200s",
                          cfg->profile, cfg->account_id, cfg->role_name,
                          resp.status, m ? ": " : "", m ? m : "");
        goto done;
    }
    rc = creds_from_json(out, json_object_get(ans, "roleCredentials"),
                         "accessKeyId", "secretAccessKey", "sessionToken",
                         "expiration", 1, now, "sso",
                         "IAM Identity Center GetRoleCredentials", err);
done:
    if (ans) {
        json_t *rcj = json_object_get(ans, "roleCredentials");
        const char *k;
        json_t *v;
        json_object_foreach(rcj, k, v)
        {
            if (json_is_string(v))
                OPENSSL_cleanse((char *)json_string_value(v),
                                json_string_length(v));
        }
    }
    json_decref(ans);
    cache_wipe(cache);
    creds_http_response_release(&resp);
    creds_free_secret(header);
    if (text) {
        OPENSSL_cleanse(text, len);
        free(text);
    }
    free(base);
    free(path);
    return rc;
}
