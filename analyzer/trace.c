/* Performance trace: see trace.h. */
#include "analyzer/trace.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int trace_enabled(void)
{
    static int enabled = -1;
    if (enabled < 0) {
        const char *v = getenv("CTAUDIT_TRACE_PERFORMANCE");
        enabled = v && *v && strcmp(v, "0") != 0;
    }
    return enabled;
}

double trace_start(void)
{
    struct timespec ts;
    if (!trace_enabled() || clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void trace_perf(double start, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    if (!trace_enabled())
        return;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    fprintf(stderr, "ctaudit: perf: %.3f s %s\n", trace_start() - start,
            what);
}
