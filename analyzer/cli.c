/* Shared CLI plumbing: messages, sizes, load options, stdout checks. */
#include "analyzer/cli.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void print_sanitized(FILE *f, const char *s);

void cli_error(const char *fmt, ...)
{
    /* messages quote member names from the snapshot: one line, no
     * terminal escapes */
    char msg[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s: ", CT_PROGRAM);
    print_sanitized(stderr, msg);
    fputc('\n', stderr);
}

int cli_parse_size(const char *s, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || s[0] == '-')
        return -1;
    unsigned shift = 0;
    switch (*end) {
    case '\0': break;
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    default: return -1;
    }
    if (*end == 'i' || *end == 'B')
        end++;
    if (*end == 'B')
        end++;
    if (*end != '\0' || v == 0 || (shift && v > (UINT64_MAX >> shift)))
        return -1;
    *out = (uint64_t)v << shift;
    return 0;
}

/* Replaces control characters so a hostile member name stays one line. */
static void print_sanitized(FILE *f, const char *s)
{
    for (; *s; s++)
        fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
}

void cli_load_warning(void *ctx, const char *source, const char *member,
                      const char *msg)
{
    struct cli_warnings *w = ctx;
    if (w && w->quiet)
        return;
    if (w && w->printed >= 20) {
        w->suppressed++;
        return;
    }
    if (w)
        w->printed++;
    fprintf(stderr, "%s: warning: '", CT_PROGRAM);
    print_sanitized(stderr, source);
    fputs("': member '", stderr);
    print_sanitized(stderr, member);
    fputs("': ", stderr);
    print_sanitized(stderr, msg);
    fputc('\n', stderr);
}

void cli_warnings_finish(const struct cli_warnings *w)
{
    if (w->suppressed)
        fprintf(stderr,
                "%s: warning: ... and %lu more warnings (table "
                "load_warnings)\n",
                CT_PROGRAM, w->suppressed);
}

int cli_load_option(int opt, const char *arg, struct load_options *lo)
{
    switch (opt) {
    case CLI_OPT_NO_VERIFY:
        lo->verify = 0;
        return 1;
    case CLI_OPT_MAX_MEMBER:
    case CLI_OPT_MAX_TOTAL: {
        uint64_t v;
        if (cli_parse_size(arg, &v) != 0) {
            cli_error("invalid size '%s' (examples: 64M, 2G)", arg);
            return -1;
        }
        if (opt == CLI_OPT_MAX_MEMBER)
            lo->limits.max_member = v;
        else
            lo->limits.max_total = v;
        return 1;
    }
    default:
        return 0;
    }
}

int cli_finish_stdout(void)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_error("cannot write output: %s", strerror(errno));
        return CT_EXIT_ERROR;
    }
    return CT_EXIT_OK;
}

int cli_write_atomic(const char *cmd, const char *path,
                     int (*render)(FILE *f, const void *ctx), const void *ctx)
{
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    int fd, rc = -1;
    FILE *f = NULL;
    if (!tmp) {
        cli_error("%s: out of memory", cmd);
        return -1;
    }
    snprintf(tmp, n, "%s.tmp.XXXXXX", path);
    fd = mkstemp(tmp);
    if (fd < 0 || !(f = fdopen(fd, "w"))) {
        cli_error("%s: cannot create '%s': %s", cmd, tmp, strerror(errno));
        if (fd >= 0)
            close(fd);
        goto done;
    }
    if (render(f, ctx) || fflush(f) || ferror(f)) {
        cli_error("%s: cannot write '%s': %s", cmd, path, strerror(errno));
        goto done;
    }
    if (fclose(f)) {
        f = NULL;
        cli_error("%s: cannot write '%s': %s", cmd, path, strerror(errno));
        goto done;
    }
    f = NULL;
    if (rename(tmp, path) != 0) {
        cli_error("%s: cannot rename to '%s': %s", cmd, path,
                  strerror(errno));
        goto done;
    }
    rc = 0;
done:
    if (f)
        fclose(f);
    if (rc && fd >= 0)
        unlink(tmp);
    free(tmp);
    return rc;
}

static char *const *volatile signal_paths;
static volatile size_t signal_n;

static void remove_and_die(int sig)
{
    char *const *paths = signal_paths;
    for (size_t i = 0; paths && i < signal_n; i++)
        if (paths[i])
            unlink(paths[i]); /* async-signal-safe */
    signal(sig, SIG_DFL);
    raise(sig);
}

void cli_remove_on_signal(char *const *paths, size_t n)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    signal_paths = NULL; /* never a half-updated pair */
    signal_n = n;
    signal_paths = n ? paths : NULL;
    for (size_t i = 0; i < sizeof(sigs) / sizeof(*sigs); i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = n ? remove_and_die : SIG_DFL;
        sigemptyset(&sa.sa_mask);
        sigaction(sigs[i], &sa, NULL);
    }
}

int cli_temp_file(const char *cmd, const char *what, char **out)
{
    const char *dir = getenv("TMPDIR");
    size_t n;
    char *path;
    int fd;
    *out = NULL;
    if (!dir || !*dir)
        dir = "/tmp";
    n = strlen(dir) + strlen(what) + sizeof("/ctaudit--XXXXXX");
    if (!(path = malloc(n))) {
        cli_error("%s: out of memory", cmd);
        return -1;
    }
    snprintf(path, n, "%s/ctaudit-%s-XXXXXX", dir, what);
    if ((fd = mkstemp(path)) < 0) {
        cli_error("%s: cannot create a work file in '%s': %s (set TMPDIR "
                  "to a writable directory)",
                  cmd, dir, strerror(errno));
        free(path);
        return -1;
    }
    close(fd);
    *out = path;
    return 0;
}

int cli_format(const char *cmd, const char *arg, const char *const *names)
{
    char list[128] = "";
    size_t used = 0;
    if (strcmp(arg, "md") == 0)
        return 0;
    for (int i = 0; names[i]; i++) {
        if (strcmp(arg, names[i]) == 0)
            return i;
        int n = snprintf(list + used, sizeof(list) - used, "%s%s",
                         i ? ", " : "", names[i]);
        if (n > 0 && (size_t)n < sizeof(list) - used)
            used += (size_t)n;
    }
    cli_error("%s: unknown format '%s' (%s)", cmd, arg, list);
    return -1;
}
