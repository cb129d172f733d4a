/*
 * Snapshot member paths: building (collector) and classifying (analyzer).
 * Keeping both in one file is what keeps the two programs in agreement.
 */
#include "core/snapshot.h"

#include <stdio.h>
#include <string.h>

int ct_valid_account_id(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (s[n] < '0' || s[n] > '9')
            return 0;
    return n == CT_ACCOUNT_ID_LEN;
}

int ct_valid_region(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return 0;
    }
    /* at least "xx-yyyy-1"-like; reject "errors", "trails" by the digit */
    return n >= 4 && n <= CT_REGION_MAX && s[n - 1] >= '0' && s[n - 1] <= '9'
           && strchr(s, '-') != NULL;
}

int ct_valid_trail_name(const char *s)
{
    /* AWS: 3-128 of [A-Za-z0-9._-], starting and ending with a letter or
     * digit. We accept any byte but '/' and NUL so that odd names in
     * hand-made dumps still load, and reject only what is unsafe or
     * ambiguous as a path component. */
    size_t n = strlen(s);
    if (n == 0 || n > CT_TRAIL_NAME_MAX)
        return 0;
    if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return 0;
    return strchr(s, '/') == NULL;
}

int ct_valid_operation(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9')))
            return 0;
    }
    return n > 0 && n <= CT_OPERATION_MAX;
}

const char *ct_region_partition(const char *region)
{
    if (strncmp(region, "cn-", 3) == 0)
        return "aws-cn";
    if (strncmp(region, "us-gov-", 7) == 0)
        return "aws-us-gov";
    if (strncmp(region, "us-isob-", 8) == 0)
        return "aws-iso-b";
    if (strncmp(region, "us-iso-", 7) == 0)
        return "aws-iso";
    return "aws";
}

static const char *const kind_names[] = {
    [CT_MEMBER_UNKNOWN] = "unknown",
    [CT_MEMBER_DIRECTORY] = "directory",
    [CT_MEMBER_MANIFEST] = "manifest",
    [CT_MEMBER_CHECKSUMS] = "checksums",
    [CT_MEMBER_ORG_DESCRIBE] = "describe-organization",
    [CT_MEMBER_ORG_ACCOUNTS] = "list-accounts",
    [CT_MEMBER_ORG_COSTS] = "cost-and-usage",
    [CT_MEMBER_ORG_ERROR] = "organization error",
    [CT_MEMBER_IDENTITY] = "identity",
    [CT_MEMBER_ALIASES] = "aliases",
    [CT_MEMBER_REGIONS] = "regions",
    [CT_MEMBER_ACCOUNT_ERROR] = "account error",
    [CT_MEMBER_ACCOUNT_OP_ERROR] = "account operation error",
    [CT_MEMBER_DESCRIBE_TRAILS] = "describe-trails",
    [CT_MEMBER_EVENT_SELECTORS] = "get-event-selectors",
    [CT_MEMBER_INSIGHT_SELECTORS] = "get-insight-selectors",
    [CT_MEMBER_TRAIL_STATUS] = "get-trail-status",
    [CT_MEMBER_REGION_ERROR] = "region error",
};

const char *ct_member_kind_name(enum ct_member_kind kind)
{
    if ((size_t)kind < sizeof(kind_names) / sizeof(kind_names[0])
        && kind_names[kind])
        return kind_names[kind];
    return "unknown";
}

/* Splits path into at most max components (no copying beyond buf). */
static size_t split_path(char *buf, char **parts, size_t max)
{
    size_t n = 0;
    char *save = NULL;
    for (char *p = strtok_r(buf, "/", &save); p; p = strtok_r(NULL, "/", &save)) {
        if (n == max)
            return max + 1;
        parts[n++] = p;
    }
    return n;
}

static int copy_component(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    if (n >= size)
        return -1;
    memcpy(dst, src, n + 1);
    return 0;
}

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* "cost-and-usage.json" (page 1) or "cost-and-usage.<k>.json", k a
 * positive decimal without leading zeros, at most CT_COST_PAGE_MAX. */
static int parse_costs_name(unsigned long *page, const char *name)
{
    static const char prefix[] = "cost-and-usage.";
    const size_t plen = sizeof(prefix) - 1;
    if (strcmp(name, "cost-and-usage.json") == 0) {
        *page = 1;
        return 0;
    }
    if (strncmp(name, prefix, plen) != 0)
        return -1;
    const char *d = name + plen;
    size_t n = strspn(d, "0123456789");
    if (n == 0 || n > 6 || d[0] == '0' || strcmp(d + n, ".json") != 0)
        return -1;
    unsigned long k = 0;
    for (size_t i = 0; i < n; i++)
        k = k * 10 + (unsigned long)(d[i] - '0');
    *page = k;
    return 0;
}

/* "<op>.json" or "<op>.<owner>.<trail-name>.json" */
static int parse_error_name(struct ct_member_ref *out, const char *name,
                            int allow_trail)
{
    char buf[CT_MEMBER_PATH_MAX];
    size_t n = strlen(name);
    if (!has_suffix(name, ".json") || n >= sizeof(buf))
        return -1;
    memcpy(buf, name, n - 5);
    buf[n - 5] = '\0';
    char *dot = strchr(buf, '.');
    if (dot) {
        if (!allow_trail)
            return -1;
        *dot = '\0';
        char *owner = dot + 1;
        char *dot2 = strchr(owner, '.');
        if (!dot2)
            return -1;
        *dot2 = '\0';
        if (!ct_valid_account_id(owner) || !ct_valid_trail_name(dot2 + 1))
            return -1;
        memcpy(out->owner, owner, CT_ACCOUNT_ID_LEN + 1);
        if (copy_component(out->trail_name, sizeof(out->trail_name), dot2 + 1))
            return -1;
    }
    if (!ct_valid_operation(buf))
        return -1;
    return copy_component(out->operation, sizeof(out->operation), buf);
}

static enum ct_member_kind classify_parts(struct ct_member_ref *out,
                                          char **p, size_t n, int is_dir)
{
    if (n == 1 && strcmp(p[0], CT_SNAPSHOT_MANIFEST) == 0 && !is_dir)
        return CT_MEMBER_MANIFEST;
    if (n == 1 && strcmp(p[0], CT_SNAPSHOT_CHECKSUMS) == 0 && !is_dir)
        return CT_MEMBER_CHECKSUMS;
    if (n >= 1 && (strcmp(p[0], "organization") == 0)) {
        if (n == 1 || (n == 2 && is_dir && strcmp(p[1], "errors") == 0))
            return is_dir ? CT_MEMBER_DIRECTORY : CT_MEMBER_UNKNOWN;
        if (is_dir)
            return CT_MEMBER_UNKNOWN;
        if (n == 2 && strcmp(p[1], "describe-organization.json") == 0)
            return CT_MEMBER_ORG_DESCRIBE;
        if (n == 2 && strcmp(p[1], "list-accounts.json") == 0)
            return CT_MEMBER_ORG_ACCOUNTS;
        if (n == 2 && parse_costs_name(&out->page, p[1]) == 0)
            return CT_MEMBER_ORG_COSTS;
        if (n == 3 && strcmp(p[1], "errors") == 0
            && parse_error_name(out, p[2], 0) == 0)
            return CT_MEMBER_ORG_ERROR;
        return CT_MEMBER_UNKNOWN;
    }
    if (n == 0 || strcmp(p[0], "accounts") != 0)
        return CT_MEMBER_UNKNOWN;
    if (n == 1)
        return is_dir ? CT_MEMBER_DIRECTORY : CT_MEMBER_UNKNOWN;
    if (!ct_valid_account_id(p[1]))
        return CT_MEMBER_UNKNOWN;
    memcpy(out->account, p[1], CT_ACCOUNT_ID_LEN + 1);
    if (n == 2)
        return is_dir ? CT_MEMBER_DIRECTORY : CT_MEMBER_UNKNOWN;
    if (n == 3 && !is_dir) {
        if (strcmp(p[2], "identity.json") == 0)
            return CT_MEMBER_IDENTITY;
        if (strcmp(p[2], "aliases.json") == 0)
            return CT_MEMBER_ALIASES;
        if (strcmp(p[2], "regions.json") == 0)
            return CT_MEMBER_REGIONS;
        if (strcmp(p[2], "error.json") == 0)
            return CT_MEMBER_ACCOUNT_ERROR;
        return CT_MEMBER_UNKNOWN;
    }
    if (strcmp(p[2], "errors") == 0) {
        if (n == 3)
            return is_dir ? CT_MEMBER_DIRECTORY : CT_MEMBER_UNKNOWN;
        if (n == 4 && !is_dir && parse_error_name(out, p[3], 0) == 0)
            return CT_MEMBER_ACCOUNT_OP_ERROR;
        return CT_MEMBER_UNKNOWN;
    }
    if (!ct_valid_region(p[2]))
        return CT_MEMBER_UNKNOWN;
    if (copy_component(out->region, sizeof(out->region), p[2]))
        return CT_MEMBER_UNKNOWN;
    if (n == 3)
        return is_dir ? CT_MEMBER_DIRECTORY : CT_MEMBER_UNKNOWN;
    if (n == 4 && !is_dir && strcmp(p[3], "describe-trails.json") == 0)
        return CT_MEMBER_DESCRIBE_TRAILS;
    if (strcmp(p[3], "errors") == 0) {
        if (n == 4)
            return is_dir ? CT_MEMBER_DIRECTORY : CT_MEMBER_UNKNOWN;
        if (n == 5 && !is_dir && parse_error_name(out, p[4], 1) == 0)
            return CT_MEMBER_REGION_ERROR;
        return CT_MEMBER_UNKNOWN;
    }
    if (strcmp(p[3], "trails") != 0)
        return CT_MEMBER_UNKNOWN;
    if (n == 4)
        return is_dir ? CT_MEMBER_DIRECTORY : CT_MEMBER_UNKNOWN;
    if (!ct_valid_account_id(p[4]))
        return CT_MEMBER_UNKNOWN;
    memcpy(out->owner, p[4], CT_ACCOUNT_ID_LEN + 1);
    if (n == 5)
        return is_dir ? CT_MEMBER_DIRECTORY : CT_MEMBER_UNKNOWN;
    if (!ct_valid_trail_name(p[5])
        || copy_component(out->trail_name, sizeof(out->trail_name), p[5]))
        return CT_MEMBER_UNKNOWN;
    if (n == 6)
        return is_dir ? CT_MEMBER_DIRECTORY : CT_MEMBER_UNKNOWN;
    if (n != 7 || is_dir)
        return CT_MEMBER_UNKNOWN;
    if (strcmp(p[6], "get-event-selectors.json") == 0)
        return CT_MEMBER_EVENT_SELECTORS;
    if (strcmp(p[6], "get-insight-selectors.json") == 0)
        return CT_MEMBER_INSIGHT_SELECTORS;
    if (strcmp(p[6], "get-trail-status.json") == 0)
        return CT_MEMBER_TRAIL_STATUS;
    return CT_MEMBER_UNKNOWN;
}

void ct_snapshot_classify(struct ct_member_ref *out, const char *path)
{
    char buf[CT_MEMBER_PATH_MAX];
    char *parts[8];
    size_t len = strlen(path);

    memset(out, 0, sizeof(*out));
    out->kind = CT_MEMBER_UNKNOWN;
    if (len == 0 || len >= sizeof(buf) || path[0] == '/')
        return;
    memcpy(buf, path, len + 1);
    int is_dir = buf[len - 1] == '/';
    /* reject "." and ".." components outright: never part of the format */
    for (const char *c = path; *c;) {
        const char *e = strchr(c, '/');
        size_t m = e ? (size_t)(e - c) : strlen(c);
        if ((m == 1 && c[0] == '.') || (m == 2 && c[0] == '.' && c[1] == '.'))
            return;
        c += m;
        if (*c == '/')
            c++;
    }
    size_t n = split_path(buf, parts, 7);
    if (n > 7)
        return;
    enum ct_member_kind kind = classify_parts(out, parts, n, is_dir);
    if (kind == CT_MEMBER_UNKNOWN) {
        memset(out, 0, sizeof(*out));
        return;
    }
    out->kind = kind;
}

int ct_snapshot_member_path(char *buf, size_t size,
                            const struct ct_member_ref *r,
                            struct ct_error *err)
{
    int n = -1;
    int need_account = 1, need_region = 0, need_trail = 0, need_op = 0;

    switch (r->kind) {
    case CT_MEMBER_MANIFEST:
    case CT_MEMBER_CHECKSUMS:
    case CT_MEMBER_ORG_DESCRIBE:
    case CT_MEMBER_ORG_ACCOUNTS:
    case CT_MEMBER_ORG_COSTS:
        need_account = 0;
        break;
    case CT_MEMBER_ORG_ERROR:
        need_account = 0;
        need_op = 1;
        break;
    case CT_MEMBER_ACCOUNT_OP_ERROR:
        need_op = 1;
        break;
    case CT_MEMBER_DESCRIBE_TRAILS:
        need_region = 1;
        break;
    case CT_MEMBER_EVENT_SELECTORS:
    case CT_MEMBER_INSIGHT_SELECTORS:
    case CT_MEMBER_TRAIL_STATUS:
        need_region = need_trail = 1;
        break;
    case CT_MEMBER_REGION_ERROR:
        need_region = need_op = 1;
        need_trail = r->trail_name[0] != '\0';
        break;
    default:
        break;
    }
    if (need_account && !ct_valid_account_id(r->account))
        return ct_error_set(err, CT_EINVAL, "invalid account id '%s'",
                            r->account);
    if (need_region && !ct_valid_region(r->region))
        return ct_error_set(err, CT_EINVAL, "invalid region '%s'", r->region);
    if (need_trail && (!ct_valid_account_id(r->owner)
                       || !ct_valid_trail_name(r->trail_name)))
        return ct_error_set(err, CT_EINVAL, "invalid trail '%s/%s'",
                            r->owner, r->trail_name);
    if (need_op && !ct_valid_operation(r->operation))
        return ct_error_set(err, CT_EINVAL, "invalid operation '%s'",
                            r->operation);

    switch (r->kind) {
    case CT_MEMBER_MANIFEST:
        n = snprintf(buf, size, "%s", CT_SNAPSHOT_MANIFEST);
        break;
    case CT_MEMBER_CHECKSUMS:
        n = snprintf(buf, size, "%s", CT_SNAPSHOT_CHECKSUMS);
        break;
    case CT_MEMBER_ORG_DESCRIBE:
        n = snprintf(buf, size, "organization/describe-organization.json");
        break;
    case CT_MEMBER_ORG_ACCOUNTS:
        n = snprintf(buf, size, "organization/list-accounts.json");
        break;
    case CT_MEMBER_ORG_COSTS:
        if (r->page > CT_COST_PAGE_MAX)
            return ct_error_set(err, CT_EINVAL, "invalid cost page %lu",
                                r->page);
        if (r->page <= 1)
            n = snprintf(buf, size, "organization/cost-and-usage.json");
        else
            n = snprintf(buf, size, "organization/cost-and-usage.%lu.json",
                         r->page);
        break;
    case CT_MEMBER_ORG_ERROR:
        n = snprintf(buf, size, "organization/errors/%s.json", r->operation);
        break;
    case CT_MEMBER_IDENTITY:
        n = snprintf(buf, size, "accounts/%s/identity.json", r->account);
        break;
    case CT_MEMBER_ALIASES:
        n = snprintf(buf, size, "accounts/%s/aliases.json", r->account);
        break;
    case CT_MEMBER_REGIONS:
        n = snprintf(buf, size, "accounts/%s/regions.json", r->account);
        break;
    case CT_MEMBER_ACCOUNT_ERROR:
        n = snprintf(buf, size, "accounts/%s/error.json", r->account);
        break;
    case CT_MEMBER_ACCOUNT_OP_ERROR:
        n = snprintf(buf, size, "accounts/%s/errors/%s.json", r->account,
                     r->operation);
        break;
    case CT_MEMBER_DESCRIBE_TRAILS:
        n = snprintf(buf, size, "accounts/%s/%s/describe-trails.json",
                     r->account, r->region);
        break;
    case CT_MEMBER_EVENT_SELECTORS:
    case CT_MEMBER_INSIGHT_SELECTORS:
    case CT_MEMBER_TRAIL_STATUS:
        n = snprintf(buf, size, "accounts/%s/%s/trails/%s/%s/%s.json",
                     r->account, r->region, r->owner, r->trail_name,
                     r->kind == CT_MEMBER_EVENT_SELECTORS
                         ? "get-event-selectors"
                         : r->kind == CT_MEMBER_INSIGHT_SELECTORS
                               ? "get-insight-selectors"
                               : "get-trail-status");
        break;
    case CT_MEMBER_REGION_ERROR:
        if (need_trail)
            n = snprintf(buf, size, "accounts/%s/%s/errors/%s.%s.%s.json",
                         r->account, r->region, r->operation, r->owner,
                         r->trail_name);
        else
            n = snprintf(buf, size, "accounts/%s/%s/errors/%s.json",
                         r->account, r->region, r->operation);
        break;
    default:
        return ct_error_set(err, CT_EINVAL, "no path for member kind %d",
                            (int)r->kind);
    }
    if (n < 0 || (size_t)n >= size)
        return ct_error_set(err, CT_ELIMIT, "member path too long");
    return 0;
}
