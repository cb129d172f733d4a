/* Unit tests of SHA256SUMS matching (verify.c): lines in the members'
 * archive order are matched by position, any other order by lookup, and
 * both give the same verdicts: a differing digest, a member missing from
 * the listing, a listed member missing from the snapshot, a repeated line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "analyzer/strmap.h"
#include "analyzer/verify.h"
#include "core/error.h"

#define N_MEMBERS 4

static const char *const paths[N_MEMBERS] = {
    "organization/list-accounts.json",
    "accounts/111111111111/identity.json",
    "accounts/111111111111/us-east-1/describe-trails.json",
    "accounts/222222222222/identity.json",
};

/* A digest per member: 64 hex digits of one repeated character. */
static void digest_hex(char out[65], int i)
{
    memset(out, "0123456789abcdef"[i + 1], 64);
    out[64] = '\0';
}

/* The members "read" in archive order, as the pipeline records them. */
static void read_members(struct strmap *map, struct verify_order *order)
{
    for (int i = 0; i < N_MEMBERS; i++) {
        const char *stored = NULL;
        char hex[65];
        struct member_state *st =
            strmap_put_stored(map, paths[i], NULL, &stored);
        assert_non_null(st);
        assert_string_equal(stored, paths[i]);
        digest_hex(hex, i);
        assert_int_equal(verify_hex_digest(st->actual, hex), 0);
        st->flags |= MEMBER_PRESENT;
        assert_int_equal(verify_order_add(order, stored, st), 0);
    }
}

/* SHA256SUMS listing the members of `which` (indexes, -1 ends) with their
 * digests; `bad` (an index or -1) gets a wrong one. */
static int add_sums(struct strmap *map, const struct verify_order *order,
                    const int *which, int bad, struct ct_error *err)
{
    char text[2048] = "";
    for (const int *w = which; *w >= 0; w++) {
        char hex[65], line[256];
        digest_hex(hex, *w == bad ? 9 : *w);
        snprintf(line, sizeof(line), "%s  %s\n", hex, paths[*w]);
        strcat(text, line);
    }
    struct src_member m = {"SHA256SUMS", (const unsigned char *)text,
                           strlen(text), ""};
    return verify_add_checksums(map, order, &m, err);
}

/* Adds SHA256SUMS itself as present, with the digest the manifest gives. */
static void add_sums_member(struct strmap *map, char manifest_hex[65])
{
    struct member_state *st = strmap_put(map, "SHA256SUMS", NULL);
    assert_non_null(st);
    digest_hex(manifest_hex, 8);
    assert_int_equal(verify_hex_digest(st->actual, manifest_hex), 0);
    st->flags |= MEMBER_PRESENT;
}

static int check(const int *which, int bad, struct ct_error *err)
{
    struct strmap map = STRMAP_INIT(sizeof(struct member_state));
    struct verify_order order = VERIFY_ORDER_INIT;
    char manifest_hex[65];
    int rc;
    read_members(&map, &order);
    rc = add_sums(&map, &order, which, bad, err);
    if (rc == 0) {
        add_sums_member(&map, manifest_hex);
        rc = verify_members(&map, manifest_hex, err);
    }
    verify_order_release(&order);
    strmap_release(&map);
    return rc;
}

static void in_order_and_out_of_order_pass(void **state)
{
    (void)state;
    static const int in_order[] = {0, 1, 2, 3, -1};
    static const int reversed[] = {3, 2, 1, 0, -1};
    static const int shuffled[] = {1, 0, 3, 2, -1};
    struct ct_error err = CT_ERROR_INIT;
    assert_int_equal(check(in_order, -1, &err), 0);
    assert_int_equal(check(reversed, -1, &err), 0);
    assert_int_equal(check(shuffled, -1, &err), 0);
}

static void mismatch_found_in_any_order(void **state)
{
    (void)state;
    static const int in_order[] = {0, 1, 2, 3, -1};
    static const int reversed[] = {3, 2, 1, 0, -1};
    struct ct_error err = CT_ERROR_INIT;
    assert_int_equal(check(in_order, 2, &err), CT_EVERIFY);
    assert_non_null(strstr(err.message, paths[2]));
    err = (struct ct_error)CT_ERROR_INIT;
    assert_int_equal(check(reversed, 2, &err), CT_EVERIFY);
    assert_non_null(strstr(err.message, paths[2]));
}

static void unlisted_member_after_a_skip(void **state)
{
    (void)state;
    /* member 1 is not listed: the lines after it no longer match the
     * order by position and are looked up */
    static const int skip[] = {0, 2, 3, -1};
    struct ct_error err = CT_ERROR_INIT;
    assert_int_equal(check(skip, -1, &err), CT_EVERIFY);
    assert_non_null(strstr(err.message, paths[1]));
    assert_non_null(strstr(err.message, "not listed"));
}

static void repeated_line_is_an_error(void **state)
{
    (void)state;
    static const int twice[] = {0, 1, 1, 2, 3, -1};
    struct ct_error err = CT_ERROR_INIT;
    assert_int_equal(check(twice, -1, &err), CT_EPARSE);
    assert_non_null(strstr(err.message, "line 3"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(in_order_and_out_of_order_pass),
        cmocka_unit_test(mismatch_found_in_any_order),
        cmocka_unit_test(unlisted_member_after_a_skip),
        cmocka_unit_test(repeated_line_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
