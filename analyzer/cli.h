/*
 * Helpers shared by the subcommands (CLI code: these may print to stderr).
 */
#ifndef CT_ANALYZER_CLI_H
#define CT_ANALYZER_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "analyzer/load.h"

#define CT_EXIT_OK 0
#define CT_EXIT_ERROR 1
#define CT_EXIT_USAGE 2
#define CT_EXIT_FINDINGS 3

#define CT_PROGRAM "ctaudit"

/* "ctaudit: <fmt>" on stderr, one line. */
void cli_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* Parses "64M", "1G", "4096" (binary units). 0 on success. */
int cli_parse_size(const char *s, uint64_t *out);

/* Warning callback for load_options: prints the first 20 warnings. */
void cli_load_warning(void *ctx, const char *source, const char *member,
                      const char *msg);

/* Counts printed/suppressed warnings; pass as warn_ctx. */
struct cli_warnings {
    unsigned long printed;
    unsigned long suppressed;
    int quiet;
};

/* Prints "... and N more warnings" if some were suppressed. */
void cli_warnings_finish(const struct cli_warnings *w);

/* Long options every reading command shares (--no-verify, limits). Returns
 * 1 if opt was one of them (handled), 0 if not, -1 on a bad value. */
int cli_load_option(int opt, const char *arg, struct load_options *lo);

/*
 * --format VALUE of command cmd: the index of VALUE in names (a
 * NULL-terminated list whose first entry is "markdown", also spelled
 * "md"), or -1 after printing "<cmd>: unknown format 'VALUE' (a, b)".
 */
int cli_format(const char *cmd, const char *arg, const char *const *names);

#define CLI_OPT_NO_VERIFY 1001
#define CLI_OPT_MAX_MEMBER 1002
#define CLI_OPT_MAX_TOTAL 1003

#define CLI_LOAD_LONG_OPTIONS                                                 \
    {"no-verify", no_argument, NULL, CLI_OPT_NO_VERIFY},                      \
        {"max-member-size", required_argument, NULL, CLI_OPT_MAX_MEMBER},     \
        {"max-total-size", required_argument, NULL, CLI_OPT_MAX_TOTAL}

#define CLI_LOAD_HELP                                                         \
    "      --no-verify          load even if members do not match the "       \
    "manifest\n"                                                              \
    "      --max-member-size N  largest member, uncompressed (default 64M)\n" \
    "      --max-total-size N   largest snapshot, uncompressed (default "     \
    "16G)\n"

/*
 * Writes path atomically: render(f, ctx) into a temporary file beside it,
 * then a rename, so a failure leaves path untouched and no temporary file.
 * Errors are printed as "<cmd>: cannot ... 'path': reason". 0 on success.
 */
int cli_write_atomic(const char *cmd, const char *path,
                     int (*render)(FILE *f, const void *ctx),
                     const void *ctx);

/* Closes stdout and reports a write error (disk full, closed pipe). */
int cli_finish_stdout(void);

/*
 * Creates an empty file $TMPDIR/ctaudit-<what>-XXXXXX (/tmp without
 * TMPDIR) and returns its path in *out (owned: free), or prints
 * "<cmd>: cannot create a work file in DIR: reason" and returns -1.
 */
int cli_temp_file(const char *cmd, const char *what, char **out);

/*
 * Removes the temporary files paths[0..n) (NULL entries skipped) if
 * SIGINT, SIGTERM or SIGHUP ends the program, then dies of the same signal.
 * One set at a time: n = 0 forgets it (call before freeing or removing
 * them). The array and its strings are borrowed until then.
 */
void cli_remove_on_signal(char *const *paths, size_t n);

#endif
