/* Terminal progress line and --verbose log lines for ctcollect. */
#include "collector/progress.h"

#include <unistd.h>

void progress_init(struct progress *p, FILE *out, int verbose)
{
    p->out = out;
    p->is_tty = isatty(fileno(out));
    p->verbose = verbose;
    p->line_shown = 0;
}

void progress_clear(struct progress *p)
{
    if (p->line_shown) {
        fputs("\r\033[K", p->out);
        p->line_shown = 0;
    }
}

void progress_update(void *ctx, const struct scan_progress *sp)
{
    struct progress *p = ctx;
    char eta[32] = "?";
    if (!p->is_tty)
        return;
    if (sp->accounts_total > 0 && sp->accounts_done > 0) {
        double left = sp->elapsed / (double)sp->accounts_done *
                      (double)(sp->accounts_total - sp->accounts_done);
        snprintf(eta, sizeof(eta), "%.0fs", left);
    }
    fprintf(p->out,
            "\r\033[Kctcollect: accounts %zu/%zu, calls %lu, retries %lu, "
            "errors %zu, elapsed %.0fs, eta %s",
            sp->accounts_done, sp->accounts_total, sp->calls, sp->retries,
            sp->errors, sp->elapsed, eta);
    fflush(p->out);
    p->line_shown = 1;
}

void progress_log(void *ctx, const char *line)
{
    struct progress *p = ctx;
    if (!p->verbose)
        return;
    progress_clear(p);
    fprintf(p->out, "ctcollect: %s\n", line);
}

void progress_warn(void *ctx, const char *msg)
{
    struct progress *p = ctx;
    progress_clear(p);
    fprintf(p->out, "ctcollect: warning: %s\n", msg);
}
