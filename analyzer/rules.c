/* Rule loading, validation and execution. */
#include "analyzer/rules.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/db.h"
#include "analyzer/trace.h"
#include "core/embedded.h"

extern const struct ct_embedded ct_rule_files[];
extern const size_t ct_rule_files_count;

const char *const rule_columns[] = {
    "rule_id", "severity", "account_id", "region", "trail_arns", "detail",
    "read_copies", "write_copies", "paid_copies", "monthly_cost"};

#define RULE_MAX_SIZE (1 << 20)

int severity_rank(const char *severity)
{
    if (!severity)
        return 0;
    if (strcmp(severity, "warning") == 0)
        return 2;
    if (strcmp(severity, "info") == 0)
        return 1;
    return 0;
}

static void rule_release(struct rule *r)
{
    free(r->id);
    free(r->title);
    free(r->severity);
    free(r->rationale);
    free(r->remediation);
    free(r->sql);
    free(r->origin);
    memset(r, 0, sizeof(*r));
}

void rules_release(struct rule_set *set)
{
    for (size_t i = 0; i < set->n_rules; i++)
        rule_release(&set->rules[i]);
    free(set->rules);
    set->rules = NULL;
    set->n_rules = 0;
}

static int valid_rule_id(const char *id)
{
    size_t n = 0;
    for (; id[n]; n++)
        if (!((id[n] >= 'a' && id[n] <= 'z') || (id[n] >= '0' && id[n] <= '9')
              || id[n] == '-'))
            return 0;
    return n > 0 && n <= 64;
}

/* Parses the "-- key: value" header of text into r. */
static int parse_header(struct rule *r, const char *text,
                        struct ct_error *err)
{
    const char *p = text;
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        if (n < 3 || strncmp(p, "-- ", 3) != 0)
            break;
        const char *colon = memchr(p + 3, ':', n - 3);
        if (colon) {
            size_t klen = (size_t)(colon - (p + 3));
            const char *v = colon + 1;
            while (v < p + n && *v == ' ')
                v++;
            char **slot = NULL;
            if (klen == 5 && strncmp(p + 3, "title", 5) == 0)
                slot = &r->title;
            else if (klen == 8 && strncmp(p + 3, "severity", 8) == 0)
                slot = &r->severity;
            else if (klen == 9 && strncmp(p + 3, "rationale", 9) == 0)
                slot = &r->rationale;
            else if (klen == 11 && strncmp(p + 3, "remediation", 11) == 0)
                slot = &r->remediation;
            if (slot) {
                free(*slot);
                *slot = strndup(v, (size_t)(p + n - v));
                if (!*slot)
                    return ct_error_set(err, CT_ENOMEM, "out of memory");
            }
        }
        p += n + (eol ? 1 : 0);
    }
    if (!r->title || !r->severity || !r->rationale || !r->remediation)
        return ct_error_set(err, CT_EINVAL,
                            "rule '%s' (%s): the header needs title, "
                            "severity, rationale and remediation lines",
                            r->id, r->origin);
    if (severity_rank(r->severity) == 0)
        return ct_error_set(err, CT_EINVAL,
                            "rule '%s' (%s): severity must be warning or "
                            "info, not '%s'",
                            r->id, r->origin, r->severity);
    return 0;
}

static int add_rule(struct rule_set *set, const char *id, const char *text,
                    const char *origin, struct ct_error *err)
{
    struct rule r;
    int rc;
    memset(&r, 0, sizeof(r));
    for (size_t i = 0; i < set->n_rules; i++)
        if (strcmp(set->rules[i].id, id) == 0)
            return ct_error_set(err, CT_EINVAL,
                                "rule '%s' (%s) has the id of a rule already "
                                "loaded (%s)",
                                id, origin, set->rules[i].origin);
    r.id = strdup(id);
    r.sql = strdup(text);
    r.origin = strdup(origin);
    if (!r.id || !r.sql || !r.origin) {
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
        goto fail;
    }
    if (!valid_rule_id(id)) {
        rc = ct_error_set(err, CT_EINVAL,
                          "rule file '%s': the name must be <rule-id>.sql "
                          "with a-z, 0-9 and '-'",
                          origin);
        goto fail;
    }
    if ((rc = parse_header(&r, text, err)))
        goto fail;
    struct rule *n = realloc(set->rules, (set->n_rules + 1) * sizeof(*n));
    if (!n) {
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
        goto fail;
    }
    set->rules = n;
    set->rules[set->n_rules++] = r;
    return 0;
fail:
    rule_release(&r);
    return rc;
}

static int cmp_rule(const void *a, const void *b)
{
    return strcmp(((const struct rule *)a)->id, ((const struct rule *)b)->id);
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int load_dir(struct rule_set *set, const char *dir,
                    struct ct_error *err)
{
    DIR *d = opendir(dir);
    char **names = NULL;
    size_t n = 0;
    int rc = 0;
    struct dirent *e;
    if (!d)
        return ct_error_set(err, CT_EIO, "--rules-dir '%s': %s", dir,
                            strerror(errno));
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".sql") != 0)
            continue;
        char **nn = realloc(names, (n + 1) * sizeof(*nn));
        if (!nn || !(nn[n] = strdup(e->d_name))) {
            names = nn ? nn : names;
            rc = ct_error_set(err, CT_ENOMEM, "out of memory");
            goto done;
        }
        names = nn;
        n++;
    }
    if (n)
        qsort(names, n, sizeof(*names), cmp_name);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char path[4096], id[256];
        FILE *f;
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        snprintf(id, sizeof(id), "%.*s", (int)(strlen(names[i]) - 4),
                 names[i]);
        f = fopen(path, "rb");
        if (!f) {
            rc = ct_error_set(err, CT_EIO, "rule file '%s': %s", path,
                              strerror(errno));
            break;
        }
        char *text = malloc(RULE_MAX_SIZE + 1);
        size_t got = text ? fread(text, 1, RULE_MAX_SIZE + 1, f) : 0;
        int bad = ferror(f);
        fclose(f);
        if (!text) {
            rc = ct_error_set(err, CT_ENOMEM, "out of memory");
            break;
        }
        if (bad || got > RULE_MAX_SIZE) {
            free(text);
            rc = ct_error_set(err, CT_EIO, "rule file '%s': %s", path,
                              bad ? "read error" : "larger than 1 MiB");
            break;
        }
        text[got] = '\0';
        if (strlen(text) != got) {
            free(text);
            rc = ct_error_set(err, CT_EINVAL,
                              "rule file '%s': contains a NUL byte", path);
            break;
        }
        rc = add_rule(set, id, text, path, err);
        free(text);
    }
done:
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    closedir(d);
    return rc;
}

int rules_load(struct rule_set *out, const char *dir, struct ct_error *err)
{
    struct rule_set set = RULE_SET_INIT;
    int rc = 0;
    for (size_t i = 0; i < ct_rule_files_count; i++) {
        char id[256];
        const char *name = ct_rule_files[i].name;
        snprintf(id, sizeof(id), "%.*s", (int)(strlen(name) - 4), name);
        if ((rc = add_rule(&set, id, ct_rule_files[i].text, "built-in", err)))
            goto fail;
    }
    if (dir && (rc = load_dir(&set, dir, err)))
        goto fail;
    if (set.n_rules)
        qsort(set.rules, set.n_rules, sizeof(*set.rules), cmp_rule);
    *out = set;
    return 0;
fail:
    rules_release(&set);
    return rc;
}

void finding_list_release(struct finding_list *list)
{
    free(list->items);
    strmap_release(&list->strings);
    for (size_t i = 0; i < list->n_more; i++)
        strmap_release(&list->more[i]);
    free(list->more);
    list->items = NULL;
    list->more = NULL;
    list->n = list->cap = list->n_more = 0;
}

/* recent: the value interned last from column i (strmap_intern_recent) */
static const char *col_intern(struct finding_list *out, sqlite3_stmt *st,
                              int i, const char **recent, int *oom)
{
    return strmap_intern_recent(
        &out->strings, (const char *)sqlite3_column_text(st, i), recent, oom);
}

static long long col_num(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL
               ? -1
               : sqlite3_column_int64(st, i);
}

/* NULLs sort first; then byte order. */
static int cmp_nullable(const char *a, const char *b)
{
    if (a == b)
        return 0; /* interned: one rule's equal strings are one string */
    if (!a || !b)
        return (a != NULL) - (b != NULL);
    return strcmp(a, b);
}

static int cmp_finding(const void *pa, const void *pb)
{
    const struct finding *a = pa, *b = pb;
    int c;
    if ((c = cmp_nullable(a->account_id, b->account_id)))
        return c;
    if ((c = cmp_nullable(a->region, b->region)))
        return c;
    if ((c = strcmp(a->rule_id, b->rule_id)))
        return c;
    if ((c = cmp_nullable(a->trail_arns, b->trail_arns)))
        return c;
    return cmp_nullable(a->detail, b->detail);
}

/* Sorts one rule's findings, which its ORDER BY usually has done already:
 * then this only checks. glibc's qsort is a stable merge sort here. */
static void sort_findings(struct finding *items, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (cmp_finding(&items[i - 1], &items[i]) > 0) {
            qsort(items, n, sizeof(*items), cmp_finding);
            return;
        }
}

/* A sorted run of findings, for merging; `order` breaks ties (rule
 * order), so the merge equals a stable sort of the runs one after the
 * other. */
struct run {
    const struct finding *next, *end;
    size_t order;
};

static int run_before(const struct run *a, const struct run *b)
{
    int c = cmp_finding(a->next, b->next);
    return c < 0 || (c == 0 && a->order < b->order);
}

static void sift_down(struct run *heap, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < n && run_before(&heap[l], &heap[m]))
            m = l;
        if (l + 1 < n && run_before(&heap[l + 1], &heap[m]))
            m = l + 1;
        if (m == i)
            return;
        struct run tmp = heap[i];
        heap[i] = heap[m];
        heap[m] = tmp;
        i = m;
    }
}

/* Merges the non-empty runs into dst (room for all of them): a heap of
 * their heads. */
static void merge_runs(struct finding *dst, struct run *heap, size_t n)
{
    for (size_t i = n; i-- > 0;)
        sift_down(heap, n, i);
    while (n) {
        *dst++ = *heap[0].next++;
        if (heap[0].next == heap[0].end)
            heap[0] = heap[--n];
        sift_down(heap, n, 0);
    }
}

static int run_rule(struct finding_list *out, const struct rule *r,
                    sqlite3 *db, long long snapshot_id, struct ct_error *err)
{
    sqlite3_stmt *st = NULL, *extra = NULL;
    const char *sql = r->sql;
    struct ct_error inner = CT_ERROR_INIT;
    int rc = 0, step;

    if (db_prepare_readonly(&st, db, &sql, &inner)) {
        rc = ct_error_set(err, inner.code, "rule '%s' (%s): %s", r->id,
                          r->origin, inner.message);
        goto done;
    }
    if (!st) {
        rc = ct_error_set(err, CT_EINVAL, "rule '%s' (%s): no statement",
                          r->id, r->origin);
        goto done;
    }
    if (db_prepare_readonly(&extra, db, &sql, &inner) || extra) {
        rc = ct_error_set(err, CT_EINVAL,
                          "rule '%s' (%s): must be exactly one SELECT "
                          "statement",
                          r->id, r->origin);
        goto done;
    }
    int ncol = sqlite3_column_count(st);
    if (ncol != RULE_N_COLUMNS && ncol != RULE_N_COLUMNS + 1) {
        rc = ct_error_set(err, CT_EINVAL,
                          "rule '%s' (%s): returns %d columns, rules return "
                          "%d (rule_id, severity, account_id, region, "
                          "trail_arns, detail, read_copies, write_copies, "
                          "paid_copies), then optionally monthly_cost",
                          r->id, r->origin, ncol, RULE_N_COLUMNS);
        goto done;
    }
    for (int i = 0; i < ncol; i++)
        if (strcmp(sqlite3_column_name(st, i), rule_columns[i]) != 0) {
            rc = ct_error_set(err, CT_EINVAL,
                              "rule '%s' (%s): column %d is '%s', expected "
                              "'%s'",
                              r->id, r->origin, i + 1,
                              sqlite3_column_name(st, i), rule_columns[i]);
            goto done;
        }
    for (int i = 1; i <= sqlite3_bind_parameter_count(st); i++) {
        const char *name = sqlite3_bind_parameter_name(st, i);
        if (!name || strcmp(name, ":snapshot_id") != 0) {
            rc = ct_error_set(err, CT_EINVAL,
                              "rule '%s' (%s): unknown parameter '%s' (rules "
                              "take :snapshot_id only)",
                              r->id, r->origin, name ? name : "?");
            goto done;
        }
        sqlite3_bind_int64(st, i, snapshot_id);
    }
    const char *recent[RULE_N_COLUMNS] = {NULL};
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        struct finding f;
        int oom = 0;
        memset(&f, 0, sizeof(f));
        const char *id = (const char *)sqlite3_column_text(st, 0);
        const char *sev = (const char *)sqlite3_column_text(st, 1);
        if (!id || strcmp(id, r->id) != 0 || severity_rank(sev) == 0) {
            rc = ct_error_set(err, CT_EINVAL,
                              "rule '%s' (%s): a row has rule_id '%s' and "
                              "severity '%s' (expected '%s' and warning or "
                              "info)",
                              r->id, r->origin, id ? id : "NULL",
                              sev ? sev : "NULL", r->id);
            goto done;
        }
        f.rule = r;
        f.rule_id = r->id;
        f.severity = severity_rank(sev) == 2 ? "warning" : "info";
        f.account_id = col_intern(out, st, 2, &recent[2], &oom);
        f.region = col_intern(out, st, 3, &recent[3], &oom);
        f.trail_arns = col_intern(out, st, 4, &recent[4], &oom);
        f.detail = col_intern(out, st, 5, &recent[5], &oom);
        f.read_copies = col_num(st, 6);
        f.write_copies = col_num(st, 7);
        f.paid_copies = col_num(st, 8);
        f.has_cost = ncol > RULE_N_COLUMNS
                     && sqlite3_column_type(st, RULE_N_COLUMNS) != SQLITE_NULL;
        f.monthly_cost = f.has_cost
                             ? sqlite3_column_double(st, RULE_N_COLUMNS)
                             : 0.0;
        if (!oom && out->n == out->cap) {
            size_t ncap = out->cap ? out->cap * 2 : 64;
            struct finding *ni = realloc(out->items, ncap * sizeof(*ni));
            if (ni) {
                out->items = ni;
                out->cap = ncap;
            } else {
                oom = 1;
            }
        }
        if (oom) {
            rc = ct_error_set(err, CT_ENOMEM, "out of memory");
            goto done;
        }
        out->items[out->n++] = f;
    }
    if (step != SQLITE_DONE)
        rc = ct_error_set(err, CT_ESQL, "rule '%s' (%s): %s", r->id,
                          r->origin, sqlite3_errmsg(db));
done:
    sqlite3_finalize(st);
    sqlite3_finalize(extra);
    return rc;
}

/* ---- two connections ---------------------------------------------------- */

struct rule_result {
    struct finding_list list; /* this rule's findings, its own strings */
    struct ct_error err;
    int rc, done;
    int early;                /* taken by the early thread */
};

struct rules_batch {
    const struct rule_set *set;
    long long snapshot_id;
    long long early_id;          /* the snapshot of the early rules' runs */
    struct rule_result *results; /* one per rule */
    size_t *order;               /* the rules, longest first (guessed) */
    pthread_mutex_t lock;        /* guards front and back */
    size_t front, back;          /* order[front..back) are left */
    atomic_int failed;           /* stop taking rules */
    sqlite3 *db2;
    pthread_t thread;
    int started;
    sqlite3 *early_db;           /* the early thread's, closed by it */
    pthread_t early_thread;
    int early_started;
};

/* Runs rule i into its result, from an empty list (a rule that failed
 * on the early connection runs again), sorted here, on the worker's
 * thread, rather than at the end. Returns its status. */
static int run_result(struct rules_batch *b, size_t i, sqlite3 *db,
                      long long snapshot_id)
{
    struct rule_result *res = &b->results[i];
    finding_list_release(&res->list);
    res->list = (struct finding_list)FINDING_LIST_INIT;
    res->err = (struct ct_error)CT_ERROR_INIT;
    res->rc = run_rule(&res->list, &b->set->rules[i], db, snapshot_id,
                       &res->err);
    if (res->rc == 0)
        sort_findings(res->list.items, res->list.n);
    return res->rc;
}

/* Takes rules until none are left (or one failed), running them on db:
 * the second connection from the front of the order, the main one, which
 * starts later (it reads the report's rows first), from the back. */
static void batch_work(struct rules_batch *b, sqlite3 *db, const char *who,
                       int from_back)
{
    for (;;) {
        size_t i = 0;
        pthread_mutex_lock(&b->lock);
        int empty = b->front == b->back;
        if (!empty)
            i = from_back ? b->order[--b->back] : b->order[b->front++];
        pthread_mutex_unlock(&b->lock);
        if (empty || atomic_load(&b->failed))
            return;
        double t = trace_start();
        int rc = run_result(b, i, db, b->snapshot_id);
        b->results[i].done = 1;
        if (rc) {
            atomic_store(&b->failed, 1);
            return;
        }
        trace_perf(t, "rule %s (%s)", b->set->rules[i].id, who);
    }
}

static void *batch_thread(void *arg)
{
    struct rules_batch *b = arg;
    batch_work(b, b->db2, "second connection", 0);
    return NULL;
}

static void batch_free(struct rules_batch *b)
{
    if (!b)
        return;
    if (b->order)
        pthread_mutex_destroy(&b->lock);
    free(b->order);
    free(b->results);
    free(b);
}

int rules_prepare(struct rules_batch **out, const struct rule_set *set,
                  struct ct_error *err)
{
    struct rules_batch *b = calloc(1, sizeof(*b));
    size_t n = set->n_rules ? set->n_rules : 1;
    *out = NULL;
    if (!b || !(b->results = calloc(n, sizeof(*b->results)))
        || !(b->order = calloc(n, sizeof(*b->order)))) {
        batch_free(b);
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    }
    pthread_mutex_init(&b->lock, NULL);
    b->set = set;
    atomic_init(&b->failed, 0);
    /* calloc: every list is FINDING_LIST_INIT, every error CT_ERROR_INIT */
    *out = b;
    return 0;
}

/* Whether rule r's SQL names the identifier name outside comments, in
 * any case (SQL identifiers are case-insensitive), quoted or not. */
static int mentions(const struct rule *r, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = r->sql; *p; p++)
        if (p[0] == '-' && p[1] == '-') {
            while (p[1] && p[1] != '\n')
                p++;
        } else if (p[0] == '/' && p[1] == '*') {
            const char *end = strstr(p + 2, "*/");
            if (!end)
                return 0;
            p = end + 1;
        } else if (sqlite3_strnicmp(p, name, (int)n) == 0
            && !(p > r->sql && (isalnum((unsigned char)p[-1]) || p[-1] == '_'))
            && !(isalnum((unsigned char)p[n]) || p[n] == '_'))
            return 1;
    return 0;
}

/* The early thread: its rules, then its connection closed. A rule that
 * fails here is left for rules_finish, on a connection that reads
 * everything. */
static void *early_thread(void *arg)
{
    struct rules_batch *b = arg;
    for (size_t i = 0; i < b->set->n_rules; i++) {
        if (!b->results[i].early || atomic_load(&b->failed))
            continue;
        double t = trace_start();
        if (run_result(b, i, b->early_db, b->early_id))
            continue;
        b->results[i].done = 1;
        trace_perf(t, "rule %s (early connection)", b->set->rules[i].id);
    }
    sqlite3_close(b->early_db);
    b->early_db = NULL;
    return NULL;
}

int rules_start_early(struct rules_batch *b, sqlite3 *db,
                      long long snapshot_id, const char *const *pending,
                      size_t n_pending)
{
    int any = 0;
    for (size_t i = 0; i < b->set->n_rules; i++) {
        size_t k = 0;
        while (k < n_pending && !mentions(&b->set->rules[i], pending[k]))
            k++;
        b->results[i].early = k == n_pending;
        any |= b->results[i].early;
    }
    b->early_id = snapshot_id;
    b->early_db = db;
    if (any && pthread_create(&b->early_thread, NULL, early_thread, b) == 0) {
        b->early_started = 1;
        return 0;
    }
    for (size_t i = 0; i < b->set->n_rules; i++)
        b->results[i].early = 0;
    b->early_db = NULL;
    return -1;
}

void rules_launch(struct rules_batch *b, sqlite3 *db2, long long snapshot_id)
{
    const struct rule_set *set = b->set;
    size_t k = 0;
    /* on two connections, the rules over v_coverage (a row per account,
     * region and trail) first: the longest last would leave one
     * connection idle. On one, rule order. The early thread's are its. */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < set->n_rules; i++)
            if (!b->results[i].early
                && (!db2 ? pass == 0
                         : mentions(&set->rules[i], "v_coverage") == !pass))
                b->order[k++] = i;
    b->snapshot_id = snapshot_id;
    b->db2 = db2;
    b->front = 0;
    b->back = k;
    /* without a thread, rules_finish runs every rule on the caller's */
    if (db2 && pthread_create(&b->thread, NULL, batch_thread, b) == 0)
        b->started = 1;
}

/* Waits for the early thread; what it could not do (a rule that failed
 * there, or the early rules of another snapshot than the report's) runs
 * again on db, unless db is NULL (abandon). */
static void early_finish(struct rules_batch *b, sqlite3 *db)
{
    if (!b->early_started)
        return;
    pthread_join(b->early_thread, NULL);
    b->early_started = 0;
    for (size_t i = 0; db && i < b->set->n_rules; i++) {
        struct rule_result *res = &b->results[i];
        if (!res->early || (res->done && b->early_id == b->snapshot_id))
            continue;
        run_result(b, i, db, b->snapshot_id);
        res->done = 1;
    }
}

int rules_start(struct rules_batch **out, const struct rule_set *set,
                sqlite3 *db2, long long snapshot_id, struct ct_error *err)
{
    int rc = rules_prepare(out, set, err);
    if (rc == 0)
        rules_launch(*out, db2, snapshot_id);
    return rc;
}

int rules_finish(struct finding_list *out, struct rules_batch *b, sqlite3 *db,
                 struct ct_error *err)
{
    const struct rule_set *set = b->set;
    size_t total = 0;
    int rc = 0;

    if (db)
        batch_work(b, db, "main connection", b->started);
    else
        atomic_store(&b->failed, 1); /* abandon: no more rules */
    if (b->started)
        pthread_join(b->thread, NULL);
    early_finish(b, db);
    if (!db)
        goto done;
    /* the first failing rule in rule order: the same error as rules_run */
    for (size_t i = 0; i < set->n_rules && !rc; i++)
        if (b->results[i].done && b->results[i].rc)
            rc = ct_error_set(err, b->results[i].rc, "%s",
                              b->results[i].err.message);
    if (rc)
        goto done;
    for (size_t i = 0; i < set->n_rules; i++)
        total += b->results[i].list.n;
    struct finding *items = malloc((out->n + total + 1) * sizeof(*items));
    struct run *runs = malloc((set->n_rules + 1) * sizeof(*runs));
    struct strmap *more =
        realloc(out->more, (out->n_more + set->n_rules + 1) * sizeof(*more));
    if (more)
        out->more = more;
    if (!items || !runs || !more) {
        free(items);
        free(runs);
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
        goto done;
    }
    /* what out held, then each rule's sorted findings in rule order:
     * merged, they are what sorting them one after the other gives */
    double t = trace_start();
    size_t n_runs = 0;
    sort_findings(out->items, out->n);
    for (size_t i = 0; i <= set->n_rules; i++) {
        const struct finding_list *l = i ? &b->results[i - 1].list : out;
        if (l->n)
            runs[n_runs++] = (struct run){l->items, l->items + l->n, i};
    }
    merge_runs(items, runs, n_runs);
    free(runs);
    free(out->items);
    out->items = items;
    out->n += total;
    out->cap = out->n + 1;
    for (size_t i = 0; i < set->n_rules; i++) {
        struct finding_list *l = &b->results[i].list;
        struct strmap moved = STRMAP_INIT(0);
        out->more[out->n_more++] = l->strings; /* owned by out now */
        l->strings = moved;
    }
    trace_perf(t, "rules: merge");
done:
    for (size_t i = 0; i < set->n_rules; i++)
        finding_list_release(&b->results[i].list);
    batch_free(b);
    return rc;
}

void rules_abandon(struct rules_batch *b)
{
    struct finding_list none = FINDING_LIST_INIT;
    struct ct_error ignored = CT_ERROR_INIT;
    if (b)
        rules_finish(&none, b, NULL, &ignored);
}

int rules_run(struct finding_list *out, const struct rule_set *set,
              sqlite3 *db, long long snapshot_id, struct ct_error *err)
{
    struct rules_batch *b = NULL;
    int rc = rules_start(&b, set, NULL, snapshot_id, err);
    return rc ? rc : rules_finish(out, b, db, err);
}
