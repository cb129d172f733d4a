/*
 * Renders the rows of a prepared statement as an aligned text table, CSV
 * (RFC 4180) or JSON (an array of objects, keys in column order). Values
 * are never interpreted: text is escaped for the format, nothing else.
 */
#ifndef CT_ANALYZER_OUTPUT_H
#define CT_ANALYZER_OUTPUT_H

#include <stdio.h>

#include <jansson.h>

#include <sqlite3.h>

#include "core/error.h"

enum out_format { OUT_TABLE, OUT_CSV, OUT_JSON };

/* "table", "csv", "json" -> format; -1 if unknown. */
int out_parse_format(const char *name);

/* Steps st to the end, writing its rows to f. */
int out_write_rows(FILE *f, sqlite3_stmt *st, enum out_format fmt,
                   struct ct_error *err);

/* Writes s as one CSV field (quoted when needed). */
void out_csv_field(FILE *f, const char *s);

/* Writes s as Markdown text that cannot change the document's structure:
 * `\ | * _ ` < > [ ] #` are backslash-escaped (table cells stay cells, no
 * emphasis, code, links or HTML) and control characters become spaces (one
 * line). NULL writes nothing. Every Markdown renderer uses it. */
void out_md(FILE *f, const char *s);

/* JSON values for the renderers (new references, or NULL on OOM). A string
 * that is not UTF-8 keeps its ASCII and '?' for the other bytes: jansson
 * refuses it and the key would vanish. NULL s gives null. */
json_t *out_json_strn(const char *s, size_t n);
json_t *out_json_str(const char *s);
/* A count, null when negative (unknown). */
json_t *out_json_num(long long v);

#endif
