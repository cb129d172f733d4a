/* Unit tests of the string map: lookups, interning, entries larger than a
 * block, growth across many blocks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "analyzer/strmap.h"

static void put_and_get(void **state)
{
    (void)state;
    struct strmap m = STRMAP_INIT(sizeof(long));
    int added = -1;
    long *v = strmap_put(&m, "arn:aws:cloudtrail:us-east-1:1:trail/a", &added);
    assert_non_null(v);
    assert_int_equal(added, 1);
    assert_int_equal(*v, 0); /* zero-filled */
    *v = 42;
    v = strmap_put(&m, "arn:aws:cloudtrail:us-east-1:1:trail/a", &added);
    assert_int_equal(added, 0);
    assert_int_equal(*v, 42);
    assert_null(strmap_get(&m, "arn:aws:cloudtrail:us-east-1:1:trail/b"));
    assert_null(strmap_get(&m, "")); /* a key of no bytes */
    assert_non_null(strmap_put(&m, "", &added));
    assert_int_equal(added, 1);
    assert_non_null(strmap_get(&m, ""));
    strmap_release(&m);
    assert_null(strmap_get(&m, "arn:aws:cloudtrail:us-east-1:1:trail/a"));
}

/* 200,000 keys of every length from 0 to 99: many blocks, many growths;
 * every value stays where it was put. */
static void many_keys(void **state)
{
    (void)state;
    struct strmap m = STRMAP_INIT(sizeof(size_t));
    char key[128];
    const size_t n = 200000;
    for (size_t i = 0; i < n; i++) {
        int len = snprintf(key, sizeof(key), "%zu/", i);
        while (len < (int)(i % 100))
            key[len++] = (char)('a' + i % 26);
        key[len] = '\0';
        size_t *v = strmap_put(&m, key, NULL);
        assert_non_null(v);
        *v = i;
    }
    assert_int_equal(m.n, n);
    for (size_t i = 0; i < n; i += 997) {
        int len = snprintf(key, sizeof(key), "%zu/", i);
        while (len < (int)(i % 100))
            key[len++] = (char)('a' + i % 26);
        key[len] = '\0';
        size_t *v = strmap_get(&m, key);
        assert_non_null(v);
        assert_int_equal(*v, i);
        assert_true(((uintptr_t)v % _Alignof(max_align_t)) == 0);
    }
    strmap_release(&m);
}

/* A key longer than a block gets a block of its own; the entries around
 * it are unharmed. */
static void key_larger_than_a_block(void **state)
{
    (void)state;
    struct strmap m = STRMAP_INIT(0);
    int oom = 0;
    size_t big = 200000;
    char *s = malloc(big + 1);
    assert_non_null(s);
    memset(s, 'x', big);
    s[big] = '\0';
    const char *before = strmap_intern(&m, "before", &oom);
    const char *k = strmap_intern(&m, s, &oom);
    const char *after = strmap_intern(&m, "after", &oom);
    assert_int_equal(oom, 0);
    assert_non_null(k);
    assert_ptr_not_equal(k, s);
    assert_string_equal(k, s);
    assert_ptr_equal(strmap_intern(&m, s, &oom), k);
    assert_string_equal(before, "before");
    assert_string_equal(after, "after");
    assert_ptr_equal(strmap_intern(&m, "before", &oom), before);
    free(s);
    strmap_release(&m);
}

static void intern_recent(void **state)
{
    (void)state;
    struct strmap m = STRMAP_INIT(0);
    const char *recent = NULL;
    int oom = 0;
    char buf[16];
    strcpy(buf, "us-east-1");
    const char *a = strmap_intern_recent(&m, buf, &recent, &oom);
    assert_ptr_equal(recent, a);
    assert_ptr_not_equal(a, buf); /* the map's copy, not the caller's */
    assert_ptr_equal(strmap_intern_recent(&m, "us-east-1", &recent, &oom), a);
    const char *b = strmap_intern_recent(&m, "eu-west-1", &recent, &oom);
    assert_string_equal(b, "eu-west-1");
    assert_ptr_equal(recent, b);
    /* a value seen before, not the last: the map's same copy */
    assert_ptr_equal(strmap_intern_recent(&m, "us-east-1", &recent, &oom), a);
    assert_null(strmap_intern_recent(&m, NULL, &recent, &oom));
    assert_int_equal(oom, 0);
    assert_ptr_equal(recent, a); /* NULL leaves it */
    assert_int_equal(m.n, 2);
    strmap_release(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(put_and_get),
        cmocka_unit_test(many_keys),
        cmocka_unit_test(key_larger_than_a_block),
        cmocka_unit_test(intern_recent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
