/*
 * Performance trace, in the manner of git's GIT_TRACE_PERFORMANCE: with
 * CTAUDIT_TRACE_PERFORMANCE set (to anything but "" or "0"), each traced
 * step prints one line to stderr:
 *
 *     ctaudit: perf: 0.412 s view v_coverage
 *
 * Off by default; nothing is printed and nearly nothing is done. The
 * lines are for people measuring (bench/README.md), not a stable format.
 */
#ifndef CT_ANALYZER_TRACE_H
#define CT_ANALYZER_TRACE_H

/* Seconds on a monotonic clock, or 0 when tracing is off. */
double trace_start(void);

/* Prints the time since `start` (from trace_start) and the step's name,
 * formatted like printf. Does nothing when tracing is off. */
void trace_perf(double start, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif
