/*
 * Snapshot member streaming over libarchive: archive_read for tarballs,
 * archive_read_disk for directories, so both containers take one code path.
 */
#include "analyzer/source.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <archive.h>
#include <archive_entry.h>

#define SRC_CHUNK 65536

int src_is_directory(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

struct walker {
    const struct src_limits *limits;
    src_member_fn fn;
    src_warn_fn warn;
    void *ctx;
    const char *source;
    unsigned char *buf;
    size_t cap;
    uint64_t total;
    uint64_t count;
    char *prefix;      /* top-level folder to strip ("dump/"), or "" */
    int prefix_known;
};

static void walker_warn(struct walker *w, const char *path, const char *msg)
{
    if (w->warn)
        w->warn(w->ctx, path, msg);
}

static int is_format_top(const char *first)
{
    return strcmp(first, "manifest.json") == 0
           || strcmp(first, "organization") == 0
           || strcmp(first, "accounts") == 0;
}

/*
 * Decides the path of an archive member relative to the snapshot root.
 * The first member that tells (a format top-level name, or any name inside a
 * folder) fixes the prefix; later members outside it are not part of the
 * snapshot. Returns NULL for members to skip.
 */
static const char *archive_relative(struct walker *w, const char *name,
                                    struct ct_error *err, int *failed)
{
    while (name[0] == '.' && name[1] == '/')
        name += 2;
    while (name[0] == '/')
        name++;
    if (name[0] == '\0')
        return NULL;
    if (!w->prefix_known) {
        const char *slash = strchr(name, '/');
        size_t n = slash ? (size_t)(slash - name) : strlen(name);
        char first[256];
        if (n >= sizeof(first)) {
            *failed = 1;
            ct_error_set(err, CT_EPARSE, "member '%.64s...': name too long",
                         name);
            return NULL;
        }
        memcpy(first, name, n);
        first[n] = '\0';
        if (is_format_top(first)) {
            w->prefix = strdup("");
        } else if (strcmp(first, "..") == 0 || strcmp(first, ".") == 0) {
            return name; /* never a top folder: unknown, decide later */
        } else if (slash) {
            w->prefix = strndup(name, n + 1);
        } else {
            return name; /* a lone top-level file: unknown, decide later */
        }
        if (!w->prefix) {
            *failed = 1;
            ct_error_set(err, CT_ENOMEM, "out of memory");
            return NULL;
        }
        w->prefix_known = 1;
    }
    size_t plen = strlen(w->prefix);
    if (strncmp(name, w->prefix, plen) != 0) {
        /* outside the snapshot's top folder: never part of the snapshot,
         * even when the rest of its path looks like a member */
        walker_warn(w, name, "outside the snapshot's top folder: ignored");
        return NULL;
    }
    name += plen;
    return name[0] ? name : NULL;
}

static int read_member(struct walker *w, struct archive *a, const char *path,
                       struct src_member *m, struct ct_error *err)
{
    struct ct_sha256 *h = NULL;
    size_t len = 0;
    uint64_t limit = strcmp(path, "SHA256SUMS") == 0
                         ? w->limits->max_checksums
                         : w->limits->max_member;
    int rc = ct_sha256_new(&h, err);
    if (rc)
        goto done;
    for (;;) {
        if (w->cap - len < SRC_CHUNK + 1) {
            size_t ncap = w->cap ? w->cap * 2 : (size_t)SRC_CHUNK * 4;
            while (ncap - len < SRC_CHUNK + 1)
                ncap *= 2;
            if (ncap > limit + SRC_CHUNK + 1)
                ncap = (size_t)limit + SRC_CHUNK + 1;
            unsigned char *nbuf = realloc(w->buf, ncap);
            if (!nbuf) {
                rc = ct_error_set(err, CT_ENOMEM, "member '%s': out of memory",
                                  path);
                goto done;
            }
            w->buf = nbuf;
            w->cap = ncap;
        }
        la_ssize_t got = archive_read_data(a, w->buf + len, SRC_CHUNK);
        if (got < 0) {
            rc = ct_error_set(err, CT_EIO, "member '%s': %s", path,
                              archive_error_string(a)
                                  ? archive_error_string(a)
                                  : "read error");
            goto done;
        }
        if (got == 0)
            break;
        len += (size_t)got;
        if (len > limit) {
            rc = ct_error_set(err, CT_ELIMIT,
                              "member '%s': larger than the %llu-byte member "
                              "limit (--max-member-size)",
                              path, (unsigned long long)limit);
            goto done;
        }
        if (w->total + len > w->limits->max_total) {
            rc = ct_error_set(err, CT_ELIMIT,
                              "member '%s': snapshot larger than the "
                              "%llu-byte total limit (--max-total-size)",
                              path, (unsigned long long)w->limits->max_total);
            goto done;
        }
    }
    rc = ct_sha256_update(h, w->buf, len, err);
    if (rc == 0)
        rc = ct_sha256_final_hex(h, m->sha256, err);
    if (rc)
        goto done;
    w->buf[len] = '\0';
    w->total += len;
    m->data = w->buf;
    m->size = len;
done:
    ct_sha256_free(h);
    return rc;
}

static int walk_entries(struct walker *w, struct archive *a, int is_disk,
                        struct ct_error *err)
{
    struct archive_entry *entry = archive_entry_new();
    int rc = 0;
    size_t root_len = strlen(w->source);
    if (!entry)
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    while (root_len > 1 && w->source[root_len - 1] == '/')
        root_len--;

    for (;;) {
        int r = archive_read_next_header2(a, entry);
        if (r == ARCHIVE_EOF)
            break;
        if (r == ARCHIVE_WARN) {
            walker_warn(w, archive_entry_pathname(entry)
                               ? archive_entry_pathname(entry) : "?",
                        archive_error_string(a) ? archive_error_string(a)
                                                : "archive warning");
        } else if (r != ARCHIVE_OK) {
            const char *msg = archive_error_string(a);
            rc = ct_error_set(err, CT_EPARSE,
                              "%s (truncated or corrupt snapshot%s)",
                              msg ? msg : "cannot read archive header",
                              w->count ? "" : ", or not a tar archive");
            goto done;
        }
        const char *name = archive_entry_pathname(entry);
        if (!name)
            continue;
        const char *rel = NULL;
        int failed = 0;
        if (is_disk) {
            if (strncmp(name, w->source, root_len) != 0)
                continue;
            rel = name + root_len;
            while (*rel == '/')
                rel++;
            if (archive_entry_filetype(entry) == AE_IFDIR) {
                if (archive_read_disk_can_descend(a))
                    archive_read_disk_descend(a);
                continue;
            }
            if (*rel == '\0')
                continue;
        } else {
            rel = archive_relative(w, name, err, &failed);
            if (failed) {
                rc = err ? err->code : CT_EPARSE;
                goto done;
            }
            if (!rel || archive_entry_filetype(entry) == AE_IFDIR)
                continue;
        }
        mode_t type = archive_entry_filetype(entry);
        if (type != AE_IFREG || archive_entry_hardlink(entry)) {
            walker_warn(w, rel,
                        type == AE_IFLNK ? "symbolic link ignored"
                        : archive_entry_hardlink(entry)
                            ? "hard link ignored"
                            : "not a regular file: ignored");
            continue;
        }
        if (++w->count > w->limits->max_members) {
            rc = ct_error_set(err, CT_ELIMIT,
                              "member '%s': more than %llu members", rel,
                              (unsigned long long)w->limits->max_members);
            goto done;
        }
        if (archive_entry_size_is_set(entry)
            && archive_entry_size(entry) > (la_int64_t)w->limits->max_member
            && strcmp(rel, "SHA256SUMS") != 0) {
            rc = ct_error_set(err, CT_ELIMIT,
                              "member '%s': larger than the %llu-byte member "
                              "limit (--max-member-size)",
                              rel, (unsigned long long)w->limits->max_member);
            goto done;
        }
        struct src_member m;
        memset(&m, 0, sizeof(m));
        m.path = rel;
        rc = read_member(w, a, rel, &m, err);
        if (rc)
            goto done;
        rc = w->fn(w->ctx, &m, err);
        if (rc)
            goto done;
    }
done:
    archive_entry_free(entry);
    return rc;
}

int src_walk(const char *source, const struct src_limits *limits,
             src_member_fn fn, src_warn_fn warn, void *ctx,
             struct ct_error *err)
{
    struct src_limits defaults = SRC_LIMITS_INIT;
    struct walker w;
    struct archive *a = NULL;
    int rc = 0;
    int is_disk = src_is_directory(source);

    memset(&w, 0, sizeof(w));
    w.limits = limits ? limits : &defaults;
    w.fn = fn;
    w.warn = warn;
    w.ctx = ctx;
    w.source = source;

    if (is_disk) {
        a = archive_read_disk_new();
        if (!a) {
            rc = ct_error_set(err, CT_ENOMEM, "out of memory");
            goto done;
        }
        archive_read_disk_set_symlink_physical(a);
        archive_read_disk_set_behavior(a, ARCHIVE_READDISK_NO_XATTR
                                              | ARCHIVE_READDISK_NO_ACL
                                              | ARCHIVE_READDISK_NO_FFLAGS
                                              | ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS);
        if (archive_read_disk_open(a, source) != ARCHIVE_OK) {
            rc = ct_error_set(err, CT_EIO, "%s", archive_error_string(a));
            goto done;
        }
    } else {
        struct stat st;
        if (stat(source, &st) != 0) {
            rc = ct_error_set(err, CT_EIO, "%s", strerror(errno));
            goto done;
        }
        a = archive_read_new();
        if (!a) {
            rc = ct_error_set(err, CT_ENOMEM, "out of memory");
            goto done;
        }
        archive_read_support_filter_all(a);
        archive_read_support_format_tar(a);
        if (archive_read_open_filename(a, source, 1 << 16) != ARCHIVE_OK) {
            rc = ct_error_set(err, CT_EPARSE, "%s (not a tar archive?)",
                              archive_error_string(a)
                                  ? archive_error_string(a)
                                  : "cannot open");
            goto done;
        }
    }
    rc = walk_entries(&w, a, is_disk, err);
done:
    archive_read_free(a);
    free(w.buf);
    free(w.prefix);
    return rc;
}
