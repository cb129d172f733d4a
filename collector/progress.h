/*
 * Progress and diagnostics on stderr for ctcollect (the one collector
 * module besides main.c that prints). On a terminal a single status line is
 * redrawn; otherwise nothing until the summary line.
 */
#ifndef CT_COLLECTOR_PROGRESS_H
#define CT_COLLECTOR_PROGRESS_H

#include <stdio.h>

#include "collector/scan.h"

struct progress {
    FILE *out; /* borrowed, normally stderr */
    int is_tty;
    int verbose;
    int line_shown; /* a status line is on screen */
};

void progress_init(struct progress *p, FILE *out, int verbose);

/* scan_progress_fn: redraws the status line on a terminal. */
void progress_update(void *ctx, const struct scan_progress *sp);

/* aws_log_fn for --verbose. */
void progress_log(void *ctx, const char *line);

/* A warning line (always shown). */
void progress_warn(void *ctx, const char *msg);

/* Clears the status line (before other messages). */
void progress_clear(struct progress *p);

#endif
