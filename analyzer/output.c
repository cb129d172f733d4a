/* Query result rendering for `ctaudit sql`. */
#include "analyzer/output.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

int out_parse_format(const char *name)
{
    if (strcmp(name, "table") == 0)
        return OUT_TABLE;
    if (strcmp(name, "csv") == 0)
        return OUT_CSV;
    if (strcmp(name, "json") == 0)
        return OUT_JSON;
    return -1;
}

void out_csv_field(FILE *f, const char *s)
{
    if (!s)
        return;
    /* A leading =, +, - or @ is quoted too, so spreadsheets keep it text. */
    int quote = strpbrk(s, ",\"\r\n") != NULL || s[0] == '=' || s[0] == '+'
                || s[0] == '-' || s[0] == '@' || s[0] == ' ';
    if (!quote) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static int sql_step_error(sqlite3_stmt *st, struct ct_error *err)
{
    return ct_error_set(err, CT_ESQL, "%s",
                        sqlite3_errmsg(sqlite3_db_handle(st)));
}

static int write_csv(FILE *f, sqlite3_stmt *st, struct ct_error *err)
{
    int n = sqlite3_column_count(st), r;
    for (int i = 0; i < n; i++) {
        if (i)
            fputc(',', f);
        out_csv_field(f, sqlite3_column_name(st, i));
    }
    fputs("\r\n", f);
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        for (int i = 0; i < n; i++) {
            if (i)
                fputc(',', f);
            out_csv_field(f, (const char *)sqlite3_column_text(st, i));
        }
        fputs("\r\n", f);
    }
    return r == SQLITE_DONE ? 0 : sql_step_error(st, err);
}

static json_t *column_json(sqlite3_stmt *st, int i)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER:
        return json_integer(sqlite3_column_int64(st, i));
    case SQLITE_FLOAT:
        return json_real(sqlite3_column_double(st, i));
    case SQLITE_NULL:
        return json_null();
    case SQLITE_BLOB: {
        static const char hex[] = "0123456789abcdef";
        const unsigned char *b = sqlite3_column_blob(st, i);
        int len = sqlite3_column_bytes(st, i);
        char *s = malloc((size_t)len * 2 + 1);
        if (!s)
            return NULL;
        for (int k = 0; k < len; k++) {
            s[2 * k] = hex[b[k] >> 4];
            s[2 * k + 1] = hex[b[k] & 15];
        }
        s[2 * len] = '\0';
        json_t *v = json_string(s);
        free(s);
        return v;
    }
    default: {
        const char *t = (const char *)sqlite3_column_text(st, i);
        int len = sqlite3_column_bytes(st, i);
        /* json_stringn_nocheck would accept invalid UTF-8: check, and
         * fall back to a lossless hex form rather than emit bad JSON */
        json_t *v = json_stringn(t ? t : "", (size_t)len);
        return v ? v : json_string("(invalid UTF-8)");
    }
    }
}

static int write_json(FILE *f, sqlite3_stmt *st, struct ct_error *err)
{
    int n = sqlite3_column_count(st), r, first = 1;
    fputs("[", f);
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *row = json_object();
        if (!row)
            return ct_error_set(err, CT_ENOMEM, "out of memory");
        for (int i = 0; i < n; i++)
            json_object_set_new(row, sqlite3_column_name(st, i),
                                column_json(st, i));
        fputs(first ? "\n  " : ",\n  ", f);
        first = 0;
        json_dumpf(row, f, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(row);
    }
    fputs(first ? "]\n" : "\n]\n", f);
    return r == SQLITE_DONE ? 0 : sql_step_error(st, err);
}

/* Display width of UTF-8 text: code points, not bytes. */
static size_t text_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            w++;
    return w;
}

static void put_cell(FILE *f, const char *s, size_t width)
{
    size_t w = 0;
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        fputc(c < 0x20 || c == 0x7f ? ' ' : c, f);
        if ((c & 0xC0) != 0x80)
            w++;
    }
    for (; w < width; w++)
        fputc(' ', f);
}

static int write_table(FILE *f, sqlite3_stmt *st, struct ct_error *err)
{
    int n = sqlite3_column_count(st), r, rc = 0;
    size_t rows = 0, cap = 0;
    char **cells = NULL;
    size_t *width = calloc((size_t)(n ? n : 1), sizeof(size_t));
    if (!width)
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    for (int i = 0; i < n; i++)
        width[i] = text_width(sqlite3_column_name(st, i));
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        if (rows == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            char **nc = realloc(cells, ncap * (size_t)n * sizeof(char *));
            if (!nc) {
                rc = ct_error_set(err, CT_ENOMEM, "out of memory");
                goto done;
            }
            cells = nc;
            cap = ncap;
        }
        for (int i = 0; i < n; i++) {
            const char *t = (const char *)sqlite3_column_text(st, i);
            char *c = strdup(t ? t : "NULL");
            if (!c) {
                for (int k = 0; k < i; k++)
                    free(cells[rows * (size_t)n + (size_t)k]);
                rc = ct_error_set(err, CT_ENOMEM, "out of memory");
                goto done;
            }
            cells[rows * (size_t)n + (size_t)i] = c;
            if (text_width(c) > width[i])
                width[i] = text_width(c);
        }
        rows++;
    }
    if (r != SQLITE_DONE) {
        rc = sql_step_error(st, err);
        goto done;
    }
    for (int i = 0; i < n; i++) {
        if (i)
            fputs(" | ", f);
        put_cell(f, sqlite3_column_name(st, i), i + 1 < n ? width[i] : 0);
    }
    fputc('\n', f);
    for (int i = 0; i < n; i++) {
        if (i)
            fputs("-+-", f);
        for (size_t k = 0; k < width[i]; k++)
            fputc('-', f);
    }
    fputc('\n', f);
    for (size_t row = 0; row < rows; row++) {
        for (int i = 0; i < n; i++) {
            if (i)
                fputs(" | ", f);
            put_cell(f, cells[row * (size_t)n + (size_t)i],
                     i + 1 < n ? width[i] : 0);
        }
        fputc('\n', f);
    }
done:
    for (size_t k = 0; k < rows * (size_t)n; k++)
        free(cells[k]);
    free(cells);
    free(width);
    return rc;
}

int out_write_rows(FILE *f, sqlite3_stmt *st, enum out_format fmt,
                   struct ct_error *err)
{
    switch (fmt) {
    case OUT_CSV:
        return write_csv(f, st, err);
    case OUT_JSON:
        return write_json(f, st, err);
    default:
        return write_table(f, st, err);
    }
}

/* Whether out_md copies byte c as it is. */
static int md_plain(unsigned char c)
{
    switch (c) {
    case '\\': case '|': case '*': case '_': case '`': case '<': case '>':
    case '[': case ']': case '#': case 0x7f:
        return 0;
    default:
        return c >= 0x20;
    }
}

void out_md(FILE *f, const char *s)
{
    /* runs of plain bytes go out in one fwrite: a report is mostly cells,
     * and a locked fputc per byte took half of rendering */
    while (s && *s) {
        const char *run = s;
        while (*s && md_plain((unsigned char)*s))
            s++;
        if (s > run)
            fwrite(run, 1, (size_t)(s - run), f);
        if (!*s)
            break;
        if ((unsigned char)*s < 0x20 || *s == 0x7f) {
            fputc(' ', f);
        } else {
            fputc('\\', f);
            fputc(*s, f);
        }
        s++;
    }
}

json_t *out_json_strn(const char *s, size_t n)
{
    json_t *v = json_stringn(s, n);
    char *copy;
    if (v)
        return v;
    if (!(copy = malloc(n + 1)))
        return NULL;
    for (size_t i = 0; i < n; i++)
        copy[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
    v = json_stringn(copy, n);
    free(copy);
    return v;
}

json_t *out_json_str(const char *s)
{
    return s ? out_json_strn(s, strlen(s)) : json_null();
}

json_t *out_json_num(long long v)
{
    return v < 0 ? json_null() : json_integer(v);
}
