/*
 * Timestamps in snapshots come in two shapes: epoch seconds (integer or
 * fractional: raw API bodies, AWS CLI v1) and ISO-8601 strings with an
 * offset (AWS CLI v2). Both normalize to ISO-8601 UTC text:
 * "2016-01-28T23:02:24Z", or "...24.869Z" when the input has milliseconds.
 */
#ifndef CT_CORE_TIMEFMT_H
#define CT_CORE_TIMEFMT_H

#include <time.h>

#define CT_ISO_TIME_MAX 32

/* Epoch seconds (with optional fraction, rounded to milliseconds). */
int ct_time_from_epoch(char out[CT_ISO_TIME_MAX], double epoch);

/*
 * Parses "YYYY-MM-DDTHH:MM:SS[.fff...](Z|+HH:MM|-HH:MM|+HHMM)" (a space may
 * stand for 'T') and writes the UTC form. Returns 0, or -1 when s is not
 * such a time (out untouched).
 */
int ct_time_from_iso(char out[CT_ISO_TIME_MAX], const char *s);

/* Formats t (UTC) as "YYYY-MM-DDTHH:MM:SSZ". */
void ct_time_format_utc(char out[CT_ISO_TIME_MAX], time_t t);

#endif
