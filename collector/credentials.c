/*
 * The credential chain of the AWS SDKs, common half: environment variables,
 * then a profile of the shared config and credentials files (static keys,
 * role_arn + source_profile through the engine's AssumeRole callback,
 * credential_process). Providers are rows of a static table, so that SSO,
 * container, IMDS and web identity arrive as new rows.
 *
 * INI files are parsed by inih. Debian's libinih reads lines of at most
 * 200 bytes unless its run-time options say otherwise, and a session token
 * is longer: when those options exist (CT_HAVE_INIH_RUNTIME_OPTIONS, found
 * by auth.cmake) they are set to a heap buffer of CREDS_INI_LINE_MAX and
 * no inline comments (process-wide settings of inih, which nothing else in
 * ctcollect uses); in any case a longer line is refused rather than
 * silently truncated.
 */
#include "collector/credentials.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ini.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include "collector/creds_internal.h"
#include "core/timefmt.h"

extern char **environ;

#define CREDS_MAX_FILE (1024 * 1024)   /* shared config files */
#define CREDS_INI_LINE_MAX 65536       /* with inih's run-time options */
#define CREDS_MAX_DEPTH 8              /* role_arn -> source_profile chain */
#define CREDS_PROCESS_TIMEOUT_MS 60000 /* credential_process default */
#define CREDS_PROCESS_MAX_OUT (64 * 1024)
#define CREDS_PROCESS_MAX_ERR 2048
#define CREDS_MIN_DURATION 900
#define CREDS_MAX_DURATION 43200
#define CREDS_TRIED_MAX 768

/* Where a key came from; a higher rank wins for the same profile. */
enum creds_rank {
    RANK_CONFIG_DEFAULT = 0, /* config [default] */
    RANK_CONFIG_PROFILE = 1, /* config [profile name] */
    RANK_CREDENTIALS = 2     /* credentials [name] */
};

struct creds_kv {
    char *profile; /* profile name, or sso-session name when is_session */
    int is_session;
    char *key;
    char *value; /* may be a secret: wiped on release */
    int rank;
};

/* Both shared files, merged. */
struct creds_files {
    char *config_path;      /* owned, after ~ expansion */
    char *credentials_path; /* owned */
    struct creds_kv *kv;
    size_t n_kv;
    size_t cap_kv;
};

struct creds_chain {
    const struct creds_options *opt;
    const char *profile;     /* selected profile name (borrowed) */
    int is_profile_explicit; /* --profile or AWS_PROFILE */
    int has_files;
    struct creds_files files;
    time_t now;
    char tried[CREDS_TRIED_MAX]; /* "; "-separated, for the final error */
};

typedef int (*creds_provider_fn)(struct creds_result *out,
                                 struct creds_chain *ch, struct ct_error *err);

struct creds_provider {
    const char *name;
    creds_provider_fn resolve; /* 0, CREDS_NOT_FOUND or a ct_status */
};

static int provider_env(struct creds_result *out, struct creds_chain *ch,
                        struct ct_error *err);
static int provider_profile(struct creds_result *out, struct creds_chain *ch,
                            struct ct_error *err);

/* The chain, in the SDKs' order. */
static int provider_web_identity_env(struct creds_result *out,
                                     struct creds_chain *ch,
                                     struct ct_error *err);
static int provider_container(struct creds_result *out, struct creds_chain *ch,
                              struct ct_error *err);
static int provider_imds(struct creds_result *out, struct creds_chain *ch,
                         struct ct_error *err);

/*
 * The chain, in the SDKs' order (Java and Go: environment keys, web identity
 * from the environment, the profile, then the container and instance
 * metadata endpoints). Inside a profile: role_arn with source_profile or
 * credential_source, web_identity_token_file, IAM Identity Center, static
 * keys of the credentials file, credential_process, static keys of config.
 */
static const struct creds_provider creds_providers[] = {
    {"environment", provider_env},
    {"web identity", provider_web_identity_env},
    {"shared config profile", provider_profile},
    {"container", provider_container},
    {"EC2 instance metadata", provider_imds},
};

void ct_credentials_release(struct ct_credentials *c)
{
    if (!c)
        return;
    creds_free_secret(c->access_key_id);
    creds_free_secret(c->secret_access_key);
    creds_free_secret(c->session_token);
    *c = (struct ct_credentials)CT_CREDENTIALS_INIT;
}

int ct_credentials_copy(struct ct_credentials *out,
                        const struct ct_credentials *src, struct ct_error *err)
{
    struct ct_credentials c = CT_CREDENTIALS_INIT;
    if (!src || !src->access_key_id || !src->secret_access_key)
        return ct_error_set(err, CT_EINVAL, "incomplete credentials to copy");
    c.access_key_id = creds_strdup(src->access_key_id);
    c.secret_access_key = creds_strdup(src->secret_access_key);
    if (src->session_token)
        c.session_token = creds_strdup(src->session_token);
    if (!c.access_key_id || !c.secret_access_key ||
        (src->session_token && !c.session_token)) {
        ct_credentials_release(&c);
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    }
    c.expiration = src->expiration;
    c.provider = src->provider;
    *out = c;
    return 0;
}

/* Credentials from three strings; out assigned only on success. */
static int creds_make(struct ct_credentials *out, const char *akid,
                      const char *secret, const char *token, time_t expiration,
                      const char *provider, struct ct_error *err)
{
    struct ct_credentials src = {(char *)akid, (char *)secret,
                                 token && *token ? (char *)token : NULL,
                                 expiration, provider};
    return ct_credentials_copy(out, &src, err);
}

void creds_result_release(struct creds_result *r)
{
    if (!r)
        return;
    ct_credentials_release(&r->creds);
    free(r->region);
    free(r->profile);
    r->region = NULL;
    r->profile = NULL;
}

const char *creds_default_region(const char *cli, const char *profile_region)
{
    if (cli && *cli)
        return cli;
    const char *v = creds_env("AWS_REGION");
    if (!v)
        v = creds_env("AWS_DEFAULT_REGION");
    if (!v && profile_region && *profile_region)
        v = profile_region;
    return v;
}

static void chain_warn(struct creds_chain *ch, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void chain_warn(struct creds_chain *ch, const char *fmt, ...)
{
    char msg[CT_ERROR_MSG_MAX];
    va_list ap;
    if (!ch->opt || !ch->opt->warn)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ch->opt->warn(ch->opt->warn_ctx, msg);
}

static void tried_add(struct creds_chain *ch, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void tried_add(struct creds_chain *ch, const char *fmt, ...)
{
    size_t len = strlen(ch->tried);
    va_list ap;
    if (len > 0 && len + 2 < sizeof(ch->tried)) {
        memcpy(ch->tried + len, "; ", 3);
        len += 2;
    }
    if (len + 1 >= sizeof(ch->tried))
        return;
    va_start(ap, fmt);
    vsnprintf(ch->tried + len, sizeof(ch->tried) - len, fmt, ap);
    va_end(ap);
}

/* ---- shared files ------------------------------------------------------ */

static void files_release(struct creds_files *f)
{
    for (size_t i = 0; i < f->n_kv; i++) {
        free(f->kv[i].profile);
        free(f->kv[i].key);
        creds_free_secret(f->kv[i].value);
    }
    free(f->kv);
    free(f->config_path);
    free(f->credentials_path);
    memset(f, 0, sizeof(*f));
}

/* The value of key in profile (borrowed), highest rank and last wins. */
static const char *files_get_rank(const struct creds_files *f,
                                  const char *profile, const char *key,
                                  int *rank)
{
    const char *best = NULL;
    int best_rank = -1;
    for (size_t i = 0; i < f->n_kv; i++) {
        const struct creds_kv *kv = &f->kv[i];
        if (!kv->is_session && kv->rank >= best_rank &&
            strcmp(kv->profile, profile) == 0 &&
            strcasecmp(kv->key, key) == 0) {
            best = kv->value;
            best_rank = kv->rank;
        }
    }
    if (rank)
        *rank = best_rank;
    return best;
}

static const char *files_get(const struct creds_files *f, const char *profile,
                             const char *key)
{
    return files_get_rank(f, profile, key, NULL);
}

static int files_has_profile(const struct creds_files *f, const char *profile)
{
    for (size_t i = 0; i < f->n_kv; i++)
        if (!f->kv[i].is_session && strcmp(f->kv[i].profile, profile) == 0)
            return 1;
    return 0;
}

/* A key of an [sso-session NAME] section of the config file (borrowed). */
static const char *files_get_session(const struct creds_files *f,
                                     const char *session, const char *key)
{
    const char *best = NULL;
    for (size_t i = 0; i < f->n_kv; i++)
        if (f->kv[i].is_session && strcmp(f->kv[i].profile, session) == 0 &&
            strcasecmp(f->kv[i].key, key) == 0)
            best = f->kv[i].value;
    return best;
}

struct ini_ctx {
    struct creds_files *files;
    int is_config;
    int has_secret; /* the file holds a secret key or token */
    int has_failed; /* out of memory */
};

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* inih callback: one key of one section. Returns 0 only on OOM. */
static int ini_handler_fn(void *user, const char *section, const char *name,
                          const char *value)
{
    struct ini_ctx *ctx = user;
    struct creds_files *f = ctx->files;
    const char *profile = section;
    int rank = RANK_CREDENTIALS, is_session = 0;
    if (ctx->is_config) {
        if (strcmp(section, "default") == 0) {
            rank = RANK_CONFIG_DEFAULT;
        } else if (strncmp(section, "profile", 7) == 0 &&
                   is_blank(section[7])) {
            profile = section + 7;
            while (is_blank(*profile))
                profile++;
            rank = RANK_CONFIG_PROFILE;
        } else if (strncmp(section, "sso-session", 11) == 0 &&
                   is_blank(section[11])) {
            profile = section + 11;
            while (is_blank(*profile))
                profile++;
            is_session = 1;
        } else {
            return 1; /* services...: not profiles */
        }
    }
    if (!*profile)
        return 1;
    if (strcasecmp(name, "aws_secret_access_key") == 0 ||
        strcasecmp(name, "aws_session_token") == 0)
        ctx->has_secret = 1;
    if (f->n_kv == f->cap_kv) {
        size_t cap = f->cap_kv ? f->cap_kv * 2 : 32;
        struct creds_kv *kv = realloc(f->kv, cap * sizeof(*kv));
        if (!kv) {
            ctx->has_failed = 1;
            return 0;
        }
        f->kv = kv;
        f->cap_kv = cap;
    }
    struct creds_kv *kv = &f->kv[f->n_kv];
    kv->profile = creds_strdup(profile);
    kv->key = creds_strdup(name);
    kv->value = creds_strdup(value ? value : "");
    kv->rank = rank;
    kv->is_session = is_session;
    f->n_kv++;
    if (!kv->profile || !kv->key || !kv->value) {
        ctx->has_failed = 1;
        return 0;
    }
    return 1;
}

/* The longest line inih reads whole (without "\r\n" and NUL). */
static size_t ini_line_limit(void)
{
#ifdef CT_HAVE_INIH_RUNTIME_OPTIONS
    ini_use_stack = 0;
    ini_allow_realloc = 1;
    ini_max_line = CREDS_INI_LINE_MAX;
    /* the SDKs (Python configparser) know no inline comments: a ';' is
     * part of a credential_process command line */
    ini_allow_inline_comments = 0;
    return CREDS_INI_LINE_MAX - 3;
#else
    return INI_MAX_LINE - 3;
#endif
}

/* Reads fd whole into a NUL-terminated buffer (owned). */
static int read_all(char **out, size_t *out_len, int fd, size_t max,
                    const char *path, struct ct_error *err)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    if (!buf)
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    for (;;) {
        if (len + 1 == cap) {
            if (cap > max) {
                OPENSSL_cleanse(buf, len);
                free(buf);
                return ct_error_set(err, CT_ELIMIT,
                                    "'%s' is larger than %zu bytes", path, max);
            }
            char *p = malloc(cap * 2);
            if (!p) {
                OPENSSL_cleanse(buf, len);
                free(buf);
                return ct_error_set(err, CT_ENOMEM, "out of memory");
            }
            memcpy(p, buf, len);
            OPENSSL_cleanse(buf, len);
            free(buf);
            buf = p;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + len, cap - len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            OPENSSL_cleanse(buf, len);
            free(buf);
            return ct_error_set(err, CT_EIO, "cannot read '%s': %s", path,
                                strerror(e));
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return 0;
}

/*
 * Parses one shared file into files. A missing file is not an error. The
 * file is read once through one descriptor, so the permission check and
 * the contents belong to the same file.
 */
static int files_load(struct creds_files *files, const char *path,
                      int is_config, struct creds_chain *ch,
                      struct ct_error *err)
{
    int rc = 0, fd = -1;
    char *text = NULL;
    size_t len = 0;
    struct stat st;
    struct ini_ctx ctx = {files, is_config, 0, 0};

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return 0;
        return ct_error_set(err, CT_EIO, "cannot open '%s': %s", path,
                            strerror(errno));
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = ct_error_set(err, CT_EIO, "'%s' is not a regular file", path);
        goto done;
    }
    rc = read_all(&text, &len, fd, CREDS_MAX_FILE, path, err);
    if (rc)
        goto done;
    if (strlen(text) != len) {
        rc = ct_error_set(err, CT_EPARSE, "'%s' contains a NUL byte", path);
        goto done;
    }
    size_t limit = ini_line_limit(), line = 1, col = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\n') {
            line++;
            col = 0;
        } else if (++col > limit) {
            rc = ct_error_set(err, CT_ELIMIT,
                              "line %zu of '%s' is longer than %zu bytes, "
                              "the most this build of inih reads",
                              line, path, limit);
            goto done;
        }
    }
    int ini_rc = ini_parse_string(text, ini_handler_fn, &ctx);
    if (ctx.has_failed || ini_rc == -2) {
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
        goto done;
    }
    if (ini_rc != 0) {
        /* the line itself may hold a secret: give only its number */
        rc = ct_error_set(err, CT_EPARSE, "'%s' line %d: not a valid INI line",
                          path, ini_rc);
        goto done;
    }
    if ((st.st_mode & (S_IRGRP | S_IROTH)) && (!is_config || ctx.has_secret))
        chain_warn(
            ch,
            "%s file '%s' is readable by %s (mode %04o); run chmod 600 '%s'",
            is_config ? "config" : "credentials", path,
            (st.st_mode & S_IROTH) ? "everyone" : "its group",
            (unsigned)(st.st_mode & 07777), path);
done:
    if (text) {
        OPENSSL_cleanse(text, len);
        free(text);
    }
    close(fd);
    return rc;
}

static int home_dir(char *out, size_t cap)
{
    const char *home = creds_env("HOME");
    struct passwd pw, *res = NULL;
    char buf[4096];
    if (!home && getpwuid_r(getuid(), &pw, buf, sizeof(buf), &res) == 0 &&
        res && res->pw_dir && *res->pw_dir)
        home = res->pw_dir;
    if (!home)
        return -1;
    int n = snprintf(out, cap, "%s", home);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* $env_name, else the default path; a leading "~/" means $HOME. */
static int shared_path(char **out, const char *env_name, const char *def,
                       struct ct_error *err)
{
    const char *p = creds_env(env_name);
    if (!p)
        p = def;
    if (p[0] == '~' && (p[1] == '/' || p[1] == '\0')) {
        char home[2048];
        if (home_dir(home, sizeof(home)) != 0)
            return ct_error_set(err, CT_EIO,
                                "cannot find the home directory for '%s'", p);
        size_t n = strlen(home) + strlen(p);
        char *s = malloc(n);
        if (!s)
            return ct_error_set(err, CT_ENOMEM, "out of memory");
        snprintf(s, n, "%s%s", home, p + 1);
        *out = s;
        return 0;
    }
    *out = creds_strdup(p);
    return *out ? 0 : ct_error_set(err, CT_ENOMEM, "out of memory");
}

/* Loads both shared files once per resolution. */
static int chain_files(struct creds_chain *ch, struct ct_error *err)
{
    int rc;
    if (ch->has_files)
        return 0;
    rc = shared_path(&ch->files.config_path, "AWS_CONFIG_FILE", "~/.aws/config",
                     err);
    if (rc == 0)
        rc = shared_path(&ch->files.credentials_path,
                         "AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials",
                         err);
    if (rc == 0)
        rc = files_load(&ch->files, ch->files.config_path, 1, ch, err);
    if (rc == 0)
        rc = files_load(&ch->files, ch->files.credentials_path, 0, ch, err);
    if (rc == 0)
        ch->has_files = 1;
    return rc;
}

/* ---- credential_process ------------------------------------------------ */

static long long monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* First line of the child's stderr, printable, for the error message. */
static void stderr_summary(char *out, size_t cap, const char *err_text,
                           size_t len)
{
    size_t j = 0, i = 0;
    while (i < len && (err_text[i] == '\n' || err_text[i] == '\r'))
        i++;
    for (; i < len && j + 1 < cap; i++) {
        unsigned char c = (unsigned char)err_text[i];
        if (c == '\n' || c == '\r')
            break;
        out[j++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
    }
    out[j] = '\0';
}

struct proc_out {
    char *text; /* stdout: holds secrets */
    size_t len;
    size_t cap;
    char err[CREDS_PROCESS_MAX_ERR]; /* stderr, truncated */
    size_t err_len;
};

/* Reads what is available on fd; returns 1 at EOF, 0 otherwise, <0. */
static int drain(int fd, struct proc_out *po, int is_stdout)
{
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0)
        return errno == EINTR || errno == EAGAIN ? 0 : CT_EIO;
    if (n == 0)
        return 1;
    if (!is_stdout) {
        size_t room = sizeof(po->err) - 1 - po->err_len;
        size_t k = (size_t)n < room ? (size_t)n : room;
        memcpy(po->err + po->err_len, buf, k);
        po->err_len += k;
        po->err[po->err_len] = '\0';
        return 0;
    }
    if (po->len + (size_t)n + 1 > CREDS_PROCESS_MAX_OUT) {
        OPENSSL_cleanse(buf, sizeof(buf));
        return CT_ELIMIT;
    }
    if (po->len + (size_t)n + 1 > po->cap) {
        char *p = malloc(CREDS_PROCESS_MAX_OUT);
        if (!p) {
            OPENSSL_cleanse(buf, sizeof(buf));
            return CT_ENOMEM;
        }
        if (po->text) {
            memcpy(p, po->text, po->len);
            OPENSSL_cleanse(po->text, po->len);
            free(po->text);
        }
        po->text = p;
        po->cap = CREDS_PROCESS_MAX_OUT;
    }
    memcpy(po->text + po->len, buf, (size_t)n);
    po->len += (size_t)n;
    po->text[po->len] = '\0';
    OPENSSL_cleanse(buf, sizeof(buf));
    return 0;
}

/*
 * Runs command through /bin/sh -c, collecting stdout and stderr until it
 * exits or timeout_ms passes (then it is killed). The child stays in our
 * process group, so that it may prompt on the terminal (MFA) and gets the
 * user's Ctrl-C. Fills po; returns 0 when the command exited with 0.
 */
static int process_run(struct proc_out *po, const char *command,
                       const char *profile, int timeout_ms,
                       struct ct_error *err)
{
    int rc = 0, out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
    int has_fa = 0, has_attr = 0, status = 0, is_reaped = 0;
    pid_t pid = -1;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t sigdef, sigmask;
    char *argv[] = {"/bin/sh", "-c", (char *)command, NULL};

    if (pipe(out_pipe) != 0 || pipe(err_pipe) != 0) {
        rc = ct_error_set(err, CT_EIO, "cannot create a pipe: %s",
                          strerror(errno));
        goto done;
    }
    fcntl(out_pipe[0], F_SETFD, FD_CLOEXEC);
    fcntl(err_pipe[0], F_SETFD, FD_CLOEXEC);
    if (posix_spawn_file_actions_init(&fa) != 0) {
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
        goto done;
    }
    has_fa = 1;
    if (posix_spawnattr_init(&attr) != 0) {
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
        goto done;
    }
    has_attr = 1;
    sigemptyset(&sigdef);
    sigaddset(&sigdef, SIGPIPE);
    sigemptyset(&sigmask);
    if (posix_spawn_file_actions_adddup2(&fa, out_pipe[1], STDOUT_FILENO) ||
        posix_spawn_file_actions_adddup2(&fa, err_pipe[1], STDERR_FILENO) ||
        posix_spawn_file_actions_addclose(&fa, out_pipe[1]) ||
        posix_spawn_file_actions_addclose(&fa, err_pipe[1]) ||
        posix_spawnattr_setsigdefault(&attr, &sigdef) ||
        posix_spawnattr_setsigmask(&attr, &sigmask) ||
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF |
                                            POSIX_SPAWN_SETSIGMASK)) {
        rc = ct_error_set(err, CT_ENOMEM, "cannot prepare credential_process");
        goto done;
    }
    int spawn_rc = posix_spawn(&pid, "/bin/sh", &fa, &attr, argv, environ);
    if (spawn_rc != 0) {
        pid = -1;
        rc = ct_error_set(err, CT_EAUTH,
                          "cannot run credential_process of profile '%s': %s",
                          profile, strerror(spawn_rc));
        goto done;
    }
    close(out_pipe[1]);
    close(err_pipe[1]);
    out_pipe[1] = err_pipe[1] = -1;

    long long deadline = monotonic_ms() + timeout_ms;
    int is_out_open = 1, is_err_open = 1;
    while (is_out_open || is_err_open || !is_reaped) {
        long long left = deadline - monotonic_ms();
        if (left <= 0) {
            rc = ct_error_set(err, CT_EAUTH,
                              "credential_process of profile '%s' did not "
                              "finish within %d ms",
                              profile, timeout_ms);
            goto done;
        }
        if (!is_out_open && !is_err_open) {
            pid_t w = waitpid(pid, &status, WNOHANG);
            if (w == pid) {
                is_reaped = 1;
            } else if (w < 0 && errno != EINTR) {
                rc = ct_error_set(err, CT_EIO, "waitpid: %s", strerror(errno));
                goto done;
            } else {
                struct timespec ts = {0, 10 * 1000 * 1000};
                nanosleep(&ts, NULL);
            }
            continue;
        }
        struct pollfd fds[2] = {{is_out_open ? out_pipe[0] : -1, POLLIN, 0},
                                {is_err_open ? err_pipe[0] : -1, POLLIN, 0}};
        int pr = poll(fds, 2, left > 1000 ? 1000 : (int)left);
        if (pr < 0 && errno != EINTR) {
            rc = ct_error_set(err, CT_EIO, "poll: %s", strerror(errno));
            goto done;
        }
        for (int i = 0; i < 2 && pr > 0; i++) {
            if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            int d = drain(fds[i].fd, po, i == 0);
            if (d == 1 && i == 0)
                is_out_open = 0;
            else if (d == 1)
                is_err_open = 0;
            else if (d == CT_ELIMIT) {
                rc = ct_error_set(err, CT_ELIMIT,
                                  "credential_process of profile '%s' wrote "
                                  "more than %d bytes",
                                  profile, CREDS_PROCESS_MAX_OUT);
                goto done;
            } else if (d < 0) {
                rc = ct_error_set(err, d,
                                  "cannot read the output of "
                                  "credential_process of profile '%s'",
                                  profile);
                goto done;
            }
        }
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char first[256];
        stderr_summary(first, sizeof(first), po->err, po->err_len);
        if (WIFEXITED(status))
            rc = ct_error_set(err, CT_EAUTH,
                              "credential_process of profile '%s' exited "
                              "with status %d%s%s",
                              profile, WEXITSTATUS(status), *first ? ": " : "",
                              first);
        else
            rc = ct_error_set(err, CT_EAUTH,
                              "credential_process of profile '%s' was "
                              "killed by signal %d",
                              profile, WTERMSIG(status));
    }
done:
    if (pid > 0 && !is_reaped) {
        kill(pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
    }
    for (int i = 0; i < 2; i++) {
        if (out_pipe[i] >= 0)
            close(out_pipe[i]);
        if (err_pipe[i] >= 0)
            close(err_pipe[i]);
    }
    if (has_fa)
        posix_spawn_file_actions_destroy(&fa);
    if (has_attr)
        posix_spawnattr_destroy(&attr);
    return rc;
}

/*
 * Parses the credential_process output. Messages never quote the output
 * (it holds secrets) nor jansson's error text (which quotes the input).
 */
static int process_parse(struct ct_credentials *out, const char *text,
                         size_t len, const char *profile, time_t now,
                         struct ct_error *err)
{
    int rc = 0;
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    time_t expiration = 0;
    if (!root)
        return ct_error_set(err, CT_EAUTH,
                            "credential_process of profile '%s' printed "
                            "invalid JSON (line %d, column %d)",
                            profile, jerr.line, jerr.column);
    json_t *version = json_object_get(root, "Version");
    if (!json_is_object(root) || !json_is_integer(version) ||
        json_integer_value(version) != 1) {
        rc = ct_error_set(err, CT_EAUTH,
                          "credential_process of profile '%s' printed no "
                          "JSON object with \"Version\": 1",
                          profile);
        goto done;
    }
    const char *akid = json_string_value(json_object_get(root, "AccessKeyId"));
    const char *secret =
        json_string_value(json_object_get(root, "SecretAccessKey"));
    json_t *jtoken = json_object_get(root, "SessionToken");
    json_t *jexp = json_object_get(root, "Expiration");
    if (!akid || !*akid || !secret || !*secret) {
        rc = ct_error_set(err, CT_EAUTH,
                          "credential_process of profile '%s' printed no "
                          "AccessKeyId or SecretAccessKey",
                          profile);
        goto done;
    }
    if ((jtoken && !json_is_string(jtoken) && !json_is_null(jtoken)) ||
        (jexp && !json_is_string(jexp) && !json_is_null(jexp))) {
        rc = ct_error_set(err, CT_EAUTH,
                          "credential_process of profile '%s' printed a "
                          "SessionToken or Expiration that is not a string",
                          profile);
        goto done;
    }
    if (json_is_string(jexp)) {
        if (creds_parse_time(&expiration, json_string_value(jexp)) != 0) {
            rc = ct_error_set(err, CT_EAUTH,
                              "credential_process of profile '%s' printed an "
                              "Expiration that is not an ISO-8601 time",
                              profile);
            goto done;
        }
        if (expiration <= now) {
            char when[CT_ISO_TIME_MAX];
            ct_time_format_utc(when, expiration);
            rc = ct_error_set(err, CT_EAUTH,
                              "credential_process of profile '%s' returned "
                              "credentials that expired at %s",
                              profile, when);
            goto done;
        }
    }
    rc = creds_make(out, akid, secret, json_string_value(jtoken), expiration,
                    "credential-process", err);
done:
    json_decref(root);
    return rc;
}

static int resolve_process(struct ct_credentials *out, struct creds_chain *ch,
                           const char *profile, const char *command,
                           struct ct_error *err)
{
    struct proc_out po;
    memset(&po, 0, sizeof(po));
    int timeout = ch->opt && ch->opt->process_timeout_ms > 0
                      ? ch->opt->process_timeout_ms
                      : CREDS_PROCESS_TIMEOUT_MS;
    int rc = process_run(&po, command, profile, timeout, err);
    if (rc == 0)
        rc = process_parse(out, po.text ? po.text : "", po.len, profile,
                           ch->now, err);
    if (po.text) {
        OPENSSL_cleanse(po.text, po.len);
        free(po.text);
    }
    OPENSSL_cleanse(po.err, sizeof(po.err));
    return rc;
}

/* ---- profiles ---------------------------------------------------------- */

struct profile_path {
    const char *names[CREDS_MAX_DEPTH];
    size_t n_names;
};

static int unsupported(const char *profile, const char *key,
                       struct ct_error *err)
{
    return ct_error_set(err, CT_EAUTH,
                        "profile '%s' uses %s, which ctcollect does not "
                        "support yet; use credential_process = aws configure "
                        "export-credentials --profile %s --format process",
                        profile, key, profile);
}

static int cycle_error(const struct profile_path *path, const char *next,
                       struct ct_error *err)
{
    char msg[CT_ERROR_MSG_MAX] = "";
    size_t len = 0;
    for (size_t i = 0; i < path->n_names && len < sizeof(msg); i++) {
        int n =
            snprintf(msg + len, sizeof(msg) - len, "%s -> ", path->names[i]);
        if (n < 0)
            break;
        len += (size_t)n;
    }
    return ct_error_set(err, CT_EAUTH,
                        "source_profile cycle: %.400s%s (profile '%s' "
                        "already in the chain)",
                        msg, next, next);
}

/* Static keys of a profile; CREDS_NOT_FOUND when it has none. */
static int resolve_static(struct ct_credentials *out, struct creds_chain *ch,
                          const char *profile, struct ct_error *err)
{
    int rank = -1;
    const char *akid = files_get(&ch->files, profile, "aws_access_key_id");
    const char *secret =
        files_get_rank(&ch->files, profile, "aws_secret_access_key", &rank);
    const char *token = files_get(&ch->files, profile, "aws_session_token");
    if (!akid && !secret)
        return CREDS_NOT_FOUND;
    if (!akid || !*akid || !secret || !*secret)
        return ct_error_set(err, CT_EAUTH,
                            "profile '%s' has only one of aws_access_key_id "
                            "and aws_secret_access_key",
                            profile);
    return creds_make(out, akid, secret, token, 0,
                      rank == RANK_CREDENTIALS ? "shared-credentials-file"
                                               : "config-file",
                      err);
}

static int parse_duration(int *out, const char *profile, const char *s,
                          struct ct_error *err)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < CREDS_MIN_DURATION ||
        v > CREDS_MAX_DURATION)
        return ct_error_set(err, CT_EINVAL,
                            "profile '%s': duration_seconds must be an "
                            "integer from %d to %d",
                            profile, CREDS_MIN_DURATION, CREDS_MAX_DURATION);
    *out = (int)v;
    return 0;
}

static int resolve_named(struct ct_credentials *out, struct creds_chain *ch,
                         const char *profile, struct profile_path *path,
                         struct ct_error *err);

/* The region of STS calls made for profile: the selected profile's, else
 * profile's own, with the environment first (borrowed; may be NULL). */
static const char *role_region(struct creds_chain *ch, const char *profile)
{
    const char *region = files_get(&ch->files, ch->profile, "region");
    if (!region)
        region = files_get(&ch->files, profile, "region");
    return creds_default_region(NULL, region);
}

/* credential_source = Environment | Ec2InstanceMetadata | EcsContainer. */
static int resolve_credential_source(struct ct_credentials *out,
                                     struct creds_chain *ch,
                                     const char *profile, const char *source,
                                     struct ct_error *err)
{
    const struct creds_options *opt = ch->opt;
    if (strcmp(source, "Environment") == 0) {
        const char *akid = creds_env("AWS_ACCESS_KEY_ID");
        const char *secret = creds_env("AWS_SECRET_ACCESS_KEY");
        if (!akid || !secret)
            return ct_error_set(err, CT_EAUTH,
                                "profile '%s': credential_source Environment, "
                                "but AWS_ACCESS_KEY_ID or "
                                "AWS_SECRET_ACCESS_KEY is not set",
                                profile);
        return creds_make(out, akid, secret, creds_env("AWS_SESSION_TOKEN"), 0,
                          "environment", err);
    }
    if (strcmp(source, "Ec2InstanceMetadata") == 0)
        return creds_imds(out, opt, ch->now, 1, err);
    if (strcmp(source, "EcsContainer") == 0) {
        int rc = creds_container(out, opt, ch->now, err);
        if (rc == CREDS_NOT_FOUND)
            rc = ct_error_set(err, CT_EAUTH,
                              "profile '%s': credential_source EcsContainer, "
                              "but neither "
                              "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor "
                              "AWS_CONTAINER_CREDENTIALS_FULL_URI is set",
                              profile);
        return rc;
    }
    return ct_error_set(err, CT_EAUTH,
                        "profile '%s': credential_source '%s' is not "
                        "Environment, Ec2InstanceMetadata or EcsContainer",
                        profile, source);
}

/* role_arn + web_identity_token_file (role_session_name optional). */
static int resolve_web_identity(struct ct_credentials *out,
                                struct creds_chain *ch, const char *profile,
                                const char *role_arn, const char *token_file,
                                struct ct_error *err)
{
    const char *session = files_get(&ch->files, profile, "role_session_name");
    char session_buf[64];
    if (!session || !*session) {
        snprintf(session_buf, sizeof(session_buf), "ctcollect-%lld",
                 (long long)ch->now);
        session = session_buf;
    }
    if (!ch->opt || !ch->opt->http)
        return ct_error_set(err, CT_EINVAL,
                            "profile '%s' needs sts:AssumeRoleWithWebIdentity, "
                            "which this program cannot call",
                            profile);
    return creds_web_identity(out, ch->opt, token_file, role_arn, session,
                              role_region(ch, profile), err);
}

/* sso_session (with its [sso-session] section) or legacy sso_start_url. */
static int resolve_sso(struct ct_credentials *out, struct creds_chain *ch,
                       const char *profile, struct ct_error *err)
{
    const struct creds_files *f = &ch->files;
    const char *session = files_get(f, profile, "sso_session");
    struct creds_sso_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.profile = ch->profile; /* what the user runs aws sso login with */
    if (session && *session) {
        cfg.session_name = session;
        cfg.start_url = files_get_session(f, session, "sso_start_url");
        cfg.sso_region = files_get_session(f, session, "sso_region");
        if (!cfg.start_url)
            return ct_error_set(err, CT_EAUTH,
                                "profile '%s' names sso_session '%s', but '%s' "
                                "has no [sso-session %s] with sso_start_url",
                                profile, session, f->config_path, session);
    } else {
        cfg.start_url = files_get(f, profile, "sso_start_url");
        cfg.sso_region = files_get(f, profile, "sso_region");
    }
    cfg.account_id = files_get(f, profile, "sso_account_id");
    cfg.role_name = files_get(f, profile, "sso_role_name");
    return creds_sso(out, ch->opt, &cfg, ch->now, err);
}

static int resolve_role(struct ct_credentials *out, struct creds_chain *ch,
                        const char *profile, const char *role_arn,
                        struct profile_path *path, struct ct_error *err)
{
    int rc = 0, duration = 0;
    struct ct_credentials source = CT_CREDENTIALS_INIT;
    const char *source_profile =
        files_get(&ch->files, profile, "source_profile");
    const char *credential_source =
        files_get(&ch->files, profile, "credential_source");
    const char *duration_s = files_get(&ch->files, profile, "duration_seconds");
    const char *session = files_get(&ch->files, profile, "role_session_name");
    const char *external_id = files_get(&ch->files, profile, "external_id");
    char session_buf[64];

    if (source_profile && *source_profile && credential_source)
        return ct_error_set(err, CT_EAUTH,
                            "profile '%s' has both source_profile and "
                            "credential_source",
                            profile);
    if ((!source_profile || !*source_profile) && !credential_source)
        return ct_error_set(err, CT_EAUTH,
                            "profile '%s' has role_arn but no source_profile "
                            "or credential_source",
                            profile);
    if (duration_s) {
        rc = parse_duration(&duration, profile, duration_s, err);
        if (rc)
            return rc;
    }
    if (!ch->opt || !ch->opt->assume_role)
        return ct_error_set(err, CT_EINVAL,
                            "profile '%s' needs sts:AssumeRole, which this "
                            "program cannot call",
                            profile);
    if (credential_source) {
        rc = resolve_credential_source(&source, ch, profile, credential_source,
                                       err);
    } else if (strcmp(source_profile, profile) == 0) {
        /* a profile may be its own source: its static keys assume its role */
        rc = resolve_static(&source, ch, profile, err);
        if (rc == CREDS_NOT_FOUND)
            rc = cycle_error(path, profile, err);
    } else {
        for (size_t i = 0; i < path->n_names; i++)
            if (strcmp(path->names[i], source_profile) == 0)
                return cycle_error(path, source_profile, err);
        if (!files_has_profile(&ch->files, source_profile))
            return ct_error_set(err, CT_EAUTH,
                                "source_profile '%s' of profile '%s' is not "
                                "in '%s' or '%s'",
                                source_profile, profile, ch->files.config_path,
                                ch->files.credentials_path);
        rc = resolve_named(&source, ch, source_profile, path, err);
        if (rc == CREDS_NOT_FOUND)
            rc = ct_error_set(err, CT_EAUTH,
                              "source_profile '%s' of profile '%s' has no "
                              "credentials",
                              source_profile, profile);
    }
    if (rc)
        goto done;
    if (!session || !*session) {
        snprintf(session_buf, sizeof(session_buf), "ctcollect-%lld",
                 (long long)ch->now);
        session = session_buf;
    }
    rc = ch->opt->assume_role(ch->opt->assume_role_ctx, out, &source, role_arn,
                              session,
                              external_id && *external_id ? external_id : NULL,
                              duration, role_region(ch, profile), err);
    if (rc != 0) {
        rc = rc < 0 ? rc : CT_EAUTH;
        ct_error_set(err, rc, "sts:AssumeRole for profile '%s' failed",
                     profile);
    } else if (!out->access_key_id || !out->secret_access_key) {
        ct_credentials_release(out);
        rc = ct_error_set(err, CT_EAUTH,
                          "sts:AssumeRole for profile '%s' returned no "
                          "credentials",
                          profile);
    } else if (!out->provider) {
        out->provider = "assume-role";
    }
done:
    ct_credentials_release(&source);
    return rc;
}

/*
 * Credentials of one profile in the SDKs' order: role_arn with
 * source_profile or credential_source, role_arn with
 * web_identity_token_file, IAM Identity Center (sso_session or
 * sso_start_url), then static keys of the credentials file,
 * credential_process, static keys of the config file. CREDS_NOT_FOUND when
 * the profile has none of them.
 */
static int resolve_named(struct ct_credentials *out, struct creds_chain *ch,
                         const char *profile, struct profile_path *path,
                         struct ct_error *err)
{
    const struct creds_files *f = &ch->files;
    if (path->n_names == CREDS_MAX_DEPTH)
        return ct_error_set(err, CT_EAUTH,
                            "profile '%s': source_profile chain longer than "
                            "%d",
                            profile, CREDS_MAX_DEPTH);
    path->names[path->n_names++] = profile;

    int rc = CREDS_NOT_FOUND;
    const char *role_arn = files_get(f, profile, "role_arn");
    const char *token_file = files_get(f, profile, "web_identity_token_file");
    const char *source = files_get(f, profile, "source_profile");
    int has_source = (source && *source) ||
                     files_get(f, profile, "credential_source") != NULL;
    /* as in botocore: role_arn with a source first, then web identity */
    if (token_file && *token_file && !has_source) {
        if (!role_arn || !*role_arn)
            rc = ct_error_set(err, CT_EAUTH,
                              "profile '%s' has web_identity_token_file but "
                              "no role_arn",
                              profile);
        else
            rc = resolve_web_identity(out, ch, profile, role_arn, token_file,
                                      err);
        goto done;
    }
    if (role_arn && *role_arn) {
        if (files_get(f, profile, "mfa_serial")) {
            rc = unsupported(profile, "mfa_serial", err);
            goto done;
        }
        rc = resolve_role(out, ch, profile, role_arn, path, err);
        goto done;
    }
    if (files_get(f, profile, "sso_session") ||
        files_get(f, profile, "sso_start_url")) {
        rc = resolve_sso(out, ch, profile, err);
        goto done;
    }
    int rank = -1;
    const char *process = files_get(f, profile, "credential_process");
    files_get_rank(f, profile, "aws_access_key_id", &rank);
    if (rank == RANK_CREDENTIALS || !process || !*process) {
        rc = resolve_static(out, ch, profile, err);
        if (rc != CREDS_NOT_FOUND)
            goto done;
    }
    if (process && *process)
        rc = resolve_process(out, ch, profile, process, err);
done:
    path->n_names--;
    return rc;
}

/* ---- providers --------------------------------------------------------- */

/* The selected profile's region (owned copy in *out, NULL if none). */
static int profile_region(char **out, struct creds_chain *ch,
                          struct ct_error *err)
{
    const char *region = files_get(&ch->files, ch->profile, "region");
    *out = NULL;
    if (!region || !*region)
        return 0;
    *out = creds_strdup(region);
    return *out ? 0 : ct_error_set(err, CT_ENOMEM, "out of memory");
}

static int provider_env(struct creds_result *out, struct creds_chain *ch,
                        struct ct_error *err)
{
    if (ch->opt && ch->opt->profile) {
        tried_add(ch, "environment (skipped: --profile given)");
        return CREDS_NOT_FOUND;
    }
    const char *akid = creds_env("AWS_ACCESS_KEY_ID");
    const char *secret = creds_env("AWS_SECRET_ACCESS_KEY");
    if (!akid && !secret) {
        tried_add(ch, "environment (AWS_ACCESS_KEY_ID not set)");
        return CREDS_NOT_FOUND;
    }
    if (!akid || !secret)
        return ct_error_set(err, CT_EAUTH,
                            "only one of AWS_ACCESS_KEY_ID and "
                            "AWS_SECRET_ACCESS_KEY is set");
    /* the region still comes from the profile, as in the SDKs */
    int rc = chain_files(ch, err);
    if (rc == 0)
        rc = profile_region(&out->region, ch, err);
    if (rc == 0)
        rc = creds_make(&out->creds, akid, secret,
                        creds_env("AWS_SESSION_TOKEN"), 0, "environment", err);
    return rc;
}

static int provider_profile(struct creds_result *out, struct creds_chain *ch,
                            struct ct_error *err)
{
    struct profile_path path;
    const char *name = ch->profile;
    int rc = chain_files(ch, err);
    if (rc)
        return rc;
    path.n_names = 0;
    if (!files_has_profile(&ch->files, name)) {
        if (ch->is_profile_explicit)
            return ct_error_set(
                err, CT_EAUTH, "profile '%s' is not in '%s' or '%s'", name,
                ch->files.config_path, ch->files.credentials_path);
        tried_add(ch, "profile '%s' (not in '%s' or '%s')", name,
                  ch->files.config_path, ch->files.credentials_path);
        return CREDS_NOT_FOUND;
    }
    rc = resolve_named(&out->creds, ch, name, &path, err);
    if (rc == CREDS_NOT_FOUND) {
        if (ch->is_profile_explicit)
            return ct_error_set(err, CT_EAUTH,
                                "profile '%s' has no credentials (no "
                                "aws_access_key_id, role_arn or "
                                "credential_process)",
                                name);
        tried_add(ch, "profile '%s' (no credentials in it)", name);
        return CREDS_NOT_FOUND;
    }
    if (rc)
        return rc;
    rc = profile_region(&out->region, ch, err);
    if (rc == 0) {
        out->profile = creds_strdup(name);
        if (!out->profile)
            rc = ct_error_set(err, CT_ENOMEM, "out of memory");
    }
    return rc;
}

/* AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN (+ AWS_ROLE_SESSION_NAME). */
static int provider_web_identity_env(struct creds_result *out,
                                     struct creds_chain *ch,
                                     struct ct_error *err)
{
    const char *token_file = creds_env("AWS_WEB_IDENTITY_TOKEN_FILE");
    const char *role_arn = creds_env("AWS_ROLE_ARN");
    const char *session = creds_env("AWS_ROLE_SESSION_NAME");
    char session_buf[64];
    if (ch->opt && ch->opt->profile) {
        tried_add(ch, "web identity (skipped: --profile given)");
        return CREDS_NOT_FOUND;
    }
    if (!token_file || !role_arn) {
        tried_add(ch, "web identity (AWS_WEB_IDENTITY_TOKEN_FILE or "
                      "AWS_ROLE_ARN not set)");
        return CREDS_NOT_FOUND;
    }
    if (!session) {
        snprintf(session_buf, sizeof(session_buf), "ctcollect-%lld",
                 (long long)ch->now);
        session = session_buf;
    }
    int rc = chain_files(ch, err);
    if (rc == 0)
        rc = profile_region(&out->region, ch, err);
    if (rc == 0)
        rc = creds_web_identity(&out->creds, ch->opt, token_file, role_arn,
                                session,
                                creds_default_region(NULL, out->region), err);
    return rc;
}

static int provider_container(struct creds_result *out, struct creds_chain *ch,
                              struct ct_error *err)
{
    int rc = chain_files(ch, err);
    if (rc == 0)
        rc = creds_container(&out->creds, ch->opt, ch->now, err);
    if (rc == CREDS_NOT_FOUND)
        tried_add(ch, "container (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI "
                      "and _FULL_URI not set)");
    if (rc == 0)
        rc = profile_region(&out->region, ch, err);
    return rc;
}

static int provider_imds(struct creds_result *out, struct creds_chain *ch,
                         struct ct_error *err)
{
    int rc = chain_files(ch, err);
    if (rc == 0)
        rc = creds_imds(&out->creds, ch->opt, ch->now, 0, err);
    if (rc == CREDS_NOT_FOUND)
        tried_add(ch, "EC2 instance metadata (%s)",
                  creds_env_true("AWS_EC2_METADATA_DISABLED")
                      ? "AWS_EC2_METADATA_DISABLED"
                      : "no answer");
    if (rc == 0)
        rc = profile_region(&out->region, ch, err);
    return rc;
}

int creds_resolve(struct creds_result *out, const struct creds_options *opt,
                  struct ct_error *err)
{
    int rc = CREDS_NOT_FOUND;
    struct creds_result r = CREDS_RESULT_INIT;
    struct creds_chain ch;
    memset(&ch, 0, sizeof(ch));
    ch.opt = opt;
    ch.now = opt && opt->now ? opt->now : time(NULL);
    if (opt && opt->profile && *opt->profile) {
        ch.profile = opt->profile;
        ch.is_profile_explicit = 1;
    } else if (creds_env("AWS_PROFILE")) {
        ch.profile = creds_env("AWS_PROFILE");
        ch.is_profile_explicit = 1;
    } else {
        ch.profile = "default";
    }

    size_t n = sizeof(creds_providers) / sizeof(creds_providers[0]);
    for (size_t i = 0; i < n && rc == CREDS_NOT_FOUND; i++) {
        rc = creds_providers[i].resolve(&r, &ch, err);
        if (rc != 0)
            creds_result_release(&r);
    }
    if (rc == CREDS_NOT_FOUND)
        rc = ct_error_set(err, CT_EAUTH, "no AWS credentials found; tried: %s",
                          ch.tried);
    if (rc == 0) {
        *out = r;
        r = (struct creds_result)CREDS_RESULT_INIT;
    }
    creds_result_release(&r);
    files_release(&ch.files);
    return rc;
}
