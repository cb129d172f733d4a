/* Prices and volume estimates for the cost views. */
#include "analyzer/costs.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/cli.h"
#include "analyzer/db.h"
#include "core/embedded.h"

extern const struct ct_embedded ct_schema_files[];
extern const size_t ct_schema_files_count;

#define PRICING_MAX_SIZE (1 << 20)
#define VOLUMES_MAX_SIZE (64 << 20)

/* A non-negative, finite number that is the whole of s. */
static int parse_amount(const char *s, size_t n, double *out)
{
    char buf[64], *end = NULL;
    if (n == 0 || n >= sizeof(buf))
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (buf[0] == '-' || buf[0] == '+' || buf[0] == ' ')
        return -1;
    errno = 0;
    double v = strtod(buf, &end);
    if (errno || !end || *end || !isfinite(v) || v < 0)
        return -1;
    *out = v;
    return 0;
}

int cost_option(int opt, const char *arg, struct cost_options *co)
{
    switch (opt) {
    case CLI_OPT_PRICING: co->pricing_file = arg; return 1;
    case CLI_OPT_VOLUMES: co->volumes_file = arg; return 1;
    case CLI_OPT_EVENTS_PER_MONTH:
        if (parse_amount(arg, strlen(arg), &co->events_per_month)) {
            cli_error("--events-per-month takes a number of events (0 or "
                      "more), not '%s'",
                      arg);
            return -1;
        }
        return 1;
    default: return 0;
    }
}

/* Reads a whole file (NUL-terminated, at most max bytes). Owned: free. */
static int read_file(char **out, size_t *len, const char *path, size_t max,
                     const char *what, struct ct_error *err)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0;
    int rc = 0;
    if (!f)
        return ct_error_set(err, CT_EIO, "cannot open %s '%s': %s", what,
                            path, strerror(errno));
    if (!(buf = malloc(max + 1))) {
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
        goto done;
    }
    n = fread(buf, 1, max + 1, f);
    if (ferror(f)) {
        rc = ct_error_set(err, CT_EIO, "cannot read %s '%s': %s", what, path,
                          strerror(errno));
        goto done;
    }
    if (n > max) {
        rc = ct_error_set(err, CT_ELIMIT, "%s '%s' is larger than %zu bytes",
                          what, path, max);
        goto done;
    }
    if (memchr(buf, '\0', n)) {
        rc = ct_error_set(err, CT_EPARSE, "%s '%s' holds a NUL byte", what,
                          path);
        goto done;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    buf = NULL;
done:
    free(buf);
    fclose(f);
    return rc;
}

/* A pricing file may insert rows into temp.pricing and nothing else. */
static int pricing_authorizer(void *ctx, int action, const char *a1,
                              const char *a2, const char *a3, const char *a4)
{
    (void)ctx;
    (void)a2;
    (void)a4;
    if (action == SQLITE_INSERT && a1 && strcmp(a1, "pricing") == 0 && a3
        && strcmp(a3, "temp") == 0)
        return SQLITE_OK;
    /* a multi-row VALUES is a compound SELECT; reading any table is still
     * refused (SQLITE_READ) */
    if (action == SQLITE_SELECT)
        return SQLITE_OK;
    return SQLITE_DENY;
}

static int load_pricing(sqlite3 *db, const char *file, struct ct_error *err)
{
    char *text = NULL, *msg = NULL;
    size_t len = 0;
    const char *sql = NULL;
    int rc = 0;
    if (file) {
        if ((rc = read_file(&text, &len, file, PRICING_MAX_SIZE, "pricing",
                            err)))
            return rc;
        sql = text;
    } else {
        for (size_t i = 0; i < ct_schema_files_count; i++)
            if (strcmp(ct_schema_files[i].name, "pricing.sql") == 0)
                sql = ct_schema_files[i].text;
        if (!sql)
            return ct_error_set(err, CT_ESQL, "pricing.sql is not embedded");
    }
    sqlite3_set_authorizer(db, pricing_authorizer, NULL);
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        rc = ct_error_set(err, CT_EINVAL,
                          "pricing '%s': %s (a pricing file holds INSERT "
                          "statements into pricing, as schema/pricing.sql)",
                          file ? file : "built-in",
                          msg ? msg : sqlite3_errmsg(db));
    sqlite3_set_authorizer(db, NULL, NULL);
    sqlite3_free(msg);
    free(text);
    return rc;
}

/* Splits one CSV line on commas (no quoting: ids, regions and numbers). */
static size_t split(const char *line, size_t n, const char **f, size_t *flen,
                    size_t max)
{
    size_t k = 0;
    const char *p = line, *end = line + n;
    while (k < max) {
        const char *c = memchr(p, ',', (size_t)(end - p));
        const char *e = c ? c : end;
        f[k] = p;
        flen[k] = (size_t)(e - p);
        k++;
        if (!c)
            break;
        p = c + 1;
    }
    return k;
}

enum { V_ACCOUNT, V_REGION, V_MGMT, V_DATA, V_NETWORK, V_COLUMNS };

static int load_volumes(sqlite3_stmt *ins, const char *path,
                        struct ct_error *err)
{
    static const char *const names[V_COLUMNS] = {
        "account_id", "region", "management_events", "data_events",
        "network_events"};
    char *text = NULL;
    size_t len = 0, lineno = 0;
    int col_of[8], n_cols = 0, rc = 0, seen[V_COLUMNS] = {0};
    if ((rc = read_file(&text, &len, path, VOLUMES_MAX_SIZE, "volumes",
                        err)))
        return rc;
    for (const char *p = text; p < text + len;) {
        const char *nl = memchr(p, '\n', (size_t)(text + len - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(text + len - p);
        const char *next = nl ? nl + 1 : text + len;
        const char *f[9];
        size_t fl[9], k;
        lineno++;
        if (n && p[n - 1] == '\r')
            n--;
        if (n == 0) {
            p = next;
            continue;
        }
        k = split(p, n, f, fl, 9);
        if (n_cols == 0) { /* the header */
            if (k > 5) {
                rc = ct_error_set(err, CT_EPARSE,
                                  "volumes '%s' line %zu: too many columns",
                                  path, lineno);
                goto done;
            }
            for (size_t i = 0; i < k; i++) {
                int c = -1;
                for (int j = 0; j < V_COLUMNS; j++)
                    if (strlen(names[j]) == fl[i]
                        && memcmp(names[j], f[i], fl[i]) == 0)
                        c = j;
                if (c < 0 || seen[c]) {
                    rc = ct_error_set(err, CT_EPARSE,
                                      "volumes '%s' line 1: column %zu is "
                                      "not one of account_id, region, "
                                      "management_events, data_events, "
                                      "network_events (or is repeated)",
                                      path, i + 1);
                    goto done;
                }
                seen[c] = 1;
                col_of[n_cols++] = c;
            }
            if (!seen[V_ACCOUNT] || !seen[V_REGION]
                || !(seen[V_MGMT] || seen[V_DATA] || seen[V_NETWORK])) {
                rc = ct_error_set(err, CT_EPARSE,
                                  "volumes '%s' line 1: the header needs "
                                  "account_id, region and at least one of "
                                  "management_events, data_events, "
                                  "network_events",
                                  path);
                goto done;
            }
            p = next;
            continue;
        }
        if (k != (size_t)n_cols) {
            rc = ct_error_set(err, CT_EPARSE,
                              "volumes '%s' line %zu: %zu fields, the header "
                              "has %d",
                              path, lineno, k, n_cols);
            goto done;
        }
        sqlite3_reset(ins);
        sqlite3_clear_bindings(ins);
        for (size_t i = 0; i < k; i++) {
            int c = col_of[i];
            if (fl[i] == 0)
                continue; /* NULL: every account / region, or not given */
            if (c == V_ACCOUNT || c == V_REGION) {
                int ok = fl[i] <= 32;
                for (size_t j = 0; ok && j < fl[i]; j++)
                    ok = (f[i][j] >= 'a' && f[i][j] <= 'z')
                         || (f[i][j] >= '0' && f[i][j] <= '9')
                         || f[i][j] == '-';
                for (size_t j = 0; ok && c == V_ACCOUNT && j < fl[i]; j++)
                    ok = f[i][j] >= '0' && f[i][j] <= '9';
                if (!ok || (c == V_ACCOUNT && fl[i] != 12)) {
                    rc = ct_error_set(err, CT_EPARSE,
                                      "volumes '%s' line %zu: '%.*s' is not "
                                      "%s",
                                      path, lineno, (int)(fl[i] > 40 ? 40 : fl[i]),
                                      f[i],
                                      c == V_ACCOUNT ? "a 12-digit account id"
                                                     : "a region name");
                    goto done;
                }
                sqlite3_bind_text(ins, c + 1, f[i], (int)fl[i],
                                  SQLITE_TRANSIENT);
            } else {
                double v;
                if (parse_amount(f[i], fl[i], &v)) {
                    rc = ct_error_set(err, CT_EPARSE,
                                      "volumes '%s' line %zu: %s '%.*s' is "
                                      "not a number of events",
                                      path, lineno, names[c],
                                      (int)(fl[i] > 40 ? 40 : fl[i]), f[i]);
                    goto done;
                }
                sqlite3_bind_double(ins, c + 1, v);
            }
        }
        if (sqlite3_step(ins) != SQLITE_DONE) {
            rc = ct_error_set(err, CT_ESQL, "volumes '%s': %s", path,
                              sqlite3_errmsg(sqlite3_db_handle(ins)));
            goto done;
        }
        p = next;
    }
    if (n_cols == 0)
        rc = ct_error_set(err, CT_EPARSE, "volumes '%s' is empty", path);
done:
    free(text);
    return rc;
}

/* Creates an empty temp.<name> with the definition (constraints
 * included) of main.<name>: one schema, in schema/schema.sql. */
static int temp_copy(sqlite3 *db, const char *name, struct ct_error *err)
{
    sqlite3_stmt *st = NULL;
    char *sql = NULL;
    int rc = 0;
    static const char create[] = "CREATE TABLE ";
    if (sqlite3_prepare_v2(db,
                           "SELECT sql FROM main.sqlite_schema WHERE type = "
                           "'table' AND name = ?1",
                           -1, &st, NULL)
        != SQLITE_OK) {
        rc = ct_error_set(err, CT_ESQL, "%s", sqlite3_errmsg(db));
        goto done;
    }
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    const char *def = sqlite3_step(st) == SQLITE_ROW
                          ? (const char *)sqlite3_column_text(st, 0)
                          : NULL;
    if (!def || strncmp(def, create, sizeof(create) - 1) != 0) {
        rc = ct_error_set(err, CT_ESQL, "the database has no table %s", name);
        goto done;
    }
    sql = sqlite3_mprintf("DROP TABLE IF EXISTS temp.\"%w\"; "
                          "CREATE TEMP TABLE %s",
                          name, def + sizeof(create) - 1);
    if (!sql) {
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
        goto done;
    }
    rc = db_exec(db, sql, err);
done:
    sqlite3_free(sql);
    sqlite3_finalize(st);
    return rc;
}

int costs_prepare(sqlite3 *db, const struct cost_options *co,
                  struct ct_error *err)
{
    sqlite3_stmt *ins = NULL;
    int rc;
    if ((rc = temp_copy(db, "pricing", err))
        || (rc = temp_copy(db, "volume_estimates", err))
        || (rc = load_pricing(db, co->pricing_file, err)))
        return rc;
    if (co->events_per_month < 0 && !co->volumes_file)
        return 0;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO temp.volume_estimates (account_id, "
                           "region, management_events, data_events, "
                           "network_events) VALUES (?1, ?2, ?3, ?4, ?5)",
                           -1, &ins, NULL)
        != SQLITE_OK) {
        rc = ct_error_set(err, CT_ESQL, "%s", sqlite3_errmsg(db));
        goto done;
    }
    if (co->volumes_file && (rc = load_volumes(ins, co->volumes_file, err)))
        goto done;
    if (co->events_per_month >= 0) {
        /* the default for every account and region the file leaves out */
        sqlite3_reset(ins);
        sqlite3_clear_bindings(ins);
        sqlite3_bind_double(ins, 3, co->events_per_month);
        if (sqlite3_step(ins) != SQLITE_DONE)
            rc = ct_error_set(err, CT_ESQL, "%s", sqlite3_errmsg(db));
    }
done:
    sqlite3_finalize(ins);
    return rc;
}

int costs_basis(struct cost_basis *out, sqlite3 *db, long long snapshot_id,
                struct ct_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = 0;
    memset(out, 0, sizeof(*out));
    if (sqlite3_prepare_v2(
            db,
            "SELECT (SELECT count(DISTINCT period_start) FROM cost_usage "
            "        WHERE snapshot_id = ?1),"
            "  (SELECT max(period_end) FROM cost_usage WHERE snapshot_id = ?1),"
            "  (SELECT min(currency) FROM cost_usage WHERE snapshot_id = ?1),"
            "  (SELECT count(*) FROM volume_estimates),"
            "  (SELECT min(currency) FROM pricing)",
            -1, &st, NULL)
        != SQLITE_OK) {
        rc = ct_error_set(err, CT_ESQL, "%s", sqlite3_errmsg(db));
        goto done;
    }
    sqlite3_bind_int64(st, 1, snapshot_id);
    if (sqlite3_step(st) != SQLITE_ROW) {
        rc = ct_error_set(err, CT_ESQL, "%s", sqlite3_errmsg(db));
        goto done;
    }
    out->months = sqlite3_column_int(st, 0);
    const char *through = (const char *)sqlite3_column_text(st, 1);
    const char *cur = (const char *)sqlite3_column_text(
        st, out->months > 0 ? 2 : 4);
    if (out->months > 0)
        snprintf(out->kind, sizeof(out->kind), "billing");
    else if (sqlite3_column_int(st, 3) > 0)
        snprintf(out->kind, sizeof(out->kind), "estimate");
    snprintf(out->through, sizeof(out->through), "%s",
             through ? through : "");
    snprintf(out->currency, sizeof(out->currency), "%s", cur ? cur : "USD");
done:
    sqlite3_finalize(st);
    return rc;
}

void costs_format(char *buf, size_t size, double amount,
                  const char *currency)
{
    char digits[64], grouped[96];
    int neg = amount < 0;
    long long cents = llround(fabs(amount) * 100.0);
    snprintf(digits, sizeof(digits), "%lld", cents / 100);
    size_t n = strlen(digits), k = 0;
    for (size_t i = 0; i < n && k + 2 < sizeof(grouped); i++) {
        if (i && (n - i) % 3 == 0)
            grouped[k++] = ',';
        grouped[k++] = digits[i];
    }
    grouped[k] = '\0';
    if (!currency || strcmp(currency, "USD") == 0)
        snprintf(buf, size, "%s$%s.%02lld", neg ? "-" : "", grouped,
                 cents % 100);
    else
        snprintf(buf, size, "%s%s.%02lld %s", neg ? "-" : "", grouped,
                 cents % 100, currency);
}
