/*
 * Fuzz harness (see harness.h). The input is written to a temporary file
 * (one per process, rewritten per input) so that the analyzer reads it
 * exactly as `ctaudit report FILE` would.
 */
#include "tests/fuzz/harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "analyzer/db.h"
#include "analyzer/load.h"
#include "analyzer/output.h"
#include "analyzer/report.h"
#include "analyzer/rules.h"

struct fuzz_state {
    int fd;
    char path[256];
    struct rule_set rules;
};

static struct fuzz_state state;

static void state_remove(void)
{
    unlink(state.path);
}

static struct fuzz_state *state_get(void)
{
    static int ready;
    if (ready)
        return &state;
    const char *dir = getenv("TMPDIR");
    struct ct_error err = CT_ERROR_INIT;
    snprintf(state.path, sizeof(state.path), "%s/ctfuzz-XXXXXX",
             dir && *dir ? dir : "/tmp");
    state.fd = mkstemp(state.path);
    if (state.fd < 0) {
        perror("fuzz: mkstemp");
        abort();
    }
    atexit(state_remove);
    if (rules_load(&state.rules, NULL, &err) != 0) {
        fprintf(stderr, "fuzz: rules: %s\n", err.message);
        abort();
    }
    ready = 1;
    return &state;
}

static void fail(const char *what, const char *text, size_t len)
{
    fprintf(stderr, "fuzz: %s\n--- output ---\n%.*s\n", what,
            (int)(len > 4000 ? 4000 : len), text ? text : "");
    abort();
}

/* Every Markdown table row has as many unescaped '|' as the header. */
static void check_markdown(const char *buf, size_t len)
{
    long header = -1;
    const char *p = buf, *end = buf + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        if (eol - p >= 1 && p[0] == '|') {
            long pipes = 0;
            for (const char *c = p; c < eol; c++) {
                if (*c == '\\' && c + 1 < eol) {
                    c++;
                    continue;
                }
                pipes += *c == '|';
            }
            if (header < 0)
                header = pipes;
            else if (pipes != header)
                fail("markdown table row has a different number of cells",
                     buf, len);
        } else {
            header = -1;
        }
        for (const char *c = p; c < eol; c++)
            if ((unsigned char)*c < 0x20 && *c != '\t')
                fail("markdown has a control character", buf, len);
        p = eol + 1;
    }
}

/* RFC 4180: every record has n_fields fields. */
static void check_csv(const char *buf, size_t len, long n_fields)
{
    const char *p = buf, *end = buf + len;
    long fields = 1, want = n_fields;
    int quoted = 0, at_start = 1;
    while (p < end) {
        char c = *p++;
        if (quoted) {
            if (c == '"') {
                if (p < end && *p == '"')
                    p++;
                else
                    quoted = 0;
            }
            continue;
        }
        if (c == '"' && at_start) {
            quoted = 1;
            at_start = 0;
        } else if (c == ',') {
            fields++;
            at_start = 1;
        } else if (c == '\r' && p < end && *p == '\n') {
            p++;
            if (want < 0)
                want = fields;
            if (fields != want)
                fail("csv record with a different number of fields", buf,
                     len);
            fields = 1;
            at_start = 1;
        } else if (c == '"' || c == '\n' || c == '\r') {
            fail("csv has a stray quote or line break", buf, len);
        } else {
            at_start = 0;
        }
    }
    if (quoted || fields != 1)
        fail("csv does not end with a complete record", buf, len);
}

static void check_keys(const json_t *o, size_t n, const char *what,
                       const char *buf, size_t len)
{
    if (!json_is_object(o) || json_object_size(o) != n)
        fail(what, buf, len);
}

/* A finding: all its keys, and trail_arns holds whole trail ARNs. */
static void check_finding(const json_t *x, const char *buf, size_t len)
{
    const json_t *arn;
    size_t i;
    check_keys(x, 11, "report json: finding keys", buf, len);
    json_array_foreach(json_object_get(x, "trail_arns"), i, arn) {
        const char *s = json_string_value(arn);
        if (!s || strncmp(s, "arn:", 4) != 0 || !strstr(s, ":trail/"))
            fail("report json: trail_arns entry is not a trail ARN", buf,
                 len);
    }
}

/* The report JSON parses and every object has all its keys (jansson
 * drops a key whose value could not be built, e.g. invalid UTF-8). */
static void check_report_json(const char *buf, size_t len)
{
    json_error_t jerr;
    json_t *root = json_loadb(buf, len, 0, &jerr);
    json_t *a, *x;
    size_t i, k;
    if (!root)
        fail("report json does not parse", buf, len);
    check_keys(root, 5, "report json: top-level keys", buf, len);
    json_array_foreach(json_object_get(root, "accounts"), i, a) {
        check_keys(a, 13, "report json: account keys", buf, len);
        json_array_foreach(json_object_get(a, "regions"), k, x)
            check_keys(x, 12, "report json: region keys", buf, len);
        json_array_foreach(json_object_get(a, "trails"), k, x)
            check_keys(x, 15, "report json: trail keys", buf, len);
        json_array_foreach(json_object_get(a, "findings"), k, x)
            check_finding(x, buf, len);
    }
    json_array_foreach(json_object_get(root, "findings"), k, x)
        check_finding(x, buf, len);
    check_keys(json_object_get(root, "snapshot"), 7,
               "report json: snapshot keys", buf, len);
    json_decref(root);
}

/* Renders into memory and returns the buffer (owned: free). */
static char *render(const struct report *r, int fmt, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    int rc;
    if (!f)
        abort();
    rc = fmt == 0   ? report_render_markdown(f, r, 0)
         : fmt == 1 ? report_render_json(f, r, 0)
                    : report_render_csv(f, r);
    if (fclose(f) != 0)
        abort();
    if (rc) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* The `ctaudit sql` renderers over tables that hold snapshot text. */
static void sql_outputs(sqlite3 *db)
{
    static const char *const queries[] = {
        "SELECT * FROM trails ORDER BY trail_arn",
        "SELECT * FROM load_warnings ORDER BY member",
        "SELECT * FROM errors ORDER BY member",
        "SELECT * FROM trail_documents ORDER BY member",
    };
    for (size_t q = 0; q < sizeof(queries) / sizeof(queries[0]); q++) {
        for (int fmt = OUT_TABLE; fmt <= OUT_JSON; fmt++) {
            struct ct_error err = CT_ERROR_INIT;
            sqlite3_stmt *st = NULL;
            const char *sql = queries[q];
            char *buf = NULL;
            size_t len = 0;
            if (db_prepare_readonly(&st, db, &sql, &err) || !st)
                fail("sql: cannot prepare", err.message,
                     strlen(err.message));
            FILE *f = open_memstream(&buf, &len);
            if (!f)
                abort();
            int rc = out_write_rows(f, st, (enum out_format)fmt, &err);
            fclose(f);
            sqlite3_finalize(st);
            if (rc == 0 && fmt == OUT_JSON) {
                json_error_t jerr;
                json_t *v = json_loadb(buf, len, 0, &jerr);
                if (!v)
                    fail("sql json does not parse", buf, len);
                json_decref(v);
            } else if (rc == 0 && fmt == OUT_CSV) {
                check_csv(buf, len, -1);
            } else if (rc == 0) {
                for (size_t i = 0; i < len; i++)
                    if ((unsigned char)buf[i] < 0x20 && buf[i] != '\n')
                        fail("sql table has a control character", buf, len);
            }
            free(buf);
        }
    }
}

static int load(sqlite3 **out, const char *path, int verify,
                struct ct_error *err)
{
    struct load_options lo = LOAD_OPTIONS_INIT;
    sqlite3 *db = NULL;
    int rc;
    /* small limits: the same code paths as the defaults, faster */
    lo.limits.max_member = 1 << 20;
    lo.limits.max_total = 8 << 20;
    lo.limits.max_checksums = 1 << 20;
    lo.limits.max_members = 4096;
    lo.verify = verify;
    if ((rc = db_create(&db, ":memory:", err))
        || (rc = db_exec(db, "BEGIN", err))
        || (rc = load_snapshot(db, path, &lo, NULL, err))
        || (rc = db_exec(db, "ANALYZE", err))
        || (rc = db_exec(db, "COMMIT", err))) {
        sqlite3_close(db);
        return rc;
    }
    *out = db;
    return 0;
}

int fuzz_one(const uint8_t *data, size_t size)
{
    struct fuzz_state *st = state_get();
    struct ct_error err = CT_ERROR_INIT;
    struct report rep;
    struct report_options ro = {0, NULL, NULL, NULL};
    sqlite3 *db = NULL;
    int rc;

    if (ftruncate(st->fd, 0) != 0
        || (size && pwrite(st->fd, data, size, 0) != (ssize_t)size)) {
        perror("fuzz: write");
        abort();
    }
    rc = load(&db, st->path, 1, &err);
    if (rc == CT_EVERIFY) {
        /* a lying manifest: load it anyway, as --no-verify does */
        ct_error_clear(&err);
        rc = load(&db, st->path, 0, &err);
    }
    if (rc) {
        if (getenv("CT_FUZZ_VERBOSE"))
            fprintf(stderr, "fuzz: refused: %s\n", err.message);
        return 0;
    }
    if (db_exec(db, "PRAGMA temp_store = MEMORY", &err)
        || db_materialize_views(db, "temp", &err)
        || db_guard_readonly(db, &err)) {
        /* the views are ours: they must work on anything that loaded */
        fail("views", err.message, strlen(err.message));
    }
    memset(&rep, 0, sizeof(rep));
    if (report_build(&rep, db, &st->rules, &ro, &err) != 0)
        fail("report_build", err.message, strlen(err.message));
    for (int fmt = 0; fmt < 3; fmt++) {
        size_t len = 0;
        char *buf = render(&rep, fmt, &len);
        if (!buf)
            fail("render failed", NULL, 0);
        if (fmt == 0)
            check_markdown(buf, len);
        else if (fmt == 1)
            check_report_json(buf, len);
        else
            check_csv(buf, len, 12);
        free(buf);
    }
    if (getenv("CT_FUZZ_VERBOSE"))
        fprintf(stderr, "fuzz: report: %zu accounts, %zu findings\n",
                rep.n_accounts, rep.findings.n);
    report_release(&rep);
    sql_outputs(db);
    sqlite3_close(db);
    return 0;
}
