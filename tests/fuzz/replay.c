/*
 * Replays fuzz inputs without libFuzzer: every file named on the command
 * line, or every file of a directory named there, through fuzz_one().
 * Built with the normal compiler; ctest runs it on tests/fuzz/regressions/.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/fuzz/harness.h"

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    unsigned char *data = NULL;
    size_t len = 0, cap = 0;
    if (!f) {
        perror(path);
        return 1;
    }
    for (;;) {
        if (cap - len < 65536) {
            unsigned char *n = realloc(data, cap + 65536 * 4);
            if (!n) {
                fclose(f);
                free(data);
                return 1;
            }
            data = n;
            cap += 65536 * 4;
        }
        size_t got = fread(data + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (!bad)
        fuzz_one(data, len);
    free(data);
    printf("replayed %s (%zu bytes)\n", path, len);
    return bad;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int replay_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    size_t n = 0;
    int rc = 0;
    if (!d) {
        perror(dir);
        return 1;
    }
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || strcmp(e->d_name, "README.md") == 0)
            continue;
        char **nn = realloc(names, (n + 1) * sizeof(*nn));
        if (!nn || !(nn[n] = strdup(e->d_name))) {
            rc = 1;
            names = nn ? nn : names;
            break;
        }
        names = nn;
        n++;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof(*names), cmp_name);
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        if (rc == 0)
            rc = replay_file(path);
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    int rc = 0;
    if (argc < 2) {
        fprintf(stderr, "usage: fuzz_replay FILE|DIR...\n");
        return 2;
    }
    for (int i = 1; i < argc && rc == 0; i++) {
        struct stat st;
        if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
            rc = replay_dir(argv[i]);
        else
            rc = replay_file(argv[i]);
    }
    return rc;
}
