/*
 * ct_bench_floor: the decompress-and-parse floor of loading a snapshot.
 *
 * Reads every regular member of a snapshot (an archive in any compression
 * libarchive detects, or a directory through archive_read_disk), parses each
 * one with json_loadb() and drops it. Nothing is classified, stored or
 * verified, so no loader can be faster than this on the same machine: the
 * benchmark reports `ctaudit load` and `ctaudit report` as multiples of it.
 * Prints members, bytes and elapsed seconds on stdout.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/error.h"

#define FLOOR_BLOCK_SIZE (64 * 1024)
#define FLOOR_CHUNK (64 * 1024)

struct floor_stats {
    uint64_t n_members;
    uint64_t n_bytes;
};

/* A growable buffer, reused for every member. */
struct floor_buf {
    char *data;
    size_t len;
    size_t cap;
};

static void floor_buf_release(struct floor_buf *b)
{
    if (!b)
        return;
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

static int floor_buf_reserve(struct floor_buf *b, size_t need,
                             struct ct_error *err)
{
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : FLOOR_CHUNK;
    while (cap < need) {
        if (cap > SIZE_MAX / 2)
            return ct_error_set(err, CT_ENOMEM, "member too large");
        cap *= 2;
    }
    char *p = realloc(b->data, cap);
    if (!p)
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    b->data = p;
    b->cap = cap;
    return 0;
}

/* Reads the current member's data into buf. */
static int floor_read_member(struct floor_buf *buf, struct archive *a,
                             const char *name, struct ct_error *err)
{
    buf->len = 0;
    for (;;) {
        int rc = floor_buf_reserve(buf, buf->len + FLOOR_CHUNK, err);
        if (rc < 0)
            return rc;
        la_ssize_t n =
            archive_read_data(a, buf->data + buf->len, buf->cap - buf->len);
        if (n < 0)
            return ct_error_set(err, CT_EIO, "cannot read '%s': %s", name,
                                archive_error_string(a));
        if (n == 0)
            return 0;
        buf->len += (size_t)n;
    }
}

static int floor_parse_member(const struct floor_buf *buf, const char *name,
                              struct ct_error *err)
{
    json_error_t jerr;
    json_t *root;
    /* SHA256SUMS is text (sha256sum format): reading it is the floor */
    size_t n = strlen(name);
    if (n >= 10 && strcmp(name + n - 10, "SHA256SUMS") == 0)
        return 0;
    root = json_loadb(buf->data, buf->len, 0, &jerr);
    if (!root)
        return ct_error_set(err, CT_EPARSE, "cannot parse '%s': line %d: %s",
                            name, jerr.line, jerr.text);
    json_decref(root);
    return 0;
}

/*
 * Walks every entry of an opened reader (archive or disk). For the disk,
 * descends into directories and never follows symbolic links.
 */
static int floor_walk(struct floor_stats *out, struct archive *a, int is_disk,
                      struct ct_error *err)
{
    struct floor_stats st = {0, 0};
    struct floor_buf buf = {NULL, 0, 0};
    struct archive_entry *entry = NULL;
    int rc = 0;

    entry = archive_entry_new();
    if (!entry) {
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
        goto done;
    }
    for (;;) {
        int r = archive_read_next_header2(a, entry);
        if (r == ARCHIVE_EOF)
            break;
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
            rc = ct_error_set(err, CT_EIO, "cannot read entry: %s",
                              archive_error_string(a));
            goto done;
        }
        if (is_disk && archive_read_disk_can_descend(a))
            archive_read_disk_descend(a);
        if (archive_entry_filetype(entry) != AE_IFREG)
            continue;
        const char *name = archive_entry_pathname(entry);
        if (!name)
            name = "?";
        rc = floor_read_member(&buf, a, name, err);
        if (rc < 0)
            goto done;
        rc = floor_parse_member(&buf, name, err);
        if (rc < 0)
            goto done;
        st.n_members++;
        st.n_bytes += buf.len;
    }
    *out = st;
done:
    archive_entry_free(entry);
    floor_buf_release(&buf);
    return rc;
}

static int floor_run(struct floor_stats *out, const char *path,
                     struct ct_error *err)
{
    struct archive *a = NULL;
    struct stat sb;
    int is_disk, rc = 0;

    if (stat(path, &sb) != 0)
        return ct_error_set(err, CT_EIO, "cannot open '%s': %s", path,
                            strerror(errno));
    is_disk = S_ISDIR(sb.st_mode);
    if (is_disk) {
        a = archive_read_disk_new();
        if (!a) {
            rc = ct_error_set(err, CT_ENOMEM, "out of memory");
            goto done;
        }
        if (archive_read_disk_set_symlink_physical(a) != ARCHIVE_OK ||
            archive_read_disk_set_behavior(
                a, ARCHIVE_READDISK_NO_XATTR | ARCHIVE_READDISK_NO_ACL |
                       ARCHIVE_READDISK_NO_FFLAGS) != ARCHIVE_OK ||
            archive_read_disk_open(a, path) != ARCHIVE_OK) {
            rc = ct_error_set(err, CT_EIO, "cannot open '%s': %s", path,
                              archive_error_string(a));
            goto done;
        }
    } else {
        a = archive_read_new();
        if (!a) {
            rc = ct_error_set(err, CT_ENOMEM, "out of memory");
            goto done;
        }
        archive_read_support_filter_all(a);
        archive_read_support_format_tar(a);
        if (archive_read_open_filename(a, path, FLOOR_BLOCK_SIZE) !=
            ARCHIVE_OK) {
            rc = ct_error_set(err, CT_EIO, "cannot open '%s': %s", path,
                              archive_error_string(a));
            goto done;
        }
    }
    rc = floor_walk(out, a, is_disk, err);
done:
    if (a) {
        archive_read_close(a);
        archive_read_free(a);
    }
    return rc;
}

static double floor_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(FILE *f)
{
    fputs("usage: ct_bench_floor SNAPSHOT\n"
          "\n"
          "Reads every member of SNAPSHOT (.tar, .tar.gz, .tar.zst, .tar.xz\n"
          "or a directory), parses each as JSON and drops it: the floor that\n"
          "`ctaudit load` is measured against. Prints members, bytes\n"
          "(uncompressed) and elapsed seconds.\n"
          "\n"
          "exit status: 0 ok, 1 read or parse error, 2 usage error\n",
          f);
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct ct_error err = CT_ERROR_INIT;
    struct floor_stats st = {0, 0};

    for (;;) {
        int c = getopt_long(argc, argv, "h", options, NULL);
        if (c == -1)
            break;
        if (c == 'h') {
            usage(stdout);
            return 0;
        }
        usage(stderr);
        return 2;
    }
    if (optind != argc - 1) {
        usage(stderr);
        return 2;
    }
    double t0 = floor_now();
    if (floor_run(&st, argv[optind], &err) < 0) {
        fprintf(stderr, "ct_bench_floor: %s\n", err.message);
        return 1;
    }
    double elapsed = floor_now() - t0;
    printf("members %llu\nbytes %llu\nseconds %.3f\n",
           (unsigned long long)st.n_members, (unsigned long long)st.n_bytes,
           elapsed);
    if (ferror(stdout) | fclose(stdout)) {
        fprintf(stderr, "ct_bench_floor: cannot write standard output\n");
        return 1;
    }
    return 0;
}
