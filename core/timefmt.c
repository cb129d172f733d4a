/* Timestamp normalization without locale or time zone dependence. */
#include "core/timefmt.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Days from civil date (Howard Hinnant's algorithm): no timegm(), no TZ. */
static long long days_from_civil(long long y, unsigned m, unsigned d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long long)doe - 719468;
}

static void civil_from_days(long long z, long long *y, unsigned *m,
                            unsigned *d)
{
    z += 719468;
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long yy = (long long)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (*m <= 2);
}

static void format_secs(char out[CT_ISO_TIME_MAX], long long secs, int millis,
                        int has_millis)
{
    long long days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    long long rem = secs - days * 86400;
    long long y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    int hh = (int)(rem / 3600), mm = (int)(rem / 60 % 60), ss = (int)(rem % 60);
    int yy = (int)y;
    if (has_millis)
        snprintf(out, CT_ISO_TIME_MAX, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ",
                 yy, m % 13, d % 32, hh, mm, ss, millis % 1000);
    else
        snprintf(out, CT_ISO_TIME_MAX, "%04d-%02u-%02uT%02d:%02d:%02dZ",
                 yy, m % 13, d % 32, hh, mm, ss);
}

void ct_time_format_utc(char out[CT_ISO_TIME_MAX], time_t t)
{
    format_secs(out, (long long)t, 0, 0);
}

int ct_time_from_epoch(char out[CT_ISO_TIME_MAX], double epoch)
{
    /* years 0001..9999 only: anything else is not a real AWS time */
    if (!isfinite(epoch) || epoch < -62135596800.0 || epoch > 253402300799.0)
        return -1;
    double whole = floor(epoch);
    long long secs = (long long)whole;
    long long ms = llround((epoch - whole) * 1000.0);
    if (ms >= 1000) {
        secs++;
        ms -= 1000;
    }
    format_secs(out, secs, (int)ms, epoch != whole);
    return 0;
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int ct_time_from_iso(char out[CT_ISO_TIME_MAX], const char *s)
{
    int Y, M, D, h, mi, sec, ms = 0, has_ms = 0, off = 0;
    if (strlen(s) < 19 || digits(s, 4, &Y) || s[4] != '-'
        || digits(s + 5, 2, &M) || s[7] != '-' || digits(s + 8, 2, &D)
        || (s[10] != 'T' && s[10] != 't' && s[10] != ' ')
        || digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi)
        || s[16] != ':' || digits(s + 17, 2, &sec))
        return -1;
    if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || mi > 59 || sec > 60)
        return -1;
    const char *p = s + 19;
    if (*p == '.') {
        int n = 0, scale = 100;
        p++;
        while (*p >= '0' && *p <= '9') {
            if (n < 3)
                ms += (*p - '0') * scale;
            scale /= 10;
            n++;
            p++;
        }
        if (n == 0)
            return -1;
        has_ms = 1;
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1, oh, om;
        p++;
        if (digits(p, 2, &oh))
            return -1;
        p += 2;
        if (*p == ':')
            p++;
        if (digits(p, 2, &om))
            return -1;
        p += 2;
        if (oh > 23 || om > 59)
            return -1;
        off = sign * (oh * 3600 + om * 60);
    } else if (*p != '\0') {
        return -1;
    }
    if (*p != '\0')
        return -1;
    long long secs = days_from_civil(Y, (unsigned)M, (unsigned)D) * 86400
                     + h * 3600 + mi * 60 + sec - off;
    format_secs(out, secs, ms, has_ms);
    return 0;
}
