/*
 * The snapshot writer: in-memory members, then one atomic write of a
 * directory or a (compressed) tar archive, SHA256SUMS and the manifest last.
 */
#include "collector/snapwriter.h"

#include <signal.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <archive.h>
#include <dirent.h>
#include <archive_entry.h>

#include "core/hash.h"
#include "core/snapshot.h"

#ifndef CT_SNAPSHOT_CHECKSUMS /* core/snapshot.h of main defines it */
#define CT_SNAPSHOT_CHECKSUMS "SHA256SUMS"
#endif

struct member {
    char *path;
    char *data;
    size_t len;
};

struct snapwriter {
    struct member *members;
    size_t n_members, cap;
    const volatile sig_atomic_t *abort_flag; /* may be NULL */
    int abort_level;
};

void snapwriter_set_abort(struct snapwriter *w,
                          const volatile sig_atomic_t *flag, int level)
{
    w->abort_flag = flag;
    w->abort_level = level;
}

/* CT_EINVAL once the abort flag reached its level (a second Ctrl-C). */
static int check_abort(const struct snapwriter *w, struct ct_error *err)
{
    if (w->abort_flag && *w->abort_flag >= w->abort_level)
        return ct_error_set(err, CT_EINVAL, "interrupted");
    return 0;
}

int snapwriter_new(struct snapwriter **out, struct ct_error *err)
{
    struct snapwriter *w = calloc(1, sizeof(*w));
    if (!w)
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    *out = w;
    return 0;
}

void snapwriter_free(struct snapwriter *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->n_members; i++) {
        free(w->members[i].path);
        free(w->members[i].data);
    }
    free(w->members);
    free(w);
}

size_t snapwriter_count(const struct snapwriter *w)
{
    return w->n_members;
}

int snapwriter_has(const struct snapwriter *w, const char *path)
{
    for (size_t i = 0; i < w->n_members; i++)
        if (strcmp(w->members[i].path, path) == 0)
            return 1;
    return 0;
}

int snapwriter_add(struct snapwriter *w, const char *path, const void *data,
                   size_t len, struct ct_error *err)
{
    struct member m = {NULL, NULL, len};
    if (w->n_members == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 64;
        struct member *p = realloc(w->members, cap * sizeof(*p));
        if (!p)
            return ct_error_set(err, CT_ENOMEM, "out of memory");
        w->members = p;
        w->cap = cap;
    }
    m.path = strdup(path);
    m.data = malloc(len + 1);
    if (!m.path || !m.data) {
        free(m.path);
        free(m.data);
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    }
    if (len)
        memcpy(m.data, data, len);
    m.data[len] = '\0';
    w->members[w->n_members++] = m;
    return 0;
}

int snapwriter_add_json(struct snapwriter *w, const char *path, const json_t *j,
                        struct ct_error *err)
{
    char *s = json_dumps(j, JSON_SORT_KEYS | JSON_INDENT(2));
    if (!s)
        return ct_error_set(err, CT_ENOMEM, "cannot serialize '%s'", path);
    size_t n = strlen(s);
    int rc = snapwriter_add(w, path, s, n, err);
    free(s);
    return rc;
}

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n > m && strcmp(s + n - m, suffix) == 0;
}

int snapwriter_kind(enum snapwriter_kind *out, const char *output,
                    struct ct_error *err)
{
    size_t n = strlen(output);
    if (n > 0 && output[n - 1] == '/')
        *out = SNAPWRITER_DIR;
    else if (has_suffix(output, ".tar.gz") || has_suffix(output, ".tgz"))
        *out = SNAPWRITER_TAR_GZ;
    else if (has_suffix(output, ".tar.zst"))
        *out = SNAPWRITER_TAR_ZST;
    else if (has_suffix(output, ".tar.xz"))
        *out = SNAPWRITER_TAR_XZ;
    else if (has_suffix(output, ".tar"))
        *out = SNAPWRITER_TAR;
    else
        return ct_error_set(err, CT_EINVAL,
                            "unsupported output name '%s' (use .tar.gz, "
                            ".tgz, .tar.zst, .tar.xz, .tar or DIR/)",
                            output);
    return 0;
}

static int cmp_member(const void *a, const void *b)
{
    return strcmp(((const struct member *)a)->path,
                  ((const struct member *)b)->path);
}

/*
 * Appends SHA256SUMS (sha256sum format: "<hex>  <path>" per member, in
 * member order) as the last member, and serializes the manifest: base plus
 * "checksums" naming SHA256SUMS by its hash (schema/SNAPSHOT.md). *out is
 * owned.
 */
static int build_checksums(char **out, struct snapwriter *w, const json_t *base,
                           struct ct_error *err)
{
    json_t *m = NULL;
    char *sums = NULL;
    size_t len = 0, cap = 0, n_listed = w->n_members;
    char hex[CT_SHA256_HEX_LEN + 1];
    int rc = 0;

    for (size_t i = 0; i < n_listed; i++)
        cap += CT_SHA256_HEX_LEN + 3 + strlen(w->members[i].path);
    sums = malloc(cap + 1);
    if (!sums)
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    for (size_t i = 0; i < n_listed; i++) {
        rc = ct_sha256_hex(hex, w->members[i].data, w->members[i].len, err);
        if (rc)
            goto done;
        len += (size_t)snprintf(sums + len, cap + 1 - len, "%s  %s\n", hex,
                                w->members[i].path);
    }
    rc = ct_sha256_hex(hex, sums, len, err);
    if (rc)
        goto done;
    rc = snapwriter_add(w, CT_SNAPSHOT_CHECKSUMS, sums, len, err);
    if (rc)
        goto done;
    m = json_deep_copy(base);
    if (!m ||
        json_object_set_new(m, "checksums",
                            json_pack("{s:s,s:s,s:I}", "file",
                                      CT_SNAPSHOT_CHECKSUMS, "sha256", hex,
                                      "members", (json_int_t)n_listed)) != 0) {
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
        goto done;
    }
    *out = json_dumps(m, JSON_SORT_KEYS | JSON_INDENT(2));
    if (!*out)
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
done:
    free(sums);
    json_decref(m);
    return rc;
}

/* Splits output into directory and base name (copies into dir/base). */
static int split_output(char *dir, size_t dsize, char *base, size_t bsize,
                        const char *output, struct ct_error *err)
{
    char tmp[4096];
    size_t n = strlen(output);
    while (n > 1 && output[n - 1] == '/')
        n--;
    if (n == 0 || n >= sizeof(tmp))
        return ct_error_set(err, CT_EINVAL, "invalid output name");
    memcpy(tmp, output, n);
    tmp[n] = '\0';
    char *slash = strrchr(tmp, '/');
    int a, b;
    if (!slash) {
        a = snprintf(dir, dsize, ".");
        b = snprintf(base, bsize, "%s", tmp);
    } else {
        *slash = '\0';
        a = snprintf(dir, dsize, "%s", slash == tmp ? "/" : tmp);
        b = snprintf(base, bsize, "%s", slash + 1);
    }
    if (a < 0 || (size_t)a >= dsize || b < 0 || (size_t)b >= bsize || !*base)
        return ct_error_set(err, CT_EINVAL, "invalid output name '%s'", output);
    return 0;
}

static int write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

static int mkdirs_for(const char *root, const char *rel, struct ct_error *err)
{
    char path[8192];
    int n = snprintf(path, sizeof(path), "%s/%s", root, rel);
    if (n < 0 || (size_t)n >= sizeof(path))
        return ct_error_set(err, CT_ELIMIT, "path too long");
    for (char *p = path + strlen(root) + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST) {
            int e = errno;
            *p = '/';
            return ct_error_set(err, CT_EIO, "cannot create '%s': %s", path,
                                strerror(e));
        }
        *p = '/';
    }
    return 0;
}

static int write_file(const char *root, const char *rel, const char *data,
                      size_t len, struct ct_error *err)
{
    char path[8192];
    int rc = mkdirs_for(root, rel, err);
    if (rc)
        return rc;
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return ct_error_set(err, CT_EIO, "cannot create '%s': %s", path,
                            strerror(errno));
    if (write_all(fd, data, len) != 0) {
        rc = ct_error_set(err, CT_EIO, "cannot write '%s': %s", path,
                          strerror(errno));
    }
    if (close(fd) != 0 && !rc)
        rc = ct_error_set(err, CT_EIO, "cannot write '%s': %s", path,
                          strerror(errno));
    return rc;
}

static void remove_tree(const char *root, struct snapwriter *w)
{
    /* only what we created: members, their directories, the root */
    char path[8192];
    for (size_t i = 0; i < w->n_members; i++) {
        snprintf(path, sizeof(path), "%s/%s", root, w->members[i].path);
        unlink(path);
    }
    snprintf(path, sizeof(path), "%s/%s", root, CT_SNAPSHOT_MANIFEST);
    unlink(path);
    for (size_t i = w->n_members; i-- > 0;) {
        snprintf(path, sizeof(path), "%s/%s", root, w->members[i].path);
        for (char *s = strrchr(path, '/'); s && s > path + strlen(root);
             s = strrchr(path, '/')) {
            *s = '\0';
            if (rmdir(path) != 0)
                break;
        }
    }
    rmdir(root);
}

static int commit_dir(struct snapwriter *w, const char *output,
                      const char *manifest, struct ct_error *err)
{
    char dir[4096], base[1024], tmp[4096 + 1100];
    int rc = split_output(dir, sizeof(dir), base, sizeof(base), output, err);
    if (rc)
        return rc;
    snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, base);
    if (!mkdtemp(tmp))
        return ct_error_set(err, CT_EIO,
                            "cannot create a directory in '%s': %s", dir,
                            strerror(errno));
    chmod(tmp, 0755);
    for (size_t i = 0; i < w->n_members && !rc; i++)
        if (!(rc = check_abort(w, err)))
            rc = write_file(tmp, w->members[i].path, w->members[i].data,
                            w->members[i].len, err);
    if (!rc)
        rc = write_file(tmp, CT_SNAPSHOT_MANIFEST, manifest, strlen(manifest),
                        err);
    if (!rc)
        rc = check_abort(w, err);
    if (!rc) {
        char final[4096 + 1100];
        snprintf(final, sizeof(final), "%s/%s", dir, base);
        if (rename(tmp, final) != 0)
            rc = ct_error_set(err, CT_EIO, "cannot create directory '%s': %s%s",
                              output, strerror(errno),
                              errno == ENOTEMPTY || errno == EEXIST
                                  ? " (it must not exist or be empty)"
                                  : "");
    }
    if (rc)
        remove_tree(tmp, w);
    return rc;
}

static int add_entry(struct archive *a, struct archive_entry *e,
                     const char *path, const char *data, size_t len,
                     time_t mtime, struct ct_error *err)
{
    archive_entry_clear(e);
    archive_entry_set_pathname(e, path);
    archive_entry_set_size(e, (la_int64_t)len);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_mtime(e, mtime, 0);
    if (archive_write_header(a, e) != ARCHIVE_OK ||
        (len > 0 && archive_write_data(a, data, len) != (la_ssize_t)len))
        return ct_error_set(err, CT_EIO, "cannot write '%s': %s", path,
                            archive_error_string(a));
    return 0;
}

static int commit_archive(struct snapwriter *w, const char *output,
                          enum snapwriter_kind kind, const char *manifest,
                          time_t mtime, struct ct_error *err)
{
    char dir[4096], base[1024], tmp[4096 + 1100], final[4096 + 1100];
    struct archive *a = NULL;
    struct archive_entry *e = NULL;
    int fd = -1, rc;
    int have_tmp = 0;

    rc = split_output(dir, sizeof(dir), base, sizeof(base), output, err);
    if (rc)
        return rc;
    snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, base);
    snprintf(final, sizeof(final), "%s/%s", dir, base);
    fd = mkstemp(tmp);
    if (fd < 0)
        return ct_error_set(err, CT_EIO, "cannot create a file in '%s': %s",
                            dir, strerror(errno));
    have_tmp = 1;
    {
        mode_t mask = umask(0);
        umask(mask);
        fchmod(fd, 0666 & ~mask);
    }
    a = archive_write_new();
    e = archive_entry_new();
    if (!a || !e) {
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
        goto done;
    }
    int frc = ARCHIVE_OK;
    switch (kind) {
    case SNAPWRITER_TAR_GZ:
        frc = archive_write_add_filter_gzip(a);
        break;
    case SNAPWRITER_TAR_ZST:
        frc = archive_write_add_filter_zstd(a);
        break;
    case SNAPWRITER_TAR_XZ:
        frc = archive_write_add_filter_xz(a);
        break;
    default:
        break;
    }
    if (frc != ARCHIVE_OK ||
        archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
        archive_write_open_fd(a, fd) != ARCHIVE_OK) {
        rc = ct_error_set(err, CT_EIO, "cannot write '%s': %s", output,
                          archive_error_string(a));
        goto done;
    }
    for (size_t i = 0; i < w->n_members && !rc; i++)
        if (!(rc = check_abort(w, err)))
            rc = add_entry(a, e, w->members[i].path, w->members[i].data,
                           w->members[i].len, mtime, err);
    if (!rc)
        rc = check_abort(w, err);
    if (!rc)
        rc = add_entry(a, e, CT_SNAPSHOT_MANIFEST, manifest, strlen(manifest),
                       mtime, err);
    if (!rc && archive_write_close(a) != ARCHIVE_OK)
        rc = ct_error_set(err, CT_EIO, "cannot write '%s': %s", output,
                          archive_error_string(a));
    if (rc)
        goto done;
    if (fsync(fd) != 0) {
        rc = ct_error_set(err, CT_EIO, "cannot write '%s': %s", output,
                          strerror(errno));
        goto done;
    }
    if (close(fd) != 0) {
        fd = -1;
        rc = ct_error_set(err, CT_EIO, "cannot write '%s': %s", output,
                          strerror(errno));
        goto done;
    }
    fd = -1;
    if ((rc = check_abort(w, err)) != 0)
        goto done;
    if (rename(tmp, final) != 0) {
        rc = ct_error_set(err, CT_EIO, "cannot create '%s': %s", output,
                          strerror(errno));
        goto done;
    }
    have_tmp = 0;
done:
    if (a)
        archive_write_free(a);
    archive_entry_free(e);
    if (fd >= 0)
        close(fd);
    if (have_tmp)
        unlink(tmp);
    return rc;
}

int snapwriter_commit(struct snapwriter *w, const char *output,
                      const json_t *manifest, time_t mtime,
                      struct ct_error *err)
{
    enum snapwriter_kind kind;
    char *text = NULL;
    int rc = snapwriter_kind(&kind, output, err);
    if (rc)
        return rc;
    qsort(w->members, w->n_members, sizeof(w->members[0]), cmp_member);
    for (size_t i = 1; i < w->n_members; i++)
        if (strcmp(w->members[i - 1].path, w->members[i].path) == 0)
            return ct_error_set(err, CT_EINVAL, "duplicate member '%s'",
                                w->members[i].path);
    rc = build_checksums(&text, w, manifest, err);
    if (rc)
        goto done;
    if (kind == SNAPWRITER_DIR)
        rc = commit_dir(w, output, text, err);
    else
        rc = commit_archive(w, output, kind, text, mtime, err);
done:
    free(text);
    return rc;
}

/* ---- reading a snapshot back (--resume) ---- */

#define SNAPWRITER_LOAD_MAX_MEMBER (64 * 1024 * 1024)

static int load_dir(struct snapwriter *w, const char *root, const char *rel,
                    int depth, struct ct_error *err)
{
    char path[4096 + 2048];
    int rc = 0;
    snprintf(path, sizeof(path), "%s%s%s", root, *rel ? "/" : "", rel);
    DIR *d = opendir(path);
    if (!d)
        return ct_error_set(err, CT_EIO, "cannot read '%s': %s", path,
                            strerror(errno));
    if (depth > 16) {
        closedir(d);
        return ct_error_set(err, CT_EPARSE, "'%s' is nested too deep", path);
    }
    struct dirent *de;
    while (!rc && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char child[2048], full[4096 + 2048];
        int len = snprintf(child, sizeof(child), "%s%s%s", rel, *rel ? "/" : "",
                           de->d_name);
        if (len < 0 || (size_t)len >= sizeof(child)) {
            rc = ct_error_set(err, CT_ELIMIT, "path too long under '%s'", root);
            break;
        }
        snprintf(full, sizeof(full), "%s/%s", root, child);
        struct stat st;
        if (lstat(full, &st) != 0) {
            rc = ct_error_set(err, CT_EIO, "cannot read '%s': %s", full,
                              strerror(errno));
        } else if (S_ISDIR(st.st_mode)) {
            rc = load_dir(w, root, child, depth + 1, err);
        } else if (S_ISREG(st.st_mode)) {
            if (st.st_size > SNAPWRITER_LOAD_MAX_MEMBER) {
                rc = ct_error_set(err, CT_ELIMIT, "'%s' is too large", full);
                break;
            }
            FILE *f = fopen(full, "rb");
            char *buf = malloc((size_t)st.st_size + 1);
            size_t n = f && buf ? fread(buf, 1, (size_t)st.st_size, f) : 0;
            if (!f || !buf || n != (size_t)st.st_size)
                rc = ct_error_set(err, CT_EIO, "cannot read '%s'", full);
            else
                rc = snapwriter_add(w, child, buf, n, err);
            free(buf);
            if (f)
                fclose(f);
        }
    }
    closedir(d);
    return rc;
}

static int load_archive(struct snapwriter *w, const char *path,
                        struct ct_error *err)
{
    struct archive *a = archive_read_new();
    struct archive_entry *e;
    char *buf = NULL;
    int rc = 0;
    if (!a)
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    archive_read_support_filter_all(a);
    archive_read_support_format_tar(a);
    if (archive_read_open_filename(a, path, 65536) != ARCHIVE_OK) {
        rc = ct_error_set(err, CT_EIO, "cannot read '%s': %s", path,
                          archive_error_string(a));
        goto done;
    }
    for (;;) {
        int r = archive_read_next_header(a, &e);
        if (r == ARCHIVE_EOF)
            break;
        if (r != ARCHIVE_OK) {
            rc = ct_error_set(err, CT_EPARSE, "cannot read '%s': %s", path,
                              archive_error_string(a));
            goto done;
        }
        if (archive_entry_filetype(e) != AE_IFREG)
            continue;
        la_int64_t size = archive_entry_size(e);
        if (size < 0 || size > SNAPWRITER_LOAD_MAX_MEMBER) {
            rc = ct_error_set(err, CT_ELIMIT, "'%s': member too large", path);
            goto done;
        }
        const char *name = archive_entry_pathname(e);
        if (name && strncmp(name, "./", 2) == 0)
            name += 2;
        buf = malloc((size_t)size + 1);
        if (!buf) {
            rc = ct_error_set(err, CT_ENOMEM, "out of memory");
            goto done;
        }
        if (archive_read_data(a, buf, (size_t)size) != (la_ssize_t)size) {
            rc = ct_error_set(err, CT_EPARSE, "cannot read '%s': %s", path,
                              archive_error_string(a));
            goto done;
        }
        rc = snapwriter_add(w, name ? name : "", buf, (size_t)size, err);
        free(buf);
        buf = NULL;
        if (rc)
            goto done;
    }
done:
    free(buf);
    archive_read_free(a);
    return rc;
}

static const struct member *find_member(const struct snapwriter *w,
                                        const char *path)
{
    for (size_t i = 0; i < w->n_members; i++)
        if (strcmp(w->members[i].path, path) == 0)
            return &w->members[i];
    return NULL;
}

/* Every member matches its SHA256SUMS line, which matches the manifest. */
static int load_verify(const struct snapwriter *t, const json_t *manifest,
                       const char *path, struct ct_error *err)
{
    char hex[CT_SHA256_HEX_LEN + 1];
    const struct member *sums = find_member(t, CT_SNAPSHOT_CHECKSUMS);
    const char *want = json_string_value(
        json_object_get(json_object_get(manifest, "checksums"), "sha256"));
    size_t n_lines = 0;
    int rc;
    if (!sums || !want)
        return ct_error_set(err, CT_EVERIFY, "'%s' has no checksums", path);
    if ((rc = ct_sha256_hex(hex, sums->data, sums->len, err)) != 0)
        return rc;
    if (strcmp(hex, want) != 0)
        return ct_error_set(err, CT_EVERIFY,
                            "'%s': SHA256SUMS does not match the manifest",
                            path);
    const char *p = sums->data, *end = sums->data + sums->len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        char name[1024];
        if (n < CT_SHA256_HEX_LEN + 3 ||
            n - CT_SHA256_HEX_LEN - 2 >= sizeof(name))
            return ct_error_set(err, CT_EVERIFY, "'%s': bad SHA256SUMS line",
                                path);
        memcpy(name, p + CT_SHA256_HEX_LEN + 2, n - CT_SHA256_HEX_LEN - 2);
        name[n - CT_SHA256_HEX_LEN - 2] = '\0';
        const struct member *m = find_member(t, name);
        if (!m)
            return ct_error_set(err, CT_EVERIFY, "'%s': '%s' is missing", path,
                                name);
        if ((rc = ct_sha256_hex(hex, m->data, m->len, err)) != 0)
            return rc;
        if (memcmp(hex, p, CT_SHA256_HEX_LEN) != 0)
            return ct_error_set(err, CT_EVERIFY, "'%s': '%s' has changed", path,
                                name);
        n_lines++;
        p += n + 1;
    }
    if (n_lines + 2 != t->n_members)
        return ct_error_set(err, CT_EVERIFY,
                            "'%s': members not listed in SHA256SUMS", path);
    return 0;
}

int snapwriter_load(struct snapwriter *w, json_t **manifest, const char *path,
                    int (*keep)(void *ctx, const char *path), void *ctx,
                    struct ct_error *err)
{
    struct snapwriter *t = NULL;
    json_t *m = NULL;
    struct stat st;
    int rc = snapwriter_new(&t, err);
    if (rc)
        return rc;
    if (stat(path, &st) != 0) {
        rc = ct_error_set(err, CT_EIO, "cannot read '%s': %s", path,
                          strerror(errno));
        goto done;
    }
    rc = S_ISDIR(st.st_mode) ? load_dir(t, path, "", 0, err)
                             : load_archive(t, path, err);
    if (rc)
        goto done;
    const struct member *mm = find_member(t, CT_SNAPSHOT_MANIFEST);
    m = mm ? json_loadb(mm->data, mm->len, 0, NULL) : NULL;
    if (!json_is_object(m)) {
        rc = ct_error_set(err, CT_EPARSE, "'%s' has no valid manifest.json",
                          path);
        goto done;
    }
    rc = load_verify(t, m, path, err);
    if (rc)
        goto done;
    for (size_t i = 0; i < t->n_members && !rc; i++) {
        const struct member *x = &t->members[i];
        if (strcmp(x->path, CT_SNAPSHOT_MANIFEST) == 0 ||
            strcmp(x->path, CT_SNAPSHOT_CHECKSUMS) == 0 ||
            (keep && !keep(ctx, x->path)))
            continue;
        rc = snapwriter_add(w, x->path, x->data, x->len, err);
    }
    if (rc == 0 && manifest) {
        *manifest = m;
        m = NULL;
    }
done:
    json_decref(m);
    snapwriter_free(t);
    return rc;
}
